// exp and log as wasm functions (f64 -> f64): WebAssembly has no transcendental
// instructions. The translated kernels compute in f64, as the JS target does, so these are
// accurate to about an f64 ulp and give the same f32 result as Math.exp / Math.log
// (test/wasm/math.test.ts measures the error over the whole f32 range).
// exp: x = k ln2/2 + r with |r| <= ln2 / 4 (Cody-Waite: ln2 in two parts), e^r by its
// Taylor polynomial to degree 10 in Estrin's form, times sqrt(2) for an odd k, times
// 2^(k >> 1) built from the exponent bits in two halves (so it never overflows where e^x
// does not).
// log: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(s), s = (m - 1) / (m + 1),
// |s| <= 0.172, by its odd series to s^23; subnormals are scaled by 2^54 first.

import { FunctionBuilder, type ModuleBuilder } from "./encode";
import { addAcos, addAsin, addAtan, addTrig } from "./trig";

const ln2Hi = 6.93147180369123816490e-01;
const ln2Lo = 1.90821492927058770002e-10;
const log2e = 1.44269504088896338700e+00;

/** Pushes 2^k (k an i32 local in [-1022, 1023]) as an f64. */
function pow2(f: FunctionBuilder, k: number): void {
  f.op("local.get", k).op("i32.const", 1023).op("i32.add").op("i64.extend_i32_s").i64Const(52n).op("i64.shl").op("f64.reinterpret_i64");
}

export function addExp(module: ModuleBuilder): number {
  const f = new FunctionBuilder(["f64"], ["f64"]);
  const x = 0, k = f.local("i32"), half = f.local("i32"), r = f.local("f64"), r2 = f.local("f64"), r4 = f.local("f64"), p = f.local("f64"), kf = f.local("f64");
  // NaN, overflow, underflow
  f.op("local.get", x).op("local.get", x).op("f64.ne").open("if").op("local.get", x).op("return").op("end");
  f.op("local.get", x).op("f64.const", 709.782712893384).op("f64.gt").open("if").op("f64.const", Infinity).op("return").op("end");
  f.op("local.get", x).op("f64.const", -745.1332191019412).op("f64.lt").open("if").op("f64.const", 0).op("return").op("end");
  // x = k ln2/2 + r, |r| <= ln2/4
  f.op("local.get", x).op("f64.const", 2 * log2e).op("f64.mul").op("f64.nearest").op("local.tee", kf).op("i32.trunc_sat_f64_s").op("local.set", k);
  f.op("local.get", x).op("local.get", kf).op("f64.const", ln2Hi / 2).op("f64.mul").op("f64.sub");
  f.op("local.get", kf).op("f64.const", ln2Lo / 2).op("f64.mul").op("f64.sub").op("local.tee", r);
  f.op("local.get", r).op("f64.mul").op("local.tee", r2).op("local.get", r2).op("f64.mul").op("local.set", r4);
  // e^r to degree 10 (the next term is below 2e-16), by Estrin's scheme: independent
  // pairs c_i + c_(i+1) r combined by r^2, r^4, r^8, so the dependency chain is short
  const c: number[] = [];
  for (let n = 0, fact = 1; n <= 10; n++) { if (n > 0) fact *= n; c.push(1 / fact); }
  const pair = (i: number) => {
    f.op("f64.const", c[i]!);
    if (i + 1 < c.length) f.op("f64.const", c[i + 1]!).op("local.get", r).op("f64.mul").op("f64.add");
  };
  // ((c0 + c1 r) + r2 (c2 + c3 r)) + r4 ((c4 + c5 r) + r2 (c6 + c7 r)) + r4^2 ((c8 + c9 r) + r2 c10)
  pair(0); f.op("local.get", r2); pair(2); f.op("f64.mul").op("f64.add");
  f.op("local.get", r4); pair(4); f.op("local.get", r2); pair(6); f.op("f64.mul").op("f64.add").op("f64.mul").op("f64.add");
  f.op("local.get", r4).op("local.get", r4).op("f64.mul"); pair(8); f.op("local.get", r2); pair(10); f.op("f64.mul").op("f64.add").op("f64.mul").op("f64.add");
  f.op("local.set", p);
  // an odd k: one more factor sqrt(2); then 2^(k >> 1) in two halves
  f.op("local.get", k).op("i32.const", 1).op("i32.and").open("if").op("local.get", p).op("f64.const", Math.SQRT2).op("f64.mul").op("local.set", p).op("end");
  f.op("local.get", k).op("i32.const", 1).op("i32.shr_s").op("local.tee", k).op("i32.const", 1).op("i32.shr_s").op("local.set", half);
  f.op("local.get", p);
  pow2(f, half);
  f.op("f64.mul");
  f.op("local.get", k).op("local.get", half).op("i32.sub").op("local.set", k);
  pow2(f, k);
  f.op("f64.mul");
  return module.addFunction(f);
}

