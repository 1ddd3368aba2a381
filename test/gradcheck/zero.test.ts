// Powers and quotients at zero follow PyTorch (torch.pow's pow_backward_self and
// pow_backward_exponent in FunctionsManual.cpp): d/dx x^c is 0 wherever c = 0 and
// c * x^(c-1) elsewhere, so at x = 0 it is 0, 1, 0, +Inf, -Inf for c = 0, 1, 2, 0.5, -1;
// d/dc x^c is 0 where x = 0 and c >= 0. Checked in the emitted code (f32 and f64), in the
// interpreter on the raw and the simplified gradient graphs, in `derivative`'s text, and
// for second derivatives, with constant exponents and an exponent given at run time.

import { describe, expect, it } from "vitest";
import { gradients } from "../../src/autodiff";
import { buildModel, compile, derivative } from "../../src/index";
import { evaluate } from "../../src/interpret";
import type { Node } from "../../src/ir";
import { lowerSource } from "../../src/lower";
import { Builder } from "../../src/ops";

const exponents = [0, 1, 2, 0.5, -1] as const;
/** PyTorch at x = 0: torch.autograd.grad(x ** c, x), and its derivative again. */
const first: Record<number, number> = { 0: 0, 1: 1, 2: 0, 0.5: Infinity, [-1]: -Infinity };
const second: Record<number, number> = { 0: 0, 1: 0, 2: 2, 0.5: -Infinity, [-1]: Infinity };
/** PyTorch at x = 0: torch.autograd.grad(x ** c, c) for a tensor exponent c. */
const byExponent: Record<number, number> = { 0: 0, 1: 0, 2: 0, 0.5: 0, [-1]: -Infinity };

const text = (c: number) => (c < 0 ? `(${c})` : String(c));

/** The objective's gradient for `param` in the emitted code and in the interpreter (on
 *  the raw gradient graph and on the simplified roots codegen receives). */
function everywhere(source: string, values: Record<string, number>, param: string): { f64: number; f32: number; raw: number; simple: number } {
  const run = (dtype: "f32" | "f64") => compile(source, { dtype }).valueAndGrad(values).grads[param]![0]!;
  const program = lowerSource(source, { filename: "zero.grad" });
  const env = { values: new Map(Object.entries(values).map(([k, v]) => [k, [v]])) };
  const k = program.params.findIndex((p) => p.name === param);
  const raw = gradients(new Builder(program.graph, undefined), program.objective!.node, program.params.map((p) => p.node))[k]!;
  const simple = buildModel(program).grads![k]!;
  const at = (n: Node) => evaluate([n], env).get(n)!.data[0]!;
  return { f64: run("f64"), f32: run("f32"), raw: at(raw), simple: at(simple) };
}

const all = (v: number) => ({ f64: v, f32: v, raw: v, simple: v });

describe("d/dx x^c at x = 0, as PyTorch", () => {
  for (const c of exponents) {
    it(`constant exponent ${c}: ${first[c]}, second derivative ${second[c]}`, () => {
      expect(everywhere(`param x\nminimize x ^ ${text(c)}`, { x: 0 }, "x")).toEqual(all(first[c]!));
      expect(everywhere(`param x\nminimize pow(x, ${text(c)})`, { x: 0 }, "x")).toEqual(all(first[c]!));
      expect(everywhere(`param x\nminimize grad(x ^ ${text(c)}, x)`, { x: 0 }, "x")).toEqual(all(second[c]!));
    });

    it(`exponent ${c} given at run time (input and param): ${first[c]}, second derivative ${second[c]}`, () => {
      expect(everywhere("input c\nparam x\nminimize x ^ c", { x: 0, c }, "x")).toEqual(all(first[c]!));
      expect(everywhere("param c\nparam x\nminimize x ^ c", { x: 0, c }, "x")).toEqual(all(first[c]!));
      expect(everywhere("input c\nparam x\nminimize grad(x ^ c, x)", { x: 0, c }, "x")).toEqual(all(second[c]!));
    });

    it(`d/dc x^c at x = 0, c = ${c}: ${byExponent[c]}`, () => {
      expect(everywhere("input x\nparam c\nminimize x ^ c", { x: 0, c }, "c")).toEqual(all(byExponent[c]!));
    });
  }

  it("away from zero the masks change nothing: d/dx and d/dc of x^c at x = 0.7", () => {
    for (const c of exponents) {
      const dx = c === 0 ? 0 : c * 0.7 ** (c - 1);
      const got = everywhere("param c\nparam x\nminimize x ^ c", { x: 0.7, c }, "x");
      for (const v of Object.values(got)) expect(v).toBeCloseTo(dx, 5);
      const dc = everywhere("param c\nparam x\nminimize x ^ c", { x: 0.7, c }, "c");
      for (const v of Object.values(dc)) expect(v).toBeCloseTo(0.7 ** c * Math.log(0.7), 5);
    }
  });

  it("d/dc 0^c (a constant zero base) is 0 for c >= 0, as PyTorch's scalar-base rule", () => {
    for (const c of [0, 0.5, 2]) expect(everywhere("param c\nminimize 0 ^ c", { c }, "c")).toEqual(all(0));
    expect(everywhere("param c\nminimize 0 ^ c", { c: -1 }, "c")).toEqual(all(-Infinity));
    expect(everywhere("param c\nminimize 2 ^ c", { c: 3 }, "c").f64).toBeCloseTo(8 * Math.LN2, 12);
  });
});

