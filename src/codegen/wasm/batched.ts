// Batched matmuls (rank > 2) on the SIMD tiles: C[p] = A[p] @ B[p] for every batch index
// p, as one wasm function looping over the batch and calling the rank-2 kernel
// (matmul.ts) at each matrix's address. A and B are strided views of stored arrays
// (attention's heads: a reshape splitting the features, then a transpose of axes 1 and
// 2), so their element strides come from the view chain, not from their shapes: A is read
// through its strides by the tiles themselves; B, which the tiles read row-major, is first
// gathered into scratch per matrix when it is not (k * n moves against m * k * n
// multiply-adds). C is the product's own stored array, row-major.

import { FunctionBuilder, type ModuleBuilder } from "./encode";
import { pushOuterAddress } from "./epilogue";

/** Element strides of one operand: along each batch axis, then its two matrix axes. */
export interface BatchedOperand {
  batch: number[];
  rows: number;
  cols: number;
}

export interface BatchedMatmul {
  /** The batch dims (the product's leading axes). */
  batch: number[];
  m: number;
  k: number;
  n: number;
  /** A [m, k] and B [k, n] per batch index. */
  a: BatchedOperand;
  b: BatchedOperand;
}

/** Whether each B is stored row-major already (read in place). */
function bInPlace(spec: BatchedMatmul): boolean {
  return spec.b.cols === 1 && spec.b.rows === spec.n;
}

/** Floats of scratch the function needs (one gathered B), or 0. */
export function batchedScratch(spec: BatchedMatmul): number {
  return bInPlace(spec) ? 0 : spec.k * spec.n;
}

/** Adds `batched(a, b, c)` (byte offsets) calling the rank-2 kernel `inner` (function
 *  index; it takes A, B, C and reads A with strides [a.rows, a.cols]) once per matrix;
 *  `scratch` is the byte offset of batchedScratch(spec) floats. Returns its index. */
export function addBatchedMatmul(module: ModuleBuilder, spec: BatchedMatmul, inner: number, scratch: number): number {
  const { batch, k, n, a, b } = spec;
  const f = new FunctionBuilder(["i32", "i32", "i32"], []);
  const p = f.local("i32"), pa = f.local("i32"), pb = f.local("i32"), pc = f.local("i32");
  const i = f.local("i32"), q = f.local("i32"), r = f.local("i32");
  const count = batch.reduce((x, y) => x * y, 1);
  const cBytes = spec.m * n * 4;
  // base + 4 * sum over batch axes of (p / inner % size) * stride
  const address = (base: number, strides: number[], into: number) => {
    pushOuterAddress(f, base, p, strides, batch, batch, batch.length);
    f.op("local.set", into);
  };
  f.op("local.get", 2).op("local.set", pc);
  f.op("i32.const", 0).op("local.set", p);
  f.open("loop");
  address(0, a.batch, pa);
  address(1, b.batch, pb);
  if (!bInPlace(spec)) {
    emitGather(f, { src: pb, dst: scratch, k, n, sK: b.rows, sN: b.cols, i, q, r });
    f.op("i32.const", scratch).op("local.set", pb);
  }
  f.op("local.get", pa).op("local.get", pb).op("local.get", pc).op("call", inner);
  f.op("local.get", pc).op("i32.const", cBytes).op("i32.add").op("local.set", pc);
  f.op("local.get", p).op("i32.const", 1).op("i32.add").op("local.tee", p).op("i32.const", count).op("i32.lt_u").op("br_if", 0);
  f.op("end");
  return module.addFunction(f);
}

/** scratch[kk * n + j] = src[kk * sK + j * sN]: rows copied whole (memory.copy) when a row
 *  is contiguous, else element by element along the source's shorter stride. */
function emitGather(f: FunctionBuilder, at: { src: number; dst: number; k: number; n: number; sK: number; sN: number; i: number; q: number; r: number }): void {
  const { src, dst, k, n, sK, sN, i, q, r } = at;
  if (sN === 1) {
    // for each row kk: copy n floats from src + kk * sK * 4 to dst + kk * n * 4
    f.op("local.get", src).op("local.set", q);
    f.op("i32.const", dst).op("local.set", r);
    f.op("i32.const", k).op("local.set", i);
    f.open("loop");
    f.op("local.get", r).op("local.get", q).op("i32.const", n * 4).op("memory.copy");
    f.op("local.get", q).op("i32.const", sK * 4).op("i32.add").op("local.set", q);
    f.op("local.get", r).op("i32.const", n * 4).op("i32.add").op("local.set", r);
    f.op("local.get", i).op("i32.const", 1).op("i32.sub").op("local.tee", i).op("br_if", 0);
    f.op("end");
    return;
  }
  // walk the source along its shorter stride (inner loop), the other outside
  const [outerCount, outerSrc, outerDst, innerCount, innerSrc, innerDst] = Math.abs(sK) <= Math.abs(sN)
    ? [n, sN, 1, k, sK, n]
    : [k, sK, n, n, sN, 1];
  const row = f.local("i32"), col = f.local("i32");
  f.op("local.get", src).op("local.set", row);
  f.op("i32.const", dst).op("local.set", col);
  f.op("i32.const", outerCount).op("local.set", i);
  f.open("loop");
  f.op("local.get", row).op("local.set", q);
  f.op("local.get", col).op("local.set", r);
  const j = f.local("i32");
  f.op("i32.const", innerCount).op("local.set", j);
  f.open("loop");
  f.op("local.get", r).op("local.get", q).op("f32.load", 2, 0).op("f32.store", 2, 0);
  f.op("local.get", q).op("i32.const", innerSrc * 4).op("i32.add").op("local.set", q);
  f.op("local.get", r).op("i32.const", innerDst * 4).op("i32.add").op("local.set", r);
  f.op("local.get", j).op("i32.const", 1).op("i32.sub").op("local.tee", j).op("br_if", 0);
  f.op("end");
  f.op("local.get", row).op("i32.const", outerSrc * 4).op("i32.add").op("local.set", row);
  f.op("local.get", col).op("i32.const", outerDst * 4).op("i32.add").op("local.set", col);
  f.op("local.get", i).op("i32.const", 1).op("i32.sub").op("local.tee", i).op("br_if", 0);
  f.op("end");
}
