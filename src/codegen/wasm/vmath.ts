// exp and tanh on f32x4 lanes, emitted inline into an f32x4 map or reduction (epilogue.ts,
// reduce.ts) over the v128 on top of the stack: Cephes' single-precision `expf` and
// `tanhf`. exp: n = round(x log2 e), r = x - n ln 2 (ln 2 in two parts, so r is exact),
// a degree-6 polynomial, times 2^n built in two halves (normal exponents down to
// underflow, up to overflow). tanh: an odd polynomial below |x| = 0.625, 1 - 2 / (exp(2|x|)
// + 1) above, the sign put back. exp is within 1.5 f32 ulps of the f64 function, tanh
// within 2 (test/wasm/vmath.test.ts); NaN gives NaN, ±Infinity exp's 0 and Infinity,
// tanh's ±1. The JS target computes in f64 and rounds at the store: results differ by
// f32 rounding, as the rest of the f32x4 code's do.

import type { FunctionBuilder } from "./encode";

const splat = (f: FunctionBuilder, v: number) => f.v128Const([v, v, v, v]);
const splatI32 = (f: FunctionBuilder, v: number) => f.op("i32.const", v).op("i32x4.splat");

/** exp of the v128 on the stack (f32 lanes), replaced by its result. */
export function emitExpF32x4(f: FunctionBuilder): void {
  const x = f.local("v128"), n = f.local("v128"), r = f.local("v128"), p = f.local("v128"), half = f.local("v128");
  // x = min(max(x, -104), 89): exp is 0 below (under the smallest subnormal), Infinity above;
  // NaN stays NaN through both
  splat(f, -104).op("f32x4.max");
  splat(f, 89).op("f32x4.min").op("local.set", x);
  // n = nearest(x log2 e)
  f.op("local.get", x);
  splat(f, Math.LOG2E).op("f32x4.mul").op("f32x4.nearest").op("local.tee", n);
  // r = x - n * C1 - n * C2, C1 + C2 = ln 2, C1 with 9 bits (n * C1 exact)
  splat(f, 0.693359375).op("f32x4.mul").op("local.get", x).op("f32x4.sub").op("f32x4.neg");
  f.op("local.get", n);
  splat(f, -2.12194440e-4).op("f32x4.mul").op("f32x4.sub").op("local.set", r);
  // p = ((((c0 r + c1) r + c2) r + c3) r + c4) r + c5) r^2 + r + 1
  const coefficients = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];
  splat(f, coefficients[0]!);
  for (const c of coefficients.slice(1)) {
    f.op("local.get", r).op("f32x4.mul");
    splat(f, c).op("f32x4.add");
  }
  f.op("local.get", r).op("f32x4.mul").op("local.get", r).op("f32x4.mul");
  f.op("local.get", r).op("f32x4.add");
  splat(f, 1).op("f32x4.add").op("local.set", p);
  // 2^n as 2^h * 2^(n - h), h = n >> 1: each factor a normal f32 for n in [-150, 129]
  f.op("local.get", n).op("i32x4.trunc_sat_f32x4_s").op("local.tee", n);
  f.op("i32.const", 1).op("i32x4.shr_s").op("local.set", half);
  f.op("local.get", p);
  f.op("local.get", half);
  splatI32(f, 127).op("i32x4.add").op("i32.const", 23).op("i32x4.shl").op("f32x4.mul");
  f.op("local.get", n).op("local.get", half).op("i32x4.sub");
  splatI32(f, 127).op("i32x4.add").op("i32.const", 23).op("i32x4.shl").op("f32x4.mul");
}

/** tanh of the v128 on the stack (f32 lanes), replaced by its result. */
export function emitTanhF32x4(f: FunctionBuilder): void {
  const x = f.local("v128"), a = f.local("v128"), z = f.local("v128"), large = f.local("v128"), small = f.local("v128");
  f.op("local.tee", x).op("f32x4.abs").op("local.set", a);
  // large: 1 - 2 / (exp(2|x|) + 1)
  splat(f, 1);
  splat(f, 2);
  f.op("local.get", a).op("local.get", a).op("f32x4.add");
  emitExpF32x4(f);
  splat(f, 1).op("f32x4.add").op("f32x4.div").op("f32x4.sub").op("local.set", large);
  // small: |x| + |x| z (((c0 z + c1) z + c2) z + c3) z + c4), z = x^2
  f.op("local.get", a).op("local.get", a).op("f32x4.mul").op("local.set", z);
  const coefficients = [-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1];
  splat(f, coefficients[0]!);
  for (const c of coefficients.slice(1)) {
    f.op("local.get", z).op("f32x4.mul");
    splat(f, c).op("f32x4.add");
  }
  f.op("local.get", z).op("f32x4.mul").op("local.get", a).op("f32x4.mul").op("local.get", a).op("f32x4.add").op("local.set", small);
  // the sign of x onto |x| < 0.625 ? small : large (NaN: large, NaN)
  f.op("local.get", x);
  f.op("local.get", small).op("local.get", large).op("local.get", a);
  splat(f, 0.625).op("f32x4.lt").op("v128.bitselect");
  splatI32(f, -0x80000000).op("v128.bitselect");
}
