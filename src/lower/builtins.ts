// The built-in functions of the language: name, parameters (positional order, which are
// required), and how each lowers to primitives. Composites (softmax, gelu, clip, ...) are
// written here in terms of primitives, so their derivatives and fusion come for free;
// logsumexp shifts by a stop-gradient max, which makes it and log_softmax stable.

import { fail, type Span } from "../diagnostics";
import { formatShape, normalizeAxis, type Dim, type Node } from "../ir";
import { inferReshapeDim, type Builder } from "../ops";
import { gradients } from "../autodiff";
import type { Expr } from "../syntax";
import { convBuiltins } from "./conv-builtins";
import { axes, bool, constNumber, count, int, keptShape, tensorList } from "./arguments";
import type { ExprLowerer } from "./expr";
import type { Scope } from "./scope";
import { lowerEinsum } from "./einsum";
import { shapeList } from "./shape-expr";
import { stableForm } from "./stable";
import { constantBuiltins, oneHot } from "./builtins-constants";
import { modelBuiltins } from "./builtins-models";
import { randomBuiltins } from "./builtins-random";
import { scanBuiltins } from "./scan-builtins";

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

/** The reference entries of the elementwise functions of one argument: what each
 *  computes, its derivative, and the NumPy / PyTorch function it matches. */
const unaryDocs: Record<string, [summary: string, grad: string, counterpart: string]> = {
  exp: ["e to the power `x`.", "`exp(x)`", "`np.exp`, `torch.exp`"],
  log: ["Natural logarithm: `-Infinity` at 0, NaN below 0.", "`1 / x`", "`np.log`, `torch.log`"],
  log1p: ["`log(1 + x)`, accurate for small `x`.", "`1 / (1 + x)`", "`np.log1p`, `torch.log1p`"],
  expm1: ["`exp(x) - 1`, accurate for small `x`.", "`exp(x)`", "`np.expm1`, `torch.expm1`"],
  sqrt: ["Square root: NaN below 0.", "`0.5 / sqrt(x)` (`Infinity` at 0)", "`np.sqrt`, `torch.sqrt`"],
  abs: ["Absolute value.", "`sign(x)`: 0 at 0", "`np.abs`, `torch.abs`"],
  sin: ["Sine (radians).", "`cos(x)`", "`np.sin`, `torch.sin`"],
  cos: ["Cosine (radians).", "`-sin(x)`", "`np.cos`, `torch.cos`"],
  tan: ["Tangent (radians).", "`1 + tan(x)^2`", "`np.tan`, `torch.tan`"],
  asin: ["Arcsine: NaN outside [-1, 1].", "`1 / sqrt(1 - x^2)`", "`np.arcsin`, `torch.asin`"],
  acos: ["Arccosine: NaN outside [-1, 1].", "`-1 / sqrt(1 - x^2)`", "`np.arccos`, `torch.acos`"],
  atan: ["Arctangent.", "`1 / (1 + x^2)`", "`np.arctan`, `torch.atan`"],
  tanh: ["Hyperbolic tangent.", "`1 - tanh(x)^2`", "`np.tanh`, `torch.tanh`"],
  sinh: ["Hyperbolic sine.", "`cosh(x)`", "`np.sinh`, `torch.sinh`"],
  cosh: ["Hyperbolic cosine.", "`sinh(x)`", "`np.cosh`, `torch.cosh`"],
  sigmoid: ["`1 / (1 + exp(-x))`: exactly 0 or 1 at the extremes, never NaN.", "`sigmoid(x) (1 - sigmoid(x))`", "`torch.sigmoid`, `scipy.special.expit`"],
  relu: ["`max(x, 0)`.", "1 where `x > 0`, else 0 (0 at 0)", "`torch.relu`"],
  softplus: ["`log(1 + exp(x))`, computed as `max(x, 0) + log1p(exp(-abs(x)))`: finite for any `x`.", "`sigmoid(x)`", "`torch.nn.functional.softplus` (beta 1; no threshold), `np.logaddexp(0, x)`"],
  sign: ["-1, 0 or 1 by the sign of `x`.", "0 everywhere", "`np.sign`, `torch.sign`"],
  floor: ["The largest integer not above `x`.", "0 everywhere", "`np.floor`, `torch.floor`"],
};

