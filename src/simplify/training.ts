// The training flag (dropout's switch) replaced by its value in one compiled function: 1 in
// valueAndGrad and step, 0 in forward and predict. The graph is rebuilt bottom-up with the
// flag as a constant, then simplified, so `where(training, ...)` takes its branch and the
// other branch (the mask, in forward) is gone.

import { topoSort, type Graph, type Node } from "../ir";
import { Builder } from "../ops";
import { simplify } from "./fixpoint";

/** Whether any root depends on the training flag. */
export function readsTraining(roots: readonly Node[]): boolean {
  return topoSort(roots).some((n) => n.op.name === "training");
}

/** `roots` with the training flag set to `on`, simplified together. */
export function specialiseTraining(graph: Graph, roots: readonly Node[], on: boolean): Node[] {
  const b = new Builder(graph, undefined);
  const image = new Map<Node, Node>();
  for (const n of topoSort(roots)) {
    let m: Node;
    if (n.op.name === "training") m = b.constant(on ? 1 : 0);
    else {
      const inputs = n.inputs.map((i) => image.get(i)!);
      // Stryker disable next-line ConditionalExpression,ArrowFunction: rebuilding on the same inputs gives n back (hash-consing)
      m = inputs.every((x, k) => x === n.inputs[k]) ? n : graph.apply(n.op, inputs, n.attrs, n.span, n.body);
      // Stryker disable next-line ConditionalExpression,LogicalOperator: a rebuilt node that already has a name is one that computes the same value: either name is right
      if (m !== n && m.name === undefined) m.name = n.name;
    }
    image.set(n, m);
  }
  return simplify(graph, roots.map((r) => image.get(r)!));
}
