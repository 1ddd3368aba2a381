// Pooling on f32x4 lanes for the wasm target: four neighbouring output columns at once
// (single floats for a row's last OW mod 4). A window tap of four outputs is one vector
// load (stride 1), two loads and an even-lane shuffle (stride 2), or four lane loads.
//   maxpool2d        f32x4.max over the taps: Math.max's NaN and -0 < +0 rules, so it is
//                    the JS target's result exactly
//   maxpool2d_select h at each window's first maximum of x
//   maxpool2d_grad   windows that tile the plane (stride = size): g at each window's first
//                    maximum, 0 at its other taps and outside every window
// The first maximum is the JS target's: a later tap wins if it is greater, or if it is the
// first NaN (v > m || (v !== v && m === m)), tracked as a lane index with bitselect.

import { FunctionBuilder, type ModuleBuilder } from "./encode";

export interface PoolGeometry {
  /** planes (batch * channels), input height and width, window size, stride */
  planes: number; h: number; w: number; size: number; stride: number;
  oh: number; ow: number;
  /** The batch is free: `planes` counts one batch element's, and the kernel takes the
   *  batch as its last argument. */
  freeBatch?: true;
}

export type PoolKind = "maxpool2d" | "maxpool2d_select" | "maxpool2d_grad";

/** The geometry of a pooling op over x [N, C, H, W], or undefined (an unknown size other
 *  than the batch N; the gradient of windows that do not tile the plane). */
export function poolGeometry(kind: PoolKind, x: readonly unknown[], attrs: { size?: unknown; stride?: unknown }): PoolGeometry | undefined {
  if (x.length !== 4 || !x.slice(1).every((d) => typeof d === "number")) return undefined;
  const freeBatch = typeof x[0] !== "number";
  const [n, c, h, w] = (freeBatch ? [1, ...x.slice(1)] : x) as number[];
  const size = attrs.size, stride = attrs.stride;
  if (typeof size !== "number" || typeof stride !== "number") return undefined;
  if (kind === "maxpool2d_grad" && stride !== size) return undefined;
  const oh = Math.floor((h! - size) / stride) + 1, ow = Math.floor((w! - size) / stride) + 1;
  return { planes: n! * c!, h: h!, w: w!, size, stride, oh, ow, ...(freeBatch ? { freeBatch: true as const } : {}) };
}

/** Adds the kernel: maxpool2d(x, out), maxpool2d_select(x, h, out), maxpool2d_grad(x, g,
 *  out) (byte offsets; then a free batch); returns its function index. */
