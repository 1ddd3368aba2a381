// The built-in functions of the language: name, parameters (positional order, which are
// required), and how each lowers to primitives. Composites (softmax, gelu, clip, ...) are
// written here in terms of primitives, so their derivatives and fusion come for free;
// logsumexp shifts by a stop-gradient max, which makes it and log_softmax stable.

import { fail, type Span } from "../diagnostics";
import { formatShape, normalizeAxis, type Dim, type Node } from "../ir";
import { inferReshapeDim, type Builder } from "../ops";
import { gradients } from "../autodiff";
import type { Expr } from "../syntax";
import { constNumber, type ExprLowerer } from "./expr";
import type { Scope } from "./scope";
import { stableForm } from "./stable";

export interface BuiltinContext {
  b: Builder;
  span: Span;
  tensor(e: Expr): Node;
  dim(name: string): Dim | undefined;
  lowerer: ExprLowerer;
  scope: Scope;
}

export interface Builtin {
  params: string[];
  required: number;
  lower(args: (Expr | undefined)[], ctx: BuiltinContext): Node;
  /** The reference entry in docs/language.md (generated from these records). */
  doc?: BuiltinDoc;
}

/** How a built-in is documented: docs/language.md's tables are generated from these. */
export interface BuiltinDoc {
  /** The table it is listed in: "elementwise", "reduction", "shape", "constant", ... */
  group: string;
  /** The call as written, with defaults: `leaky_relu(x, alpha = 0.01)`. */
  signature: string;
  /** One sentence: what it computes. */
  summary: string;
  /** The result's shape in terms of the arguments' (`x.shape`, `[n, k]`...). */
  shape: string;
  /** The derivative convention (at kinks, ties, what gets no gradient). */
  grad: string;
  /** The NumPy / PyTorch counterpart whose values it matches. */
  counterpart: string;
}

const elementwiseUnary = [
  "exp", "log", "log1p", "expm1", "sqrt", "abs", "sin", "cos", "tan", "asin", "acos", "atan",
  "tanh", "sinh", "cosh", "sigmoid", "relu", "softplus", "sign", "floor",
];

function int(fnName: string, argName: string, e: Expr | undefined, dflt: number): number {
  if (!e) return dflt;
  const v = constNumber(e);
  if (v === undefined || !Number.isInteger(v)) fail("E0116", e.span, fnName, argName);
  return v;
}

function bool(fnName: string, argName: string, e: Expr | undefined, dflt: boolean): boolean {
  if (!e) return dflt;
  if (e.kind !== "bool") fail("E0117", e.span, fnName, argName);
  return e.value;
}

/** `axis` as an integer or a list; negative entries count from the end. */
function axes(e: Expr | undefined, rank: number): number[] {
  if (!e) return Array.from({ length: rank }, (_, i) => i);
  const items = e.kind === "list" ? e.items : [e];
  const out: number[] = [];
  for (const item of items) {
    const v = constNumber(item);
    if (v === undefined || !Number.isInteger(v)) fail("E0118", item.span, "axis");
    const a = normalizeAxis(v, rank);
    if (a === undefined) fail("E0203", item.span, v, rank);
    if (out.includes(a)) fail("E0204", item.span, v);
    out.push(a);
  }
  return out.sort((x, y) => x - y);
}

/** A shape argument: a list of integers and dim names (and, where allowed, one -1). */
function shapeList(ctx: BuiltinContext, e: Expr, allowInfer: boolean): (Dim | -1)[] {
  if (e.kind !== "list") fail("E0118", e.span, "shape");
  let inferred = 0;
  return e.items.map((item): Dim | -1 => {
    if (item.kind === "name") {
      const d = ctx.dim(item.name);
      if (d === undefined) fail("E0215", item.span, `\`${item.name}\` is not a dim`);
      return d;
    }
    const v = constNumber(item);
    if (v === -1 && allowInfer) {
      if (++inferred > 1) fail("E0206", item.span);
      return -1;
    }
    if (v === undefined || !Number.isInteger(v) || v < 0) fail("E0215", item.span, "a shape entry must be a non-negative integer or a dim name");
    return v;
  });
}

