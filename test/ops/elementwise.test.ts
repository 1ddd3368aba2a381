// The elementwise op records one by one, without compiling a program (fast: the mutation
// run of src/ops/elementwise.ts runs this file for every mutant of a record):
//   - `scalar` (what the interpreter and constant folding compute) against a reference
//     written here, at ordinary points and at the edges (zero, halves, +-Infinity, NaN,
//     arguments where a naive formula overflows);
//   - `emit` (one element of the emitted code, with the op's runtime helper declared) run
//     as JavaScript on the same points, and a power by each constant exponent it special-
//     cases;
//   - the print form: an expression printed and lowered again computes the same values;
//   - the derivative at the kinks, where gradcheck does not sample (PyTorch's conventions:
//     relu'(0) = abs'(0) = 0, ties of maximum/minimum split evenly).

import { generate } from "astring";
import { describe, expect, it } from "vitest";
import { gradients } from "../../src/autodiff";
import * as js from "../../src/codegen/estree";
import { evaluate } from "../../src/interpret";
import { Graph, nodesWithBodies, type Node } from "../../src/ir";
import { lowerSource } from "../../src/lower";
import { Builder, getOp, stackedScan, type ElementwiseDef } from "../../src/ops";
import { elementwiseOps } from "../../src/ops/elementwise";
import { erfHelper, modHelper, roundHelper } from "../../src/ops/special";
import { printExpression } from "../../src/print/text";
import { excludesZero, nonNegativeFinite } from "../../src/simplify/rules";

const roundHalfEven = (x: number) => {
  const f = Math.floor(x), d = x - f;
  return d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
};
const floorMod = (a: number, b: number) => a - b * Math.floor(a / b);

/** What each op computes, written independently of the records. */
const reference: Record<string, (...xs: number[]) => number> = {
  neg: (x) => -x, exp: Math.exp, log: Math.log, log1p: Math.log1p, expm1: Math.expm1, sqrt: Math.sqrt,
  abs: Math.abs, sin: Math.sin, cos: Math.cos, tan: Math.tan, asin: Math.asin, acos: Math.acos,
  atan: Math.atan, tanh: Math.tanh, sinh: Math.sinh, cosh: Math.cosh,
  sigmoid: (x) => (x < -700 ? 0 : 1 / (1 + Math.exp(-x))),
  relu: (x) => (x > 0 ? x : 0),
  softplus: (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x))),
  sign: Math.sign, floor: Math.floor, ceil: Math.ceil, trunc: Math.trunc, round: roundHalfEven,
  erf: erfHelper.fn, stop_gradient: (x) => x,
  add: (a, b) => a + b, sub: (a, b) => a - b, mul: (a, b) => a * b, div: (a, b) => a / b, pow: Math.pow,
  mod: (a, b) => (Number.isNaN(a + b) || b === 0 || !Number.isFinite(a) ? NaN : Number.isFinite(b) ? floorMod(a, b) : a === 0 || Math.sign(a) === Math.sign(b) ? a : b),
  maximum: Math.max, minimum: Math.min,
  lt: (a, b) => +(a < b), le: (a, b) => +(a <= b), gt: (a, b) => +(a > b), ge: (a, b) => +(a >= b),
  eq: (a, b) => +(a === b), ne: (a, b) => +(a !== b),
  where: (c, a, b) => (c !== 0 ? a : b),
};

const UNARY_POINTS = [-800, -40, -3, -2.5, -1.5, -1, -0.7, -0.5, -0.3, -1e-9, -0, 0, 1e-9, 0.3, 0.5, 0.7, 1, 1.5, 2.5, 3, 40, 800, Infinity, -Infinity, NaN];
const BINARY_POINTS = [-2.5, -1, -0.5, 0, 0.5, 1, 2, 3, Infinity, -Infinity, NaN];

/** Equal up to a few ulps (the reference may group operations differently), NaN equal to NaN. */
function same(got: number, want: number): boolean {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (!Number.isFinite(want)) return got === want;
  return Math.abs(got - want) <= 4e-16 * Math.max(1e-300, Math.abs(want));
}

