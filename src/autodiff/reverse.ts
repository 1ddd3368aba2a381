// Reverse-mode differentiation, symbol to symbol: the gradient is new nodes in the same
// graph. Seed d(objective) = 1, walk the nodes that depend on `wrt` in reverse topological
// order, ask each op's vjp rule for its inputs' cotangents and sum them. No per-op code
// lives here; the rules are in the op records (src/ops). Selection is NaN-safe: a
// cotangent masked by `where` stays masked through elementwise rules (`maskedVjps`).

import { fail, InternalError } from "../diagnostics";
import { formatShape, printIR, topoSort, type Node } from "../ir";
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
  // A multi-output node (a loop) gets the cotangent of each of its projections, by output.
  const outputCotangents = new Map<Node, (Node | null)[]>();
  // (Seeding a `y` that does not depend on `wrt` is harmless: no input of it is visited.)
  contributions.set(y, [b.at(y.span).constant(1)]);
  const distribute = (node: Node, cotangents: readonly (Node | null)[]) => {
    node.inputs.forEach((input, i) => {
      const c = cotangents[i];
      if (!c || !depends.has(input)) return;
      const list = contributions.get(input);
      if (list) list.push(c);
      else contributions.set(input, [c]);
    });
  };
  for (const node of [...order].reverse()) {
    if (node.op.vjpOutputs) {
      const gs = outputCotangents.get(node);
      if (gs) distribute(node, node.op.vjpOutputs(b.at(node.span), gs, node, node.inputs.map((i) => depends.has(i))));
      continue;
    }
    const parts = contributions.get(node);
    if (!parts) continue;
    const at = b.at(node.span);
    const g = sumCotangents(at, parts);
    if (g.name === undefined && node.name !== undefined && !isTrivial(g)) g.name = `d_${node.name}`;
    total.set(node, g);
    if (node.inputs.length === 0 || !node.inputs.some((i) => depends.has(i))) continue;
    if (node.op.projects) {
      const loop = node.inputs[0]!;
      const gs = outputCotangents.get(loop) ?? [];
      gs[node.op.projects(node)] = g;
      outputCotangents.set(loop, gs);
      continue;
    }
    // every op with inputs has a rule (one that says "no gradient" returns nulls)
    if (!node.op.vjp) throw new InternalError(`op ${node.op.name} has inputs but no derivative rule`, printIR([node]));
    for (const cotangents of maskedVjps(at, parts, node) ?? [node.op.vjp(at, g, node)]) distribute(node, cotangents);
  }
  return wrt.map((w) => total.get(w) ?? b.at(w.span).constant(0, w.shape));
}

/**
 * NaN-safe selection (docs/stability.md). `where(c, a, b)` sends `where(c, g, 0)` to `a`
 * and `where(c, 0, g)` to `b`. Multiplying that masked cotangent by the untaken branch's
 * local derivative would give 0 * NaN = NaN (`where(x > 0, sqrt(x), 0)` at x < 0), so an
 * elementwise node whose cotangent contributions are masked, `where(c, G, 0)` or
 * `where(c, 0, G)`, runs its rule on G and wraps each result in the same masks: once per
 * chain of masks, inside the masks every contribution shares. Elementwise rules are
 * elementwise and linear in the cotangent, so the rule of a sum is the sum of the rules;
 * values where a branch was taken are unchanged and the others are exactly 0.
 * Undefined (the plain rule applies) when no contribution is masked. The mask passes
 * through elementwise ops only: a reduction between the `where` and the NaN (a branch
 * broadcast to where's shape) sums it away.
 */
