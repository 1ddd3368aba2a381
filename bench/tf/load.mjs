// TensorFlow.js from bench/node_modules: the full @tensorflow/tfjs (its cpu backend has the
// gradient kernels) plus @tensorflow/tfjs-backend-wasm (the SIMD build, one thread in
// Node, loaded from node_modules). Both backends live in one process; `use(name)` switches
// before each sample, and every implementation creates its tensors under its own backend so
// nothing is moved between them while timing.
import { createRequire } from "node:module";

const require = createRequire(new URL("../package.json", import.meta.url));

let loaded;
export async function loadTf() {
  if (loaded) return loaded;
  const tf = require("@tensorflow/tfjs");
  const wasm = require("@tensorflow/tfjs-backend-wasm");
  tf.env().set("PROD", true); // no "install tfjs-node" banner, no debug checks
  await tf.setBackend("wasm");
  await tf.ready();
  const simd = tf.env().getBool("WASM_HAS_SIMD_SUPPORT");
  const threads = tf.env().getBool("WASM_HAS_MULTITHREAD_SUPPORT");
  await tf.setBackend("cpu");
  await tf.ready();
  const use = async (name) => {
    if (tf.getBackend() !== name) await tf.setBackend(name);
  };
  loaded = { tf, use, version: tf.version.tfjs, wasmVersion: wasm.version_wasm, simd, threads };
  return loaded;
}

/** A training step through tf.train.sgd: the loss is read back (dataSync) every step,
 *  as gradc's step returns it. */
export function tfStepper(tf, lossFn, lr) {
  const opt = tf.train.sgd(lr);
  return () => {
    const cost = opt.minimize(lossFn, true);
    const v = cost.dataSync()[0];
    cost.dispose();
    return v;
  };
}
