// Values to run models at. Random floats almost never tie, hit zero or an integer, so
// code that routes a max-pool gradient to the wrong one of two equal maxima, mishandles
// -0 or drops a size-1 axis passes on them. The adversarial mode draws from a small pool
// per tensor — exact ties, small integers, zeros of both signs, and (with `extremes`)
// huge and tiny magnitudes — always exactly representable in f32.
export type ValueMode = "random" | "adversarial";

export interface ValueOptions {
  lo?: number;
  hi?: number;
  /** Adversarial only: also 1e20-ish and 1e-20-ish magnitudes (f64 comparisons only:
   *  their squares overflow or underflow f32). */
  extremes?: boolean;
}

/** `length` values from `r`: uniform in [lo, hi), or adversarial. */
export function sampleValues(length: number, r: () => number, mode: ValueMode, options: ValueOptions = {}): number[] {
  const lo = options.lo ?? -1, hi = options.hi ?? 1;
  const uniform = () => Math.fround(lo + (hi - lo) * r());
  if (mode === "random") return Array.from({ length }, uniform);
  // A pool of a few values, so ties are frequent; within [lo, hi] where the pool allows.
  const pool = [0, -0, 1, -1, 2, 0.5, -0.5, 3, uniform(), uniform()].filter((v) => v >= lo && v <= hi);
  if (options.extremes) pool.push(Math.fround(1e20), Math.fround(-3e19), Math.fround(1e-20), Math.fround(-7e-21));
  if (pool.length < 3) pool.push(uniform(), uniform(), uniform());
  const chosen = Array.from({ length: 2 + Math.floor(r() * 4) }, () => pool[Math.floor(r() * pool.length)]!);
  return Array.from({ length }, () => chosen[Math.floor(r() * chosen.length)]!);
}
