// SIMD128 register-tiled f32 matmul, C[m, n] (=|+=) A[m, k] @ B[k, n], as one wasm
// function over byte offsets into memory. A size is either baked in (known when
// compiling) or "free": then it is an i32 argument of the function (a free dim's value),
// the loops run to it and the tiles' row steps are computed once at entry. A is read
// through strides (so A^T @ dC, a matmul's weight gradient, needs no copy); B and C are
// row-major. A tile keeps 4 rows x 8 columns of C in eight v128 accumulators across the
// whole k loop: each step loads two vectors of B once and one splat of A per row (10
// loads, 8 multiply-adds). Edges use smaller tiles (fewer rows, one vector, scalar
// columns): with constant bounds for known sizes, picked at run time for free ones (the
// last m mod 4 rows, then n's last 4-wide vector and single columns; any size from 0 up).
// A fused epilogue (a bias row, relu) runs on the accumulators before the one store, so a
// dense layer's forward is one pass over C. B given transposed (an input gradient,
// dy @ w^T) is first copied into row-major scratch: k * n moves against m * k * n
// multiply-adds, and the one tile loop serves all three products of a matmul.

import { FunctionBuilder, type ModuleBuilder } from "./encode";

/** A size known when compiling, or "free": an i32 argument of the function. */
export type Extent = number | "free";
/** An element stride: a number, or the run-time value of a free size. */
export type Stride = number | "m" | "k" | "n";

export interface MatmulShape {
  m: Extent;
  k: Extent;
  n: Extent;
  /** Element strides of A along its rows (i) and along k; row-major A is [k, 1], A^T is [1, m]. */
  aStride?: [Stride, Stride];
  /** Add into C instead of overwriting it (a gradient summed over several uses). */
  accumulate?: boolean;
  /** Add a bias row b[n] (the function takes its offset as a fourth argument). */
  bias?: boolean;
  /** Then relu, as the JS target's (x > 0 ? x : 0: NaN gives 0). */
  relu?: boolean;
  /** B is stored as [n, k] (row-major B^T); the function takes the offset of k * n floats
   *  of scratch after the other offsets (k and n must be known). */
  bTransposed?: boolean;
}

const rowsPerTile = 4;
const vecsPerTile = 2;
const sizeNames = ["m", "k", "n"] as const;

/** The function's parameter count: the offsets of A, B, C (then the bias row's and the
 *  scratch's when used), then each free size, in the order m, k, n. */
export function matmulArity(shape: MatmulShape): number {
  return 3 + (shape.bias ? 1 : 0) + (shape.bTransposed ? 1 : 0) + sizeNames.filter((d) => shape[d] === "free").length;
}

/** A value the generated code pushes: a constant, or a local holding it. */
type Value = { c: number } | { l: number };

/** Adds `matmul(a, b, c[, bias][, scratch][, m][, k][, n])` (byte offsets, 16-byte
 *  alignment not required; the free sizes last) to `module`; returns its function index. */
