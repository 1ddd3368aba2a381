// Convolutions on the SIMD matmul tiles (matmul.ts). For each batch element and group,
// the windows of the input are packed into a column buffer (im2col: one row per channel
// and tap, one column per output position, zero where a window reaches into padding),
// and the convolution is a product with the weights:
//   forward        y[n, g]  = w[g] [og, cg*taps] @ cols [cg*taps, P]
//   input grad     dcols    = w[g]^T            @ dy[n, g] [og, P], then scattered back
//                                                 (col2im: dx[n, g] += each row's window)
//   weight grad    dw[g]   += dy[n, g] [og, P]  @ cols^T   (accumulated over n; rows of
//                                                 both dotted along P, addRowDot)
// The packing copies rows of the input (f32x4 when the stride is 1); padding positions
// are never written, so they keep the zeros the column buffer (its own scratch, nothing
// else writes it) starts with. Spatial ranks 1 and 2 (a rank-1 convolution is a rank-2
// one of height 1). Results accumulate in f32 lanes: they differ from the JS target's f64
// sums by f32 rounding.

import { FunctionBuilder, type ModuleBuilder } from "./encode";
import { addMatmul } from "./matmul";

/** One convolution's sizes, spatial rank 2 (height 1 for rank 1). A batch `n` that is
 *  "free" (a free dim) is the kernel's fourth argument. */
export interface ConvGeometry {
  n: number | "free"; c: number; h: number; w: number;
  o: number; kh: number; kw: number; oh: number; ow: number;
  sh: number; sw: number; ph: number; pw: number; dh: number; dw: number;
  groups: number;
}

export interface ConvAttributes {
  stride: readonly number[];
  padding: readonly number[];
  dilation: readonly number[];
  groups: number;
}

/** The geometry of conv(x [N, C, ...in], w [O, C/groups, ...k]) -> [N, O, ...out], or
 *  undefined when a size other than the batch N is unknown or the spatial rank is not 1
 *  or 2. */
export function convGeometry(x: readonly unknown[], w: readonly unknown[], y: readonly unknown[], a: ConvAttributes): ConvGeometry | undefined {
  const rank = x.length - 2;
  if ((rank !== 1 && rank !== 2) || w.length !== rank + 2 || y.length !== rank + 2) return undefined;
  const freeBatch = typeof x[0] !== "number" && x[0] === y[0];
  if (![...x.slice(freeBatch ? 1 : 0), ...w, ...y.slice(freeBatch ? 1 : 0)].every((d) => typeof d === "number" && Number.isInteger(d) && d >= 1)) return undefined;
  const [xs, ws, ys] = [x, w, y] as number[][];
  // rank 1 as rank 2: a leading spatial axis of size 1
  const two = (v: readonly number[], one: number) => (rank === 1 ? [one, v[0]!] : [v[0]!, v[1]!]);
  const [h, wd] = two(xs!.slice(2), 1), [kh, kw] = two(ws!.slice(2), 1), [oh, ow] = two(ys!.slice(2), 1);
  const [sh, sw] = two(a.stride, 1), [ph, pw] = two(a.padding, 0), [dh, dw] = two(a.dilation, 1);
  return { n: freeBatch ? "free" : xs![0]!, c: xs![1]!, h: h!, w: wd!, o: ws![0]!, kh: kh!, kw: kw!, oh: oh!, ow: ow!, sh: sh!, sw: sw!, ph: ph!, pw: pw!, dh: dh!, dw: dw!, groups: a.groups };
}

/** Per group: input channels, filters, column rows (channels * taps), output positions. */
function sizes(g: ConvGeometry) {
  const cg = g.c / g.groups, og = g.o / g.groups, taps = g.kh * g.kw;
  return { cg, og, taps, rows: cg * taps, p: g.oh * g.ow, plane: g.h * g.w };
}

/** Floats of scratch each kernel needs: the column buffer. */
export function convScratch(_kind: ConvKind, g: ConvGeometry): number[] {
  const { rows, p } = sizes(g);
  return [rows * p];
}

