// W7 in TensorFlow.js: the transformer block of bench/models/w7-attention.grad, same
// weights, SGD. TF.js's matMul gradient fails for a rank-3 operand times a matrix, so the
// projections multiply the merged [b * t, d] rows; the causal mask adds -1e9 above the
// diagonal (softmax gives those entries exactly 0, as gradc's where(..., -1e9) does).
// The wasm backend has no UnsortedSegmentSum kernel (tf.gather's gradient), so there
// `embedding: "oneHot"` reads the table as oneHot(ids) @ E.
import { tfStepper } from "./load.mjs";

export function tfAttention(tf, init, data, { b, t, d, heads, vocab, hidden }, lr, embedding = "gather") {
  const dh = d / heads;
  const ids = tf.tensor2d(Int32Array.from(data.ids), [b, t], "int32");
  const target = tf.tensor3d(data.target, [b, t, vocab]);
  const shapes = { E: [vocab, d], P: [t, d], wq: [d, d], wk: [d, d], wv: [d, d], wo: [d, d], w1: [d, hidden], b1: [hidden], w2: [hidden, d], b2: [d], wout: [d, vocab] };
  const p = Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, tf.variable(tf.tensor(init[k], s))]));
  const mask = tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([t, t]), -1, 0)), -1e9);
  const rows = (z, w) => tf.matMul(tf.reshape(z, [-1, w.shape[0]]), w); // [b * t, out]
  const layerNorm = (z) => {
    const { mean, variance } = tf.moments(z, -1, true);
    return tf.div(tf.sub(z, mean), tf.sqrt(tf.add(variance, 1e-5)));
  };
  const gelu = (z) => tf.mul(tf.mul(0.5, z), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(z, tf.mul(0.044715, tf.pow(z, 3)))))));
  const split = (z) => tf.transpose(tf.reshape(z, [b, t, heads, dh]), [0, 2, 1, 3]);
  const loss = () => {
    const tokens = embedding === "gather" ? tf.gather(p.E, ids) : tf.reshape(rows(tf.oneHot(ids, vocab), p.E), [b, t, d]);
    const x = tf.add(tokens, p.P); // [b, t, d]
    const h = layerNorm(x);
    const q = split(rows(h, p.wq)), k = split(rows(h, p.wk)), v = split(rows(h, p.wv));
    const s = tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(dh)), mask);
    const o = tf.reshape(tf.transpose(tf.matMul(tf.softmax(s), v), [0, 2, 1, 3]), [b, t, d]);
    const x1 = tf.add(x, tf.reshape(rows(o, p.wo), [b, t, d]));
    const m = tf.add(rows(gelu(tf.add(rows(layerNorm(x1), p.w1), p.b1)), p.w2), p.b2);
    const x2 = tf.add(x1, tf.reshape(m, [b, t, d]));
    const logits = tf.reshape(rows(x2, p.wout), [b, t, vocab]);
    return tf.mean(tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits)), -1)));
  };
  const step = tfStepper(tf, loss, lr);
  return { step: () => step(), read: () => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.dataSync()])) };
}
