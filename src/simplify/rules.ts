// Simplify, the rules: one record per identity (`pattern -> replacement`), each exact in
// IEEE f64: for every input, infinities, NaN and -0 included, the replacement gives the same
// value up to the rounding of finite intermediates. So `x - x -> 0`, `x * 0 -> 0` and
// `exp(log x) -> x` are not rules, and `x + 0 -> x` holds only where x cannot be -0
// (1 / -0 is -Infinity). Replacements are built with the builder the driver passes, at the
// replaced node's span; whether a rewrite pays for itself in nodes is the driver's call.

import { sameShape, type Dim, type Node } from "../ir";
import type { Builder } from "../ops";

export interface Rule {
  readonly name: string;
  /** The identity, `pattern -> replacement`, with the condition that makes it exact. */
  readonly identity: string;
  /** The replacement for `node`, built with `b` (at `node`'s span), or undefined. */
  match(node: Node, b: Builder): Node | undefined;
}

// ---- patterns ----

const is = (n: Node, name: string): boolean => n.op.name === name;

/** The value of a node that is one scalar constant everywhere: a `const`, or views of one
 *  (`broadcast(const)` is how tensors of one value are spelled). */
export function constValue(n: Node): number | undefined {
  let x = n;
  for (let k = 0; k < 16 && x.op.kind === "view"; k++) x = x.inputs[0]!;
  return is(x, "const") ? (x.attrs.value as number) : undefined;
}

const isConst = (n: Node, v: number): boolean => Object.is(constValue(n), v);

/** The operand of binary `node` beside a constant satisfying `test`, on either side when
 *  `commutes`, else only with the constant on the right. */
function besideConst(node: Node, test: (v: number) => boolean, commutes: boolean): Node | undefined {
  const [a, c] = node.inputs as [Node, Node];
  const cv = constValue(c);
  if (cv !== undefined && test(cv)) return a;
  const av = constValue(a);
  if (commutes && av !== undefined && test(av)) return c;
  return undefined;
}

/** `c * x` or `x * c` as {c, x}, with x not constant. */
function constFactor(n: Node): { c: number; x: Node } | undefined {
  if (!is(n, "mul")) return undefined;
  const [a, b] = n.inputs as [Node, Node];
  const ca = constValue(a);
  const cb = constValue(b);
  if (ca !== undefined && cb === undefined) return { c: ca, x: b };
  if (cb !== undefined && ca === undefined) return { c: cb, x: a };
  return undefined;
}

/** Whether `n` can never be the zero `zero` (+0 or -0), from a few structural facts looked
 *  at to a small depth. Round-to-nearest gives -0 from a sum only when both terms are -0. */
export function excludesZero(n: Node, zero: number, depth = 6): boolean {
  const v = constValue(n);
  if (v !== undefined) return !Object.is(v, zero);
  if (depth === 0) return false;
  const negative = Object.is(zero, -0);
  const of = (k: number, z: number) => excludesZero(n.inputs[k]!, z, depth - 1);
  if (n.op.kind === "view") return of(0, zero);
  if (n.op.props?.boolean) return negative; // comparisons give +0 or 1
  switch (n.op.name) {
    case "neg": return of(0, negative ? 0 : -0);
    case "add": return negative && (of(0, -0) || of(1, -0));
    case "sub": return negative && (of(0, -0) || of(1, 0)); // a - b is a + (-b)
    case "sum": return negative; // accumulates from +0
    case "where": return of(1, zero) && of(2, zero);
    default: return false;
  }
}

/** Whether every value of `n` is +0 or positive and finite (never -0, Infinity or NaN),
 *  from structure looked at to a small depth: comparisons (0 or 1), index patterns, such
 *  constants, views of these and `where` between them (the masks gradients are made of). */
export function nonNegativeFinite(n: Node, depth = 6): boolean {
  const v = constValue(n);
  if (v !== undefined) return Object.is(v, 0) || (v > 0 && v < Infinity);
  if (depth === 0) return false;
  if (n.op.kind === "view") return nonNegativeFinite(n.inputs[0]!, depth - 1);
  if (n.op.props?.boolean || is(n, "iota")) return true;
  return is(n, "where") && nonNegativeFinite(n.inputs[1]!, depth - 1) && nonNegativeFinite(n.inputs[2]!, depth - 1);
}