export function addLog(module: ModuleBuilder): number {
  const f = new FunctionBuilder(["f64"], ["f64"]);
  const x = 0, e = f.local("i32"), bits = f.local("i64"), m = f.local("f64"), s = f.local("f64"), s2 = f.local("f64"), p = f.local("f64"), ef = f.local("f64");
  // NaN and x < 0 give NaN, 0 gives -Infinity, Infinity gives itself
  f.op("local.get", x).op("local.get", x).op("f64.ne").open("if").op("local.get", x).op("return").op("end");
  f.op("local.get", x).op("f64.const", 0).op("f64.lt").open("if").op("f64.const", NaN).op("return").op("end");
  f.op("local.get", x).op("f64.const", 0).op("f64.eq").open("if").op("f64.const", -Infinity).op("return").op("end");
  f.op("local.get", x).op("f64.const", Infinity).op("f64.eq").open("if").op("local.get", x).op("return").op("end");
  // subnormal: scale into the normal range
  f.op("local.get", x).op("f64.const", 2.2250738585072014e-308).op("f64.lt").open("if");
  f.op("local.get", x).op("f64.const", 2 ** 54).op("f64.mul").op("local.set", x).op("i32.const", -54).op("local.set", e);
  f.op("end");
  f.op("local.get", x).op("i64.reinterpret_f64").op("local.set", bits);
  f.op("local.get", e).op("local.get", bits).i64Const(52n).op("i64.shr_u").op("i32.wrap_i64").op("i32.const", 0x7ff).op("i32.and");
  f.op("i32.const", 1023).op("i32.sub").op("i32.add").op("local.set", e);
  f.op("local.get", bits).i64Const(0xfffffffffffffn).op("i64.and").i64Const(0x3ff0000000000000n).op("i64.or").op("f64.reinterpret_i64").op("local.set", m);
  f.op("local.get", m).op("f64.const", Math.SQRT2).op("f64.gt").open("if");
  f.op("local.get", m).op("f64.const", 0.5).op("f64.mul").op("local.set", m);
  f.op("local.get", e).op("i32.const", 1).op("i32.add").op("local.set", e);
  f.op("end");
  f.op("local.get", m).op("f64.const", 1).op("f64.sub").op("local.get", m).op("f64.const", 1).op("f64.add").op("f64.div").op("local.tee", s);
  f.op("local.get", s).op("f64.mul").op("local.set", s2);
  // P(s2) = sum over n <= 11 of s2^n / (2n + 1)
  f.op("f64.const", 1 / 23).op("local.set", p);
  for (let n = 10; n >= 0; n--) f.op("local.get", p).op("local.get", s2).op("f64.mul").op("f64.const", 1 / (2 * n + 1)).op("f64.add").op("local.set", p);
  // e ln2_hi + (2 s P + e ln2_lo)
  f.op("local.get", e).op("f64.convert_i32_s").op("local.set", ef);
  f.op("local.get", ef).op("f64.const", ln2Hi).op("f64.mul");
  f.op("f64.const", 2).op("local.get", s).op("f64.mul").op("local.get", p).op("f64.mul");
  f.op("local.get", ef).op("f64.const", ln2Lo).op("f64.mul").op("f64.add");
  f.op("f64.add");
  return module.addFunction(f);
}

