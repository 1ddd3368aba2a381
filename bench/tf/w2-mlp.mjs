// W2 in TensorFlow.js: MLP 784-128-10, batch 64, relu, softmax cross-entropy, SGD.
import { tfStepper } from "./load.mjs";

export function tfMlp(tf, init, data, lr) {
  const x = tf.tensor2d(data.x, [64, 784]);
  const y = tf.tensor2d(data.y, [64, 10]);
  const w1 = tf.variable(tf.tensor2d(init.w1, [784, 128]));
  const b1 = tf.variable(tf.tensor1d(init.b1));
  const w2 = tf.variable(tf.tensor2d(init.w2, [128, 10]));
  const b2 = tf.variable(tf.tensor1d(init.b2));
  const loss = () => {
    const h = tf.relu(tf.add(tf.matMul(x, w1), b1));
    const logits = tf.add(tf.matMul(h, w2), b2);
    return tf.mean(tf.neg(tf.sum(tf.mul(y, tf.logSoftmax(logits)), -1)));
  };
  const step = tfStepper(tf, loss, lr);
  return { step: () => step(), read: () => ({ w1: w1.dataSync(), b1: b1.dataSync(), w2: w2.dataSync(), b2: b2.dataSync() }) };
}
