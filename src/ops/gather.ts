// Gathering by data-dependent ids: `take` (NumPy take) is a view whose index along one
// axis is read from an ids tensor, so it fuses into its consumer as an indexed load; its
// gradient `scatter_add` is a kernel that adds each cotangent row into the row its id
// names, in O(ids * row). Ids are integer values stored as floats; a non-integer or
// out-of-range id is a GradcError (checked by the emitted code once per call, and here).

import { fail, GradcError, InternalError, messages } from "../diagnostics";
import * as js from "../codegen/estree";
import { formatShape, normalizeAxis, numel, sameShape, stridesOf, type Dim, type Node, type OpDef, type Shape, type Tensor } from "../ir";
import type { IndexInputs, KernelEmit, ViewEmit } from "./define";
import { nest } from "./movement";
import { forEachIndex, offset } from "./tensor";

type GatherDef = OpDef & { readonly emit: ViewEmit & IndexInputs };
type ScatterDef = OpDef & { readonly emit: KernelEmit & IndexInputs };

/** take(x, ids; axis): out[a..., j..., b...] = x[a..., ids[j...], b...]. */
export const take: GatherDef = {
  name: "take", kind: "view", arity: 2, wasm: true,
  shape: ([x, ids], attrs, span, nodes) => {
    const axis = attrs.axis as number;
    if (normalizeAxis(axis, x!.length) !== axis) fail("E0203", span, axis, x!.length);
    checkConstantIds(nodes[1]!, x![axis]!, span);
    return [...x!.slice(0, axis), ...ids!, ...x!.slice(axis + 1)];
  },
  evaluate: ([x, ids], attrs, out) => {
    const axis = attrs.axis as number;
    const rank = ids!.shape.length;
    const bound = x!.shape[axis]!;
    checkIds(ids!, bound);
    const strides = stridesOf(x!.shape);
    const idStrides = stridesOf(ids!.shape);
    const data = new Float64Array(numel(out));
    forEachIndex(out, (idx, flat) => {
      const id = ids!.data[offset(idStrides, idx.slice(axis, axis + rank))]!;
      data[flat] = x!.data[offset(strides, [...idx.slice(0, axis), id, ...idx.slice(axis + rank)])]!;
    });
    return data;
  },
  vjp: (b, g, node) => {
    const [x, ids] = node.inputs as [Node, Node];
    const axis = node.attrs.axis as number;
    return [b.op("scatter_add", [g, ids], { size: x.shape[axis]!, axis }), null];
  },
  props: { cheap: true },
  // Stryker disable next-line ObjectLiteral,StringLiteral: the printer spells a call by the op's name without it, the same word
  print: { kind: "call", fn: "take" },
  emit: {
    mapIndex: (idx, node, _dim, readIndex) => {
      const axis = node.attrs.axis as number;
      const rank = node.inputs[1]!.shape.length;
      // `| 0`: the id as an int32 (ids are checked to be integers before any kernel runs).
      const id = js.binary("|", readIndex(node.inputs[1]!, idx.slice(axis, axis + rank)), js.num(0));
      return [...idx.slice(0, axis), id, ...idx.slice(axis + rank)];
    },
    indexInputs: (node) => [{ input: 1, bound: node.inputs[0]!.shape[node.attrs.axis as number]! }],
  },
};

/** scatter_add(g, ids; size, axis): zeros with `size` rows along `axis`, and
 *  out[a..., ids[j...], b...] += g[a..., j..., b...]: the gradient of take. */
export const scatterAdd: ScatterDef = {
  name: "scatter_add", kind: "kernel", arity: 2, wasm: true,
  shape: ([g, ids], attrs, span, nodes) => {
    const axis = attrs.axis as number;
    const size = attrs.size as Dim;
    const rank = ids!.length;
    if (!Number.isInteger(axis) || axis < 0 || axis + rank > g!.length) fail("E0203", span, axis, g!.length - rank + 1);
    if (!sameShape(g!.slice(axis, axis + rank), ids!)) {
      fail("E0241", span, `the ids ${formatShape(ids!)} must match axes ${axis} to ${axis + rank - 1} of the values ${formatShape(g!)}`);
    }
    checkConstantIds(nodes[1]!, size, span);
    return [...g!.slice(0, axis), size, ...g!.slice(axis + rank)];
  },
  evaluate: ([g, ids], attrs, out) => {
    const axis = attrs.axis as number;
    const rank = ids!.shape.length;
    checkIds(ids!, out[axis]!);
    const strides = stridesOf(out);
    const idStrides = stridesOf(ids!.shape);
    const data = new Float64Array(numel(out));
    forEachIndex(g!.shape, (idx, flat) => {
      const id = ids!.data[offset(idStrides, idx.slice(axis, axis + rank))]!;
      data[offset(strides, [...idx.slice(0, axis), id, ...idx.slice(axis + rank)])] += g!.data[flat]!;
    });
    return data;
  },
  vjp: (b, g, node) => [b.op("take", [g, node.inputs[1]!], { axis: node.attrs.axis as number }), null],
  cost: (node, count) => count(node.inputs[0]!.shape),
  // Stryker disable next-line ObjectLiteral,StringLiteral: the printer spells a call by the op's name without it, the same word
  print: { kind: "call", fn: "scatter_add" },
  emit: {
    // Stryker disable next-line BooleanLiteral: speed only; without it the plan stores g before the scatter reads it
    fusesInputs: true,
    kernel: (ctx) => {
      const node = ctx.node;
      const [g, ids] = node.inputs as [Node, Node];
      const axis = node.attrs.axis as number;
      const rank = ids.shape.length;
      // Zero the output in one flat loop, then one pass over the values: O(size * row +
      // ids * row), the second part the only one that depends on the ids.
      const zi = ctx.fresh("i");
      const count = node.shape.reduce<js.Expression>((e, d) => js.mul(e, ctx.dim(d)), js.num(1));
      const flat = node.shape.map((_, k) => (k === node.shape.length - 1 ? js.id(zi) : js.num(0)));
      const zero = js.loop(zi, js.num(0), count, [ctx.store(flat, js.num(0))]);
      // The id is read once per slice (outer loops), then the slice is added (inner loops).
      const gi = g.shape.map(() => ctx.fresh("i"));
      const split = axis + rank;
      const outer: js.Statement[] = [];
      const rowId = ctx.fresh("id");
      outer.push(js.declare("const", rowId, js.binary("|", ctx.read(ids, gi.slice(axis, split).map(js.id), outer), js.num(0))));
      const inner: js.Statement[] = [];
      const value = ctx.read(g, gi.map(js.id), inner);
      inner.push(ctx.store([...gi.slice(0, axis).map(js.id), js.id(rowId), ...gi.slice(split).map(js.id)], value, "+="));
      outer.push(nest(gi.slice(split), g.shape.slice(split), ctx, inner));
      // Stryker disable next-line MethodExpression: nest takes as many variables as the shape has axes
    return [zero, nest(gi.slice(0, split), g.shape.slice(0, split), ctx, outer)];
    },
    indexInputs: (node) => [{ input: 1, bound: node.attrs.size as Dim }],
  },
};

