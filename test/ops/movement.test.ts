// The movement op records (src/ops/movement.ts) where the other tests do not reach: the
// shape rules at the IR, with the attributes lowering never builds (its own checks come
// first); the emitted kernels and views against a reference written here, with free dims;
// what a slice's gradient is made of; a reshape whose sizes only the dims' values settle.

import { describe, expect, it } from "vitest";
import { gradients } from "../../src/autodiff";
import { GradcError, InternalError } from "../../src/diagnostics";
import { evaluate } from "../../src/interpret";
import { compile } from "../../src/index";
import { dimAdd, Graph, nodesWithBodies, type Attrs, type Node } from "../../src/ir";
import { lowerSource } from "../../src/lower";
import { Builder, inferReshapeDim, stackedScan, unitReshape } from "../../src/ops";
import { printExpression } from "../../src/print/text";
import { expectMatchesInterpreter, model, randomValues } from "../builtins/helpers";
import { kernelOps, planOf } from "../schedule/helpers";

/** The code and message of the error building `op` over inputs of the given shapes, or
 *  "no error" with the result's shape. */
function built(op: string, shapes: (number | string)[][], attrs: Attrs): string {
  const b = new Builder(new Graph(), undefined);
  try {
    const inputs = shapes.map((s, i) => b.input(`x${i}`, "input", s));
    return `no error: [${b.op(op, inputs, attrs).shape.join(", ")}]`;
  } catch (e) {
    if (e instanceof GradcError) return `${e.code}: ${e.message}`;
    if (e instanceof InternalError) return `internal: ${e.message}`;
    throw e;
  }
}

const nMinus3 = dimAdd("n", -3);
const nPlus1 = dimAdd("n", 1);

