// sin, cos, tan, atan, asin and acos as wasm functions (f64 -> f64), accurate to an f64
// ulp or two, so their f32 results are Math's (test/wasm/math.test.ts sweeps the whole
// f32 range and large f64 arguments).
//
// sin / cos / tan: x = n pi/2 + r, |r| <= pi/4 (about), r kept as two doubles hi + lo;
// then the Taylor polynomials of sin (to r^17) and cos (to r^16) in r^2, in the quadrant
// n mod 4. The reduction is exact enough for every double:
// - |x| < 2^19: Cody-Waite, n pi/2 subtracted in four parts (three of 33 bits, so n times
//   each is exact, and the rest), the sum carried as hi + lo;
// - larger |x|: Payne-Hanek. x 2/pi mod 4 from the 24-bit chunks of 2/pi (a table the
//   module writes into its memory): the chunks whose product with x is a multiple of 4
//   are skipped by x's exponent, then x, split into halves of 26 and 27 bits, times the
//   next nine chunks, each product exact and taken mod 4 exactly, summed as hi + lo; the
//   fraction times pi/2 (Dekker's exact product). The reduced argument keeps about 100
//   bits past the binary point.
// atan: |x| > 1 as pi/2 - atan(1/x); then atan(x) = atan(k/8) + atan(t), t = (x - k/8) /
// (1 + x k/8), k = round(8x), |t| <= 1/16, atan(t) by its series to t^17 and atan(k/8)
// as two doubles. asin and acos from it: atan(x / sqrt((1 - x)(1 + x))) and
// 2 atan(sqrt((1 - x) / (1 + x))).
//
// The constants (pi/2 in parts, the bits of 2/pi, atan(k/8)) are computed here in BigInt
// fixed point (Machin's formula for pi, Euler's series for atan), not copied from a table.

import { FunctionBuilder, type ModuleBuilder } from "./encode";

const F = 1450n;

/** arctan(1 / n) * 2^F (alternating series, truncated terms). */
function arctanInverse(n: bigint): bigint {
  let sum = 0n, term = (1n << F) / n, k = 1n, sign = 1n;
  const n2 = n * n;
  while (term !== 0n) { sum += sign * (term / k); term /= n2; k += 2n; sign = -sign; }
  return sum;
}

/** pi * 2^F, by Machin's formula pi / 4 = 4 atan(1/5) - atan(1/239). */
const pi = 4n * (4n * arctanInverse(5n) - arctanInverse(239n));
const halfPi = pi / 2n;

/** A positive fixed-point value (value * 2^F) rounded to the nearest double. */
function toDouble(fixed: bigint): number {
  return Number(fixed >> (F - 400n)) * 2 ** -400;
}

/** A double as fixed point (exactly: its bits lie above 2^-F). */
function toFixed(x: number): bigint {
  return BigInt(x * 2 ** 200) << (F - 200n);
}

const invHalfPi = toDouble((1n << (2n * F)) / halfPi);
/** pi/2 as four parts: three of 33 bits (n times each is exact for n < 2^20), the rest. */
const pio2Parts: number[] = [];
{
  let rest = halfPi, at = 32n;
  for (let i = 0; i < 3; i++, at += 33n) {
    const chunk = rest >> (F - at);
    pio2Parts.push(Number(chunk) * 2 ** -Number(at));
    rest -= chunk << (F - at);
  }
  pio2Parts.push(toDouble(rest));
}
const pio2Hi = toDouble(halfPi);
const pio2Lo = toDouble(halfPi - toFixed(pio2Hi));
const pio4 = 0.7853981633974483; // the double below pi/4

/** The 24-bit chunks of 2/pi: 2/pi = sum of chunk[i] 2^(-24 (i + 1)). 55 chunks cover the
 *  exponents of every double (the table the large reduction reads). */
