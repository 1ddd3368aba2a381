// The gradc binary and the file system (issue 12, point 3): run as users run it (the built
// dist/cli.js, from a snapshot, in a temp folder), a file-system problem is the user's
// mistake, reported in words with the path and exit 1, for every verb that reads or writes
// files; output folders are created; each module gets the one declaration file TypeScript
// resolves for it; only a compiler bug exits 2, and it names where to report it.

import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { declarationPath } from "../../src/cli/run";
import { describeFileProblem } from "../../src/cli/files";
import { ensureFreshDist } from "../helpers/build-dist";
import { tscDiagnostics } from "../helpers/tsc";

const root = fileURLToPath(new URL("../..", import.meta.url));
let cliPath = "";
let snapshot = "";
const xorSource = readFileSync(join(root, "examples/xor/xor.grad"), "utf8");

let tmp: string;

beforeAll(async () => {
  await ensureFreshDist(); // rebuilt when src/ is newer than dist/
  // The binary runs from a copy of dist/, so a concurrent rebuild cannot pull it away
  // mid-test; inside node_modules/.cache, so the copy still resolves the dependencies.
  const cache = join(root, "node_modules", ".cache");
  mkdirSync(cache, { recursive: true });
  snapshot = mkdtempSync(join(cache, "gradc-files-cli-"));
  cpSync(join(root, "dist"), snapshot, { recursive: true });
  cliPath = join(snapshot, "cli.js");
  tmp = mkdtempSync(join(tmpdir(), "gradc-files-"));
}, 180_000);

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(snapshot, { recursive: true, force: true });
});

/** A fresh folder holding xor.grad. */
function workspace(name: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  writeFileSync(join(dir, "xor.grad"), xorSource);
  return dir;
}