/** log1p(x) = log(u) * x / (u - 1) with u = 1 + x (Goldberg): the rounding of u cancels,
 *  so small x keep full precision; u == 1 gives x itself. */
export function addLog1p(module: ModuleBuilder, log: number): number {
  const f = new FunctionBuilder(["f64"], ["f64"]);
  const x = 0, u = f.local("f64");
  f.op("f64.const", 1).op("local.get", x).op("f64.add").op("local.tee", u);
  f.op("f64.const", 1).op("f64.eq").open("if").op("local.get", x).op("return").op("end");
  // u is Infinity, 0 or NaN: log(u) is the answer (and the quotient would be NaN)
  f.op("local.get", u).op("f64.const", Infinity).op("f64.eq").op("local.get", u).op("f64.const", 0).op("f64.le").op("i32.or");
  f.op("local.get", u).op("local.get", u).op("f64.ne").op("i32.or").open("if").op("local.get", u).op("call", log).op("return").op("end");
  f.op("local.get", u).op("call", log).op("local.get", x).op("f64.mul").op("local.get", u).op("f64.const", 1).op("f64.sub").op("f64.div");
  return module.addFunction(f);
}

/** expm1(x) = (u - 1) x / log(u) with u = e^x (Kahan) for |x| <= 1/2: exact cancellation
 *  again; u == 1 gives x; past 1/2, u - 1 itself. */
export function addExpm1(module: ModuleBuilder, exp: number, log: number): number {
  const f = new FunctionBuilder(["f64"], ["f64"]);
  const x = 0, u = f.local("f64"), um = f.local("f64");
  f.op("local.get", x).op("f64.abs").op("f64.const", 1e-300).op("f64.lt").open("if").op("local.get", x).op("return").op("end");
  f.op("local.get", x).op("call", exp).op("local.tee", u).op("f64.const", 1).op("f64.eq").open("if").op("local.get", x).op("return").op("end");
  f.op("local.get", u).op("f64.const", 1).op("f64.sub").op("local.tee", um).op("f64.const", -1).op("f64.eq").open("if").op("f64.const", -1).op("return").op("end");
  // past |x| = 1/2 there is no cancellation to undo (and u - 1 may be huge)
  f.op("local.get", x).op("f64.abs").op("f64.const", 0.5).op("f64.gt").op("local.get", x).op("local.get", x).op("f64.ne").op("i32.or").open("if").op("local.get", um).op("return").op("end");
  f.op("local.get", um).op("local.get", x).op("f64.mul").op("local.get", u).op("call", log).op("f64.div");
  return module.addFunction(f);
}

/** tanh(x) = sign(x) t / (t + 2) with t = expm1(2 |x|): no cancellation near 0; 1 past
 *  |x| = 22 (where tanh rounds to 1 in f64); ±0 and NaN give themselves. */
export function addTanh(module: ModuleBuilder, expm1: number): number {
  const f = new FunctionBuilder(["f64"], ["f64"]);
  const x = 0, t = f.local("f64"), a = f.local("f64");
  f.op("local.get", x).op("f64.abs").op("local.tee", a).op("f64.const", 0).op("f64.eq");
  f.op("local.get", x).op("local.get", x).op("f64.ne").op("i32.or").open("if").op("local.get", x).op("return").op("end");
  f.op("local.get", a).op("f64.const", 22).op("f64.gt").open("if").op("f64.const", 1).op("local.get", x).op("f64.copysign").op("return").op("end");
  f.op("f64.const", 2).op("local.get", a).op("f64.mul").op("call", expm1).op("local.tee", t);
  f.op("local.get", t).op("f64.const", 2).op("f64.add").op("f64.div").op("local.get", x).op("f64.copysign");
  return module.addFunction(f);
}

