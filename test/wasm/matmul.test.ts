// The SIMD matmul kernel against a naive f64 product, over shapes that exercise every tile
// kind (full 4x8 tiles, the 4-wide column, scalar columns, leftover rows), transposed A
// through strides, and accumulation into C.

import { describe, expect, it } from "vitest";
import { ModuleBuilder } from "../../src/codegen/wasm/encode";
import { wasmApi, type WasmMemory } from "../../src/codegen/wasm/engine";
import { addMatmul, matmulArity, type MatmulShape } from "../../src/codegen/wasm/matmul";

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

type Sizes = { m: number; k: number; n: number };
type Known = MatmulShape & Sizes;

/** A kernel of `shape` on its own memory of `bytes`: calls with the given sizes (the
 *  free ones passed as arguments) at fresh random operands, against a naive f64 product. */
function kernel(shape: MatmulShape, bytes: number) {
  const mod = new ModuleBuilder().setMemory(Math.ceil((bytes + 64) / 65536), undefined, "memory");
  addMatmul(mod, shape, "matmul");
  const wasm = mod.encode();
  expect(WebAssembly.validate(wasm)).toBe(true);
  const ex = new WebAssembly.Instance(new WebAssembly.Module(wasm)).exports;
  return (at: Sizes, seed = 1, nanAt?: number): { got: Float32Array; want: Float64Array } => {
    const { m, k, n } = at;
    const stride = (s: number | "m" | "k" | "n") => (typeof s === "number" ? s : at[s]);
    const [sRow, sK] = (shape.aStride ?? ["k", 1]).map(stride) as [number, number];
    const mem = (ex.memory as WasmMemory).buffer;
    // deliberately unaligned to 16 bytes: offsets 4, ...
    const aOff = 4, bOff = aOff + m * k * 4, cOff = bOff + k * n * 4, biasOff = cOff + m * n * 4;
    const a = new Float32Array(mem, aOff, m * k), b = new Float32Array(mem, bOff, k * n), c = new Float32Array(mem, cOff, m * n);
    const bias = new Float32Array(mem, biasOff, n);
    const scratchOff = biasOff + (n + 8) * 4;
    // C is followed by a guard row that no call may write
    const guard = new Float32Array(mem, biasOff, n + 8).fill(0);
    const rand = seeded(seed);
    for (let i = 0; i < a.length; i++) a[i] = rand();
    for (let i = 0; i < b.length; i++) b[i] = rand();
    for (let i = 0; i < c.length; i++) c[i] = rand();
    guard.fill(7);
    for (let i = 0; i < n; i++) bias[i] = rand();
    if (nanAt !== undefined) a[nanAt] = NaN;
    const want = new Float64Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = shape.accumulate ? c[i * n + j]! : 0;
        for (let p = 0; p < k; p++) s += a[i * sRow + p * sK]! * (shape.bTransposed ? b[j * k + p]! : b[p * n + j]!);
        if (shape.bias) s += bias[j]!;
        want[i * n + j] = shape.relu ? (s > 0 ? s : 0) : s;
      }
    }
    const free = (["m", "k", "n"] as const).filter((d) => shape[d] === "free").map((d) => at[d]);
    const args = [aOff, bOff, cOff, ...(shape.bias ? [biasOff] : []), ...(shape.bTransposed ? [scratchOff] : []), ...free];
    expect(args.length).toBe(matmulArity(shape));
    const before = shape.bias ? undefined : guard.slice();
    (ex.matmul as (...offsets: number[]) => void)(...args);
    if (before) expect([...guard]).toEqual([...before]);
    // B itself is left as it was (the copy goes to scratch)
    const bAfter = new Float32Array(mem, bOff, k * n);
    const rand2 = seeded(seed);
    for (let i = 0; i < a.length; i++) rand2();
    for (let i = 0; i < bAfter.length; i++) expect(bAfter[i]).toBe(Math.fround(rand2()));
    return { got: c.slice(), want };
  };
}

const bytesFor = ({ m, k, n }: Sizes) => (m * k + 2 * k * n + m * n + 2 * n + 8) * 4;

