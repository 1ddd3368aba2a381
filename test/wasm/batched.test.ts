// Batched matmuls (rank > 2) on the SIMD tiles (src/codegen/wasm/batched.ts): the kernel
// against a naive f64 product over strided operands (attention's heads, B transposed or
// row-strided, broadcast batch axes, odd and size-1 sizes), then whole models on the wasm
// target against the JS target (forward and both gradients), each checked to have run its
// batched products on the kernel.

import { afterEach, describe, expect, it, vi } from "vitest";
import { addBatchedMatmul, batchedScratch, type BatchedMatmul } from "../../src/codegen/wasm/batched";
import { ModuleBuilder } from "../../src/codegen/wasm/encode";
import { wasmApi, type WasmMemory } from "../../src/codegen/wasm/engine";
import { addMatmul } from "../../src/codegen/wasm/matmul";
import { compareTargets, type TargetCase } from "../helpers/targets";

vi.mock("../../src/codegen/wasm/batched", async (original) => {
  const m = await original<typeof import("../../src/codegen/wasm/batched")>();
  return { ...m, addBatchedMatmul: vi.fn(m.addBatchedMatmul) };
});

const WebAssembly = wasmApi!;

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

/** Elements an operand's strides reach (its storage, at least one). */
function extent(batch: number[], rows: number, cols: number, s: { batch: number[]; rows: number; cols: number }): number {
  return 1 + batch.reduce((a, d, i) => a + (d - 1) * s.batch[i]!, 0) + (rows - 1) * s.rows + (cols - 1) * s.cols;
}

/** Runs the batched kernel over random storage; returns C and the f64 product. */
function run(spec: BatchedMatmul, seed = 1): { got: Float32Array; want: Float64Array } {
  const { batch, m, k, n, a, b } = spec;
  const count = batch.reduce((x, y) => x * y, 1);
  const [aLen, bLen, cLen] = [extent(batch, m, k, a), extent(batch, k, n, b), count * m * n];
  const aOff = 4, bOff = aOff + aLen * 4, cOff = bOff + bLen * 4, scratch = cOff + cLen * 4;
  const bytes = scratch + batchedScratch(spec) * 4 + 64;
  const mod = new ModuleBuilder().setMemory(Math.ceil(bytes / 65536), undefined, "memory");
  const inner = addMatmul(mod, { m, k, n, aStride: [a.rows, a.cols] });
  addBatchedMatmul(mod, spec, inner, scratch);
  // export the batched function (the last one added)
  const wasm = exportLast(mod);
  expect(WebAssembly.validate(wasm)).toBe(true);
  const ex = new WebAssembly.Instance(new WebAssembly.Module(wasm)).exports;
  const mem = (ex.memory as WasmMemory).buffer;
  const A = new Float32Array(mem, aOff, aLen), B = new Float32Array(mem, bOff, bLen), C = new Float32Array(mem, cOff, cLen);
  const r = seeded(seed);
  A.forEach((_, i) => { A[i] = r(); });
  B.forEach((_, i) => { B[i] = r(); });
  C.fill(NaN);
  const Bbefore = B.slice();
  const want = new Float64Array(cLen);
  for (let p = 0; p < count; p++) {
    let [ao, bo] = [0, 0];
    for (let ax = batch.length - 1, q = p; ax >= 0; ax--) {
      const i = q % batch[ax]!;
      q = Math.floor(q / batch[ax]!);
      ao += i * a.batch[ax]!;
      bo += i * b.batch[ax]!;
    }
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += A[ao + i * a.rows + q * a.cols]! * B[bo + q * b.rows + j * b.cols]!;
      want[(p * m + i) * n + j] = s;
    }
  }
  (ex.batched as (a: number, b: number, c: number) => void)(aOff, bOff, cOff);
  expect(B).toEqual(Bbefore);
  return { got: C.slice(), want };
}

/** The module's bytes with its last function exported as `batched` and its memory. */
function exportLast(mod: ModuleBuilder): Uint8Array {
  const index = mod.functionCount - 1;
  const m = mod as unknown as { functions: { export?: string }[] };
  m.functions[index]!.export = "batched";
  return mod.encode();
}

function expectClose(got: Float32Array, want: Float64Array, k: number): void {
  expect(got.length).toBe(want.length);
  const tol = 4 * k * 2 ** -24 + 1e-6;
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  expect(worst).toBeLessThan(tol);
}

/** Strides of attention's heads view: z stored [b, t, h * d], read as [b, h, t, d]. */
const heads = (t: number, h: number, d: number) => ({ batch: [t * h * d, d], rows: h * d, cols: 1 });

