// The reverse-mode driver (src/autodiff/reverse.ts) on graphs built directly: what it
// refuses, what it builds (nothing for terms that do not depend on `wrt`), the names it
// gives gradients, how it sums masked cotangents, and the NaN-safety of `where` when a
// node's cotangents come through several masks. Values are checked with the interpreter
// against hand-derived gradients.

import { describe, expect, it } from "vitest";
import "../../src/ops";
import { gradients } from "../../src/autodiff";
import { GradcError, span } from "../../src/diagnostics";
import { evaluate } from "../../src/interpret";
import { Graph, topoSort, type Node, type OpDef, type Shape } from "../../src/ir";
import { Builder } from "../../src/ops";
import { elementwiseShape } from "../../src/ops/define";

const points = [-4, -1, -0, 0.5, 1, 1.5, 2.5, 3.5, 5];

function fresh(shape: Shape = [points.length]) {
  const graph = new Graph();
  const b = new Builder(graph, undefined);
  return { graph, b, x: b.input("x", "param", shape), w: b.input("w", "param", shape), k: b.input("k", "input", shape) };
}

/** The values of `nodes` at x = points (w = k = 1.5 everywhere). */
function values(nodes: readonly Node[]): number[][] {
  const n = points.length;
  const env = new Map<string, number[]>([["x", points], ["w", Array(n).fill(1.5)], ["k", Array(n).fill(1.5)]]);
  const r = evaluate(nodes, { values: env });
  return nodes.map((node) => Array.from(r.get(node)!.data));
}

function expectGradient(actual: Node, expected: (x: number) => number, what: string): void {
  const [got] = values([actual]);
  points.forEach((x, i) => {
    const e = expected(x);
    expect(Math.abs(got![i]! - e) <= 1e-12 * Math.max(1, Math.abs(e)), `${what} at x = ${x}: ${got![i]} (expected ${e})`).toBe(true);
  });
}

const gt = (b: Builder, a: Node, c: number) => b.binary("gt", a, b.constant(c, a.shape));
const lt = (b: Builder, a: Node, c: number) => b.binary("lt", a, b.constant(c, a.shape));
const zeros = (b: Builder, n: Node) => b.constant(0, n.shape);
const total = (b: Builder, n: Node) => b.sum(n, [0]);

describe("gradients refuses", () => {
  it("a non-scalar objective (E0219, at the objective's span)", () => {
    const source = { file: "t.grad", text: "y = x * 2\n" };
    const { b, x } = fresh();
    const y = b.at(span(source, 4, 9)).mul(x, b.constant(2, x.shape));
    let error: unknown;
    try { gradients(b, y, [x]); } catch (e) { error = e; }
    expect(error).toBeInstanceOf(GradcError);
    const g = error as GradcError;
    expect([g.code, g.line, g.column]).toEqual(["E0219", 1, 5]);
    expect(g.message).toContain("[9]");
  });

  it("an op with inputs and no derivative rule (an internal error naming the op and the node)", () => {
    const { graph, b, x } = fresh();
    const opaque: OpDef = { name: "opaque_test_op", kind: "elementwise", arity: 1, shape: elementwiseShape("opaque_test_op") };
    const y = total(b, graph.apply(opaque, [x], {}, undefined));
    expect(() => gradients(b, y, [x])).toThrow(/op opaque_test_op has inputs but no derivative rule\n[^]*= opaque_test_op %0/);
  });
});

describe("gradients builds only what depends on wrt", () => {
  it("d/dw of sum(w * k) is k, with an input beside the param", () => {
    const { b, w, k, x } = fresh();
    const [dw, dx] = gradients(b, total(b, b.mul(w, k)), [w, x]);
    expectGradient(dw!, () => 1.5, "d/dw");
    expectGradient(dx!, () => 0, "d/dx (x not used)");
  });

  it("a term that does not depend on wrt adds no node", () => {
    const built = (withTerm: boolean) => {
      const { graph, b, w, k } = fresh();
      const main = total(b, b.mul(w, k));
      const y = withTerm ? b.add(main, total(b, b.unary("exp", b.unary("sin", k)))) : main;
      const before = graph.size;
      const [dw] = gradients(b, y, [w]);
      expectGradient(dw!, () => 1.5, "d/dw");
      return graph.size - before;
    };
    expect(built(true)).toBe(built(false));
  });

  it("a gradient with respect to an intermediate builds nothing beneath it", () => {
    const built = (intermediate: boolean) => {
      const { graph, b, x, w } = fresh();
      const h = intermediate ? b.unary("exp", b.unary("sin", x)) : w;
      const y = total(b, b.mul(h, h));
      const before = graph.size;
      const [dh] = gradients(b, y, [h]);
      const [hv, dhv] = values([h, dh!]);
      hv!.forEach((v, i) => expect(dhv![i]).toBeCloseTo(2 * v, 12));
      return graph.size - before;
    };
    expect(built(true)).toBe(built(false));
  });
});

