// The timing harness: implementations of one workload are measured interleaved in one
// process — every round takes one sample of each, in an order shuffled per round, so
// drift and noise from other processes and from each other spread over all of them —
// and reported as medians with min–max.
// Each implementation brings its own loop function made with `new Function` (see
// `ownLoop`), so no call site in the harness is shared between implementations.
import { gradc } from "./gradc.mjs";

/** A loop of `n` calls to `fn(arg)` with its own function text: V8 gives it its own
 *  feedback, so `fn` stays a monomorphic (inlinable) call. Returns the sum of results. */
export function ownLoop(fn, arg, label) {
  const make = new Function("fn", "arg", `
    return function loop_${label.replace(/\W/g, "_")}(n) {
      let s = 0;
      for (let i = 0; i < n; i++) s += fn(arg);
      return s;
    };`);
  return make(fn, arg);
}

/** The order of round `r`: a permutation of `items` drawn from a generator seeded by r
 *  (a fixed rotation would keep every implementation behind the same one, and one that
 *  allocates heavily, math.js or TF.js, leaves garbage-collector threads running into the
 *  next one's sample and its CPU time). Deterministic: a run repeats its orders. */
function roundOrder(items, r) {
  return gradc.shuffleInPlace([...items], gradc.createRandom(r + 1));
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

let sink = 0;
/** Keeps results observable so no loop is dead code; printed once at the end. */
export function sinkValue() {
  return sink;
}

/**
 * impls: [{ name, loop(n) -> number, before?() -> Promise (e.g. switch TF backend),
 *           units?: how many reported units one call covers (points for W3) }]
 * Returns per impl { name, samples (wall seconds per unit), median, min, max, cpuMedian }.
 * The CPU-time median (process user+system time over the same samples) is kept beside
 * the wall-clock one: on a loaded machine it leaves out the time the process was not
 * running, so it is the steadier of the two; wall-clock medians are the headline.
 */
export async function measure(impls, { rounds, sampleMs, warmMs, minWarmCalls = 3, budgetSeconds = Infinity }) {
  const state = [];
  for (const impl of impls) {
    if (impl.before) await impl.before();
    // Warm up: run growing batches until warmMs have passed and at least minWarmCalls
    // calls were made, so the loop itself is optimised; the last batch sizes the samples.
    let calls = 0;
    let n = 1;
    let perCall = Infinity;
    const t0 = performance.now();
    while (performance.now() - t0 < warmMs || calls < minWarmCalls) {
      const b0 = performance.now();
      sink += impl.loop(n);
      const batchMs = performance.now() - b0;
      perCall = batchMs / n;
      calls += n;
      if (batchMs < warmMs / 8) n *= 2;
    }
    state.push({ impl, perCall, n: Math.max(1, Math.round(sampleMs / Math.max(perCall, 1e-6))), samples: [], cpuSamples: [] });
  }
  // A workload whose calls are slow (seconds each) keeps to its budget: fewer rounds, but
  // at least 3 so a median exists; the number used is returned with the samples.
  const roundMs = state.reduce((sum, s) => sum + s.n * s.perCall, 0);
  const used = Math.max(3, Math.min(rounds, Math.floor((budgetSeconds * 1000) / roundMs)));
  for (let r = 0; r < used; r++) {
    for (const s of roundOrder(state, r)) {
      if (s.impl.before) await s.impl.before();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      sink += s.impl.loop(s.n);
      const ms = performance.now() - t0;
      const c1 = process.cpuUsage(c0);
      const per = s.n * (s.impl.units ?? 1);
      s.samples.push(ms / 1000 / per);
      s.cpuSamples.push((c1.user + c1.system) / 1e6 / per);
    }
  }
  return state.map((s) => ({
    name: s.impl.name,
    rounds: used,
    callsPerSample: s.n,
    samples: s.samples,
    median: median(s.samples),
    min: Math.min(...s.samples),
    max: Math.max(...s.samples),
    cpuMedian: median(s.cpuSamples),
  }));
}