// Argument readers (constant integers, flags, axes) live in arguments.ts, apart from the
// table, so the built-in files and the expression lowerer import them without a cycle.
export { axes, bool, count, int, keptShape } from "./arguments";

// Shape lists and integer arguments are integer expressions of sizes and dims
// (`[b * t, d]`, `n // 2`): shape-expr.ts.
export { intExpr, shapeList } from "./shape-expr";

export function reduceTo(ctx: BuiltinContext, op: string, x: Node, axisArg: Expr | undefined, keepArg: Expr | undefined, fnName: string): Node {
  const ax = axes(axisArg, x.shape.length);
  const keep = bool(fnName, "keepdims", keepArg, false);
  const r = ax.length === 0 ? x : ctx.b.op(op, [x], { axes: ax });
  return keep ? ctx.b.reshape(r, keptShape(x, ax)) : r;
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
  const doc = Object.prototype.hasOwnProperty.call(unaryDocs, name) ? unaryDocs[name] : undefined;
  return {
    params: ["x"], required: 1,
    ...(doc ? { doc: { group: "elementwise", signature: `${name}(x)`, summary: doc[0], shape: "`x.shape`", grad: doc[1], counterpart: doc[2] } } : {}),
    lower: ([x], ctx) => {
      const v = ctx.tensor(x!);
      return stableForm(ctx.b, name, v) ?? ctx.b.unary(name, v);
    },
  };
}

/** The reference entry of a reduction: they share the signature and the shape rule. */
function reductionDoc(name: string, summary: string, grad: string, counterpart: string): BuiltinDoc {
  return {
    group: "reduction", signature: `${name}(x, axis = all, keepdims = false)`, summary, grad, counterpart,
    shape: "`x.shape` without the reduced axes (kept as size 1 with `keepdims = true`); a scalar when `axis` is left out",
  };
}

function reduction(op: string): Builtin {
  return {
    params: ["x", "axis", "keepdims"], required: 1,
    lower: ([x, axis, keep], ctx) => reduceTo(ctx, op, ctx.tensor(x!), axis, keep, op),
  };
}