export type ConvKind = "conv" | "conv_input_grad" | "conv_weight_grad";

/** Adds the kernel of `kind` for `g`, taking the byte offsets of the op's two inputs and
 *  its output (conv(x, w, y), conv_input_grad(dy, w, dx), conv_weight_grad(x, dy, dw)),
 *  then the batch when it is free;
 *  `scratch` are the byte offsets of convScratch's buffers, zeroed and used by nothing
 *  else. Returns its function index. */
export function addConv(module: ModuleBuilder, kind: ConvKind, g: ConvGeometry, scratch: readonly number[], exportName?: string): number {
  const { cg, og, rows, p, plane } = sizes(g);
  if (!Number.isInteger(cg) || !Number.isInteger(og)) throw new RangeError(`conv: ${g.c} channels and ${g.o} filters do not split into ${g.groups} groups`);
  const cols = scratch[0]!;
  const f = new FunctionBuilder(g.n === "free" ? ["i32", "i32", "i32", "i32"] : ["i32", "i32", "i32"], []);
  const [in0, in1, out] = [0, 1, 2];
  const batch: Count = g.n === "free" ? { local: 3 } : g.n;
  const l = {
    n: f.local("i32"), grp: f.local("i32"), img: f.local("i32"), mat: f.local("i32"), c: f.local("i32"), src: f.local("i32"), dst: f.local("i32"),
    i: f.local("i32"), j: f.local("i32"), rows: f.local("i32"), a: f.local("i32"), b: f.local("i32"), chunks: f.local("i32"),
  };
  let mm: number;
  if (kind === "conv") mm = addMatmul(module, { m: og, k: rows, n: p });
  else if (kind === "conv_input_grad") mm = addMatmul(module, { m: rows, k: og, n: p, aStride: [1, rows] });
  else mm = addRowDot(module, og, p, rows);

  // the output starts at zero where it is accumulated into
  if (kind !== "conv") {
    f.op("local.get", out).op("i32.const", 0);
    if (kind === "conv_weight_grad") f.op("i32.const", g.o * rows * 4);
    else if (typeof batch === "number") f.op("i32.const", batch * g.c * plane * 4);
    else f.op("local.get", batch.local).op("i32.const", g.c * plane * 4).op("i32.mul");
    f.op("memory.fill");
  }
  // for n, for group: img = this group's first plane of the image side (x or dx), mat = its
  // block of the activation side (y or dy)
  counted(f, l.n, batch, () => {
    counted(f, l.grp, g.groups, () => {
      const image = kind === "conv_input_grad" ? out : in0;
      const activation = kind === "conv" ? out : kind === "conv_input_grad" ? in0 : in1;
      f.op("local.get", image).op("local.get", l.n).op("i32.const", g.c * plane * 4).op("i32.mul").op("i32.add");
      f.op("local.get", l.grp).op("i32.const", cg * plane * 4).op("i32.mul").op("i32.add").op("local.set", l.img);
      f.op("local.get", activation).op("local.get", l.n).op("i32.const", g.o * p * 4).op("i32.mul").op("i32.add");
      f.op("local.get", l.grp).op("i32.const", og * p * 4).op("i32.mul").op("i32.add").op("local.set", l.mat);
      // the group's weights (or weight gradient): w + grp * og * rows * 4
      const weights = kind === "conv_weight_grad" ? out : in1;
      const pushWeights = () => f.op("local.get", weights).op("local.get", l.grp).op("i32.const", og * rows * 4).op("i32.mul").op("i32.add");
      if (kind === "conv") {
        windows(f, g, l, cols, "pack");
        pushWeights().op("i32.const", cols).op("local.get", l.mat).op("call", mm);
      } else if (kind === "conv_input_grad") {
        pushWeights().op("local.get", l.mat).op("i32.const", cols).op("call", mm);
        windows(f, g, l, cols, "scatter");
      } else {
        windows(f, g, l, cols, "pack");
        f.op("local.get", l.mat).op("i32.const", cols);
        pushWeights().op("call", mm);
      }
    });
  });
  return module.addFunction(f, exportName);
}

