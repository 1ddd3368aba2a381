// Reverse-mode differentiation, symbol to symbol: the gradient is new nodes in the same
// graph. Seed d(objective) = 1, walk the nodes that depend on `wrt` in reverse topological
// order, ask each op's vjp rule for its inputs' cotangents and sum them. No per-op code
// lives here; the rules are in the op records (src/ops).

import { fail } from "../diagnostics";
import { formatShape, topoSort, type Node } from "../ir";
import type { Builder } from "../ops";

/** d y / d w for each w in `wrt`, each of w's shape; `y` must be a scalar. */
export function gradients(b: Builder, y: Node, wrt: readonly Node[]): Node[] {
  if (y.shape.length !== 0) fail("E0219", y.span, formatShape(y.shape));
  const order = topoSort([y]);
  const targets = new Set(wrt);
  const depends = new Set<Node>();
  for (const n of order) {
    if (targets.has(n) || n.inputs.some((i) => depends.has(i))) depends.add(n);
  }
  const contributions = new Map<Node, Node[]>();
  const total = new Map<Node, Node>();
  if (depends.has(y)) contributions.set(y, [b.at(y.span).constant(1)]);
  for (let k = order.length - 1; k >= 0; k--) {
    const node = order[k]!;
    const parts = contributions.get(node);
    if (!parts) continue;
    const at = b.at(node.span);
    const g = parts.reduce((acc, p) => at.add(acc, p));
    if (g.name === undefined && node.name !== undefined && !isTrivial(g)) g.name = `d_${node.name}`;
    total.set(node, g);
    if (node.inputs.length === 0 || !node.inputs.some((i) => depends.has(i))) continue;
    if (!node.op.vjp) fail("E0218", node.span, node.op.name, node.op.noGradReason ?? "has no derivative rule");
    const cotangents = node.op.vjp(at, g, node);
    node.inputs.forEach((input, i) => {
      const c = cotangents[i];
      if (!c || !depends.has(input)) return;
      const list = contributions.get(input);
      if (list) list.push(c);
      else contributions.set(input, [c]);
    });
  }
  return wrt.map((w) => total.get(w) ?? b.at(w.span).constant(0, w.shape));
}

function isTrivial(n: Node): boolean {
  return n.op.kind === "source" || n.op.kind === "view";
}