describe("shape rules at the IR", () => {
  it("broadcast: each input axis to a later output axis of the same size, or from size 1", () => {
    const bc = (x: number[], shape: number[], dims: number[]) => built("broadcast", [x], { shape, dims });
    expect(bc([3], [2, 3], [1])).toBe("no error: [2, 3]");
    expect(bc([2, 1], [2, 4, 3], [0, 2])).toBe("no error: [2, 4, 3]");
    expect(bc([1, 1], [2, 3], [0, 1])).toBe("no error: [2, 3]");
    expect(bc([3], [2, 3], [0, 1])).toMatch(/^E0208: cannot broadcast \[3\] to \[2, 3\]/);
    expect(bc([2, 3], [2, 3], [0])).toMatch(/^E0208: cannot broadcast \[2, 3\] to \[2, 3\]/);
    expect(bc([1], [2, 3], [-1])).toMatch(/^E0208: cannot broadcast \[1\] to \[2, 3\]/);
    expect(bc([1], [2, 3], [2])).toMatch(/^E0208/);
    // the order of the axes is kept: no transposing broadcast, no axis twice
    expect(bc([2, 3], [3, 2], [1, 0])).toMatch(/^E0208/);
    expect(bc([1, 1], [2, 3], [1, 1])).toMatch(/^E0208/);
    expect(bc([2], [3], [0])).toMatch(/^E0208: cannot broadcast \[2\] to \[3\]/);
  });

  it("transpose: a permutation of all the axes", () => {
    const tr = (x: number[], perm: number[]) => built("transpose", [x], { perm });
    expect(tr([2, 3, 4], [2, 0, 1])).toBe("no error: [4, 2, 3]");
    expect(tr([2, 3], [1, 0, 2])).toMatch(/^E0207: \[1, 0, 2\] is not a permutation of the 2 axes/);
    expect(tr([2, 3], [1])).toMatch(/^E0207/);
    expect(tr([2, 3], [1, 1])).toMatch(/^E0207/);
    expect(tr([2, 3, 4], [0, 2, 2])).toMatch(/^E0207/);
  });

  it("slice: every index read in range; a free axis only as a unit-step window", () => {
    const sl = (x: (number | string)[], begin: number[], step: number[], shape: (number | string)[]) =>
      built("slice", [x], { begin, step, shape });
    expect(sl([6], [1], [2], [3])).toBe("no error: [3]");
    expect(sl([6], [5], [-2], [3])).toBe("no error: [3]");
    expect(sl([6], [0], [1], [6])).toBe("no error: [6]");
    expect(sl([6], [1], [2], [4])).toMatch(/^E0210: bad index: cannot take \[4\] from \[6\]/);
    expect(sl([6], [-1], [1], [2])).toMatch(/^E0210/);
    expect(sl([6], [6], [-1], [2])).toMatch(/^E0210/);
    expect(sl([6], [1], [-1], [3])).toMatch(/^E0210/);
    expect(sl([6], [5], [1], [2])).toMatch(/^E0210/);
    // an empty slice reads nothing, wherever it starts
    expect(sl([6], [9], [1], [0])).toBe("no error: [0]");
    // every axis is checked
    expect(sl([6, 2], [0, 2], [1, 1], [6, 1])).toMatch(/^E0210/);
    expect(sl([6, 2], [0, 0], [1, 2], [6, 2])).toMatch(/^E0210/);
    // one entry per axis in each attribute (an empty axis reads none of them)
    expect(sl([6, 2], [0], [1, 1], [6, 2])).toMatch(/^E0210/);
    expect(sl([6, 2], [0], [1, 1], [6, 0])).toMatch(/^E0210/);
    expect(sl([6, 2], [0, 0], [1], [6, 2])).toMatch(/^E0210/);
    expect(sl([6, 2], [0, 0], [1], [6, 0])).toMatch(/^E0210/);
    expect(sl([6, 2], [0, 0], [1, 1], [6])).toMatch(/^E0210/);
    // free dims: the whole axis, or a window a constant distance from both ends
    expect(sl(["n", 2], [0, 0], [1, 1], ["n", 2])).toBe("no error: [n, 2]");
    expect(sl(["n"], [1], [1], [nMinus3])).toBe(`no error: [${nMinus3}]`);
    expect(sl(["n"], [3], [1], [nMinus3])).toBe(`no error: [${nMinus3}]`);
    expect(sl(["n"], [4], [1], [nMinus3])).toMatch(/^E0210: bad index: cannot take \[n - 3\] from \[n\]/);
    expect(sl(["n"], [-1], [1], [nMinus3])).toMatch(/^E0210/);
    expect(sl(["n"], [0], [2], ["n"])).toMatch(/^E0210/);
    expect(sl(["n"], [0], [1], [2])).toMatch(/^E0210/);
    expect(sl(["n"], [0], [1], [0])).toMatch(/^E0210/);
    expect(sl([5], [0], [1], ["n"])).toMatch(/^E0210/);
  });

  it("concat: equal ranks, equal sizes off the axis, known sizes along it", () => {
    expect(built("concat", [[2, 3], [4, 3]], { axis: 0 })).toBe("no error: [6, 3]");
    expect(built("concat", [[2, 3], [2, 1], [2, 2]], { axis: 1 })).toBe("no error: [2, 6]");
    expect(built("concat", [["n", 3], ["n", 1]], { axis: 1 })).toBe("no error: [n, 4]");
    expect(built("concat", [[2, 3], [2, 4]], { axis: 0 })).toBe("E0209: cannot concatenate: [2, 3] and [2, 4] differ outside axis 0");
    expect(built("concat", [[2, 3], [2, 3, 1]], { axis: 0 })).toMatch(/^E0209: cannot concatenate: \[2, 3\] and \[2, 3, 1\] differ/);
    expect(built("concat", [[2, 3, 1], [2, 3]], { axis: 0 })).toMatch(/^E0209: cannot concatenate: \[2, 3, 1\] and \[2, 3\] differ/);
    expect(built("concat", [["n", 3], [2, 3]], { axis: 0 })).toBe("E0209: cannot concatenate: axis 0 has a free dim");
    expect(built("concat", [[2, 3], ["n", 3]], { axis: 0 })).toBe("E0209: cannot concatenate: axis 0 has a free dim");
  });

  it("pad: one pair of widths per axis; flip: increasing axes in range", () => {
    expect(built("pad", [[2, 3]], { pad_width: [[1, 0], [2, 2]], value: 0 })).toBe("no error: [3, 7]");
    expect(built("pad", [["n"]], { pad_width: [[1, 2]], value: 0 })).toBe("no error: [n + 3]");
    expect(built("pad", [[2, 3]], { pad_width: [[1, 0]], value: 0 })).toMatch(/^internal: internal compiler error: pad of \[2, 3\] by 1 pairs/);
    expect(built("flip", [[2, 3]], { axis: [0, 1] })).toBe("no error: [2, 3]");
    expect(built("flip", [[2, 3]], { axis: [1, 0] })).toMatch(/^internal: internal compiler error: flip of \[2, 3\] along \[1, 0\]/);
    expect(built("flip", [[2, 3]], { axis: [1, 1] })).toMatch(/^internal/);
    expect(built("flip", [[2, 3]], { axis: [2] })).toMatch(/^internal/);
    expect(built("flip", [[2, 3]], { axis: [-1] })).toMatch(/^internal/);
  });

  it("reshape: equal sizes, or sizes only the dims' values can compare", () => {
    expect(built("reshape", [[2, 3]], { shape: [3, 2] })).toBe("no error: [3, 2]");
    expect(built("reshape", [[2, 3]], { shape: [4, 2] })).toBe("E0205: cannot reshape [2, 3] to [4, 2]: the sizes differ");
    expect(built("reshape", [["n", 2]], { shape: ["n", 3] })).toMatch(/^E0205/);
    expect(built("reshape", [[nPlus1]], { shape: [4] })).toBe("no error: [4]");
    expect(built("reshape", [[4]], { shape: [nPlus1] })).toBe(`no error: [${nPlus1}]`);
    expect(built("reshape", [["n"]], { shape: [4] })).toMatch(/^E0205/);
  });
});