/** Math.pow(x, y): an integer y (|y| < 2^31) by squaring, negative ones as a reciprocal
 *  (so negative bases, zeros and infinities come out as in JavaScript); otherwise
 *  exp(y log x), with x = -Infinity read as +Infinity (JS: (-Infinity)^0.5 = Infinity).
 *  y = 0 gives 1, even for a NaN x. */
export function addPow(module: ModuleBuilder, exp: number, log: number): number {
  const f = new FunctionBuilder(["f64", "f64"], ["f64"]);
  const x = 0, y = 1, n = f.local("i32"), acc = f.local("f64"), base = f.local("f64");
  f.op("local.get", y).op("f64.const", 0).op("f64.eq").open("if").op("f64.const", 1).op("return").op("end");
  // integer exponent: y == trunc(y) and |y| < 2^31
  f.op("local.get", y).op("local.get", y).op("f64.trunc").op("f64.eq").op("local.get", y).op("f64.abs").op("f64.const", 2147483647).op("f64.lt").op("i32.and");
  f.open("if");
  f.op("local.get", y).op("i32.trunc_sat_f64_s").op("local.tee", n).op("i32.const", 0).op("i32.lt_s").open("if").op("i32.const", 0).op("local.get", n).op("i32.sub").op("local.set", n).op("end");
  f.op("f64.const", 1).op("local.set", acc).op("local.get", x).op("local.set", base);
  f.open("block").open("loop");
  f.op("local.get", n).op("i32.const", 1).op("i32.and").open("if").op("local.get", acc).op("local.get", base).op("f64.mul").op("local.set", acc).op("end");
  f.op("local.get", n).op("i32.const", 1).op("i32.shr_u").op("local.tee", n).op("i32.eqz").op("br_if", 1);
  f.op("local.get", base).op("local.get", base).op("f64.mul").op("local.set", base);
  f.op("br", 0).op("end").op("end");
  f.op("local.get", y).op("f64.const", 0).op("f64.lt").open("if", "f64").op("f64.const", 1).op("local.get", acc).op("f64.div").op("else").op("local.get", acc).op("end");
  f.op("return");
  f.op("end");
  // an infinite y, or x = -Infinity: the sign of x does not matter (JS)
  f.op("local.get", x).op("f64.const", -Infinity).op("f64.eq").op("local.get", y).op("f64.abs").op("f64.const", Infinity).op("f64.eq").op("i32.or");
  f.open("if").op("local.get", x).op("f64.abs").op("local.set", x).op("end");
  f.op("local.get", y).op("local.get", x).op("call", log).op("f64.mul").op("call", exp);
  return module.addFunction(f);
}

/** sinh(x): (t + t / (t + 1)) / 2 with t = expm1(|x|) below 22 (no cancellation near 0),
 *  e^|x| / 2 above, e^(|x|/2) / 2 * e^(|x|/2) past e^x's overflow; the sign of x. */
export function addSinh(module: ModuleBuilder, exp: number, expm1: number): number {
  const f = new FunctionBuilder(["f64"], ["f64"]);
  const x = 0, a = f.local("f64"), t = f.local("f64");
  f.op("local.get", x).op("f64.abs").op("local.tee", a).op("f64.const", 22).op("f64.lt").open("if", "f64");
  f.op("local.get", a).op("call", expm1).op("local.tee", t).op("local.get", t).op("local.get", t).op("f64.const", 1).op("f64.add").op("f64.div").op("f64.add").op("f64.const", 0.5).op("f64.mul");
  f.op("else");
  halfExp(f, a, exp, t);
  f.op("end");
  f.op("local.get", x).op("f64.copysign");
  return module.addFunction(f);
}

