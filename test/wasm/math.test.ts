// The wasm math functions (math.ts, trig.ts) against Math's (and `%`), over the whole
// f32 range: every f32 bit pattern's neighbourhood sampled by stepping through the
// exponents, plus the special values, and for the trigonometric functions large doubles
// up to 1e308 (their argument reduction). The kernels compute in f64 and store f32, so
// the bar is the f32 result: equal to Math's rounded to f32 (the f64 error is reported
// too, and stays within a few f64 ulps).

import { describe, expect, it } from "vitest";
import { FunctionBuilder, ModuleBuilder } from "../../src/codegen/wasm/encode";
import { wasmApi } from "../../src/codegen/wasm/engine";
import { addMathFunctions, mathArity } from "../../src/codegen/wasm/math";
import { trigTableBytes } from "../../src/codegen/wasm/trig";
import { rng } from "../helpers/random";

type Fn = (...xs: number[]) => number;

function build(): Record<string, Fn> {
  const m = new ModuleBuilder();
  const table = 1024;
  m.setMemory(1);
  const names = Object.keys(mathArity);
  const indices = addMathFunctions(m, names, () => table);
  expect(table + trigTableBytes).toBeLessThan(65536);
  for (const name of names) {
    const arity = mathArity[name]!;
    const f = new FunctionBuilder(arity === 1 ? ["f64"] : ["f64", "f64"], ["f64"]);
    for (let i = 0; i < arity; i++) f.op("local.get", i);
    m.addFunction(f.op("call", indices.get(name)!), name);
  }
  const api = wasmApi!;
  return new api.Instance(new api.Module(m.encode())).exports as never;
}

/** f32 values across the whole range: every exponent, several mantissas, both signs. */
function f32Sweep(): number[] {
  const r = rng(5);
  const bits = new Uint32Array(1), f = new Float32Array(bits.buffer);
  const out: number[] = [];
  for (let e = 0; e < 255; e++) {
    for (let k = 0; k < 24; k++) {
      bits[0] = (e << 23) | (k < 2 ? k * 0x7fffff : Math.floor(r() * 0x800000));
      out.push(f[0]!, -f[0]!);
    }
  }
  return out;
}

const special = [0, -0, Infinity, -Infinity, NaN, 1, -1, 0.5, 2, 1e-45, -1e-45, 88.7, 89, -103, -104, 709.78, 709.79, -745.2];

/** Halves, where Math.round rounds up, and the double just below 1/2. */
const halves = [0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994, -0.49999999999999994, 4503599627370495.5, -4503599627370495.5, 2 ** 52, 2 ** 53 + 2];

const ulp64 = (x: number) => Math.max(5e-324, 2 ** (Math.floor(Math.log2(Math.abs(x))) - 52));

/** Doubles of every magnitude from 2^-60 to 1e308 (trig reduction), both signs, and
 *  ones near multiples of pi/2. */
function largeSweep(): number[] {
  const r = rng(9);
  const out: number[] = [];
  for (let e = -60; e < 1023; e += 1) for (let k = 0; k < 6; k++) { const v = (1 + r()) * 2 ** e; out.push(v, -v); }
  for (let n = 1; n < 3000; n += 7) out.push(n * Math.PI / 2, Math.PI / 2 * n * (1 + 2 ** -40));
  out.push(1e22, 1e300, 2 ** 19, 2 ** 19 - 1, 2 ** 19 + 1, 0.7853981633974483, 0.7853981633974484);
  return out;
}

const unary = ["exp", "log", "log1p", "expm1", "tanh", "sinh", "cosh", "sin", "cos", "tan", "atan", "asin", "acos", "round"] as const;

describe("wasm math against Math, over the f32 range", () => {
  const w = build();
  it("covers every function of the list", () => {
    expect(Object.keys(mathArity).sort()).toEqual([...unary, "pow", "fmod"].sort());
  });

  it.each(unary)("%s: the f32 result is Math's", (name) => {
    let mismatches = 0, worstUlps = 0;
    const trig = name === "sin" || name === "cos" || name === "tan";
    for (const x of [...f32Sweep(), ...special, ...(trig ? largeSweep() : []), ...(name === "round" ? halves : [])]) {
      const got = w[name]!(x), want = Math[name](x);
      if (!Object.is(Math.fround(got), Math.fround(want)) && !(Number.isNaN(got) && Number.isNaN(want))) {
        mismatches++;
        if (mismatches < 5) console.log(name, x, got, want);
      }
      if (Number.isFinite(want) && want !== 0) worstUlps = Math.max(worstUlps, Math.abs(got - want) / ulp64(want));
    }
    expect(mismatches).toBe(0);
    expect(worstUlps).toBeLessThan(name === "round" ? 1 : 8);
  });

  it("the double nearest a multiple of pi/2 (61 bits cancel): the f32 result, and 2^-40 relative", () => {
    const x = 6381956970095103 * 2 ** 797;
    for (const name of ["sin", "cos", "tan"] as const) {
      const got = w[name]!(x), want = Math[name](x);
      expect(Math.fround(got), name).toBe(Math.fround(want));
      expect(Math.abs(got - want) / Math.abs(want), name).toBeLessThan(2 ** -40);
    }
  });

  it("fmod is JavaScript's % exactly (Object.is), over every sign, size ratio and special value", () => {
    const r = rng(3);
    const xs = [...special, 5, -5, 3, 7.5, -7.5, 1e308, 5e-324, 2 ** 1023, -(2 ** -1022), 0.1, 0.3];
    for (let i = 0; i < 400; i++) xs.push((r() - 0.5) * 2 ** Math.floor(r() * 200 - 100));
    let mismatches = 0;
    for (const a of xs) for (const b of xs) {
      const got = w.fmod!(a, b), want = a % b;
      if (!Object.is(got, want)) { mismatches++; if (mismatches < 5) console.log("fmod", a, b, got, want); }
    }
    expect(mismatches).toBe(0);
  });

  it("pow: integer and fractional exponents, negative bases, zeros, infinities, NaN", () => {
    const xs = [...special, -2, -0.5, 3, 10, 1e10, 1e-10, -1e-10];
    const ys = [...special, 3, -3, 2, -2, 0.25, -0.5, 1.5, 31, -31, 1e6];
    let mismatches = 0;
    for (const x of xs) for (const y of ys) {
      const got = w.pow!(x, y), want = Math.pow(x, y);
      if (!Object.is(Math.fround(got), Math.fround(want)) && !(Number.isNaN(got) && Number.isNaN(want))) {
        // fractional powers go through exp(y log x): allow an f32 ulp for large results
        const rel = Math.abs(got - want) / Math.abs(want);
        if (!(rel < 2 ** -23)) { mismatches++; console.log("pow", x, y, got, want); }
      }
    }
    for (const x of f32Sweep().filter((v, i) => i % 7 === 0)) {
      const got = w.pow!(x, 2.5), want = Math.pow(x, 2.5);
      if (!(Object.is(Math.fround(got), Math.fround(want)) || (Number.isNaN(got) && Number.isNaN(want)) || Math.abs(got - want) <= 2 ** -23 * Math.abs(want))) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
});
