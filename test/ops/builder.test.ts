// The graph builder (src/ops/builder.ts), the registry and the elementwise shape rule
// (src/ops/registry.ts, define.ts), at the IR: what each builder call puts in the graph
// (broadcasts inserted by NumPy's rule, identity views dropped, a reshape of a reshape
// merged, sum axes sorted, a cotangent summed back to its input's shape), the spans the
// nodes carry, and the errors of misuse.

import { describe, expect, it } from "vitest";
import { span } from "../../src/diagnostics";
import { evaluate } from "../../src/interpret";
import { Graph, type Node, type Shape } from "../../src/ir";
import { Builder, broadcastShapes, getOp } from "../../src/ops";
import { elementwiseShape } from "../../src/ops/define";
import { registerOps } from "../../src/ops/registry";
import { errorOf } from "../helpers/errors";

const fresh = () => new Builder(new Graph(), undefined);
/** The values of `n` with each input x_i holding 1, 2, 3, ... times 10^i. */
const valueOf = (n: Node, inputs: Node[]) => [...evaluate([n], {
  values: new Map(inputs.map((x, i) => [x.attrs.name as string, Float64Array.from({ length: x.shape.reduce<number>((a, d) => a * (d as number), 1) }, (_, k) => (k + 1) * 10 ** i)])),
}).get(n)!.data];