function reduceTo(ctx: BuiltinContext, op: string, x: Node, axisArg: Expr | undefined, keepArg: Expr | undefined, fnName: string): Node {
  const ax = axes(axisArg, x.shape.length);
  const keep = bool(fnName, "keepdims", keepArg, false);
  const r = ax.length === 0 ? x : ctx.b.op(op, [x], { axes: ax });
  return keep ? ctx.b.reshape(r, keptShape(x, ax)) : r;
}

function keptShape(x: Node, ax: number[]): Dim[] {
  return x.shape.map((d, k) => (ax.includes(k) ? 1 : d));
}

/** The number of elements over `ax`, as a scalar node (runtime size for free dims). */
function count(b: Builder, x: Node, ax: number[]): Node {
  let known = 1;
  const free: string[] = [];
  for (const a of ax) {
    const d = x.shape[a]!;
    if (typeof d === "number") known *= d;
    else free.push(d);
  }
  const c = b.constant(known);
  return free.length === 0 ? c : b.mul(c, b.op("size", [], { dims: free.sort() }));
}

/** logsumexp with keepdims: max-shifted, the shift carrying no gradient; an all -inf or
 *  infinite row shifts by 0 so it stays -inf / inf rather than NaN. */
function logsumexpKeep(b: Builder, x: Node, ax: number[]): Node {
  const shape = keptShape(x, ax);
  const m0 = b.reshape(b.op("max", [x], { axes: ax }), shape);
  const finite = b.binary("lt", b.unary("abs", m0), b.constant(Infinity));
  const m = b.unary("stop_gradient", b.where(finite, m0, b.constant(0)));
  return b.add(b.unary("log", b.reshape(b.sum(b.unary("exp", b.sub(x, m)), ax), shape)), m);
}

/** An elementwise built-in; a composition with an unstable floating-point form, such as
 *  log(sigmoid(x)), is built in its stable form (stable.ts). */
function unaryBuiltin(name: string): Builtin {
  return {
    params: ["x"], required: 1,
    lower: ([x], ctx) => {
      const v = ctx.tensor(x!);
      return stableForm(ctx.b, name, v) ?? ctx.b.unary(name, v);
    },
  };
}

function reduction(op: string): Builtin {
  return {
    params: ["x", "axis", "keepdims"], required: 1,
    lower: ([x, axis, keep], ctx) => reduceTo(ctx, op, ctx.tensor(x!), axis, keep, op),
  };
}

