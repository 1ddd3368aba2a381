// Movement primitives: broadcast, reshape, transpose and slice are views (a re-indexing
// of one input, no arithmetic, fused into whatever reads them); pad (the derivative of
// slice) and concat are kernels. Broadcasting is explicit in the graph: lowering inserts
// `broadcast` and its derivative is the matching sum, written once here.

import { fail, InternalError } from "../diagnostics";
import * as js from "../codegen/estree";
import {
  dimAdd, dimFloorDiv, dimMul, dimProduct, dimSub, divideSize, formatShape, isKnown, isMonomial, numel, sameSize, sizeOf, stridesOf,
  type Dim, type GraphBuilder, type Node, type OpDef, type Shape,
} from "../ir";
import type { KernelContext, KernelEmit, ViewEmit } from "./define";
import { forEachIndex, offset } from "./tensor";

type ViewDef = OpDef & { readonly emit: ViewEmit & { needsContiguousInput?(node: Node): boolean } };
type KernelDef = OpDef & { readonly emit: KernelEmit };

/** broadcast(x; shape, dims): input axis i becomes output axis dims[i]; input sizes are
 *  equal to the output's or 1. */
export const broadcast: ViewDef = {
  name: "broadcast", kind: "view", arity: 1, wasm: true,
  shape: ([x], attrs, span) => {
    const out = attrs.shape as Shape;
    const dims = attrs.dims as number[];
    const ok = dims.length === x!.length &&
      dims.every((d, i) => d >= 0 && d < out.length && (i === 0 || d > dims[i - 1]!) && (x![i] === out[d] || x![i] === 1));
    if (!ok) fail("E0208", span, formatShape(x!), formatShape(out));
    return out;
  },
  evaluate: ([x], attrs, out) => {
    const dims = attrs.dims as number[];
    const strides = stridesOf(x!.shape);
    const data = new Float64Array(numel(out));
    forEachIndex(out, (idx, flat) => {
      let o = 0;
      for (let i = 0; i < dims.length; i++) if (x!.shape[i] !== 1) o += idx[dims[i]!]! * strides[i]!;
      data[flat] = x!.data[o]!;
    });
    return data;
  },
  vjp: (b, g, node) => {
    const x = node.inputs[0]!;
    const dims = node.attrs.dims as number[];
    const summed: number[] = [];
    for (let k = 0; k < node.shape.length; k++) {
      const i = dims.indexOf(k);
      if (i < 0 || (x.shape[i] === 1 && node.shape[k] !== 1)) summed.push(k);
    }
    return [b.reshape(b.sum(g, summed), x.shape)];
  },
  props: { cheap: true },
  emit: {
    mapIndex: (idx, node) => {
      const x = node.inputs[0]!;
      return (node.attrs.dims as number[]).map((d, i) => (x.shape[i] === 1 ? js.num(0) : idx[d]!));
    },
  },
};

/** reshape(x; shape): the same elements in row-major order under a new shape. */
export const reshape: ViewDef = {
  name: "reshape", kind: "view", arity: 1, wasm: true,
  shape: ([x], attrs, span) => {
    const out = attrs.shape as Shape;
    // Counts with a sum or floor division in them are checked when the dims are known
    // (src/lower/dims.ts lists those checks for the compiled wrappers).
    if (!sameSize(sizeOf(x!), sizeOf(out)) && !sizeCheckedAtRunTime(x!, out)) fail("E0205", span, formatShape(x!), formatShape(out));
    return out;
  },
  // (with free dims, the counts the shape rule could not compare are compared here)
  evaluate: ([x], _attrs, out) => {
    if (x!.data.length !== numel(out)) fail("E0205", undefined, formatShape(x!.shape), formatShape(out));
    return x!.data;
  },
  vjp: (b, g, node) => [b.reshape(g, node.inputs[0]!.shape)],
  props: { cheap: true },
  emit: {
    // Inserting or removing unit axes re-indexes; any other reshape reads its (then
    // materialised, contiguous) input by flat offset.
    needsContiguousInput: (node) => !unitReshape(node.inputs[0]!.shape, node.shape),
    mapIndex: (idx, node) => {
      const from = node.inputs[0]!.shape;
      const kept = idx.filter((_, k) => node.shape[k] !== 1);
      let j = 0;
      return from.map((d) => (d === 1 ? js.num(0) : kept[j++]!));
    },
  },
};