function run(shape: Known, seed = 1, nanAt?: number): { got: Float32Array; want: Float64Array } {
  return kernel(shape, bytesFor(shape))(shape, seed, nanAt);
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

  it("B given transposed (an input gradient, dy @ w^T), alone and with the other options", () => {
    for (const [m, k, n] of [[64, 10, 128], [5, 7, 13], [1, 1, 1], [9, 16, 4]] as const) {
      const { got, want } = run({ m, k, n, bTransposed: true }, 13);
      expectClose(got, want, k);
    }
    const both = run({ m: 12, k: 5, n: 9, bTransposed: true, aStride: [1, 12], accumulate: true }, 17);
    expectClose(both.got, both.want, 6);
    const epi = run({ m: 6, k: 5, n: 11, bTransposed: true, bias: true, relu: true }, 19);
    expectClose(epi.got, epi.want, 6);
  });

  it("accumulates into C", () => {
    const { got, want } = run({ m: 6, k: 9, n: 11, accumulate: true }, 3);
    expectClose(got, want, 10);
  });

  it("fused bias and relu epilogue, on every tile kind", () => {
    for (const [m, k, n] of [[5, 7, 13], [64, 32, 10], [4, 3, 8]] as const) {
      for (const epilogue of [{ bias: true }, { relu: true }, { bias: true, relu: true }]) {
        const { got, want } = run({ m, k, n, ...epilogue }, 11);
        expectClose(got, want, k + 1);
        if (epilogue.relu) expect(got.some((x) => x === 0) && got.every((x) => x >= 0)).toBe(true);
      }
    }
  });

  it("relu of NaN is 0, as the JS target's, in vector and scalar columns", () => {
    // A's row 1 holds a NaN: all of C's row 1 is NaN before relu (n = 7: 4 vector + 3 scalar columns)
    const { got } = run({ m: 3, k: 4, n: 7, relu: true }, 5, 4 + 2);
    expect([...got.subarray(7, 14)]).toEqual([0, 0, 0, 0, 0, 0, 0]);
    const { got: plain } = run({ m: 3, k: 4, n: 7 }, 5, 4 + 2);
    expect(plain.subarray(7, 14).every(Number.isNaN)).toBe(true);
  });

  describe("free sizes (arguments of the kernel), alternating across calls of one instance", () => {
    // one kernel per set of free sizes; every call at a different size, small, large, 1, 0
    const sequence = [1, 13, 64, 0, 3, 37, 1, 8, 5, 2, 70];
    const cases: { name: string; shape: MatmulShape; fixed: Sizes }[] = [
      { name: "m (a batch: x @ w)", shape: { m: "free", k: 19, n: 21 }, fixed: { m: 0, k: 19, n: 21 } },
      { name: "k (a weight gradient over the batch: x^T @ dy)", shape: { m: 13, k: "free", n: 10, aStride: [1, 13] }, fixed: { m: 13, k: 0, n: 10 } },
      { name: "n", shape: { m: 6, k: 5, n: "free" }, fixed: { m: 6, k: 5, n: 0 } },
      { name: "m with B transposed (an input gradient: dy @ w^T)", shape: { m: "free", k: 10, n: 17, bTransposed: true }, fixed: { m: 0, k: 10, n: 17 } },
      { name: "m and n, accumulating", shape: { m: "free", k: 7, n: "free", accumulate: true }, fixed: { m: 0, k: 7, n: 0 } },
      { name: "m, k and n, A transposed", shape: { m: "free", k: "free", n: "free", aStride: [1, "m"] }, fixed: { m: 0, k: 0, n: 0 } },
      { name: "m, k and n", shape: { m: "free", k: "free", n: "free" }, fixed: { m: 0, k: 0, n: 0 } },
      { name: "m with bias and relu", shape: { m: "free", k: 9, n: 14, bias: true, relu: true }, fixed: { m: 0, k: 9, n: 14 } },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const free = (["m", "k", "n"] as const).filter((d) => c.shape[d] === "free");
        const at = (t: number): Sizes => {
          const s = { ...c.fixed };
          free.forEach((d, i) => { s[d] = sequence[(t + 3 * i) % sequence.length]!; });
          return s;
        };
        const calls = sequence.map((_, t) => at(t));
        const call = kernel(c.shape, Math.max(...calls.map(bytesFor)));
        calls.forEach((sizes, t) => {
          const { got, want } = call(sizes, 100 + t);
          expectClose(got, want, sizes.k + 1);
        });
      });
    }

    it("relu of NaN is 0 in a free-size kernel too", () => {
      const call = kernel({ m: "free", k: 4, n: "free", relu: true }, 4096);
      const { got } = call({ m: 3, k: 4, n: 7 }, 5, 4 + 2);
      expect([...got.subarray(7, 14)]).toEqual([0, 0, 0, 0, 0, 0, 0]);
    });

    it("refuses a transposed B with a free k or n (its scratch is sized when compiling)", () => {
      expect(() => addMatmul(new ModuleBuilder(), { m: 2, k: "free", n: 1, bTransposed: true })).toThrow(/transposed B/);
    });
  });

  it("refuses an empty shape, and bias with accumulate", () => {
    expect(() => addMatmul(new ModuleBuilder(), { m: 2, k: 1, n: 1, bias: true, accumulate: true })).toThrow(/bias/);
    expect(() => addMatmul(new ModuleBuilder(), { m: 0, k: 1, n: 1 })).toThrow(/m must be/);
  });
});