/** A loop count: known, or an i32 local (a free batch, possibly 0). */
type Count = number | { local: number };

/** for (v = 0; v < count; v++) body(), as a do-while (a known count is >= 1; a local one
 *  is checked first). */
function counted(f: FunctionBuilder, v: number, count: Count, body: () => void): void {
  const local = typeof count === "number" ? undefined : count.local;
  if (local !== undefined) f.open("block").op("local.get", local).op("i32.eqz").op("br_if", 0);
  f.op("i32.const", 0).op("local.set", v);
  f.open("loop");
  body();
  f.op("local.get", v).op("i32.const", 1).op("i32.add").op("local.tee", v);
  if (local !== undefined) f.op("local.get", local); else f.op("i32.const", count as number);
  f.op("i32.lt_s").op("br_if", 0);
  f.op("end");
  if (local !== undefined) f.op("end");
}

/** The packing (cols[row, pos] = the image element the window at pos reads at that row's
 *  channel and tap) or its transpose, the scatter (image[...] += cols[row, pos]), for the
 *  group whose first image plane is at local `img`. Padding positions are skipped: the
 *  in-range output rows and columns of each tap are constants. */
function windows(f: FunctionBuilder, g: ConvGeometry, l: Locals, cols: number, mode: "pack" | "scatter"): void {
  const { cg, taps, p, plane } = sizes(g);
  // first and one-past-last output index whose tap lands inside [0, size)
  const range = (tap: number, stride: number, pad: number, dil: number, size: number, outSize: number): [number, number] => {
    const at = tap * dil - pad;
    const lo = Math.max(0, Math.ceil(-at / stride));
    const hi = Math.min(outSize, Math.floor((size - 1 - at) / stride) + 1);
    return [lo, hi];
  };
  // for c: src walks the image planes, dst the column rows (taps of them per channel)
  f.op("local.get", l.img).op("local.set", l.src);
  f.op("i32.const", cols).op("local.set", l.dst);
  counted(f, l.c, cg, () => {
    for (let ki = 0; ki < g.kh; ki++) {
      const [ilo, ihi] = range(ki, g.sh, g.ph, g.dh, g.h, g.oh);
      for (let kj = 0; kj < g.kw; kj++) {
        const [jlo, jhi] = range(kj, g.sw, g.pw, g.dw, g.w, g.ow);
        if (ihi <= ilo || jhi <= jlo) continue;
        const row = ki * g.kw + kj;
        // image element of output (ilo, jlo), relative to the plane; column element
        const imageAt = ((ilo * g.sh + ki * g.dh - g.ph) * g.w + (jlo * g.sw + kj * g.dw - g.pw)) * 4;
        const colAt = (row * p + ilo * g.ow + jlo) * 4;
        // i = image pointer, j = column pointer, one output row at a time
        f.op("local.get", l.src).op("i32.const", imageAt).op("i32.add").op("local.set", l.i);
        f.op("local.get", l.dst).op("i32.const", colAt).op("i32.add").op("local.set", l.j);
        f.op("i32.const", ihi - ilo).op("local.set", l.rows);
        f.open("loop");
        run(f, l, jhi - jlo, g.sw, mode);
        f.op("local.get", l.i).op("i32.const", g.sh * g.w * 4).op("i32.add").op("local.set", l.i);
        f.op("local.get", l.j).op("i32.const", g.ow * 4).op("i32.add").op("local.set", l.j);
        f.op("local.get", l.rows).op("i32.const", 1).op("i32.sub").op("local.tee", l.rows).op("br_if", 0);
        f.op("end");
      }
    }
    f.op("local.get", l.src).op("i32.const", plane * 4).op("i32.add").op("local.set", l.src);
    f.op("local.get", l.dst).op("i32.const", taps * p * 4).op("i32.add").op("local.set", l.dst);
  });
}

