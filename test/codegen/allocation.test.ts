// A steady-state forward / valueAndGrad / step / predict allocates nothing: counted as
// young-generation collections in a child process with a 1 MB nursery
// (test/helpers/gc.ts), with the emitted module alone in an empty folder.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compileToSource } from "../../src/index";
import { scavengesDuring } from "../helpers/gc";

const xor = readFileSync(new URL("../../examples/xor/xor.grad", import.meta.url), "utf8");

/** `script` defines warm() (run first, once) and measure(). */
function gcEvents(source: string, options: object, script: string, files: Record<string, string> = {}): { gcs: number; result: unknown } {
  return scavengesDuring(compileToSource(source, { ...options, format: "esm" }).text, `${script}\nwarm();`, files);
}

describe("allocation", () => {
  it("100,000 XOR steps, forwards and valueAndGrads cause no GC", () => {
    const { gcs, result } = gcEvents(xor, {}, `
const values = { x: Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]), y: Float32Array.from([0, 1, 1, 0]) };
function warm() { for (let i = 0; i < 20000; i++) { model.step(values); model.forward(values); model.valueAndGrad(values); } }
function measure() {
  let s = 0;
  for (let i = 0; i < 100000; i++) { s += model.step(values); s += model.forward(values).loss; s += model.valueAndGrad(values).value; }
  return s;
}`);
    expect(typeof result).toBe("number");
    expect(gcs).toBe(0);
  });

  it("calls with free dims already seen allocate nothing", () => {
    const { gcs } = gcEvents("dim n\ninput a: [n, 3]\nparam w: [3, 2]\ny = tanh(a @ w)\noutput y\nminimize mean(y ^ 2) with adam(lr = 0.01)", {}, `
const a4 = new Float32Array(12).fill(0.5), a8 = new Float32Array(24).fill(0.25);
function warm() { for (let i = 0; i < 20000; i++) { model.step({ a: a4 }); model.step({ a: a8 }); model.forward({ a: i % 2 ? a4 : a8 }); } }
const v4 = { a: a4 }, v8 = { a: a8 };
function measure() { let s = 0; for (let i = 0; i < 20000; i++) { s += model.step(v4); s += model.step(v8); s += model.forward(i % 2 ? v4 : v8).y[0]; } return s; }`);
    expect(gcs).toBe(0);
  });

  it("predict, and steps with a run-time rate and clipping, allocate nothing", () => {
    // An MLP whose labels `predict` does not need; the rate changes every step.
    const source = `input x: [4, 2]
input y: [4, 1]
input lr
frozen param m1: [2, 8] = normal(0, 1)
param m2: [8, 1] = normal(0, 1)
h = tanh(x @ m1)
score = sum(h, axis = 1, keepdims = true) @ ones([1, 1])
out = sigmoid(h @ m2)
output out, score
minimize mean((out - y) ^ 2) with adamw(lr = lr, clip_norm = 0.5)`;
    const { gcs, result } = gcEvents(source, {}, `
const x = Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]), y = Float32Array.from([0, 1, 1, 0]);
const inference = { x }, training = { x, y, lr: 0.01 };
function warm() { for (let i = 0; i < 20000; i++) { model.predict(inference); training.lr = 0.01 / (1 + i); model.step(training); } }
function measure() {
  let s = 0;
  for (let i = 0; i < 100000; i++) { s += model.predict(inference).out[0]; training.lr = 0.01 / (1 + i); s += model.step(training); }
  return s;
}`);
    expect(typeof result).toBe("number");
    expect(gcs).toBe(0);
  });

  it("scalar inputs given as numbers, one point per call, allocate nothing", () => {
    // Numbers are boxed into the model's own one-element arrays inline: passed through a
    // helper call, each would be a heap number.
    const source = "input x\ninput y\nf = (1 - x)^2 + 100 * (y - x^2)^2 + sin(x * y) * exp(-x^2)\ngx = grad(f, x)\ngy = grad(f, y)\noutput f, gx, gy";
    const { gcs, result } = gcEvents(source, {}, `
const point = { x: 0, y: 0 };
function warm() { for (let i = 0; i < 20000; i++) { point.x = i * 1e-4; point.y = 1 - i * 1e-4; model.forward(point); } }
function measure() {
  let s = 0;
  for (let i = 0; i < 100000; i++) { point.x = i * 1e-5; point.y = 0.5 - i * 1e-5; const r = model.forward(point); s += r.f + r.gx + r.gy; }
  return s;
}`);
    expect(typeof result).toBe("number");
    expect(gcs).toBe(0);
  });

  it("a scalar result allocates nothing beside another model whose results of the same names are arrays", () => {
    // Result records of the same keys made by object literals share one V8 hidden class
    // across modules: the batch model's arrays in \`f\`, \`gx\` and \`gy\` would make every
    // number stored into the per-point model's record a new heap number.
    const point = "input x\ninput y\nf = (1 - x)^2 + 100 * (y - x^2)^2 + sin(x * y) * exp(-x^2)\ngx = grad(f, x)\ngy = grad(f, y)\noutput f, gx, gy";
    const batch = point.replace("input x\ninput y", "dim n\ninput x: [n]\ninput y: [n]").replace(/grad\(f, (\w)\)/g, "grad(sum(f), $1)");
    const { gcs, result } = gcEvents(point, {}, `
import * as other from "./batch.mjs";
// (read here, not in measure: a load V8 sees once per call can deoptimize measure mid-run)
const batchFirst = other.forward({ x: new Float32Array([0.5, 1]), y: new Float32Array([2, 3]) }).gx[0];
class Point { constructor() { this.x = 0; this.y = 0; } }
const point = new Point();
function warm() { for (let i = 0; i < 20000; i++) { point.x = i * 1e-4; point.y = 1 - i * 1e-4; model.forward(point); } }
function measure() {
  let s = 0;
  for (let i = 0; i < 100000; i++) { point.x = i * 1e-5; point.y = 0.5 - i * 1e-5; const r = model.forward(point); s += r.f + r.gx + r.gy; }
  return s + batchFirst;
}`, { "batch.mjs": compileToSource(batch, { format: "esm" }).text });
    expect(typeof result).toBe("number");
    expect(gcs).toBe(0);
  });

  it("result records are plain objects", () => {
    const { text } = compileToSource("input x\nparam w: [2] = ones\ny = sum(w * x)\noutput y\nminimize y with sgd(lr = 0.1)", { format: "function" });
    const model = new Function("GradcError", text)(Error) as { forward(v: object): object; valueAndGrad(v: object): { grads: object } };
    const forward = model.forward({ x: 2 }), vg = model.valueAndGrad({ x: 2 });
    for (const record of [forward, vg, vg.grads]) expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
    expect(forward).toEqual({ y: 4 });
    expect(Object.keys(vg)).toEqual(["grads", "value"]);
  });
});
