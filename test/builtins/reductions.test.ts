// The reductions and normalisations added for real models: var and std (with `correction`),
// norm (gradient 0 at 0), cumsum (gradient a reverse cumsum), argmax / argmin (first on
// ties, NaN as the extreme, no gradient), layer_norm and rms_norm; values as NumPy computes
// them, axis / keepdims handling, free dims, emitted code against the interpreter, and
// finite-difference checks with a free dim.

import { describe, expect, it } from "vitest";
import { gradcheck } from "../../src/index";
import { expectClose, expectMatchesInterpreter, model, outputs, randomValues } from "./helpers";

const X = Float64Array.from([1, 2, 4, 3, -1, 0.5]); // [[1, 2, 4], [3, -1, 0.5]]
const decl = "input x: [2, 3]\n";

describe("var, std, norm", () => {
  it("match np.var / np.std (ddof = correction) and the L2 norm", () => {
    const out = outputs(`${decl}
v = var(x)
v1 = var(x, axis = 1)
v0 = var(x, 0, correction = 1)
vk = var(x, axis = -1, keepdims = true)
s = std(x)
s1 = std(x, axis = 1, correction = 1)
n = norm(x)
n0 = norm(x, axis = 0)
n1 = norm(x, axis = [1], keepdims = true)
output v, v1, v0, vk, s, s1, n, n0, n1`, { x: X });
    expectClose([out.v as number], [2.701388888888889]);
    expectClose(out.v1 as number[], [1.5555555555555554, 2.722222222222222]);
    expectClose(out.v0 as number[], [2, 4.5, 6.125]);
    expectClose(out.vk as number[], [1.5555555555555554, 2.722222222222222]);
    expectClose([out.s as number], [1.6435902436096683]);
    expectClose(out.s1 as number[], [1.5275252316519465, 2.0207259421636903]);
    expectClose([out.n as number], [5.5901699437494745]);
    expectClose(out.n0 as number[], [3.1622776601683795, 2.23606797749979, 4.031128874149275]);
    expectClose(out.n1 as number[], [4.58257569495584, 3.2015621187164243]);
    expect(model(`${decl}y = var(x, axis = 1, keepdims = true)\noutput y`).meta.outputs[0]!.shape).toEqual([2, 1]);
  });

  it("norm's gradient is x / norm, and 0 (not NaN) where the norm is 0; std's too", () => {
    const m = model("param w: [2, 3]\nminimize sum(norm(w, axis = 1)) + std(w[0])");
    const w = Float64Array.from([0, 0, 0, 3, 0, 4]);
    const { grads } = m.valueAndGrad({ w });
    expectClose(grads.w!, [0, 0, 0, 0.6, 0, 0.8]);
  });

  it("var's gradient is 2 (x - mean) / (count - correction)", () => {
    const m = model("param w: [3]\nminimize var(w, correction = 1)");
    const { grads } = m.valueAndGrad({ w: Float64Array.from([1, 2, 6]) });
    expectClose(grads.w!, [2 * (1 - 3) / 2, 2 * (2 - 3) / 2, 2 * (6 - 3) / 2]);
  });
});

describe("cumsum", () => {
  it("matches np.cumsum along either axis, and negative axes", () => {
    const out = outputs(`${decl}a = cumsum(x, axis = 1)\nb = cumsum(x, 0)\nc = cumsum(x, -1)\noutput a, b, c`, { x: X });
    expect(out.a).toEqual([1, 3, 7, 3, 2, 2.5]);
    expect(out.b).toEqual([1, 2, 4, 4, 1, 4.5]);
    expect(out.c).toEqual(out.a);
  });

  it("has a reverse cumsum as its gradient", () => {
    const m = model("param w: [4]\ninput r: [4]\nminimize sum(cumsum(w, 0) * r)");
    const { grads } = m.valueAndGrad({ w: new Float64Array(4), r: Float64Array.from([1, 10, 100, 1000]) });
    expect([...grads.w!]).toEqual([1111, 1110, 1100, 1000]);
  });
});

