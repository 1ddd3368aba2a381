// Training at run time (SPEC section 5): optimizer hyperparameters read from scalar inputs
// at every step (a warm-up + cosine schedule against a reference loop in f64), and the
// located errors for a hyperparameter that is not a constant or a scalar input.

import { describe, expect, it } from "vitest";
import { compile, GradcError } from "../../src/index";
import { rng } from "../helpers/random";

const model = (optimizer: string, extraInputs = "") => `
input x: [6, 3]
input y: [6]
${extraInputs}
param w: [3] = normal(0, 0.5)
param c = constant(0.1)
pred = tanh(x @ w + c)
minimize mean((pred - y) ^ 2) with ${optimizer}
`;

function data(seed: number) {
  const r = rng(seed);
  return { x: Float64Array.from({ length: 18 }, () => 2 * r() - 1), y: Float64Array.from({ length: 6 }, () => 2 * r() - 1) };
}

/** Linear warm-up over `warm` steps, then cosine decay to 0 at `total`. */
function schedule(t: number, peak: number, warm: number, total: number): number {
  if (t <= warm) return (peak * t) / warm;
  return 0.5 * peak * (1 + Math.cos((Math.PI * (t - warm)) / (total - warm)));
}

function errorOf(f: () => unknown): GradcError {
  try { f(); } catch (e) { if (e instanceof GradcError) return e; throw e; }
  throw new Error("expected a GradcError");
}

describe("a hyperparameter may be a scalar input", () => {
  it("adam with a warm-up + cosine rate per step matches a reference loop (f64)", () => {
    const m = compile(model("adam(lr = lr, beta1 = b1)", "input lr\ninput b1"), { dtype: "f64", seed: 3 });
    const ref = Object.fromEntries(Object.entries(m.params).map(([k, v]) => [k, Float64Array.from(v)]));
    const moments = Object.fromEntries(Object.entries(ref).map(([k, v]) => [k, [new Float64Array(v.length), new Float64Array(v.length)]]));
    const total = 20;
    for (let t = 1; t <= total; t++) {
      const lr = schedule(t, 0.1, 5, total);
      const values = { ...data(t), lr, b1: 0.8 };
      const grads = Object.fromEntries(Object.entries(m.valueAndGrad(values).grads).map(([k, g]) => [k, Float64Array.from(g)]));
      for (const k of Object.keys(ref)) {
        const p = ref[k]!, g = grads[k]!, [mm, vv] = moments[k]!;
        for (let i = 0; i < p.length; i++) {
          mm![i] = 0.8 * mm![i]! + 0.2 * g[i]!;
          vv![i] = 0.999 * vv![i]! + 0.001 * g[i]! * g[i]!;
          p[i] -= (lr * (mm![i]! / (1 - 0.8 ** t))) / (Math.sqrt(vv![i]! / (1 - 0.999 ** t)) + 1e-8);
        }
      }
      m.step(values);
      for (const k of Object.keys(ref)) {
        const got = m.params[k]!, want = ref[k]!;
        for (let i = 0; i < want.length; i++) expect(got[i], `${k}[${i}] after step ${t} (lr ${lr})`).toBeCloseTo(want[i]!, 13);
      }
    }
  });

  it("every hyperparameter of every optimizer accepts an input; a rate of 0 leaves the params", () => {
    const inputs = "input a\ninput b\ninput e\ninput d\ninput k";
    for (const opt of ["sgd(lr = a, clip_norm = k)", "momentum(lr = a, beta = b, clip_norm = k)",
      "adam(lr = a, beta1 = b, beta2 = d, eps = e, clip_norm = k)", "adamw(lr = a, beta1 = b, beta2 = d, eps = e, weight_decay = d, clip_norm = k)"]) {
      const m = compile(model(opt, inputs), { dtype: "f64" });
      const before = Float64Array.from(m.params.w!);
      m.step({ ...data(1), a: 0, b: 0.9, d: 0.99, e: 1e-8, k: 1 });
      expect(Array.from(m.params.w!), opt).toEqual(Array.from(before));
      m.step({ ...data(1), a: 0.1, b: 0.9, d: 0.99, e: 1e-8, k: 1 });
      expect(Array.from(m.params.w!), opt).not.toEqual(Array.from(before));
    }
  });

  it("the same rate as an input or as a literal gives the same params", () => {
    const literal = compile(model("momentum(lr = 0.05, beta = 0.7, clip_norm = 0.2)", "input lr"), { dtype: "f64", seed: 9 });
    const input = compile(model("momentum(lr = lr, beta = 0.7, clip_norm = 0.2)", "input lr"), { dtype: "f64", seed: 9 });
    for (let t = 1; t <= 5; t++) { literal.step({ ...data(t), lr: 1 }); input.step({ ...data(t), lr: 0.05 }); }
    expect(Array.from(input.params.w!)).toEqual(Array.from(literal.params.w!));
  });

  it("a scalar input given as a length-1 array works too, and a missing one is reported", () => {
    const m = compile(model("sgd(lr = lr)", "input lr"), { dtype: "f64" });
    m.step({ ...data(2), lr: Float64Array.of(0.1) });
    const e = errorOf(() => m.step(data(2)));
    expect(e.message).toContain("missing input `lr`");
  });
});

describe("a hyperparameter that is not a constant or a scalar input is a located error", () => {
  // [what, optimizer, code, the text the caret points at (its first occurrence)]
  const cases: [string, string, string, string][] = [
    ["a non-scalar input", "adam(lr = x)", "E0212", "x)"],
    ["an unknown name", "adam(lr = rate)", "E0101", "rate"],
    ["a param", "sgd(lr = c)", "E0128", "c)"],
    ["a definition", "sgd(lr = pred)", "E0128", "pred"],
    ["an expression", "sgd(lr = 2 * x)", "E0128", "2 * x"],
    ["a clip_norm given twice", "sgd(0.1, clip_norm = 1, clip_norm = 2)", "E0007", "clip_norm = 2"],
    ["an unknown optimizer argument", "adamw(0.1, decay = 1)", "E0106", "decay"],
  ];
  it.each(cases)("%s", (_, opt, code, at) => {
    const e = errorOf(() => compile(model(opt), { filename: "m.grad" }));
    const prefix = "minimize mean((pred - y) ^ 2) with ";
    expect([e.code, e.file, e.line, e.column], e.rendered).toEqual([code, "m.grad", 8, prefix.length + opt.indexOf(at) + 1]);
    expect(e.rendered).toContain("^");
  });

  it("an unknown name suggests a scalar input", () => {
    const e = errorOf(() => compile(model("adam(lr = rat)", "input rate"), { filename: "m.grad" }));
    expect(e.rendered).toContain("did you mean `rate`?");
  });
});