/** `emit` of `def` as a JS function of its arguments; `constant` puts a literal in place of
 *  the last argument (the emitter special-cases some). */
function emitted(def: ElementwiseDef, constant?: number): (...xs: number[]) => number {
  const names = ["a", "b", "c"].slice(0, def.arity);
  const args = names.map((n) => js.id(n));
  if (constant !== undefined) args[args.length - 1] = js.num(constant);
  const text = generate(def.emit(args) as never);
  const helper = def.helper ? `${def.helper.source}\n` : "";
  return new Function(...names, `"use strict";\n${helper}return ${text};`) as (...xs: number[]) => number;
}

const tuples = (arity: number): number[][] => {
  if (arity === 1) return UNARY_POINTS.map((x) => [x]);
  if (arity === 2) return BINARY_POINTS.flatMap((a) => BINARY_POINTS.map((b) => [a, b]));
  return [0, 1, -0.5, NaN].flatMap((c) => BINARY_POINTS.flatMap((a) => [[c, a, -a], [c, a, 7]]));
};

describe("elementwise op records", () => {
  it("cover the reference table", () => {
    expect(elementwiseOps.map((d) => d.name).sort()).toEqual(Object.keys(reference).sort());
    for (const d of elementwiseOps) expect(getOp(d.name), d.name).toBe(d);
    expect(elementwiseOps.every((d) => d.arity === reference[d.name]!.length)).toBe(true);
  });

  for (const def of elementwiseOps) {
    it(`${def.name}: scalar and emitted code compute the reference`, () => {
      const want = reference[def.name]!;
      const code = emitted(def);
      for (const xs of tuples(def.arity)) {
        const w = want(...xs);
        expect(same(def.scalar(...xs), w), `scalar ${def.name}(${xs.join(", ")}) = ${def.scalar(...xs)}, want ${w}`).toBe(true);
        // the emitted code computes bit for bit what the interpreter does (the sign of zero too)
        expect(Object.is(code(...xs), def.scalar(...xs)), `emitted ${def.name}(${xs.join(", ")}) = ${code(...xs)}, scalar ${def.scalar(...xs)}`).toBe(true);
      }
    });
  }

  it("pow by a constant exponent emits what Math.pow computes", () => {
    const pow = getOp("pow") as ElementwiseDef;
    for (const e of [0, 1, 2, 3, -1, -2, 0.5, -0.5, 4]) {
      const code = emitted(pow, e);
      for (const a of [...UNARY_POINTS, 1.1, -7.3]) {
        const want = Math.pow(a, e);
        expect(same(code(a, NaN), want) || Math.abs(code(a, NaN) - want) <= 1e-15 * Math.abs(want), `${a} ^ ${e}: ${code(a, NaN)}, want ${want}`).toBe(true);
      }
    }
  });

  it("the runtime helpers are declared by the ops that call them", () => {
    const helpers = Object.fromEntries(elementwiseOps.filter((d) => d.helper).map((d) => [d.name, d.helper!.name]));
    expect(helpers).toEqual({ round: roundHelper.name, erf: erfHelper.name, mod: modHelper.name });
  });
});

describe("the print form of each elementwise op", () => {
  // x and y are positive and unequal (log, sqrt, pow defined); c has zeros (where).
  const X = [0.5, 1.25, 2, 0.75], Y = [1.5, 0.25, 2, 3], C = [0, 1, -2, 0];
  const header = "input x: [4]\ninput y: [4]\ninput c: [4]\n";
  const values = new Map([["x", X], ["y", Y], ["c", C]]);

  for (const def of elementwiseOps) {
    it(`${def.name} printed and lowered again computes the same values, nested in other ops`, () => {
      const b = new Builder(new Graph(), undefined);
      const [x, y, c] = ["x", "y", "c"].map((n) => b.input(n, "input", [4])) as [Node, Node, Node];
      const args = def.arity === 1 ? [x] : def.arity === 2 ? [x, y] : [c, x, y];
      // under a product and a power, with a sum and a negation inside: precedence matters
      const inner = args.map((a, i) => (i === 0 ? b.add(a, y) : b.neg(a)));
      const node = b.op(def.name, inner, {});
      const outer = b.binary("pow", b.mul(b.sub(x, node), b.add(node, y)), b.constant(2));
      const text = printExpression(outer);
      const program = lowerSource(`${header}z = ${text}\noutput z`, { filename: "print.grad" });
      const z = program.outputs[0]!.node;
      const again = evaluate([z], { values }).get(z)!.data;
      const want = evaluate([outer], { values }).get(outer)!.data;
      expect([...again], text).toEqual([...want]);
    });
  }
});

