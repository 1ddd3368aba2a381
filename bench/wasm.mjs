// The wasm target, measured: the SIMD128 register-tiled matmul kernel on its own in GFLOP/s
// at the W2 MLP's shapes and a square one; then whole compiled models, interleaved rounds
// (each round times every implementation once; medians over rounds): the W2 training step
// on the wasm target vs the JS target vs jax-js (wasm backend, jit) and TF.js wasm (when
// bench/node_modules has them), the XOR step on both targets, compile time of both
// targets, and minor GCs during steady-state wasm steps. Run with `node bench/wasm.mjs`
// after `npm run build` (gradc from dist/; the kernel rows from src/ via esbuild).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { PerformanceObserver, constants } from "node:perf_hooks";
import { attempt, copyRecord } from "./lib/data.mjs";
import { compileModel, gradc, modelSource } from "./lib/gradc.mjs";
import { loadJax } from "./jax/load.mjs";
import { jaxMlp } from "./jax/w2-mlp.mjs";
import { loadTf } from "./tf/load.mjs";
import { tfMlp } from "./tf/w2-mlp.mjs";
import { w2Data } from "./w2-mlp.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const bundle = await build({
  stdin: { contents: 'export * from "./src/codegen/wasm/encode.ts"; export * from "./src/codegen/wasm/matmul.ts"; export * from "./src/codegen/wasm/elementwise.ts";', resolveDir: root, loader: "ts" },
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

