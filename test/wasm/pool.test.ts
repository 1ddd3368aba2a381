// The f32x4 pooling kernels against the ops' reference semantics (their `evaluate`), at
// values that tie, are NaN, ±Infinity or zeros of both signs: max pooling is Math.max
// (NaN wins, -0 < +0), the selection and the gradient go to each window's FIRST maximum
// (the first NaN if any). Widths leave 0-3 scalar columns after the f32x4 ones; strides 1,
// 2 (shuffled loads) and 3 (lane loads); gradients with rows and columns past the last
// window.

import { describe, expect, it } from "vitest";
import { ModuleBuilder } from "../../src/codegen/wasm/encode";
import { wasmApi } from "../../src/codegen/wasm/engine";
import { addPool, poolGeometry, type PoolKind } from "../../src/codegen/wasm/pool";
import { maxpool2d, maxpool2dGrad, maxpool2dSelect } from "../../src/ops/pool";

const WebAssembly = wasmApi!;

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** Values from a small pool (ties) with NaN, infinities and both zeros, or uniform. */
function sample(n: number, r: () => number, adversarial: boolean): Float32Array {
  const pool = [0, -0, 1, -1, 2, NaN, Infinity, -Infinity, 0.5];
  return Float32Array.from({ length: n }, () => (adversarial ? pool[Math.floor(r() * pool.length)]! : r() * 2 - 1));
}

const same = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));

/** With `freeBatch`, the kernel takes the batch as an argument (called at batch 1 first). */
function check(kind: PoolKind, x: number[], size: number, stride: number, adversarial: boolean, seed: number, freeBatch = false): void {
  const g = poolGeometry(kind, freeBatch ? ["n", ...x.slice(1)] : x, { size, stride })!;
  expect(g).toBeDefined();
  expect(g.freeBatch).toBe(freeBatch ? true : undefined);
  const pooled = [x[0]!, x[1]!, g.oh, g.ow];
  const shapes = kind === "maxpool2d" ? [x, pooled] : kind === "maxpool2d_select" ? [x, x, pooled] : [x, pooled, x];
  const offsets: number[] = [];
  let top = 4;
  for (const s of shapes) { offsets.push(top); top += numel(s) * 4 + 4; }
  const mod = new ModuleBuilder().setMemory(Math.ceil((top + 64) / 65536), undefined, "memory");
  addPool(mod, kind, g, "pool");
  const bytes = mod.encode();
  expect(WebAssembly.validate(bytes)).toBe(true);
  const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as { memory: { buffer: ArrayBuffer }; pool: (...o: number[]) => void };
  const r = seeded(seed);
  const arrays = shapes.map((s, i) => new Float32Array(ex.memory.buffer, offsets[i], numel(s)));
  for (let i = 0; i < arrays.length - 1; i++) arrays[i]!.set(sample(arrays[i]!.length, r, adversarial && i === 0));
  const out = arrays[arrays.length - 1]!;
  out.fill(77);
  if (freeBatch) ex.pool(...offsets, 1);
  ex.pool(...offsets, ...(freeBatch ? [x[0]!] : []));
  const op = kind === "maxpool2d" ? maxpool2d : kind === "maxpool2d_select" ? maxpool2dSelect : maxpool2dGrad;
  const tensors = shapes.slice(0, -1).map((s, i) => ({ shape: s, data: Float64Array.from(arrays[i]!) }));
  const want = op.evaluate!(tensors as never, { size, stride }, shapes[shapes.length - 1]!, {} as never);
  for (let i = 0; i < want.length; i++) {
    if (!same(out[i]!, Math.fround(want[i]!))) expect.fail(`${kind} ${x} size ${size} stride ${stride}: [${i}] wasm ${out[i]}, reference ${want[i]}`);
    // max pooling is Math.max exactly, the sign of a zero included
    if (kind === "maxpool2d" && out[i] === 0) expect(Object.is(out[i], want[i])).toBe(true);
  }
}

const shapes: [number[], number, number][] = [
  [[2, 3, 8, 8], 2, 2],
  [[16, 8, 26, 26], 2, 2],
  [[1, 2, 7, 13], 2, 2],
  [[2, 1, 9, 11], 3, 3],
  [[1, 3, 6, 9], 3, 1],
  [[2, 2, 10, 15], 2, 1],
  [[1, 1, 11, 23], 3, 2],
  [[1, 2, 5, 18], 1, 1],
  [[1, 1, 4, 4], 4, 4],
];

describe.each(shapes)("f32x4 pooling on %j, size %i, stride %i", (x, size, stride) => {
  it.each(["maxpool2d", "maxpool2d_select", "maxpool2d_grad"] as const)("%s matches the reference (random, then adversarial values)", (kind) => {
    if (kind === "maxpool2d_grad" && size !== stride) {
      expect(poolGeometry(kind, x, { size, stride })).toBeUndefined();
      return;
    }
    for (const seed of [1, 2, 3]) {
      check(kind, x, size, stride, false, seed);
      check(kind, x, size, stride, true, seed);
    }
    check(kind, x, size, stride, true, 4, true);
  });
});
