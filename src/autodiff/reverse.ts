// Reverse-mode differentiation, symbol to symbol: the gradient is new nodes in the same
// graph. Seed d(objective) = 1, walk the nodes that depend on `wrt` in reverse topological
// order, ask each op's vjp rule for its inputs' cotangents and sum them. No per-op code
// lives here; the rules are in the op records (src/ops). Selection is NaN-safe: a
// cotangent masked by `where` stays masked through elementwise rules (see `maskedVjp`).

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
    const g = sumCotangents(at, parts);
    if (g.name === undefined && node.name !== undefined && !isTrivial(g)) g.name = `d_${node.name}`;
    total.set(node, g);
    if (node.inputs.length === 0 || !node.inputs.some((i) => depends.has(i))) continue;
    if (!node.op.vjp) fail("E0218", node.span, node.op.name, node.op.noGradReason ?? "has no derivative rule");
    const cotangents = maskedVjp(at, g, node) ?? node.op.vjp(at, g, node);
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

/**
 * NaN-safe selection. `where(c, a, b)` sends `where(c, g, 0)` to `a` and `where(c, 0, g)`
 * to `b`. Multiplying that masked cotangent by the untaken branch's local derivative
 * would give 0 * NaN = NaN (`where(x > 0, sqrt(x), 0)` at x < 0), so an elementwise node
 * whose cotangent is `where(c, G, 0)` (or `where(c, 0, G)`) runs its rule on G and masks
 * each result the same way. Elementwise rules are elementwise and linear in the cotangent,
 * so the values where the branch was taken are unchanged and the others are exactly 0.
 */
function maskedVjp(b: Builder, g: Node, node: Node): (Node | null)[] | undefined {
  const mask = maskOf(g);
  if (!mask || node.op.kind !== "elementwise") return undefined;
  const { cond, inner, taken } = mask;
  return node.op.vjp!(b, inner, node).map((c) => {
    if (!c) return c;
    const zero = b.constant(0, c.shape);
    return taken ? b.where(cond, c, zero) : b.where(cond, zero, c);
  });
}

/** `where(c, G, 0)` as { c, G, taken: true }; `where(c, 0, G)` as { c, G, taken: false }. */
function maskOf(g: Node): { cond: Node; inner: Node; taken: boolean } | undefined {
  if (g.op.name !== "where") return undefined;
  const [cond, a, e] = g.inputs as [Node, Node, Node];
  const zeroA = isZero(a), zeroE = isZero(e);
  if (zeroA === zeroE) return undefined;
  return zeroE ? { cond, inner: a, taken: true } : { cond, inner: e, taken: false };
}

/** The sum of a node's cotangent contributions. Masked parts under one condition are
 *  summed inside the mask, `where(c, A1, 0) + where(c, 0, B1) + where(c, A2, 0)` ->
 *  `where(c, A1 + A2, B1)` (equal, both sides being 0 + 0 where unselected), so the mask
 *  still reaches the node's own rule when a value is used several times under it. */
function sumCotangents(b: Builder, parts: readonly Node[]): Node {
  if (parts.length === 1) return parts[0]!;
  const masks = parts.map(maskOf);
  const cond = masks[0]?.cond;
  if (cond && masks.every((m) => m?.cond === cond && sameShapeAs(m.inner, parts[0]!))) {
    const side = (taken: boolean) => {
      const list = masks.filter((m) => m!.taken === taken).map((m) => m!.inner);
      return list.length === 0 ? b.constant(0, parts[0]!.shape) : list.reduce((acc, p) => b.add(acc, p));
    };
    return b.where(cond, side(true), side(false));
  }
  return parts.reduce((acc, p) => b.add(acc, p));
}

function sameShapeAs(a: Node, b: Node): boolean {
  return a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}

/** A constant 0 (+0 or -0), possibly broadcast. */
function isZero(n: Node): boolean {
  let x = n;
  for (let k = 0; k < 16 && x.op.name === "broadcast"; k++) x = x.inputs[0]!;
  return x.op.name === "const" && x.attrs.value === 0;
}

function isTrivial(n: Node): boolean {
  return n.op.kind === "source" || n.op.kind === "view";
}