export const twoOverPiChunks: number[] = (() => {
  const twoOverPi = (1n << (2n * F + 1n)) / pi; // 2/pi * 2^F
  const out: number[] = [];
  for (let i = 1n; i <= 55n; i++) out.push(Number((twoOverPi >> (F - 24n * i)) & 0xffffffn));
  return out;
})();

/** Bytes of the table: the chunks as f64, then 16 bytes where the reduction leaves hi, lo. */
export const trigTableBytes = twoOverPiChunks.length * 8 + 16;

export function trigTable(): Uint8Array {
  const out = new Float64Array(trigTableBytes / 8);
  out.set(twoOverPiChunks);
  return new Uint8Array(out.buffer);
}

/** atan(k / 8) for k = 0..8 as hi + lo (Euler's series, its ratio k^2 / (64 + k^2)). */
const atanEighths: [number, number][] = [];
for (let k = 0n; k <= 8n; k++) {
  let term = ((8n * k) << F) / (64n + k * k), sum = term;
  for (let n = 1n; term !== 0n; n++) {
    term = (term * 2n * n * k * k) / ((2n * n + 1n) * (64n + k * k));
    sum += term;
  }
  const hi = toDouble(sum);
  atanEighths.push([hi, k === 0n ? 0 : (() => {
    const rest = sum - toFixed(hi);
    return rest < 0n ? -toDouble(-rest) : toDouble(rest);
  })()]);
}

/** Pushes nothing; sets (s, err) = TwoSum(s, t) and adds err to e (all f64 locals). */
function twoSumInto(f: FunctionBuilder, s: number, t: number, e: number, tmp: number, sum: number): void {
  // sum = s + t; b = sum - s; err = (s - (sum - b)) + (t - b)
  f.op("local.get", s).op("local.get", t).op("f64.add").op("local.set", sum);
  f.op("local.get", sum).op("local.get", s).op("f64.sub").op("local.set", tmp);
  f.op("local.get", e);
  f.op("local.get", s).op("local.get", sum).op("local.get", tmp).op("f64.sub").op("f64.sub");
  f.op("local.get", t).op("local.get", tmp).op("f64.sub").op("f64.add");
  f.op("f64.add").op("local.set", e);
  f.op("local.get", sum).op("local.set", s);
}

/** v - 4 floor(v / 4) into v: exact. */
function mod4(f: FunctionBuilder, v: number): void {
  f.op("local.get", v).op("local.get", v).op("f64.const", 0.25).op("f64.mul").op("f64.floor").op("f64.const", 4).op("f64.mul").op("f64.sub").op("local.set", v);
}

