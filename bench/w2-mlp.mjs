// W2: MLP 784-128-10 training step, gradc vs hand-written (2x4 register tiles; plain
// i-k-j) vs TensorFlow.js.
import { appliedGradient, attempt, copyRecord, oneHot, relError, uniform } from "./lib/data.mjs";
import { compileModel } from "./lib/gradc.mjs";
import { ownLoop } from "./lib/harness.mjs";
import { plainMlp, tiledMlp } from "./hand/w2-mlp.mjs";
import { jaxMlp } from "./jax/w2-mlp.mjs";
import { tfMlp } from "./tf/w2-mlp.mjs";

const LR = 0.1;

export function w2Data() {
  return { x: uniform(64 * 784, 0, 1, 21), y: oneHot(64, 10, 22) };
}

export async function setupW2({ tf, jax }) {
  const data = w2Data();
  const model = compileModel("w2-mlp");
  // the same model on the wasm target (docs/wasm.md), its own params in its memory
  const wasm = compileModel("w2-mlp", { target: "wasm" });
  const init = copyRecord(model.params);
  const values = { x: data.x, y: data.y };
  const ref = model.valueAndGrad(values);
  const want = { loss: ref.value, grads: copyRecord(ref.grads) };

  const tiled = tiledMlp(init, LR);
  const plain = plainMlp(init, LR);
  await tf.use("cpu");
  const tfCpu = tfMlp(tf.tf, init, data, LR);
  await tf.use("wasm");
  const tfWasm = tfMlp(tf.tf, init, data, LR);
  const jx = attempt(() => jaxMlp(jax.jax, init, data, LR));

  const checks = [];
  const check = (name, step, read) => {
    const loss = step();
    const g = appliedGradient(init, read(), LR);
    const gradErr = Math.max(...Object.keys(want.grads).map((k) => relError(g[k], want.grads[k])));
    checks.push({ name, loss, lossErr: Math.abs(loss - want.loss) / Math.abs(want.loss), gradErr });
  };
  check("gradc", () => model.step(values), () => model.params);
  check("gradc wasm target", () => wasm.step(values), () => wasm.params);
  check("hand-written, 2x4 tiles", () => tiled.step(values), () => tiled.params);
  check("hand-written, plain i-k-j", () => plain.step(values), () => plain.params);
  await tf.use("cpu");
  check("TF.js cpu", tfCpu.step, tfCpu.read);
  await tf.use("wasm");
  check("TF.js wasm", tfWasm.step, tfWasm.read);
  if (jx.fails) checks.push({ name: "jax-js wasm, jit", fails: jx.fails });
  else check("jax-js wasm, jit", jx.step, jx.read);

  return {
    id: "W2",
    title: "MLP 784-128-10 step, batch 64",
    unit: "ms",
    scale: 1e3,
    // the step's matmuls: forward and weight gradient of layer 1, all three of layer 2
    flops: 2 * 64 * 784 * 128 * 2 + 2 * 64 * 128 * 10 * 3,
    reference: "hand-written, 2x4 tiles",
    checks,
    impls: [
      { name: "gradc", loop: ownLoop(model.step, values, "gradc_w2") },
      { name: "gradc wasm target", loop: ownLoop(wasm.step, values, "gradc_wasm_w2") },
      { name: "hand-written, 2x4 tiles", loop: ownLoop(tiled.step, values, "tiled_w2") },
      { name: "hand-written, plain i-k-j", loop: ownLoop(plain.step, values, "plain_w2") },
      { name: "TF.js cpu", loop: ownLoop(tfCpu.step, undefined, "tfcpu_w2"), before: () => tf.use("cpu") },
      { name: "TF.js wasm", loop: ownLoop(tfWasm.step, undefined, "tfwasm_w2"), before: () => tf.use("wasm") },
      { name: "jax-js wasm, jit", loop: ownLoop(jx.step, undefined, "jax_w2") },
    ],
  };
}
