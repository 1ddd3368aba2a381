// The wasm target's kernels, measured on their own: the SIMD128 register-tiled matmul in
// GFLOP/s (median of many runs) at the W2 MLP's shapes and a square one, against the JS
// target's whole W2 step on the same machine. Run with `node bench/wasm.mjs` after
// `npm run build` (it reads the JS target from dist/; the kernels from src/ via esbuild).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { compileModel } from "./lib/gradc.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const bundle = await build({
  stdin: { contents: 'export * from "./src/codegen/wasm/encode.ts"; export * from "./src/codegen/wasm/matmul.ts";', resolveDir: root, loader: "ts" },
  bundle: true, format: "esm", write: false, platform: "node",
});
const { ModuleBuilder, addMatmul } = await import(`data:text/javascript;base64,${Buffer.from(bundle.outputFiles[0].text).toString("base64")}`);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median and fastest time of `fn` in ms over `runs` timed batches, each long enough to
 *  time (the fastest is the steadier figure on a busy machine). */
function time(fn, runs = 31) {
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) fn();
    if (performance.now() - t0 > 5) break;
    reps *= 2;
  }
  const samples = [];
  for (let s = 0; s < runs; s++) {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) fn();
    samples.push((performance.now() - t0) / reps);
  }
  return { median: median(samples), min: Math.min(...samples) };
}

function matmulRow(label, shape) {
  const { m, k, n } = shape;
  const mod = new ModuleBuilder().setMemory(Math.ceil(((m * k + 2 * k * n + m * n + n) * 4) / 65536) + 1, undefined, "memory");
  addMatmul(mod, shape, "matmul");
  const ex = new WebAssembly.Instance(new WebAssembly.Module(mod.encode())).exports;
  const f32 = new Float32Array(ex.memory.buffer);
  for (let i = 0; i < f32.length; i++) f32[i] = ((i * 7919) % 1000) / 1000 - 0.5;
  const a = 0, b = m * k * 4, c = b + k * n * 4, bias = c + m * n * 4, scratch = bias + n * 4;
  const args = [a, b, c, ...(shape.bias ? [bias] : []), ...(shape.bTransposed ? [scratch] : [])];
  const { median: ms, min } = time(() => ex.matmul(...args));
  const flops = 2 * m * k * n;
  return { label, ms, gflops: flops / (ms * 1e6), best: flops / (min * 1e6) };
}

const rows = [
  matmulRow("W2 forward x @ w1 [64,784]@[784,128]", { m: 64, k: 784, n: 128 }),
  matmulRow("  + bias, relu epilogue", { m: 64, k: 784, n: 128, bias: true, relu: true }),
  matmulRow("W2 weight gradient x^T @ dh [784,64]@[64,128]", { m: 784, k: 64, n: 128, aStride: [1, 784] }),
  matmulRow("W2 layer 2 h @ w2 [64,128]@[128,10]", { m: 64, k: 128, n: 10 }),
  matmulRow("W2 input gradient dy @ w2^T [64,10]@[10,128]", { m: 64, k: 10, n: 128, bTransposed: true }),
  matmulRow("square [256,256]@[256,256]", { m: 256, k: 256, n: 256 }),
];
console.log("wasm SIMD128 matmul kernel (one thread; median, and fastest batch in brackets)");
for (const r of rows) console.log(`  ${r.label.padEnd(48)} ${r.ms.toFixed(3).padStart(8)} ms  ${r.gflops.toFixed(1).padStart(5)} GFLOP/s  (${r.best.toFixed(1)})`);

// The JS target's whole W2 step, for the scale of what the kernels can replace.
const model = compileModel("w2-mlp");
const x = new Float32Array(64 * 784).map((_, i) => ((i * 31) % 255) / 255);
const y = new Float32Array(64 * 10);
for (let i = 0; i < 64; i++) y[i * 10 + (i % 10)] = 1;
const stepMs = time(() => model.step({ x, y }), 21).median;
// forward + weight gradient of layer 1 (no input gradient), all three of layer 2
const w2Flops = 2 * 64 * 784 * 128 * 2 + 2 * 64 * 128 * 10 * 3;
console.log(`JS target W2 step: ${stepMs.toFixed(3)} ms  (${(w2Flops / (stepMs * 1e6)).toFixed(1)} GFLOP/s over its matmuls)`);
// layer 1: forward (with its epilogue) and weight gradient; layer 2: forward, weight gradient
// (same flops as its forward) and input gradient
const kernelMs = rows[1].ms + rows[2].ms + 2 * rows[3].ms + rows[4].ms;
console.log(`W2 step's matmuls in wasm: ${kernelMs.toFixed(3)} ms, a bound of ${(stepMs / kernelMs).toFixed(1)}x on the step if the elementwise work stays small`);
