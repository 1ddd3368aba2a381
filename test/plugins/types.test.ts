import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { run } from "../../src/cli/run";
import { makeApp, xorSource } from "./helpers";

const fallback = new URL("../../grad-module.d.ts", import.meta.url).pathname;

/** Type errors of each file, from one program (lib files are parsed once). */
function typeErrors(files: string[]): Map<string, string[]> {
  const program = ts.createProgram(files, {
    strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler, lib: ["lib.es2022.d.ts"], types: [],
  });
  const out = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const text = `${d.file ? `${d.file.fileName.split("/").pop()}:${d.file.getLineAndCharacterOfPosition(d.start!).line + 1}: ` : ""}${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    (out.get(d.file?.fileName ?? "") ?? out.get(files[0]!)!).push(text);
  }
  return out;
}

function gradc(...argv: string[]): { code: number; err: string } {
  let err = "";
  const code = run(argv, () => {}, (s) => { err += s; });
  return { code, err };
}

describe("gradc types and .grad imports in TypeScript", () => {
  it("writes model.grad.d.ts, so TypeScript checks names and array types; a fallback types the rest", () => {
    const use = (body: string) => `import model, { forward, step, params } from "./xor.grad";
const x = new Float32Array(8), y = new Float32Array(4);
${body}
export {};`;
    const dir = makeApp({
      "xor.grad": xorSource,
      "ok.ts": use(`const out = forward({ x, y }); const p: Float32Array = out.y_out; const l: number = out.loss + step({ x, y });
const m1: Float32Array = params.m1; model.valueAndGrad({ x, y, b2: new Float32Array(1) }).grads.m2;`),
      "bad.ts": use(`forward({ x, z: y });
forward({ x: new Float64Array(8), y });
const out = forward({ x, y }); out.nope;
params.m3;`),
      // No declarations beside this model: the shipped `declare module "*.grad"` applies.
      "other/other.grad": xorSource,
      "other/ok.ts": `/// <reference path=${JSON.stringify(fallback)} />
import model, { forward } from "./other.grad";
const out = forward({ x: new Float32Array(8) }); const v: number = model.step({});
export { out, v };`,
      "other/bad.ts": `import { forward } from "./other.grad";
forward({ x: [1, 2] });`,
    });
    expect(gradc("types", join(dir, "xor.grad"))).toEqual({ code: 0, err: "" });
    expect(readFileSync(join(dir, "xor.grad.d.ts"), "utf8")).toContain(`"y_out": Float32Array;`);
    const files = ["ok.ts", "bad.ts", "other/ok.ts", "other/bad.ts"].map((f) => join(dir, f));
    const errors = typeErrors(files);
    expect(errors.get(files[0]!)).toEqual([]);
    const bad = errors.get(files[1]!)!.join("\n");
    expect(bad).toMatch(/bad\.ts:3: .*'z'/);
    expect(bad).toMatch(/bad\.ts:4: .*Float64Array/);
    expect(bad).toMatch(/bad\.ts:5: .*'nope'/);
    expect(bad).toMatch(/bad\.ts:6: .*'m3'/);
    expect(errors.get(files[2]!)).toEqual([]);
    expect(errors.get(files[3]!)!.join("\n")).toMatch(/bad\.ts:2: .*number\[\]/);
  });

  it("follows the model's dtype pragma, and --dtype over it", () => {
    const dir = makeApp({ "a.grad": `# gradc: dtype=f64\n${xorSource}`, "b.grad": xorSource });
    expect(gradc("types", join(dir, "a.grad"), join(dir, "b.grad")).code).toBe(0);
    expect(readFileSync(join(dir, "a.grad.d.ts"), "utf8")).toContain(`"y_out": Float64Array;`);
    expect(readFileSync(join(dir, "b.grad.d.ts"), "utf8")).toContain(`"y_out": Float32Array;`);
    expect(gradc("types", join(dir, "a.grad"), "--dtype", "f32").code).toBe(0);
    expect(readFileSync(join(dir, "a.grad.d.ts"), "utf8")).toContain(`"y_out": Float32Array;`);
  });

  it("reports a broken model like the other verbs", () => {
    const dir = makeApp({ "xor.grad": xorSource.replace("param m1: [2, 3]", "param m1: [3, 3]") });
    const { code, err } = gradc("types", join(dir, "xor.grad"));
    expect(code).toBe(1);
    expect(err).toContain("xor.grad:10:17: error: cannot matmul [4, 2] by [3, 3]");
  });

});
