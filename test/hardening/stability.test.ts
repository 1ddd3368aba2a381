// Numerical stability at extreme inputs: sigmoid, softplus, tanh, log(sigmoid(x)),
// log(1 - sigmoid(x)), log(1 + exp(x)), logsumexp, softmax, log_softmax and cross_entropy,
// values and gradients, for |x| up to 1e4 in f32 and f64, against f64 references computed
// here with careful formulas (never with the forms under test). docs/stability.md lists the
// stable forms these rely on.

import { describe, expect, it } from "vitest";
import { compile, derivative } from "../../src/index";

const xs = [-1e4, -1e3, -800, -710, -100, -30, -1, -1e-8, 0, 1e-8, 0.5, 1, 30, 100, 710, 800, 1e3, 1e4];

// ---- f64 references ----
const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
/** tanh'(x) = sech(x)^2 = 4 / (e^x + e^-x)^2, without 1 - tanh^2's cancellation. */
const sech2 = (x: number) => { const e = Math.exp(-2 * Math.abs(x)); return (4 * e) / ((1 + e) * (1 + e)); };
function logsumexp(v: readonly number[]): number {
  const m = Math.max(...v);
  let s = 0;
  for (const x of v) s += Math.exp(x - m);
  return m + Math.log(s);
}
const softmax = (v: readonly number[]) => { const l = logsumexp(v); return v.map((x) => Math.exp(x - l)); };

/** Weights of the objective sum(w * f(x)), so each gradient element is w_i f'(x_i). */
const weights = xs.map((_, i) => 0.25 + ((i * 7) % 5) / 8);

/** |a - e| within rel of |e|, or within abs (subnormal and underflowed results). */
function expectAccurate(actual: ArrayLike<number>, expected: readonly number[], rel: number, abs: number, what: string): void {
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    expect(Number.isFinite(a), `${what}[${i}] = ${a} at x = ${xs[i] ?? i}`).toBe(true);
    expect(Math.abs(a - e), `${what}[${i}] = ${a}, expected ${e}`).toBeLessThanOrEqual(rel * Math.abs(e) + abs);
  }
}

const tolerances = { f64: { rel: 1e-13, abs: 1e-300 }, f32: { rel: 4e-7, abs: 2e-38 } } as const;
const epsilon = { f64: 2 ** -52, f32: 2 ** -23 } as const;

interface Elementwise {
  expr: string;
  value: (x: number) => number;
  slope: (x: number) => number;
}

const elementwise: Record<string, Elementwise> = {
  "sigmoid(x)": { expr: "sigmoid(x)", value: sigmoid, slope: (x) => sigmoid(x) * sigmoid(-x) },
  "softplus(x)": { expr: "softplus(x)", value: softplus, slope: sigmoid },
  "tanh(x)": { expr: "tanh(x)", value: Math.tanh, slope: sech2 },
  "log(sigmoid(x))": { expr: "log(sigmoid(x))", value: (x) => -softplus(-x), slope: (x) => sigmoid(-x) },
  "log(1 - sigmoid(x))": { expr: "log(1 - sigmoid(x))", value: (x) => -softplus(x), slope: (x) => -sigmoid(x) },
  "log(1 + exp(x))": { expr: "log(1 + exp(x))", value: softplus, slope: sigmoid },
  "log1p(exp(x))": { expr: "log1p(exp(x))", value: softplus, slope: sigmoid },
  "log(exp(x))": { expr: "log(exp(x))", value: (x) => x, slope: () => 1 },
};

describe("elementwise functions and their gradients at |x| up to 1e4", () => {
  for (const dtype of ["f64", "f32"] as const) {
    for (const [name, f] of Object.entries(elementwise)) {
      it(`${name} (${dtype})`, () => {
        const n = xs.length;
        const model = compile(`input w: [${n}]\nparam x: [${n}]\ny = ${f.expr}\noutput y\nminimize sum(w * y)`, { dtype });
        const A = dtype === "f64" ? Float64Array : Float32Array;
        const x = A.from(xs);
        const w = A.from(weights);
        // References at the inputs as the model sees them (f32-rounded in f32).
        const at = Array.from(x);
        const { rel, abs } = tolerances[dtype];
        expectAccurate(model.forward({ x, w }).y as ArrayLike<number>, at.map(f.value), rel, abs, `${name} value`);
        const g = model.valueAndGrad({ x, w }).grads.x!;
        // Gradients are computed from the forward value (sigmoid: y (1 - y); tanh: 1 - y^2):
        // accurate to a few ulps of the derivative's scale (at most 1), so the saturated
        // tails read 0 where the true slope is below 1e-16 (f64).
        expectAccurate(g, at.map((v, i) => weights[i]! * f.slope(v)), 4 * rel, 4 * epsilon[dtype], `${name} gradient`);
      });
    }
  }

  it("log(sigmoid(x)) at x = -1e4 is -1e4, not -Infinity (the stable rewrite)", () => {
    const model = compile("param x\nminimize log(sigmoid(x))", { dtype: "f64" });
    expect(model.forward({ x: -1e4 }).objective).toBe(-1e4);
    expect(model.valueAndGrad({ x: -1e4 }).grads.x![0]).toBe(1);
    expect(derivative("log(sigmoid(x))", "x")).toBe("sigmoid(-x)");
  });
});

