// Zero allocation, measured: run by run.mjs as a child process with --expose-gc, so only
// these loops run in it. Each loop is warmed up first (the measuring function itself
// included, so its own optimisation is not counted), the heap is collected, and then a
// PerformanceObserver counts `gc` entries over the steady-state loop (with the heap's growth
// over the loop when nothing was collected). TF.js runs last, as a loop known to allocate:
// it shows the counting works. Prints JSON.
import { PerformanceObserver } from "node:perf_hooks";
import { copyRecord } from "./lib/data.mjs";
import { compileModel } from "./lib/gradc.mjs";
import { fusedXor } from "./hand/w1-xor.mjs";
import { w2Data } from "./w2-mlp.mjs";

if (typeof globalThis.gc !== "function") throw new Error("run with node --expose-gc");

async function countGc(measure, steps, attempts = 3) {
  measure(Math.min(steps, 50));
  measure(steps);
  const counts = [];
  const heap = [];
  for (let a = 0; a < attempts; a++) {
    globalThis.gc();
    globalThis.gc();
    let gcs = 0;
    const obs = new PerformanceObserver((list) => { gcs += list.getEntries().length; });
    obs.observe({ entryTypes: ["gc"] });
    const before = process.memoryUsage().heapUsed;
    measure(steps);
    const after = process.memoryUsage().heapUsed;
    // gc entries are delivered asynchronously (native immediates, then the observer's
    // callback): let several turns of the event loop pass, then take whatever is buffered.
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 100));
    gcs += obs.takeRecords().length;
    obs.disconnect();
    heap.push(after - before);
    counts.push(gcs);
    if (gcs === 0) break; // one clean run shows the loop itself allocates nothing
  }
  // With no collection during the loop, the heap's growth is what the loop allocated.
  const best = counts.indexOf(Math.min(...counts));
  return { steps, gcEvents: counts[best], attempts: counts, heapGrowthBytes: counts[best] === 0 ? heap[best] : null };
}

// Each measured loop has its own function text, as in the timing harness.
const loopOf = (fn, values) => new Function("fn", "values", "return function (n) { let s = 0; for (let i = 0; i < n; i++) s += fn(values); return s; };")(fn, values);

const results = {};
const xor = { x: Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]), y: Float32Array.from([0, 1, 1, 0]) };

const w1 = compileModel("w1-xor");
results["gradc W1 step"] = await countGc(loopOf(w1.step, xor), 100_000);
const w2 = compileModel("w2-mlp");
const d2 = w2Data();
results["gradc W2 step"] = await countGc(loopOf(w2.step, { x: d2.x, y: d2.y }), 200);
const fused = fusedXor(copyRecord(w1.params), 1.0);
results["hand-written W1 step"] = await countGc(loopOf(fused.step, xor), 100_000);

if (!process.argv.includes("--no-tf")) {
  const { loadTf } = await import("./tf/load.mjs");
  const { tfXor } = await import("./tf/w1-xor.mjs");
  const tf = await loadTf();
  await tf.use("cpu");
  const t = tfXor(tf.tf, copyRecord(w1.params), xor, 1.0);
  results["TF.js cpu W1 step"] = await countGc(loopOf(t.step, undefined), 5_000, 1);
}

console.log(JSON.stringify(results));