/** reduce(x) -> n mod 4 (i32), leaving r = x - n pi/2 as hi, lo (f64) at table + 440. */
function addReduce(module: ModuleBuilder, table: number): number {
  const f = new FunctionBuilder(["f64"], ["i32"]);
  const x = 0;
  const a = f.local("f64"), fn = f.local("f64"), s = f.local("f64"), e = f.local("f64"), t = f.local("f64"), tmp = f.local("f64"), sum = f.local("f64");
  const n = f.local("i32"), i0 = f.local("i32"), j = f.local("i32");
  const y = f.local("f64"), yh = f.local("f64"), yl = f.local("f64"), c = f.local("f64"), scale = f.local("f64"), h = f.local("f64"), l = f.local("f64"), p = f.local("f64");
  const out = table + twoOverPiChunks.length * 8;
  f.op("local.get", x).op("f64.abs").op("local.set", a);
  f.op("local.get", a).op("f64.const", 2 ** 19).op("f64.lt").open("if");
  {
    // Cody-Waite: s = a - fn P1 exactly, then the other parts subtracted as hi + lo
    f.op("local.get", a).op("f64.const", invHalfPi).op("f64.mul").op("f64.nearest").op("local.tee", fn).op("i32.trunc_sat_f64_s").op("local.set", n);
    f.op("local.get", a).op("local.get", fn).op("f64.const", pio2Parts[0]!).op("f64.mul").op("f64.sub").op("local.set", s);
    f.op("f64.const", 0).op("local.set", e);
    for (const part of pio2Parts.slice(1)) {
      f.op("local.get", fn).op("f64.const", -part).op("f64.mul").op("local.set", t);
      twoSumInto(f, s, t, e, tmp, sum);
    }
    f.op("local.get", s).op("local.set", h).op("local.get", e).op("local.set", l);
  }
  f.op("else");
  {
    // Payne-Hanek. i0: the first chunk whose product with a may not be a multiple of 4.
    f.op("local.get", a).op("i64.reinterpret_f64").i64Const(52n).op("i64.shr_u").op("i32.wrap_i64").op("i32.const", 1023 + 54).op("i32.sub");
    f.op("i32.const", 24).op("i32.div_s").op("local.tee", i0).op("i32.const", 0).op("i32.lt_s").open("if").op("i32.const", 0).op("local.set", i0).op("end");
    // y = a 2^(-24 i0), exactly; yh its top 26 bits, yl the rest (27 bits)
    f.op("local.get", a).op("i32.const", 1023).op("local.get", i0).op("i32.const", 24).op("i32.mul").op("i32.sub").op("i64.extend_i32_s").i64Const(52n).op("i64.shl").op("f64.reinterpret_i64").op("f64.mul").op("local.tee", y);
    f.op("i64.reinterpret_f64").i64Const(-0x8000000n).op("i64.and").op("f64.reinterpret_i64").op("local.set", yh);
    f.op("local.get", y).op("local.get", yh).op("f64.sub").op("local.set", yl);
    f.op("f64.const", 0).op("local.set", s).op("f64.const", 0).op("local.set", e).op("f64.const", 2 ** -24).op("local.set", scale).op("i32.const", 0).op("local.set", j);
    f.open("loop");
    // c = chunk[i0 + j]
    f.op("local.get", i0).op("local.get", j).op("i32.add").op("i32.const", 3).op("i32.shl").op("f64.load", 3, table).op("local.set", c);
    for (const part of [yh, yl]) {
      f.op("local.get", part).op("local.get", c).op("f64.mul").op("local.get", scale).op("f64.mul").op("local.set", t);
      mod4(f, t);
      twoSumInto(f, s, t, e, tmp, sum);
    }
    mod4(f, s);
    f.op("local.get", scale).op("f64.const", 2 ** -24).op("f64.mul").op("local.set", scale);
    f.op("local.get", j).op("i32.const", 1).op("i32.add").op("local.tee", j).op("i32.const", 9).op("i32.lt_s").op("br_if", 0);
    f.op("end");
    // the quadrant and the fraction (s - k) + e as hi + lo
    f.op("local.get", s).op("f64.nearest").op("local.tee", fn).op("i32.trunc_sat_f64_s").op("local.set", n);
    f.op("local.get", s).op("local.get", fn).op("f64.sub").op("local.set", s);
    f.op("f64.const", 0).op("local.set", l);
    twoSumInto(f, s, e, l, tmp, sum); // s + e = s' + l exactly
    // (s + l) pi/2: s PH exactly (Dekker), plus s PL + l PH
    const sh = yh, sl = yl; // reused as s's halves (Veltkamp: 26 bits each)
    f.op("local.get", s).op("f64.const", 134217729).op("f64.mul").op("local.set", tmp);
    f.op("local.get", tmp).op("local.get", tmp).op("local.get", s).op("f64.sub").op("f64.sub").op("local.set", sh);
    f.op("local.get", s).op("local.get", sh).op("f64.sub").op("local.set", sl);
    const [phH, phL] = splitDouble(pio2Hi);
    f.op("local.get", s).op("f64.const", pio2Hi).op("f64.mul").op("local.set", p);
    // err = ((sh phH - p) + sh phL + sl phH) + sl phL
    f.op("local.get", sh).op("f64.const", phH).op("f64.mul").op("local.get", p).op("f64.sub");
    f.op("local.get", sh).op("f64.const", phL).op("f64.mul").op("f64.add");
    f.op("local.get", sl).op("f64.const", phH).op("f64.mul").op("f64.add");
    f.op("local.get", sl).op("f64.const", phL).op("f64.mul").op("f64.add");
    f.op("local.get", s).op("f64.const", pio2Lo).op("f64.mul").op("f64.add");
    f.op("local.get", l).op("f64.const", pio2Hi).op("f64.mul").op("f64.add").op("local.set", l);
    f.op("local.get", p).op("local.set", h);
  }
  f.op("end");
  // hi + lo, renormalised (|h| >= |l|): hi = h + l, lo = l - (hi - h)
  f.op("local.get", h).op("local.get", l).op("f64.add").op("local.set", sum);
  f.op("local.get", l).op("local.get", sum).op("local.get", h).op("f64.sub").op("f64.sub").op("local.set", l);
  // a negative x: the reduction of |x|, negated
  f.op("local.get", x).op("f64.const", 0).op("f64.lt").open("if");
  f.op("local.get", sum).op("f64.neg").op("local.set", sum).op("local.get", l).op("f64.neg").op("local.set", l).op("i32.const", 0).op("local.get", n).op("i32.sub").op("local.set", n);
  f.op("end");
  f.op("i32.const", 0).op("local.get", sum).op("f64.store", 3, out);
  f.op("i32.const", 0).op("local.get", l).op("f64.store", 3, out + 8);
  f.op("local.get", n).op("i32.const", 3).op("i32.and");
  return module.addFunction(f);
}