describe("gradient names", () => {
  /** loss = sum(k2 * k2), k2 = h + 1 (named "k2"), h = exp(x) (named "h"), r = transpose... */
  function named() {
    const { b, x } = fresh();
    const h = b.unary("exp", x);
    h.name = "h";
    const k2 = b.add(h, b.constant(1, h.shape));
    k2.name = "k2";
    const loss = b.add(total(b, b.mul(k2, k2)), total(b, b.mul(x, x)));
    loss.name = "loss";
    const [dx] = gradients(b, loss, [x]);
    return { x, h, k2, dx: dx!, nodes: topoSort([dx!]) };
  }

  it("the gradient of a named node is named d_<name> and holds d loss / d node", () => {
    const { nodes } = named();
    const dk2 = nodes.find((n) => n.name === "d_k2");
    expect(dk2, "a node named d_k2").toBeDefined();
    expectGradient(dk2!, (x) => 2 * (Math.exp(x) + 1), "d_k2");
  });

  it("a gradient shared by several nodes keeps the first name (h + 1 passes d_k2 to h unchanged)", () => {
    const { nodes } = named();
    expect(nodes.some((n) => n.name === "d_h")).toBe(false);
  });

  it("only computed gradients of named nodes are named: never a constant, a view, or an unnamed node's", () => {
    const { nodes } = named();
    for (const n of nodes) {
      if (n.name === undefined) continue;
      expect(n.name, `${n.op.name} node`).toMatch(/^(x|h|k2|d_k2)$/);
    }
    // the objective's gradient is the constant 1, and sum's rule gives a view (broadcast)
    const { b, x } = fresh();
    const s = b.mul(x, x);
    s.name = "s";
    const loss = total(b, s);
    loss.name = "loss";
    const all = topoSort(gradients(b, loss, [x]));
    for (const n of all) {
      if (n.op.kind === "source" || n.op.kind === "view") expect(n.name === undefined || !n.name.startsWith("d_"), `${n.op.name} named ${n.name}`).toBe(true);
    }
  });
});

describe("summing masked cotangents", () => {
  it("masked parts under one condition are summed inside one select, with the right values", () => {
    const { b, x } = fresh();
    const c = gt(b, x, 1);
    // where(c, x, 1) sends where(c, g, 0) to x, where(c, 2, x) sends where(c, 0, g): d/dx = 1
    const y = total(b, b.add(b.where(c, x, b.constant(1, x.shape)), b.mul(b.where(c, b.constant(2, x.shape), x), b.constant(3, x.shape))));
    const [dx] = gradients(b, y, [x]);
    expect(dx!.op.name).toBe("where");
    expectGradient(dx!, (v) => (v > 1 ? 1 : 3), "d/dx");
  });

  it("parts under different conditions, or unmasked parts, are added as they are", () => {
    for (const order of [0, 1, 2]) {
      const { b, x } = fresh();
      const s = b.unary("sin", x);
      const terms = [b.where(gt(b, x, 0), s, zeros(b, s)), b.where(lt(b, x, 2), zeros(b, s), s), b.mul(s, b.constant(3, s.shape))];
      const rotated = [...terms.slice(order), ...terms.slice(0, order)];
      const y = total(b, rotated.reduce((a, t) => b.add(a, t)));
      const [dx] = gradients(b, y, [x]);
      expectGradient(dx!, (v) => Math.cos(v) * ((v > 0 ? 1 : 0) + (v < 2 ? 0 : 1) + 3), `order ${order}: d/dx`);
      // the same with only masked parts, under two conditions
      const { b: b2, x: x2 } = fresh();
      const s2 = b2.unary("sin", x2);
      const y2 = total(b2, b2.add(b2.where(gt(b2, x2, 0), s2, zeros(b2, s2)), b2.where(lt(b2, x2, 2), zeros(b2, s2), s2)));
      expectGradient(gradients(b2, y2, [x2])[0]!, (v) => Math.cos(v) * ((v > 0 ? 1 : 0) + (v < 2 ? 0 : 1)), "masked only: d/dx");
    }
  });
});

