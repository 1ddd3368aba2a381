// dropout(x, p): active in valueAndGrad and step (each element zeroed with probability p,
// the rest scaled by 1 / (1 - p)), the identity in forward and predict. The mask is read
// back from the generator (drawValues at the model's randomState), and independently from
// a second model that builds the same mask by hand from the same stream; the gradient is
// that mask times the scale, and agrees with finite differences of the objective at a
// fixed generator state.

import { describe, expect, it } from "vitest";
import { compile, compileToSource, GradcError, type CompiledModel } from "../../src/index";
import { evaluate } from "../../src/interpret";
import { drawValues, randomKey } from "../../src/ops";

function state(m: CompiledModel): { seed: number; calls: number } {
  if (!m.randomState) throw new Error("the model has no generator");
  return m.randomState();
}

/** The scaled mask the call at `s` applies: 1 / (1 - p) where the stream's uniform is >= p. */
function maskAt(s: { seed: number; calls: number }, stream: number, n: number, p: number): number[] {
  return [...drawValues("uniform", randomKey(s.seed, s.calls), stream, n)].map((u) => (u >= p ? 1 / (1 - p) : 0));
}

const n = 64;
const x = Float64Array.from({ length: n }, (_, i) => Math.sin(i + 1) * 2);
// w's gradient of sum(dropout(x * w, p)) is x * mask * scale.
const source = (p: number) => `input x: [${n}]\nparam w: [${n}] = ones\ny = dropout(x * w, ${p})\noutput y\nminimize sum(y)`;