describe("elementwise derivatives at the kinks (PyTorch's conventions)", () => {
  /** d/dx_i sum(op(xs)) for each input at the given values. */
  function grads(op: string, inputs: number[][]): number[][] {
    const b = new Builder(new Graph(), undefined);
    const n = inputs[0]!.length;
    const xs = inputs.map((_, i) => b.input(`x${i}`, "param", [n]));
    const y = b.sum(b.op(op, xs, {}), [0]);
    const gs = gradients(b, y, xs);
    const env = { values: new Map(inputs.map((v, i) => [`x${i}`, v])) };
    const results = evaluate(gs.filter((g): g is Node => g !== null), env);
    return gs.map((g) => [...results.get(g)!.data]);
  }

  it("relu and abs have derivative 0 at 0, and their slope either side", () => {
    expect(grads("relu", [[-1, -0, 0, 2]])).toEqual([[0, 0, 0, 1]]);
    expect(grads("abs", [[-1, 0, 2]])).toEqual([[-1, 0, 1]]);
  });

  it("maximum and minimum split a tie evenly", () => {
    expect(grads("maximum", [[1, 2, 3], [1, 3, 2]])).toEqual([[0.5, 0, 1], [0.5, 1, 0]]);
    expect(grads("minimum", [[1, 2, 3], [1, 3, 2]])).toEqual([[0.5, 1, 0], [0.5, 0, 1]]);
  });

  it("pow at a zero base and a zero exponent", () => {
    // d/da a^e = e a^(e-1), 0 where e = 0; d/de = a^e log a, 0 where a = 0 and e >= 0
    const [da, de] = grads("pow", [[0, 0, 0, 2, 0], [0, 1, 2, 3, -1]]);
    expect(da).toEqual([0, 1, 0, 12, -Infinity]);
    expect(de!.slice(0, 4)).toEqual([0, 0, 0, 8 * Math.log(2)]);
    expect(de![4]).toBe(-Infinity);
  });

  it("where passes the gradient to the chosen side only, none to the condition", () => {
    const b = new Builder(new Graph(), undefined);
    const [c, x, y] = ["c", "x", "y"].map((n) => b.input(n, "param", [3])) as [Node, Node, Node];
    const gs = gradients(b, b.sum(b.where(c, x, y), [0]), [c, x, y]);
    const env = { values: new Map([["c", [0, 2, -1]], ["x", [5, 6, 7]], ["y", [8, 9, 10]]]) };
    const r = evaluate(gs.filter((g): g is Node => g !== null), env);
    const at = (g: Node | null) => (g === null ? [0, 0, 0] : [...r.get(g)!.data]);
    expect(gs.map(at)).toEqual([[0, 0, 0], [0, 1, 1], [1, 0, 0]]);
  });
});

