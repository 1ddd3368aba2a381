// Built-ins for gathering by ids and for constant tensors: take, embedding, scatter_add
// (take's gradient, printed by `gradc grad`), one_hot, arange, zeros, ones, full, eye,
// tensor literals, tril and triu. Index patterns (arange, eye, the tril/triu masks) are
// built from the `arange` source, so they are computed in the kernels that read them.

import { fail, type Span } from "../diagnostics";
import { formatShape, normalizeAxis, type Dim, type Node } from "../ir";
import type { Builder } from "../ops";
import { arangeAttrs, literalShape } from "../ops/constant";
import type { Expr } from "../syntax";
import type { Builtin, BuiltinContext } from "./builtins";
import { shapeList } from "./shape-expr";
import { constNumber } from "./arguments";

/** A constant integer argument (`axis`, `k`), or the default. */
function intArg(fn: string, arg: string, e: Expr | undefined, dflt: number): number {
  if (!e) return dflt;
  const v = constNumber(e);
  if (v === undefined || !Number.isInteger(v)) fail("E0116", e.span, fn, arg);
  return v;
}

/** A constant number argument (`start`, `step`, a fill value written as a number). */
function numberArg(fn: string, arg: string, e: Expr): number {
  const v = constNumber(e);
  if (v === undefined || !Number.isFinite(v)) fail("E0245", e.span, fn, arg, e.kind === "number" ? e.text : "an expression");
  return v;
}

/** A size argument: a non-negative integer or a dim (bound or free), read like one shape
 *  entry so shape arithmetic (`n // 2`) works here too. */
function sizeArg(ctx: BuiltinContext, fn: string, arg: string, e: Expr): Dim {
  const v = constNumber(e);
  if (v !== undefined && (!Number.isInteger(v) || v < 0)) fail("E0244", e.span, fn, arg);
  return shapeList(ctx, { kind: "list", items: [e], span: e.span }, false)[0] as Dim;
}

function axisOf(fn: string, e: Expr | undefined, rank: number, span: Span): number {
  const a = intArg(fn, "axis", e, 0);
  const k = normalizeAxis(a, rank);
  if (k === undefined) fail("E0203", e?.span ?? span, a, rank);
  return k;
}

/** arange(start, stop, step) as the `arange` source. */
function arangeNode(b: Builder, start: number, stop: Dim, step: number): Node {
  return b.op("arange", [], arangeAttrs(start, stop, step));
}

/** The identity matrix [n, m]: 1 where the row index equals the column index. */
export function eyeNode(b: Builder, n: Dim, m: Dim): Node {
  const shape = [n, m];
  const rows = b.broadcastTo(arangeNode(b, 0, n, 1), shape, [0]);
  const cols = b.broadcastTo(arangeNode(b, 0, m, 1), shape, [1]);
  return b.binary("eq", rows, cols);
}

/** one_hot(labels, k) = take(eye(k), labels): bad labels are caught like any ids. */
export function oneHot(b: Builder, labels: Node, k: number): Node {
  return b.op("take", [eyeNode(b, k, k), labels], { axis: 0 });
}

/** tril / triu: `x` where column - row <= k (tril) or >= k (triu) over the last two axes, else 0. */
function triangle(fn: "tril" | "triu"): Builtin["lower"] {
  return ([x, kArg], ctx) => {
    const b = ctx.b;
    const v = ctx.tensor(x!);
    if (v.shape.length < 2) fail("E0214", ctx.span, fn, `the input must have at least 2 axes, but this is ${formatShape(v.shape)}`);
    const k = intArg(fn, "k", kArg, 0);
    const n = v.shape[v.shape.length - 2]!;
    const m = v.shape[v.shape.length - 1]!;
    const shape = [n, m];
    const rows = b.broadcastTo(arangeNode(b, 0, n, 1), shape, [0]);
    const cols = b.broadcastTo(arangeNode(b, 0, m, 1), shape, [1]);
    const mask = b.binary(fn === "tril" ? "le" : "ge", b.sub(cols, rows), b.constant(k));
    return b.where(mask, v, b.constant(0));
  };
}

