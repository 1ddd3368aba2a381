// exp, log, log1p, expm1, tanh and pow as wasm functions (math.ts) against Math's, over
// the whole f32 range: every f32 bit pattern's neighbourhood sampled by stepping through
// the exponents, plus the special values. The kernels compute in f64 and store f32, so
// the bar is the f32 result: equal to Math's rounded to f32 (the f64 error is reported
// too, and stays within a few f64 ulps).

import { describe, expect, it } from "vitest";
import { FunctionBuilder, ModuleBuilder } from "../../src/codegen/wasm/encode";
import { wasmApi } from "../../src/codegen/wasm/engine";
import { addExp, addExpm1, addLog, addLog1p, addPow, addTanh } from "../../src/codegen/wasm/math";
import { rng } from "../helpers/random";

type Unary = (x: number) => number;

function build(): { exp: Unary; log: Unary; log1p: Unary; expm1: Unary; tanh: Unary; pow: (x: number, y: number) => number } {
  const m = new ModuleBuilder();
  const exp = addExp(m), log = addLog(m), expm1 = addExpm1(m, exp, log);
  const fns: [string, number, number][] = [["exp", exp, 1], ["log", log, 1], ["log1p", addLog1p(m, log), 1], ["expm1", expm1, 1], ["tanh", addTanh(m, expm1), 1], ["pow", addPow(m, exp, log), 2]];
  for (const [name, index, arity] of fns) {
    const f = new FunctionBuilder(arity === 1 ? ["f64"] : ["f64", "f64"], ["f64"]);
    for (let i = 0; i < arity; i++) f.op("local.get", i);
    m.addFunction(f.op("call", index), name);
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

const ulp64 = (x: number) => Math.max(5e-324, 2 ** (Math.floor(Math.log2(Math.abs(x))) - 52));

describe("wasm math against Math, over the f32 range", () => {
  const w = build();
  it.each(["exp", "log", "log1p", "expm1", "tanh"] as const)("%s: the f32 result is Math's", (name) => {
    let mismatches = 0, worstUlps = 0;
    for (const x of [...f32Sweep(), ...special]) {
      const got = w[name](x), want = Math[name](x);
      if (!Object.is(Math.fround(got), Math.fround(want)) && !(Number.isNaN(got) && Number.isNaN(want))) {
        mismatches++;
        if (mismatches < 5) console.log(name, x, got, want);
      }
      if (Number.isFinite(want) && want !== 0) worstUlps = Math.max(worstUlps, Math.abs(got - want) / ulp64(want));
    }
    expect(mismatches).toBe(0);
    expect(worstUlps).toBeLessThan(8);
  });

  it("pow: integer and fractional exponents, negative bases, zeros, infinities, NaN", () => {
    const xs = [...special, -2, -0.5, 3, 10, 1e10, 1e-10, -1e-10];
    const ys = [...special, 3, -3, 2, -2, 0.25, -0.5, 1.5, 31, -31, 1e6];
    let mismatches = 0;
    for (const x of xs) for (const y of ys) {
      const got = w.pow(x, y), want = Math.pow(x, y);
      if (!Object.is(Math.fround(got), Math.fround(want)) && !(Number.isNaN(got) && Number.isNaN(want))) {
        // fractional powers go through exp(y log x): allow an f32 ulp for large results
        const rel = Math.abs(got - want) / Math.abs(want);
        if (!(rel < 2 ** -23)) { mismatches++; console.log("pow", x, y, got, want); }
      }
    }
    for (const x of f32Sweep().filter((v, i) => i % 7 === 0)) {
      const got = w.pow(x, 2.5), want = Math.pow(x, 2.5);
      if (!(Object.is(Math.fround(got), Math.fround(want)) || (Number.isNaN(got) && Number.isNaN(want)) || Math.abs(got - want) <= 2 ** -23 * Math.abs(want))) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
});