export function addMatmul(module: ModuleBuilder, shape: MatmulShape, exportName?: string): number {
  for (const d of sizeNames) {
    const v = shape[d];
    if (v !== "free" && (!Number.isInteger(v) || v < 1)) throw new RangeError(`matmul ${d} must be a positive integer or "free", got ${v}`);
  }
  if (shape.bias && shape.accumulate) throw new RangeError("matmul: a bias epilogue does not combine with accumulate");
  if (shape.bTransposed && (shape.k === "free" || shape.n === "free")) throw new RangeError("matmul: a transposed B needs k and n known (its scratch)");
  const offsets = 3 + (shape.bias ? 1 : 0) + (shape.bTransposed ? 1 : 0);
  const f = new FunctionBuilder(Array.from({ length: matmulArity(shape) }, () => "i32" as const), []);
  const free = sizeNames.filter((d) => shape[d] === "free");
  const size = (d: "m" | "k" | "n"): Value => (shape[d] === "free" ? { l: offsets + free.indexOf(d) } : { c: shape[d] as number });
  const stride = (s: Stride): Value => (typeof s === "number" ? { c: s } : size(s));
  /** `v * times`: a constant, or a local set to it at entry. */
  const scaled = (v: Value, times: number): Value => {
    if ("c" in v) return { c: v.c * times };
    const l = f.local("i32");
    f.op("local.get", v.l).op("i32.const", times).op("i32.mul").op("local.set", l);
    return { l };
  };
  const [sRow, sK] = (shape.aStride ?? ["k", 1]).map(stride) as [Value, Value];
  const n = size("n");
  const nBytes = scaled(n, 4);
  const sizes: Sizes = {
    m: size("m"), k: size("k"), n, nBytes, aKBytes: scaled(sK, 4),
    aRowBytes: scaled(sRow, 4),
    aRows: Array.from({ length: rowsPerTile }, (_, r) => (r === 0 ? { c: 0 } : scaled(sRow, 4 * r))),
    cRows: Array.from({ length: rowsPerTile }, (_, r) => (r === 0 ? { c: 0 } : scaled(n, 4 * r))),
  };
  const l = { a: 0, b: 1, c: 2, bias: 3, i: f.local("i32"), j: f.local("i32"), kk: f.local("i32"), pa: f.local("i32"), pb: f.local("i32"), pc: f.local("i32"), rest: f.local("i32") };
  const vacc = Array.from({ length: rowsPerTile * vecsPerTile }, () => f.local("v128"));
  const sacc = Array.from({ length: rowsPerTile * 3 }, () => f.local("f32"));
  const bv = Array.from({ length: vecsPerTile }, () => f.local("v128"));
  const av = f.local("v128");
  const as = f.local("f32");
  const zero = f.local("v128");
  const ctx: TileContext = {
    f, l, vacc, sacc, bv, av, as, zero, sizes,
    flags: { accumulate: shape.accumulate ?? false, bias: shape.bias ?? false, relu: shape.relu ?? false },
  };

  if (shape.bTransposed) emitTranspose(f, { src: l.b, dst: offsets - 1, rows: shape.n as number, cols: shape.k as number, i: l.i, j: l.j, p: l.pa, q: l.pb });

  const push = (v: Value) => ("c" in v ? f.op("i32.const", v.c) : f.op("local.get", v.l));
  /** while (local + step <= bound) { body(); local += step }, from the local's value. */
  const stepWhile = (local: number, step: number, bound: Value, body: () => void) => {
    f.open("block").open("loop");
    f.op("local.get", local).op("i32.const", step).op("i32.add");
    push(bound);
    f.op("i32.gt_s").op("br_if", 1);
    body();
    f.op("local.get", local).op("i32.const", step).op("i32.add").op("local.set", local).op("br", 0);
    f.op("end").op("end");
  };
  const rowBlock = (rows: number) => {
    if ("c" in n) {
      const fullCols = Math.floor(n.c / (4 * vecsPerTile)) * 4 * vecsPerTile;
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
      if (n.c - j >= 4) {
        f.op("i32.const", j).op("local.set", l.j);
        emitTile(ctx, rows, 1, 0);
        j += 4;
      }
      if (n.c - j > 0) {
        f.op("i32.const", j).op("local.set", l.j);
        emitTile(ctx, rows, 0, n.c - j);
      }
      return;
    }
    // free n: full tiles while 8 columns remain, then one vector if 4 do, then single columns
    f.op("i32.const", 0).op("local.set", l.j);
    stepWhile(l.j, 4 * vecsPerTile, n, () => emitTile(ctx, rows, vecsPerTile, 0));
    f.op("local.get", l.j).op("i32.const", 4).op("i32.add");
    push(n);
    f.op("i32.le_s").open("if");
    emitTile(ctx, rows, 1, 0);
    f.op("local.get", l.j).op("i32.const", 4).op("i32.add").op("local.set", l.j);
    f.op("end");
    stepWhile(l.j, 1, n, () => emitTile(ctx, rows, 0, 1));
  };
  const m = sizes.m;
  if ("c" in m) {
    const fullRows = Math.floor(m.c / rowsPerTile) * rowsPerTile;
    const restRows = m.c - fullRows;
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
  } else {
    // free m: blocks of 4 rows while they fit, then the last m mod 4 rows (i is left there)
    f.op("i32.const", 0).op("local.set", l.i);
    stepWhile(l.i, rowsPerTile, m, () => rowBlock(rowsPerTile));
    push(m).op("i32.const", rowsPerTile - 1).op("i32.and").op("local.set", l.rest);
    for (let rows = 1; rows < rowsPerTile; rows++) {
      f.op("local.get", l.rest).op("i32.const", rows).op("i32.eq").open("if");
      rowBlock(rows);
      f.op("end");
    }
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

/** The sizes and byte steps the tiles use, each a constant or a local set at entry. */
interface Sizes {
  m: Value;
  k: Value;
  n: Value;
  /** n * 4: C's and B's row step. */
  nBytes: Value;
  /** A's step along k, and along its rows, in bytes. */
  aKBytes: Value;
  aRowBytes: Value;
  /** r * A's row step and r * C's row step, for the rows r of a tile. */
  aRows: Value[];
  cRows: Value[];
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
  sizes: Sizes;
  flags: { accumulate: boolean; bias: boolean; relu: boolean };
}

/** One tile of C at rows i.. (rows of them) and columns j..: `vecs` 4-wide vectors, or
 *  `scalars` single columns (one of the two is 0). */
function emitTile(ctx: TileContext, rows: number, vecs: number, scalars: number): void {
  const { f, l, vacc, sacc, bv, av, as, zero, sizes } = ctx;
  const { accumulate, bias, relu } = ctx.flags;
  const acc = (r: number, v: number) => (vecs > 0 ? vacc[r * vecsPerTile + v]! : sacc[r * 3 + v]!);
  const width = vecs > 0 ? vecs : scalars;
  const push = (v: Value) => ("c" in v ? f.op("i32.const", v.c) : f.op("local.get", v.l));
  /** Pushes the address of row r of a tile whose row 0 is at local `base` (row steps
   *  `steps`); returns the constant part, for the access's offset. */
  const row = (base: number, steps: Value[], r: number, extra: number): number => {
    f.op("local.get", base);
    const s = steps[r]!;
    if ("c" in s) return s.c + extra;
    f.op("local.get", s.l).op("i32.add");
    return extra;
  };
  const lane = (v: number) => v * (vecs > 0 ? 16 : 4);
  // pa = a + i * sRow * 4; pb = b + j * 4; pc = c + i * n * 4 + j * 4
  f.op("local.get", l.a).op("local.get", l.i);
  push(sizes.aRowBytes).op("i32.mul").op("i32.add").op("local.set", l.pa);
  f.op("local.get", l.b).op("local.get", l.j).op("i32.const", 4).op("i32.mul").op("i32.add").op("local.set", l.pb);
  f.op("local.get", l.c).op("local.get", l.i);
  push(sizes.nBytes).op("i32.mul").op("i32.add");
  f.op("local.get", l.j).op("i32.const", 4).op("i32.mul").op("i32.add").op("local.set", l.pc);
  for (let r = 0; r < rows; r++) {
    for (let v = 0; v < width; v++) {
      // (or from -0, the identity of +, as the interpreter's)
      if (accumulate) f.op(vecs > 0 ? "v128.load" : "f32.load", 2, row(l.pc, sizes.cRows, r, lane(v)));
      else if (vecs > 0) f.v128Const([-0, -0, -0, -0]);
      else f.op("f32.const", -0);
      f.op("local.set", acc(r, v));
    }
  }
  // for kk = k down to 1 (a free k may be 0: no step)
  const k = sizes.k;
  if ("c" in k) f.op("i32.const", k.c).op("local.set", l.kk);
  else f.open("block").op("local.get", k.l).op("local.tee", l.kk).op("i32.eqz").op("br_if", 0);
  f.open("loop");
  if (vecs > 0) for (let v = 0; v < vecs; v++) f.op("local.get", l.pb).op("v128.load", 2, v * 16).op("local.set", bv[v]!);
  for (let r = 0; r < rows; r++) {
    const offset = row(l.pa, sizes.aRows, r, 0);
    if (vecs > 0) f.op("v128.load32_splat", 2, offset).op("local.set", av);
    else f.op("f32.load", 2, offset).op("local.set", as);
    for (let v = 0; v < width; v++) {
      f.op("local.get", acc(r, v));
      if (vecs > 0) f.op("local.get", av).op("local.get", bv[v]!).op("f32x4.mul").op("f32x4.add");
      else f.op("local.get", as).op("local.get", l.pb).op("f32.load", 2, v * 4).op("f32.mul").op("f32.add");
      f.op("local.set", acc(r, v));
    }
  }
  f.op("local.get", l.pa);
  push(sizes.aKBytes).op("i32.add").op("local.set", l.pa);
  f.op("local.get", l.pb);
  push(sizes.nBytes).op("i32.add").op("local.set", l.pb);
  f.op("local.get", l.kk).op("i32.const", 1).op("i32.sub").op("local.tee", l.kk).op("br_if", 0);
  f.op("end");
  if (!("c" in k)) f.op("end");
  for (let r = 0; r < rows; r++) {
    for (let v = 0; v < width; v++) {
      const offset = row(l.pc, sizes.cRows, r, lane(v));
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
      f.op(vecs > 0 ? "v128.store" : "f32.store", 2, offset);
    }
  }
}