/** Veltkamp's split of a double into two of 26 bits (computed once, here). */
function splitDouble(v: number): [number, number] {
  const c = 134217729 * v;
  const hi = c - (c - v);
  return [hi, v - hi];
}

const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));

/** sin(h + l) for |h| <= pi/4 (about), |l| <= an ulp of h. */
function addSinKernel(module: ModuleBuilder): number {
  const f = new FunctionBuilder(["f64", "f64"], ["f64"]);
  const h = 0, l = 1, z = f.local("f64");
  f.op("local.get", h).op("local.get", h).op("f64.mul").op("local.set", z);
  // p = S1 + z (S2 + ... + z S8), S_k = (-1)^k / (2k + 1)!
  f.op("f64.const", 1 / factorial(17));
  for (let k = 7; k >= 1; k--) f.op("local.get", z).op("f64.mul").op("f64.const", (k % 2 ? -1 : 1) / factorial(2 * k + 1)).op("f64.add");
  // h + (h z p + l (1 - z / 2))
  f.op("local.get", h).op("local.get", z).op("f64.mul").op("f64.mul");
  f.op("local.get", l).op("f64.const", 1).op("local.get", z).op("f64.const", 0.5).op("f64.mul").op("f64.sub").op("f64.mul").op("f64.add");
  f.op("local.get", h).op("f64.add");
  return module.addFunction(f);
}

/** cos(h + l): w = 1 - z/2 with its rounding error recovered, plus z^2 q - h l. */
function addCosKernel(module: ModuleBuilder): number {
  const f = new FunctionBuilder(["f64", "f64"], ["f64"]);
  const h = 0, l = 1, z = f.local("f64"), hz = f.local("f64"), w = f.local("f64");
  f.op("local.get", h).op("local.get", h).op("f64.mul").op("local.tee", z).op("f64.const", 0.5).op("f64.mul").op("local.set", hz);
  f.op("f64.const", 1).op("local.get", hz).op("f64.sub").op("local.set", w);
  f.op("local.get", w);
  f.op("f64.const", 1).op("local.get", w).op("f64.sub").op("local.get", hz).op("f64.sub");
  // q = C2 + z (C3 + ... + z C8), C_k = (-1)^k / (2k)!
  f.op("f64.const", 1 / factorial(16));
  for (let k = 7; k >= 2; k--) f.op("local.get", z).op("f64.mul").op("f64.const", (k % 2 ? -1 : 1) / factorial(2 * k)).op("f64.add");
  f.op("local.get", z).op("local.get", z).op("f64.mul").op("f64.mul");
  f.op("local.get", h).op("local.get", l).op("f64.mul").op("f64.sub");
  f.op("f64.add").op("f64.add");
  return module.addFunction(f);
}

