// The wasm target with a free batch against the same model with its batch bound by `sizes`
// and against the JS target (free batch): W2 (MLP 784-128-10, batch 64), W4 (the CNN,
// batch 16), W6 (the GRU language model, batch 32: a scan whose cell has the free size)
// and W7 (the transformer block, batch 16), checked for the same loss first, then their `step`s timed interleaved (medians
// of wall and CPU time). First the matmul kernels alone at W2's shapes, each with the
// batch (or every size) an argument against the one with every size baked in (src/ via
// esbuild). `node bench/wasm-free.mjs [rounds]` after `npx tsup`.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import { relError } from "./lib/data.mjs";
import { gradc, modelSource } from "./lib/gradc.mjs";
import { measure, ownLoop } from "./lib/harness.mjs";
import { oneHot, uniform } from "./lib/data.mjs";

const withBatchDim = (source, batch) => `dim n\n${source.replaceAll(`[${batch}, `, "[n, ")}`;
// W6 is [time, batch]: its batch is the second axis (and the initial state's first)
const w6WithBatchDim = (source) => `dim n\n${source.replaceAll("[32, 32]", "[32, n]").replaceAll("[32, 32, 64]", "[32, n, 64]").replace("zeros([32, 128])", "zeros([n, 128])")}`;
const rounds = Number(process.argv[2] ?? 11);

const workloads = [
  { name: "W2 MLP step", model: "w2-mlp", batch: 64, values: () => ({ x: uniform(64 * 784, 0, 1, 21), y: oneHot(64, 10, 22) }) },
  { name: "W4 CNN step", model: "w4-cnn", batch: 16, values: () => ({ x: uniform(16 * 784, 0, 1, 31), y: oneHot(16, 10, 32) }) },
  {
    name: "W6 GRU step (scan, its cell over the batch)", model: "w6-gru", batch: 32, source: w6WithBatchDim,
    values: () => ({ ids: Float32Array.from({ length: 32 * 32 }, (_, i) => (i * 7 + (i >> 5)) % 64), target: oneHot(32 * 32, 64, 41) }),
  },
  {
    // its batch is a free dim as written; attention's batched products run scalar either way
    name: "W7 transformer block step", model: "w7-attention", batch: 16, dim: "b", source: (text) => text,
    values: () => ({ ids: Float32Array.from({ length: 16 * 64 }, (_, i) => (i * 7) % 96), target: oneHot(16 * 64, 96, 3) }),
  },
];

// The kernels alone: interleaved rounds of 50 calls each, medians of CPU time per call.
const root = fileURLToPath(new URL("../", import.meta.url));
const bundle = await build({
  stdin: { contents: 'export * from "./src/codegen/wasm/encode.ts"; export * from "./src/codegen/wasm/matmul.ts";', resolveDir: root, loader: "ts" },
  bundle: true, format: "esm", write: false, platform: "node",
});
const { ModuleBuilder, addMatmul } = await import(`data:text/javascript;base64,${Buffer.from(bundle.outputFiles[0].text).toString("base64")}`);

/** A call of the kernel of `shape` at the sizes `at` (its free ones passed). */
function kernel(shape, at) {
  const { m, k, n } = at;
  const mod = new ModuleBuilder().setMemory(Math.ceil(((m * k + 2 * k * n + m * n + n) * 4) / 65536) + 1, undefined, "memory");
  addMatmul(mod, shape, "matmul");
  const ex = new WebAssembly.Instance(new WebAssembly.Module(mod.encode())).exports;
  const f32 = new Float32Array(ex.memory.buffer);
  for (let i = 0; i < f32.length; i++) f32[i] = ((i * 7919) % 1000) / 1000 - 0.5;
  const a = 0, b = m * k * 4, c = b + k * n * 4, scratch = c + m * n * 4;
  const args = [a, b, c, ...(shape.bTransposed ? [scratch] : []), ...["m", "k", "n"].filter((d) => shape[d] === "free").map((d) => at[d])];
  return () => ex.matmul(...args);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const kernels = [
  ["W2 forward x @ w1 [64,784]@[784,128], batch (m) free", { m: 64, k: 784, n: 128 }, ["m"]],
  ["W2 weight gradient x^T @ dh, batch (k) free", { m: 784, k: 64, n: 128, aStride: [1, 784] }, ["k"]],
  ["W2 input gradient dy @ w2^T, batch (m) free", { m: 64, k: 10, n: 128, bTransposed: true }, ["m"]],
  ["[61,300]@[300,37], every size free", { m: 61, k: 300, n: 37 }, ["m", "k", "n"]],
];
console.log("matmul kernels alone (CPU µs per call, medians of 31 interleaved rounds)");
console.log("| product | sizes known | sizes free | free / known |");
console.log("|---|---|---|---|");
for (const [label, shape, free] of kernels) {
  const calls = [kernel(shape, shape), kernel({ ...shape, ...Object.fromEntries(free.map((d) => [d, "free"])) }, shape)];
  // warm up: V8 compiles a new module's optimised tier in the background
  const until = performance.now() + 400;
  while (performance.now() < until) for (const call of calls) call();
  const samples = calls.map(() => []);
  for (let r = 0; r < 31; r++) {
    calls.forEach((call, j) => {
      const c0 = process.cpuUsage();
      for (let i = 0; i < 50; i++) call();
      const c = process.cpuUsage(c0);
      samples[j].push((c.user + c.system) / 50);
    });
  }
  const [known, freeTime] = samples.map(median);
  const gflops = (us) => (2 * shape.m * shape.k * shape.n) / us / 1e3;
  console.log(`| ${label} | ${known.toFixed(1)} (${gflops(known).toFixed(1)} GFLOP/s) | ${freeTime.toFixed(1)} (${gflops(freeTime).toFixed(1)} GFLOP/s) | ${(freeTime / known).toFixed(2)} |`);
}

for (const w of workloads) {
  const source = (w.source ?? ((text) => withBatchDim(text, w.batch)))(modelSource(w.model));
  const compile = (options) => gradc.compile(source, { filename: `${w.model}.grad`, seed: 1, ...options });
  const models = {
    "wasm, free batch": compile({ target: "wasm" }),
    "wasm, bound batch": compile({ target: "wasm", sizes: { [w.dim ?? "n"]: w.batch } }),
    "js, free batch": compile({}),
  };
  const values = w.values();
  const losses = Object.values(models).map((m) => m.valueAndGrad(values).value);
  for (const l of losses) if (!(relError([l], [losses[2]]) < 1e-4)) throw new Error(`${w.name}: losses differ: ${losses}`);
  const measured = await measure(Object.entries(models).map(([name, m]) => ({ name, loop: ownLoop(m.step, values, `${w.model}_${name}`) })), { rounds, sampleMs: 150, warmMs: 400 });
  const bound = measured[1];
  console.log(`\n${w.name}, batch ${w.batch} (${rounds} interleaved rounds, medians)`);
  console.log("| | wall ms | CPU ms | / bound (CPU) |");
  console.log("|---|---|---|---|");
  for (const r of measured) {
    console.log(`| ${r.name} | ${(r.median * 1e3).toFixed(3)} | ${(r.cpuMedian * 1e3).toFixed(3)} | ${(r.median / bound.median).toFixed(2)} (${(r.cpuMedian / bound.cpuMedian).toFixed(2)}) |`);
  }
}
