// Fixed shapes against free dims: each model compiled twice, once with its batch a free
// dim (read from the inputs at each call) and once with it bound by `sizes` (every size
// known: loops get literal bounds, small ones unroll, small models become one function). A
// fixed-shape model must never be slower than its free-dim twin. Both are checked to give
// the same loss and gradients from the same params, then their `step`s are timed
// interleaved; the emitted code size of each is reported too. `node bench/fixed-shapes.mjs`
// prints the table alone; bench/run.mjs includes it (`--only=FS`).
import { readFileSync } from "node:fs";
import { relError } from "./lib/data.mjs";
import { gradc, modelPath } from "./lib/gradc.mjs";
import { measure, ownLoop } from "./lib/harness.mjs";

/** A model with a literal batch size made the free dim `n` (`[64, 784]` -> `[n, 784]`). */
const withBatchDim = (source, batch) => `dim n\n${source.replaceAll(`[${batch}, `, "[n, ")}`;

/** The pairs: a model source with one free dim, and the size it is bound to and called at. */
export function fixedShapeModels() {
  const read = (name) => readFileSync(modelPath(name), "utf8");
  return [
    { name: "XOR seed (W1)", source: withBatchDim(read("w1-xor"), 4), dim: "n", size: 4 },
    { name: "GRU unrolled over 5 steps", source: read("gru5"), dim: "b", size: 4 },
    { name: "GRU unrolled over 5 steps", source: read("gru5"), dim: "b", size: 16 },
    { name: "char-RNN over 5 characters", source: read("char-rnn"), dim: "b", size: 8 },
    { name: "MLP 784-128-10 (W2)", source: withBatchDim(read("w2-mlp"), 64), dim: "n", size: 64 },
  ];
}

/** Inputs of a compiled model at the given dims: small integers (valid ids), seeded waves elsewhere. */
function inputValues(meta, dims) {
  const values = {};
  for (const input of meta.inputs) {
    const length = input.shape.reduce((n, d) => n * (typeof d === "number" ? d : dims[d]), 1);
    values[input.name] = Float32Array.from({ length }, (_, k) => (k * 7) % 3);
  }
  return values;
}

function largestGradError(a, b) {
  return Math.max(...Object.keys(a.grads).map((k) => relError(a.grads[k], b.grads[k])));
}

export async function runFixedShapes(timing) {
  const rows = [];
  for (const m of fixedShapeModels()) {
    const dims = { [m.dim]: m.size };
    const free = gradc.compile(m.source, { filename: "free.grad", seed: 1 });
    const fixed = gradc.compile(m.source, { filename: "fixed.grad", seed: 1, sizes: dims });
    const values = inputValues(free.meta, dims);
    // Same params (same seed and shapes), so the same loss and gradients.
    const a = free.valueAndGrad(values), b = fixed.valueAndGrad(values);
    const lossErr = Math.abs(a.value - b.value) / Math.max(1e-30, Math.abs(a.value));
    const gradErr = largestGradError(a, b);
    if (!(lossErr < 1e-5 && gradErr < 1e-4)) throw new Error(`${m.name}: fixed and free differ (loss ${lossErr}, gradient ${gradErr})`);
    const label = `${m.name.replace(/\W+/g, "_")}_${m.size}`;
    const measured = await measure([
      { name: "fixed", loop: ownLoop(fixed.step, values, `fixed_${label}`) },
      { name: "free", loop: ownLoop(free.step, values, `free_${label}`) },
    ], timing);
    const [f, g] = measured;
    rows.push({
      model: m.name, dim: m.dim, size: m.size,
      fixedBytes: fixed.source.length, freeBytes: free.source.length,
      fixedMedian: f.median * 1e6, freeMedian: g.median * 1e6,
      fixedCpuMedian: f.cpuMedian * 1e6, freeCpuMedian: g.cpuMedian * 1e6,
      ratio: f.median / g.median, cpuRatio: f.cpuMedian / g.cpuMedian,
    });
  }
  return { title: "fixed shapes vs free dims, step", unit: "µs", rows };
}

/** The table rows (markdown) of a run's results. */
export function fixedShapesMarkdown(w, sig) {
  const lines = ["| model | bound size | fixed: step, code | free dim: step, code | fixed / free (CPU time) |", "|---|---|---|---|---|"];
  for (const r of w.rows) {
    lines.push(`| ${r.model} | ${r.dim} = ${r.size} | ${sig(r.fixedMedian)} µs, ${sig(r.fixedBytes / 1024)} KB | ${sig(r.freeMedian)} µs, ${sig(r.freeBytes / 1024)} KB | ×${sig(r.ratio)} (×${sig(r.cpuRatio)}) |`);
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sig = (v) => (v >= 1000 ? v.toFixed(0) : v.toPrecision(3));
  const w = await runFixedShapes({ rounds: 11, sampleMs: 40, warmMs: 400 });
  console.log(fixedShapesMarkdown(w, sig).join("\n"));
}