export interface TrigFunctions { sin: number; cos: number; tan: number }

/** sin, cos and tan over the 2/pi table at byte offset `table` (trigTable(), written by the
 *  module's data segment). */
export function addTrig(module: ModuleBuilder, table: number): TrigFunctions {
  module.addData(table, trigTable());
  const reduce = addReduce(module, table);
  const sinK = addSinKernel(module), cosK = addCosKernel(module);
  const out = table + twoOverPiChunks.length * 8;
  // For quadrant n: [kernel, negate] per n (tan: a quotient).
  const make = (which: "sin" | "cos" | "tan"): number => {
    const f = new FunctionBuilder(["f64"], ["f64"]);
    const x = 0, h = f.local("f64"), l = f.local("f64"), n = f.local("i32");
    // NaN and infinities give NaN
    f.op("local.get", x).op("local.get", x).op("f64.sub").op("local.get", x).op("local.get", x).op("f64.sub").op("f64.ne").open("if").op("f64.const", NaN).op("return").op("end");
    // sin x and tan x round to x below 2^-27 (and keep -0)
    if (which !== "cos") f.op("local.get", x).op("f64.abs").op("f64.const", 2 ** -27).op("f64.lt").open("if").op("local.get", x).op("return").op("end");
    f.op("local.get", x).op("f64.abs").op("f64.const", pio4).op("f64.le").open("if");
    f.op("local.get", x).op("local.set", h).op("i32.const", 0).op("local.set", n);
    f.op("else");
    f.op("local.get", x).op("call", reduce).op("local.set", n);
    f.op("i32.const", 0).op("f64.load", 3, out).op("local.set", h).op("i32.const", 0).op("f64.load", 3, out + 8).op("local.set", l);
    f.op("end");
    const kernel = (k: number) => f.op("local.get", h).op("local.get", l).op("call", k);
    if (which === "tan") {
      // even n: sin / cos; odd n: -cos / sin
      f.op("local.get", n).op("i32.const", 1).op("i32.and").open("if", "f64");
      kernel(cosK).op("f64.neg"); kernel(sinK).op("f64.div");
      f.op("else");
      kernel(sinK); kernel(cosK).op("f64.div");
      f.op("end");
      return module.addFunction(f);
    }
    // sin: n = 0 sin, 1 cos, 2 -sin, 3 -cos; cos: n = 0 cos, 1 -sin, 2 -cos, 3 sin
    f.op("local.get", n).op("i32.const", 1).op("i32.and").open("if", "f64");
    kernel(which === "sin" ? cosK : sinK);
    f.op("else");
    kernel(which === "sin" ? sinK : cosK);
    f.op("end");
    // negated (times -1, exact) for n = 2, 3 (sin) or n = 1, 2 (cos)
    f.op("f64.const", -1).op("f64.const", 1);
    if (which === "sin") f.op("local.get", n).op("i32.const", 2).op("i32.and");
    else f.op("local.get", n).op("i32.const", 1).op("i32.add").op("i32.const", 2).op("i32.and");
    f.op("select").op("f64.mul");
    return module.addFunction(f);
  };
  return { sin: make("sin"), cos: make("cos"), tan: make("tan") };
}