interface Locals { img: number; c: number; src: number; dst: number; i: number; j: number; rows: number; a: number; b: number; chunks: number }

/** Elements a run copies per loop iteration when it is too long to unroll whole. */
const chunk = 16;

/** One run of `len` elements: the image side (pointer local i, element stride `stride`)
 *  and the column side (pointer local j, contiguous). pack: col = image; scatter: image +=
 *  col. Unrolled (a loop of 16-element chunks first when long). */
function run(f: FunctionBuilder, l: Locals, len: number, stride: number, mode: "pack" | "scatter"): void {
  if (len <= 4 * chunk) { unrolled(f, l.i, l.j, len, stride, mode); return; }
  const loops = Math.floor(len / chunk);
  f.op("local.get", l.i).op("local.set", l.a).op("local.get", l.j).op("local.set", l.b);
  f.op("i32.const", loops).op("local.set", l.chunks);
  f.open("loop");
  unrolled(f, l.a, l.b, chunk, stride, mode);
  f.op("local.get", l.a).op("i32.const", chunk * stride * 4).op("i32.add").op("local.set", l.a);
  f.op("local.get", l.b).op("i32.const", chunk * 4).op("i32.add").op("local.set", l.b);
  f.op("local.get", l.chunks).op("i32.const", 1).op("i32.sub").op("local.tee", l.chunks).op("br_if", 0);
  f.op("end");
  unrolled(f, l.a, l.b, len - loops * chunk, stride, mode);
}

/** `len` elements from pointer locals `image` and `col`, unrolled: f32x4 where the stride
 *  is 1, then single floats. */
function unrolled(f: FunctionBuilder, image: number, col: number, len: number, stride: number, mode: "pack" | "scatter"): void {
  const vec = stride === 1 ? Math.floor(len / 4) : 0;
  for (let t = 0; t < vec; t++) {
    if (mode === "pack") {
      f.op("local.get", col).op("local.get", image).op("v128.load", 2, t * 16).op("v128.store", 2, t * 16);
    } else {
      f.op("local.get", image).op("local.get", image).op("v128.load", 2, t * 16);
      f.op("local.get", col).op("v128.load", 2, t * 16).op("f32x4.add").op("v128.store", 2, t * 16);
    }
  }
  for (let t = vec * 4; t < len; t++) {
    const io = t * stride * 4, co = t * 4;
    if (mode === "pack") {
      f.op("local.get", col).op("local.get", image).op("f32.load", 2, io).op("f32.store", 2, co);
    } else {
      f.op("local.get", image).op("local.get", image).op("f32.load", 2, io);
      f.op("local.get", col).op("f32.load", 2, co).op("f32.add").op("f32.store", 2, io);
    }
  }
}

/** Adds `rowdot(a, b, c)`: C[m, n] += sum over t of A[m, t] * B[n, t], A and B row-major
 *  (rows dotted with rows: a product with B transposed, without moving B). A tile keeps 4
 *  rows of A by 2 rows of B in eight f32x4 accumulators across k (4 at a time), then adds
 *  each one's lanes and the last k mod 4 terms into C. */
