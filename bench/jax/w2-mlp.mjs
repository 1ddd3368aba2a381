// W2 in jax-js: MLP 784-128-10, batch 64, relu, softmax cross-entropy, SGD, under jit.
import { jaxStepper, need } from "./load.mjs";

export function jaxMlp(jax, init, data, lr) {
  const { numpy: np, nn } = need(jax);
  const x = np.array(Float32Array.from(data.x)).reshape([64, 784]);
  const y = np.array(Float32Array.from(data.y)).reshape([64, 10]);
  const loss = (p, x, y) => {
    const h = nn.relu(np.matmul(x, p.w1).add(p.b1));
    const logits = np.matmul(h, p.w2).add(p.b2);
    return np.mean(np.sum(y.mul(nn.logSoftmax(logits, -1)), -1).neg());
  };
  return jaxStepper(jax, loss, init, { w1: [784, 128], b1: [128], w2: [128, 10], b2: [10] }, [x, y], lr);
}
