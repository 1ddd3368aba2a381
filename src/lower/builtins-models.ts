// Built-ins for real models (SPEC section 5): elementwise erf, round, ceil, trunc, mod;
// the reductions var, std, norm, cumsum, argmax, argmin; and the shape ops stack, squeeze,
// expand_dims, flip, pad, tile, repeat (layer_norm, rms_norm, silu, log_sigmoid and rsqrt
// are prelude lines: src/syntax/prelude.ts). Primitives where the op table
// has one (erf, mod, cumsum, argmax, flip, pad); the rest are compositions of primitives,
// so they differentiate and fuse like any other graph. Merged into `builtins` (builtins.ts).

import { fail } from "../diagnostics";
import { dimMul, dimProduct, formatShape, normalizeAxis, type Dim, type Node } from "../ir";
import type { Builder } from "../ops";
import type { Expr } from "../syntax";
import { axes, bool, constNumber, count, int, keptShape, tensorList } from "./arguments";
import type { Builtin, BuiltinContext, BuiltinDoc } from "./builtins";

const sameShapeDoc = "`x.shape`";

function unary(op: string, doc: Omit<BuiltinDoc, "group" | "signature" | "shape">): Builtin {
  return {
    params: ["x"], required: 1,
    doc: { group: "elementwise", signature: `${op}(x)`, shape: sameShapeDoc, ...doc },
    lower: ([x], ctx) => ctx.b.unary(op, ctx.tensor(x!)),
  };
}

/** The shape of a reduction's result, for its doc. */
const reducedShape = "`x.shape` without the reduced axes (kept as size 1 with `keepdims = true`); a scalar when `axis` is left out";

/** The axes an `axis` argument names, or every axis when it is left out. */
const axesOf = (x: Node, axis: Expr | undefined) => axes(axis, x.shape.length);

/** sqrt that is 0 with a zero gradient at 0 (not 0.5 / sqrt(0) * 0 = NaN): the inner
 *  `where` keeps the unused branch's derivative finite, the outer one picks the value. */
function safeSqrt(b: Builder, s: Node): Node {
  const positive = b.binary("gt", s, b.constant(0));
  return b.where(positive, b.unary("sqrt", b.where(positive, s, b.constant(1))), b.constant(0));
}

/** The variance over `ax`, keepdims form: sum((x - mean)^2) / (count - correction). */
function varianceKeep(ctx: BuiltinContext, fn: string, x: Node, ax: number[], correction: Expr | undefined): Node {
  const b = ctx.b;
  const shape = keptShape(x, ax);
  const n = count(b, x, ax);
  const centered = b.sub(x, b.div(b.reshape(b.sum(x, ax), shape), n));
  const c = correction ? numberArg(fn, "correction", correction) : 0;
  const squares = b.reshape(b.sum(b.mul(centered, centered), ax), shape);
  return b.div(squares, c === 0 ? n : b.sub(n, b.constant(c)));
}

/** `r` in keepdims form without the reduced axes, unless keepdims. */
function unkeep(ctx: BuiltinContext, r: Node, x: Node, ax: number[], keep: Expr | undefined, fn: string): Node {
  return bool(fn, "keepdims", keep, false) ? r : ctx.b.reshape(r, x.shape.filter((_, k) => !ax.includes(k)));
}

function numberArg(fn: string, arg: string, e: Expr): number {
  const v = constNumber(e);
  if (v === undefined || !Number.isFinite(v)) fail("E0116", e.span, fn, arg);
  return v;
}

/** An integer argument of at least `min` (0 or 1). */
function intAtLeast(fn: string, arg: string, e: Expr, min: number): number {
  const v = int(fn, arg, e, 0);
  if (v < min) fail("E0253", e.span, fn, arg, min === 0 ? "a non-negative integer" : "a positive integer", String(v));
  return v;
}

/** One axis of a tensor of `rank`, negative counting from the end. */
function oneAxis(ctx: BuiltinContext, fn: string, e: Expr | undefined, rank: number, dflt: number): number {
  const a = int(fn, "axis", e, dflt);
  const k = normalizeAxis(a, rank);
  if (k === undefined) fail("E0203", e?.span ?? ctx.span, a, rank);
  return k;
}

