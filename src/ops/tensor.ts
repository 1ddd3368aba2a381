// Small helpers for the reference semantics (`evaluate`) of non-elementwise ops: dense
// row-major f64 tensors walked by multi-index.

import { numel, stridesOf, type Tensor } from "../ir";

export function zeros(shape: readonly number[]): Float64Array {
  return new Float64Array(numel(shape));
}

/** Calls `f(index, flat)` for every multi-index of `shape` in row-major order. */
export function forEachIndex(shape: readonly number[], f: (idx: number[], flat: number) => void): void {
  const n = numel(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    f(idx, flat);
    for (let k = shape.length - 1; k >= 0; k--) {
      if (++idx[k]! < shape[k]!) break;
      idx[k] = 0;
    }
  }
}

export function offset(strides: readonly number[], idx: readonly number[]): number {
  let o = 0;
  for (let k = 0; k < idx.length; k++) o += idx[k]! * strides[k]!;
  return o;
}

export function at(t: Tensor, idx: readonly number[]): number {
  return t.data[offset(stridesOf(t.shape), idx)]!;
}

export { numel, stridesOf };
