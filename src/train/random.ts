// Seeded randomness for training loops: a small PRNG (mulberry32) and Fisher-Yates
// shuffles driven by it. Same seed, same sequence, on every run and every platform, so
// shuffled mini-batches (and therefore trained weights) are reproducible.

/** A PRNG returning floats in [0, 1), deterministic in `seed` (any 32-bit integer). */
export function createRandom(seed: number): () => number {
  let s = (seed >>> 0) ^ 0x85ebca6b;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Shuffles `items` in place (Fisher-Yates) and returns it. */
export function shuffleInPlace<T extends { length: number; [i: number]: number }>(items: T, random: () => number): T {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  }
  return items;
}

/** 0 .. n-1 in an order fixed by `seed`. */
export function permutation(n: number, seed: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return shuffleInPlace(order, createRandom(seed));
}
