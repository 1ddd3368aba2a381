// The shape built-ins added for real models: stack, squeeze, expand_dims, flip, pad, tile,
// repeat. Values as NumPy computes them; gradients (pad's is a slice, flip's a flip, tile's
// and repeat's a sum over the copies); free dims; located errors for misuse; emitted code
// against the interpreter.

import { describe, expect, it } from "vitest";
import { compile, GradcError, gradcheck } from "../../src/index";
import { expectMatchesInterpreter, model, outputs, randomValues } from "./helpers";

const A = Float64Array.from([0, 1, 2, 3, 4, 5]); // np.arange(6.).reshape(2, 3)
const decl = "input a: [2, 3]\n";
const shapeOf = (src: string, name: string) => model(src).meta.outputs.find((o) => o.name === name)!.shape;

describe("values as NumPy", () => {
  it("stack joins along a new axis", () => {
    const out = outputs(`${decl}b = a * 10\ns = stack([a, b], axis = 1)\nt = stack([a, b], axis = -1)\nu = stack([a])\noutput s, t, u`, { a: A });
    expect(out.s).toEqual([0, 1, 2, 0, 10, 20, 3, 4, 5, 30, 40, 50]);
    expect(out.t).toEqual([0, 0, 1, 10, 2, 20, 3, 30, 4, 40, 5, 50]);
    expect(out.u).toEqual([...A]);
    expect(shapeOf(`${decl}s = stack([a, a, a], axis = 1)\noutput s`, "s")).toEqual([2, 3, 3]);
  });

  it("squeeze and expand_dims add and drop size-1 axes", () => {
    const src = `${decl}e = expand_dims(a, 1)\nf = expand_dims(a, [0, -1])\ng = squeeze(f)\nh = squeeze(f, axis = 0)\noutput e, f, g, h`;
    const m = model(src);
    expect(m.meta.outputs.map((o) => o.shape)).toEqual([[2, 1, 3], [1, 2, 3, 1], [2, 3], [2, 3, 1]]);
    const out = outputs(src, { a: A });
    for (const k of ["e", "f", "g", "h"]) expect(out[k]).toEqual([...A]);
  });

  it("flip reverses along the listed axes, or all", () => {
    const out = outputs(`${decl}f = flip(a, 1)\ng = flip(a)\noutput f, g`, { a: A });
    expect(out.f).toEqual([2, 1, 0, 5, 4, 3]);
    expect(out.g).toEqual([5, 4, 3, 2, 1, 0]);
  });

  it("pad adds constant borders, one [before, after] pair per axis", () => {
    const out = outputs(`${decl}p = pad(a, [[1, 0], [0, 2]], value = -1)\nq = pad(a, [[0, 0], [1, 1]])\noutput p, q`, { a: A });
    expect(out.p).toEqual([-1, -1, -1, -1, -1, 0, 1, 2, -1, -1, 3, 4, 5, -1, -1]);
    expect(out.q).toEqual([0, 0, 1, 2, 0, 0, 3, 4, 5, 0]);
  });

  it("tile repeats whole copies; repeat repeats each element", () => {
    const out = outputs(`${decl}input v: [2]
t1 = tile(a, [2, 1])\nt2 = tile(a, 2)\nt3 = tile(v, [2, 2])
r1 = repeat(a, 2, 1)\nr2 = repeat(a, 2, axis = 0)\nr3 = repeat(a, 2)
output t1, t2, t3, r1, r2, r3`, { a: A, v: Float64Array.from([1, 2]) });
    expect(out.t1).toEqual([0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5]);
    expect(out.t2).toEqual([0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5]);
    expect(out.t3).toEqual([1, 2, 1, 2, 1, 2, 1, 2]);
    expect(out.r1).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    expect(out.r2).toEqual([0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5]);
    expect(out.r3).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    expect(shapeOf(`${decl}t = tile(a, [2, 1, 3])\noutput t`, "t")).toEqual([2, 2, 9]);
  });
});

describe("gradients", () => {
  const r = Float64Array.from({ length: 24 }, (_, i) => i + 1);
  it("pad's is the interior slice, flip's a flip", () => {
    const m = model("param w: [2, 3]\ninput r: [3, 5]\nminimize sum(pad(w, [[1, 0], [0, 2]], value = 7) * r) + sum(flip(w, 1) * r[:2, :3])");
    const { grads } = m.valueAndGrad({ w: new Float64Array(6), r: r.subarray(0, 15) });
    // interior of r: rows 1-2, columns 0-2 -> [6, 7, 8, 11, 12, 13]; flipped r[:2, :3] -> [3, 2, 1, 8, 7, 6]
    expect([...grads.w!]).toEqual([6 + 3, 7 + 2, 8 + 1, 11 + 8, 12 + 7, 13 + 6]);
  });

  it("tile's and repeat's are sums over the copies", () => {
    const m = model("param w: [2]\ninput r: [4]\nminimize sum(tile(w, 2) * r) + 100 * sum(repeat(w, 2, 0) * r)");
    const { grads } = m.valueAndGrad({ w: new Float64Array(2), r: Float64Array.from([1, 2, 3, 4]) });
    expect([...grads.w!]).toEqual([1 + 3 + 100 * (1 + 2), 2 + 4 + 100 * (3 + 4)]);
  });

  it("stack's gives each tensor its slice", () => {
    const m = model("param w: [2]\nparam z: [2]\ninput r: [2, 2]\nminimize sum(stack([w, z], axis = 1) * r)");
    const { grads } = m.valueAndGrad({ w: new Float64Array(2), z: new Float64Array(2), r: Float64Array.from([1, 2, 3, 4]) });
    expect([...grads.w!]).toEqual([1, 3]);
    expect([...grads.z!]).toEqual([2, 4]);
  });
});