describe("dropout", () => {
  it("is the identity in forward and predict", () => {
    const m = compile(source(0.5), { dtype: "f64" });
    expect([...(m.forward({ x }).y as Float64Array)]).toEqual([...x]);
    expect([...(m.predict({ x }).y as Float64Array)]).toEqual([...x]);
    expect(m.forward({ x }).objective).toBeCloseTo(x.reduce((a, b) => a + b), 12);
  });

  it("valueAndGrad: the gradient is the mask times the scale, from the same draw as the value", () => {
    const p = 0.3;
    const m = compile(source(p), { dtype: "f64", seed: 17 });
    for (let call = 0; call < 3; call++) {
      const s = state(m);
      const { value, grads } = m.valueAndGrad({ x });
      const mask = maskAt(s, 1, n, p);
      expect([...grads.w!]).toEqual(mask.map((k, i) => x[i]! * k));
      // The value used that same mask: one draw per call, shared by forward and backward.
      expect(value).toBeCloseTo(mask.reduce((a, k, i) => a + x[i]! * k, 0), 10);
      expect(mask.some((k) => k === 0) && mask.some((k) => k !== 0)).toBe(true);
    }
  });

  it("the gradient equals that of a mask built by hand from the same stream", () => {
    const p = 0.25;
    const byHand = `input x: [${n}]\nparam w: [${n}] = ones\nmask = where(rand([${n}], stream = 1) >= ${p}, 1 / (1 - ${p}), 0)\nminimize sum(x * w * mask)`;
    const a = compile(source(p), { dtype: "f64", seed: 3 });
    const b = compile(byHand, { dtype: "f64", seed: 3 });
    for (let call = 0; call < 3; call++) {
      const ga = [...a.valueAndGrad({ x }).grads.w!];
      const gb = [...b.valueAndGrad({ x }).grads.w!];
      gb.forEach((g, i) => expect(ga[i]).toBeCloseTo(g, 14));
    }
  });

  it("agrees with central differences of valueAndGrad's value at a fixed generator state", () => {
    const src = `input x: [6]\nparam w: [6] = uniform(0.5, 1.5)\nh = dropout(tanh(x * w), 0.4)\nminimize sum(h * h * w)`;
    const m = compile(src, { dtype: "f64", seed: 5 });
    const xs = Float64Array.of(0.3, -1.2, 0.8, 1.5, -0.4, 2.1);
    m.reseed!(5, 10);
    const { grads } = m.valueAndGrad({ x: xs });
    const g = [...grads.w!];
    const w = m.params.w!;
    const eps = 1e-6;
    for (let i = 0; i < 6; i++) {
      const f = (d: number) => {
        const v = Float64Array.from(w);
        v[i]! += d;
        m.reseed!(5, 10);
        return m.valueAndGrad({ x: xs, w: v }).value;
      };
      expect(g[i]).toBeCloseTo((f(eps) - f(-eps)) / (2 * eps), 6);
    }
    expect(g.some((v) => v === 0)).toBe(true);
  });

  it("keeps each element with probability 1 - p and preserves the mean (5 standard errors)", () => {
    const big = 100_000;
    for (const p of [0.1, 0.5, 0.9]) {
      const m = compile(`input x: [${big}]\nparam w = 1\nminimize sum(dropout(x * w, ${p}))`, { dtype: "f64", seed: 2 });
      const ones = new Float64Array(big).fill(1);
      const { value } = m.valueAndGrad({ x: ones });
      // Each element is 0 or 1 / (1 - p): mean 1, variance p / (1 - p).
      const mean = value / big;
      expect(Math.abs(mean - 1)).toBeLessThan(5 * Math.sqrt(p / (1 - p) / big));
      const grad = m.valueAndGrad({ x: ones }).grads.w![0]!;
      expect(grad).not.toBe(value);
      expect(Math.abs(grad / big - 1)).toBeLessThan(5 * Math.sqrt(p / (1 - p) / big));
    }
  });

  it("step applies the masked gradient: dropped elements' params stay put", () => {
    const p = 0.5;
    const m = compile(`${source(p)} with sgd(lr = 0.1)`, { dtype: "f64", seed: 9 });
    const s = state(m);
    m.step({ x });
    const mask = maskAt(s, 1, n, p);
    [...m.params.w!].forEach((w, i) => expect(w).toBeCloseTo(1 - 0.1 * x[i]! * mask[i]!, 12));
  });

  it("a large model's step (valueAndGrad's kernels reused) applies the same call's mask", () => {
    const big = 8192;
    const xs = Float64Array.from({ length: big }, (_, i) => Math.cos(i));
    const src = `input x: [${big}]\nparam w: [${big}] = ones\nminimize sum(dropout(x * w, 0.3)) with sgd(lr = 0.5)`;
    const m = compile(src, { dtype: "f64", seed: 12 });
    const s = state(m);
    const loss = m.step({ x: xs });
    const mask = maskAt(s, 1, big, 0.3);
    expect(loss).toBeCloseTo(mask.reduce((a, k, i) => a + xs[i]! * k, 0), 8);
    [...m.params.w!].forEach((w, i) => expect(w).toBe(1 - 0.5 * (xs[i]! * mask[i]!)));
  });

  it("p = 0 is the identity everywhere, and draws nothing", () => {
    const m = compile(source(0), { dtype: "f64" });
    expect([...m.valueAndGrad({ x }).grads.w!]).toEqual([...x]);
    expect(m.randomState).toBeUndefined();
  });

  it("the interpreter computes what valueAndGrad computes (f64)", () => {
    const src = "input x: [3, 4]\nparam w: [4, 2] = normal(0, 1)\nh = dropout(relu(x @ w), 0.5) + randn([3, 2]) * 0.1\nminimize mean(h * h)";
    const m = compile(src, { dtype: "f64", seed: 4 });
    const xs = Float64Array.from({ length: 12 }, (_, i) => (i - 6) / 3);
    const s = state(m);
    const { value, grads } = m.valueAndGrad({ x: xs });
    const { model } = compileToSource(src, { dtype: "f64", seed: 4 });
    const values = new Map<string, ArrayLike<number>>([["x", xs], ["w", m.params.w!]]);
    const out = evaluate([model.objective!, ...model.grads!], { values, random: s });
    expect(value).toBeCloseTo(out.get(model.objective!)!.data[0]!, 12);
    [...grads.w!].forEach((g, i) => expect(g).toBeCloseTo(out.get(model.grads![0]!)!.data[i]!, 12));
    // forward's objective (dropout off) is a different function of the same draws.
    const f = m.forward({ x: xs }).objective as number;
    const fOut = evaluate([model.forwardObjective!], { values, random: { seed: 4, calls: s.calls + 1 } });
    expect(f).toBeCloseTo(fOut.get(model.forwardObjective!)!.data[0]!, 12);
  });

  it("a grad() written in the program sees dropout off in forward and on in valueAndGrad", () => {
    const m = compile("input x: [3]\nparam w: [3] = ones\ng = grad(sum(dropout(w * x, 0.5) ^ 2), w)\noutput g\nminimize sum(g)", { dtype: "f64" });
    const xs = Float64Array.of(1, 2, 3);
    expect([...(m.forward({ x: xs }).g as Float64Array)]).toEqual([2, 8, 18]);
    // sum(g) = sum(2 w x^2 k^2) with k the scaled mask (0 or 2): its gradient is 2 x^2 k^2.
    const s = state(m);
    const k = maskAt(s, 1, 3, 0.5);
    expect([...m.valueAndGrad({ x: xs }).grads.w!]).toEqual([...xs].map((v, i) => 2 * v * v * k[i]! * k[i]!));
  });

  it("a bad p is a located error", () => {
    const bad = (p: string, column: number) => {
      let err: unknown;
      try { compile(`input x: [2]\ny = dropout(x, ${p})\noutput y`); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(GradcError);
      const e = err as GradcError;
      expect([e.code, e.line, e.column]).toEqual(["E0253", 2, column]);
      expect(e.message).toContain("[0, 1)");
    };
    bad("1", 16);
    bad("-0.1", 16);
    bad("1.5", 16);
    bad("x[0]", 16);
  });
});
