// The wasm encoder: LEB128 against known byte sequences, and modules it writes validated by
// the engine (WebAssembly.validate) and run, scalar and SIMD128, so each opcode-table row
// used is checked by an engine, not only by our own reading of the spec.

import { describe, expect, it } from "vitest";
import { Bytes, FunctionBuilder, ModuleBuilder } from "../../src/codegen/wasm/encode";
import { wasmApi, type WasmMemory } from "../../src/codegen/wasm/engine";

const WebAssembly = wasmApi!;

const bytes = (f: (b: Bytes) => void) => { const b = new Bytes(); f(b); return [...b.view()]; };

function instantiate(m: ModuleBuilder): Record<string, unknown> {
  const wasm = m.encode();
  expect(WebAssembly.validate(wasm)).toBe(true);
  return new WebAssembly.Instance(new WebAssembly.Module(wasm)).exports;
}

describe("LEB128", () => {
  it("unsigned", () => {
    expect(bytes((b) => b.u32(0))).toEqual([0]);
    expect(bytes((b) => b.u32(127))).toEqual([0x7f]);
    expect(bytes((b) => b.u32(128))).toEqual([0x80, 0x01]);
    expect(bytes((b) => b.u32(624485))).toEqual([0xe5, 0x8e, 0x26]);
    expect(bytes((b) => b.u32(0xffffffff))).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(() => bytes((b) => b.u32(-1))).toThrow(RangeError);
    expect(() => bytes((b) => b.u32(2 ** 32))).toThrow(RangeError);
  });
  it("signed", () => {
    expect(bytes((b) => b.s32(0))).toEqual([0]);
    expect(bytes((b) => b.s32(63))).toEqual([0x3f]);
    expect(bytes((b) => b.s32(64))).toEqual([0xc0, 0x00]);
    expect(bytes((b) => b.s32(-1))).toEqual([0x7f]);
    expect(bytes((b) => b.s32(-64))).toEqual([0x40]);
    expect(bytes((b) => b.s32(-65))).toEqual([0xbf, 0x7f]);
    expect(bytes((b) => b.s32(-123456))).toEqual([0xc0, 0xbb, 0x78]);
  });
  it("i32.const round-trips every magnitude through the engine", () => {
    for (const v of [0, 1, -1, 63, 64, -64, -65, 8191, -8192, 2 ** 20, -(2 ** 31), 2 ** 31 - 1]) {
      const m = new ModuleBuilder();
      m.addFunction(new FunctionBuilder([], ["i32"]).op("i32.const", v), "f");
      expect((instantiate(m).f as () => number)()).toBe(v);
    }
  });
});

describe("modules", () => {
  it("an empty module validates", () => {
    expect(WebAssembly.validate(new ModuleBuilder().encode())).toBe(true);
  });

  it("params, locals, loops and branches: sum of 1..n", () => {
    const f = new FunctionBuilder(["i32"], ["i32"]);
    const acc = f.local("i32");
    f.open("block").op("local.get", 0).op("i32.eqz").op("br_if", 0);
    f.open("loop");
    f.op("local.get", acc).op("local.get", 0).op("i32.add").op("local.set", acc);
    f.op("local.get", 0).op("i32.const", 1).op("i32.sub").op("local.tee", 0).op("br_if", 0);
    f.op("end").op("end").op("local.get", acc);
    const m = new ModuleBuilder();
    m.addFunction(f, "sum");
    const sum = instantiate(m).sum as (n: number) => number;
    expect(sum(0)).toBe(0);
    expect(sum(100)).toBe(5050);
  });

  it("memory exported, f32 loads and stores, calls between functions", () => {
    const square = new FunctionBuilder(["f32"], ["f32"]).op("local.get", 0).op("local.get", 0).op("f32.mul");
    const m = new ModuleBuilder().setMemory(1, 4, "memory");
    const sq = m.addFunction(square);
    // store(p) : mem[p] = square(mem[p]) + 0.5
    const f = new FunctionBuilder(["i32"], []);
    f.op("local.get", 0).op("local.get", 0).op("f32.load", 2, 0).op("call", sq).op("f32.const", 0.5).op("f32.add").op("f32.store", 2, 0);
    m.addFunction(f, "run");
    const ex = instantiate(m);
    const mem = new Float32Array((ex.memory as WasmMemory).buffer);
    mem[3] = 3;
    (ex.run as (p: number) => void)(12);
    expect(mem[3]).toBe(9.5);
    expect((ex.memory as WasmMemory).grow(1)).toBe(1);
  });

  it("SIMD128: splat, load, mul, add, lanes, v128.const", () => {
    const f = new FunctionBuilder(["i32", "f32"], ["f32"]);
    const v = f.local("v128");
    f.op("local.get", 0).op("v128.load", 2, 0).op("local.get", 1).op("f32x4.splat").op("f32x4.mul");
    f.v128Const([1, 2, 3, 4]).op("f32x4.add").op("local.set", v);
    f.op("local.get", 0).op("local.get", v).op("v128.store", 2, 16);
    f.op("local.get", v).op("f32x4.extract_lane", 3);
    const m = new ModuleBuilder().setMemory(1, undefined, "memory");
    m.addFunction(f, "axpb");
    const ex = instantiate(m);
    const mem = new Float32Array((ex.memory as WasmMemory).buffer);
    mem.set([1, 2, 3, 4]);
    expect((ex.axpb as (p: number, a: number) => number)(0, 2)).toBe(12);
    expect([...mem.subarray(4, 8)]).toEqual([3, 6, 9, 12]);
  });

  it("f32 constants keep their bits; max/min/sqrt/neg; f64 promote", () => {
    const f = new FunctionBuilder([], ["f64"]);
    f.op("f32.const", 2).op("f32.sqrt").op("f32.const", -1).op("f32.neg").op("f32.max").op("f64.promote_f32");
    const m = new ModuleBuilder();
    m.addFunction(f, "f");
    expect((instantiate(m).f as () => number)()).toBe(Math.fround(Math.SQRT2));
  });

  it("mistakes are caught while writing, not by the engine later", () => {
    const f = new FunctionBuilder(["i32"], []);
    expect(() => f.op("local.get", 1)).toThrow(/1 locals/);
    expect(() => f.op("br", 1)).toThrow(/0 blocks/);
    expect(() => f.op("f32x4.extract_lane", 4)).toThrow(/lane/);
    expect(() => f.op("i32.add", 1)).toThrow(/immediate/);
    f.open("block");
    expect(() => f.encode()).toThrow(/open/);
  });

  it("signatures are shared: two functions of one type give one type entry", () => {
    const m = new ModuleBuilder();
    m.addFunction(new FunctionBuilder(["i32"], ["i32"]).op("local.get", 0), "a");
    m.addFunction(new FunctionBuilder(["i32"], ["i32"]).op("local.get", 0).op("i32.const", 1).op("i32.add"), "b");
    const wasm = m.encode();
    // header (8), then section 1: id, size, count = 1
    expect([...wasm.subarray(8, 11)]).toEqual([1, 6, 1]);
    const ex = instantiate(m);
    expect((ex.b as (x: number) => number)(4)).toBe(5);
  });
});
