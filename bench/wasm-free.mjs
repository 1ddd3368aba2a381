// The wasm target with a free batch against the same model with its batch bound by `sizes`
// and against the JS target (free batch): W2 (MLP 784-128-10, batch 64), W4 (the CNN,
// batch 16), W6 (the GRU language model, batch 32: a scan whose cell has the free size)
// and W7 (the transformer block, batch 16), checked for the same loss first, then their `step`s timed interleaved (medians
// of wall and CPU time). `node bench/wasm-free.mjs [rounds]` after `npx tsup`.
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
