// W6: a GRU language model's training step (bench/models/w6-gru.grad: vocabulary 64,
// hidden 128, 32 steps, batch 32; the recurrence written with scan), gradc (JS and wasm
// targets) vs a hand-written reference (forward, backward through time, SGD;
// bench/hand/w6-gru.mjs) vs TensorFlow.js cpu and wasm and jax-js, all from the same
// weights. Loss and applied gradients are checked first; a row that disagrees is not timed.
import { appliedGradError, attempt, copyRecord, rng } from "./lib/data.mjs";
import { compileModel } from "./lib/gradc.mjs";
import { ownLoop } from "./lib/harness.mjs";
import { handGru } from "./hand/w6-gru.mjs";
import { jaxGru } from "./jax/w6-gru.mjs";
import { tfGru } from "./tf/w6-gru.mjs";

const LR = 1.0; // the model's sgd(lr = 1.0)
export const w6Sizes = { T: 32, B: 32, H: 128, V: 64 };
const TF_WASM = "TF.js wasm, embedding as oneHot @ E"; // no gather gradient on wasm

/** 32 random token streams of 33 tokens: ids[t, b] is token t of stream b, target its successor. */
export function w6Data() {
  const { T, B, V } = w6Sizes;
  const r = rng(61);
  const streams = Array.from({ length: B }, () => Array.from({ length: T + 1 }, () => Math.floor(r() * V)));
  const ids = new Float32Array(T * B);
  const target = new Float32Array(T * B * V);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      ids[t * B + b] = streams[b][t];
      target[(t * B + b) * V + streams[b][t + 1]] = 1;
    }
  }
  return { ids, target };
}

export async function setupW6({ tf, jax }) {
  const data = w6Data();
  const values = { ids: data.ids, target: data.target };
  const model = compileModel("w6-gru");
  // the same model on the wasm target (docs/wasm.md), its own params in its memory: every
  // size is known (the scan's cell included), so its products run on the SIMD tiles
  const wasm = compileModel("w6-gru", { target: "wasm" });
  const init = copyRecord(model.params);
  for (const [k, v] of Object.entries(init)) wasm.params[k].set(v);
  const ref = model.valueAndGrad(values);
  const want = { loss: ref.value, grads: Object.fromEntries(Object.entries(ref.grads).map(([k, g]) => [k, Float64Array.from(g)])) };

  const hand = handGru(init, LR);
  await tf.use("cpu");
  const tfCpu = attempt(() => tfGru(tf.tf, init, data, w6Sizes, LR));
  await tf.use("wasm");
  const tfWasm = attempt(() => tfGru(tf.tf, init, data, w6Sizes, LR, "oneHot"));
  const jx = attempt(() => jaxGru(jax.jax, init, data, w6Sizes, LR));

  const checks = [];
  const check = (name, impl) => {
    if (impl.fails) return checks.push({ name, fails: impl.fails });
    try {
      const loss = impl.step();
      checks.push({ name, loss, lossErr: Math.abs(loss - want.loss) / Math.abs(want.loss), gradErr: appliedGradError(init, impl.read(), LR, want.grads) });
    } catch (e) {
      checks.push({ name, fails: String(e?.message ?? e).split("\n")[0] });
    }
  };
  check("gradc, scan", { step: () => model.step(values), read: () => model.params });
  check("gradc wasm target", { step: () => wasm.step(values), read: () => wasm.params });
  check("hand-written", { step: () => hand.step(values), read: () => hand.params });
  await tf.use("cpu");
  check("TF.js cpu", tfCpu);
  await tf.use("wasm");
  check(TF_WASM, tfWasm);
  check("jax-js wasm, jit (loop unrolled: no scan)", jx);

  return {
    id: "W6",
    title: "GRU language model step (vocab 64, hidden 128, T 32, batch 32)",
    unit: "ms",
    scale: 1e3,
    reference: "hand-written",
    notes: "TF.js and jax-js 0.1.25 have no differentiable scan, so their 32 steps are a loop in the traced loss (unrolled); all rows but gradc's compute the input projections of all steps as one product before the loop",
    // a step takes long: warm up by calls (gradc's first steps are several times slower
    // while V8 optimises them), and fewer rounds so the workload fits its budget
    timing: { minWarmCalls: 4, budgetSeconds: 240 },
    checks,
    impls: [
      { name: "gradc, scan", loop: ownLoop(model.step, values, "gradc_w6") },
      { name: "gradc wasm target", loop: ownLoop(wasm.step, values, "gradc_wasm_w6") },
      { name: "hand-written", loop: ownLoop(hand.step, values, "hand_w6") },
      { name: "TF.js cpu", loop: ownLoop(tfCpu.step, undefined, "tfcpu_w6"), before: () => tf.use("cpu") },
      { name: TF_WASM, loop: ownLoop(tfWasm.step, undefined, "tfwasm_w6"), before: () => tf.use("wasm") },
      { name: "jax-js wasm, jit (loop unrolled: no scan)", loop: ownLoop(jx.step, undefined, "jax_w6") },
    ],
  };
}