/** e^a / 2 without overflowing early: (e^(a/2) / 2) e^(a/2) past 709.78. */
function halfExp(f: FunctionBuilder, a: number, exp: number, t: number): void {
  f.op("local.get", a).op("f64.const", 709.78).op("f64.lt").open("if", "f64");
  f.op("local.get", a).op("call", exp).op("f64.const", 0.5).op("f64.mul");
  f.op("else");
  f.op("local.get", a).op("f64.const", 0.5).op("f64.mul").op("call", exp).op("local.tee", t).op("f64.const", 0.5).op("f64.mul").op("local.get", t).op("f64.mul");
  f.op("end");
}

/** cosh(x): 1 + t^2 / (2 (1 + t)) with t = expm1(|x|) below ln2/2, (e + 1/e) / 2 below
 *  22, e^|x| / 2 above (without overflowing early). */
export function addCosh(module: ModuleBuilder, exp: number, expm1: number): number {
  const f = new FunctionBuilder(["f64"], ["f64"]);
  const x = 0, a = f.local("f64"), t = f.local("f64");
  f.op("local.get", x).op("f64.abs").op("local.tee", a).op("f64.const", 0.34657359027997264).op("f64.lt").open("if", "f64");
  f.op("f64.const", 1).op("local.get", a).op("call", expm1).op("local.tee", t).op("local.get", t).op("f64.mul");
  f.op("f64.const", 2).op("f64.const", 1).op("local.get", t).op("f64.add").op("f64.mul").op("f64.div").op("f64.add");
  f.op("else");
  f.op("local.get", a).op("f64.const", 22).op("f64.lt").open("if", "f64");
  f.op("local.get", a).op("call", exp).op("local.tee", t).op("f64.const", 0.5).op("f64.mul").op("f64.const", 0.5).op("local.get", t).op("f64.div").op("f64.add");
  f.op("else");
  halfExp(f, a, exp, t);
  f.op("end");
  f.op("end");
  return module.addFunction(f);
}

/** Math.round: floor(x), plus 1 when x - floor(x) >= 1/2 (exact), with x's sign (so
 *  -0.4 gives -0). */
export function addRound(module: ModuleBuilder): number {
  const f = new FunctionBuilder(["f64"], ["f64"]);
  const x = 0, fl = f.local("f64");
  f.op("local.get", x).op("f64.floor").op("local.tee", fl).op("f64.const", 1).op("f64.add").op("local.get", fl);
  f.op("local.get", x).op("local.get", fl).op("f64.sub").op("f64.const", 0.5).op("f64.ge").op("select");
  f.op("local.get", x).op("f64.copysign");
  return module.addFunction(f);
}

/** JavaScript's `%` on numbers (fmod), exactly: |b| doubled up to |a|, then subtracted
 *  back down (each subtraction exact, since r < 2t), with a's sign. NaN for a NaN, an
 *  infinite a or a zero b; a itself for an infinite b or |a| < |b|. */
export function addFmod(module: ModuleBuilder): number {
  const f = new FunctionBuilder(["f64", "f64"], ["f64"]);
  const a = 0, b = 1, r = f.local("f64"), d = f.local("f64"), t = f.local("f64");
  // NaN operands, infinite a, zero b
  f.op("local.get", a).op("local.get", a).op("f64.sub").op("local.get", a).op("local.get", a).op("f64.sub").op("f64.ne");
  f.op("local.get", b).op("local.get", b).op("f64.ne").op("i32.or").op("local.get", b).op("f64.const", 0).op("f64.eq").op("i32.or");
  f.open("if").op("f64.const", NaN).op("return").op("end");
  f.op("local.get", a).op("f64.abs").op("local.tee", r).op("local.get", b).op("f64.abs").op("local.tee", d).op("f64.lt").open("if").op("local.get", a).op("return").op("end");
  // t = d 2^k, the largest not above r
  f.op("local.get", d).op("local.set", t);
  f.open("block").open("loop");
  // t <= r - t: r - t is exact (Sterbenz) whenever the answer is no, and never overflows
  f.op("local.get", t).op("local.get", r).op("local.get", t).op("f64.sub").op("f64.gt").op("br_if", 1);
  f.op("local.get", t).op("local.get", t).op("f64.add").op("local.set", t).op("br", 0);
  f.op("end").op("end");
  // down again: subtract t where it fits, halve t (exact: t = d 2^j) until it is d
  f.open("block").open("loop");
  f.op("local.get", r).op("local.get", t).op("f64.ge").open("if").op("local.get", r).op("local.get", t).op("f64.sub").op("local.set", r).op("end");
  f.op("local.get", t).op("local.get", d).op("f64.eq").op("br_if", 1);
  f.op("local.get", t).op("f64.const", 0.5).op("f64.mul").op("local.set", t).op("br", 0);
  f.op("end").op("end");
  f.op("local.get", r).op("local.get", a).op("f64.copysign");
  return module.addFunction(f);
}

