// The SIMD convolution kernels (im2col / col2im around the matmul tiles) against the ops'
// own reference semantics (their f64 `evaluate`), for the forward convolution and both
// gradients: strides, padding, dilation, groups, rank 1, channels and widths that are not
// multiples of 4, size-1 axes, rows long enough to take the chunked copy loop.

import { describe, expect, it } from "vitest";
import { ModuleBuilder } from "../../src/codegen/wasm/encode";
import { wasmApi } from "../../src/codegen/wasm/engine";
import { addConv, convGeometry, convScratch, type ConvKind } from "../../src/codegen/wasm/conv";
import { conv, convInputGrad, convWeightGrad } from "../../src/ops/conv";
import { convOutSize } from "../../src/ops/conv-geometry";

const WebAssembly = wasmApi!;

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

const numel = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

interface Case {
  name: string;
  x: number[];
  w: number[];
  stride?: number[];
  padding?: number[];
  dilation?: number[];
  groups?: number;
}

const cases: Case[] = [
  { name: "W4's layer: [16, 1, 28, 28] by 8 3x3", x: [16, 1, 28, 28], w: [8, 1, 3, 3] },
  { name: "3 channels, 5 filters, stride 2, padding 1", x: [2, 3, 9, 7], w: [5, 3, 3, 3], stride: [2, 2], padding: [1, 1] },
  { name: "padding 2, stride 3 (windows mostly in padding)", x: [2, 3, 8, 8], w: [4, 3, 3, 3], stride: [3, 3], padding: [2, 2] },
  { name: "dilation 2, unequal strides and padding", x: [1, 2, 11, 10], w: [3, 2, 3, 2], stride: [1, 2], padding: [2, 1], dilation: [2, 2] },
  { name: "groups 2 (4 channels, 6 filters)", x: [2, 4, 6, 6], w: [6, 2, 3, 3], padding: [1, 1], groups: 2 },
  { name: "depthwise (groups = channels)", x: [1, 3, 5, 5], w: [3, 1, 3, 3], padding: [1, 1], groups: 3 },
  { name: "size-1 batch, channels, 1x1 kernel", x: [1, 1, 1, 5], w: [1, 1, 1, 1] },
  { name: "kernel as large as the input", x: [2, 2, 3, 3], w: [7, 2, 3, 3] },
  { name: "rank 1, padding 3, stride 2", x: [3, 2, 21], w: [5, 2, 4], stride: [2], padding: [3] },
  { name: "rank 1, rows longer than the unrolled copy", x: [2, 3, 150], w: [4, 3, 5], padding: [2] },
  { name: "rank 1, stride 3 over a long row", x: [1, 2, 400], w: [2, 2, 3], stride: [3] },
];

function attrsOf(c: Case) {
  const rank = c.x.length - 2;
  const fill = (v: number[] | undefined, d: number) => v ?? Array.from({ length: rank }, () => d);
  return { stride: fill(c.stride, 1), padding: fill(c.padding, 0), dilation: fill(c.dilation, 1), groups: c.groups ?? 1 };
}

/** With `freeBatch`, the kernel takes the batch as an argument: it is called at batch 1
 *  first, then at the case's. */