describe("the power rule resolves constant exponents and bases when it is built", () => {
  /** The op names reachable from `n`. */
  function opsIn(n: Node): Set<string> {
    const seen = new Set<Node>();
    const walk = (m: Node) => {
      if (seen.has(m)) return;
      seen.add(m);
      m.inputs.forEach(walk);
    };
    walk(n);
    return new Set([...seen].map((m) => m.op.name));
  }
  /** d/d(param) sum(build(b, param)) at `at`, and the gradient node. */
  function grad(at: number[], build: (b: Builder, x: Node) => Node): { node: Node; values: number[] } {
    const b = new Builder(new Graph(), undefined);
    const x = b.input("x", "param", [at.length]);
    const [g] = gradients(b, b.sum(build(b, x), [0]), [x]);
    return { node: g!, values: [...evaluate([g!], { values: new Map([["x", at]]) }).get(g!)!.data] };
  }

  it("x ^ c at x = 0 has PyTorch's derivative, with no mask, the constant seen through its broadcast", () => {
    const want: Record<number, number> = { 0: 0, 1: 1, 2: 0, 0.5: Infinity, [-1]: -Infinity };
    for (const c of [0, 1, 2, 0.5, -1]) {
      for (const wide of [false, true]) {
        const { node, values } = grad([0, 1.5], (b, x) => (wide ? b.op("pow", [x, b.constant(c, [2])]) : b.binary("pow", x, b.constant(c))));
        expect(values, `d/dx x ^ ${c}`).toEqual([want[c], c * Math.pow(1.5, c - 1)]);
        const ops = opsIn(node);
        expect(ops.has("where") || ops.has("eq"), `x ^ ${c}: a mask in the gradient`).toBe(false);
        // 1: the incoming gradient itself; 2: 2 x, no power
        if (c === 1) expect(ops.has("mul") || ops.has("pow"), "x ^ 1").toBe(false);
        if (c === 2) expect(ops.has("pow"), "x ^ 2").toBe(false);
      }
    }
  });

  it("an exponent computed from a value with a `value` attribute (pad) is not a constant", () => {
    const b = new Builder(new Graph(), undefined);
    const x = b.input("x", "param", [3]);
    const e = b.input("e", "param", [2]);
    const p = b.op("pad", [e], { pad_width: [[1, 0]], value: 2 });
    const [g] = gradients(b, b.sum(b.binary("pow", x, p), [0]), [x]);
    const got = [...evaluate([g!], { values: new Map([["x", [1.5, 2, 3]], ["e", [3, 0.5]]]) }).get(g!)!.data];
    expect(got).toEqual([2 * 1.5, 3 * 2 ** 2, 0.5 * 3 ** -0.5]);
  });

  it("c ^ x: no mask for a nonzero base; 0 ^ x masks where x >= 0 only", () => {
    const two = grad([0, 1, -1], (b, x) => b.binary("pow", b.constant(2), x));
    expect(two.values).toEqual([1, 2, 0.5].map((v) => v * Math.log(2)));
    expect(opsIn(two.node).has("where")).toBe(false);
    const zero = grad([0, 1, 2, -1], (b, x) => b.binary("pow", b.constant(0), x));
    expect(zero.values).toEqual([0, 0, 0, -Infinity]);
    expect(opsIn(zero.node).has("eq"), "0 ^ x compares the base with 0").toBe(false);
  });
});

