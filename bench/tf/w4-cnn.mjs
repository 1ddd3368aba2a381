// W4 in TensorFlow.js (NHWC): tf.conv2d, and the workaround for the wasm backend, which
// has no Conv2DBackpropFilter kernel: the convolution as 9 shifted slices of the input
// concatenated into patches [16*26*26, 9] and one matMul with the filters [9, 8].
// gradc's weights (OIHW filters; a dense layer over (channel, row, col)) are permuted into
// TF's layouts (HWIO; (row, col, channel)) once, and back when read.
import { tfStepper } from "./load.mjs";

/** Row r of gradc's w [1352, 10] (c*169 + i*13 + j) is row (i*13 + j)*8 + c in TF's. */
function denseRows() {
  const perm = new Int32Array(1352);
  for (let c = 0; c < 8; c++) for (let i = 0; i < 169; i++) perm[i * 8 + c] = c * 169 + i;
  return perm;
}

function toTf(init) {
  const k = new Float32Array(72); // [3,3,1,8] from [8,1,3,3]
  for (let f = 0; f < 8; f++) for (let t = 0; t < 9; t++) k[t * 8 + f] = init.k[f * 9 + t];
  const perm = denseRows();
  const w = new Float32Array(1352 * 10);
  for (let r = 0; r < 1352; r++) for (let c = 0; c < 10; c++) w[r * 10 + c] = init.w[perm[r] * 10 + c];
  return { k, kb: Float32Array.from(init.kb), w, b: Float32Array.from(init.b) };
}

function fromTf(t) {
  const k = new Float32Array(72);
  for (let f = 0; f < 8; f++) for (let s = 0; s < 9; s++) k[f * 9 + s] = t.k[s * 8 + f];
  const perm = denseRows();
  const w = new Float32Array(1352 * 10);
  for (let r = 0; r < 1352; r++) for (let c = 0; c < 10; c++) w[perm[r] * 10 + c] = t.w[r * 10 + c];
  return { k, kb: t.kb, w, b: t.b };
}

export function tfCnn(tf, init, data, lr, { slices = false } = {}) {
  const t = toTf(init);
  // x [16,1,28,28] NCHW with C = 1 has the same memory layout as NHWC [16,28,28,1].
  const x = tf.tensor4d(data.x, [16, 28, 28, 1]);
  const y = tf.tensor2d(data.y, [16, 10]);
  const k = tf.variable(slices ? tf.tensor2d(t.k, [9, 8]) : tf.tensor4d(t.k, [3, 3, 1, 8]));
  const kb = tf.variable(tf.tensor1d(t.kb));
  const w = tf.variable(tf.tensor2d(t.w, [1352, 10]));
  const b = tf.variable(tf.tensor1d(t.b));
  const conv = slices
    ? () => {
        const taps = [];
        for (let di = 0; di < 3; di++) for (let dj = 0; dj < 3; dj++) taps.push(tf.slice(x, [0, di, dj, 0], [16, 26, 26, 1]));
        const patches = tf.reshape(tf.concat(taps, 3), [16 * 26 * 26, 9]);
        return tf.reshape(tf.matMul(patches, k), [16, 26, 26, 8]);
      }
    : () => tf.conv2d(x, k, 1, "valid");
  const loss = () => {
    const c = tf.relu(tf.add(conv(), kb));
    const p = tf.maxPool(c, 2, 2, "valid");
    const logits = tf.add(tf.matMul(tf.reshape(p, [16, 1352]), w), b);
    return tf.mean(tf.neg(tf.sum(tf.mul(y, tf.logSoftmax(logits)), -1)));
  };
  const step = tfStepper(tf, loss, lr);
  return {
    step: () => step(),
    read: () => fromTf({ k: k.dataSync(), kb: kb.dataSync(), w: w.dataSync(), b: b.dataSync() }),
  };
}
