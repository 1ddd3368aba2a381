// The elementwise built-ins added for real models: erf (against a 30-digit table), round
// half to even, ceil, trunc, floor modulo (Python's %), and the prelude's log_sigmoid,
// silu and rsqrt; their derivatives as PyTorch defines them; the erf/round/mod helpers
// emitted once per module and only when used; emitted code against the interpreter.

import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { compileToSource, gradcheck } from "../../src/index";
import { erfHelper } from "../../src/ops/special";
import { expectClose, expectMatchesInterpreter, model, outputs, randomValues } from "./helpers";

/** erf(x) from mpmath at 30 digits, rounded to the nearest double. */
const ERF: [number, number][] = [
  [-27, -1.0], [-6, -1.0], [-4.5, -0.9999999998033839], [-3.9, -0.9999999652077514], [-2, -0.9953222650189527],
  [-1, -0.8427007929497149], [-0.5, -0.5204998778130465], [-0.46875, -0.49261347321793797], [-0.1, -0.1124629160182849],
  [-1e-10, -1.1283791670955126e-10], [-1e-300, -1.1283791670955126e-300], [0, 0], [1e-300, 1.1283791670955126e-300],
  [1e-17, 1.1283791670955127e-17], [1e-10, 1.1283791670955126e-10], [0.001, 0.0011283787909692365],
  [0.1, 0.1124629160182849], [0.2, 0.22270258921047847], [0.3, 0.3286267594591274], [0.46875, 0.49261347321793797],
  [0.46876, 0.4926225311068465], [0.5, 0.5204998778130465], [0.75, 0.7111556336535151], [1, 0.8427007929497149],
  [1.5, 0.9661051464753108], [2, 0.9953222650189527], [2.5, 0.999593047982555], [3, 0.9999779095030014],
  [3.5, 0.9999992569016276], [3.9, 0.9999999652077514], [4, 0.9999999845827421], [4.0001, 0.9999999845954353],
  [4.5, 0.9999999998033839], [5, 0.9999999999984626], [5.5, 0.9999999999999927], [5.9, 0.9999999999999999],
  [6, 1.0], [7, 1.0], [26, 1.0], [27, 1.0],
];

const vec = (xs: number[]) => Float64Array.from(xs);