describe("the gradient-check sampling domains keep away from each op's kinks", () => {
  const avoidOf = (name: string, i = 0) => {
    const gd = (getOp(name) as ElementwiseDef).gradDomain!;
    return (Array.isArray(gd) ? gd[i]! : gd).avoid!;
  };

  it("are intervals at least 1 wide where each op is finite", () => {
    for (const def of elementwiseOps) {
      const gd = def.gradDomain ?? { lo: -2, hi: 2 };
      const domains = Array.isArray(gd) ? gd : Array.from({ length: def.arity }, () => gd);
      expect(domains, def.name).toHaveLength(def.arity);
      domains.forEach((d, i) => expect(d.hi - d.lo >= 1, `${def.name} input ${i}: [${d.lo}, ${d.hi}]`).toBe(true));
      for (const end of ["lo", "hi"] as const) {
        const xs = domains.map((d) => d[end]);
        expect(Number.isFinite(def.scalar(...xs)), `${def.name} at ${xs.join(", ")}`).toBe(true);
      }
    }
  });

  it("floor, ceil, trunc: more than 0.05 from an integer, every element", () => {
    for (const name of ["floor", "ceil", "trunc"]) {
      const ok = avoidOf(name);
      for (const x of [2, -2, 0, 0.05, 2.01, -1.97]) expect(ok([x]), `${name} at ${x}`).toBe(false);
      for (const x of [0.06, 2.3, -1.5, 0.94]) expect(ok([x]), `${name} at ${x}`).toBe(true);
      expect(ok([0.5, 1])).toBe(false);
    }
  });

  it("abs, relu, sign, where's condition: more than 0.05 from zero", () => {
    for (const ok of [avoidOf("abs"), avoidOf("relu"), avoidOf("sign"), avoidOf("where", 0)]) {
      for (const x of [0, 0.05, -0.05, 0.01]) expect(ok([x]), `at ${x}`).toBe(false);
      for (const x of [0.06, -0.5, 2]) expect(ok([x]), `at ${x}`).toBe(true);
      expect(ok([-0.5, 0])).toBe(false);
    }
  });

  it("round: more than 0.05 from a half", () => {
    const ok = avoidOf("round");
    for (const x of [2.5, -0.5, 0.47, 1.53]) expect(ok([x]), `at ${x}`).toBe(false);
    for (const x of [2, 0.3, -1.2, 0.7]) expect(ok([x]), `at ${x}`).toBe(true);
    expect(ok([0.3, 2.5])).toBe(false);
  });

  it("mod: a divisor of at least 0.5, a quotient more than 0.05 from an integer", () => {
    const ok = avoidOf("mod");
    expect(ok([1, 0.4])).toBe(false);
    expect(ok([0.75, 0.5])).toBe(true);
    expect(ok([1, 2])).toBe(true);
    expect(ok([3, 2])).toBe(true);
    expect(ok([4.04, 2])).toBe(false);
    expect(ok([4, -2])).toBe(false);
  });

  it("maximum, minimum: inputs more than 0.05 apart", () => {
    for (const name of ["maximum", "minimum"]) {
      const ok = avoidOf(name);
      expect(ok([1, 1])).toBe(false);
      expect(ok([0.05, 0])).toBe(false);
      expect(ok([1, 1.5])).toBe(true);
      expect(ok([1, -1])).toBe(true);
    }
  });
});

describe("comparisons are marked boolean", () => {
  it("the simplifier knows each gives +0 or 1: never -0, never negative or infinite", () => {
    const b = new Builder(new Graph(), undefined);
    const [x, y] = ["x", "y"].map((n) => b.input(n, "input", [3])) as [Node, Node];
    for (const op of ["lt", "le", "gt", "ge", "eq", "ne"]) {
      const c = b.binary(op, x, y);
      expect(nonNegativeFinite(c), op).toBe(true);
      expect(excludesZero(c, -0), op).toBe(true);
    }
    expect(nonNegativeFinite(b.add(x, y))).toBe(false);
  });
});

describe("cheap elementwise ops are recomputed in a loop's gradient, not saved", () => {
  /** The most ys a loop of the gradient of sum(scan(sin(u(h, x)^2))) has: the forward loop
   *  saving its steps' values for the gradient loop. */
  function savedYs(u: (b: Builder, h: Node, x: Node) => Node): number {
    const b = new Builder(new Graph(), undefined);
    const h = b.input("h", "param", [3]);
    const xs = b.input("xs", "param", [4, 3]);
    const hs = stackedScan(b, h, [xs], (c, [x]) => {
      const v = u(b, c, x!);
      return b.unary("sin", b.mul(v, v));
    });
    const loops = nodesWithBodies(gradients(b, b.sum(hs, [0, 1]), [h, xs])).filter((n) => n.body !== undefined);
    return Math.max(...loops.map((l) => (l.attrs.ys as unknown[]).length));
  }

  it("neg, add, sub, mul, where, comparisons: only the sine's argument's factors are read, and recomputed", () => {
    // exp is not cheap: its value is saved (one more y)
    expect(savedYs((b, h) => b.unary("exp", h))).toBe(4);
    expect(savedYs((b, h) => b.neg(h))).toBe(3);
    for (const op of ["add", "sub", "mul"]) expect(savedYs((b, h, x) => b.binary(op, h, x)), op).toBe(3);
    expect(savedYs((b, h, x) => b.where(b.binary("gt", h, x), h, x)), "where").toBe(3);
    expect(savedYs((b, h, x) => b.mul(b.binary("le", h, x), h)), "le").toBe(3);
  });
});
