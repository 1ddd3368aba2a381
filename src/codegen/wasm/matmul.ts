// SIMD128 register-tiled f32 matmul, C[m, n] (=|+=) A[m, k] @ B[k, n], as one wasm
// function over byte offsets into memory, its shapes baked in. A is read through strides
// (so A^T @ dC, a matmul's weight gradient, needs no copy); B and C are row-major. A tile
// keeps 4 rows x 8 columns of C in eight v128 accumulators across the whole k loop: each
// step loads two vectors of B once and one splat of A per row (10 loads, 8 multiply-adds).
// Edges use smaller tiles (fewer rows, one vector, scalar columns) with constant bounds.
// A fused epilogue (a bias row, relu) runs on the accumulators before the one store, so a
// dense layer's forward is one pass over C. B given transposed (an input gradient,
// dy @ w^T) is first copied into row-major scratch: k * n moves against m * k * n
// multiply-adds, and the one tile loop serves all three products of a matmul.

import { FunctionBuilder, type ModuleBuilder } from "./encode";

export interface MatmulShape {
  m: number;
  k: number;
  n: number;
  /** Element strides of A along its rows (i) and along k; row-major A is [k, 1], A^T is [1, m]. */
  aStride?: [number, number];
  /** Add into C instead of overwriting it (a gradient summed over several uses). */
  accumulate?: boolean;
  /** Add a bias row b[n] (the function takes its offset as a fourth argument). */
  bias?: boolean;
  /** Then relu, as the JS target's (x > 0 ? x : 0: NaN gives 0). */
  relu?: boolean;
  /** B is stored as [n, k] (row-major B^T); the function takes the offset of k * n floats
   *  of scratch as its last argument. */
  bTransposed?: boolean;
}

const rowsPerTile = 4;
const vecsPerTile = 2;

/** Adds `matmul(a, b, c[, bias][, scratch])` (byte offsets, 16-byte alignment not required) to
 *  `module`; returns its function index. */
export function addMatmul(module: ModuleBuilder, shape: MatmulShape, exportName?: string): number {
  const { m, k, n } = shape;
  for (const [name, v] of Object.entries({ m, k, n })) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`matmul ${name} must be a positive integer, got ${v}`);
  }
  const [sRow, sK] = shape.aStride ?? [k, 1];
  if (shape.bias && shape.accumulate) throw new RangeError("matmul: a bias epilogue does not combine with accumulate");
  const params = 3 + (shape.bias ? 1 : 0) + (shape.bTransposed ? 1 : 0);
  const f = new FunctionBuilder(Array.from({ length: params }, () => "i32" as const), []);
  const l = { a: 0, b: 1, c: 2, bias: 3, i: f.local("i32"), j: f.local("i32"), kk: f.local("i32"), pa: f.local("i32"), pb: f.local("i32"), pc: f.local("i32") };
  const vacc = Array.from({ length: rowsPerTile * vecsPerTile }, () => f.local("v128"));
  const sacc = Array.from({ length: rowsPerTile * 3 }, () => f.local("f32"));
  const bv = Array.from({ length: vecsPerTile }, () => f.local("v128"));
  const av = f.local("v128");
  const as = f.local("f32");
  const zero = f.local("v128");
  const ctx: TileContext = {
    f, l, vacc, sacc, bv, av, as, zero,
    shape: { m, k, n, sRow, sK, accumulate: shape.accumulate ?? false, bias: shape.bias ?? false, relu: shape.relu ?? false },
  };

  if (shape.bTransposed) emitTranspose(f, { src: l.b, dst: params - 1, rows: n, cols: k, i: l.i, j: l.j, p: l.pa, q: l.pb });

  const fullRows = Math.floor(m / rowsPerTile) * rowsPerTile;
  const restRows = m - fullRows;
  const rowBlock = (rows: number) => {
    const fullCols = Math.floor(n / (4 * vecsPerTile)) * 4 * vecsPerTile;
    if (fullCols > 0) {
      // for j in 0, 8, ..., fullCols - 8
      f.op("i32.const", 0).op("local.set", l.j);
      f.open("loop");
      emitTile(ctx, rows, vecsPerTile, 0);
      f.op("local.get", l.j).op("i32.const", 4 * vecsPerTile).op("i32.add").op("local.tee", l.j);
      f.op("i32.const", fullCols).op("i32.lt_s").op("br_if", 0);
      f.op("end");
    }
    let j = fullCols;
    if (n - j >= 4) {
      f.op("i32.const", j).op("local.set", l.j);
      emitTile(ctx, rows, 1, 0);
      j += 4;
    }
    if (n - j > 0) {
      f.op("i32.const", j).op("local.set", l.j);
      emitTile(ctx, rows, 0, n - j);
    }
  };
  if (fullRows > 0) {
    f.op("i32.const", 0).op("local.set", l.i);
    f.open("loop");
    rowBlock(rowsPerTile);
    f.op("local.get", l.i).op("i32.const", rowsPerTile).op("i32.add").op("local.tee", l.i);
    f.op("i32.const", fullRows).op("i32.lt_s").op("br_if", 0);
    f.op("end");
  }
  if (restRows > 0) {
    f.op("i32.const", fullRows).op("local.set", l.i);
    rowBlock(restRows);
  }
  return module.addFunction(f, exportName);
}

/** dst[c * rows + r] = src[r * cols + c], then local `src` := dst (pointers p and q walk
 *  the two arrays; i and j count). */
