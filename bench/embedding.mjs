// Forward and step times of the embedding model (examples/embedding) with take vs
// one_hot(ids, V) @ E, over vocabulary sizes. A timing script, not a test:
// node bench/embedding.mjs (after npm run build).

import { readFileSync } from "node:fs";
import { compile } from "../dist/index.js";

const base = readFileSync(new URL("../examples/embedding/embedding.grad", import.meta.url), "utf8");
const B = 64;

function timeStep(source, V, call = "step") {
  const m = compile(source.replaceAll("10000", String(V)));
  const ids = Float32Array.from({ length: B }, (_, i) => (i * 7919) % V);
  const target = new Float32Array(B * 10).map((_, i) => (i % 10 === 0 ? 1 : 0));
  const values = { ids, target };
  for (let i = 0; i < 20; i++) m[call](values); // warm up
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < 1000) { m[call](values); n++; }
  return (performance.now() - start) / n;
}

// forward: the 64 gathered rows only. step: under sgd, the table is updated row by row at
// the ids (src/codegen/sparse-update.ts), so neither depends on V; one_hot @ E multiplies
// a [64, V] matrix forward and backward.
const oneHotSource = base.replace("take(E, ids) @ W", "(one_hot(ids, 10000) @ E) @ W");
console.log("V        take: forward   step (ms)    one_hot @ E: forward   step (ms)");
for (const V of [1000, 10000, 100000]) {
  const row = [timeStep(base, V, "forward"), timeStep(base, V)];
  if (V <= 10000) row.push(timeStep(oneHotSource, V, "forward"), timeStep(oneHotSource, V));
  console.log(`${String(V).padEnd(8)} ${row.map((t) => t.toFixed(3).padStart(12)).join(" ")}`);
}