function maskedVjps(b: Builder, parts: readonly Node[], node: Node): (Node | null)[][] | undefined {
  if (node.op.kind !== "elementwise") return undefined;
  // Each contribution as its chain of masks (a `where` inside a branch of another gives
  // nested masks, all peeled) around an unmasked inner cotangent.
  const peeled = parts.map((p) => {
    const masks: Mask[] = [];
    let inner = p;
    for (let m = maskOf(inner); m; m = maskOf(inner)) {
      masks.push({ cond: m.cond, taken: m.taken });
      inner = m.inner;
    }
    return { masks, inner };
  });
  // Stryker disable next-line all: a fast path; without it the lines below give undefined too
  if (peeled.every((p) => p.masks.length === 0)) return undefined;
  // Masks with a zero side commute, so a mask every contribution carries is taken out
  // and put around the whole rule, however the rest is grouped.
  const keyOf = (m: Mask) => `${m.cond.id}:${m.taken}`;
  const common = peeled[0]!.masks.filter((m) => peeled.every((p) => p.masks.some((x) => keyOf(x) === keyOf(m))));
  const commonKeys = new Set(common.map(keyOf));
  const groups = new Map<string, { masks: Mask[]; inner: Node[] }>();
  for (const p of peeled) {
    // Stryker disable next-line MethodExpression: keeping the common masks too only wraps them twice (where(c, where(c, G, 0), 0) is where(c, G, 0))
    const own = p.masks.filter((m) => !commonKeys.has(keyOf(m)));
    // Stryker disable next-line StringLiteral: any separator keeps the keys distinct (each mask key has one colon)
    const key = own.map(keyOf).join("|");
    const group = groups.get(key) ?? { masks: own, inner: [] };
    group.inner.push(p.inner);
    groups.set(key, group);
  }
  // One rule per group: nested `where`s that use both branches could double the groups
  // at each level, so past a few the groups are summed (their own masks kept) and share
  // one rule inside the common masks.
  const list = [...groups.values()];
  const merged = list.length <= maxMaskGroups ? list
    : [{ masks: [], inner: list.map(({ masks, inner }) => wrap(b, masks, inner.reduce((acc, x) => b.add(acc, x)))) }];
  return merged.map(({ masks, inner }) => {
    const g = inner.reduce((acc, x) => b.add(acc, x));
    return node.op.vjp!(b, g, node).map((c) => (c ? wrap(b, [...common, ...masks], c) : c));
  });
}

/** `c` inside `masks`, the first outermost. */
function wrap(b: Builder, masks: readonly Mask[], c: Node): Node {
  let masked = c;
  for (let k = masks.length - 1; k >= 0; k--) {
    const { cond, taken } = masks[k]!;
    const zero = b.constant(0, c.shape);
    masked = taken ? b.where(cond, masked, zero) : b.where(cond, zero, masked);
  }
  return masked;
}

const maxMaskGroups = 4;

interface Mask {
  cond: Node;
  taken: boolean;
}

/** `where(c, G, 0)` as { c, G, taken: true }; `where(c, 0, G)` as { c, G, taken: false }. */
function maskOf(g: Node): (Mask & { inner: Node }) | undefined {
  if (g.op.name !== "where") return undefined;
  const [cond, a, e] = g.inputs as [Node, Node, Node];
  const zeroA = isZero(a), zeroE = isZero(e);
  if (zeroA === zeroE) return undefined;
  return zeroE ? { cond, inner: a, taken: true } : { cond, inner: e, taken: false };
}

/** The sum of a node's cotangent contributions (its gradient, and the cotangent a
 *  non-elementwise rule receives). Masked parts under one condition are summed inside it,
 *  `where(c, A1, 0) + where(c, 0, B1) + where(c, A2, 0)` -> `where(c, A1 + A2, B1)`
 *  (equal: both sides are 0 + 0 where unselected), one select instead of three. */
function sumCotangents(b: Builder, parts: readonly Node[]): Node {
  // Stryker disable next-line ConditionalExpression: one masked part rebuilds to the same (hash-consed) where node
  if (parts.length === 1) return parts[0]!;
  const masks = parts.map(maskOf);
  const cond = masks[0]?.cond;
  if (cond && masks.every((m) => m?.cond === cond)) {
    const side = (taken: boolean) => {
      const list = masks.filter((m) => m!.taken === taken).map((m) => m!.inner);
      return list.length === 0 ? b.constant(0, parts[0]!.shape) : list.reduce((acc, p) => b.add(acc, p));
    };
    return b.where(cond, side(true), side(false));
  }
  return parts.reduce((acc, p) => b.add(acc, p));
}

/** A constant 0 (+0 or -0), possibly broadcast. */
function isZero(n: Node): boolean {
  let x = n;
  while (x.op.name === "broadcast") x = x.inputs[0]!;
  return x.attrs.value === 0 &&
    // Stryker disable next-line ConditionalExpression: only const nodes have a `value` attribute
    x.op.name === "const";
}

function isTrivial(n: Node): boolean {
  return n.op.kind === "source" || n.op.kind === "view";
}