// a[i, j] = 3 i + j + 1, for a: [n, 3]
const at = (i: number, j: number) => 3 * i + j + 1;
const grid = (rows: number, cols: number, f: (i: number, j: number) => number) =>
  Array.from({ length: rows * cols }, (_, k) => f(Math.floor(k / cols), k % cols));

describe("emitted views and kernels over a free dim", () => {
  const src = `dim n
input a: [n, 3]
f0 = flip(a, 0)
f1 = flip(a)
p = pad(a, [[1, 2], [0, 1]], value = 7)
s = pad(a, [[1, 2], [0, 0]])[2:-1, ::-2]
c = concat([a, a * 2], axis = 1)
r = reshape(transpose(a), [3 * n])
u = reshape(transpose(a), [3, 1, n])
e = broadcast_to(reshape(a[:, 1], [n, 1]), [2, n, 4])
output f0, f1, p, s, c, r, u, e`;

  it("flip, pad, a window with a negative step, concat, reshapes of a transpose, broadcast", () => {
    const compiled = model(src);
    for (const n of [2, 3, 5]) {
      const a = Float64Array.from(grid(n, 3, at));
      const out = compiled.forward({ a });
      const got = (k: string) => [...(out[k] as Float64Array)];
      expect(got("f0"), `flip axis 0, n = ${n}`).toEqual(grid(n, 3, (i, j) => at(n - 1 - i, j)));
      expect(got("f1"), `flip both, n = ${n}`).toEqual(grid(n, 3, (i, j) => at(n - 1 - i, 2 - j)));
      expect(got("p"), `pad, n = ${n}`).toEqual(grid(n + 3, 4, (i, j) => (i >= 1 && i <= n && j < 3 ? at(i - 1, j) : 7)));
      expect(got("s"), `a window with a negative step, n = ${n}`).toEqual(grid(n, 2, (i, j) => (i < n - 1 ? at(i + 1, 2 - 2 * j) : 0)));
      expect(got("c"), `concat, n = ${n}`).toEqual(grid(n, 6, (i, j) => (j < 3 ? at(i, j) : 2 * at(i, j - 3))));
      const transposed = grid(3, n, (j, i) => at(i, j));
      expect(got("r"), `reshape of a transpose, n = ${n}`).toEqual(transposed);
      expect(got("u"), `unit axis into a transpose, n = ${n}`).toEqual(transposed);
      expect(got("e"), `broadcast, n = ${n}`).toEqual([0, 1].flatMap(() => grid(n, 4, (i) => at(i, 1))));
      expectMatchesInterpreter(src, { a }, { n });
    }
  });

  it("gradients through each of them, against the interpreter", () => {
    const grads = `dim n
param w: [3]
input a: [n, 3]
v = a * w
minimize sum(flip(v, 0) * a) + sum(pad(v, [[1, 2], [0, 1]], value = 7) ^ 2) + sum(pad(v, [[1, 2], [0, 0]])[2:-1, ::-2] ^ 3) + sum(concat([v, v * v], axis = 1)) + sum(reshape(transpose(v), [3 * n]) * reshape(a, [3 * n]))`;
    for (const n of [2, 4]) expectMatchesInterpreter(grads, randomValues(grads, n, { n }), { n });
  });
});