export function addRowDot(module: ModuleBuilder, m: number, k: number, n: number, exportName?: string): number {
  const f = new FunctionBuilder(["i32", "i32", "i32"], []);
  const [a, b, c] = [0, 1, 2];
  const pa = f.local("i32"), pb = f.local("i32"), kk = f.local("i32"), i = f.local("i32"), j = f.local("i32");
  const acc = Array.from({ length: 8 }, () => f.local("v128"));
  const av = Array.from({ length: 4 }, () => f.local("v128"));
  const bv = Array.from({ length: 2 }, () => f.local("v128"));
  const sum = f.local("f32");
  const vec = Math.floor(k / 4);
  const tile = (rows: number, cols: number) => {
    // pa = a + i * k * 4, pb = b + j * k * 4
    f.op("local.get", a).op("local.get", i).op("i32.const", k * 4).op("i32.mul").op("i32.add").op("local.set", pa);
    f.op("local.get", b).op("local.get", j).op("i32.const", k * 4).op("i32.mul").op("i32.add").op("local.set", pb);
    for (let t = 0; t < rows * cols; t++) f.v128Const([0, 0, 0, 0]).op("local.set", acc[t]!);
    if (vec > 0) {
      f.op("i32.const", vec).op("local.set", kk);
      f.open("loop");
      for (let r = 0; r < rows; r++) f.op("local.get", pa).op("v128.load", 2, r * k * 4).op("local.set", av[r]!);
      for (let q = 0; q < cols; q++) f.op("local.get", pb).op("v128.load", 2, q * k * 4).op("local.set", bv[q]!);
      for (let r = 0; r < rows; r++) {
        for (let q = 0; q < cols; q++) {
          f.op("local.get", acc[r * cols + q]!).op("local.get", av[r]!).op("local.get", bv[q]!).op("f32x4.mul").op("f32x4.add").op("local.set", acc[r * cols + q]!);
        }
      }
      f.op("local.get", pa).op("i32.const", 16).op("i32.add").op("local.set", pa);
      f.op("local.get", pb).op("i32.const", 16).op("i32.add").op("local.set", pb);
      f.op("local.get", kk).op("i32.const", 1).op("i32.sub").op("local.tee", kk).op("br_if", 0);
      f.op("end");
    }
    // pa and pb now point at element 4 * vec of their first row
    for (let r = 0; r < rows; r++) {
      for (let q = 0; q < cols; q++) {
        const x = acc[r * cols + q]!;
        f.op("local.get", x).op("f32x4.extract_lane", 0).op("local.get", x).op("f32x4.extract_lane", 1).op("f32.add");
        f.op("local.get", x).op("f32x4.extract_lane", 2).op("local.get", x).op("f32x4.extract_lane", 3).op("f32.add").op("f32.add");
        for (let t = 0; t < k - 4 * vec; t++) {
          f.op("local.get", pa).op("f32.load", 2, (r * k + t) * 4).op("local.get", pb).op("f32.load", 2, (q * k + t) * 4).op("f32.mul").op("f32.add");
        }
        f.op("local.set", sum);
        // c[(i + r) * n + j + q] += sum
        f.op("local.get", c).op("local.get", i).op("i32.const", r).op("i32.add").op("i32.const", n).op("i32.mul");
        f.op("local.get", j).op("i32.add").op("i32.const", 4).op("i32.mul").op("i32.add").op("local.tee", pa);
        f.op("local.get", pa).op("f32.load", 2, q * 4).op("local.get", sum).op("f32.add").op("f32.store", 2, q * 4);
        // restore pa for the next (r, q): a + (i * k + 4 * vec) * 4
        f.op("local.get", a).op("local.get", i).op("i32.const", k * 4).op("i32.mul").op("i32.add").op("i32.const", vec * 16).op("i32.add").op("local.set", pa);
      }
    }
  };
  const rowBlocks = (rows: number, from: number, count: number) => {
    // for i = from, from + rows, ...: every column pair, then the last column
    f.op("i32.const", from).op("local.set", i);
    f.open("loop");
    const pairs = Math.floor(n / 2);
    if (pairs > 0) {
      f.op("i32.const", 0).op("local.set", j);
      f.open("loop");
      tile(rows, 2);
      f.op("local.get", j).op("i32.const", 2).op("i32.add").op("local.tee", j).op("i32.const", pairs * 2).op("i32.lt_s").op("br_if", 0);
      f.op("end");
    }
    if (n % 2) { f.op("i32.const", n - 1).op("local.set", j); tile(rows, 1); }
    f.op("local.get", i).op("i32.const", rows).op("i32.add").op("local.tee", i).op("i32.const", from + rows * count).op("i32.lt_s").op("br_if", 0);
    f.op("end");
  };
  const full = Math.floor(m / 4);
  if (full > 0) rowBlocks(4, 0, full);
  if (m % 4) rowBlocks(m % 4, full * 4, 1);
  return module.addFunction(f, exportName);
}
