// The simplify driver (src/simplify/fixpoint.ts) with rules of the test's own, put first in
// the table for one test: a rewrite is taken only when it adds no more nodes than it frees
// (counting what stays in use), never when the replacement contains the node it replaces
// or brings in more than 64 nodes; a rule that changes a shape is an internal error; names
// move to the replacement but never onto a source or a view.

import { afterEach, describe, expect, it } from "vitest";
import "../../src/ops";
import { evaluate } from "../../src/interpret";
import { Graph, topoSort, type Node } from "../../src/ir";
import { lowerSource } from "../../src/lower";
import { Builder } from "../../src/ops";
import { rules, simplify, type Rule } from "../../src/simplify";

const table = rules as Rule[];
let added = 0;

/** `rule` first in the table until the test ends. */
function withRule(name: string, match: Rule["match"]): void {
  table.unshift({ name, identity: "test -> test", match });
  added++;
}

afterEach(() => {
  table.splice(0, added);
  added = 0;
});

function fresh() {
  const graph = new Graph();
  const b = new Builder(graph, undefined);
  return { graph, b, x: b.input("x", "input", [3]), y: b.input("y", "input", [3]) };
}

const ops = (roots: readonly Node[]) => topoSort(roots).map((n) => n.op.name);

describe("the driver takes a rewrite only when it pays for itself", () => {
  it("one node for one node is taken", () => {
    const { graph, b, x } = fresh();
    withRule("swap", (n, bb) => (n.op.name === "exp" ? bb.unary("sin", n.inputs[0]!) : undefined));
    const fired: string[] = [];
    const [after] = simplify(graph, [b.unary("exp", x)], { onRewrite: (r) => fired.push(r) });
    expect(ops([after!])).toEqual(["input", "sin"]);
    expect(fired).toEqual(["swap"]);
  });

  it("two nodes for one is refused", () => {
    const { graph, b, x } = fresh();
    withRule("grow", (n, bb) => (n.op.name === "exp" ? bb.unary("sin", bb.unary("cos", n.inputs[0]!)) : undefined));
    const root = b.unary("exp", x);
    const fired: string[] = [];
    const [after] = simplify(graph, [root], { onRewrite: (r) => fired.push(r) });
    expect(after).toBe(root);
    expect(fired).toEqual([]);
  });

  it("counts the inputs a rewrite frees, unless they stay in use", () => {
    withRule("fold-chain", (n, bb) => (n.op.name === "exp" && n.inputs[0]!.op.name === "cos" ? bb.unary("sin", bb.unary("tanh", n.inputs[0]!.inputs[0]!)) : undefined));
    {
      const { graph, b, x } = fresh();
      const [after] = simplify(graph, [b.unary("exp", b.unary("cos", x))]);
      expect(ops([after!])).toEqual(["input", "tanh", "sin"]);
    }
    {
      const { graph, b, x } = fresh();
      const cos = b.unary("cos", x);
      const roots = [b.unary("exp", cos), cos];
      const after = simplify(graph, roots);
      after.forEach((n, k) => expect(n).toBe(roots[k]));
    }
    {
      // used twice inside the graph: still in use after one user is replaced
      const { graph, b, x } = fresh();
      const cos = b.unary("cos", x);
      const root = b.add(b.unary("exp", cos), b.unary("abs", cos));
      const [after] = simplify(graph, [root]);
      expect(after).toBe(root);
    }
  });

  it("never takes a replacement that contains the node it replaces", () => {
    const { graph, b, x, y } = fresh();
    withRule("wrap", (n, bb) => (n.op.name === "exp" ? bb.add(n, y) : undefined));
    const root = b.unary("exp", x);
    const [after] = simplify(graph, [root]);
    expect(after).toBe(root);
    // also when another rewrite in the same pass shrinks the graph
    const [shrunk] = simplify(graph, [b.mul(root, b.constant(1, [3]))]);
    expect(shrunk).toBe(root);
  });

  it("a node rebuilt on simplified inputs keeps its users: a rewrite above it that would free it is refused", () => {
    withRule("fold-chain", (n, bb) => (n.op.name === "exp" && n.inputs[0]!.op.name === "cos" ? bb.unary("sin", bb.unary("tanh", n.inputs[0]!.inputs[0]!)) : undefined));
    const { graph, b, x } = fresh();
    // cos(x * 1) is rebuilt as cos(x), still read by exp and abs
    const cos = b.unary("cos", b.mul(x, b.constant(1, [3])));
    const [after] = simplify(graph, [b.add(b.unary("exp", cos), b.unary("abs", cos))]);
    expect(ops([after!]).sort()).toEqual(["abs", "add", "cos", "exp", "input"]);
  });

  it("a rule set that cycles is cut off", () => {
    const { graph, b, x } = fresh();
    // three ops round the cycle: each pass of 16 rewrites per node ends somewhere else
    const other: Record<string, string> = { exp: "sin", sin: "cos", cos: "exp" };
    withRule("cycle", (n, bb) => (other[n.op.name] ? bb.unary(other[n.op.name]!, n.inputs[0]!) : undefined));
    const [after] = simplify(graph, [b.unary("exp", x)]);
    expect(["exp", "sin", "cos"]).toContain(after!.op.name);
  });

  it("a node rebuilt into one that already has a name keeps that name", () => {
    const { graph, b, x } = fresh();
    const a = b.unary("exp", x);
    a.name = "a";
    const c = b.unary("exp", b.mul(x, b.constant(1, [3])));
    c.name = "c";
    const [ra, rc] = simplify(graph, [a, c]);
    expect(rc).toBe(a);
    expect(ra!.name).toBe("a");
    // and a rewrite onto a named node leaves its name
    const h = b.unary("sin", x);
    h.name = "h";
    const [rh] = simplify(graph, [b.mul(h, b.constant(1, [3]))]);
    expect(rh).toBe(h);
    expect(h.name).toBe("h");
    // even when the node rewritten had a name of its own
    const named = b.mul(h, b.constant(1, [3]));
    named.name = "m";
    expect(simplify(graph, [named])[0]).toBe(h);
    expect(h.name).toBe("h");
  });

  it("never brings in more than 64 nodes at once, even when it frees more", () => {
    for (const [size, taken] of [[64, true], [65, false]] as const) {
      const { graph, b, x } = fresh();
      let chain = x;
      for (let i = 0; i < size + 8; i++) chain = b.unary("exp", chain);
      const target = chain;
      withRule(`long-${size}`, (n, bb) => {
        if (n !== target) return undefined;
        let v = x;
        for (let i = 0; i < size; i++) v = bb.unary("sin", v);
        return v;
      });
      const [after] = simplify(graph, [target]);
      expect(after!.op.name, `a ${size}-node replacement`).toBe(taken ? "sin" : "exp");
      table.splice(0, added);
      added = 0;
    }
  });

  it("a rule that changes a shape is an internal error naming the rule", () => {
    const { graph, b, x } = fresh();
    withRule("shrink", (n, bb) => (n.op.name === "exp" ? bb.sum(n.inputs[0]!, [0]) : undefined));
    expect(() => simplify(graph, [b.unary("exp", x)])).toThrow(/simplify rule shrink changed a shape\n\[3\] -> \[\]/);
  });

  it("moves a name to a computed replacement, never onto a view", () => {
    const { graph, b, x } = fresh();
    withRule("to-view", (n, bb) => (n.op.name === "exp" && n.inputs[0]!.op.name === "cos" ? bb.broadcastTo(bb.sum(n.inputs[0]!.inputs[0]!, [0]), [3]) : undefined));
    const root = b.unary("exp", b.unary("cos", x));
    root.name = "e";
    const [after] = simplify(graph, [root]);
    expect(after!.op.name).toBe("broadcast");
    expect(after!.name).toBeUndefined();
    expect(after!.inputs[0]!.name).toBeUndefined();
    // and onto a computed one
    withRule("to-sum", (n, bb) => (n.op.name === "tanh" && n.inputs[0]!.op.name === "cos" ? bb.unary("sin", bb.unary("abs", n.inputs[0]!.inputs[0]!)) : undefined));
    const t = b.unary("tanh", b.unary("cos", x));
    t.name = "t";
    const [moved] = simplify(graph, [t]);
    expect(moved!.op.name).toBe("sin");
    expect(moved!.name).toBe("t");
  });

  it("keeps applying rules at a node until none applies, then stops", () => {
    const { graph, b, x } = fresh();
    // exp -> sin -> cos -> tanh, one step per rewrite
    const next: Record<string, string> = { exp: "sin", sin: "cos", cos: "tanh" };
    withRule("step", (n, bb) => (next[n.op.name] ? bb.unary(next[n.op.name]!, n.inputs[0]!) : undefined));
    const fired: string[] = [];
    const [after] = simplify(graph, [b.unary("exp", x)], { onRewrite: (r) => fired.push(r) });
    expect(ops([after!])).toEqual(["input", "tanh"]);
    expect(fired).toEqual(["step", "step", "step"]);
  });
});

