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