describe("a reshape whose sizes the dims' values settle", () => {
  it("is checked when the interpreter runs it", () => {
    const b = new Builder(new Graph(), undefined);
    const x = b.input("x", "input", ["n"]);
    const r = b.reshape(b.op("pad", [x], { pad_width: [[0, 1]], value: 0 }), [4]);
    const run = (n: number) => evaluate([r], { dims: new Map([["n", n]]), values: new Map([["x", Float64Array.from({ length: n }, (_, i) => i + 1)]]) });
    expect([...run(3).get(r)!.data]).toEqual([1, 2, 3, 0]);
    expect(() => run(4)).toThrow(/cannot reshape \[5\] to \[4\]: the sizes differ/);
    const code = (() => { try { run(2); } catch (e) { return e instanceof GradcError ? e.code : String(e); } return "no error"; })();
    expect(code).toBe("E0205");
  });
});

describe("a slice's gradient", () => {
  /** The ops of the gradient of sum(slice(x) * r) with respect to x: [5, 6]. */
  function gradientOps(begin: number[], step: number[], shape: number[]): { ops: string[]; value: number[] } {
    const b = new Builder(new Graph(), undefined);
    const x = b.input("x", "input", [5, 6]);
    const s = b.op("slice", [x], { begin, step, shape });
    const r = b.op("iota", [], { shape, axis: 1 });
    const [g] = gradients(b, b.sum(b.mul(s, b.add(r, b.constant(1))), [0, 1]), [x]);
    const ops = nodesWithBodies([g!]).map((n) => n.op.name).filter((o) => o !== "input");
    const value = [...evaluate([g!], { values: new Map([["x", new Float64Array(30)]]) }).get(g!)!.data];
    return { ops: [...new Set(ops)].sort(), value };
  }
  /** The gradient by the definition: 1 + the column of the slice at each element it reads. */
  function expected(begin: number[], step: number[], shape: number[]): number[] {
    const out = new Array<number>(30).fill(0);
    for (let i = 0; i < shape[0]!; i++) {
      for (let j = 0; j < shape[1]!; j++) out[(begin[0]! + i * step[0]!) * 6 + begin[1]! + j * step[1]!]! += j + 1;
    }
    return out;
  }

  it("flips only axes with more than one element read backwards, spaces only those with a step", () => {
    const cases: [number[], number[], number[], string[]][] = [
      // one element read along a backward or strided axis: only the pad
      [[3, 1], [-2, 3], [1, 1], ["pad"]],
      [[4, 0], [-1, 1], [1, 6], ["pad"]],
      [[4, 5], [-1, -2], [2, 1], ["flip", "pad"]],
      [[0, 1], [2, 1], [3, 5], ["pad", "reshape", "slice"]],
      [[4, 0], [-2, 1], [3, 6], ["flip", "pad", "reshape", "slice"]],
      // the whole tensor: nothing to pad
      [[0, 0], [1, 1], [5, 6], []],
      // nothing read: all zeros
      [[0, 0], [1, 1], [0, 6], ["pad"]],
      [[0, 4], [1, 1], [5, 0], ["pad"]],
    ];
    for (const [begin, step, shape, ops] of cases) {
      const got = gradientOps(begin, step, shape);
      expect(got.value, `begin ${begin} step ${step} shape ${shape}`).toEqual(expected(begin, step, shape));
      expect(got.ops.filter((o) => ["flip", "pad", "reshape", "slice"].includes(o)), `begin ${begin} step ${step} shape ${shape}`).toEqual(ops);
    }
  });
});

describe("reshape targets", () => {
  it("a reshape that only inserts or removes unit axes re-indexes (the others read a contiguous input)", () => {
    expect(unitReshape([2, 1, 3], [2, 3])).toBe(true);
    expect(unitReshape([2, 3], [1, 2, 3, 1])).toBe(true);
    expect(unitReshape([1, 2, 3], [2, 1, 3])).toBe(true);
    expect(unitReshape([1], [])).toBe(true);
    expect(unitReshape([2, 3], [3, 2])).toBe(false);
    expect(unitReshape([6], [2, 3])).toBe(false);
    expect(unitReshape([2, 3], [6])).toBe(false);
    expect(unitReshape([2, 3], [2, 3, 2])).toBe(false);
  });

  it("the size of a -1 entry: the exact quotient, else the floor division of free sizes", () => {
    expect(inferReshapeDim(["b", 5, 5], [5])).toBe("b * 5");
    expect(inferReshapeDim([6, 4], [3])).toBe(8);
    expect(inferReshapeDim([nPlus1], [2])).toBe("(n + 1) // 2");
    expect(inferReshapeDim(["n"], [2])).toBe("n // 2");
    // no answer: known sizes that do not divide, a free size in the rest, a zero
    expect(inferReshapeDim([5], [2])).toBe(undefined);
    expect(inferReshapeDim(["n"], ["m"])).toBe(undefined);
    expect(inferReshapeDim(["n"], [0])).toBe(undefined);
  });
});

