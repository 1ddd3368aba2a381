// The wasm target's kernels, measured on their own: the SIMD128 register-tiled matmul in
// GFLOP/s (median of many runs) at the W2 MLP's shapes and a square one, against the JS
// target's whole W2 step on the same machine. Run with `node bench/wasm.mjs` after
// `npm run build` (it reads the JS target from dist/; the kernels from src/ via esbuild).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { compileModel, gradc } from "./lib/gradc.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const bundle = await build({
  stdin: { contents: 'export * from "./src/codegen/wasm/encode.ts"; export * from "./src/codegen/wasm/matmul.ts"; export * from "./src/codegen/wasm/elementwise.ts";', resolveDir: root, loader: "ts" },
  bundle: true, format: "esm", write: false, platform: "node",
});
const { ModuleBuilder, addMatmul, addMap, addColumnSum } = await import(`data:text/javascript;base64,${Buffer.from(bundle.outputFiles[0].text).toString("base64")}`);

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

// A whole W2-shaped step (relu, mse instead of softmax cross-entropy: wasm has no exp yet)
// composed by hand of the kernels over one memory, as test/wasm/composed-step.test.ts
// checks it against the JS target; timed against the JS target's step of the same model.
{
  const [B, I, H, O] = [64, 784, 128, 10];
  const x0 = { input: 0 }, x1 = { input: 1 };
  const m = new ModuleBuilder().setMemory(32, undefined, "memory");
  addMatmul(m, { m: B, k: I, n: H, bias: true, relu: true }, "layer1");
  addMatmul(m, { m: B, k: H, n: O, bias: true }, "layer2");
  addMap(m, B * O, 2, { op: "mul", a: { op: "sub", a: x0, b: x1 }, b: { constant: 2 / (B * O) } }, "dlogits");
  addMap(m, B * O, 2, { op: "mul", a: { op: "sub", a: x0, b: x1 }, b: { op: "sub", a: x0, b: x1 } }, "squares");
  addColumnSum(m, B * O, 1, false, "total");
  addMatmul(m, { m: H, k: B, n: O, aStride: [1, H] }, "dw2");
  addColumnSum(m, B, O, false, "db2");
  addMatmul(m, { m: B, k: O, n: H, bTransposed: true }, "dh");
  addMap(m, B * H, 2, { op: "where_gt", a: x0, b: { constant: 0 }, then: x1, else: { constant: 0 } }, "relugrad");
  addMatmul(m, { m: I, k: B, n: H, aStride: [1, I] }, "dw1");
  addColumnSum(m, B, H, false, "db1");
  for (const n of [I * H, H, H * O, O]) addMap(m, n, 2, { op: "sub", a: x0, b: { op: "mul", a: { constant: 0.1 }, b: x1 } }, `sgd${n}`);
  const ex = new WebAssembly.Instance(new WebAssembly.Module(m.encode())).exports;
  let top = 0;
  const p = {};
  for (const [name, n] of Object.entries({ x: B * I, y: B * O, w1: I * H, b1: H, w2: H * O, b2: O, h: B * H, logits: B * O, d: B * O, sq: B * O, loss: 1, gw1: I * H, gb1: H, gw2: H * O, gb2: O, dh: B * H, dhr: B * H, scratch: O * H })) {
    p[name] = top;
    top += Math.ceil(n / 4) * 16;
  }
  const f32 = new Float32Array(ex.memory.buffer);
  f32.set(x, p.x / 4);
  f32.set(y, p.y / 4);
  for (const [name, n] of [["w1", I * H], ["w2", H * O]]) for (let i = 0; i < n; i++) f32[p[name] / 4 + i] = (((i * 2654435761) >>> 0) / 2 ** 32 - 0.5) * 0.1;
  const step = () => {
    ex.layer1(p.x, p.w1, p.h, p.b1); ex.layer2(p.h, p.w2, p.logits, p.b2);
    ex.squares(p.logits, p.y, p.sq); ex.total(p.sq, p.loss); ex.dlogits(p.logits, p.y, p.d);
    ex.dw2(p.h, p.d, p.gw2); ex.db2(p.d, p.gb2); ex.dh(p.d, p.w2, p.dh, p.scratch);
    ex.relugrad(p.h, p.dh, p.dhr); ex.dw1(p.x, p.dhr, p.gw1); ex.db1(p.dhr, p.gb1);
    ex[`sgd${I * H}`](p.w1, p.gw1, p.w1); ex[`sgd${H}`](p.b1, p.gb1, p.b1);
    ex[`sgd${H * O}`](p.w2, p.gw2, p.w2); ex[`sgd${O}`](p.b2, p.gb2, p.b2);
  };
  const wasmStep = time(step, 21);
  const mse = gradc.compile(`input x: [64, 784]\ninput y: [64, 10]\nparam w1: [784, 128]\nparam b1: [128]\nparam w2: [128, 10]\nparam b2: [10]\nh = relu(x @ w1 + b1)\nlogits = h @ w2 + b2\nminimize mse(logits, y) with sgd(lr = 0.1)\n`, { seed: 1 });
  const jsStep = time(() => mse.step({ x, y }), 21);
  console.log(`W2-mse step, kernels composed by hand in wasm: ${wasmStep.median.toFixed(3)} ms (fastest ${wasmStep.min.toFixed(3)})`);
  console.log(`W2-mse step, JS target:                        ${jsStep.median.toFixed(3)} ms (fastest ${jsStep.min.toFixed(3)}), ${(jsStep.median / wasmStep.median).toFixed(1)}x the wasm time`);
}
