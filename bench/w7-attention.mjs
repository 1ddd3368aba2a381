// W7: a transformer block's training step (bench/models/w7-attention.grad: batch 16, 64
// tokens, d 128 in 4 heads of 32, causal, layer norm, MLP x4, vocabulary 96), gradc (and
// its wasm target, the batch bound with `sizes`) vs a hand-written step
// (bench/hand/w7-attention.mjs), TensorFlow.js cpu and wasm and jax-js on the same
// weights, and gradc with the attention written in einsum instead of `@` and transpose
// (bound: within 1.3x of it). Loss and applied gradients are checked first; a row that
// disagrees is not timed.
import { appliedGradError, attempt, copyRecord, oneHot, rng } from "./lib/data.mjs";
import { compileModel, gradc, modelSource } from "./lib/gradc.mjs";
import { ownLoop } from "./lib/harness.mjs";
import { handAttention } from "./hand/w7-attention.mjs";
import { jaxAttention } from "./jax/w7-attention.mjs";
import { tfAttention } from "./tf/w7-attention.mjs";

const LR = 0.05;
const WASM = "TF.js wasm, embedding as oneHot @ E"; // no gather gradient on wasm
const JAX = "jax-js wasm, jit, embedding as oneHot @ E"; // take's gradient fails under its jit
export const w7Sizes = { b: 16, t: 64, d: 128, heads: 4, vocab: 96, hidden: 512 };

export function w7Data() {
  const { b, t, vocab } = w7Sizes;
  const r = rng(71);
  return { ids: Float32Array.from({ length: b * t }, () => Math.floor(r() * vocab)), target: oneHot(b * t, vocab, 72) };
}

/** The same model with both attention products written as einsum. */
export function einsumSource() {
  const text = modelSource("w7-attention");
  const scores = "s      = q @ transpose(k, [0, 1, 3, 2]) / sqrt(32)";
  const mixed = "merge(a @ v)";
  if (!text.includes(scores) || !text.includes(mixed)) throw new Error("w7-attention.grad changed: update einsumSource");
  return text.replace(scores, 's      = einsum("bhqd,bhkd->bhqk", q, k) / sqrt(32)').replace(mixed, 'merge(einsum("bhqk,bhkd->bhqd", a, v))');
}

export async function setupW7({ tf, jax }) {
  const data = w7Data();
  const values = { ids: data.ids, target: data.target };
  const model = compileModel("w7-attention");
  const init = copyRecord(model.params);
  // the same model on the wasm target (docs/wasm.md) with the batch bound by `sizes`, so
  // every size is known and its products run on the SIMD tiles; its own params, set to init
  const wasm = compileModel("w7-attention", { target: "wasm", sizes: { b: w7Sizes.b } });
  for (const [k, v] of Object.entries(init)) wasm.params[k].set(v);
  const ref = model.valueAndGrad(values);
  const want = { loss: ref.value, grads: Object.fromEntries(Object.entries(ref.grads).map(([k, g]) => [k, Float64Array.from(g)])) };
  const viaEinsum = gradc.compile(einsumSource(), { filename: "w7-attention-einsum.grad", seed: 1 });
  for (const [k, v] of Object.entries(init)) viaEinsum.params[k].set(v);

  const hand = handAttention(init, LR);
  await tf.use("cpu");
  const tfCpu = tfAttention(tf.tf, init, data, w7Sizes, LR);
  await tf.use("wasm");
  const tfWasm = tfAttention(tf.tf, init, data, w7Sizes, LR, "oneHot");
  const jx = attempt(() => jaxAttention(jax.jax, init, data, w7Sizes, LR));

  const checks = [];
  const check = (name, step, read) => {
    try {
      const loss = step();
      checks.push({ name, loss, lossErr: Math.abs(loss - want.loss) / Math.abs(want.loss), gradErr: appliedGradError(init, read(), LR, want.grads) });
    } catch (e) {
      checks.push({ name, fails: String(e?.message ?? e).split("\n")[0] });
    }
  };
  check("gradc, @ and transpose", () => model.step(values), () => model.params);
  check("gradc, einsum", () => viaEinsum.step(values), () => viaEinsum.params);
  check("gradc wasm target", () => wasm.step(values), () => wasm.params);
  check("hand-written", () => hand.step(values), () => hand.params);
  await tf.use("cpu");
  check("TF.js cpu", tfCpu.step, tfCpu.read);
  await tf.use("wasm");
  check(WASM, tfWasm.step, tfWasm.read);
  if (jx.fails) checks.push({ name: JAX, fails: jx.fails });
  else check(JAX, jx.step, jx.read);

  return {
    id: "W7",
    title: "transformer block step (batch 16, T 64, d 128, 4 heads, causal, layer norm, MLP x4, vocab 96)",
    unit: "ms",
    scale: 1e3,
    reference: "hand-written",
    notes: "jax-js's jit cannot compile take's gradient (a scatter), so its embedding is oneHot(ids) @ E, as on TF.js wasm (no gather gradient kernel)",
    // a step takes seconds on a loaded machine: warm-up by calls, fewer rounds
    timing: { minWarmCalls: 4, budgetSeconds: 240 },
    checks,
    impls: [
      { name: "gradc, @ and transpose", loop: ownLoop(model.step, values, "gradc_w7") },
      { name: "gradc, einsum", loop: ownLoop(viaEinsum.step, values, "gradc_einsum_w7") },
      { name: "gradc wasm target", loop: ownLoop(wasm.step, values, "gradc_wasm_w7") },
      { name: "hand-written", loop: ownLoop(hand.step, values, "hand_w7") },
      { name: "TF.js cpu", loop: ownLoop(tfCpu.step, undefined, "tfcpu_w7"), before: () => tf.use("cpu") },
      { name: WASM, loop: ownLoop(tfWasm.step, undefined, "tfwasm_w7"), before: () => tf.use("wasm") },
      { name: JAX, loop: ownLoop(jx.step, undefined, "jax_w7") },
    ],
  };
}