/** A call of the kernel of `shape` on its own memory (what matmulRow times). */
function matmulCall(shape) {
  const { m, k, n } = shape;
  const mod = new ModuleBuilder().setMemory(Math.ceil(((m * k + 2 * k * n + m * n + n) * 4) / 65536) + 1, undefined, "memory");
  addMatmul(mod, shape, "matmul");
  const ex = new WebAssembly.Instance(new WebAssembly.Module(mod.encode())).exports;
  const a = 0, b = m * k * 4, c = b + k * n * 4, bias = c + m * n * 4, scratch = bias + n * 4;
  const args = [a, b, c, ...(shape.bias ? [bias] : []), ...(shape.bTransposed ? [scratch] : [])];
  return () => ex.matmul(...args);
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


/** Interleaved rounds: each round times every entry once (a batch of calls lasting about
 *  `ms`); returns each entry's median per-call time in ms over the rounds. */
async function interleaved(entries, rounds = 15, ms = 40) {
  const samples = entries.map(() => []);
  const reps = [];
  for (const e of entries) {
    await e.before?.();
    // warm up: on a busy machine V8's optimising tier compiles wasm (and JS) on a
    // background thread late, so a short warm-up would time baseline code
    const until = performance.now() + 400;
    while (performance.now() < until) e.fn();
    let n = 1;
    for (;;) {
      const t0 = performance.now();
      for (let r = 0; r < n; r++) e.fn();
      if (performance.now() - t0 > ms / 4) break;
      n *= 2;
    }
    reps.push(n * 4);
  }
  for (let round = 0; round < rounds; round++) {
    for (const [i, e] of entries.entries()) {
      await e.before?.();
      const t0 = performance.now();
      for (let r = 0; r < reps[i]; r++) e.fn();
      samples[i].push((performance.now() - t0) / reps[i]);
    }
  }
  return samples.map(median);
}

const w2Flops = 2 * 64 * 784 * 128 * 2 + 2 * 64 * 128 * 10 * 3;
const data = w2Data();
const values = { x: data.x, y: data.y };
const w2Wasm = compileModel("w2-mlp", { target: "wasm" });
const w2Js = compileModel("w2-mlp");
const init = copyRecord(w2Js.params);
const lossWasm = w2Wasm.valueAndGrad(values).value, lossJs = w2Js.valueAndGrad(values).value;
const tf = await loadTf();
const jax = await loadJax();
await tf.use("wasm");
const tfWasm = attempt(() => tfMlp(tf.tf, init, data, 0.1));
const jx = jax.jax ? attempt(() => jaxMlp(jax.jax, init, data, 0.1)) : { fails: jax.missing };
// the step's five products, each kernel alone: the floor under the wasm step
const products = [
  { m: 64, k: 784, n: 128, bias: true, relu: true }, { m: 784, k: 64, n: 128, aStride: [1, 784] },
  { m: 64, k: 128, n: 10 }, { m: 128, k: 64, n: 10, aStride: [1, 128] }, { m: 64, k: 10, n: 128, bTransposed: true },
].map(matmulCall);
const w2Entries = [
  { name: "gradc, wasm target", fn: () => w2Wasm.step(values) },
  { name: "  its 5 matmul kernels alone", fn: () => { for (const p of products) p(); } },
  { name: "gradc, js target", fn: () => w2Js.step(values) },
  ...(tfWasm.fails ? [] : [{ name: `TF.js ${tf.version} wasm`, fn: tfWasm.step, before: () => tf.use("wasm") }]),
  ...(jx.fails ? [] : [{ name: `jax-js ${jax.version} wasm, jit`, fn: jx.step }]),
];
console.log(`\nW2 MLP step (784-128-10, batch 64, softmax cross-entropy, sgd); loss at the same weights: wasm ${lossWasm.toFixed(6)}, js ${lossJs.toFixed(6)}`);
if (tfWasm.fails) console.log(`  TF.js wasm: ${tfWasm.fails}`);
if (jx.fails) console.log(`  jax-js: ${jx.fails}`);
const w2Times = await interleaved(w2Entries);
w2Entries.forEach((e, i) => console.log(`  ${e.name.padEnd(28)} ${w2Times[i].toFixed(3).padStart(8)} ms  ${(w2Flops / (w2Times[i] * 1e6)).toFixed(1).padStart(5)} GFLOP/s (matmul flops)  ${(w2Times[i] / w2Times[0]).toFixed(2)}x the wasm target's time`));

const xorSource = modelSource("w1-xor");
const xorWasm = gradc.compile(xorSource, { target: "wasm", seed: 1 });
const xorJs = gradc.compile(xorSource, { seed: 1 });
const xv = { x: new Float32Array([0, 0, 0, 1, 1, 0, 1, 1]), y: new Float32Array([0, 1, 1, 0]) };
const xorTimes = await interleaved([{ fn: () => xorWasm.step(xv) }, { fn: () => xorJs.step(xv) }], 31, 20);
console.log(`\nXOR step: wasm target ${(xorTimes[0] * 1e3).toFixed(3)} us, js target ${(xorTimes[1] * 1e3).toFixed(3)} us: ${(xorTimes[0] / xorTimes[1]).toFixed(2)}x`);

// W4 (conv 3x3x8 + relu, maxpool, dense, softmax cross-entropy): the conv and its weight
// gradient on the matmul tiles through im2col, max pooling and its gradient on f32x4 lanes,
// the dense layer on the SIMD matmul, the relu and bias epilogues as f32x4 maps
const w4Wasm = compileModel("w4-cnn", { target: "wasm" }), w4Js = compileModel("w4-cnn");
const w4Values = Object.fromEntries(w4Js.meta.inputs.map((d) => [d.name, new Float32Array(d.shape.reduce((a, b) => a * b, 1)).map((_, i) => (d.name === "y" ? (i % 10 === 0 ? 1 : 0) : Math.sin(i)))]));
const w4Loss = [w4Wasm.valueAndGrad(w4Values).value, w4Js.valueAndGrad(w4Values).value];
const w4Times = await interleaved([{ fn: () => w4Wasm.step(w4Values) }, { fn: () => w4Js.step(w4Values) }], 11, 60);
console.log(`W4 CNN step: wasm target ${w4Times[0].toFixed(3)} ms, js target ${w4Times[1].toFixed(3)} ms: the js target takes ${(w4Times[1] / w4Times[0]).toFixed(2)}x as long (first losses ${w4Loss[0].toFixed(6)}, ${w4Loss[1].toFixed(6)})`);

// compile time, after warming the compiler up on both targets
const w2Source = modelSource("w2-mlp");
for (let i = 0; i < 3; i++) { gradc.compile(w2Source, { target: "wasm" }); gradc.compile(w2Source); }
const compileTimes = await interleaved([
  { fn: () => gradc.compile(w2Source, { target: "wasm" }) }, { fn: () => gradc.compile(w2Source) },
  { fn: () => gradc.compile(xorSource, { target: "wasm" }) }, { fn: () => gradc.compile(xorSource) },
], 9, 100);
console.log(`\ncompile(): W2 wasm ${compileTimes[0].toFixed(1)} ms, js ${compileTimes[1].toFixed(1)} ms (${(compileTimes[0] / compileTimes[1]).toFixed(2)}x); XOR wasm ${compileTimes[2].toFixed(1)} ms, js ${compileTimes[3].toFixed(1)} ms (${(compileTimes[2] / compileTimes[3]).toFixed(2)}x)`);

// steady state allocates nothing: minor GCs while stepping (none expected)
let gcs = 0;
const obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) gcs++; });
for (let i = 0; i < 20; i++) w2Wasm.step(values);
obs.observe({ entryTypes: ["gc"] });
for (let i = 0; i < 200; i++) w2Wasm.step(values);
for (let i = 0; i < 20000; i++) xorWasm.step(xv);
await new Promise((r) => setTimeout(r, 50));
obs.disconnect();
console.log(`minor GCs during 200 W2 and 20,000 XOR wasm steps: ${gcs}`);