describe("quotients, roots and logs at zero, as PyTorch", () => {
  // div: grad / other and -grad * (self / other) / other; sqrt: grad / (2 * result);
  // log: grad / self; rsqrt: -0.5 * grad * result^3. Each is an infinity at zero (never a
  // 0 * Inf NaN with a finite g); powers of 2 and 3 and the composites built on them
  // (square, mse, gelu) are 0 or finite there.
  const cases: [string, Record<string, number>, string, number][] = [
    ["param x\nminimize sqrt(x)", { x: 0 }, "x", Infinity],
    ["param x\nminimize log(x)", { x: 0 }, "x", Infinity],
    ["param x\nminimize 1 / x", { x: 0 }, "x", -Infinity],
    ["input a\nparam x\nminimize a / x", { a: 1, x: 0 }, "x", -Infinity],
    ["param a\ninput x\nminimize a / x", { a: 1, x: 0 }, "a", Infinity],
    ["param a\ninput x\nminimize a / x", { a: 0, x: 2 }, "a", 0.5],
    ["param x\nminimize square(x)", { x: 0 }, "x", 0],
    ["param x\nminimize x ^ 3", { x: 0 }, "x", 0],
    ["param x\nminimize mse(x, 0)", { x: 0 }, "x", 0],
    ["param x\nminimize gelu(x)", { x: 0 }, "x", 0.5],
    // rsqrt = 1 / sqrt(x): PyTorch's -0.5 * grad * result^3 is -Infinity at 0.
    ["param x\nminimize rsqrt(x)", { x: 0 }, "x", -Infinity],
    ["param x\nminimize x * rsqrt(x + 1)", { x: 0 }, "x", 1],
  ];
  for (const [source, values, param, expected] of cases) {
    it(`${source.split("\n").pop()} at ${JSON.stringify(values)}: d/d${param} = ${expected}`, () => {
      expect(everywhere(source, values, param)).toEqual(all(expected));
    });
  }
});

describe("derivative text of powers", () => {
  const cases: [string, string, string][] = [
    ["x^0", "x", "0"],
    ["pow(x, 0)", "x", "0"],
    ["x^1", "x", "1"],
    ["x^2", "x", "2 * x"],
    ["square(x)", "x", "2 * x"],
    ["x^0.5", "x", "0.5 * x ^ -0.5"],
    ["x^-1", "x", "-x ^ -2"],
    ["x^y", "x", "where(y == 0, 0, y * x ^ (y - 1))"],
    ["x^y", "y", "where((x == 0) * (y >= 0), 0, x ^ y * log(x))"],
    ["2^y", "y", `2 ^ y * ${Math.LN2}`],
    ["0^y", "y", "where(y >= 0, 0, 0 ^ y * (-1 / 0))"],
    // 0 times a mask folds (exact: a mask is 0 or 1); 0 times anything else does not.
    ["0 * relu(x)", "x", "0"],
    ["relu(x) * 0 + x", "x", "1"],
    ["0 * sin(x)", "x", "0 * cos(x)"],
  ];
  for (const [expr, wrt, expected] of cases) {
    it(`d/d${wrt} ${expr} = ${expected}`, () => expect(derivative(expr, wrt)).toBe(expected));
  }

  it("second derivatives through the printed text", () => {
    expect(derivative(derivative("x^0", "x"), "x")).toBe("0");
    expect(derivative(derivative("x^1", "x"), "x")).toBe("0");
    expect(derivative(derivative("x^2", "x"), "x")).toBe("2");
    expect(derivative(derivative("x^3", "x"), "x")).toBe("6 * x");
    expect(derivative(derivative("x^y", "x"), "x")).toBe("where(y == 0, 0, where(y - 1 == 0, 0, y * ((y - 1) * x ^ (y - 1 - 1))))");
  });

  it("the printed derivatives compile and give PyTorch's values at x = 0", () => {
    for (const c of exponents) {
      const d1 = derivative(`x ^ y`, "x");
      const d2 = derivative(d1, "x");
      const m = compile(`input x\ninput y\nd1 = ${d1}\nd2 = ${d2}\noutput d1, d2`, { dtype: "f64" });
      const out = m.forward({ x: 0, y: c });
      expect([out.d1, out.d2]).toEqual([first[c], second[c]]);
      const dy = compile(`input x\ninput y\nd = ${derivative("x ^ y", "y")}\noutput d`, { dtype: "f64" });
      expect(dy.forward({ x: 0, y: c }).d).toBe(byExponent[c]);
    }
  });
});