export function unitReshape(from: Shape, to: Shape): boolean {
  const a = from.filter((d) => d !== 1);
  const b = to.filter((d) => d !== 1);
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Whether two shapes' element counts can only be compared once the dims are known: one
 *  holds a sum or a floor division (a known count is a monomial). (Products of dims that
 *  differ are an error at once.) */
export function sizeCheckedAtRunTime(a: Shape, b: Shape): boolean {
  return !isMonomial(dimProduct(a)) || !isMonomial(dimProduct(b));
}

/** The size of the `-1` entry of a reshape target: the exact quotient where there is one
 *  (`[b, 5, 5]` to `[-1, 5]` gives `b * 5`), else the floor division, which the element
 *  count check then requires to be exact (at run time with free dims). */
export function inferReshapeDim(from: Shape, known: Shape): Dim | undefined {
  const q = divideSize(sizeOf(from), sizeOf(known));
  if (q) return q.dims.reduce<Dim>((acc, d) => dimMul(acc, d), q.coef);
  const rest = dimProduct(known);
  if (typeof rest !== "number" || rest === 0 || isKnown(from)) return undefined;
  return dimFloorDiv(dimProduct(from), rest);
}

/** transpose(x; perm): output axis k is input axis perm[k]. */
export const transpose: ViewDef = {
  name: "transpose", kind: "view", arity: 1, wasm: true,
  shape: ([x], attrs, span) => {
    const perm = attrs.perm as number[];
    const ok = perm.length === x!.length && [...perm].sort((a, b) => a - b).every((p, i) => p === i);
    if (!ok) fail("E0207", span, formatShape(perm), x!.length);
    return perm.map((p) => x![p]!);
  },
  evaluate: ([x], attrs, out) => {
    const perm = attrs.perm as number[];
    const strides = stridesOf(x!.shape);
    const data = new Float64Array(numel(out));
    forEachIndex(out, (idx, flat) => {
      let o = 0;
      for (let k = 0; k < perm.length; k++) o += idx[k]! * strides[perm[k]!]!;
      data[flat] = x!.data[o]!;
    });
    return data;
  },
  vjp: (b, g, node) => {
    const perm = node.attrs.perm as number[];
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [b.transpose(g, inverse)];
  },
  props: { cheap: true },
  emit: {
    mapIndex: (idx, node) => {
      const perm = node.attrs.perm as number[];
      // Stryker disable next-line ArrayDeclaration: every position is assigned below
      const out = new Array<js.Expression>(perm.length);
      perm.forEach((p, k) => { out[p] = idx[k]!; });
      return out;
    },
  },
};

/** slice(x; begin, step, shape): output index i along axis k reads begin[k] + i*step[k].
 *  Lowering resolves NumPy basic indexing to these attributes (and drops integer axes
 *  with a reshape). */
export const slice: ViewDef = {
  name: "slice", kind: "view", arity: 1, wasm: true,
  shape: ([x], attrs, span) => {
    const begin = attrs.begin as number[];
    const step = attrs.step as number[];
    const out = attrs.shape as Shape;
    const ok = begin.length === x!.length && step.length === x!.length && out.length === x!.length &&
      out.every((d, k) => {
        if (typeof d !== "number" || typeof x![k] !== "number") {
          // With a free dim: a unit-step window a constant distance from both ends (the
          // whole axis, or the interior of a padded one).
          const spare = dimSub(x![k]!, d);
          return step[k] === 1 && typeof spare === "number" && begin[k]! >= 0 && begin[k]! <= spare;
        }
        if (d === 0) return true;
        const last = begin[k]! + (d - 1) * step[k]!;
        return begin[k]! >= 0 && begin[k]! < (x![k] as number) && last >= 0 && last < (x![k] as number);
      });
    if (!ok) fail("E0210", span, `cannot take ${formatShape(out)} from ${formatShape(x!)}`);
    return out;
  },
  evaluate: ([x], attrs, out) => {
    const begin = attrs.begin as number[];
    const step = attrs.step as number[];
    const strides = stridesOf(x!.shape);
    const data = new Float64Array(numel(out));
    forEachIndex(out, (idx, flat) => {
      let o = 0;
      for (let k = 0; k < idx.length; k++) o += (begin[k]! + idx[k]! * step[k]!) * strides[k]!;
      data[flat] = x!.data[o]!;
    });
    return data;
  },
  vjp: (b, g, node) => [unslice(b, g, node.inputs[0]!.shape, node.attrs.begin as number[], node.attrs.step as number[])],
  props: { cheap: true },
  emit: {
    mapIndex: (idx, node) => {
      const begin = node.attrs.begin as number[];
      const step = node.attrs.step as number[];
      return idx.map((i, k) => js.add(js.num(begin[k]!), js.mul(i, js.num(step[k]!))));
    },
  },
};

/** The gradient of a slice, from the documented built-ins only, so a printed gradient is a
 *  program: negative steps flip, steps s > 1 put s - 1 zeros after each element (a unit
 *  axis padded to s, merged, the trailing zeros sliced off), then `pad` puts the result
 *  at its offset. A free axis is only ever a unit-step window. */
function unslice(b: GraphBuilder, g: Node, x: Shape, begin: readonly number[], step: readonly number[]): Node {
  const m = g.shape;
  // Stryker disable next-line EqualityOperator: a step is never 0 (E0210), so `< 0` and `<= 0` agree
  const backward = step.map((s) => s < 0);
  // (one element read backwards starts at begin: (m - 1) * step is 0)
  const low = begin.map((a, k) => (backward[k] ? a + ((m[k] as number) - 1) * step[k]! : a));
  const stride = step.map((s, k) => ((m[k] as number) > 1 ? Math.abs(s) : 1));
  const reversed = step.flatMap((_, k) => (backward[k] && (m[k] as number) > 1 ? [k] : []));
  let t = reversed.length > 0 ? b.op("flip", [g], { axis: reversed }) : g;
  if (stride.some((s) => s > 1)) {
    // Stryker disable next-line EqualityOperator,ConditionalExpression: a unit axis padded by 0 and merged back changes nothing
    const split = m.flatMap((d, k) => (stride[k]! > 1 ? [d, 1] : [d]));
    const widths = m.flatMap((_, k) => (stride[k]! > 1 ? [[0, 0], [0, stride[k]! - 1]] : [[0, 0]]));
    // Stryker disable next-line EqualityOperator,ConditionalExpression: d * 1 is d
    const merged = m.map((d, k) => (stride[k]! > 1 ? (d as number) * stride[k]! : d));
    const spaced = b.reshape(padded(b, b.reshape(t, split), widths, 0), merged);
    const kept = m.map((d, k) => (stride[k]! > 1 ? ((d as number) - 1) * stride[k]! + 1 : d));
    t = b.op("slice", [spaced], { begin: m.map(() => 0), step: m.map(() => 1), shape: kept as Dim[] });
  }
  const widths = t.shape.map((d, k) => {
    // Stryker disable next-line ConditionalExpression: the general widths pad an empty axis to the same zeros
    if (d === 0) return [0, x[k] as number];
    // The sizes differ by a number, even on a free axis (a window `2:-1` of `n + 3`). A
    // whole axis starts at 0 (low is 0 read backwards too), so the general widths agree.
    // Stryker disable next-line ConditionalExpression: see above
    return d === x[k] ? [0, 0] : [low[k]!, (dimSub(x[k]!, d) as number) - low[k]!];
  });
  return padded(b, t, widths, 0);
}

/** `pad(t, widths, value)`, or t itself when every width is 0. */
export function padded(b: GraphBuilder, t: Node, widths: readonly (readonly number[])[], value: number): Node {
  return widths.every(([lo, hi]) => lo === 0 && hi === 0) ? t : b.op("pad", [t], { pad_width: widths.map((w) => [...w]), value });
}

/** pad(x; pad_width, value): x with pad_width[k] = [before, after] elements of `value` added
 *  on each side of axis k (NumPy `pad`, constant mode). The gradient is the slice of the
 *  interior. A free dim n grows to the dim expression `n + before + after`. */
export const pad: KernelDef = {
  name: "pad", kind: "kernel", arity: 1, wasm: true,
  shape: ([x], attrs) => {
    const widths = attrs.pad_width as number[][];
    if (widths.length !== x!.length) throw new InternalError(`pad of ${formatShape(x!)} by ${widths.length} pairs`);
    return x!.map((d, k) => dimAdd(d, widths[k]![0]! + widths[k]![1]!));
  },
  evaluate: ([x], attrs, out) => {
    const widths = attrs.pad_width as number[][];
    const strides = stridesOf(out);
    const data = new Float64Array(numel(out)).fill(attrs.value as number);
    forEachIndex(x!.shape, (idx, flat) => {
      data[offset(strides, idx.map((i, k) => i + widths[k]![0]!))] = x!.data[flat]!;
    });
    return data;
  },
  vjp: (b, g, node) => {
    const x = node.inputs[0]!;
    const widths = node.attrs.pad_width as number[][];
    return [b.op("slice", [g], { begin: widths.map(([lo]) => lo!), step: x.shape.map(() => 1), shape: x.shape as Dim[] })];
  },
  print: { kind: "call", fn: "pad", positional: ["pad_width"], defaults: { value: 0 } },
  emit: {
    fusesInputs: true,
    kernel: (ctx) => {
      const node = ctx.node;
      const x = node.inputs[0]!;
      const widths = node.attrs.pad_width as number[][];
      const fill = node.shape.map(() => ctx.fresh("i"));
      const body: js.Statement[] = [];
      const xi = x.shape.map(() => ctx.fresh("i"));
      const value = ctx.read(x, xi.map(js.id), body);
      body.push(ctx.store(xi.map((v, k) => js.add(js.id(v), js.num(widths[k]![0]!))), value));
      return [nest(fill, node.shape, ctx, [ctx.store(fill.map(js.id), js.num(node.attrs.value as number))]), nest(xi, x.shape, ctx, body)];
    },
  },
};

/** flip(x; axis): the order of elements reversed along each listed axis (np.flip). A view:
 *  index i reads size - 1 - i; its gradient is the same flip. */
export const flip: ViewDef = {
  name: "flip", kind: "view", arity: 1, wasm: true,
  shape: ([x], attrs) => {
    const axes = attrs.axis as number[];
    if (!axes.every((a, i) => a >= 0 && a < x!.length && (i === 0 || a > axes[i - 1]!))) {
      throw new InternalError(`flip of ${formatShape(x!)} along ${formatShape(axes)}`);
    }
    return x!;
  },
  evaluate: ([x], attrs, out) => {
    const axes = attrs.axis as number[];
    const strides = stridesOf(x!.shape);
    const data = new Float64Array(numel(out));
    forEachIndex(out, (idx, flat) => {
      let o = 0;
      for (let k = 0; k < idx.length; k++) o += (axes.includes(k) ? out[k]! - 1 - idx[k]! : idx[k]!) * strides[k]!;
      data[flat] = x!.data[o]!;
    });
    return data;
  },
  vjp: (b, g, node) => [b.op("flip", [g], node.attrs)],
  props: { cheap: true },
  // Stryker disable next-line ObjectLiteral,StringLiteral: the printer falls back to the op's name and keywords, the same text
  print: { kind: "call", fn: "flip" },
  emit: {
    mapIndex: (idx, node, dim) => {
      const axes = node.attrs.axis as number[];
      const last = (d: Dim) =>
        // Stryker disable next-line ConditionalExpression,StringLiteral: dim() of a known size is that number (d - 1 is folded here for shorter code)
        typeof d === "number" ? js.num(d - 1)
        : js.binary("-", dim(d), js.num(1));
      return idx.map((i, k) => (axes.includes(k) ? js.binary("-", last(node.shape[k]!), i) : i));
    },
  },
};

/** concat(xs...; axis): inputs joined along `axis`; other sizes must agree. */
export const concat: KernelDef = {
  name: "concat", kind: "kernel", arity: -1, wasm: true,
  shape: (xs, attrs, span) => {
    const axis = attrs.axis as number;
    const first = xs[0]!;
    let total = 0;
    for (const s of xs) {
      if (s.length !== first.length || s.some((d, k) => k !== axis && d !== first[k])) {
        fail("E0209", span, `${formatShape(first)} and ${formatShape(s)} differ outside axis ${axis}`);
      }
      const d = s[axis]!;
      if (typeof d !== "number") fail("E0209", span, `axis ${axis} has a free dim`);
      total += d;
    }
    return first.map((d, k) => (k === axis ? total : d));
  },
  evaluate: (xs, attrs, out) => {
    const axis = attrs.axis as number;
    const strides = stridesOf(out);
    const data = new Float64Array(numel(out));
    let base = 0;
    for (const x of xs) {
      forEachIndex(x.shape, (idx, flat) => {
        const o = idx.map((v, k) => (k === axis ? v + base : v));
        data[offset(strides, o)] = x.data[flat]!;
      });
      base += x.shape[axis]!;
    }
    return data;
  },
  vjp: (b, g, node) => {
    const axis = node.attrs.axis as number;
    let base = 0;
    return node.inputs.map((x) => {
      const begin = x.shape.map((_, k) => (k === axis ? base : 0));
      base += x.shape[axis] as number;
      return b.op("slice", [g], { begin, step: x.shape.map(() => 1), shape: x.shape as Dim[] });
    });
  },
  emit: {
    fusesInputs: true,
    kernel: (ctx) => {
      const axis = ctx.node.attrs.axis as number;
      let base = 0;
      return ctx.node.inputs.map((x) => {
        const vars = x.shape.map(() => ctx.fresh("i"));
        const body: js.Statement[] = [];
        const value = ctx.read(x, vars.map(js.id), body);
        const at = base;
        body.push(ctx.store(vars.map((v, k) => (k === axis ? js.add(js.id(v), js.num(at)) : js.id(v))), value));
        base += x.shape[axis] as number;
        return nest(vars, x.shape, ctx, body);
      });
    },
  },
};

/** Nested loops over `shape` with the given loop variables around `body`. */
export function nest(vars: string[], shape: Shape, ctx: { dim(d: Dim): js.Expression }, body: js.Statement[]): js.Statement {
  let inner: js.Statement[] = body;
  for (let k = shape.length - 1; k >= 0; k--) inner = [js.loop(vars[k]!, js.num(0), ctx.dim(shape[k]!), inner)];
  // Stryker disable next-line ConditionalExpression: a block of one statement runs the same
  return inner.length === 1 ? inner[0]! : js.block(inner);
}

/** Zeroes a kernel's whole output (for kernels that accumulate with `+=`). */
export function zeroOutput(ctx: KernelContext): js.Statement {
  const vars = ctx.node.shape.map(() => ctx.fresh("i"));
  return nest(vars, ctx.node.shape, ctx, [ctx.store(vars.map(js.id), js.num(0))]);
}

export const movementOps: OpDef[] = [broadcast, reshape, transpose, slice, pad, flip, concat];
