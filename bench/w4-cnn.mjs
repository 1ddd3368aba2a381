// W4: CNN step ([16,1,28,28], conv 3x3x8 + relu + maxpool 2, dense 10, softmax CE, SGD),
// gradc vs hand-written vs TensorFlow.js (tf.conv2d on cpu and wasm — wasm has no
// Conv2DBackpropFilter, which is caught and reported — and the wasm workaround: conv as
// 9 slices + matMul).
import { appliedGradient, copyRecord, oneHot, relError, uniform } from "./lib/data.mjs";
import { compileModel } from "./lib/gradc.mjs";
import { ownLoop } from "./lib/harness.mjs";
import { handCnn } from "./hand/w4-cnn.mjs";
import { tfCnn } from "./tf/w4-cnn.mjs";

const LR = 0.05;

export function w4Data() {
  return { x: uniform(16 * 784, 0, 1, 41), y: oneHot(16, 10, 42) };
}

export async function setupW4({ tf }) {
  const data = w4Data();
  const model = compileModel("w4-cnn");
  // the same model on the wasm target (docs/wasm.md), its own params in its memory
  const wasm = compileModel("w4-cnn", { target: "wasm" });
  const init = copyRecord(model.params);
  const values = { x: data.x, y: data.y };
  const ref = model.valueAndGrad(values);
  const want = { loss: ref.value, grads: copyRecord(ref.grads) };

  const hand = handCnn(init, LR);
  await tf.use("cpu");
  const tfCpu = tfCnn(tf.tf, init, data, LR);
  await tf.use("wasm");
  const tfWasm = tfCnn(tf.tf, init, data, LR);
  const tfWasmSlices = tfCnn(tf.tf, init, data, LR, { slices: true });

  const checks = [];
  const failures = {};
  const check = (name, step, read) => {
    let loss;
    try {
      loss = step();
    } catch (e) {
      failures[name] = e.message;
      checks.push({ name, fails: e.message });
      return;
    }
    const g = appliedGradient(init, read(), LR);
    const gradErr = Math.max(...Object.keys(want.grads).map((k) => relError(g[k], want.grads[k])));
    checks.push({ name, loss, lossErr: Math.abs(loss - want.loss) / Math.abs(want.loss), gradErr });
  };
  check("gradc", () => model.step(values), () => model.params);
  check("gradc wasm target", () => wasm.step(values), () => wasm.params);
  check("hand-written", () => hand.step(values), () => hand.params);
  await tf.use("cpu");
  check("TF.js cpu", tfCpu.step, tfCpu.read);
  await tf.use("wasm");
  check("TF.js wasm", tfWasm.step, tfWasm.read);
  check("TF.js wasm, conv as 9 slices + matMul", tfWasmSlices.step, tfWasmSlices.read);

  const impls = [
    { name: "gradc", loop: ownLoop(model.step, values, "gradc_w4") },
    { name: "gradc wasm target", loop: ownLoop(wasm.step, values, "gradc_wasm_w4") },
    { name: "hand-written", loop: ownLoop(hand.step, values, "hand_w4") },
    { name: "TF.js cpu", loop: ownLoop(tfCpu.step, undefined, "tfcpu_w4"), before: () => tf.use("cpu") },
    { name: "TF.js wasm", fails: failures["TF.js wasm"] ?? null, loop: ownLoop(tfWasm.step, undefined, "tfwasm_w4"), before: () => tf.use("wasm") },
    { name: "TF.js wasm, conv as 9 slices + matMul", loop: ownLoop(tfWasmSlices.step, undefined, "tfslices_w4"), before: () => tf.use("wasm") },
  ];
  return {
    id: "W4",
    title: "CNN step [16,1,28,28], conv 3x3x8, pool 2, dense 10",
    unit: "ms",
    scale: 1e3,
    // the conv and its weight gradient, the dense layer's three products
    flops: 2 * 16 * 8 * 26 * 26 * 9 * 2 + 2 * 16 * 1352 * 10 * 3,
    reference: "hand-written",
    checks,
    impls,
  };
}