/** The first bad id of a tensor, or -1: an id must be an integer in [0, bound). */
export function firstBadId(data: ArrayLike<number>, bound: number): number {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!(Number.isInteger(v) && v >= 0 && v < bound)) return i;
  }
  return -1;
}

/** The multi-index of flat position `flat` in a tensor of `shape`, as `[i, j]`. */
export function multiIndex(shape: readonly number[], flat: number): string {
  // Stryker disable next-line ArrayDeclaration: an empty array grows to the same as the loop fills it
  const idx = new Array<number>(shape.length);
  let rest = flat;
  for (let k = shape.length - 1; k >= 0; k--) {
    idx[k] = rest % shape[k]!;
    rest = (rest - idx[k]!) / shape[k]!;
  }
  return formatShape(idx);
}

/** The interpreter's id check (the emitted code runs its own, naming the input). */
function checkIds(ids: Tensor, bound: number): void {
  const bad = firstBadId(ids.data, bound);
  if (bad >= 0) {
    throw new GradcError([{ code: "E0422", message: messages.E0422(String(ids.data[bad]), multiIndex(ids.shape, bad), bad, bound) }]);
  }
}

/** Ids written in the program (a `tensor` literal, a constant, an `arange`) are checked at
 *  compile time: they are never a buffer the emitted code could check. */
function checkConstantIds(ids: Node, bound: Dim, span: Parameters<typeof fail>[1]): void {
  if (ids.op.name === "arange") return checkRangeIds(ids, bound, span);
  if (typeof bound !== "number") return;
  let values: readonly number[] | undefined;
  let shape: Shape = ids.shape;
  if (ids.op.name === "tensor") values = flatValues(ids.attrs.values);
  else if (ids.op.name === "const") { values = [ids.attrs.value as number]; shape = []; }
  else if (ids.op.name === "broadcast" && ids.inputs[0]!.op.name === "const") { values = [ids.inputs[0]!.attrs.value as number]; shape = []; }
  if (!values) return;
  const bad = firstBadId(values, bound);
  if (bad >= 0) fail("E0242", span, String(values[bad]), multiIndex(shape as number[], bad), bound);
}

/** arange ids: every value start + i * step an integer in [0, bound); a dim-sized range
 *  only into an axis of that same dim, or of a fixed size, which the compiled wrappers
 *  check the dim against before anything runs (`rangeIdChecks` in src/lower/dims.ts). */
function checkRangeIds(ids: Node, bound: Dim, span: Parameters<typeof fail>[1]): void {
  const n = ids.shape[0]!;
  if (typeof n !== "number") {
    if (n !== bound && typeof bound !== "number") fail("E0246", span, `arange(stop = ${n})`, String(bound));
    return;
  }
  if (n === 0) return;
  const start = (ids.attrs.start as number | undefined) ?? 0;
  const step = (ids.attrs.step as number | undefined) ?? 1;
  // The first value, then the last (an integer step) or the second (a fractional one).
  const at = [0, Number.isInteger(step) ? n - 1 : Math.min(1, n - 1)];
  const values = at.map((i) => start + i * step);
  if (typeof bound !== "number") {
    if (values.some((v) => v !== 0)) fail("E0246", span, `arange(${start}, ${start + n * step}, ${step})`, bound);
    return;
  }
  const bad = firstBadId(values, bound);
  if (bad >= 0) fail("E0242", span, String(values[bad]), multiIndex([n], at[bad]!), bound);
}

function flatValues(v: unknown): number[] {
  if (typeof v === "number") return [v];
  // Stryker disable next-line ConditionalExpression,StringLiteral: a safety net; lowering gives a literal's values as numbers and arrays
  if (!Array.isArray(v)) throw new InternalError("tensor literal without values");
  return v.flatMap(flatValues);
}

export const gatherOps: OpDef[] = [take, scatterAdd];
