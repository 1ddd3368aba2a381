// Frozen params (`frozen param ...`: held, loaded, overridable, never updated, never
// differentiated) and `predict` (the declared outputs from only the inputs they need),
// through the library, the emitted module, and the generated .d.ts.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { emitDeclarations } from "../../src/codegen";
import { buildModel, compile, compileToSource, GradcError, gradcheck, type CompiledModel } from "../../src/index";
import { evaluate } from "../../src/interpret";
import { lowerSource, predictInputs } from "../../src/lower";
import { parse, printStatement } from "../../src/syntax";

const embed = (frozen: string) => `
input ids: [5]
input y: [5]
${frozen}param emb: [10, 4] = normal(0, 1)
param w: [4] = normal(0, 1)
h = take(emb, ids) @ w
output h
minimize mean((h - y) ^ 2) with adam(0.1)
`;
const ids = Float32Array.from([0, 3, 3, 7, 9]), y = Float32Array.from([1, -1, 0.5, 0, 2]);
/** The same values for an f64 model. */
const ids64 = Float64Array.from(ids), y64 = Float64Array.from(y);

function errorOf(f: () => unknown): GradcError {
  try { f(); } catch (e) { if (e instanceof GradcError) return e; throw e; }
  throw new Error("expected a GradcError");
}

describe("frozen params", () => {
  it("get no gradient code, no optimizer state and no grads entry", () => {
    const trained = compileToSource(embed(""));
    const frozen = compileToSource(embed("frozen "));
    // The embedding's gradient is a scatter-add: present only when it is trained.
    expect(trained.text).toContain("scatter_add [10, 4]");
    expect(frozen.text).not.toContain("scatter_add [10, 4]");
    expect(trained.text).toMatch(/opt0_emb/);
    expect(frozen.text).not.toMatch(/opt0_emb/);
    expect(frozen.model.grads).toHaveLength(1);
    const m = compile(embed("frozen "));
    expect(Object.keys(m.valueAndGrad({ ids, y }).grads)).toEqual(["w"]);
  });

  it("are unchanged by training, while the others move; they are still saved and overridable", () => {
    const m = compile(embed("frozen "), { dtype: "f64", seed: 2 });
    const emb = Float64Array.from(m.params.emb!), w = Float64Array.from(m.params.w!);
    for (let i = 0; i < 50; i++) m.step({ ids: ids64, y: y64 });
    expect(Array.from(m.params.emb!)).toEqual(Array.from(emb));
    expect(Array.from(m.params.w!)).not.toEqual(Array.from(w));
    // createParams initialises it like any param; a value passed in is used.
    expect(Array.from(m.createParams(2).emb!)).toEqual(Array.from(emb));
    const zeros = new Float64Array(40);
    // (a sum of products 0 * w: -0 where w < 0, as sums start from -0)
    const w2 = m.params.w!;
    expect(Array.from(m.forward({ ids: ids64, y: y64, emb: zeros }).h as Float64Array)).toEqual([0, 0, 0, 0, 0].map(() => (w2.some((v) => v > 0) ? 0 : -0)));
    // Its value still shapes the other gradients: with emb = 0, w gets none.
    expect(Array.from(m.valueAndGrad({ ids: ids64, y: y64, emb: zeros }).grads.w!).map(Math.abs)).toEqual([0, 0, 0, 0]);
  });

  it("train the others exactly as when the frozen one is an input (f64)", () => {
    const frozen = compile(embed("frozen "), { dtype: "f64", seed: 5 });
    const asInput = compile(embed("").replace("param emb: [10, 4] = normal(0, 1)", "input emb: [10, 4]"), { dtype: "f64", seed: 5 });
    asInput.params.w!.set(frozen.params.w!);
    const emb = Float64Array.from(frozen.params.emb!);
    for (let i = 0; i < 10; i++) expect(frozen.step({ ids: ids64, y: y64 })).toBe(asInput.step({ ids: ids64, y: y64, emb }));
    expect(Array.from(frozen.params.w!)).toEqual(Array.from(asInput.params.w!));
  });

  it("are listed in meta and typed in the .d.ts params, but not in its grads", () => {
    const program = lowerSource(embed("frozen "));
    expect(program.params.map((p) => [p.name, p.frozen])).toEqual([["emb", true], ["w", false]]);
    const dts = emitDeclarations(program, "f32");
    expect(dts).toMatch(/export interface Params \{\n {2}"emb": Float32Array;\n {2}"w": Float32Array;\n\}/);
    expect(dts).toMatch(/export interface Grads \{\n {2}"w": Float32Array;\n\}/);
    expect(dts).toContain("grads: Grads;");
  });

  it("are left out of gradcheck, which checks the others", () => {
    const result = gradcheck("input x: [3]\nfrozen param a: [3] = normal(0, 1)\nparam w: [3] = normal(0, 1)\nminimize sum(tanh(x * w * a))");
    expect(result.params.map((p) => p.name)).toEqual(["w"]);
    expect(result.ok).toBe(true);
    expect(result.params[0]!.checked).toBeGreaterThan(0);
  });

    it("`frozen` is a word only before `param`: it stays a usable name, and prints back", () => {
    const m = compile("input x\nfrozen = x * 2\noutput frozen");
    expect(m.forward({ x: 3 }).frozen).toBe(6);
    const source = { file: "f.grad", text: "frozen param s: [2] = ones" };
    expect(printStatement(parse(source).statements[0]!)).toBe("frozen param s: [2] = ones");
    const e = errorOf(() => compile("frozen input x: [2]", { filename: "f.grad" }));
    expect([e.file, e.line, e.column]).toEqual(["f.grad", 1, 8]);
  });
});