function gradc(cwd: string, ...argv: string[]) {
  const r = spawnSync(process.execPath, [cliPath, ...argv], { cwd, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A user's mistake: exit 1, one plain message, no stack, no "internal". */
function expectUserError(r: ReturnType<typeof gradc>, message: string): void {
  expect(r.err).toBe(`${message}\n`);
  expect(r.code).toBe(1);
  expect(r.out).toBe("");
}

describe("gradc compile -o", () => {
  it("creates missing output folders, as tsc and esbuild do", () => {
    const dir = workspace("nested");
    const r = gradc(dir, "compile", "xor.grad", "-o", "new/dir/m.mjs");
    expect(r).toEqual({ code: 0, out: "", err: "" });
    expect(readdirSync(join(dir, "new/dir")).sort()).toEqual(["m.d.mts", "m.mjs"]);
    expect(readFileSync(join(dir, "new/dir/m.mjs"), "utf8")).toMatch(/^export \{/m);
  });

  it("writes one declaration file per module, named as TypeScript resolves it", () => {
    const dir = workspace("names");
    expect(gradc(dir, "compile", "xor.grad", "-o", "m.mjs").code).toBe(0);
    const esm = readFileSync(join(dir, "m.d.mts"), "utf8");
    expect(esm).toContain("export default model;");
    // A CommonJS compile beside it has its own .d.cts and leaves the ES module's alone.
    expect(gradc(dir, "compile", "xor.grad", "-o", "m.cjs").code).toBe(0);
    expect(readFileSync(join(dir, "m.d.mts"), "utf8")).toBe(esm);
    expect(readFileSync(join(dir, "m.d.cts"), "utf8")).toContain("export { model as default };");
    expect(gradc(dir, "compile", "xor.grad", "--format", "cjs", "-o", "plain.js").code).toBe(0);
    expect(readFileSync(join(dir, "plain.d.ts"), "utf8")).toContain("export { model as default };");
    expect(readdirSync(dir).sort()).toEqual(["m.cjs", "m.d.cts", "m.d.mts", "m.mjs", "plain.d.ts", "plain.js", "xor.grad"]);
    expect([declarationPath("a/m.mjs"), declarationPath("a/m.cjs"), declarationPath("a/m.js"), declarationPath("a/m"), declarationPath("a/m.es")])
      .toEqual([join("a", "m.d.mts"), join("a", "m.d.cts"), join("a", "m.d.ts"), join("a", "m.d.ts"), join("a", "m.d.es.ts")]);
  });

  it("TypeScript (module node16 and nodenext) types an import of m.mjs from m.d.mts and of m.cjs from m.d.cts", () => {
    const dir = workspace("typed");
    expect(gradc(dir, "compile", "xor.grad", "-o", "lib/m.mjs").code).toBe(0);
    expect(gradc(dir, "compile", "xor.grad", "--dtype", "f64", "-o", "lib/m.cjs").code).toBe(0);
    writeFileSync(join(dir, "esm.mts"), `
import model, { forward, meta } from "./lib/m.mjs";
const out: Float32Array = forward({ x: new Float32Array(8), y: new Float32Array(4) }).y_out;
const name: "x" = meta.inputs[0].name;
model.step({ x: new Float32Array(8), y: new Float32Array(4) });
export { out, name };
`);
    writeFileSync(join(dir, "cjs.cts"), `
import m = require("./lib/m.cjs");
const out: Float64Array = m.forward({ x: new Float64Array(8), y: new Float64Array(4) }).y_out;
export { out };
`);
    // A wrong input name must fail, so the declarations are really the ones read.
    writeFileSync(join(dir, "wrong.mts"), `
import { forward } from "./lib/m.mjs";
forward({ x: new Float32Array(8), yy: new Float32Array(4) });
`);
    // As tsc would check them, in-process (test/helpers/tsc.ts).
    for (const mode of ["node16", "nodenext"] as const) {
      const errors = tscDiagnostics(dir, ["esm.mts", "cjs.cts", "wrong.mts"], mode);
      expect(errors.get("")).toEqual([]);
      expect(errors.get("esm.mts")).toEqual([]);
      expect(errors.get("cjs.cts")).toEqual([]);
      expect(errors.get("wrong.mts")!.join("\n")).toMatch(/wrong\.mts.*error TS\d+:.*yy/);
    }
  }, 120_000);

  it("refuses to overwrite the model, and a module name that contradicts --format", () => {
    const dir = workspace("guard");
    expectUserError(gradc(dir, "compile", "xor.grad", "-o", "./xor.grad"),
      "error: -o ./xor.grad would overwrite the model itself; choose a .mjs, .cjs or .js name");
    expect(readFileSync(join(dir, "xor.grad"), "utf8")).toBe(xorSource);
    expectUserError(gradc(dir, "compile", "xor.grad", "--format", "cjs", "-o", "m.mjs"),
      "gradc: m.mjs is loaded as an ES module; use --format esm, or name it .cjs");
    expectUserError(gradc(dir, "compile", "xor.grad", "--format", "esm", "-o", "m.cjs"),
      "gradc: m.cjs is loaded as CommonJS; use --format cjs, or name it .mjs");
    expect(readdirSync(dir)).toEqual(["xor.grad"]);
  });

  it("reports an output path it cannot write, in words, with the path", () => {
    const dir = workspace("unwritable");
    writeFileSync(join(dir, "afile"), "");
    mkdirSync(join(dir, "out.mjs"));
    expectUserError(gradc(dir, "compile", "xor.grad", "-o", "afile/m.mjs"), "error: cannot write afile/m.mjs: a part of the path is a file, not a folder");
    expectUserError(gradc(dir, "compile", "xor.grad", "-o", "afile/deeper/m.mjs"), "error: cannot write afile/deeper/m.mjs: a part of the path is a file, not a folder");
    expectUserError(gradc(dir, "compile", "xor.grad", "-o", "out.mjs"), "error: cannot write out.mjs: it is a folder, not a file");
  });
});

describe("every verb that reads a model reports file problems in words", () => {
  const verbs: string[][] = [["compile"], ["grad"], ["graph"], ["check"], ["types"], ["gradcheck"]];

  it.each(verbs)("gradc %s on a missing file, and on a folder", (verb) => {
    const dir = workspace(`read-${verb}`);
    mkdirSync(join(dir, "models"));
    expectUserError(gradc(dir, verb, "nope.grad"), "error: cannot read nope.grad: no such file or folder");
    expectUserError(gradc(dir, verb, "models"), "error: cannot read models: it is a folder, not a file");
    expectUserError(gradc(dir, verb, "xor.grad/x.grad"), "error: cannot read xor.grad/x.grad: a part of the path is a file, not a folder");
  });

  it("gradc types reports the declaration file it cannot write", () => {
    const dir = workspace("types");
    mkdirSync(join(dir, "xor.grad.d.ts"));
    expectUserError(gradc(dir, "types", "xor.grad"), "error: cannot write xor.grad.d.ts: it is a folder, not a file");
  });
});

describe("file problems in words", () => {
  const errno = (code: string, message: string) => Object.assign(new Error(message), { code });
  it.each([
    ["EACCES", "permission denied"],
    ["EPERM", "operation not permitted"],
    ["EROFS", "the file system is read-only"],
    ["ENOSPC", "no space left on the device"],
  ])("%s is %s", (code, words) => {
    expect(describeFileProblem(errno(code, `${code}: whatever, open 'x'`))).toBe(words);
  });
  it("an unlisted code keeps Node's words and names the code", () => {
    expect(describeFileProblem(errno("EXDEV", "EXDEV: cross-device link not permitted, rename 'a' -> 'b'"))).toBe("cross-device link not permitted (EXDEV)");
  });
});

describe("output into a closed pipe", () => {
  it("`gradc compile m.grad | true` ends quietly: exit 0, nothing on stderr", () => {
    const dir = workspace("pipe");
    const mnist = join(root, "examples/mnist/cnn.grad");
    const r = spawnSync("bash", ["-c", `"${process.execPath}" "${cliPath}" compile "${mnist}" | true; echo "status \${PIPESTATUS[0]}" >&2`], { cwd: dir, encoding: "utf8" });
    expect(r.stderr).toBe("status 0\n");
  }, 60_000);
});

describe("gradc types under examples/", () => {
  it("writes declaration files git ignores, and no committed example file is ignored", () => {
    const git = (...argv: string[]) => spawnSync("git", argv, { cwd: root, encoding: "utf8" });
    const models = git("ls-files", "examples/**.grad").stdout.trim().split("\n");
    expect(models.length).toBeGreaterThanOrEqual(4);
    for (const model of models) {
      const r = git("check-ignore", "--no-index", "-q", `${model}.d.ts`);
      expect(r.status, `${model}.d.ts should be ignored`).toBe(0);
    }
    // The models themselves and everything else the examples commit stay tracked.
    expect(git("check-ignore", "--no-index", "-q", models[0]!).status).toBe(1);
    expect(git("ls-files", "--cached", "--ignored", "--exclude-standard", "--", "examples").stdout).toBe("");
  });
});