/** atan(x); see the top of the file. */
export function addAtan(module: ModuleBuilder): number {
  const f = new FunctionBuilder(["f64"], ["f64"]);
  const x = 0, a = f.local("f64"), big = f.local("i32"), k = f.local("f64"), t = f.local("f64"), z = f.local("f64"), r = f.local("f64"), ki = f.local("i32");
  // NaN gives NaN; +-0 themselves (below)
  f.op("local.get", x).op("local.get", x).op("f64.ne").open("if").op("local.get", x).op("return").op("end");
  f.op("local.get", x).op("f64.abs").op("local.tee", a).op("f64.const", 1).op("f64.gt").op("local.tee", big).open("if");
  f.op("f64.const", 1).op("local.get", a).op("f64.div").op("local.set", a).op("end");
  // k = round(8a) / 8, t = (a - k) / (1 + a k)
  f.op("local.get", a).op("f64.const", 8).op("f64.mul").op("f64.nearest").op("local.tee", k).op("i32.trunc_sat_f64_s").op("local.set", ki);
  f.op("local.get", k).op("f64.const", 0.125).op("f64.mul").op("local.set", k);
  f.op("local.get", a).op("local.get", k).op("f64.sub").op("f64.const", 1).op("local.get", a).op("local.get", k).op("f64.mul").op("f64.add").op("f64.div").op("local.tee", t);
  f.op("local.get", t).op("f64.mul").op("local.set", z);
  // atan(t) = t + t z (-1/3 + z (1/5 - ...)), to t^17
  f.op("f64.const", 1 / 17);
  for (let m = 7; m >= 1; m--) f.op("local.get", z).op("f64.mul").op("f64.const", (m % 2 ? -1 : 1) / (2 * m + 1)).op("f64.add");
  f.op("local.get", t).op("local.get", z).op("f64.mul").op("f64.mul").op("local.set", r);
  // atan(k) + atan(t): hi + (lo + (t + r)), by k (k = 0: t + r itself, keeping -0)
  f.op("local.get", ki).op("i32.eqz").open("if", "f64");
  f.op("local.get", t).op("local.get", r).op("f64.add");
  f.op("else");
  // hi and lo of atan(k/8) by k (1..8): a chain of selects, each keeping what it has
  // unless k is its m
  const pick = (which: 0 | 1) => {
    f.op("f64.const", atanEighths[8]![which]);
    for (let m = 7; m >= 1; m--) f.op("f64.const", atanEighths[m]![which]).op("local.get", ki).op("i32.const", m).op("i32.ne").op("select");
  };
  pick(0);
  pick(1);
  f.op("local.get", t).op("local.get", r).op("f64.add").op("f64.add").op("f64.add");
  f.op("end");
  f.op("local.set", r);
  // |x| > 1: pi/2 - r, as (PH - r) + PL
  f.op("local.get", big).open("if").op("f64.const", pio2Hi).op("local.get", r).op("f64.sub").op("f64.const", pio2Lo).op("f64.add").op("local.set", r).op("end");
  f.op("local.get", r).op("local.get", x).op("f64.copysign");
  return module.addFunction(f);
}

/** asin(x) = atan(x / sqrt((1 - x)(1 + x))): +-1 give +-pi/2, |x| > 1 NaN. */
export function addAsin(module: ModuleBuilder, atan: number): number {
  const f = new FunctionBuilder(["f64"], ["f64"]);
  f.op("local.get", 0).op("f64.const", 1).op("local.get", 0).op("f64.sub").op("f64.const", 1).op("local.get", 0).op("f64.add").op("f64.mul").op("f64.sqrt").op("f64.div").op("call", atan);
  return module.addFunction(f);
}

/** acos(x) = 2 atan(sqrt((1 - x) / (1 + x))): -1 gives pi, |x| > 1 NaN. */
export function addAcos(module: ModuleBuilder, atan: number): number {
  const f = new FunctionBuilder(["f64"], ["f64"]);
  f.op("f64.const", 1).op("local.get", 0).op("f64.sub").op("f64.const", 1).op("local.get", 0).op("f64.add").op("f64.div").op("f64.sqrt").op("call", atan).op("f64.const", 2).op("f64.mul");
  return module.addFunction(f);
}