const classifier = `
dim n
input x: [n, 3]
input labels: [n]
input lr
param w: [3, 4] = normal(0, 0.5)
param b: [4]
logits = x @ w + b
probs = softmax(logits)
top = max(logits)
output probs, top
minimize cross_entropy(logits, one_hot(labels, 4)) with sgd(lr = lr)
`;

describe("predict", () => {
  const x = Float64Array.from({ length: 6 }, (_, i) => Math.sin(i + 1));

  it("gives the declared outputs from only the inputs they need, as forward (and the interpreter) do", () => {
    const m = compile(classifier, { dtype: "f64" });
    const p = m.predict({ x });
    expect(Object.keys(p)).toEqual(["probs", "top"]);
    const f = m.forward({ x, labels: Float64Array.from([1, 3]), lr: 0.1 });
    expect(Array.from(p.probs as Float64Array)).toEqual(Array.from(f.probs as Float64Array));
    expect(p.top).toBe(f.top);
    const program = lowerSource(classifier);
    const model = buildModel(program);
    const want = evaluate(model.outputs, { dims: new Map([["n", 2]]), values: new Map<string, ArrayLike<number>>([["x", x], ["w", m.params.w!], ["b", m.params.b!]]) });
    const probs = want.get(model.outputs[0]!)!.data;
    (p.probs as Float64Array).forEach((v, i) => expect(v).toBeCloseTo(probs[i]!, 14));
  });

  it("accepts and ignores extra known inputs, and takes param overrides", () => {
    const m = compile(classifier, { dtype: "f64" });
    const plain = Array.from(m.predict({ x }).probs as Float64Array);
    expect(Array.from(m.predict({ x, labels: new Float64Array(99), lr: 5 }).probs as Float64Array)).toEqual(plain);
    const uniform = m.predict({ x, w: new Float64Array(12), b: new Float64Array(4) }).probs as Float64Array;
    expect(Array.from(uniform)).toEqual(new Array(8).fill(0.25));
  });

  it("reports a missing needed input, an unknown name and a bad length as GradcErrors", () => {
    const m = compile(classifier);
    expect(errorOf(() => m.predict({ labels: new Float32Array(2) })).message).toContain("missing input `x`");
    expect(errorOf(() => m.predict({ x: new Float32Array(6), label: new Float32Array(2) })).message).toContain("unknown value `label`");
    expect(errorOf(() => m.predict({ x: new Float32Array(5) })).message).toMatch(/`x`/);
  });

  it("a free dim is read from the needed inputs, and the returned arrays fit each call", () => {
    const m = compile(classifier, { dtype: "f64" });
    expect((m.predict({ x }).probs as Float64Array).length).toBe(8);
    expect((m.predict({ x: new Float64Array(15) }).probs as Float64Array).length).toBe(20);
  });

  it("also needs the inputs that give a free dim its outputs use, when theirs cannot", () => {
    // `ids` [b, t] alone gives neither dim; `len` [b] gives b, then `ids` gives t. Before,
    // predict took `ids` alone and ran with the previous call's dims (0 on a fresh model).
    const source = "dim b, t\ninput ids: [b, t]\ninput len: [b]\ninput y: [b]\nparam W: [4, 3] = normal(0, 1)\nlogits = take(W, ids)\noutput logits\nminimize sum(logits) + sum(len * y)";
    const m = compile(source, { dtype: "f64" });
    expect(lowerSource(source).inputs.length).toBe(3);
    expect(predictInputs(lowerSource(source)).map((i) => i.name)).toEqual(["ids", "len"]);
    expect(errorOf(() => m.predict({ ids: new Float64Array(6) })).message).toContain("missing input `len`");
    const ids6 = Float64Array.from([0, 1, 2, 3, 0, 1]);
    const wide = m.predict({ ids: ids6, len: new Float64Array(2) }).logits as Float64Array;
    expect(wide.length).toBe(18);
    expect(Array.from(wide.subarray(9, 12))).toEqual(Array.from(m.params.W!.subarray(9, 12)));
    expect((m.predict({ ids: new Float64Array(12), len: new Float64Array(3) }).logits as Float64Array).length).toBe(36);
    expect(emitDeclarations(lowerSource(source), "f32")).toMatch(/export interface PredictValues \{\n {2}"ids": Float32Array;\n {2}"len": Float32Array;\n {2}"y"\?: Float32Array;\n/);
  });

  it("is an export of the emitted module, typed with only the needed inputs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gradc-predict-"));
    const { text } = compileToSource(classifier, { format: "esm" });
    writeFileSync(join(dir, "model.mjs"), text);
    const mod = (await import(pathToFileURL(join(dir, "model.mjs")).href)) as CompiledModel & { default: CompiledModel };
    expect(typeof mod.predict).toBe("function");
    expect(mod.default.predict).toBe(mod.predict);
    const live = compile(classifier);
    expect(Array.from(mod.predict({ x: Float32Array.from(x) }).probs as Float32Array)).toEqual(Array.from(live.predict({ x: Float32Array.from(x) }).probs as Float32Array));
    const dts = emitDeclarations(lowerSource(classifier), "f32");
    expect(dts).toMatch(/export interface PredictValues \{\n {2}"x": Float32Array;\n {2}"labels"\?: Float32Array;\n {2}"lr"\?: number \| Float32Array;\n/);
    expect(dts).toMatch(/export interface Predictions \{\n {2}"probs": Float32Array;\n {2}"top": number;\n\}/);
    expect(dts).toContain("export declare function predict(values: PredictValues): Predictions;");
  });

  it("runs dropout as the identity", () => {
    const source = "input x: [2, 8]\ninput y: [2, 8]\nparam w: [8, 8] = normal(0, 1)\nh = dropout(x @ w, 0.5)\noutput h\nminimize mean((h - y) ^ 2)";
    const m = compile(source, { dtype: "f64" });
    const xv = Float64Array.from({ length: 16 }, (_, i) => Math.cos(i));
    const p = Array.from(m.predict({ x: xv }).h as Float64Array);
    const w = m.params.w!;
    const want = Array.from({ length: 16 }, (_, k) => { const r = Math.floor(k / 8), c = k % 8; let s = 0; for (let j = 0; j < 8; j++) s += xv[r * 8 + j]! * w[j * 8 + c]!; return s; });
    p.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 13));
  });

  it("of a model without outputs returns an empty record", () => {
    const m = compile("input x\nparam w\nminimize (w - x) ^ 2");
    expect(m.predict({})).toEqual({});
  });
});

