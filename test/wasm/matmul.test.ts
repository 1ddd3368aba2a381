// The SIMD matmul kernel against a naive f64 product, over shapes that exercise every tile
// kind (full 4x8 tiles, the 4-wide column, scalar columns, leftover rows), transposed A
// through strides, and accumulation into C.

import { describe, expect, it } from "vitest";
import { ModuleBuilder } from "../../src/codegen/wasm/encode";
import { wasmApi, type WasmMemory } from "../../src/codegen/wasm/engine";
import { addMatmul, type MatmulShape } from "../../src/codegen/wasm/matmul";

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

function run(shape: MatmulShape, seed = 1): { got: Float32Array; want: Float64Array } {
  const { m, k, n } = shape;
  const [sRow, sK] = shape.aStride ?? [k, 1];
  const mod = new ModuleBuilder().setMemory(Math.ceil(((m * k + k * n + m * n) * 4 + 64) / 65536), undefined, "memory");
  addMatmul(mod, shape, "matmul");
  const wasm = mod.encode();
  expect(WebAssembly.validate(wasm)).toBe(true);
  const ex = new WebAssembly.Instance(new WebAssembly.Module(wasm)).exports;
  const mem = (ex.memory as WasmMemory).buffer;
  // deliberately unaligned to 16 bytes: offsets 4, ...
  const aOff = 4, bOff = aOff + m * k * 4, cOff = bOff + k * n * 4;
  const a = new Float32Array(mem, aOff, m * k), b = new Float32Array(mem, bOff, k * n), c = new Float32Array(mem, cOff, m * n);
  const rand = seeded(seed);
  for (let i = 0; i < a.length; i++) a[i] = rand();
  for (let i = 0; i < b.length; i++) b[i] = rand();
  for (let i = 0; i < c.length; i++) c[i] = rand();
  const want = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = shape.accumulate ? c[i * n + j]! : 0;
      for (let p = 0; p < k; p++) s += a[i * sRow + p * sK]! * b[p * n + j]!;
      want[i * n + j] = s;
    }
  }
  (ex.matmul as (a: number, b: number, c: number) => void)(aOff, bOff, cOff);
  return { got: c.slice(), want };
}

function expectClose(got: Float32Array, want: Float64Array, k: number): void {
  expect(got.length).toBe(want.length);
  // f32 accumulation over k terms of magnitude <= 1
  const tol = 4 * k * 2 ** -24 + 1e-6;
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  expect(worst).toBeLessThan(tol);
}

const WebAssembly = wasmApi!;

describe("SIMD matmul", () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1], [4, 3, 8], [5, 7, 13], [3, 2, 4], [2, 5, 3], [8, 16, 16], [9, 1, 12], [64, 784, 128], [64, 128, 10], [7, 33, 21],
  ];
  for (const [m, k, n] of shapes) {
    it(`[${m}, ${k}] @ [${k}, ${n}]`, () => {
      const { got, want } = run({ m, k, n });
      expectClose(got, want, k);
    });
  }

  it("A read transposed through strides (a weight gradient, x^T @ dy)", () => {
    for (const [m, k, n] of [[13, 6, 10], [128, 64, 10], [4, 4, 8]] as const) {
      const { got, want } = run({ m, k, n, aStride: [1, m] }, 7);
      expectClose(got, want, k);
    }
  });

  it("accumulates into C", () => {
    const { got, want } = run({ m: 6, k: 9, n: 11, accumulate: true }, 3);
    expectClose(got, want, 10);
  });

  it("refuses an empty shape", () => {
    expect(() => addMatmul(new ModuleBuilder(), { m: 0, k: 1, n: 1 })).toThrow(/m must be/);
  });
});
