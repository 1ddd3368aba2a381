// W6 in TensorFlow.js: the GRU language model of bench/models/w6-gru.grad, same weights,
// SGD. TF.js has no scan with a gradient, so the 32 steps are a loop in the loss function
// (the tape records each); the input projections of all steps are one product before the
// loop. The wasm backend has no UnsortedSegmentSum kernel (tf.gather's gradient), so there
// `embedding: "oneHot"` reads the table as oneHot(ids) @ E.
import { tfStepper } from "./load.mjs";

export function tfGru(tf, init, data, { T, B, H, V }, lr, embedding = "gather") {
  const ids = tf.tensor1d(Int32Array.from(data.ids), "int32"); // [T * B], time-major
  const target = tf.tensor2d(data.target, [T * B, V]);
  const shapes = { E: [V, H], wz: [H, H], uz: [H, H], bz: [H], wr: [H, H], ur: [H, H], br: [H], wn: [H, H], un: [H, H], bn: [H], wout: [H, V], bout: [V] };
  const p = Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, tf.variable(tf.tensor(init[k], s))]));
  const loss = () => {
    const x = embedding === "gather" ? tf.gather(p.E, ids) : tf.matMul(tf.oneHot(ids, V), p.E); // [T * B, H]
    const xz = tf.add(tf.matMul(x, p.wz), p.bz), xr = tf.add(tf.matMul(x, p.wr), p.br), xn = tf.add(tf.matMul(x, p.wn), p.bn);
    let h = tf.zeros([B, H]);
    const hs = [];
    for (let t = 0; t < T; t++) {
      const rows = (a) => tf.slice(a, [t * B, 0], [B, H]);
      const z = tf.sigmoid(tf.add(rows(xz), tf.matMul(h, p.uz)));
      const r = tf.sigmoid(tf.add(rows(xr), tf.matMul(h, p.ur)));
      const n = tf.tanh(tf.add(rows(xn), tf.matMul(tf.mul(r, h), p.un)));
      h = tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h));
      hs.push(h);
    }
    const logits = tf.add(tf.matMul(tf.concat(hs, 0), p.wout), p.bout);
    return tf.mean(tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits)), -1)));
  };
  const step = tfStepper(tf, loss, lr);
  return { step: () => step(), read: () => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.dataSync()])) };
}
