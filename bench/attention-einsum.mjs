// Step time of multi-head attention scores and weighted sum written with einsum vs with
// `@` and transpose, at [b, h, t, d] = [8, 4, 32, 16]: einsum lowers to the same batched
// matmuls, so the two should time alike. A timing script, not a test:
// node bench/attention-einsum.mjs (after npm run build).

import { compile } from "../dist/index.js";

const head = `
input x: [8, 4, 32, 16]
param wq: [16, 16] = glorot_uniform
param wk: [16, 16] = glorot_uniform
param wv: [16, 16] = glorot_uniform
q = x @ wq
k = x @ wk
v = x @ wv
`;
const tail = `
p = softmax(s / 4)
loss = mean(o * o)
minimize loss with sgd(lr = 0.01)
`;
const variants = {
  einsum: `s = einsum("bhqd,bhkd->bhqk", q, k)\no = einsum("bhqk,bhkd->bhqd", p, v)`,
  "@ and transpose": `s = q @ transpose(k, [0, 1, 3, 2])\no = p @ v`,
};

function stepTimes(source, runs) {
  const m = compile(source);
  const x = Float32Array.from({ length: 8 * 4 * 32 * 16 }, (_, i) => Math.sin(i * 0.37));
  const values = { x };
  for (let i = 0; i < 50; i++) m.step(values); // warm up
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    m.step(values);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

const runs = Number(process.argv[2] ?? 400);
const medians = {};
// Interleaved rounds, so drift on a shared machine hits both variants alike.
for (let round = 0; round < 5; round++) {
  for (const [name, body] of Object.entries(variants)) {
    const [scores, weighted] = body.split("\n");
    const t = stepTimes(`${head}${scores}\n${tail.replace("loss =", `${weighted}\nloss =`)}`, runs);
    (medians[name] ??= []).push(t);
  }
}
for (const [name, ts] of Object.entries(medians)) {
  console.log(`${name.padEnd(16)} step median ${Math.min(...ts).toFixed(3)} ms (rounds: ${ts.map((t) => t.toFixed(3)).join(", ")})`);
}
const [a, b] = Object.values(medians).map((ts) => Math.min(...ts));
console.log(`einsum / (@ and transpose) = ${(a / b).toFixed(3)}`);