function run(kind: ConvKind, c: Case, seed: number, freeBatch = false): void {
  const a = attrsOf(c);
  const out = c.x.slice(2).map((size, e) => convOutSize(size, c.w[2 + e]!, a.stride[e]!, a.padding[e]!, a.dilation[e]!));
  const y = [c.x[0]!, c.w[0]!, ...out];
  const g = (freeBatch ? convGeometry(["n", ...c.x.slice(1)], c.w, ["n", ...y.slice(1)], a) : convGeometry(c.x, c.w, y, a))!;
  expect(g).toBeDefined();
  expect(g.n).toBe(freeBatch ? "free" : c.x[0]);
  // the op's inputs and output, by kind
  const [s0, s1, so] = kind === "conv" ? [c.x, c.w, y] : kind === "conv_input_grad" ? [y, c.w, c.x] : [c.x, y, c.w];
  const mod = new ModuleBuilder();
  const sizes = [numel(s0), numel(s1), numel(so), ...convScratch(kind, g)];
  // each array at an offset that is not 16-byte aligned
  const offsets: number[] = [];
  let top = 4;
  for (const n of sizes) { offsets.push(top); top += n * 4 + 4; }
  mod.setMemory(Math.ceil(top / 65536) + 1, undefined, "memory");
  addConv(mod, kind, g, offsets.slice(3), "conv");
  const bytes = mod.encode();
  expect(WebAssembly.validate(bytes)).toBe(true);
  const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as { memory: { buffer: ArrayBuffer }; conv: (...o: number[]) => void };
  const buf = ex.memory.buffer;
  const rand = seeded(seed);
  const in0 = new Float32Array(buf, offsets[0], sizes[0]), in1 = new Float32Array(buf, offsets[1], sizes[1]);
  for (const v of [in0, in1]) for (let i = 0; i < v.length; i++) v[i] = rand();
  const result = new Float32Array(buf, offsets[2], sizes[2]);
  // garbage in the output: overwritten, not accumulated into
  result.fill(123);
  const attrs = kind === "conv" ? a : kind === "conv_input_grad" ? { ...a, output_padding: c.x.slice(2).map((size, e) => size - ((out[e]! - 1) * a.stride[e]! - 2 * a.padding[e]! + a.dilation[e]! * (c.w[2 + e]! - 1) + 1)) } : { ...a, kernel_size: c.w.slice(2) };
  const op = kind === "conv" ? conv : kind === "conv_input_grad" ? convInputGrad : convWeightGrad;
  const want = op.evaluate!([{ shape: s0, data: Float64Array.from(in0) }, { shape: s1, data: Float64Array.from(in1) }] as never, attrs, so, {} as never);
  const batch = freeBatch ? [c.x[0]!] : [];
  if (freeBatch) ex.conv(offsets[0]!, offsets[1]!, offsets[2]!, 1);
  // twice: the column buffer is reused, its padding zeros must survive
  for (let round = 0; round < 2; round++) {
    ex.conv(offsets[0]!, offsets[1]!, offsets[2]!, ...batch);
    // each output sums `terms` products of magnitude <= 1 in f32
    const terms = kind === "conv_weight_grad" ? numel(y) / y[1]! : kind === "conv" ? numel(c.w.slice(1)) : numel(c.w);
    const tol = 4 * terms * 2 ** -24 + 1e-6;
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(result[i]! - want[i]!));
    expect(worst).toBeLessThan(tol);
  }
}

describe.each(cases)("SIMD conv kernels: $name", (c) => {
  it.each(["conv", "conv_input_grad", "conv_weight_grad"] as const)("%s matches the reference", (kind) => {
    run(kind, c, 7);
  });
  it.each(["conv", "conv_input_grad", "conv_weight_grad"] as const)("%s with the batch free (an argument) matches the reference", (kind) => {
    run(kind, c, 9, true);
  });
});

describe("convGeometry", () => {
  it("refuses spatial rank 3 and unknown sizes but the batch", () => {
    const a = { stride: [1, 1, 1], padding: [0, 0, 0], dilation: [1, 1, 1], groups: 1 };
    const a2 = { ...a, stride: [1, 1], padding: [0, 0], dilation: [1, 1] };
    expect(convGeometry([1, 1, 4, 4, 4], [1, 1, 2, 2, 2], [1, 1, 3, 3, 3], a)).toBeUndefined();
    expect(convGeometry([2, "c", 4, 4], ["c", "c", 2, 2], [2, "c", 3, 3], a2)).toBeUndefined();
    expect(convGeometry([2, 1, "h", 4], [1, 1, 2, 2], [2, 1, "h", 3], a2)).toBeUndefined();
    expect(convGeometry(["n", 1, 4, 4], [1, 1, 2, 2], ["n", 1, 3, 3], a2)?.n).toBe("free");
  });
});