/** c1 * (c2 * x) == (c1 * c2) * x up to rounding for every x, overflow and underflow
 *  included: both factors on the same side of 1, and the product neither overflows nor
 *  (when both shrink) leaves the normal range (0 * Infinity would turn Infinity into NaN). */
function reassociates(c1: number, c2: number): boolean {
  const a1 = Math.abs(c1);
  const a2 = Math.abs(c2);
  const p = Math.abs(c1 * c2);
  if (!(a1 > 0 && a2 > 0 && p < Infinity)) return false;
  if (a1 >= 1 && a2 >= 1) return true;
  return a1 <= 1 && a2 <= 1 && p >= 2.2250738585072014e-308;
}

/** c1 * x + c2 * x == (c1 + c2) * x up to rounding for every x: nonzero finite factors of
 *  one sign (no cancellation, so c1 * x overflows only if the sum does; x = Infinity meets
 *  no 0 * Infinity), and a finite sum. */
function collects(c1: number, c2: number): boolean {
  return Number.isFinite(c1) && Number.isFinite(c2) && c1 !== 0 && c2 !== 0 &&
    Math.sign(c1) === Math.sign(c2) && Number.isFinite(c1 + c2);
}

/** `x` as c * x: a constant factor, a negation (-x is exactly -1 * x), or 1. */
function term(n: Node): { c: number; x: Node } {
  const f = constFactor(n);
  if (f) return f;
  if (is(n, "neg")) return { c: -1, x: n.inputs[0]! };
  return { c: 1, x: n };
}

const scale = (b: Builder, c: number, x: Node): Node => b.op("mul", [b.constant(c, x.shape), x]);

const neg = (b: Builder, x: Node): Node => b.op("neg", [x]);

/** `op(l, r)` with its one constant operand negated, or undefined. */
function negateConstOperand(b: Builder, node: Node, [l, r]: [Node, Node]): Node | undefined {
  const lv = constValue(l);
  const rv = constValue(r);
  if (lv !== undefined && rv === undefined) return b.op(node.op.name, [b.constant(-lv, l.shape), r]);
  if (rv !== undefined && lv === undefined) return b.op(node.op.name, [l, b.constant(-rv, r.shape)]);
  return undefined;
}

/** Whether two attribute records are the same values (broadcast shapes and dims). */
function sameAttrs(a: Node, b: Node): boolean {
  const keys = Object.keys(a.attrs);
  return keys.length === Object.keys(b.attrs).length &&
    keys.every((k) => JSON.stringify(a.attrs[k]) === JSON.stringify(b.attrs[k]));
}

// ---- the table ----

