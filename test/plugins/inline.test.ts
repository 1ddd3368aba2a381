import { describe, expect, it } from "vitest";
import { compile, grad, GradcError } from "../../src/index";
import { readPragmas, readQuery, mergeOptions } from "../../src/plugins/options";

const x = Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]);
const y = Float32Array.from([0, 1, 1, 0]);

describe("grad`...` unbuilt: compiles at run time", () => {
  it("trains XOR from an inline model", () => {
    const model = grad`
      input x: [4, 2]
      input y: [4, 1]
      param m1: [2, 3] = uniform(0.1, 0.9)
      param b1: [3]    = uniform(0.1, 0.9)
      param m2: [3, 1] = uniform(0.1, 0.9)
      param b2: [1]    = uniform(0.1, 0.9)
      h1    = sigmoid(x @ m1 + b1)
      y_out = sigmoid(h1 @ m2 + b2)
      loss  = sum((y - y_out)^2)
      output y_out
      minimize loss with sgd(lr = 1.0)
    `;
    const first = model.step({ x, y });
    let last = first;
    for (let i = 0; i < 500; i++) last = model.step({ x, y });
    expect(last).toBeLessThan(first / 10);
    expect(Array.from(model.forward({ x, y }).y_out as Float32Array, Math.round)).toEqual([0, 1, 1, 0]);
  });

  it("compiles each distinct text once, splicing interpolated values", () => {
    const make = (n: number) => grad`input x: [${n}]
      out = sum(x * x)
      output out`;
    expect(make(3)).toBe(make(3));
    expect(make(3)).not.toBe(make(4));
    expect(make(4).forward({ x: Float32Array.from([1, 2, 3, 4]) }).out).toBe(30);
  });

  it("honours the model's pragma", () => {
    const model = grad`
      # gradc: dtype=f64 seed=7
      param w: [3] = uniform(-1, 1)
      out = sum(w)
      output out`;
    expect(model.params.w).toBeInstanceOf(Float64Array);
    const reference = compile("param w: [3] = uniform(-1, 1)\nout = sum(w)\noutput out", { dtype: "f64", seed: 7 });
    expect(Array.from(model.params.w!)).toEqual(Array.from(reference.params.w!));
  });

  it("throws a GradcError for a broken model", () => {
    expect(() => grad`input x: [2]\nout = x @ x @ x\noutput out`).toThrow(GradcError);
  });
});

describe("options: pragmas and queries", () => {
  it("reads pragmas and queries and merges them plugin < pragma < query", () => {
    const pragma = readPragmas("# gradc: dtype=f64, seed=3 size.n=8\ndim n\n# gradc: size.m=2", "a.grad");
    expect(pragma).toEqual({ dtype: "f64", seed: 3, sizes: { n: 8, m: 2 } });
    const query = readQuery("dtype=f32&size.n=64", "a.grad");
    expect(mergeOptions({ seed: 1, sizes: { k: 1 } }, pragma, query)).toEqual({ dtype: "f32", seed: 3, sizes: { k: 1, n: 64, m: 2 } });
  });

  it("reports a bad pragma at its position", () => {
    try {
      readPragmas("input x: [2]\n  # gradc: dtype=f16\n", "a.grad");
      throw new Error("expected a GradcError");
    } catch (e) {
      expect(e).toBeInstanceOf(GradcError);
      expect((e as GradcError).rendered).toMatch(/^a\.grad:2:12: error: bad option: dtype must be f32 or f64/);
    }
    expect(() => readQuery("dtyp=f64", "a.grad")).toThrow(/unknown gradc option `dtyp`/);
  });
});
