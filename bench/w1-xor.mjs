// W1: the seed XOR step (forward + backward + SGD), gradc vs hand-written vs TensorFlow.js.
import { appliedGradient, attempt, copyRecord, relError } from "./lib/data.mjs";
import { compileModel } from "./lib/gradc.mjs";
import { ownLoop } from "./lib/harness.mjs";
import { fusedXor, loopsXor } from "./hand/w1-xor.mjs";
import { jaxXor } from "./jax/w1-xor.mjs";
import { tfXor } from "./tf/w1-xor.mjs";

const LR = 1.0;

export async function setupW1({ tf, jax }) {
  const data = { x: Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]), y: Float32Array.from([0, 1, 1, 0]) };
  const model = compileModel("w1-xor");
  // the same model on the wasm target (docs/wasm.md), its own params in its memory
  const wasm = compileModel("w1-xor", { target: "wasm" });
  const init = copyRecord(model.params);
  const values = { x: data.x, y: data.y };

  // The reference: gradc's own loss and gradient at the initial params.
  const ref = model.valueAndGrad(values);
  const want = { loss: ref.value, grads: copyRecord(ref.grads) };

  const fused = fusedXor(init, LR);
  const loops = loopsXor(init, LR);
  await tf.use("cpu");
  const tfCpu = tfXor(tf.tf, init, data, LR);
  await tf.use("wasm");
  const tfWasm = tfXor(tf.tf, init, data, LR);
  const jx = attempt(() => jaxXor(jax.jax, init, data, LR));

  // One step each from the same params: the loss it returns, and the gradient it applied.
  const checks = [];
  const check = (name, step, read) => {
    const loss = step();
    const g = appliedGradient(init, read(), LR);
    const gradErr = Math.max(...Object.keys(want.grads).map((k) => relError(g[k], want.grads[k])));
    checks.push({ name, loss, lossErr: Math.abs(loss - want.loss) / Math.abs(want.loss), gradErr });
  };
  check("gradc", () => model.step(values), () => model.params);
  check("gradc wasm target", () => wasm.step(values), () => wasm.params);
  check("hand-written, fused", () => fused.step(values), () => fused.params);
  check("hand-written, loops", () => loops.step(values), () => loops.params);
  await tf.use("cpu");
  check("TF.js cpu", tfCpu.step, tfCpu.read);
  await tf.use("wasm");
  check("TF.js wasm", tfWasm.step, tfWasm.read);
  if (jx.fails) checks.push({ name: "jax-js wasm, jit", fails: jx.fails });
  else check("jax-js wasm, jit", jx.step, jx.read);

  return {
    id: "W1",
    title: "seed XOR step (forward+backward+SGD)",
    unit: "µs",
    scale: 1e6,
    reference: "hand-written, fused",
    checks,
    impls: [
      { name: "gradc", loop: ownLoop(model.step, values, "gradc_w1") },
      { name: "gradc wasm target", loop: ownLoop(wasm.step, values, "gradc_wasm_w1") },
      { name: "hand-written, fused", loop: ownLoop(fused.step, values, "fused_w1") },
      { name: "hand-written, loops", loop: ownLoop(loops.step, values, "loops_w1") },
      { name: "TF.js cpu", loop: ownLoop(tfCpu.step, undefined, "tfcpu_w1"), before: () => tf.use("cpu") },
      { name: "TF.js wasm", loop: ownLoop(tfWasm.step, undefined, "tfwasm_w1"), before: () => tf.use("wasm") },
      { name: "jax-js wasm, jit", loop: ownLoop(jx.step, undefined, "jax_w1") },
    ],
  };
}
