// Seeded data for the workloads, and comparison helpers for the pre-timing checks.

/** mulberry32: a small seeded PRNG. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function uniform(n, lo, hi, seed) {
  const r = rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

/** n one-hot rows of k classes. */
export function oneHot(n, k, seed) {
  const r = rng(seed);
  const a = new Float32Array(n * k);
  for (let i = 0; i < n; i++) a[i * k + Math.floor(r() * k)] = 1;
  return a;
}

/** max |got - want| relative to max |want|. */
export function relError(got, want) {
  if (got.length !== want.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    diff = d > diff || d !== d ? d : diff;
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return diff / Math.max(scale, 1e-30);
}

/** The gradient an SGD step applied: (before - after) / lr, per param. */
export function appliedGradient(before, after, lr) {
  const g = {};
  for (const k of Object.keys(before)) g[k] = Float64Array.from(before[k], (v, i) => (v - after[k][i]) / lr);
  return g;
}

export function copyRecord(r) {
  const c = {};
  for (const k of Object.keys(r)) c[k] = Float32Array.from(r[k]);
  return c;
}

/** Builds one implementation; a construction error (a missing op or package) becomes
 *  `{ fails: reason }`, which the run reports in that row instead of timing it. */
export function attempt(make) {
  try {
    return make();
  } catch (e) {
    return { fails: String(e?.message ?? e).split("\n")[0] };
  }
}

/**
 * The largest error of an SGD step's applied gradient, (before - after) / lr, against the
 * wanted gradient, relative to each param's largest gradient element, after allowing for
 * the f32 rounding of the stored weights (one ulp of `after` per element, divided by lr):
 * below that the applied step cannot show a difference. Errors of a wrong gradient are
 * orders of magnitude above it.
 */
export function appliedGradError(before, after, lr, want) {
  let worst = 0;
  for (const k of Object.keys(want)) {
    const w = want[k], b = before[k], a = after[k];
    if (!a || a.length !== w.length) return Infinity;
    let scale = 0;
    for (let i = 0; i < w.length; i++) scale = Math.max(scale, Math.abs(w[i]));
    let err = 0;
    for (let i = 0; i < w.length; i++) {
      const g = (b[i] - a[i]) / lr;
      const ulp = Math.abs(a[i]) * 2 ** -23 + 2 ** -149;
      const d = Math.max(0, Math.abs(g - w[i]) - ulp / lr);
      err = d > err || d !== d ? d : err;
    }
    worst = Math.max(worst, err / Math.max(scale, 1e-30));
  }
  return worst;
}