/** The values of a `tensor(...)` literal as a nested list; ragged rows are located errors. */
function literalValues(e: Expr): number | unknown[] {
  if (e.kind !== "list") return numberArg("tensor", "values", e);
  const items = e.items.map(literalValues);
  const first = items[0];
  const shape = literalShape(first);
  items.forEach((item, i) => {
    const s = literalShape(item);
    if (s.length !== shape.length || s.some((d, k) => d !== shape[k])) {
      fail("E0240", e.items[i]!.span, `ragged literal: this entry has shape ${formatShape(s)}, but the first has ${formatShape(shape)}`);
    }
  });
  return items;
}

const docOf = (group: string, signature: string, summary: string, shape: string, grad: string, counterpart: string) =>
  ({ group, signature, summary, shape, grad, counterpart });

export const constantBuiltins: Record<string, Builtin> = {
  take: {
    params: ["x", "ids", "axis"], required: 2,
    doc: docOf("indexing", "take(x, ids, axis = 0)",
      "The slices of `x` along `axis` at the positions in `ids` (integer values stored as floats, any shape); a non-integer or out-of-range id is a GradcError naming the input and position, at run time.",
      "`x.shape[:axis] + ids.shape + x.shape[axis+1:]`",
      "to `x`: `scatter_add(g, ids, x.shape[axis], axis)` (repeated ids add up); none to `ids`",
      "`np.take(x, ids, axis)`, `torch.index_select` for 1-d ids"),
    lower: ([x, ids, axis], ctx) => {
      const v = ctx.tensor(x!);
      const k = axisOf("take", axis, v.shape.length, ctx.span);
      return ctx.b.op("take", [v, ctx.tensor(ids!)], { axis: k });
    },
  },
  embedding: {
    params: ["table", "ids"], required: 2,
    doc: docOf("indexing", "embedding(table, ids)",
      "The rows of `table` at `ids`: `take(table, ids, axis = 0)`. When a param is read only this way and trained with `sgd`, `step` updates just the rows the ids name (its cost does not grow with the table).",
      "`ids.shape + table.shape[1:]`", "to `table`: the rows of `g` added into the rows named by `ids`; none to `ids`",
      "`torch.nn.functional.embedding(ids, table)`"),
    lower: ([table, ids], ctx) => {
      const t = ctx.tensor(table!);
      if (t.shape.length === 0) fail("E0203", table!.span, 0, 0);
      return ctx.b.op("take", [t, ctx.tensor(ids!)], { axis: 0 });
    },
  },
  scatter_add: {
    params: ["g", "ids", "size", "axis"], required: 3,
    doc: docOf("indexing", "scatter_add(g, ids, size, axis = 0)",
      "Zeros with `size` entries along `axis`, with each slice of `g` added at the position its id names: the gradient of `take`, as `gradc grad` prints it; `size` is an integer or a dim.",
      "`g.shape[:axis] + [size] + g.shape[axis+ids.rank:]` (`g.shape[axis:axis+ids.rank]` must be `ids.shape`)",
      "to `g`: `take(g', ids, axis)`; none to `ids`",
      "`np.add.at(np.zeros(shape), (slice(None),) * axis + (ids,), g)`, `torch.index_add` for 1-d ids"),
    lower: ([g, ids, size, axis], ctx) => {
      const gv = ctx.tensor(g!);
      const iv = ctx.tensor(ids!);
      const n = sizeArg(ctx, "scatter_add", "size", size!);
      const k = axisOf("scatter_add", axis, Math.max(0, gv.shape.length - iv.shape.length) + 1, ctx.span);
      return ctx.b.op("scatter_add", [gv, iv], { size: n, axis: k });
    },
  },
  arange: {
    params: ["start", "stop", "step"], required: 0,
    doc: docOf("constant", "arange(stop) or arange(start, stop, step = 1)",
      "`start, start + step, ...` below `stop` (above it for a negative `step`), computed in the kernels that read it; `stop` may be a dim (then `start` is 0 and `step` 1).",
      "`[max(0, ceil((stop - start) / step))]`", "none (a constant)", "`np.arange`, `torch.arange`"),
    lower: ([startArg, stopArg, stepArg], ctx) => {
      if (!startArg && !stopArg) fail("E0107", ctx.span, "arange", "stop");
      const [from, to] = stopArg ? [startArg, stopArg] : [undefined, startArg!];
      const start = from ? numberArg("arange", "start", from) : 0;
      const step = stepArg ? numberArg("arange", "step", stepArg) : 1;
      if (step === 0) fail("E0243", stepArg!.span, "`step` must not be 0");
      const stopValue = constNumber(to);
      const stop: Dim = stopValue !== undefined && Number.isFinite(stopValue) ? stopValue : sizeArg(ctx, "arange", "stop", to);
      if (typeof stop !== "number" && (start !== 0 || step !== 1)) {
        fail("E0243", ctx.span, `with a dim as \`stop\`, \`start\` must be 0 and \`step\` 1`);
      }
      return arangeNode(ctx.b, start, stop, step);
    },
  },
  zeros: {
    params: ["shape"], required: 1,
    doc: docOf("constant", "zeros([shape])", "A tensor of zeros; shape entries are integers or dims.", "`shape`", "none (a constant)", "`np.zeros`, `torch.zeros`"),
    lower: ([shape], ctx) => ctx.b.constant(0, shapeList(ctx, shape!, false) as Dim[]),
  },
  ones: {
    params: ["shape"], required: 1,
    doc: docOf("constant", "ones([shape])", "A tensor of ones; shape entries are integers or dims.", "`shape`", "none (a constant)", "`np.ones`, `torch.ones`"),
    lower: ([shape], ctx) => ctx.b.constant(1, shapeList(ctx, shape!, false) as Dim[]),
  },
  full: {
    params: ["shape", "value"], required: 2,
    doc: docOf("constant", "full([shape], value)",
      "`value` (a number or any scalar expression) at every position of `shape`.", "`shape`",
      "to `value`: the sum of `g`", "`np.full`, `torch.full`"),
    lower: ([shape, value], ctx) => {
      const s = shapeList(ctx, shape!, false) as Dim[];
      const v = ctx.tensor(value!);
      if (v.shape.length !== 0) fail("E0212", value!.span, "the value of `full`", formatShape(v.shape));
      return ctx.b.broadcastTo(v, s);
    },
  },
  eye: {
    params: ["n", "m"], required: 1,
    doc: docOf("constant", "eye(n, m = n)",
      "The identity matrix: 1 where the row index equals the column index, else 0, computed in the kernels that read it; `n` and `m` are integers or dims.",
      "`[n, m]`", "none (a constant)", "`np.eye`, `torch.eye`"),
    lower: ([n, m], ctx) => {
      const rows = sizeArg(ctx, "eye", "n", n!);
      return eyeNode(ctx.b, rows, m ? sizeArg(ctx, "eye", "m", m) : rows);
    },
  },
  iota: {
    params: ["shape", "axis"], required: 2,
    doc: docOf("constant", "iota(shape, axis)",
      "The index along `axis` at every position of `shape`, computed in the kernels that read it (how printed gradients spell masks such as einsum's diagonals).",
      "`shape`", "none (a constant)", "`jax.lax.broadcasted_iota(float, shape, axis)`, `np.indices(shape)[axis]`"),
    lower: ([shape, axis], ctx) => {
      const s = shapeList(ctx, shape!, false) as Dim[];
      return ctx.b.op("iota", [], { shape: s, axis: axisOf("iota", axis, s.length, ctx.span) });
    },
  },
  tensor: {
    params: ["values"], required: 1,
    doc: docOf("constant", "tensor(values)",
      "A tensor literal: `values` are nested lists of constant numbers, rectangular, as in `tensor([[1, 2], [3, 4]])` (a ragged list is an error located at the odd entry).",
      "the nesting: `[2, 2]` for that example; a bare number is a scalar", "none (a constant)", "`np.array`, `torch.tensor`"),
    lower: ([values], ctx) => {
      const v = literalValues(values!);
      return typeof v === "number" ? ctx.b.constant(v) : ctx.b.op("tensor", [], { values: v as never });
    },
  },
  tril: {
    params: ["x", "k"], required: 1,
    doc: docOf("constant", "tril(x, k = 0)",
      "`x` with the entries above the `k`-th diagonal of its last two axes set to 0 (a causal mask is `tril(ones([t, t]))`).",
      "`x.shape` (at least 2 axes)", "`g` masked the same way", "`np.tril`, `torch.tril`"),
    lower: triangle("tril"),
  },
  triu: {
    params: ["x", "k"], required: 1,
    doc: docOf("constant", "triu(x, k = 0)",
      "`x` with the entries below the `k`-th diagonal of its last two axes set to 0.",
      "`x.shape` (at least 2 axes)", "`g` masked the same way", "`np.triu`, `torch.triu`"),
    lower: triangle("triu"),
  },
};