describe("a loop's body is simplified as a graph of its own", () => {
  it("the body shrinks, the loop computes the same values", () => {
    const source = `input xs: [3, 2, 3]
input h0: [2, 4]
param wz: [3, 4]
param uz: [4, 4]
fn cell(h, x) = tanh(--(x @ wz) * 1 + h @ uz)
hs = scan(cell, h0, xs)
output hs`;
    const p = lowerSource(source);
    const hs = p.outputs[0]!.node;
    const loopOf = (n: Node) => topoSort([n]).find((m) => m.body !== undefined)!;
    const bodySize = (n: Node) => topoSort(loopOf(n).body!.results).length;
    const [after] = simplify(p.graph, [hs]);
    expect(bodySize(after!)).toBeLessThan(bodySize(hs));
    expect(loopOf(after!).body!.args).toBe(loopOf(hs).body!.args);
    const r = (k: number) => Array.from({ length: k }, (_, i) => Math.sin(i + 1));
    const values = new Map([["xs", r(18)], ["h0", r(8)], ["wz", r(12)], ["uz", r(16)]]);
    const want = evaluate([hs], { values }).get(hs)!.data;
    const got = evaluate([after!], { values }).get(after!)!.data;
    expect(Array.from(got)).toEqual(Array.from(want));
    // a body with nothing to simplify leaves the loop as it is
    const plain = lowerSource(source.replace("--(x @ wz) * 1", "x @ wz"));
    const node = plain.outputs[0]!.node;
    expect(simplify(plain.graph, [node])[0]).toBe(node);
  });
});
