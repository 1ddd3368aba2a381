// Sparse SGD for tables read through `take` (embeddings): when a param's whole gradient is
// one scatter_add along axis 0, `p -= lr * scatter_add(g, ids)` is applied row by row as
// `p[ids[j]] -= lr * g[j]`, so `step` costs O(ids * row), not O(vocabulary * row): the
// dense gradient is neither zeroed nor read. Only plain SGD qualifies (momentum and Adam
// keep state for every row); valueAndGrad still returns the dense gradient.

import type { OptimizerSpec } from "../lower";
import { isKnown, numel, type Dim, type Node } from "../ir";
import { sizeExpression } from "./dim-expression";
import * as js from "./estree";

export interface SparseGradient {
  /** The cotangent of the gathered rows: ids.shape + the row's shape. */
  g: Node;
  /** Integer ids (checked once per call where they enter the graph). */
  ids: Node;
  /** Elements per row of the param. */
  row: number;
}

/** Per param, its sparse gradient under plain SGD, or undefined (a dense update). */
export function sparseGradients(grads: readonly Node[], optimizer: OptimizerSpec | undefined): (SparseGradient | undefined)[] {
  // Plain SGD with a constant rate only: any other option (clipping by the global norm,
  // weight decay, a rate read at run time) needs the whole gradient.
  const plain = optimizer?.kind === "sgd" && typeof optimizer.lr === "number" &&
    Object.keys(optimizer).every((k) => k === "kind" || k === "lr");
  if (!plain) return grads.map(() => undefined);
  return grads.map((grad) => {
    if (grad.op.name !== "scatter_add" || grad.attrs.axis !== 0 || !isKnown(grad.shape)) return undefined;
    const [g, ids] = grad.inputs as [Node, Node];
    // Rank-0 ids are a scalar local, not an array; a source cotangent has no buffer.
    if (ids.shape.length === 0 || g.op.kind === "source" || !stored(ids)) return undefined;
    return { g, ids, row: numel(grad.shape.slice(1) as number[]) };
  });
}

/** Whether ids live in an array the update can index: an index pattern (`take(P,
 *  arange(t))`) or a literal is computed inside the kernels that read it, with no buffer,
 *  also when seen through a view. */
function stored(ids: Node): boolean {
  let n = ids;
  while (n.op.kind === "view" && n.inputs.length > 0) n = n.inputs[0]!;
  return n.op.kind !== "source" || n.op.name === "input";
}

/** `for j: id = ids[j] | 0; for k < row: p[id * row + k] -= lr * g[j * row + k]`. */
export function sparseSgdUpdate(
  lr: number, param: string, s: SparseGradient, g: string, ids: string,
  dim: (d: Dim) => js.Expression, fresh: (prefix: string) => string,
): js.Statement {
  const j = fresh("j");
  const k = fresh("k");
  const id = fresh("id");
  const count = sizeExpression(s.ids.shape, dim);
  const row = js.num(s.row);
  const update = js.stmt(js.assign(
    js.index(param, js.add(js.mul(js.id(id), row), js.id(k))),
    js.binary("*", js.num(lr), js.index(g, js.add(js.mul(js.id(j), row), js.id(k)))), "-="));
  return js.loop(j, js.num(0), count, [
    js.declare("const", id, js.binary("|", js.index(ids, js.id(j)), js.num(0))),
    js.loop(k, js.num(0), row, [update]),
  ]);
}