describe("reductions and losses over rows of extreme logits", () => {
  const rows = [
    [-1e4, 0, 1e4],
    [1e4, 1e4 - 1, -1e4],
    [-1e4, -1e4 + 2, -1e4 + 1],
    [800, 799, -800],
    [-800, -801, -1000],
    [3, -2, 0.5],
  ];
  const k = 3;
  const flat = rows.flat();
  const targets = rows.map((_, r) => [0.2, 0.5, 0.3].map((t, c) => (r % 2 === 0 ? t : [0, 1, 0][c]!))).flat();

  for (const dtype of ["f64", "f32"] as const) {
    const A = dtype === "f64" ? Float64Array : Float32Array;
    const { rel, abs } = tolerances[dtype];
    const model = compile(`input t: [${rows.length}, ${k}]\nparam z: [${rows.length}, ${k}]
lse = logsumexp(z, axis = 1)
ls = log_softmax(z)
sm = softmax(z)
ce = cross_entropy(z, t)
output lse, ls, sm, ce
minimize ce`, { dtype });
    const z = A.from(flat);
    const t = A.from(targets);
    const zs = Array.from(z);
    const at = rows.map((_, r) => zs.slice(r * k, r * k + k));

    it(`logsumexp, log_softmax, softmax values (${dtype})`, () => {
      const out = model.forward({ z, t });
      expectAccurate(out.lse as ArrayLike<number>, at.map(logsumexp), rel, abs, "logsumexp");
      expectAccurate(out.ls as ArrayLike<number>, at.flatMap((v) => v.map((x) => x - logsumexp(v))), 2 * rel, abs, "log_softmax");
      expectAccurate(out.sm as ArrayLike<number>, at.flatMap(softmax), 4 * rel, abs, "softmax");
    });

    it(`cross_entropy and its gradient softmax(z) - t, averaged over rows (${dtype})`, () => {
      const ce = at.map((v, r) => -v.reduce((s, x, c) => s + targets[r * k + c]! * (x - logsumexp(v)), 0));
      const mean = ce.reduce((a, b) => a + b, 0) / rows.length;
      const { value, grads } = model.valueAndGrad({ z, t });
      expectAccurate([value], [mean], 4 * rel, abs, "cross_entropy");
      const expected = at.flatMap((v, r) => softmax(v).map((p, c) => (p * [0, 1, 2].reduce((s, j) => s + targets[r * k + j]!, 0) - targets[r * k + c]!) / rows.length));
      expectAccurate(grads.z!, expected, 8 * rel, abs + 8 * rel / rows.length, "d cross_entropy");
    });

    it(`gradients of logsumexp and log_softmax (${dtype})`, () => {
      const g = compile(`param z: [${rows.length}, ${k}]\nminimize sum(logsumexp(z, axis = 1)) + sum(log_softmax(z) * 0.5)`, { dtype });
      // d/dz [lse + 0.5 * sum_c (z_c - lse)] = softmax + 0.5 * (1 - k * softmax)
      const expected = at.flatMap((v) => softmax(v).map((p) => p + 0.5 * (1 - k * p)));
      expectAccurate(g.valueAndGrad({ z }).grads.z!, expected, 8 * rel, abs + 8 * rel, "d logsumexp");
    });
  }

  it("an all -Infinity row stays -Infinity in logsumexp, never NaN", () => {
    const m = compile("input z: [3]\ny = logsumexp(z)\noutput y", { dtype: "f64" });
    expect(m.forward({ z: Float64Array.of(-Infinity, -Infinity, -Infinity) }).y).toBe(-Infinity);
    expect(m.forward({ z: Float64Array.of(Infinity, 0, 1) }).y).toBe(Infinity);
  });
});
