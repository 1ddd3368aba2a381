import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { check, compile, GradcError } from "../../src/index";

const xorSource = readFileSync(new URL("../../examples/xor/xor.grad", import.meta.url), "utf8");
const x = Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]);
const y = Float32Array.from([0, 1, 1, 0]);

function expectGradcError(f: () => unknown, code: string, pattern?: RegExp): GradcError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(GradcError);
    const err = e as GradcError;
    expect(err.code).toBe(code);
    if (pattern) expect(err.message).toMatch(pattern);
    return err;
  }
  throw new Error("expected a GradcError");
}

describe("compile: the seed XOR model", () => {
  it("trains to XOR with its own sgd(lr = 1.0)", () => {
    const model = compile(xorSource, { filename: "xor.grad" });
    const first = model.step({ x, y });
    let last = first;
    for (let i = 1; i < 500; i++) last = model.step({ x, y });
    expect(last).toBeLessThan(first / 10);
    const out = model.forward({ x, y });
    expect(Array.from(out.y_out as Float32Array, Math.round)).toEqual([0, 1, 1, 0]);
    expect(typeof out.loss).toBe("number");
  });

  it("describes inputs, params and outputs", () => {
    const model = compile(xorSource);
    expect(model.meta).toEqual({
      inputs: [{ name: "x", shape: [4, 2] }, { name: "y", shape: [4, 1] }],
      params: [{ name: "m1", shape: [2, 3] }, { name: "b1", shape: [3] }, { name: "m2", shape: [3, 1] }, { name: "b2", shape: [1] }],
      outputs: [{ name: "y_out", shape: [4, 1] }],
    });
    expect(check(xorSource, { filename: "xor.grad" })).toEqual(model.meta);
  });

  it("initialises params reproducibly from the seed, within the declared range", () => {
    const a = compile(xorSource, { seed: 7 });
    const b = compile(xorSource, { seed: 7 });
    const c = compile(xorSource, { seed: 8 });
    expect(a.params.m1).toEqual(b.params.m1);
    expect(a.params.m1).not.toEqual(c.params.m1);
    for (const v of a.params.m1!) expect(v >= 0.1 && v < 0.9).toBe(true);
    const fresh = a.createParams(8);
    expect(fresh.m1).toEqual(c.params.m1);
    expect(fresh.m1).not.toBe(a.params.m1);
  });

  it("valueAndGrad agrees with step's objective and with the params it updates", () => {
    const model = compile(xorSource, { dtype: "f64" });
    const before = Float64Array.from(model.params.m1!);
    const { value, grads } = model.valueAndGrad({ x: Float64Array.from(x), y: Float64Array.from(y) });
    const g = Float64Array.from(grads.m1!);
    const stepValue = model.step({ x: Float64Array.from(x), y: Float64Array.from(y) });
    expect(stepValue).toBeCloseTo(value, 12);
    for (let i = 0; i < g.length; i++) expect(model.params.m1![i]).toBeCloseTo(before[i]! - 1.0 * g[i]!, 12);
  });

  it("runs the live model's code in strict mode, as the emitted modules are", () => {
    // A directive prologue: the first statement of the factory's body (after the header
    // comment). In sloppy mode an emitted assignment to an undeclared name would make a
    // global instead of throwing.
    const prologue = /^(\/\/[^\n]*\n)*"use strict";\n/;
    expect(compile(xorSource).source).toMatch(prologue);
    expect(compile(xorSource, { target: "wasm" }).source).toMatch(prologue);
  });

  it("emits byte-identical code for the same input", () => {
    expect(compile(xorSource).source).toBe(compile(xorSource).source);
  });

  it("lets values override params without touching the store", () => {
    const model = compile(xorSource, { dtype: "f64" });
    const m1 = new Float64Array(6);
    const a = model.forward({ x: Float64Array.from(x), y: Float64Array.from(y), m1 }).loss as number;
    const b = model.forward({ x: Float64Array.from(x), y: Float64Array.from(y) }).loss as number;
    expect(a).not.toBe(b);
  });
});