describe("erf", () => {
  it("is within 1e-14 relative of a high-precision table, in the interpreter and in emitted code", () => {
    const xs = ERF.map(([x]) => x);
    const src = `input x: [${xs.length}]\ny = erf(x)\noutput y`;
    const got = outputs(src, { x: vec(xs) }).y as number[];
    ERF.forEach(([x, want], i) => {
      for (const v of [got[i]!, erfHelper.fn(x)]) {
        expect(Math.abs(v - want) <= 1e-14 * Math.abs(want), `erf(${x}) = ${v}, want ${want}`).toBe(true);
      }
    });
  });

  it("is odd, exact at the extremes and NaN at NaN", () => {
    expect(erfHelper.fn(Infinity)).toBe(1);
    expect(erfHelper.fn(-Infinity)).toBe(-1);
    expect(erfHelper.fn(NaN)).toBeNaN();
    expect(Object.is(erfHelper.fn(-0), -0)).toBe(true);
    for (let x = 0.01; x < 7; x *= 1.37) expect(erfHelper.fn(-x)).toBe(-erfHelper.fn(x));
  });

  it("has the derivative 2 / sqrt(pi) exp(-x^2)", () => {
    const xs = [-2, -0.3, 0, 0.7, 3];
    const m = model(`param x: [5]\nminimize sum(erf(x))`);
    const { grads } = m.valueAndGrad({ x: vec(xs) });
    expectClose(grads.x!, xs.map((x) => (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x)), 1e-15);
  });

  it("declares its helper once in a module that uses it, and not in one that does not", () => {
    const used = model(`param x: [3]\ny = erf(x) + erf(2 * x)\noutput y\nminimize sum(erf(y))`).source;
    expect(used.match(/function erf\(/g)?.length).toBe(1);
    const unused = model(`param x: [3]\nminimize sum(exp(x))`).source;
    expect(unused).not.toMatch(/function (erf|roundHalfEven|floorMod)\(/);
  });

  it("runs in a standalone ES module, with no import", async () => {
    const { text } = compileToSource("input x: [3]\ny = erf(x) + round(x) + mod(x, 2)\noutput y", { format: "esm", dtype: "f64" });
    expect(text).not.toMatch(/\bimport\b/);
    const file = join(mkdtempSync(join(tmpdir(), "gradc-erf-")), "m.mjs");
    writeFileSync(file, text);
    const m = await import(pathToFileURL(file).href);
    const y = m.forward({ x: Float64Array.from([0.5, -2.5, 3.25]) }).y as Float64Array;
    // erf from the table above (mpmath), round half to even, Python's %
    expectClose(y, [0.5204998778130465 + 0 + 0.5, -0.999593047982555 - 2 + 1.5, 0.9999956972205363 + 3 + 1.25], 1e-15);
  });
});

describe("round, ceil, trunc", () => {
  it("round halves to even, as np.round and torch.round", () => {
    const xs = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49999999999999994, -3.7, 2.4999, 4503599627370495.5, -0.4];
    const src = `input x: [${xs.length}]\ny = round(x)\noutput y`;
    const got = outputs(src, { x: vec(xs) }).y as number[];
    expect(got).toEqual([-2, -2, -0, 0, 2, 2, 0, -4, 2, 4503599627370496, -0]);
    expect(Object.is(got[2], -0) && Object.is(got[10], -0)).toBe(true);
  });

  it("ceil and trunc as np.ceil and np.trunc", () => {
    const xs = [-2.5, -1, -0.2, 0, 0.2, 1, 2.5];
    const out = outputs(`input x: [7]\nc = ceil(x)\nt = trunc(x)\noutput c, t`, { x: vec(xs) });
    expect(out.c).toEqual([-2, -1, -0, 0, 1, 1, 3]);
    expect(out.t).toEqual([-2, -1, -0, 0, 0, 1, 2]);
  });

  it("have a zero derivative (as floor)", () => {
    const m = model(`param x: [3]\nminimize sum(round(x) * x + ceil(x) * x + trunc(x) * x)`);
    const { grads } = m.valueAndGrad({ x: vec([0.3, -1.6, 2.2]) });
    // d/dx (f(x) x) = f(x) + 0
    expectClose(grads.x!, [0 + 1 + 0, -2 + -1 + -1, 2 + 3 + 2]);
  });
});

describe("mod", () => {
  it("is floor modulo with the divisor's sign, as Python's % and torch.remainder", () => {
    const a = [-7, 7, -7, 7, 5.5, -0.5, 3, 0, 5];
    const b = [3, -3, -3, 3, 2, 1, 1.5, 2, 0.1];
    const got = outputs(`input a: [9]\ninput b: [9]\ny = mod(a, b)\noutput y`, { a: vec(a), b: vec(b) }).y;
    // 5 % 0.1 in Python is 0.09999999999999973: exact, where 5 - floor(5 / 0.1) * 0.1 gives 0
    expect(got).toEqual([2, -2, -1, 1, 1.5, 0.5, 0, 0, 0.09999999999999973]);
  });

  it("broadcasts, and has PyTorch's derivatives: 1 to a, -floor(a / b) to b", () => {
    const m = model(`param a: [2, 2]\nparam b: [2]\nminimize sum(mod(a, b))`);
    const a = [7.5, -3.2, 2.1, 5.9];
    const b = [2, -1.5];
    const { grads } = m.valueAndGrad({ a: vec(a), b: vec(b) });
    expectClose(grads.a!, [1, 1, 1, 1]);
    expectClose(grads.b!, [-(Math.floor(7.5 / 2) + Math.floor(2.1 / 2)), -(Math.floor(-3.2 / -1.5) + Math.floor(5.9 / -1.5))]);
  });
});

describe("prelude: log_sigmoid, silu, rsqrt", () => {
  it("log_sigmoid is the stable form: finite far out, and its gradient is sigmoid(-x)", () => {
    const xs = [-1000, -20, 0, 3, 800];
    const m = model(`param x: [5]\ny = log_sigmoid(x)\noutput y\nminimize sum(y)`);
    expectClose(m.forward({ x: vec(xs) }).y as Float64Array, [-1000, -20.000000002061153, -0.6931471805599453, -0.04858735157374206, -0]);
    expectClose(m.valueAndGrad({ x: vec(xs) }).grads.x!, [1, 0.9999999979388463, 0.5, 0.04742587317756678, 0]);
  });

  it("silu is x sigmoid(x) and rsqrt is 1 / sqrt(x)", () => {
    const out = outputs(`input x: [3]\ns = silu(x)\ninput p: [3]\nr = rsqrt(p)\noutput s, r`, { x: vec([-1, 0, 2]), p: vec([4, 0.25, 0]) });
    expectClose(out.s as number[], [-0.2689414213699951, 0, 1.7615941559557646]);
    expect(out.r).toEqual([0.5, 2, Infinity]);
  });
});

const everything = `
param x: [2, 3]
param w: [3]
input z: [2, 3]
a = erf(x * z) + round(3 * x) + ceil(x + z) + trunc(2 * z) + mod(x + 2, w + 3) + mod(z, -1.5)
b = log_sigmoid(x * 4) + silu(w * z) + rsqrt(x * x + 0.5)
output a, b
minimize sum(a * b)
`;

describe("emitted code", () => {
  it("matches the interpreter, values and gradients", () => {
    for (const seed of [1, 2, 3]) expectMatchesInterpreter(everything, randomValues(everything, seed));
  });

  it("f32 agrees with f64 within float tolerance", () => {
    const values = randomValues(everything, 4);
    const f64 = model(everything).forward(values);
    const f32 = model(everything, "f32").forward(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === "number" ? v : Float32Array.from(v)])));
    // round/ceil/trunc/mod jump at integers: compare away from the rounding of inputs to f32
    expectClose(f32.b as Float32Array, f64.b as Float64Array, 1e-5);
  });

  it("gradients agree with finite differences with a free dim (gradcheck, f64)", () => {
    const src = `dim n
param p: [3] = uniform(-1.5, 1.5)
input x: [n, 3]
u = x * p
minimize sum(erf(u) * x) + sum(mod(u * 3, p + 2)) + sum(silu(u) + log_sigmoid(u) + rsqrt(u * u + 1)) + sum(round(u) * u)
`;
    const result = gradcheck(src, { dims: { n: 4 }, points: 3 });
    expect(result.ok, JSON.stringify(result.params)).toBe(true);
  });

  it("have second derivatives that agree with finite differences (grad inside the objective)", () => {
    const src = `dim n
param p: [3] = uniform(-1.5, 1.5)
input x: [n, 3]
u = x * p
inner = sum(erf(u) * x) + sum(mod(u * 3, p + 2) * u) + sum(silu(u) + log_sigmoid(u) + rsqrt(u * u + 1))
minimize sum(grad(inner, p) ^ 2)
`;
    const result = gradcheck(src, { dims: { n: 4 } });
    expect(result.ok, JSON.stringify(result.params)).toBe(true);
  });
});