/** argmax/argmin: over one axis, or over all (the index into the flattened tensor). */
function argExtreme(op: "argmax" | "argmin", which: string): Builtin {
  return {
    params: ["x", "axis", "keepdims"], required: 1,
    doc: {
      group: "reduction", signature: `${op}(x, axis = all, keepdims = false)`,
      summary: `The index of the ${which} element along \`axis\` (with no \`axis\`, into the flattened tensor), as a float; the first one on ties, and NaN counts as the ${which}.`,
      shape: reducedShape, grad: "none (an index)", counterpart: `\`np.${op}\`, \`torch.${op}\``,
    },
    lower: ([x, axis, keep], ctx) => {
      const v = ctx.tensor(x!);
      const ax = axesOf(v, axis);
      if (ax.length === 0) return ctx.b.constant(0, v.shape);
      const r = ctx.b.op(op, [v], { axes: ax });
      return bool(op, "keepdims", keep, false) ? ctx.b.reshape(r, keptShape(v, ax)) : r;
    },
  };
}

/** `x` with `reps[k]` copies along each axis, as a broadcast over a new axis merged into
 *  axis k (`copiesFirst`: the copies outside, tile; else inside, repeat). */
function copies(ctx: BuiltinContext, x: Node, reps: number[], copiesFirst: boolean): Node {
  const b = ctx.b;
  if (reps.every((r) => r === 1)) return x;
  const split: Dim[] = [];
  const dims: number[] = [];
  const merged: Dim[] = [];
  x.shape.forEach((d, k) => {
    const r = reps[k]!;
    if (copiesFirst) { split.push(r); dims.push(split.length); split.push(d); } else { dims.push(split.length); split.push(d, r); }
    merged.push(dimMul(d, r));
  });
  return b.reshape(b.broadcastTo(x, split, dims), merged);
}

