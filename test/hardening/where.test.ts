// NaN-safe selection, gradc's semantics for `where` (docs/stability.md): the gradient of
// the branch `where` did not take is masked before it meets that branch's local
// derivative, so a branch that is NaN or infinite where it is not selected leaves the
// gradient finite, with no "double where" in the model. Where the branch is taken the
// gradient is exactly the unmasked one.

import { describe, expect, it } from "vitest";
import { compile, derivative, gradcheck } from "../../src/index";
import { expectClose, interpret } from "./helpers";

const points = [-4, -1, -1e-300, -0, 0, 1e-300, 0.25, 1, 9];

function gradientAt(expr: string, dtype: "f32" | "f64" = "f64"): { value: number[]; grad: number[] } {
  const model = compile(`param x: [${points.length}]\ny = ${expr}\noutput y\nminimize sum(y)`, { dtype });
  const A = dtype === "f64" ? Float64Array : Float32Array;
  const x = A.from(points);
  return { value: Array.from(model.forward({ x }).y as ArrayLike<number>), grad: Array.from(model.valueAndGrad({ x }).grads.x!) };
}

describe("the branch not taken cannot poison the gradient", () => {
  const cases: [string, (x: number) => number, (x: number) => number][] = [
    ["where(x > 0, sqrt(x), 0)", (x) => (x > 0 ? Math.sqrt(x) : 0), (x) => (x > 0 ? 0.5 / Math.sqrt(x) : 0)],
    ["where(x > 0, log(x), 0)", (x) => (x > 0 ? Math.log(x) : 0), (x) => (x > 0 ? 1 / x : 0)],
    ["where(x <= 0, 0, log(x))", (x) => (x <= 0 ? 0 : Math.log(x)), (x) => (x <= 0 ? 0 : 1 / x)],
    ["where(x > 0, sqrt(x), log(-x))", (x) => (x > 0 ? Math.sqrt(x) : Math.log(-x)), (x) => (x > 0 ? 0.5 / Math.sqrt(x) : 1 / x)],
    ["where(x > 0, sqrt(x) * log(x), 0)", (x) => (x > 0 ? Math.sqrt(x) * Math.log(x) : 0), (x) => (x > 0 ? (0.5 * Math.log(x) + 1) / Math.sqrt(x) : 0)],
    ["where(x > 0, x ^ 0.5 + 1 / x, x)", (x) => (x > 0 ? Math.sqrt(x) + 1 / x : x), (x) => (x > 0 ? 0.5 / Math.sqrt(x) - 1 / (x * x) : 1)],
    ["where(x > 0, where(x > 1, log(x - 1), sqrt(x)), 0)", (x) => (x > 0 ? (x > 1 ? Math.log(x - 1) : Math.sqrt(x)) : 0),
      (x) => (x > 0 ? (x > 1 ? 1 / (x - 1) : 0.5 / Math.sqrt(x)) : 0)],
    ["where(x > -2, where(x > 0, sqrt(x), 0) * 3, acos(x))", (x) => (x > -2 ? (x > 0 ? 3 * Math.sqrt(x) : 0) : Math.acos(x)),
      (x) => (x > -2 ? (x > 0 ? 1.5 / Math.sqrt(x) : 0) : NaN)],
  ];
  for (const [expr, value, slope] of cases) {
    for (const dtype of ["f64", "f32"] as const) {
      it(`${expr} (${dtype})`, () => {
        const r = gradientAt(expr, dtype);
        const at = points.map((p) => (dtype === "f32" ? Math.fround(p) : p));
        at.forEach((x, i) => {
          const expected = slope(x);
          // acos(-4) is NaN in the branch that *is* taken there: that NaN is real.
          if (Number.isNaN(expected)) { expect(r.grad[i]).toBeNaN(); return; }
          expect(Number.isNaN(r.grad[i]!), `${expr} at ${x}: gradient ${r.grad[i]}`).toBe(false);
          const rel = dtype === "f64" ? 1e-12 : 1e-5;
          if (Number.isFinite(expected)) expect(Math.abs(r.grad[i]! - expected)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(expected)));
          else expect(r.grad[i]).toBe(expected);
          const v = value(x);
          if (Number.isFinite(v)) expect(Math.abs(r.value[i]! - v)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(v)));
        });
      });
    }
  }

  it("where the branch is taken, the gradient is exactly the unmasked one", () => {
    const masked = gradientAt("where(x > 0, sqrt(x) * log(x + 2), 0)").grad;
    const plain = gradientAt("sqrt(x) * log(x + 2)").grad;
    points.forEach((x, i) => { if (x > 0) expect(masked[i]).toBe(plain[i]); else expect(masked[i]).toBe(0); });
    expect(plain.some(Number.isNaN)).toBe(true);
  });

  it("through a user function, several uses of a value, and a param feeding both branches", () => {
    const source = `input x: [${points.length}]
param a = constant(1.5)
fn safe_log(v) = where(v > 0, log(v), 0)
y = safe_log(x * a) + safe_log(x * a) * a + where(x * a > 1, sqrt(x * a - 1), -x)
minimize sum(y)`;
    const model = compile(source, { dtype: "f64" });
    const x = Float64Array.from(points);
    const g = model.valueAndGrad({ x }).grads.a![0]!;
    expect(Number.isFinite(g)).toBe(true);
    const expected = interpret(source, { x }, { a: [1.5] }).grads.a![0]!;
    expect(g).toBeCloseTo(expected, 10);
    expect(gradcheck(source).ok).toBe(true);
  });

  it("second order: grad of a masked gradient stays finite", () => {
    const source = `input x: [${points.length}]
param a = constant(0.75)
g = grad(sum(where(x * a > 0, sqrt(x * a), 0)), a)
minimize g * g`;
    const model = compile(source, { dtype: "f64" });
    const { value, grads } = model.valueAndGrad({ x: Float64Array.from(points) });
    expect(Number.isFinite(value)).toBe(true);
    expect(Number.isFinite(grads.a![0]!)).toBe(true);
    const expected = interpret(source, { x: Float64Array.from(points) }, { a: [0.75] });
    expectClose([value, grads.a![0]!], [expected.objective!, expected.grads.a![0]!], 1e-10);
  });

  it("the simplifier keeps the mask: derivative() and the printed gradient show it", () => {
    expect(derivative("where(x > 0, sqrt(x), 0)", "x")).toBe("where(x > 0, 0.5 / sqrt(x), 0)");
    expect(derivative("where(x > 0, log(x), 0)", "x")).toBe("where(x > 0, 1 / x, 0)");
    expect(derivative(derivative("where(x > 0, sqrt(x), 0)", "x"), "x")).toMatch(/^where\(x > 0, /);
  });

  it("the interpreter computes the same masked gradient as the emitted code", () => {
    const source = `param x: [${points.length}]\ny = where(x > 0, sqrt(x) + log(x), x * x)\nminimize sum(y)`;
    const model = compile(source, { dtype: "f64" });
    const x = Float64Array.from(points);
    const grad = Array.from(model.valueAndGrad({ x }).grads.x!);
    expectClose(grad, interpret(source, {}, { x }).grads.x!, 1e-14);
    expect(grad.every(Number.isFinite)).toBe(true);
  });

  it("leaky_relu and elu, written with where, keep their gradients (elu'(0) = 1, and elu of a huge x)", () => {
    const r = gradientAt("leaky_relu(x, alpha = 0.1) + elu(x)");
    points.forEach((x, i) => expect(r.grad[i]).toBeCloseTo((x > 0 ? 1 : 0.1) + (x > 0 ? 1 : Math.exp(x)), 12));
    const big = compile("param x: [3]\nminimize sum(elu(x, alpha = 0.5))", { dtype: "f64" });
    const g = big.valueAndGrad({ x: Float64Array.of(1000, 1e300, -1000) });
    expect(g.value).toBe(1000 + 1e300 - 0.5);
    expect(Array.from(g.grads.x!)).toEqual([1, 1, 0.5 * Math.exp(-1000)]);
  });
});