describe("the builder", () => {
  it("broadcasts the operands of a binary op by NumPy's rule, with explicit broadcast nodes", () => {
    const b = fresh();
    const x = b.input("x", "input", [2, 1]);
    const y = b.input("y", "input", [3]);
    const s = b.add(x, y);
    expect(s.shape).toEqual([2, 3]);
    expect(s.inputs.map((n) => n.op.name)).toEqual(["broadcast", "broadcast"]);
    expect(s.inputs.map((n) => n.attrs.dims)).toEqual([[0, 1], [1]]);
    expect(valueOf(s, [x, y])).toEqual([11, 21, 31, 12, 22, 32]);
    // equal shapes: the operands themselves
    expect(b.mul(x, x).inputs).toEqual([x, x]);
    expect(valueOf(b.sub(s, b.constant(1)), [x, y])).toEqual([10, 20, 30, 11, 21, 31]);
    expect(valueOf(b.div(s, b.constant(2, [2, 3])), [x, y])).toEqual([5.5, 10.5, 15.5, 6, 11, 16]);
    expect(valueOf(b.neg(y), [y])).toEqual([-1, -2, -3]);
  });

  it("broadcasts where's three operands together", () => {
    const b = fresh();
    const c = b.input("c", "input", [2, 1]);
    const x = b.input("x", "input", [3]);
    const y = b.input("y", "input", []);
    const w = b.where(c, x, y);
    expect(w.shape).toEqual([2, 3]);
    expect(w.inputs.map((n) => n.shape)).toEqual([[2, 3], [2, 3], [2, 3]]);
    expect(errorOf(() => b.where(c, x, b.input("z", "input", [4])))).toBe("E0201: cannot broadcast [3] with [4]");
  });

  it("names the first pair of shapes that clash", () => {
    expect(broadcastShapes([[2, 3], [3], [1, 3]], undefined)).toEqual([2, 3]);
    expect(errorOf(() => broadcastShapes([[2, 3], [3], [4]], undefined))).toBe("E0201: cannot broadcast [2, 3] with [4]");
    expect(errorOf(() => broadcastShapes([[3], [2, 3], [5, 1], [2, 1]], undefined))).toBe("E0201: cannot broadcast [2, 3] with [5, 1]");
    expect(errorOf(() => broadcastShapes([[3], [2]], undefined))).toBe("E0201: cannot broadcast [3] with [2]");
    expect(errorOf(() => broadcastShapes([[3], [4], [2, 1]], undefined))).toBe("E0201: cannot broadcast [3] with [4]");
  });

  it("a constant: a scalar node, broadcast to a shape if given", () => {
    const b = fresh();
    const c = b.constant(2.5);
    expect([c.op.name, c.shape, c.attrs.value]).toEqual(["const", [], 2.5]);
    const t = b.constant(2.5, [2, 2]);
    expect([t.op.name, t.shape, t.inputs[0]]).toEqual(["broadcast", [2, 2], c]);
  });

  it("broadcastTo: nothing for the same shape, trailing alignment, given dims, a rank that shrinks", () => {
    const b = fresh();
    const x = b.input("x", "input", [2, 3]);
    expect(b.broadcastTo(x, [2, 3])).toBe(x);
    expect(b.broadcastTo(x, [2, 3], [0, 1])).toBe(x);
    const moved = b.broadcastTo(b.input("v", "input", [2]), [2, 2], [0]);
    expect([moved.op.name, moved.attrs.dims]).toEqual(["broadcast", [0]]);
    const lead = b.broadcastTo(x, [4, 2, 3]);
    expect(lead.attrs.dims).toEqual([1, 2]);
    expect(errorOf(() => b.broadcastTo(x, [3]))).toBe("E0208: cannot broadcast [2, 3] to [3]");
    // the same shape by other dims: not a broadcast (the shape rule refuses it)
    expect(errorOf(() => b.broadcastTo(b.input("s", "input", [2, 2]), [2, 2], [1, 0]))).toBe("E0208: cannot broadcast [2, 2] to [2, 2]");
    expect(errorOf(() => b.broadcastTo(b.input("c", "input", [2, 2, 2]), [2, 2, 2], [0, 2, 1]))).toBe("E0208: cannot broadcast [2, 2, 2] to [2, 2, 2]");
  });

  it("reshape: nothing for the same shape; a reshape of a reshape is one", () => {
    const b = fresh();
    const x = b.input("x", "input", [2, 3]);
    expect(b.reshape(x, [2, 3])).toBe(x);
    const twice = b.reshape(b.reshape(x, [6]), [3, 2]);
    expect([twice.op.name, twice.inputs[0]]).toEqual(["reshape", x]);
    expect(valueOf(twice, [x])).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("transpose by the identity is the tensor; sum over no axes too; sum axes sorted", () => {
    const b = fresh();
    const x = b.input("x", "input", [2, 3, 4]);
    expect(b.transpose(x, [0, 1, 2])).toBe(x);
    expect(b.transpose(x, [0, 2, 1]).shape).toEqual([2, 4, 3]);
    expect(b.sum(x, [])).toBe(x);
    const s = b.sum(x, [2, 0]);
    expect([s.attrs.axes, s.shape]).toEqual([[0, 2], [3]]);
    expect(b.sum(x, [0, 2])).toBe(s);
  });

  it("unbroadcast sums a cotangent over the broadcast axes, back to the shape", () => {
    const b = fresh();
    const g = b.input("g", "input", [2, 3, 4]);
    const cases: [Shape, number[]][] = [
      [[2, 3, 4], []], [[3, 4], [0]], [[4], [0, 1]], [[], [0, 1, 2]], [[3, 1], [0, 2]], [[1, 4], [0, 1]], [[2, 1, 4], [1]], [[1, 1, 1], [0, 1, 2]],
    ];
    for (const [shape, axes] of cases) {
      const u = b.unbroadcast(g, shape);
      expect(u.shape, `to ${shape}`).toEqual(shape);
      const summed = u.op.name === "reshape" ? u.inputs[0]! : u;
      expect(summed === g ? [] : summed.attrs.axes, `to ${shape}`).toEqual(axes);
    }
    // the values: the sum over the copies
    expect(valueOf(b.unbroadcast(g, [3, 1]), [g])).toEqual([1, 5, 9].map((k) => [0, 1, 2, 3].reduce((a, j) => a + k + j + (k + j + 12), 0)));
  });

  it("gives every node its span; at() moves it", () => {
    const source = { file: "t.grad", text: "input x: [2]\ninput y: [2]" };
    const here = span(source, 3, 7);
    const b = new Builder(new Graph(), here);
    expect(b.at(here)).toBe(b);
    const there = b.at(span(source, 10, 12));
    expect([there.span?.start, there.span?.end]).toEqual([10, 12]);
    expect(b.span).toBe(here);
    expect(there.input("x", "input", [2]).span).toBe(there.span);
    expect(b.input("y", "input", [2]).span).toBe(here);
  });
});

describe("the registry", () => {
  it("finds ops by name; an unknown name or a second record under a name is a compiler bug", () => {
    const add = getOp("add");
    expect(add.name).toBe("add");
    expect(errorOf(() => getOp("no_such_op"))).toMatch(/unknown op no_such_op/);
    expect(errorOf(() => registerOps([{ ...add }]))).toMatch(/op add registered twice/);
    expect(getOp("add")).toBe(add);
  });
});

describe("the elementwise shape rule", () => {
  it("takes equal shapes; unequal ones are a compiler bug (the builder broadcasts first)", () => {
    const rule = elementwiseShape("add");
    expect(rule([[2, 3], [2, 3]], {}, undefined)).toEqual([2, 3]);
    expect(rule([["n"], ["n"], ["n"]], {}, undefined)).toEqual(["n"]);
    expect(errorOf(() => rule([[2, 3], [2, 3], [3]], {}, undefined))).toMatch(/add on unequal shapes \[2, 3\], \[2, 3\], \[3\]/);
    expect(errorOf(() => rule([[2, 3], [3, 2]], {}, undefined))).toMatch(/add on unequal shapes/);
  });
});