export function addPool(module: ModuleBuilder, kind: PoolKind, g: PoolGeometry, exportName?: string): number {
  const params = kind === "maxpool2d" ? 2 : 3;
  const f = new FunctionBuilder(Array.from({ length: params + (g.freeBatch ? 1 : 0) }, () => "i32" as const), []);
  const x = 0, second = 1, out = params - 1, batch = params;
  const row = f.local("i32"), p = f.local("i32"), q = f.local("i32"), cols = f.local("i32");
  const taps: [number, number][] = [];
  for (let a = 0; a < g.size; a++) for (let b = 0; b < g.size; b++) taps.push([a, b]);
  const { w, stride: s } = g;
  const rows = g.planes * g.oh;
  const vecs = Math.floor(g.ow / 4);
  const vm = f.local("v128"), vi = f.local("v128"), vt = f.local("v128"), vc = f.local("v128"), vg = f.local("v128");
  const sm = f.local("f32"), si = f.local("i32"), st = f.local("f32"), sc = f.local("i32"), sg = f.local("f32");
  // the other array read at x's positions (h of select, out of grad): p + (it - x)
  const delta = f.local("i32"), hp = f.local("i32");
  if (kind !== "maxpool2d") {
    f.op("local.get", kind === "maxpool2d_select" ? second : out).op("local.get", x).op("i32.sub").op("local.set", delta);
  }
  /** Pushes `count` times the batch (1 when known: `planes` counts them all). */
  const perBatch = (count: number) => {
    f.op("i32.const", count);
    if (g.freeBatch) f.op("local.get", batch).op("i32.mul");
  };
  if (kind === "maxpool2d_grad" && (g.oh * s < g.h || g.ow * s < g.w)) {
    // rows and columns past the last window get no gradient
    f.op("local.get", out).op("i32.const", 0);
    perBatch(g.planes * g.h * g.w * 4);
    f.op("memory.fill");
  }

  /** Pushes tap (a, b) of the outputs at column offset `col` (elements, within the vector
   *  or the scalar output) from base pointer local `base`. */
  const tap = (base: number, a: number, b: number, col: number, vector: boolean) => {
    const at = (a * w + col * s + b) * 4;
    if (!vector) { f.op("local.get", base).op("f32.load", 2, at); return; }
    if (s === 1) { f.op("local.get", base).op("v128.load", 2, at); return; }
    if (s === 2) {
      f.op("local.get", base).op("v128.load", 2, at).op("local.get", base).op("v128.load", 2, at + 16);
      f.shuffle32([0, 2, 4, 6]);
      return;
    }
    f.op("local.get", base).op("v128.load32_splat", 2, at);
    for (let l = 1; l < 4; l++) f.op("local.get", base).op("f32.load", 2, at + l * s * 4).op("f32x4.replace_lane", l);
  };
  /** The first maximum of x's window at column `col` into vm / sm and its tap into vi / si. */
  const firstMax = (col: number, vector: boolean) => {
    const [m, i, t, c] = vector ? [vm, vi, vt, vc] : [sm, si, st, sc];
    tap(p, 0, 0, col, vector);
    f.op("local.set", m);
    if (vector) f.v128Const([0, 0, 0, 0]); else f.op("i32.const", 0);
    f.op("local.set", i);
    taps.forEach(([a, b], k) => {
      if (k === 0) return;
      tap(p, a, b, col, vector);
      f.op("local.set", t);
      // c = t > m || (t !== t && m === m)
      f.op("local.get", t).op("local.get", m).op(vector ? "f32x4.gt" : "f32.gt");
      f.op("local.get", t).op("local.get", t).op(vector ? "f32x4.ne" : "f32.ne");
      f.op("local.get", m).op("local.get", m).op(vector ? "f32x4.eq" : "f32.eq");
      f.op(vector ? "v128.and" : "i32.and").op(vector ? "v128.or" : "i32.or").op("local.set", c);
      f.op("local.get", t).op("local.get", m).op("local.get", c).op(vector ? "v128.bitselect" : "select").op("local.set", m);
      if (vector) f.op("i32.const", k).op("i32x4.splat"); else f.op("i32.const", k);
      f.op("local.get", i).op("local.get", c).op(vector ? "v128.bitselect" : "select").op("local.set", i);
    });
  };
  /** One group of outputs (four, or the scalar one at `col`). */
  const outputs = (col: number, vector: boolean) => {
    const store = vector ? "v128.store" : "f32.store";
    if (kind === "maxpool2d") {
      f.op("local.get", q);
      tap(p, 0, 0, col, vector);
      for (const [a, b] of taps.slice(1)) { tap(p, a, b, col, vector); f.op(vector ? "f32x4.max" : "f32.max"); }
      f.op(store, 2, col * 4);
      return;
    }
    firstMax(col, vector);
    const [i, t] = vector ? [vi, vt] : [si, st];
    f.op("local.get", p).op("local.get", delta).op("i32.add").op("local.set", hp);
    if (kind === "maxpool2d_select") {
      // h at the first maximum: each tap's h where the index is that tap
      tap(hp, 0, 0, col, vector);
      f.op("local.set", t);
      taps.forEach(([a, b], k) => {
        if (k === 0) return;
        tap(hp, a, b, col, vector);
        f.op("local.get", t).op("local.get", i);
        if (vector) f.op("i32.const", k).op("i32x4.splat").op("i32x4.eq").op("v128.bitselect");
        else f.op("i32.const", k).op("i32.eq").op("select");
        f.op("local.set", t);
      });
      f.op("local.get", q).op("local.get", t).op(store, 2, col * 4);
      return;
    }
    // maxpool2d_grad: each tap of the (disjoint) window stores g or 0
    const gv = vector ? vg : sg;
    f.op("local.get", q).op(vector ? "v128.load" : "f32.load", 2, col * 4).op("local.set", gv);
    taps.forEach(([a, b], k) => {
      const value = () => {
        f.op("local.get", gv);
        if (vector) f.v128Const([0, 0, 0, 0]); else f.op("f32.const", 0);
        f.op("local.get", i);
        if (vector) f.op("i32.const", k).op("i32x4.splat").op("i32x4.eq").op("v128.bitselect");
        else f.op("i32.const", k).op("i32.eq").op("select");
      };
      const at = (a * w + col * s + b) * 4;
      if (!vector) { f.op("local.get", hp); value(); f.op("f32.store", 2, at); return; }
      value();
      f.op("local.set", vt);
      for (let l = 0; l < 4; l++) f.op("local.get", hp).op("local.get", vt).op("f32x4.extract_lane", l).op("f32.store", 2, at + l * s * 4);
    });
  };

  // for each output row (over every plane): p = x row start, q = output (or g) row start
  const last = f.local("i32");
  perBatch(rows);
  f.op("local.set", last);
  // (a free batch may be 0: no row)
  f.open("block").op("local.get", last).op("i32.eqz").op("br_if", 0);
  f.op("i32.const", 0).op("local.set", row);
  f.open("loop");
  // p = x + ((row / oh) * h * w + (row % oh) * s * w) * 4
  f.op("local.get", x);
  f.op("local.get", row).op("i32.const", g.oh).op("i32.div_u").op("i32.const", g.h * w * 4).op("i32.mul").op("i32.add");
  f.op("local.get", row).op("i32.const", g.oh).op("i32.rem_u").op("i32.const", s * w * 4).op("i32.mul").op("i32.add");
  f.op("local.set", p);
  f.op("local.get", kind === "maxpool2d_grad" ? second : out).op("local.get", row).op("i32.const", g.ow * 4).op("i32.mul").op("i32.add").op("local.set", q);
  if (vecs > 0) {
    f.op("i32.const", vecs).op("local.set", cols);
    f.open("loop");
    outputs(0, true);
    f.op("local.get", p).op("i32.const", 4 * s * 4).op("i32.add").op("local.set", p);
    f.op("local.get", q).op("i32.const", 16).op("i32.add").op("local.set", q);
    f.op("local.get", cols).op("i32.const", 1).op("i32.sub").op("local.tee", cols).op("br_if", 0);
    f.op("end");
  }
  for (let col = 0; col < g.ow % 4; col++) outputs(col, false);
  f.op("local.get", row).op("i32.const", 1).op("i32.add").op("local.tee", row).op("local.get", last).op("i32.lt_u").op("br_if", 0);
  f.op("end").op("end");
  return module.addFunction(f, exportName);
}