describe("NaN-safe masks through several wheres", () => {
  const sqrt = (b: Builder, x: Node) => b.unary("sqrt", x);
  const dsqrt = (v: number) => 0.5 / Math.sqrt(v);

  it("two masks on one node: neither branch leaks the NaN of sqrt at x < 0", () => {
    const { b, x } = fresh();
    const s = sqrt(b, x);
    // at x < 0 neither where selects s
    const y = total(b, b.add(b.where(gt(b, x, 1), s, zeros(b, s)), b.where(lt(b, x, 2), zeros(b, s), s)));
    const [dx] = gradients(b, y, [x]);
    expectGradient(dx!, (v) => (v > 1 ? dsqrt(v) : 0) + (v < 2 ? 0 : dsqrt(v)), "d/dx");
  });

  it("one condition, two contributions with the same mask", () => {
    const { b, x } = fresh();
    const s = sqrt(b, x);
    const c = gt(b, x, 0);
    const y = total(b, b.add(b.where(c, s, b.constant(1, s.shape)), b.where(c, s, b.constant(2, s.shape))));
    expectGradient(gradients(b, y, [x])[0]!, (v) => (v > 0 ? 2 * dsqrt(v) : 0), "d/dx");
  });

  it("a mask all contributions share, and masks of their own", () => {
    const { b, x } = fresh();
    const s = sqrt(b, x);
    const a = b.where(gt(b, x, 2), s, b.constant(1, s.shape));
    const c = b.where(lt(b, x, 3), b.constant(3, s.shape), s);
    const y = total(b, b.where(gt(b, x, 0), b.add(a, c), b.constant(5, s.shape)));
    const [dx] = gradients(b, y, [x]);
    expectGradient(dx!, (v) => (v > 0 ? ((v > 2 ? 1 : 0) + (v < 3 ? 0 : 1)) * dsqrt(v) : 0), "d/dx");
  });

  it("up to four mask groups on one node stay NaN-safe", () => {
    for (const groups of [2, 3, 4]) {
      const { b, x } = fresh();
      const s = sqrt(b, x);
      const cuts = [1, 2, 3, 4].slice(0, groups);
      const y = total(b, cuts.map((c) => b.where(gt(b, x, c), s, zeros(b, s))).reduce((p, q) => b.add(p, q)));
      const [dx] = gradients(b, y, [x]);
      expectGradient(dx!, (v) => cuts.filter((c) => v > c).length * (v > 1 ? dsqrt(v) : 0), `${groups} groups: d/dx`);
    }
  });

  it("past four mask groups the rule runs once, on the masked sum, with the right values where the branch is finite", () => {
    const { b, x } = fresh();
    const s = b.unary("sin", x);
    const cuts = [-2, 0, 1, 2, 3, 4];
    const y = total(b, cuts.map((c) => b.where(gt(b, x, c), s, zeros(b, s))).reduce((p, q) => b.add(p, q)));
    const [dx] = gradients(b, y, [x]);
    expectGradient(dx!, (v) => cuts.filter((c) => v > c).length * Math.cos(v), "d/dx");
    const cosUses = topoSort([dx!]).filter((n) => n.op.name === "mul" && n.inputs.some((i) => i.op.name === "cos"));
    expect(cosUses.length, "sin's rule applied once").toBe(1);
  });

  it("masks that every contribution carries, in either order, run the rule once", () => {
    const { b, x } = fresh();
    const s = b.unary("sin", x);
    const p = gt(b, x, 0);
    const q = lt(b, x, 3);
    const y = total(b, b.add(
      b.where(p, b.where(q, s, zeros(b, s)), zeros(b, s)),
      b.mul(b.where(q, b.where(p, s, zeros(b, s)), zeros(b, s)), b.constant(2, s.shape)),
    ));
    const [dx] = gradients(b, y, [x]);
    expectGradient(dx!, (v) => (v > 0 && v < 3 ? 3 * Math.cos(v) : 0), "d/dx");
    const cosUses = topoSort([dx!]).filter((n) => n.op.name === "mul" && n.inputs.some((i) => i.op.name === "cos"));
    expect(cosUses.length, "sin's rule applied once").toBe(1);
  });
});
