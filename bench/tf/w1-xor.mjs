// W1 in TensorFlow.js: the seed XOR model, one tf.train.sgd step per call.
import { tfStepper } from "./load.mjs";

export function tfXor(tf, init, data, lr) {
  const x = tf.tensor2d(data.x, [4, 2]);
  const y = tf.tensor2d(data.y, [4, 1]);
  const m1 = tf.variable(tf.tensor2d(init.m1, [2, 3]));
  const b1 = tf.variable(tf.tensor1d(init.b1));
  const m2 = tf.variable(tf.tensor2d(init.m2, [3, 1]));
  const b2 = tf.variable(tf.tensor1d(init.b2));
  const loss = () => {
    const h1 = tf.sigmoid(tf.add(tf.matMul(x, m1), b1));
    const out = tf.sigmoid(tf.add(tf.matMul(h1, m2), b2));
    return tf.sum(tf.square(tf.sub(y, out)));
  };
  const step = tfStepper(tf, loss, lr);
  return { step: () => step(), read: () => ({ m1: m1.dataSync(), b1: b1.dataSync(), m2: m2.dataSync(), b2: b2.dataSync() }) };
}