describe("argmax, argmin", () => {
  const Y = Float64Array.from([3, 1, 3, 2, 0, -5, -5, 7, 2, 2, 2, 2]); // [3, 4], ties in every row
  const ydecl = "input y: [3, 4]\n";

  it("match np.argmax / np.argmin: first occurrence on ties, flattened without an axis", () => {
    const out = outputs(`${ydecl}a = argmax(y, axis = 1)\nb = argmin(y, 1)\nc = argmax(y, axis = 0)
d = argmax(y)\ne = argmin(y)\nf = argmax(y, axis = -1, keepdims = true)\noutput a, b, c, d, e, f`, { y: Y });
    expect(out.a).toEqual([0, 3, 0]);
    expect(out.b).toEqual([1, 1, 0]);
    expect(out.c).toEqual([0, 2, 0, 1]);
    expect(out.d).toBe(7);
    expect(out.e).toBe(5);
    expect(out.f).toEqual([0, 3, 0]);
  });

  it("return the first NaN, as NumPy and PyTorch", () => {
    const out = outputs("input v: [4]\na = argmax(v)\nb = argmin(v)\noutput a, b", { v: Float64Array.from([1, NaN, 5, NaN]) });
    expect([out.a, out.b]).toEqual([1, 1]);
  });

  it("carry no gradient", () => {
    const m = model("param w: [3]\nminimize sum(w * argmax(w)) + argmin(w)");
    const { grads } = m.valueAndGrad({ w: Float64Array.from([0.5, 2, 1]) });
    expect([...grads.w!]).toEqual([1, 1, 1]);
  });
});

describe("layer_norm, rms_norm", () => {
  it("match the formulas of torch.nn.functional.layer_norm / rms_norm without affine parts", () => {
    const out = outputs(`${decl}a = layer_norm(x)\nb = rms_norm(x)\nc = layer_norm(x, axis = [0, 1], eps = 1e-3)\noutput a, b, c`, { x: X });
    expectClose(out.a as number[], [-1.0690415314502977, -0.26726038286257453, 1.3363019143128718, 1.313195895927627, -1.1111657580926078, -0.20203013783501958], 1e-12);
    expectClose(out.b as number[], [0.3779644460117677, 0.7559288920235354, 1.5118577840470708, 1.6230051048884533, -0.5410017016294845, 0.27050085081474223], 1e-12);
    expectClose(out.c as number[], [-0.3548484157873464, 0.2534631541338189, 1.4700862939761496, 0.8617747240549841, -1.5714715556296768, -0.659004200747929], 1e-12);
  });
});

const everything = `
param w: [3, 4]
input x: [3, 4]
u = w * x
a = var(u, axis = 1) + std(u, axis = 1, correction = 1) + norm(u, axis = 1)
c = cumsum(u, axis = 0) + cumsum(u, axis = 1) * argmax(u, axis = 0) + argmin(u, axis = 1, keepdims = true)
n = layer_norm(u) + rms_norm(u, axis = 0) + layer_norm(u, axis = [0, 1])
output a, c, n
minimize sum(a) + sum(c * n) + var(u) + norm(u)
`;

describe("emitted code", () => {
  it("matches the interpreter, values and gradients", () => {
    for (const seed of [1, 2, 3]) expectMatchesInterpreter(everything, randomValues(everything, seed));
  });

  it("works with free dims, against the interpreter and finite differences", () => {
    const src = `dim n
param w: [3]
input x: [n, 3]
u = x * w
y = cumsum(u, axis = 0) + layer_norm(u, axis = 0) + argmax(u, axis = 0)
output y
minimize sum(y * u) + sum(var(u, axis = 0, correction = 1)) + sum(std(u, axis = 0)) + norm(u) + sum(rms_norm(u, axis = 0) * x)
`;
    for (const n of [2, 5]) expectMatchesInterpreter(src, randomValues(src, n, { n }), { n });
    const result = gradcheck(src, { dims: { n: 4 } });
    expect(result.ok, JSON.stringify(result.params)).toBe(true);
  });

  it("have second derivatives that agree with finite differences (grad inside the objective)", () => {
    const src = `dim n
param w: [3]
input x: [n, 3]
u = x * w
inner = sum(layer_norm(u) * x) + var(u) + norm(u) + sum(std(u, axis = 0) * w) + sum(rms_norm(u, axis = 0) ^ 2) + sum(cumsum(u, axis = 0) ^ 2)
minimize sum(grad(inner, w) ^ 2)
`;
    const result = gradcheck(src, { dims: { n: 4 } });
    expect(result.ok, JSON.stringify(result.params)).toBe(true);
  });
});
