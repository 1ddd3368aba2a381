// Shapes: lists of dims, each a known size or a symbolic dim (dim.ts: a free `dim` name
// or an integer expression of them). Sizes of whole tensors are a number times
// irreducible factors, so reshape with -1 and element counts stay exact with free dims.

import { dimProduct, evalDim, factorSize, type Dim } from "./dim";

export type { Dim };
export type Shape = readonly Dim[];

/** The highest rank a tensor may have (E0223). */
export const maxRank = 8;

/** The most elements one tensor may have (known sizes at compile time, free dims when
 *  the model runs): 2^31 - 1, so every flat index is a small integer. */
export const maxElements = 2 ** 31 - 1;

export function formatShape(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The element count as a coefficient times sorted irreducible symbolic factors (dim
 *  names, floor divisions, sums; with repeats). */
export interface Size {
  coef: number;
  dims: string[];
}

export function sizeOf(shape: Shape): Size {
  // (every node's shape is sized when it is built: known shapes take no detour)
  let known = 1;
  for (const d of shape) {
    if (typeof d !== "number") {
      const { coef, dims } = factorSize(dimProduct(shape));
      return { coef, dims: dims.sort() };
    }
    known *= d;
  }
  return { coef: known, dims: [] };
}

export function sameSize(a: Size, b: Size): boolean {
  return a.coef === b.coef && a.dims.length === b.dims.length && a.dims.every((d, i) => d === b.dims[i]);
}

/** a / b when it is a whole monomial, else undefined. */
export function divideSize(a: Size, b: Size): Size | undefined {
  if (b.coef === 0 || a.coef % b.coef !== 0) return undefined;
  const dims = [...a.dims];
  for (const d of b.dims) {
    const i = dims.indexOf(d);
    if (i < 0) return undefined;
    dims.splice(i, 1);
  }
  return { coef: a.coef / b.coef, dims };
}

export function isKnown(shape: Shape): shape is readonly number[] {
  return shape.every((d) => typeof d === "number");
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a concrete shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** Substitute dim values into a shape. */
export function bindShape(shape: Shape, dims: ReadonlyMap<string, number>): number[] {
  return shape.map((d) => evalDim(d, (name) => {
    const v = dims.get(name);
    if (v === undefined) throw new Error(`unbound dim ${name}`);
    return v;
  }));
}

/** NumPy broadcasting of several shapes, or undefined where they do not broadcast. */
export function broadcastShape(shapes: readonly Shape[]): Dim[] | undefined {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let k = 0; k < rank; k++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const e = s[s.length - rank + k] ?? 1;
      if (e === 1 || e === d) continue;
      if (d !== 1) return undefined;
      d = e;
    }
    out.push(d);
  }
  return out;
}

export function normalizeAxis(axis: number, rank: number): number | undefined {
  const a = axis < 0 ? axis + rank : axis;
  return a >= 0 && a < rank && Number.isInteger(a) ? a : undefined;
}