describe("batched SIMD matmul kernel", () => {
  it("attention: q @ k^T and a @ v through the heads views (B transposed, B row-strided)", () => {
    for (const [bt, t, h, d] of [[2, 13, 3, 5], [3, 8, 4, 8], [1, 1, 2, 3]] as const) {
      // s = q @ k^T: A = q [t, d] (rows h*d apart), B = k^T [d, t]: stride 1 along k, h*d along n
      const kT = { batch: [t * h * d, d], rows: 1, cols: h * d };
      let r = run({ batch: [bt, h], m: t, k: d, n: t, a: heads(t, h, d), b: kT }, 3);
      expectClose(r.got, r.want, d);
      // o = a @ v: A = a stored [b, h, t, t], B = v [t, d] with rows h*d apart
      r = run({ batch: [bt, h], m: t, k: t, n: d, a: { batch: [h * t * t, t * t], rows: t, cols: 1 }, b: heads(t, h, d) }, 4);
      expectClose(r.got, r.want, t);
    }
  });

  it("A transposed, B stored row-major (read in place), odd sizes", () => {
    for (const [bt, m, k, n] of [[5, 7, 9, 11], [2, 1, 13, 3], [3, 17, 1, 9], [4, 6, 5, 1]] as const) {
      const r = run({ batch: [bt], m, k, n, a: { batch: [m * k], rows: 1, cols: m }, b: { batch: [k * n], rows: n, cols: 1 } }, 5);
      expectClose(r.got, r.want, k);
    }
  });

  it("broadcast batch axes (stride 0) and size-1 batch axes", () => {
    const r = run({ batch: [3, 1, 4], m: 5, k: 6, n: 10, a: { batch: [6 * 5, 0, 0], rows: 6, cols: 1 }, b: { batch: [0, 0, 60], rows: 10, cols: 1 } }, 6);
    expectClose(r.got, r.want, 6);
    const t = run({ batch: [2, 3], m: 9, k: 4, n: 7, a: { batch: [0, 36], rows: 4, cols: 1 }, b: { batch: [28, 0], rows: 1, cols: 4 } }, 8);
    expectClose(t.got, t.want, 4);
  });
});

interface BatchedCase extends TargetCase {
  name: string;
  /** Distinct batched kernels the model's functions run (at least). */
  kernels: number;
}

const cases: BatchedCase[] = [
  {
    // 3 heads of 8 over 13 tokens: the products read q, k, v through reshape + transpose
    // views, both gradients through transposed ones
    name: "causal attention over heads (reshape + transpose views), odd token count",
    kernels: 4,
    source: `
input x: [4, 13, 24]
param wq: [24, 24]
param wk: [24, 24]
param wv: [24, 24]
fn heads(z) = transpose(reshape(z, [-1, 13, 3, 8]), [0, 2, 1, 3])
fn merge(z) = reshape(transpose(z, [0, 2, 1, 3]), [-1, 13, 24])
q = heads(x @ wq)
k = heads(x @ wk)
v = heads(x @ wv)
s = q @ transpose(k, [0, 1, 3, 2]) / sqrt(8)
a = softmax(where(tril(ones([13, 13])), s, -1e9), axis = -1)
o = merge(a @ v)
loss = mean(o * o) + sum(s * s) / 1000
output o, s
minimize loss
`,
  },
  {
    name: "stored operands, odd sizes, a size-1 batch axis",
    kernels: 3,
    source: `
param a: [24, 1, 9, 7]
param b: [24, 1, 7, 11]
c = a @ b
loss = sum(c * c)
output c
minimize loss
`,
  },
  {
    name: "m = 1 and k = 1 products, transposed operands",
    kernels: 3,
    source: `
param u: [40, 1, 13]
param w: [40, 13, 9]
param p: [40, 6, 1]
param q: [40, 1, 10]
param g: [40, 6, 9]
r = u @ w
t = transpose(p @ q, [0, 2, 1]) @ g @ transpose(w, [0, 2, 1])
loss = sum(r * r) + mean(t)
output r, t
minimize loss
`,
  },
  {
    name: "broadcast batch axes and einsum",
    kernels: 2,
    source: `
param x: [4, 1, 19, 6]
param y: [1, 3, 6, 22]
param z: [4, 3, 22, 5]
e = einsum("bhqd,bhkd->bhqk", x @ y, transpose(z, [0, 1, 3, 2]))
f = (x @ y) @ z
loss = sum(e * e) / 100 + sum(f * e)
output e, f
minimize loss
`,
  },
];

describe.each(cases)("wasm vs js: $name", (c) => {
  afterEach(() => vi.mocked(addBatchedMatmul).mockClear());
  it.each(["random", "adversarial"] as const)("forward and both gradients agree within f32 rounding (%s values), on the batched kernel", (mode) => {
    compareTargets(c, mode, 2e-5);
    expect(vi.mocked(addBatchedMatmul).mock.calls.length).toBeGreaterThanOrEqual(c.kernels);
  });
});
