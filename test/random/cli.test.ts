// `gradc compile` of a model that draws: the module exports the generator members (named
// and on the default export), its .d.ts types them, `--seed` seeds the draws as the
// library's `seed` option does, and the module draws what the library model draws.

import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile, type CompiledModel } from "../../src/index";
import { ensureFreshDist } from "../helpers/build-dist";

const root = fileURLToPath(new URL("../..", import.meta.url));
const source = "input x: [2, 3]\nparam w: [3, 2] = normal(0, 1)\nh = dropout(x @ w, 0.5) + randn([2, 2])\noutput h\nminimize sum(h * h)";
let snapshot = "";
let tmp = "";

beforeAll(async () => {
  await ensureFreshDist();
  // Run from a copy of dist/ (a concurrent rebuild cannot remove it mid-test).
  const cache = join(root, "node_modules", ".cache");
  mkdirSync(cache, { recursive: true });
  snapshot = mkdtempSync(join(cache, "gradc-random-cli-"));
  cpSync(join(root, "dist"), snapshot, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), "gradc-random-cli-"));
}, 180_000);

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(snapshot, { recursive: true, force: true });
});

describe("gradc compile of a model that draws", () => {
  it("exports reseed and randomState, typed, seeded by --seed", async () => {
    writeFileSync(join(tmp, "m.grad"), source);
    const r = spawnSync(process.execPath, [join(snapshot, "cli.js"), "compile", "m.grad", "-o", "m.mjs", "--seed", "5"], { cwd: tmp, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const dts = readFileSync(join(tmp, "m.d.mts"), "utf8");
    expect(dts).toContain("export declare function reseed(seed: number, calls?: number): void;");
    expect(dts).toContain("reseed: typeof reseed; randomState: typeof randomState;");
    const mod = await import(pathToFileURL(join(tmp, "m.mjs")).href) as CompiledModel & { default: CompiledModel };
    expect(mod.randomState!()).toEqual({ seed: 5, calls: 0 });
    expect(mod.default.reseed).toBe(mod.reseed);
    const lib = compile(source, { seed: 5 });
    const x = Float32Array.of(1, -2, 0.5, 3, 0.25, -1);
    for (let k = 0; k < 3; k++) {
      expect([...(mod.forward({ x }).h as Float32Array)]).toEqual([...(lib.forward({ x }).h as Float32Array)]);
      expect(mod.step({ x })).toBe(lib.step({ x }));
    }
    expect([...mod.params.w!]).toEqual([...lib.params.w!]);
  });
});