function emitTranspose(f: FunctionBuilder, at: { src: number; dst: number; rows: number; cols: number; i: number; j: number; p: number; q: number }): void {
  const { src, dst, rows, cols, i, j, p, q } = at;
  f.op("local.get", src).op("local.set", p);
  f.op("i32.const", 0).op("local.set", i);
  f.open("loop");
  // q = dst + i * 4: column i of the transposed array
  f.op("local.get", dst).op("local.get", i).op("i32.const", 4).op("i32.mul").op("i32.add").op("local.set", q);
  f.op("i32.const", cols).op("local.set", j);
  f.open("loop");
  f.op("local.get", q).op("local.get", p).op("f32.load", 2, 0).op("f32.store", 2, 0);
  f.op("local.get", p).op("i32.const", 4).op("i32.add").op("local.set", p);
  f.op("local.get", q).op("i32.const", rows * 4).op("i32.add").op("local.set", q);
  f.op("local.get", j).op("i32.const", 1).op("i32.sub").op("local.tee", j).op("br_if", 0);
  f.op("end");
  f.op("local.get", i).op("i32.const", 1).op("i32.add").op("local.tee", i).op("i32.const", rows).op("i32.lt_s").op("br_if", 0);
  f.op("end");
  f.op("local.get", dst).op("local.set", src);
}

interface TileContext {
  f: FunctionBuilder;
  l: { a: number; b: number; c: number; bias: number; i: number; j: number; kk: number; pa: number; pb: number; pc: number };
  vacc: number[];
  sacc: number[];
  bv: number[];
  /** This k step's element of A for the current row, splat (vector tiles) or scalar. */
  av: number;
  as: number;
  /** An all-zero v128 (locals start zeroed), relu's other operand. */
  zero: number;
  shape: { m: number; k: number; n: number; sRow: number; sK: number; accumulate: boolean; bias: boolean; relu: boolean };
}

/** One tile of C at rows i.. (rows of them) and columns j..: `vecs` 4-wide vectors, or
 *  `scalars` single columns (one of the two is 0). */
function emitTile(ctx: TileContext, rows: number, vecs: number, scalars: number): void {
  const { f, l, vacc, sacc, bv, av, as, zero, shape } = ctx;
  const { k, n, sRow, sK, accumulate, bias, relu } = shape;
  const acc = (r: number, v: number) => (vecs > 0 ? vacc[r * vecsPerTile + v]! : sacc[r * 3 + v]!);
  const width = vecs > 0 ? vecs : scalars;
  // pa = a + i * sRow * 4; pb = b + j * 4; pc = c + (i * n + j) * 4
  f.op("local.get", l.a).op("local.get", l.i).op("i32.const", sRow * 4).op("i32.mul").op("i32.add").op("local.set", l.pa);
  f.op("local.get", l.b).op("local.get", l.j).op("i32.const", 4).op("i32.mul").op("i32.add").op("local.set", l.pb);
  f.op("local.get", l.c).op("local.get", l.i).op("i32.const", n).op("i32.mul").op("local.get", l.j).op("i32.add");
  f.op("i32.const", 4).op("i32.mul").op("i32.add").op("local.set", l.pc);
  for (let r = 0; r < rows; r++) {
    for (let v = 0; v < width; v++) {
      if (accumulate) f.op("local.get", l.pc).op(vecs > 0 ? "v128.load" : "f32.load", 2, (r * n + v * (vecs > 0 ? 4 : 1)) * 4);
      else if (vecs > 0) f.v128Const([0, 0, 0, 0]);
      else f.op("f32.const", 0);
      f.op("local.set", acc(r, v));
    }
  }
  f.op("i32.const", k).op("local.set", l.kk);
  f.open("loop");
  if (vecs > 0) for (let v = 0; v < vecs; v++) f.op("local.get", l.pb).op("v128.load", 2, v * 16).op("local.set", bv[v]!);
  for (let r = 0; r < rows; r++) {
    if (vecs > 0) f.op("local.get", l.pa).op("v128.load32_splat", 2, r * sRow * 4).op("local.set", av);
    else f.op("local.get", l.pa).op("f32.load", 2, r * sRow * 4).op("local.set", as);
    for (let v = 0; v < width; v++) {
      f.op("local.get", acc(r, v));
      if (vecs > 0) f.op("local.get", av).op("local.get", bv[v]!).op("f32x4.mul").op("f32x4.add");
      else f.op("local.get", as).op("local.get", l.pb).op("f32.load", 2, v * 4).op("f32.mul").op("f32.add");
      f.op("local.set", acc(r, v));
    }
  }
  f.op("local.get", l.pa).op("i32.const", sK * 4).op("i32.add").op("local.set", l.pa);
  f.op("local.get", l.pb).op("i32.const", n * 4).op("i32.add").op("local.set", l.pb);
  f.op("local.get", l.kk).op("i32.const", 1).op("i32.sub").op("local.tee", l.kk).op("br_if", 0);
  f.op("end");
  for (let r = 0; r < rows; r++) {
    for (let v = 0; v < width; v++) {
      f.op("local.get", l.pc);
      // relu as pmax(0, x) = 0 < x ? x : 0; scalar: select(x, 0, x > 0)
      if (relu && vecs > 0) f.op("local.get", zero);
      f.op("local.get", acc(r, v));
      if (bias) {
        f.op("local.get", l.bias).op("local.get", l.j).op("i32.const", 4).op("i32.mul").op("i32.add");
        if (vecs > 0) f.op("v128.load", 2, v * 16).op("f32x4.add");
        else f.op("f32.load", 2, v * 4).op("f32.add");
      }
      if (relu && vecs > 0) f.op("f32x4.pmax");
      if (relu && vecs === 0) {
        f.op("local.tee", as).op("f32.const", 0).op("local.get", as).op("f32.const", 0).op("f32.gt").op("select");
      }
      f.op(vecs > 0 ? "v128.store" : "f32.store", 2, (r * n + v * (vecs > 0 ? 4 : 1)) * 4);
    }
  }
}