/** The Math functions the wasm target has as wasm functions, with their arity: the one
 *  list that the translator, the refusal probe (index.ts) and the module (build.ts) read.
 *  `fmod` is JavaScript's `%` on numbers (not a Math function). */
export const mathArity: Readonly<Record<string, 1 | 2>> = {
  exp: 1, log: 1, log1p: 1, expm1: 1, tanh: 1, pow: 2, sinh: 1, cosh: 1,
  sin: 1, cos: 1, tan: 1, atan: 1, asin: 1, acos: 1, round: 1, fmod: 2,
};

/** The math functions JS function bodies use: `Math.name(...)` for a name of the list,
 *  and fmod where they use `%` (on integers it is i32.rem_s, and fmod goes unused). */
export function mathNamesUsed(bodies: readonly unknown[]): Set<string> {
  const used = new Set<string>();
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) { for (const c of n) walk(c); return; }
    if (typeof n !== "object" || n === null) return;
    const node = n as { type?: string; object?: { type?: string; name?: string }; property?: { name?: string }; computed?: boolean; operator?: string };
    if (node.type === "MemberExpression" && !node.computed && node.object?.type === "Identifier" && node.object.name === "Math" && node.property?.name && node.property.name in mathArity) used.add(node.property.name);
    if ((node.type === "BinaryExpression" && node.operator === "%") || (node.type === "AssignmentExpression" && node.operator === "%=")) used.add("fmod");
    for (const v of Object.values(node)) if (typeof v === "object") walk(v);
  };
  walk(bodies);
  return used;
}

/**
 * Adds the math functions `names` and those they call to `module`, each once; returns
 * every added one's index by name. `table` gives the byte offset of the trig table
 * (trigTableBytes, written by the module itself), asked only when sin, cos or tan is.
 */
export function addMathFunctions(module: ModuleBuilder, names: Iterable<string>, table: () => number): Map<string, number> {
  const out = new Map<string, number>();
  const get = (name: string): number => {
    let index = out.get(name);
    if (index !== undefined) return index;
    switch (name) {
      case "exp": index = addExp(module); break;
      case "log": index = addLog(module); break;
      case "log1p": index = addLog1p(module, get("log")); break;
      case "expm1": index = addExpm1(module, get("exp"), get("log")); break;
      case "tanh": index = addTanh(module, get("expm1")); break;
      case "pow": index = addPow(module, get("exp"), get("log")); break;
      case "sinh": index = addSinh(module, get("exp"), get("expm1")); break;
      case "cosh": index = addCosh(module, get("exp"), get("expm1")); break;
      case "atan": index = addAtan(module); break;
      case "asin": index = addAsin(module, get("atan")); break;
      case "acos": index = addAcos(module, get("atan")); break;
      case "round": index = addRound(module); break;
      case "fmod": index = addFmod(module); break;
      case "sin": case "cos": case "tan": {
        const trig = addTrig(module, table());
        out.set("sin", trig.sin).set("cos", trig.cos).set("tan", trig.tan);
        return trig[name];
      }
      default: throw new Error(`no wasm math function ${name}`);
    }
    out.set(name, index);
    return index;
  };
  for (const name of names) get(name);
  return out;
}