describe("compile: runtime misuse is a GradcError", () => {
  const model = compile(xorSource);
  it("missing input", () => expectGradcError(() => model.forward({ x }), "E0401", /missing input `y`/));
  it("unknown name", () => expectGradcError(() => model.forward({ x, y, z: x }), "E0402", /`z`/));
  it("wrong length", () => expectGradcError(() => model.forward({ x: new Float32Array(3), y }), "E0403", /`x` must have 8 elements, but has 3/));
  it("wrong array type", () => expectGradcError(() => model.forward({ x: new Float64Array(8), y }), "E0404", /Float32Array/));
  it("plain arrays", () => expectGradcError(() => model.forward({ x: [0, 0, 0, 1, 1, 0, 1, 1] as never, y }), "E0404", /plain Array/));
  it("not an object", () => expectGradcError(() => model.forward(null as never), "E0404"));
  it("__proto__ and inherited names are not values", () => {
    const values = Object.create({ x, y }) as Record<string, Float32Array>;
    expectGradcError(() => model.forward(values), "E0401");
    const poisoned = JSON.parse('{"__proto__": {"x": 1}}') as Record<string, Float32Array>;
    expectGradcError(() => model.forward(poisoned), "E0402", /__proto__/);
  });
  it("valueAndGrad and step need a minimize", () => {
    const m = compile("input a: [2]\nb = a * 2\noutput b");
    expect(Array.from(m.forward({ a: Float32Array.from([1, 2]) }).b as Float32Array)).toEqual([2, 4]);
    expectGradcError(() => m.valueAndGrad({ a: new Float32Array(2) }), "E0406");
    expectGradcError(() => m.step({ a: new Float32Array(2) }), "E0406");
  });
  it("bad options", () => {
    expectGradcError(() => compile(xorSource, { dtype: "f16" as never }), "E0303");
    expectGradcError(() => compile("dim n\ninput a: [n]\noutput a", { sizes: { m: 3 } }), "E0301");
    expectGradcError(() => compile("dim n\ninput a: [n]\noutput a", { sizes: { n: 2.5 } }), "E0302");
  });
});

describe("compile: dims, scalars and optimizers", () => {
  it("infers free dims from array lengths, and reuses plans", () => {
    const m = compile("dim n\ninput a: [n, 2]\nparam w: [2] = ones\ns = sum(a * w, axis = 1)\noutput s\nminimize sum(s)", { dtype: "f64" });
    const r1 = m.forward({ a: Float64Array.from([1, 2, 3, 4, 5, 6]) });
    expect(Array.from(r1.s as Float64Array)).toEqual([3, 7, 11]);
    const r2 = m.forward({ a: Float64Array.from([1, 1]) });
    expect(Array.from(r2.s as Float64Array)).toEqual([2]);
    expectGradcError(() => m.forward({ a: new Float64Array(3) }), "E0405");
    const { grads } = m.valueAndGrad({ a: Float64Array.from([1, 2, 3, 4]) });
    expect(Array.from(grads.w!)).toEqual([4, 6]);
  });

  it("binds dims at compile time with sizes", () => {
    const m = compile("dim n\ninput a: [n]\nb = a * n\noutput b", { sizes: { n: 3 }, dtype: "f64" });
    expect(m.meta.inputs[0]!.shape).toEqual([3]);
    expect(Array.from(m.forward({ a: Float64Array.from([1, 2, 3]) }).b as Float64Array)).toEqual([3, 6, 9]);
  });

  it("takes scalar inputs and params as numbers or length-1 arrays", () => {
    const m = compile("input t\nparam s = constant(2)\nminimize (s * t - 1) ^ 2", { dtype: "f64" });
    expect(m.params.s!.length).toBe(1);
    const a = m.valueAndGrad({ t: 3 });
    expect(a.value).toBe(25);
    expect(Array.from(a.grads.s!)).toEqual([30]);
    expect(m.valueAndGrad({ t: Float64Array.of(3), s: 1 }).value).toBe(4);
  });

  for (const opt of ["sgd(lr = 0.1)", "momentum(lr = 0.05)", "adam(lr = 0.1)"]) {
    it(`minimizes a quadratic with ${opt}`, () => {
      const m = compile(`param w: [3] = zeros\ninput target: [3]\nminimize sum((w - target)^2) with ${opt}`, { dtype: "f64" });
      const target = Float64Array.from([1, -2, 3]);
      let loss = Infinity;
      for (let i = 0; i < 300; i++) loss = m.step({ target });
      expect(loss).toBeLessThan(1e-4);
    });
  }

  it("steps a large model with free dims like valueAndGrad says (shared kernels)", () => {
    const source = "dim n\ninput a: [n, 40]\nparam w: [40, 30] = uniform(-0.1, 0.1)\nparam v: [30, 30] = uniform(-0.1, 0.1)\nh = tanh(a @ w)\nminimize mean((h @ v) ^ 2) with sgd(lr = 0.5)";
    const m = compile(source, { dtype: "f64" });
    for (const rows of [50, 70, 50]) {
      const a = Float64Array.from({ length: rows * 40 }, (_, i) => Math.sin(i));
      const w0 = Float64Array.from(m.params.w!), v0 = Float64Array.from(m.params.v!);
      const { value, grads } = m.valueAndGrad({ a });
      const gw = Float64Array.from(grads.w!), gv = Float64Array.from(grads.v!);
      expect(m.step({ a })).toBeCloseTo(value, 12);
      for (let i = 0; i < gw.length; i++) expect(m.params.w![i]).toBeCloseTo(w0[i]! - 0.5 * gw[i]!, 12);
      for (let i = 0; i < gv.length; i++) expect(m.params.v![i]).toBeCloseTo(v0[i]! - 0.5 * gv[i]!, 12);
    }
  });
});
