// The f32x4 exp and tanh (src/codegen/wasm/vmath.ts) against Math's, rounded to f32: a
// sweep of the f32 range where the results are normal numbers (relative error in f32
// ulps), the underflow and overflow edges, and the special values.

import { describe, expect, it } from "vitest";
import { FunctionBuilder, ModuleBuilder } from "../../src/codegen/wasm/encode";
import { wasmApi, type WasmMemory } from "../../src/codegen/wasm/engine";
import { emitExpF32x4, emitTanhF32x4 } from "../../src/codegen/wasm/vmath";

const WebAssembly = wasmApi!;

/** f(xs) computed 4 lanes at a time by `emit`, in place. */
function lanes(emit: (f: FunctionBuilder) => void, xs: Float32Array): Float32Array {
  const n = Math.ceil(xs.length / 4) * 4;
  const mod = new ModuleBuilder().setMemory(Math.ceil((n * 4 + 64) / 65536), undefined, "memory");
  // f(count): for i in 0, 16, ..., 16 count: mem[i] = emit(mem[i])
  const f = new FunctionBuilder(["i32"], []);
  const i = f.local("i32");
  f.op("i32.const", 0).op("local.set", i);
  f.open("loop");
  f.op("local.get", i).op("local.get", i).op("v128.load", 2, 0);
  emit(f);
  f.op("v128.store", 2, 0);
  f.op("local.get", i).op("i32.const", 16).op("i32.add").op("local.tee", i).op("local.get", 0).op("i32.lt_u").op("br_if", 0);
  f.op("end");
  mod.addFunction(f, "run");
  const bytes = mod.encode();
  expect(WebAssembly.validate(bytes)).toBe(true);
  const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
  const mem = new Float32Array((ex.memory as WasmMemory).buffer, 0, n);
  mem.set(xs);
  (ex.run as (bytes: number) => void)(n * 4);
  return mem.slice(0, xs.length);
}

/** Error of `got` against f64 `want` in ulps of f32 at want (subnormals: of the smallest normal). */
function ulps(got: number, want: number): number {
  if (Object.is(got, want) || got === want) return 0;
  const w = Math.abs(want);
  const ulp = w < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(w)) - 23);
  return Math.abs(got - want) / ulp;
}

function sweep(lo: number, hi: number, count: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => lo + ((hi - lo) * i) / (count - 1));
}

describe("f32x4 exp", () => {
  it("within 1.5 f32 ulps of Math.exp over [-87, 88] (normal results)", () => {
    const xs = sweep(-87, 88, 200_003);
    const got = lanes(emitExpF32x4, xs);
    let worst = 0;
    xs.forEach((x, i) => { worst = Math.max(worst, ulps(got[i]!, Math.exp(x))); });
    expect(worst).toBeLessThanOrEqual(1.5);
  });

  it("small arguments, underflow, overflow and special values", () => {
    const xs = Float32Array.from([0, -0, 1e-8, -1e-8, 2 ** -30, -100, -103.5, -104, -110, -1e9, 88.7, 88.8, 89, 1e9, Infinity, -Infinity, NaN]);
    const got = lanes(emitExpF32x4, xs);
    xs.forEach((x, i) => {
      const want = Math.fround(Math.exp(x));
      if (Number.isNaN(want)) expect(got[i]).toBeNaN();
      else if (!Number.isFinite(want) || want === 0) expect(got[i]).toBe(want);
      else if (want < 2 ** -126) expect(Math.abs(got[i]! - want)).toBeLessThanOrEqual(2 ** -149 * 2);
      else expect(ulps(got[i]!, Math.exp(x))).toBeLessThanOrEqual(2);
    });
  });
});

describe("f32x4 tanh", () => {
  it("within 2 f32 ulps of Math.tanh over [-12, 12], and near 0", () => {
    const xs = Float32Array.from([...sweep(-12, 12, 200_003), ...sweep(-1e-3, 1e-3, 2001), ...sweep(0.6, 0.65, 2001)]);
    const got = lanes(emitTanhF32x4, xs);
    let worst = 0;
    xs.forEach((x, i) => { worst = Math.max(worst, ulps(got[i]!, Math.tanh(x))); });
    expect(worst).toBeLessThanOrEqual(2);
  });

  it("special values keep their sign", () => {
    const xs = Float32Array.from([0, -0, 1e-30, -1e-30, 20, -20, 1e30, Infinity, -Infinity, NaN]);
    const got = lanes(emitTanhF32x4, xs);
    xs.forEach((x, i) => {
      const want = Math.fround(Math.tanh(x));
      if (Number.isNaN(want)) expect(got[i]).toBeNaN();
      else expect(Object.is(got[i], want) || ulps(got[i]!, Math.tanh(x)) <= 1).toBe(true);
    });
  });
});