describe("the .d.ts, checked by TypeScript", () => {
  it("types predict with only the needed inputs, and grads without the frozen params", () => {
    const dir = mkdtempSync(join(tmpdir(), "gradc-predict-types-"));
    const source = `input x: [2]\ninput y: [2]\nfrozen param e: [2] = ones\nparam w: [2]\nout = x * e * w\noutput out\nminimize sum((out - y) ^ 2)`;
    writeFileSync(join(dir, "model.d.ts"), emitDeclarations(lowerSource(source), "f32"));
    const x = "new Float32Array(2)";
    writeFileSync(join(dir, "ok.ts"), `import { predict, valueAndGrad, params } from "./model";
const a: Float32Array = predict({ x: ${x} }).out;
const b: Float32Array = predict({ x: ${x}, y: ${x}, e: ${x} }).out;
const g: Float32Array = valueAndGrad({ x: ${x}, y: ${x} }).grads.w;
const e: Float32Array = params.e;
export { a, b, g, e };
`);
    writeFileSync(join(dir, "bad.ts"), `import { predict, valueAndGrad } from "./model";
predict({ y: ${x} });
valueAndGrad({ x: ${x}, y: ${x} }).grads.e;
predict({ x: ${x} }).loss;
export {};
`);
    const files = ["ok.ts", "bad.ts"].map((f) => join(dir, f));
    const program = ts.createProgram(files, {
      strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler, lib: ["lib.es2022.d.ts"], types: [],
    });
    const errors = ts.getPreEmitDiagnostics(program).map((d) =>
      `${d.file?.fileName.split("/").pop()}:${d.file ? d.file.getLineAndCharacterOfPosition(d.start!).line + 1 : 0}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
    expect(errors.filter((e) => e.startsWith("ok.ts"))).toEqual([]);
    const bad = errors.filter((e) => e.startsWith("bad.ts")).join("\n");
    expect(bad).toMatch(/bad\.ts:2: [^]*'"x"' is missing/);
    expect(bad).toMatch(/bad\.ts:3: .*'e'/);
    expect(bad).toMatch(/bad\.ts:4: .*'loss'/);
  });
});
