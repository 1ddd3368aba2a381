// W1 in jax-js: the seed XOR model, loss = sum((y - y_out)^2), SGD, the step under jit.
import { jaxStepper, need } from "./load.mjs";

export function jaxXor(jax, init, data, lr) {
  const { numpy: np, nn } = need(jax);
  const x = np.array(Float32Array.from(data.x)).reshape([4, 2]);
  const y = np.array(Float32Array.from(data.y)).reshape([4, 1]);
  const loss = (p, x, y) => {
    const h = nn.sigmoid(np.matmul(x, p.m1).add(p.b1));
    const o = nn.sigmoid(np.matmul(h, p.m2).add(p.b2));
    const r = y.sub(o);
    return np.sum(r.ref.mul(r));
  };
  return jaxStepper(jax, loss, init, { m1: [2, 3], b1: [3], m2: [3, 1], b2: [1] }, [x, y], lr);
}
