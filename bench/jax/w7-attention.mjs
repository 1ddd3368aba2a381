// W7 in jax-js: the transformer block of bench/models/w7-attention.grad, same weights, SGD,
// the step under jit. The causal mask adds -1e9 above the diagonal (softmax gives those
// entries exactly 0, as gradc's where(..., -1e9) does); gelu is the tanh form, as gradc's.
// The embedding is oneHot(ids) @ E (see embed).
import { jaxStepper, need } from "./load.mjs";

export function jaxAttention(jax, init, data, { b, t, d, heads, vocab, hidden }, lr) {
  const { numpy: np, nn } = need(jax);
  const dh = d / heads;
  const ids = np.array(Int32Array.from(data.ids), { dtype: np.int32 }).reshape([b * t]);
  const target = np.array(Float32Array.from(data.target)).reshape([b * t, vocab]);
  const maskValues = new Float32Array(t * t);
  for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) maskValues[i * t + j] = -1e9;
  const mask = np.array(maskValues).reshape([t, t]);
  const shapes = { E: [vocab, d], P: [t, d], wq: [d, d], wk: [d, d], wv: [d, d], wo: [d, d], w1: [d, hidden], b1: [hidden], w2: [hidden, d], b2: [d], wout: [d, vocab] };
  const layerNorm = (z) => {
    const mean = np.mean(z.ref, -1, { keepdims: true });
    const c = z.sub(mean);
    const variance = np.mean(c.ref.mul(c.ref), -1, { keepdims: true });
    return c.div(np.sqrt(variance.add(1e-5)));
  };
  // take's gradient (a scatter) does not compile under jit here ("jit: routine primitive
  // scatter input is not imm"), so the table is read as oneHot(ids) @ E, as on TF.js wasm
  const embed = (E, ids) => np.matmul(nn.oneHot(ids, vocab), E);
  const split = (z) => z.reshape([b, t, heads, dh]).transpose([0, 2, 1, 3]);
  const loss = (p, ids, target, mask) => {
    const x = embed(p.E, ids).reshape([b, t, d]).add(p.P).reshape([b * t, d]); // rows
    const h = layerNorm(x.ref);
    const q = split(np.matmul(h.ref, p.wq)), k = split(np.matmul(h.ref, p.wk)), v = split(np.matmul(h, p.wv));
    const s = np.matmul(q, k.transpose([0, 1, 3, 2])).div(Math.sqrt(dh)).add(mask);
    const o = np.matmul(nn.softmax(s, -1), v).transpose([0, 2, 1, 3]).reshape([b * t, d]);
    const x1 = x.add(np.matmul(o, p.wo));
    const m = np.matmul(nn.gelu(np.matmul(layerNorm(x1.ref), p.w1).add(p.b1), { approximate: true }), p.w2).add(p.b2);
    const logits = np.matmul(x1.add(m), p.wout);
    return np.mean(np.sum(target.mul(nn.logSoftmax(logits, -1)), -1).neg());
  };
  return jaxStepper(jax, loss, init, shapes, [ids, target, mask], lr);
}