describe("printed movement ops", () => {
  it("print as the built-ins that lower to the same values", () => {
    const b = new Builder(new Graph(), undefined);
    const x = b.input("x", "input", [2, 3]);
    const y = b.input("y", "input", [2, 1]);
    const values = new Map([["x", [1, -2, 3, 4, 5, -6]], ["y", [7, 8]]]);
    const cases = [
      [b.op("pad", [x], { pad_width: [[1, 0], [0, 2]], value: 0 }), "pad(x, [[1, 0], [0, 2]])"],
      [b.op("pad", [x], { pad_width: [[0, 1], [1, 0]], value: 1.5 }), "pad(x, [[0, 1], [1, 0]], value = 1.5)"],
      [b.op("flip", [x], { axis: [1] }), "flip(x, axis = [1])"],
      [b.op("concat", [x, y, x], { axis: 1 }), "concat([x, y, x], axis = 1)"],
    ] as const;
    for (const [node, text] of cases) {
      expect(printExpression(node)).toBe(text);
      const z = lowerSource(`input x: [2, 3]\ninput y: [2, 1]\nz = ${text}\noutput z`, { filename: "print.grad" }).outputs[0]!.node;
      expect([...evaluate([z], { values }).get(z)!.data], text).toEqual([...evaluate([node], { values }).get(node)!.data]);
    }
  });
});

describe("pad and concat as kernels", () => {
  it("compute their elementwise inputs in their own loops", () => {
    const src = "input a: [4, 3]\np = pad(sin(a), [[1, 0], [0, 2]], value = 2)\nc = concat([a * 2, cos(a)], axis = 1)\noutput p, c";
    expect(kernelOps(planOf(src).plan)).toEqual(["pad", "concat"]);
    expectMatchesInterpreter(src, { a: Float64Array.from({ length: 12 }, (_, i) => i / 3 - 2) });
  });

  it("and every movement op, on the wasm target", () => {
    const src = `input a: [4, 3]
p = pad(sin(a), [[1, 0], [0, 2]], value = 2)
c = concat([a * 2, cos(a)], axis = 1)
f = flip(reshape(transpose(a), [2, 6]), 1)[:, ::2]
e = broadcast_to(reshape(a, [4, 1, 3]), [4, 2, 3])
output p, c, f, e`;
    const out = compile(src, { target: "wasm" }).forward({ a: Float32Array.from({ length: 12 }, (_, i) => i) });
    expect([...(out.f as Float32Array)]).toEqual([4, 9, 3, 11, 5, 10]);
    expect((out.p as Float32Array).length).toBe(25);
    expect([...(out.c as Float32Array)].slice(0, 4)).toEqual([0, 2, 4, 1]);
    expect([...(out.e as Float32Array)].slice(0, 6)).toEqual([0, 1, 2, 0, 1, 2]);
  });
});

describe("views are recomputed in a loop's gradient, not saved", () => {
  /** The most ys a loop of the gradient of sum(scan(sin(u(h)^2))) has (as in
   *  test/ops/elementwise.test.ts: 3 when u is recomputed, 4 when its value is saved). */
  function savedYs(u: (b: Builder, h: Node) => Node): number {
    const b = new Builder(new Graph(), undefined);
    const h = b.input("h", "param", [3]);
    const xs = b.input("xs", "param", [4, 3]);
    const hs = stackedScan(b, h, [xs], (c, [x]) => {
      const v = b.mul(u(b, c), x!);
      return b.unary("sin", b.mul(v, v));
    });
    const loops = nodesWithBodies(gradients(b, b.sum(hs, [0, 1]), [h, xs])).filter((n) => n.body !== undefined);
    return Math.max(...loops.map((l) => (l.attrs.ys as unknown[]).length));
  }

  it("flip, a backward slice, reshapes and a transpose", () => {
    expect(savedYs((b, h) => b.unary("exp", h)), "exp (saved)").toBe(4);
    expect(savedYs((b, h) => b.op("flip", [h], { axis: [0] })), "flip").toBe(3);
    expect(savedYs((b, h) => b.op("slice", [h], { begin: [2], step: [-1], shape: [3] })), "slice").toBe(3);
    expect(savedYs((b, h) => b.reshape(b.transpose(b.reshape(h, [1, 3]), [1, 0]), [3])), "reshape, transpose").toBe(3);
  });
});
