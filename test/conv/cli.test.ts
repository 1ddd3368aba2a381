// `gradc grad` on convolutional models, through the built binary: it prints exactly the
// gradient text the library tests compile (test/conv/programs.test.ts), and that text,
// declared as a program, passes `gradc check` and `gradc compile`. The binary runs from a
// copy of dist/ taken once, so a concurrent rebuild of dist/ cannot pull it away mid-test.

import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../src/index";
import { ensureFreshDist } from "../helpers/build-dist";
import { gradientProgram, gradientText } from "./helpers";
import { models } from "./models";

const root = fileURLToPath(new URL("../..", import.meta.url));
let tmp = "";
let snapshot = "";
let cliPath = "";

beforeAll(() => {
  ensureFreshDist();
  // inside node_modules/.cache, so the copy still resolves the package's dependencies
  const cache = join(root, "node_modules", ".cache");
  mkdirSync(cache, { recursive: true });
  snapshot = mkdtempSync(join(cache, "gradc-conv-cli-"));
  cpSync(join(root, "dist"), snapshot, { recursive: true });
  cliPath = join(snapshot, "cli.js");
  tmp = mkdtempSync(join(tmpdir(), "gradc-conv-cli-"));
}, 120_000);
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(snapshot, { recursive: true, force: true });
});

const cli = (...argv: string[]) => spawnSync(process.execPath, [cliPath, ...argv], { cwd: tmp, encoding: "utf8" });

describe("gradc grad on convolutional models", () => {
  models.forEach((m, k) => {
    it(m.name, () => {
      const file = join(tmp, `model${k}.grad`);
      writeFileSync(file, m.source);
      const printed = cli("grad", file);
      expect(printed.stderr).toBe("");
      expect(printed.status).toBe(0);
      expect(printed.stdout).toBe(gradientText(m.source));

      const program = join(tmp, `grad${k}.grad`);
      writeFileSync(program, gradientProgram(m.source, compile(m.source).meta));
      const checked = cli("check", program);
      expect(checked.stderr).toBe("");
      expect(checked.status).toBe(0);
      const compiled = cli("compile", program, "-o", join(tmp, `grad${k}.mjs`));
      expect(compiled.stderr).toBe("");
      expect(compiled.status).toBe(0);
    });
  });
});