export const builtins: Record<string, Builtin> = {
  ...constantBuiltins,
  ...modelBuiltins,
  ...randomBuiltins,
  ...scanBuiltins,
  ...Object.fromEntries(elementwiseUnary.map((n) => [n, unaryBuiltin(n)])),
  // The identity whose derivative is zero (JAX's stop_gradient).
  stop_gradient: {
    ...unaryBuiltin("stop_gradient"),
    doc: {
      group: "grad", signature: "stop_gradient(x)", summary: "The value of `x`, treated as a constant by differentiation.",
      shape: "`x.shape`", grad: "0: no gradient flows through it", counterpart: "`jax.lax.stop_gradient(x)`, `x.detach()`",
    },
  },
  square: {
    params: ["x"], required: 1, lower: ([x], ctx) => ctx.b.binary("pow", ctx.tensor(x!), ctx.b.constant(2)),
    doc: { group: "elementwise", signature: "square(x)", summary: "`x ^ 2`.", shape: "`x.shape`", grad: "`2 x`", counterpart: "`np.square`, `torch.square`" },
  },
  pow: {
    params: ["a", "b"], required: 2, lower: ([a, c], ctx) => ctx.b.binary("pow", ctx.tensor(a!), ctx.tensor(c!)),
    doc: {
      group: "elementwise", signature: "pow(a, b)", summary: "`a` to the power `b`, the same as `a ^ b`.", shape: "`a` and `b` broadcast",
      grad: "`b a^(b-1)` to `a`, 0 where `b = 0` (so 0 for `x ^ 0` at 0, as PyTorch); `a^b log(a)` to `b`, 0 where `a = 0` and `b >= 0` as PyTorch (NaN for `a < 0`), not formed at all when `b` is a constant",
      counterpart: "`np.power`, `torch.pow`",
    },
  },
  maximum: {
    params: ["a", "b"], required: 2, lower: ([a, c], ctx) => ctx.b.binary("maximum", ctx.tensor(a!), ctx.tensor(c!)),
    doc: {
      group: "elementwise", signature: "maximum(a, b)", summary: "The larger of `a` and `b`, element by element.", shape: "`a` and `b` broadcast",
      grad: "to the larger side; split evenly where `a == b`", counterpart: "`np.maximum`, `torch.maximum`",
    },
  },
  minimum: {
    params: ["a", "b"], required: 2, lower: ([a, c], ctx) => ctx.b.binary("minimum", ctx.tensor(a!), ctx.tensor(c!)),
    doc: {
      group: "elementwise", signature: "minimum(a, b)", summary: "The smaller of `a` and `b`, element by element.", shape: "`a` and `b` broadcast",
      grad: "to the smaller side; split evenly where `a == b`", counterpart: "`np.minimum`, `torch.minimum`",
    },
  },
  where: {
    params: ["cond", "a", "b"], required: 3,
    doc: {
      group: "elementwise", signature: "where(cond, a, b)", summary: "`a` where `cond` is nonzero, else `b`.", shape: "`cond`, `a` and `b` broadcast",
      grad: "to `a` where `cond` holds, to `b` elsewhere; none to `cond`. NaN-safe: the branch not taken gets exactly 0 (docs/stability.md)",
      counterpart: "`np.where`, `torch.where`",
    },
    lower: ([c, a, d], ctx) => ctx.b.where(ctx.tensor(c!), ctx.tensor(a!), ctx.tensor(d!)),
  },
  clip: {
    // PyTorch's clamp: x where lo <= x <= hi (the whole gradient passes at the bounds),
    // else the bound it crossed.
    params: ["x", "lo", "hi"], required: 3,
    doc: {
      group: "elementwise", signature: "clip(x, lo, hi)", summary: "`x` limited to [`lo`, `hi`]; the bounds may be tensors.", shape: "`x`, `lo` and `hi` broadcast",
      grad: "to `x` where `lo <= x <= hi` (bounds included), else to the bound crossed", counterpart: "`torch.clamp`, `np.clip`",
    },
    lower: ([x, lo, hi], ctx) => {
      const b = ctx.b, v = ctx.tensor(x!), l = ctx.tensor(lo!), h = ctx.tensor(hi!);
      return b.where(b.binary("gt", v, h), h, b.where(b.binary("lt", v, l), l, v));
    },
  },
  leaky_relu: {
    params: ["x", "alpha"], required: 1,
    doc: {
      group: "elementwise", signature: "leaky_relu(x, alpha = 0.01)", summary: "`x` where `x > 0`, else `alpha x`; `alpha` may be any tensor expression, a param to learn it.",
      shape: "`x` and `alpha` broadcast", grad: "1 where `x > 0`, else `alpha` (`alpha` at 0); `x` where `x <= 0` to `alpha`",
      counterpart: "`torch.nn.functional.leaky_relu(x, negative_slope = alpha)`",
    },
    lower: ([x, alpha], ctx) => {
      const b = ctx.b, v = ctx.tensor(x!);
      const a = alpha ? ctx.tensor(alpha) : b.constant(0.01);
      return b.where(b.binary("gt", v, b.constant(0)), v, b.mul(a, v));
    },
  },
  elu: {
    params: ["x", "alpha"], required: 1,
    doc: {
      group: "elementwise", signature: "elu(x, alpha = 1)", summary: "`x` where `x > 0`, else `alpha (exp(x) - 1)`.", shape: "`x` and `alpha` broadcast",
      grad: "1 where `x > 0`, else `alpha exp(x)` (`alpha` at 0); finite even where the unused branch overflows", counterpart: "`torch.nn.functional.elu`",
    },
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
    doc: {
      group: "elementwise", signature: "gelu(x)", summary: "`0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))`, the tanh form.", shape: "`x.shape`",
      grad: "the derivative of that formula", counterpart: "`torch.nn.functional.gelu(x, approximate = \"tanh\")`",
    },
    lower: ([x], ctx) => {
      // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      const b = ctx.b, v = ctx.tensor(x!);
      const inner = b.mul(b.constant(Math.sqrt(2 / Math.PI)), b.add(v, b.mul(b.constant(0.044715), b.binary("pow", v, b.constant(3)))));
      return b.mul(b.mul(b.constant(0.5), v), b.add(b.constant(1), b.unary("tanh", inner)));
    },
  },
  sum: { ...reduction("sum"), doc: reductionDoc("sum", "The sum of the elements over `axis`.", "`g` copied back to every element", "`np.sum`, `torch.sum`") },
  max: {
    ...reduction("max"),
    doc: reductionDoc("max", "The largest element over `axis`.", "to the maximal elements, split evenly among ties", "`np.max`, `torch.amax` (which splits ties evenly too)"),
  },
  min: {
    ...reduction("min"),
    doc: reductionDoc("min", "The smallest element over `axis`.", "to the minimal elements, split evenly among ties", "`np.min`, `torch.amin` (which splits ties evenly too)"),
  },
  prod: {
    ...reduction("prod"),
    doc: reductionDoc("prod", "The product of the elements over `axis`.", "the product of the other elements, exact with zeros (nonzero only at the only zero of a group)", "`np.prod`, `torch.prod`"),
  },
  mean: {
    params: ["x", "axis", "keepdims"], required: 1,
    doc: reductionDoc("mean", "The sum over `axis` divided by the number of elements reduced (the size at run time when a free dim is reduced).", "`g / count` copied back to every element", "`np.mean`, `torch.mean`"),
    lower: ([x, axis, keep], ctx) => {
      const v = ctx.tensor(x!);
      const ax = axes(axis, v.shape.length);
      const s = reduceTo(ctx, "sum", v, axis, keep, "mean");
      return ctx.b.div(s, count(ctx.b, v, ax));
    },
  },
  logsumexp: {
    params: ["x", "axis", "keepdims"], required: 1,
    doc: reductionDoc("logsumexp", "`log(sum(exp(x)))` over `axis`, shifted by the maximum: finite for any finite input.", "`g softmax(x)` over the reduced axes", "`scipy.special.logsumexp`, `torch.logsumexp`"),
    lower: ([x, axis, keep], ctx) => {
      const v = ctx.tensor(x!);
      const ax = axes(axis, v.shape.length);
      const r = logsumexpKeep(ctx.b, v, ax);
      return bool("logsumexp", "keepdims", keep, false) ? r : ctx.b.reshape(r, v.shape.filter((_, k) => !ax.includes(k)));
    },
  },
  softmax: {
    params: ["x", "axis"], required: 1,
    doc: {
      group: "softmax", signature: "softmax(x, axis = -1)", summary: "`exp(x) / sum(exp(x))` over `axis` (an integer or a list), shifted by the maximum.", shape: "`x.shape`",
      grad: "`y (g - sum(g y))` over `axis`, `y` the result", counterpart: "`torch.softmax(x, dim = axis)`, `scipy.special.softmax`",
    },
    lower: ([x, axis], ctx) => {
      const v = ctx.tensor(x!);
      const ax = axes(axis ?? numberExpr(-1, ctx.span), v.shape.length);
      return ctx.b.unary("exp", ctx.b.sub(v, logsumexpKeep(ctx.b, v, ax)));
    },
  },
  log_softmax: {
    params: ["x", "axis"], required: 1,
    doc: {
      group: "softmax", signature: "log_softmax(x, axis = -1)", summary: "`x - logsumexp(x, axis, keepdims = true)`: the stable log of `softmax`.", shape: "`x.shape`",
      grad: "`g - softmax(x) sum(g)` over `axis`", counterpart: "`torch.log_softmax(x, dim = axis)`, `scipy.special.log_softmax`",
    },
    lower: ([x, axis], ctx) => {
      const v = ctx.tensor(x!);
      const ax = axes(axis ?? numberExpr(-1, ctx.span), v.shape.length);
      return ctx.b.sub(v, logsumexpKeep(ctx.b, v, ax));
    },
  },
  transpose: {
    params: ["x", "axes"], required: 1,
    doc: {
      group: "shape", signature: "transpose(x, axes = reversed)", summary: "`x` with its axes permuted: axis `k` of the result is axis `axes[k]` of `x`; all reversed without `axes`.",
      shape: "`x.shape` permuted", grad: "`g` transposed back", counterpart: "`np.transpose`, `torch.permute` (`x.T` at rank 2)",
    },
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
    doc: {
      group: "shape", signature: "reshape(x, shape)", summary: "The same elements in row-major order, in a new shape: a list of integer expressions of sizes and dims (`[b * t, d]`, `[n // 2, 2]`), one of which may be -1 (the rest).",
      shape: "`shape`", grad: "`g` reshaped back", counterpart: "`np.reshape`, `torch.reshape`",
    },
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
    doc: {
      group: "shape", signature: "broadcast_to(x, shape)", summary: "`x` repeated along new leading axes and along its axes of size 1, by NumPy's rule.",
      shape: "`shape`", grad: "`g` summed over the repeated axes", counterpart: "`np.broadcast_to`, `torch.broadcast_to`",
    },
    lower: ([x, shapeArg], ctx) => {
      const v = ctx.tensor(x!);
      const shape = shapeList(ctx, shapeArg!, false) as Dim[];
      if (shape.length < v.shape.length) fail("E0208", ctx.span, formatShape(v.shape), formatShape(shape));
      return ctx.b.broadcastTo(v, shape);
    },
  },
  concat: {
    params: ["xs", "axis"], required: 1,
    doc: {
      group: "shape", signature: "concat(xs, axis = 0)", summary: "The tensors of the list `xs` (`[a, b, ...]`, equal ranks) joined along `axis`; the other sizes must match.",
      shape: "the common shape, with the sizes along `axis` added", grad: "each input gets its own slice of `g`", counterpart: "`np.concatenate`, `torch.cat`",
    },
    lower: ([xs, axis], ctx) => {
      const parts = tensorList(xs!, (e) => ctx.tensor(e));
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
    doc: {
      group: "indexing", signature: "one_hot(labels, k)", summary: "1 where the position along a new last axis of size `k` equals the label, else 0; `labels` hold integer values (as floats), `k` is a constant positive integer.",
      shape: "`[...labels.shape, k]`", grad: "none: `labels` get no gradient", counterpart: "`torch.nn.functional.one_hot(labels, k)` (as floats), `np.eye(k)[labels]`",
    },
    lower: ([labels, kArg], ctx) => {
      const v = ctx.tensor(labels!);
      const k = constNumber(kArg!);
      if (k === undefined || !Number.isInteger(k) || k <= 0) fail("E0216", kArg!.span, kArg!.kind === "number" ? kArg!.text : "an expression");
      return oneHot(ctx.b, v, k);
    },
  },
  // conv1d, conv2d, conv_transpose1d/2d, pooling and their gradients as built-ins
  ...convBuiltins,
  einsum: {
    // Up to 8 operands, positional (the string first).
    params: ["subscripts", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8"], required: 2,
    doc: {
      group: "shape", signature: "einsum(subscripts, x1, x2, ...)",
      summary: "Einstein summation over NumPy subscripts (`\"bhqd,bhkd->bhqk\"`): explicit `->` or implicit output, `...` for leading axes, a label repeated in one operand takes its diagonal, labels left out of the output are summed. Lowered to transposes, reshapes, batched matmul and sums.",
      shape: "the output labels' sizes, in order", grad: "that of the primitives it lowers to (matmuls, sums, broadcasts)",
      counterpart: "`np.einsum`, `torch.einsum`",
    },
    lower: ([subscripts, ...operands], ctx) => {
      if (subscripts!.kind !== "string") fail("E0225", subscripts!.span, "the first argument must be the subscripts string, like \"ij,jk->ik\"");
      const given = operands.filter((o): o is Expr => o !== undefined);
      return lowerEinsum(ctx.b, subscripts!.value, subscripts!.span, given.map((o) => ctx.tensor(o)), given.map((o) => o.span));
    },
  },
  grad: {
    params: ["e", "wrt"], required: 2,
    doc: {
      group: "grad", signature: "grad(e, wrt)", summary: "The gradient of the scalar expression `e` with respect to the param or input named `wrt`.",
      shape: "`wrt.shape`", grad: "an expression like any other, so it differentiates again: `grad(sum(grad(loss, w) * v), w)` is a Hessian-vector product",
      counterpart: "`torch.autograd.grad(e, wrt, create_graph = True)`, `jax.grad`",
    },
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

export function numberExpr(value: number, span: Span): Expr {
  return value < 0
    ? { kind: "unary", op: "-", operand: { kind: "number", value: -value, text: String(-value), span }, span }
    : { kind: "number", value, text: String(value), span };
}