export const rules: readonly Rule[] = [
  {
    name: "fold",
    identity: "op(c1, ..., cn) -> c where c = op.scalar(c1, ..., cn); view(c) -> c",
    match(node, b) {
      if (node.op.kind === "elementwise") {
        const values = node.inputs.map(constValue);
        if (values.some((v) => v === undefined)) return undefined;
        return b.constant(node.op.scalar!(...(values as number[])), node.shape);
      }
      const v = node.op.kind === "view" ? constValue(node) : undefined;
      return v === undefined ? undefined : b.constant(v, node.shape);
    },
  },
  {
    name: "mul-one",
    identity: "x * 1 -> x; 1 * x -> x",
    match: (node) => (is(node, "mul") ? besideConst(node, (v) => v === 1, true) : undefined),
  },
  {
    name: "div-one",
    identity: "x / 1 -> x",
    match: (node) => (is(node, "div") ? besideConst(node, (v) => v === 1, false) : undefined),
  },
  {
    name: "add-zero",
    identity: "x + -0 -> x; x + 0 -> x where x is never -0 (and 0 + x likewise)",
    match(node) {
      if (!is(node, "add")) return undefined;
      const [a, c] = node.inputs as [Node, Node];
      for (const [x, z] of [[a, c], [c, a]] as const) {
        if (isConst(z, -0) || (isConst(z, 0) && excludesZero(x, -0))) return x;
      }
      return undefined;
    },
  },
  {
    name: "sub-zero",
    identity: "x - 0 -> x; x - -0 -> x where x is never -0",
    match(node) {
      if (!is(node, "sub")) return undefined;
      const [x, z] = node.inputs as [Node, Node];
      return isConst(z, 0) || (isConst(z, -0) && excludesZero(x, -0)) ? x : undefined;
    },
  },
  {
    name: "zero-sub",
    identity: "-0 - x -> -x; 0 - x -> -x where x is never +0",
    match(node, b) {
      if (!is(node, "sub")) return undefined;
      const [z, x] = node.inputs as [Node, Node];
      return isConst(z, -0) || (isConst(z, 0) && excludesZero(x, 0)) ? neg(b, x) : undefined;
    },
  },
  {
    name: "neg-neg",
    identity: "-(-x) -> x",
    match: (node) => (is(node, "neg") && is(node.inputs[0]!, "neg") ? node.inputs[0]!.inputs[0]! : undefined),
  },
  {
    name: "mul-minus-one",
    identity: "x * -1 -> -x; -1 * x -> -x; x / -1 -> -x",
    match(node, b) {
      const x = is(node, "mul") ? besideConst(node, (v) => v === -1, true)
        : is(node, "div") ? besideConst(node, (v) => v === -1, false) : undefined;
      return x && neg(b, x);
    },
  },
  {
    // Negation is exact and rounding is symmetric about zero, so a sign moves freely
    // between a product (or quotient) and its constant operand.
    name: "neg-into-const",
    identity: "-(c * x) -> (-c) * x; c * (-x) -> (-c) * x; (-x) * c -> x * (-c); the same for /",
    match(node, b) {
      if (is(node, "neg")) {
        const inner = node.inputs[0]!;
        return is(inner, "mul") || is(inner, "div") ? negateConstOperand(b, inner, inner.inputs as [Node, Node]) : undefined;
      }
      if (!is(node, "mul") && !is(node, "div")) return undefined;
      const [l, r] = node.inputs as [Node, Node];
      if (is(r, "neg")) return negateConstOperand(b, node, [l, r.inputs[0]!]);
      if (is(l, "neg")) return negateConstOperand(b, node, [l.inputs[0]!, r]);
      return undefined;
    },
  },
  {
    name: "neg-neg-mul",
    identity: "(-a) * (-b) -> a * b; (-a) / (-b) -> a / b",
    match(node, b) {
      if (!is(node, "mul") && !is(node, "div")) return undefined;
      const [l, r] = node.inputs as [Node, Node];
      return is(l, "neg") && is(r, "neg") ? b.op(node.op.name, [l.inputs[0]!, r.inputs[0]!]) : undefined;
    },
  },
  {
    // Worth it only when the inner negation goes away or meets another; the driver's node
    // count decides.
    name: "neg-out-of-mul",
    identity: "(-a) * b -> -(a * b); a * (-b) -> -(a * b); (-a) / b -> -(a / b); a / (-b) -> -(a / b)",
    match(node, b) {
      if (!is(node, "mul") && !is(node, "div")) return undefined;
      const [l, r] = node.inputs as [Node, Node];
      if (is(l, "neg") === is(r, "neg")) return undefined;
      const inner = is(l, "neg") ? [l.inputs[0]!, r] : [l, r.inputs[0]!];
      return neg(b, b.op(node.op.name, inner));
    },
  },
  {
    // IEEE defines a - b as a + (-b), exactly; and a + b commutes.
    name: "add-neg",
    identity: "a + (-b) -> a - b; (-a) + b -> b - a",
    match(node, b) {
      if (!is(node, "add")) return undefined;
      const [l, r] = node.inputs as [Node, Node];
      if (is(r, "neg")) return b.op("sub", [l, r.inputs[0]!]);
      if (is(l, "neg")) return b.op("sub", [r, l.inputs[0]!]);
      return undefined;
    },
  },
  {
    name: "sub-neg",
    identity: "a - (-b) -> a + b",
    match: (node, b) => (is(node, "sub") && is(node.inputs[1]!, "neg") ? b.op("add", [node.inputs[0]!, node.inputs[1]!.inputs[0]!]) : undefined),
  },
  {
    // Exact only because b is never negative, infinite or NaN: a zero times +0 or a
    // positive finite number is that zero, sign included. (`x * 0` in general is not:
    // 0 * Infinity is NaN and 0 * -3 is -0.)
    name: "zero-mul-mask",
    identity: "z * b -> z; b * z -> z where z is a constant +0 or -0 and b is +0 or positive and finite everywhere (a comparison, a mask)",
    match(node, b) {
      if (!is(node, "mul")) return undefined;
      const [l, r] = node.inputs as [Node, Node];
      for (const [z, m] of [[l, r], [r, l]] as const) {
        const v = constValue(z);
        if (v === 0 && nonNegativeFinite(m)) return b.constant(v, node.shape);
      }
      return undefined;
    },
  },
  {
    name: "pow-one",
    identity: "pow(x, 1) -> x",
    match: (node) => (is(node, "pow") && isConst(node.inputs[1]!, 1) ? node.inputs[0]! : undefined),
  },
  {
    // Math.pow(x, ±0) is 1 for every x, NaN included.
    name: "pow-zero",
    identity: "pow(x, 0) -> 1",
    match(node, b) {
      const e = is(node, "pow") ? constValue(node.inputs[1]!) : undefined;
      return e === 0 ? b.constant(1, node.shape) : undefined;
    },
  },
  {
    name: "mul-mul-const",
    identity: "c1 * (c2 * x) -> (c1 * c2) * x where c1, c2 are on one side of 1 and c1 * c2 is finite and normal",
    match(node, b) {
      const outer = constFactor(node);
      const inner = outer && constFactor(outer.x);
      if (!outer || !inner || !reassociates(outer.c, inner.c)) return undefined;
      return scale(b, outer.c * inner.c, inner.x);
    },
  },
  {
    // Only constant factors: with a*x + b*x for any a, b, a*x can overflow to Infinity
    // while (a + b)*x stays finite, and 0 * Infinity is NaN where b * Infinity is not.
    name: "collect",
    identity: "c1 * x + c2 * x -> (c1 + c2) * x; c1 * x - c2 * x -> (c1 - c2) * x where the two terms' factors are nonzero, finite, of one sign, with a finite sum",
    match(node, b) {
      if (!is(node, "add") && !is(node, "sub")) return undefined;
      const p = term(node.inputs[0]!);
      const q = term(node.inputs[1]!);
      const c2 = is(node, "sub") ? -q.c : q.c;
      if (p.x !== q.x || constValue(p.x) !== undefined || !collects(p.c, c2)) return undefined;
      return scale(b, p.c + c2, p.x);
    },
  },
  {
    name: "where-same",
    identity: "where(c, x, x) -> x",
    match: (node) => (is(node, "where") && node.inputs[1] === node.inputs[2] ? node.inputs[1]! : undefined),
  },
  {
    // The inner where sees the same condition, so it always takes the same branch (the
    // NaN-safe gradient of a guarded sqrt or log nests them: norm, std).
    name: "where-nested",
    identity: "where(c, where(c, a, _), b) -> where(c, a, b); where(c, a, where(c, _, b)) -> where(c, a, b)",
    match(node, b) {
      if (!is(node, "where")) return undefined;
      const [c, t, f] = node.inputs as [Node, Node, Node];
      if (is(t, "where") && t.inputs[0] === c) return b.op("where", [c, t.inputs[1]!, f]);
      if (is(f, "where") && f.inputs[0] === c) return b.op("where", [c, t, f.inputs[2]!]);
      return undefined;
    },
  },
  {
    // Asks where's own scalar semantics which branch a constant condition picks (NaN is true).
    name: "where-const",
    identity: "where(c, a, b) -> a where c is a nonzero constant; -> b where c is 0",
    match(node) {
      const c = is(node, "where") ? constValue(node.inputs[0]!) : undefined;
      if (c === undefined) return undefined;
      return node.op.scalar!(c, 1, 2) === 1 ? node.inputs[1]! : node.inputs[2]!;
    },
  },
  {
    // With windows that tile the plane, a max-pool gradient holds each g element at its
    // window's first maximum (stored: -0 stays -0) and +0 elsewhere. That element's value
    // is the window's maximum (NaN if the window has one, else equal up to the sign of a
    // zero, which no comparison sees), so the mask is read per window from the pooled
    // value; elsewhere both sides are +0 (0 * mask, a mask being +0 or 1).
    name: "pool-grad-mask",
    identity: "maxpool2d_grad(x, g) * cmp(x, c) -> maxpool2d_grad(x, g * cmp(maxpool2d(x), c)) where the windows tile the plane (stride = size), cmp is a comparison and c a constant (either side of either)",
    match(node, b) {
      if (!is(node, "mul")) return undefined;
      const [l, r] = node.inputs as [Node, Node];
      for (const [grad, mask] of [[l, r], [r, l]] as const) {
        if (!is(grad, "maxpool2d_grad") || grad.attrs.stride !== grad.attrs.size || !mask.op.props?.boolean) continue;
        const x = grad.inputs[0]!;
        const [m0, m1] = mask.inputs as [Node, Node];
        const k = m0 === x ? m1 : m1 === x ? m0 : undefined;
        const c = k && constValue(k);
        if (c === undefined) continue;
        const pooled = b.op("maxpool2d", [x], grad.attrs);
        const k2 = b.constant(c, pooled.shape);
        const cmp = b.op(mask.op.name, m0 === x ? [pooled, k2] : [k2, pooled]);
        return b.op("maxpool2d_grad", [x, b.op("mul", [grad.inputs[1]!, cmp])], grad.attrs);
      }
      return undefined;
    },
  },
  {
    // Every g element lands at one place (its window's first maximum; overlapping windows
    // add theirs there) and the rest is +0, which a sum from +0 does not see (-0 neither):
    // only the order of the additions changes, as in sum-sum.
    name: "sum-pool-grad",
    identity: "sum(maxpool2d_grad(x, g), a) -> sum(g, a) where a includes both spatial axes, reordering the additions",
    match(node, b) {
      if (!is(node, "sum") || !is(node.inputs[0]!, "maxpool2d_grad")) return undefined;
      const axes = node.attrs.axes as number[];
      if (!axes.includes(2) || !axes.includes(3)) return undefined;
      return b.sum(node.inputs[0]!.inputs[1]!, axes);
    },
  },
  {
    // Output axis k of the outer transpose is axis p2[k] of the inner, axis p1[p2[k]] of x.
    name: "transpose-transpose",
    identity: "transpose(transpose(x, p1), p2) -> transpose(x, p1[p2]); transpose(x, identity) -> x",
    match(node, b) {
      if (!is(node, "transpose")) return undefined;
      const x = node.inputs[0]!;
      const p2 = node.attrs.perm as number[];
      if (!is(x, "transpose")) return p2.every((p, i) => p === i) ? x : undefined;
      const p1 = x.attrs.perm as number[];
      return b.transpose(x.inputs[0]!, p2.map((p) => p1[p]!));
    },
  },
  {
    name: "reshape-reshape",
    identity: "reshape(reshape(x, s1), s2) -> reshape(x, s2); reshape(x, shape(x)) -> x",
    match(node, b) {
      if (!is(node, "reshape")) return undefined;
      const x = node.inputs[0]!;
      if (sameShape(x.shape, node.shape)) return x;
      return is(x, "reshape") ? b.reshape(x.inputs[0]!, node.shape) : undefined;
    },
  },
  {
    // Input axis i of x lands on axis d1[i] of the inner broadcast, then d2[d1[i]].
    name: "broadcast-broadcast",
    identity: "broadcast(broadcast(x, s1, d1), s2, d2) -> broadcast(x, s2, d2[d1]); broadcast(x, shape(x), identity) -> x",
    match(node, b) {
      if (!is(node, "broadcast")) return undefined;
      const x = node.inputs[0]!;
      const d2 = node.attrs.dims as number[];
      if (!is(x, "broadcast")) return sameShape(x.shape, node.shape) && d2.every((d, i) => d === i) ? x : undefined;
      const d1 = x.attrs.dims as number[];
      return b.broadcastTo(x.inputs[0]!, node.shape, d1.map((d) => d2[d]!));
    },
  },
  {
    // Only the order of the additions changes. That is rounding, but of partial sums: with
    // terms near the largest double, one order can overflow to +Infinity and -Infinity
    // (NaN) where the other overflows once (Infinity) or not at all.
    name: "sum-sum",
    identity: "sum(sum(x, a1), a2) -> sum(x, a1 + the axes of x that a2 names), reordering the additions",
    match(node, b) {
      if (!is(node, "sum") || !is(node.inputs[0]!, "sum")) return undefined;
      const inner = node.inputs[0]!;
      const x = inner.inputs[0]!;
      const a1 = inner.attrs.axes as number[];
      const kept = x.shape.map((_, k) => k).filter((k) => !a1.includes(k));
      return b.sum(x, [...a1, ...(node.attrs.axes as number[]).map((a) => kept[a]!)]);
    },
  },
  {
    // A sum starts from +0, so it turns -0 into +0 where x * n keeps -0; n >= 1 keeps
    // Infinity an Infinity (n = 0 would make it NaN), so free dims (maybe 0) do not fold.
    name: "sum-broadcast",
    identity: "sum(broadcast(x), a) -> broadcast(x * n) where x is constant along every summed axis a (n of them in all), n >= 1, and x is never -0",
    match(node, b) {
      if (!is(node, "sum") || !is(node.inputs[0]!, "broadcast")) return undefined;
      const bc = node.inputs[0]!;
      const x = bc.inputs[0]!;
      const dims = bc.attrs.dims as number[];
      const axes = node.attrs.axes as number[];
      let n = 1;
      for (const k of axes) {
        const size: Dim = bc.shape[k]!;
        const i = dims.indexOf(k);
        if (typeof size !== "number" || (i >= 0 && x.shape[i] !== 1)) return undefined;
        n *= size;
      }
      if (n < 1 || !excludesZero(x, -0)) return undefined;
      const keptInput = dims.map((_, i) => i).filter((i) => !axes.includes(dims[i]!));
      const small = b.reshape(x, keptInput.map((i) => x.shape[i]!));
      const outAxes = bc.shape.map((_, k) => k).filter((k) => !axes.includes(k));
      const scaled = n === 1 ? small : scale(b, n, small);
      return b.broadcastTo(scaled, node.shape, keptInput.map((i) => outAxes.indexOf(dims[i]!)));
    },
  },
  {
    // The op then runs once per element of the smaller operands. Broadcast constants join
    // at the smaller shape.
    name: "lift-broadcast",
    identity: "op(broadcast(a, s, d), broadcast(b, s, d), ...) -> broadcast(op(a, b, ...), s, d) where a, b, ... share a shape",
    match(node, b) {
      if (node.op.kind !== "elementwise" || !node.inputs.every((i) => is(i, "broadcast"))) return undefined;
      const anchors = node.inputs.filter((i) => constValue(i) === undefined);
      const first = anchors[0];
      if (!first) return undefined;
      const small = first.inputs[0]!.shape;
      if (!anchors.every((a) => sameAttrs(a, first) && sameShape(a.inputs[0]!.shape, small))) return undefined;
      const inputs = node.inputs.map((i) => {
        const v = constValue(i);
        return v === undefined ? i.inputs[0]! : b.constant(v, small);
      });
      return b.broadcastTo(b.op(node.op.name, inputs), node.shape, first.attrs.dims as number[]);
    },
  },
];