export const builtins: Record<string, Builtin> = {
  ...Object.fromEntries(elementwiseUnary.map((n) => [n, unaryBuiltin(n)])),
  // The identity whose derivative is zero (JAX's stop_gradient).
  stop_gradient: unaryBuiltin("stop_gradient"),
  square: { params: ["x"], required: 1, lower: ([x], ctx) => ctx.b.binary("pow", ctx.tensor(x!), ctx.b.constant(2)) },
  pow: { params: ["a", "b"], required: 2, lower: ([a, c], ctx) => ctx.b.binary("pow", ctx.tensor(a!), ctx.tensor(c!)) },
  maximum: { params: ["a", "b"], required: 2, lower: ([a, c], ctx) => ctx.b.binary("maximum", ctx.tensor(a!), ctx.tensor(c!)) },
  minimum: { params: ["a", "b"], required: 2, lower: ([a, c], ctx) => ctx.b.binary("minimum", ctx.tensor(a!), ctx.tensor(c!)) },
  where: {
    params: ["cond", "a", "b"], required: 3,
    lower: ([c, a, d], ctx) => ctx.b.where(ctx.tensor(c!), ctx.tensor(a!), ctx.tensor(d!)),
  },
  clip: {
    // PyTorch's clamp: x where lo <= x <= hi (the whole gradient passes at the bounds),
    // else the bound it crossed.
    params: ["x", "lo", "hi"], required: 3,
    lower: ([x, lo, hi], ctx) => {
      const b = ctx.b, v = ctx.tensor(x!), l = ctx.tensor(lo!), h = ctx.tensor(hi!);
      return b.where(b.binary("gt", v, h), h, b.where(b.binary("lt", v, l), l, v));
    },
  },
  leaky_relu: {
    params: ["x", "alpha"], required: 1,
    lower: ([x, alpha], ctx) => {
      const b = ctx.b, v = ctx.tensor(x!);
      const a = alpha ? ctx.tensor(alpha) : b.constant(0.01);
      return b.where(b.binary("gt", v, b.constant(0)), v, b.mul(a, v));
    },
  },
  elu: {
    params: ["x", "alpha"], required: 1,
    lower: ([x, alpha], ctx) => {
      const b = ctx.b, v = ctx.tensor(x!);
      const a = alpha ? ctx.tensor(alpha) : b.constant(1);
      // The branch not taken may overflow (expm1 of a large x): where's NaN-safe gradient
      // masks it. (expm1(min(x, 0)) would halve elu'(0) by minimum's tie rule.)
      return b.where(b.binary("gt", v, b.constant(0)), v, b.mul(a, b.unary("expm1", v)));
    },
  },
  gelu: {
    params: ["x"], required: 1,
    lower: ([x], ctx) => {
      // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      const b = ctx.b, v = ctx.tensor(x!);
      const inner = b.mul(b.constant(Math.sqrt(2 / Math.PI)), b.add(v, b.mul(b.constant(0.044715), b.binary("pow", v, b.constant(3)))));
      return b.mul(b.mul(b.constant(0.5), v), b.add(b.constant(1), b.unary("tanh", inner)));
    },
  },
  sum: reduction("sum"),
  max: reduction("max"),
  min: reduction("min"),
  prod: reduction("prod"),
  mean: {
    params: ["x", "axis", "keepdims"], required: 1,
    lower: ([x, axis, keep], ctx) => {
      const v = ctx.tensor(x!);
      const ax = axes(axis, v.shape.length);
      const s = reduceTo(ctx, "sum", v, axis, keep, "mean");
      return ctx.b.div(s, count(ctx.b, v, ax));
    },
  },
  logsumexp: {
    params: ["x", "axis", "keepdims"], required: 1,
    lower: ([x, axis, keep], ctx) => {
      const v = ctx.tensor(x!);
      const ax = axes(axis, v.shape.length);
      const r = logsumexpKeep(ctx.b, v, ax);
      return bool("logsumexp", "keepdims", keep, false) ? r : ctx.b.reshape(r, v.shape.filter((_, k) => !ax.includes(k)));
    },
  },
  softmax: {
    params: ["x", "axis"], required: 1,
    lower: ([x, axis], ctx) => {
      const v = ctx.tensor(x!);
      const ax = axes(axis ?? numberExpr(-1, ctx.span), v.shape.length);
      return ctx.b.unary("exp", ctx.b.sub(v, logsumexpKeep(ctx.b, v, ax)));
    },
  },
  log_softmax: {
    params: ["x", "axis"], required: 1,
    lower: ([x, axis], ctx) => {
      const v = ctx.tensor(x!);
      const ax = axes(axis ?? numberExpr(-1, ctx.span), v.shape.length);
      return ctx.b.sub(v, logsumexpKeep(ctx.b, v, ax));
    },
  },
  transpose: {
    params: ["x", "axes"], required: 1,
    lower: ([x, perm], ctx) => {
      const v = ctx.tensor(x!);
      const rank = v.shape.length;
      if (!perm) return ctx.b.transpose(v, Array.from({ length: rank }, (_, i) => rank - 1 - i));
      if (perm.kind !== "list") fail("E0118", perm.span, "axes");
      const p = perm.items.map((item) => {
        const a = constNumber(item);
        if (a === undefined || !Number.isInteger(a)) fail("E0118", item.span, "axes");
        const n = normalizeAxis(a, rank);
        if (n === undefined) fail("E0203", item.span, a, rank);
        return n;
      });
      if (p.length !== rank || new Set(p).size !== rank) fail("E0207", perm.span, formatShape(p), rank);
      return ctx.b.transpose(v, p);
    },
  },
  reshape: {
    params: ["x", "shape"], required: 2,
    lower: ([x, shapeArg], ctx) => {
      const v = ctx.tensor(x!);
      const target = shapeList(ctx, shapeArg!, true);
      const known = target.filter((d) => d !== -1) as Dim[];
      let shape = target as Dim[];
      if (target.includes(-1)) {
        const inferred = inferReshapeDim(v.shape, known);
        if (inferred === undefined) fail("E0205", ctx.span, formatShape(v.shape), formatShape(target));
        shape = target.map((d) => (d === -1 ? inferred : d));
      }
      return ctx.b.reshape(v, shape);
    },
  },
  broadcast_to: {
    params: ["x", "shape"], required: 2,
    lower: ([x, shapeArg], ctx) => {
      const v = ctx.tensor(x!);
      const shape = shapeList(ctx, shapeArg!, false) as Dim[];
      if (shape.length < v.shape.length) fail("E0208", ctx.span, formatShape(v.shape), formatShape(shape));
      return ctx.b.broadcastTo(v, shape);
    },
  },
  concat: {
    params: ["xs", "axis"], required: 1,
    lower: ([xs, axis], ctx) => {
      if (xs!.kind !== "list" || xs!.items.length === 0) fail("E0209", xs!.span, "the first argument must be a list of tensors, like [a, b]");
      const parts = xs!.items.map((e) => ctx.tensor(e));
      const rank = parts[0]!.shape.length;
      if (rank === 0) fail("E0209", xs!.span, "scalars cannot be concatenated");
      const a = int("concat", "axis", axis, 0);
      const k = normalizeAxis(a, rank);
      if (k === undefined) fail("E0203", axis?.span ?? ctx.span, a, rank);
      return parts.length === 1 ? parts[0]! : ctx.b.op("concat", parts, { axis: k });
    },
  },
  one_hot: {
    params: ["labels", "k"], required: 2,
    lower: ([labels, kArg], ctx) => {
      const v = ctx.tensor(labels!);
      const k = constNumber(kArg!);
      if (k === undefined || !Number.isInteger(k) || k <= 0) fail("E0216", kArg!.span, kArg!.kind === "number" ? kArg!.text : "an expression");
      const shape = [...v.shape, k];
      const b = ctx.b;
      const classes = b.op("iota", [], { shape, axis: v.shape.length });
      return b.binary("eq", b.broadcastTo(v, shape, v.shape.map((_, i) => i)), classes);
    },
  },
  conv2d: {
    params: ["x", "w", "stride", "padding"], required: 2,
    lower: ([x, w, stride, padding], ctx) => ctx.b.op("conv2d", [ctx.tensor(x!), ctx.tensor(w!)], {
      stride: int("conv2d", "stride", stride, 1), padding: int("conv2d", "padding", padding, 0),
    }),
  },
  maxpool2d: pool("maxpool2d"),
  avgpool2d: pool("avgpool2d"),
  grad: {
    params: ["e", "wrt"], required: 2,
    lower: ([e, wrt], ctx) => {
      const y = ctx.tensor(e!);
      if (wrt!.kind !== "name") fail("E0119", wrt!.span, "an expression");
      const bnd = ctx.scope.get(wrt!.name);
      if (!bnd || bnd.kind !== "tensor" || bnd.node.op.name !== "input") fail("E0119", wrt!.span, `\`${wrt!.name}\``);
      if (y.shape.length !== 0) fail("E0219", e!.span, formatShape(y.shape));
      return gradients(ctx.b, y, [bnd.node])[0]!;
    },
  },
};

function pool(op: string): Builtin {
  return {
    params: ["x", "size", "stride"], required: 1,
    lower: ([x, size, stride], ctx) => {
      const s = int(op, "size", size, 2);
      return ctx.b.op(op, [ctx.tensor(x!)], { size: s, stride: int(op, "stride", stride, s) });
    },
  };
}

function numberExpr(value: number, span: Span): Expr {
  return value < 0
    ? { kind: "unary", op: "-", operand: { kind: "number", value: -value, text: String(-value), span }, span }
    : { kind: "number", value, text: String(value), span };
}
