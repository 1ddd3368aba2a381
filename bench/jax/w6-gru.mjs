// W6 in jax-js: the GRU language model of bench/models/w6-gru.grad, SGD, the step under jit.
// jax-js 0.1.25 has no lax.scan, so the 32 steps are a JavaScript loop traced into the
// jitted step (unrolled, as JAX code is written without scan); the input projections of
// all steps are one product before the loop, as in the hand-written reference.
import { jaxStepper, need } from "./load.mjs";

export const w6Shapes = (H, V) => ({ E: [V, H], wz: [H, H], uz: [H, H], bz: [H], wr: [H, H], ur: [H, H], br: [H], wn: [H, H], un: [H, H], bn: [H], wout: [H, V], bout: [V] });

export function jaxGru(jax, init, data, { T, B, H, V }, lr) {
  const { numpy: np, nn } = need(jax);
  const ids = np.array(Int32Array.from(data.ids), { dtype: np.int32 }).reshape([T * B]);
  const target = np.array(Float32Array.from(data.target)).reshape([T * B, V]);
  const loss = (p, ids, target) => {
    const x = np.take(p.E, ids, 0); // [T * B, H]
    const xz = np.matmul(x.ref, p.wz).add(p.bz).reshape([T, B, H]);
    const xr = np.matmul(x.ref, p.wr).add(p.br).reshape([T, B, H]);
    const xn = np.matmul(x, p.wn).add(p.bn).reshape([T, B, H]);
    let h = np.zeros([B, H]);
    const hs = [];
    for (let t = 0; t < T; t++) {
      const z = nn.sigmoid(xz.ref.slice(t).add(np.matmul(h.ref, p.uz.ref)));
      const r = nn.sigmoid(xr.ref.slice(t).add(np.matmul(h.ref, p.ur.ref)));
      const n = np.tanh(xn.ref.slice(t).add(np.matmul(r.mul(h.ref), p.un.ref)));
      h = z.ref.neg().add(1).mul(n).add(z.mul(h));
      hs.push(h.ref);
    }
    h.dispose();
    for (const a of [xz, xr, xn, p.uz, p.ur, p.un]) a.dispose();
    const logits = np.matmul(np.stack(hs, 0).reshape([T * B, H]), p.wout).add(p.bout);
    return np.mean(np.sum(target.mul(nn.logSoftmax(logits, -1)), -1).neg());
  };
  return jaxStepper(jax, loss, init, w6Shapes(H, V), [ids, target], lr);
}