export const modelBuiltins: Record<string, Builtin> = {
  // ---- elementwise ----
  erf: unary("erf", {
    summary: "The error function `2 / sqrt(pi) * integral of exp(-t^2) from 0 to x`, to within 1e-15 relative (W. J. Cody's rational approximations).",
    grad: "`2 / sqrt(pi) * exp(-x^2)`", counterpart: "`torch.erf`, `scipy.special.erf`",
  }),
  round: unary("round", {
    summary: "The nearest integer; halves go to the even one (`round(2.5)` is 2, `round(-0.5)` is -0).",
    grad: "0 everywhere", counterpart: "`np.round`, `torch.round`",
  }),
  ceil: unary("ceil", { summary: "The smallest integer not below `x`.", grad: "0 everywhere", counterpart: "`np.ceil`, `torch.ceil`" }),
  trunc: unary("trunc", { summary: "`x` with its fractional part removed (towards zero).", grad: "0 everywhere", counterpart: "`np.trunc`, `torch.trunc`" }),
  mod: {
    params: ["a", "b"], required: 2,
    doc: {
      group: "elementwise", signature: "mod(a, b)",
      summary: "Floor modulo: `a - floor(a / b) * b`, with the sign of `b` (Python's `%`), computed exactly from the remainder of the division.",
      shape: "`a` and `b` broadcast", grad: "1 to `a`; `-floor(a / b)` to `b` (as PyTorch)",
      counterpart: "`torch.remainder`, `np.mod`, Python `a % b`",
    },
    lower: ([a, c], ctx) => ctx.b.binary("mod", ctx.tensor(a!), ctx.tensor(c!)),
  },

  // ---- reductions ----
  var: {
    params: ["x", "axis", "keepdims", "correction"], required: 1,
    doc: {
      group: "reduction", signature: "var(x, axis = all, keepdims = false, correction = 0)",
      summary: "The variance `sum((x - mean(x))^2) / (count - correction)` over `axis`: 0 gives the population variance, 1 the unbiased sample variance.",
      shape: reducedShape, grad: "`2 (x - mean(x)) / (count - correction)`", counterpart: "`np.var(x, ddof = correction)`, `torch.var(x, correction = correction)`",
    },
    lower: ([x, axis, keep, correction], ctx) => {
      const v = ctx.tensor(x!);
      const ax = axesOf(v, axis);
      return unkeep(ctx, varianceKeep(ctx, "var", v, ax, correction), v, ax, keep, "var");
    },
  },
  std: {
    params: ["x", "axis", "keepdims", "correction"], required: 1,
    doc: {
      group: "reduction", signature: "std(x, axis = all, keepdims = false, correction = 0)",
      summary: "The standard deviation, `sqrt(var(x, axis, correction = correction))`.",
      shape: reducedShape, grad: "`(x - mean(x)) / ((count - correction) std)`; 0 where the variance is 0 (PyTorch gives NaN there)",
      counterpart: "`np.std(x, ddof = correction)`, `torch.std(x, correction = correction)`",
    },
    lower: ([x, axis, keep, correction], ctx) => {
      const v = ctx.tensor(x!);
      const ax = axesOf(v, axis);
      return unkeep(ctx, safeSqrt(ctx.b, varianceKeep(ctx, "std", v, ax, correction)), v, ax, keep, "std");
    },
  },
  norm: {
    params: ["x", "axis", "keepdims"], required: 1,
    doc: {
      group: "reduction", signature: "norm(x, axis = all, keepdims = false)",
      summary: "The L2 norm `sqrt(sum(x^2))` over `axis` (over every element when it is left out).",
      shape: reducedShape, grad: "`x / norm(x)`; 0 where the norm is 0 (as PyTorch), not NaN",
      counterpart: "`torch.linalg.vector_norm(x, dim = axis)`, `np.linalg.norm` of the flattened axes",
    },
    lower: ([x, axis, keep], ctx) => {
      const b = ctx.b, v = ctx.tensor(x!);
      const ax = axesOf(v, axis);
      const r = safeSqrt(b, b.reshape(b.sum(b.mul(v, v), ax), keptShape(v, ax)));
      return unkeep(ctx, r, v, ax, keep, "norm");
    },
  },
  cumsum: {
    params: ["x", "axis"], required: 2,
    doc: {
      group: "reduction", signature: "cumsum(x, axis)", summary: "Running sums along `axis`: element i is the sum of elements 0 to i.",
      shape: sameShapeDoc, grad: "the running sum of the gradient from the other end (`flip(cumsum(flip(g, axis), axis), axis)`)",
      counterpart: "`np.cumsum(x, axis)`, `torch.cumsum(x, dim)`",
    },
    lower: ([x, axis], ctx) => {
      const v = ctx.tensor(x!);
      if (v.shape.length === 0) return v;
      return ctx.b.op("cumsum", [v], { axis: oneAxis(ctx, "cumsum", axis, v.shape.length, 0) });
    },
  },
  argmax: argExtreme("argmax", "largest"),
  argmin: argExtreme("argmin", "smallest"),

  // ---- shape ----
  stack: {
    params: ["xs", "axis"], required: 1,
    doc: {
      group: "shape", signature: "stack([a, b, ...], axis = 0)", summary: "Tensors of one shape joined along a new axis.",
      shape: "`a.shape` with the number of tensors inserted at `axis`", grad: "each tensor gets its slice of the gradient",
      counterpart: "`np.stack`, `torch.stack`",
    },
    lower: ([xs, axis], ctx) => {
      const parts = tensorList(xs!, (e) => ctx.tensor(e));
      const first = parts[0]!;
      for (const p of parts) {
        if (p.shape.length !== first.shape.length || p.shape.some((d, k) => d !== first.shape[k])) {
          fail("E0261", xs!.span, "stack", formatShape(first.shape), formatShape(p.shape));
        }
      }
      const k = oneAxis(ctx, "stack", axis, first.shape.length + 1, 0);
      const unit = [...first.shape.slice(0, k), 1, ...first.shape.slice(k)];
      const expanded = parts.map((p) => ctx.b.reshape(p, unit));
      return expanded.length === 1 ? expanded[0]! : ctx.b.op("concat", expanded, { axis: k });
    },
  },
  squeeze: {
    params: ["x", "axis"], required: 1,
    doc: {
      group: "shape", signature: "squeeze(x, axis = all)", summary: "`x` without the listed size-1 axes (every size-1 axis when `axis` is left out).",
      shape: "`x.shape` without those axes", grad: "the gradient reshaped back", counterpart: "`np.squeeze`, `torch.squeeze`",
    },
    lower: ([x, axis], ctx) => {
      const v = ctx.tensor(x!);
      const ax = axis ? axes(axis, v.shape.length) : v.shape.flatMap((d, k) => (d === 1 ? [k] : []));
      for (const k of ax) if (v.shape[k] !== 1) fail("E0260", axis!.span, "squeeze", k, String(v.shape[k]));
      return ctx.b.reshape(v, v.shape.filter((_, k) => !ax.includes(k)));
    },
  },
  expand_dims: {
    params: ["x", "axis"], required: 2,
    doc: {
      group: "shape", signature: "expand_dims(x, axis)", summary: "`x` with new size-1 axes at the listed positions of the result (an integer or a list).",
      shape: "`x.shape` with 1 inserted at each `axis`", grad: "the gradient reshaped back", counterpart: "`np.expand_dims`, `torch.unsqueeze`",
    },
    lower: ([x, axis], ctx) => {
      const v = ctx.tensor(x!);
      const count = axis!.kind === "list" ? axis!.items.length : 1;
      const ax = axes(axis!, v.shape.length + count);
      const shape: Dim[] = [];
      let next = 0;
      for (let k = 0; k < v.shape.length + count; k++) shape.push(ax.includes(k) ? 1 : v.shape[next++]!);
      return ctx.b.reshape(v, shape);
    },
  },
  flip: {
    params: ["x", "axis"], required: 1,
    doc: {
      group: "shape", signature: "flip(x, axis = all)", summary: "`x` with the order of elements reversed along `axis` (an integer or a list; every axis when left out).",
      shape: sameShapeDoc, grad: "the gradient flipped the same way", counterpart: "`np.flip`, `torch.flip`",
    },
    lower: ([x, axis], ctx) => {
      const v = ctx.tensor(x!);
      const ax = axes(axis, v.shape.length).filter((k) => v.shape[k] !== 1);
      return ax.length === 0 ? v : ctx.b.op("flip", [v], { axis: ax });
    },
  },
  pad: {
    params: ["x", "pad_width", "value"], required: 2,
    doc: {
      group: "shape", signature: "pad(x, [[before, after], ...], value = 0)",
      summary: "`x` with `before` and `after` elements of `value` (a constant) added on each side, one pair per axis. It is also how `gradc grad` prints the gradient of a slice.",
      shape: "each axis grows by `before + after`", grad: "the interior slice of the gradient to `x`",
      counterpart: "`np.pad(x, pad_width, constant_values = value)`, `torch.nn.functional.pad` (pairs listed from the first axis)",
    },
    lower: ([x, widthArg, valueArg], ctx) => {
      const v = ctx.tensor(x!);
      const w = widthArg!;
      if (w.kind !== "list" || !w.items.every((p) => p.kind === "list")) {
        fail("E0253", w.span, "pad", "pad_width", "a list of [before, after] pairs, one per axis", w.kind === "list" ? "a list of numbers" : "an expression");
      }
      if (w.items.length !== v.shape.length) fail("E0263", w.span, "pad", "pad_width", v.shape.length, w.items.length);
      const widths = w.items.map((pair) => {
        const items = (pair as Extract<Expr, { kind: "list" }>).items;
        if (items.length !== 2) fail("E0253", pair.span, "pad", "pad_width", "a list of [before, after] pairs", `a list of ${items.length}`);
        const lohi = items.map((e) => intAtLeast("pad", "pad_width", e, 0));
        return lohi;
      });
      const value = valueArg ? numberArg("pad", "value", valueArg) : 0;
      if (widths.every(([lo, hi]) => lo === 0 && hi === 0)) return v;
      return ctx.b.op("pad", [v], { pad_width: widths, value });
    },
  },
  tile: {
    params: ["x", "reps"], required: 2,
    doc: {
      group: "shape", signature: "tile(x, reps)", summary: "`x` repeated `reps[k]` times along each axis, whole copies one after another (an integer or a list; a shorter list applies to the last axes, a longer one adds leading axes).",
      shape: "`x.shape[k] * reps[k]` per axis", grad: "the sum of the gradient over the copies", counterpart: "`np.tile`, `torch.tile`",
    },
    lower: ([x, repsArg], ctx) => {
      let v = ctx.tensor(x!);
      const items = repsArg!.kind === "list" ? repsArg!.items : [repsArg!];
      let reps = items.map((e) => intAtLeast("tile", "reps", e, 1));
      if (reps.length > v.shape.length) v = ctx.b.reshape(v, [...new Array<number>(reps.length - v.shape.length).fill(1), ...v.shape]);
      reps = [...new Array<number>(v.shape.length - reps.length).fill(1), ...reps];
      return copies(ctx, v, reps, true);
    },
  },
  repeat: {
    params: ["x", "n", "axis"], required: 2,
    doc: {
      group: "shape", signature: "repeat(x, n, axis = none)", summary: "Each element of `x` repeated `n` times along `axis`, copies side by side (with no `axis`, of the flattened tensor).",
      shape: "`x.shape` with `axis` times `n` (`[n * count]` without `axis`)", grad: "the sum of the gradient over each element's copies",
      counterpart: "`np.repeat(x, n, axis)`, `torch.repeat_interleave(x, n, dim)`",
    },
    lower: ([x, nArg, axis], ctx) => {
      let v = ctx.tensor(x!);
      const n = intAtLeast("repeat", "n", nArg!, 1);
      if (!axis) v = ctx.b.reshape(v, [dimProduct(v.shape)]);
      const k = axis ? oneAxis(ctx, "repeat", axis, v.shape.length, 0) : 0;
      return copies(ctx, v, v.shape.map((_, i) => (i === k ? n : 1)), false);
    },
  },
};