const everything = `
param w: [2, 3]
input x: [2, 3]
u = w * x
s = stack([u, x, w], axis = 1)
e = squeeze(expand_dims(u, [0, 2]), 0) * 2
f = flip(u, 0) + flip(u)
p = pad(u, [[1, 2], [0, 1]], value = 0.5)
t = tile(u, [2, 1, 2])
r = repeat(u, 3, -1)[:, 1::3] + repeat(u, 2, axis = 1)[:, ::2]
output s, e, f, p, t, r
minimize sum(s * s) + sum(e) + sum(f * u) + sum(p ^ 2) + sum(sin(t)) + sum(r * r)
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
y = stack([u, x], axis = 2) * 2
z = flip(u, [0, 1]) + squeeze(expand_dims(u, 1))
q = pad(u, [[0, 0], [2, 1]]) + 1
t = tile(u, [1, 2]) + repeat(u, 2, axis = 1)
g = pad(u, [[1, 2], [0, 0]], value = 2)
h = tile(u, [3, 1]) * repeat(u, 3, axis = 0)
k = repeat(u, 2)
inner = pad(u, [[2, 1], [0, 0]])[2:-1] * 2
output y, z, q, t, g, h, k, inner
minimize sum(y ^ 2) + sum(z * u) + sum(q * q) + sum(sin(t)) + sum(g ^ 3) + sum(h) + sum(cos(k)) + sum(inner * u)
`;
    expect(model(src).meta.outputs.slice(4).map((o) => o.shape)).toEqual([["n + 3", 3], ["n * 3", 3], ["n * 6"], ["n", 3]]);
    for (const n of [1, 4]) expectMatchesInterpreter(src, randomValues(src, n, { n }), { n });
    const result = gradcheck(src, { dims: { n: 3 } });
    expect(result.ok, JSON.stringify(result.params)).toBe(true);
  });

  it("have second derivatives that agree with finite differences (grad inside the objective)", () => {
    const src = `dim n
param w: [3]
input x: [n, 3]
u = sin(x * w)
inner = sum(stack([u, x], axis = 1) ^ 3) + sum(flip(u, 1) * u * u) + sum(pad(u, [[0, 0], [1, 2]], value = 1) ^ 3) + sum(tile(u, [1, 2]) ^ 3) + sum(repeat(u, 2, 1) ^ 3)
minimize sum(grad(inner, w) ^ 2)
`;
    const result = gradcheck(src, { dims: { n: 3 } });
    expect(result.ok, JSON.stringify(result.params)).toBe(true);
  });
});

describe("misuse is a located GradcError", () => {
  const cases: [string, string, string][] = [
    ["input a: [2, 3]\ny = squeeze(a, 1)", "E0260", "squeeze: axis 1 has size 3, not 1"],
    ["input a: [2, 3]\ninput b: [3, 2]\ny = stack([a, b])", "E0261", "stack: every tensor must have the same shape, but [2, 3] and [3, 2] differ"],
    ["dim n\ninput a: [n, 3]\ny = a[1:]", "E0210", "axis 0 has the free dim `n`; only `:` or a window like `2:-1` can index it"],
    ["input a: [2, 3]\ny = pad(a, [[1, 0]])", "E0263", "pad: `pad_width` needs one entry per axis (2), but has 1"],
    ["input a: [2, 3]\ny = pad(a, [[1, -1], [0, 0]])", "E0253", "pad: `pad_width` must be a non-negative integer, found -1"],
    ["input a: [2, 3]\ny = pad(a, [1, 2])", "E0253", "pad: `pad_width` must be a list of [before, after] pairs"],
    ["input a: [2, 3]\ny = repeat(a, 0, 1)", "E0253", "repeat: `n` must be a positive integer, found 0"],
    ["input a: [2, 3]\ny = cumsum(a, 2)", "E0203", "axis 2 is out of range for a tensor of rank 2"],
    ["input a: [2, 3]\ny = flip(a, 0.5)", "E0118", "argument `axis` must be a list of integers"],
    ["input a: [2, 3]\ny = var(a, correction = a)", "E0116", "`var`: `correction` must be a constant number"],
  ];
  for (const [src, code, message] of cases) {
    it(`${code}: ${message}`, () => {
      let error: unknown;
      try { compile(src, { filename: "m.grad" }); } catch (e) { error = e; }
      expect(error).toBeInstanceOf(GradcError);
      const e = error as GradcError;
      expect(e.errors[0]!.code).toBe(code);
      expect(e.message).toContain(message);
      expect(e.file).toBe("m.grad");
      expect(e.line).toBe(src.split("\n").length);
      expect(e.column).toBeGreaterThan(1);
      expect(e.rendered).toMatch(/\^/);
    });
  }
});
