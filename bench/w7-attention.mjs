// W7: a transformer block's training step (bench/models/w7-attention.grad: batch 8, 32
// tokens, 4 heads of 16, MLP 256, vocabulary 96), gradc vs TensorFlow.js cpu and wasm on
// the same weights, and gradc with the attention written in einsum instead of `@` and
// transpose (the bound: within 1.3x). Loss and applied gradients are checked first.
import { appliedGradient, copyRecord, oneHot, relError, rng } from "./lib/data.mjs";
import { compileModel, gradc, modelSource } from "./lib/gradc.mjs";
import { ownLoop } from "./lib/harness.mjs";
import { tfAttention } from "./tf/w7-attention.mjs";

const LR = 0.05;
const WASM = "TF.js wasm, embedding as oneHot @ E"; // no gather gradient on wasm
export const w7Sizes = { b: 8, t: 32, d: 64, heads: 4, vocab: 96, hidden: 256 };

export function w7Data() {
  const { b, t, vocab } = w7Sizes;
  const r = rng(71);
  return { ids: Float32Array.from({ length: b * t }, () => Math.floor(r() * vocab)), target: oneHot(b * t, vocab, 72) };
}

/** The same model with both attention products written as einsum. */
export function einsumSource() {
  const text = modelSource("w7-attention");
  const scores = "s      = q @ transpose(k, [0, 1, 3, 2]) / 4";
  const mixed = "merge(a @ v)";
  if (!text.includes(scores) || !text.includes(mixed)) throw new Error("w7-attention.grad changed: update einsumSource");
  return text.replace(scores, 's      = einsum("bhqd,bhkd->bhqk", q, k) / 4').replace(mixed, 'merge(einsum("bhqk,bhkd->bhqd", a, v))');
}

export async function setupW7({ tf }) {
  const data = w7Data();
  const values = { ids: data.ids, target: data.target };
  const model = compileModel("w7-attention");
  const init = copyRecord(model.params);
  const ref = model.valueAndGrad(values);
  const want = { loss: ref.value, grads: Object.fromEntries(Object.entries(ref.grads).map(([k, g]) => [k, Float64Array.from(g)])) };
  const viaEinsum = gradc.compile(einsumSource(), { filename: "w7-attention-einsum.grad", seed: 1 });
  for (const [k, v] of Object.entries(init)) viaEinsum.params[k].set(v);

  await tf.use("cpu");
  const tfCpu = tfAttention(tf.tf, init, data, w7Sizes, LR);
  await tf.use("wasm");
  const tfWasm = tfAttention(tf.tf, init, data, w7Sizes, LR, "oneHot");

  const checks = [];
  const check = (name, step, read) => {
    const loss = step();
    const g = appliedGradient(init, read(), LR);
    const gradErr = Math.max(...Object.keys(want.grads).map((k) => relError(g[k], want.grads[k])));
    checks.push({ name, loss, lossErr: Math.abs(loss - want.loss) / Math.abs(want.loss), gradErr });
  };
  check("gradc, @ and transpose", () => model.step(values), () => model.params);
  check("gradc, einsum", () => viaEinsum.step(values), () => viaEinsum.params);
  await tf.use("cpu");
  check("TF.js cpu", tfCpu.step, tfCpu.read);
  await tf.use("wasm");
  check(WASM, tfWasm.step, tfWasm.read);

  return {
    id: "W7",
    title: "transformer block step (b 8, t 32, 4 heads of 16, MLP 256, vocab 96)",
    unit: "ms",
    scale: 1e3,
    reference: "gradc, @ and transpose",
    notes: "the reference is gradc itself: the einsum row's ratio is einsum / (@ and transpose), the TF.js rows' TF.js / gradc",
    checks,
    impls: [
      { name: "gradc, @ and transpose", loop: ownLoop(model.step, values, "gradc_w7") },
      { name: "gradc, einsum", loop: ownLoop(viaEinsum.step, values, "gradc_einsum_w7") },
      { name: "TF.js cpu", loop: ownLoop(tfCpu.step, undefined, "tfcpu_w7"), before: () => tf.use("cpu") },
      { name: WASM, loop: ownLoop(tfWasm.step, undefined, "tfwasm_w7"), before: () => tf.use("wasm") },
    ],
  };
}
