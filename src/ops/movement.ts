// Movement primitives: broadcast, reshape, transpose and slice are views (a re-indexing
// of one input, no arithmetic, fused into whatever reads them); pad (the derivative of
// slice) and concat are kernels. Broadcasting is explicit in the graph: lowering inserts
// `broadcast` and its derivative is the matching sum, written once here.

import { fail, InternalError } from "../diagnostics";
import * as js from "../codegen/estree";
import {
  divideSize, formatShape, numel, sameSize, sizeOf, stridesOf, type Dim, type Node, type OpDef, type Shape,
} from "../ir";
import type { KernelEmit, ViewEmit } from "./define";
import { forEachIndex, offset } from "./tensor";

type ViewDef = OpDef & { readonly emit: ViewEmit & { needsContiguousInput?(node: Node): boolean } };
type KernelDef = OpDef & { readonly emit: KernelEmit };

/** broadcast(x; shape, dims): input axis i becomes output axis dims[i]; input sizes are
 *  equal to the output's or 1. */
export const broadcast: ViewDef = {
  name: "broadcast", kind: "view", arity: 1,
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
  name: "reshape", kind: "view", arity: 1,
  shape: ([x], attrs, span) => {
    const out = attrs.shape as Shape;
    if (!sameSize(sizeOf(x!), sizeOf(out))) fail("E0205", span, formatShape(x!), formatShape(out));
    return out;
  },
  evaluate: ([x]) => x!.data,
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

/** The size of the `-1` entry of a reshape target, if it is a whole monomial. */
export function inferReshapeDim(from: Shape, known: Shape): Dim | undefined {
  const q = divideSize(sizeOf(from), sizeOf(known));
  if (!q) return undefined;
  if (q.dims.length === 0) return q.coef;
  if (q.dims.length === 1 && q.coef === 1) return q.dims[0]!;
  return undefined;
}

/** transpose(x; perm): output axis k is input axis perm[k]. */
export const transpose: ViewDef = {
  name: "transpose", kind: "view", arity: 1,
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
  name: "slice", kind: "view", arity: 1,
  shape: ([x], attrs, span) => {
    const begin = attrs.begin as number[];
    const step = attrs.step as number[];
    const out = attrs.shape as Shape;
    const ok = begin.length === x!.length && step.length === x!.length && out.length === x!.length &&
      out.every((d, k) => {
        if (typeof d !== "number" || typeof x![k] !== "number") return d === x![k] && begin[k] === 0 && step[k] === 1;
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
  vjp: (b, g, node) => [b.op("pad", [g], { shape: node.inputs[0]!.shape as Dim[], begin: node.attrs.begin!, step: node.attrs.step! })],
  props: { cheap: true },
  emit: {
    mapIndex: (idx, node) => {
      const begin = node.attrs.begin as number[];
      const step = node.attrs.step as number[];
      return idx.map((i, k) => js.add(js.num(begin[k]!), js.mul(i, js.num(step[k]!))));
    },
  },
};

/** pad(g; shape, begin, step): zeros of `shape` with g placed where slice would read. */
export const pad: KernelDef = {
  name: "pad", kind: "kernel", arity: 1,
  shape: ([g], attrs) => {
    const out = attrs.shape as Shape;
    if (g!.length !== out.length) throw new InternalError(`pad of ${formatShape(g!)} into ${formatShape(out)}`);
    return out;
  },
  evaluate: ([g], attrs, out) => {
    const begin = attrs.begin as number[];
    const step = attrs.step as number[];
    const strides = stridesOf(out);
    const data = new Float64Array(numel(out));
    forEachIndex(g!.shape, (idx, flat) => {
      data[offset(strides, idx.map((i, k) => begin[k]! + i * step[k]!))] = g!.data[flat]!;
    });
    return data;
  },
  vjp: (b, g, node) => [b.op("slice", [g], { begin: node.attrs.begin!, step: node.attrs.step!, shape: node.inputs[0]!.shape as Dim[] })],
  emit: {
    fusesInputs: true,
    kernel: (ctx) => {
      const node = ctx.node;
      const g = node.inputs[0]!;
      const begin = node.attrs.begin as number[];
      const step = node.attrs.step as number[];
      const zeroBody: js.Statement[] = [];
      const zi = node.shape.map(() => ctx.fresh("i"));
      zeroBody.push(ctx.store(zi.map(js.id), js.num(0)));
      const body: js.Statement[] = [];
      const gi = g.shape.map(() => ctx.fresh("i"));
      const value = ctx.read(g, gi.map(js.id), body);
      body.push(ctx.store(gi.map((v, k) => js.add(js.num(begin[k]!), js.mul(js.id(v), js.num(step[k]!)))), value));
      return [nest(zi, node.shape, ctx, zeroBody), nest(gi, g.shape, ctx, body)];
    },
  },
};

/** concat(xs...; axis): inputs joined along `axis`; other sizes must agree. */
export const concat: KernelDef = {
  name: "concat", kind: "kernel", arity: -1,
  shape: (xs, attrs, span) => {
    const axis = attrs.axis as number;
    const first = xs[0]!;
    let total: Dim = 0;
    for (const s of xs) {
      if (s.length !== first.length || s.some((d, k) => k !== axis && d !== first[k])) {
        fail("E0209", span, `${formatShape(first)} and ${formatShape(s)} differ outside axis ${axis}`);
      }
      const d = s[axis]!;
      if (typeof d !== "number" || typeof total !== "number") fail("E0209", span, `axis ${axis} has a free dim`);
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
  return inner.length === 1 ? inner[0]! : js.block(inner);
}

export const movementOps: OpDef[] = [broadcast, reshape, transpose, slice, pad, concat];
