// scan's cost against T, for a GRU cell (hidden 32, batch 8, input 16): emitted bytes,
// compile time and step time per token at T = 8, 64 and 512 with T bound. Not a test:
// `npx tsx bench/scan-gru.mjs` prints a table.

import { compileToSource, compile } from "../src/index.ts";

const source = `dim t
input xs: [t, 8, 16]
input h0: [8, 32]
param wz: [16, 32] = glorot_uniform
param uz: [32, 32] = glorot_uniform
param wn: [16, 32] = glorot_uniform
param un: [32, 32] = glorot_uniform
fn gru(h, x) {
  z = sigmoid(x @ wz + h @ uz)
  n = tanh(x @ wn + (z * h) @ un)
  (1 - z) * n + z * h
}
hs = scan(gru, h0, xs)
output hs
minimize mean(hs * hs) with adam(lr = 0.001)`;

console.log("T\temitted bytes\tcompile ms\tstep µs/token");
for (const t of [8, 64, 512]) {
  const start = performance.now();
  const { text } = compileToSource(source, { sizes: { t } });
  const compileMs = performance.now() - start;
  const model = compile(source, { sizes: { t } });
  const xs = Float32Array.from({ length: t * 8 * 16 }, (_, i) => Math.sin(i * 0.37));
  const h0 = new Float32Array(8 * 32);
  for (let i = 0; i < 3; i++) model.step({ xs, h0 });
  const runs = Math.max(3, Math.round(2000 / t));
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) model.step({ xs, h0 });
  const perToken = ((performance.now() - t0) / runs / t) * 1000;
  console.log(`${t}\t${text.length}\t${compileMs.toFixed(0)}\t${perToken.toFixed(1)}`);
}
