// W7 by hand: the transformer block of bench/models/w7-attention.grad (batch 16, 64 tokens,
// d 128 in 4 heads of 32, causal, layer norm, gelu MLP 128 -> 512 -> 128, vocabulary 96),
// one SGD step: forward, backward, update.
//
// Written for speed in plain JavaScript: Float32Array buffers allocated once; every
// projection is one [1024, ...] product with 2x4 register tiles (kernels.mjs); attention
// runs per (sequence, head) over the causal triangle only (the masked entries are exactly 0
// after softmax, as in the model, so they are skipped rather than computed), its
// probabilities kept for the backward pass; layer norm keeps its normalised rows and
// reciprocal deviations. Same algorithm as the model.

import { addRows, colSum, mmNN, mmNT, mmTN, sgd } from "./kernels.mjs";

const NB = 16, T = 64, D = 128, NH = 4, DH = 32, F = 512, V = 96;
const R = NB * T; // rows: one per token
const SCALE = 1 / Math.sqrt(DH);
const EPS = 1e-5;
const GC = Math.sqrt(2 / Math.PI), GK = 0.044715;

const SHAPES = { E: V * D, P: T * D, wq: D * D, wk: D * D, wv: D * D, wo: D * D, w1: D * F, b1: F, w2: F * D, b2: D, wout: D * V };

/** y = (x - mean) / sqrt(var + eps) per row of D; keeps 1 / sqrt(var + eps) per row. */
function layerNorm(x, y, rstd) {
  for (let r = 0; r < R; r++) {
    const o = r * D;
    let m = 0;
    for (let c = 0; c < D; c++) m += x[o + c];
    m /= D;
    let v = 0;
    for (let c = 0; c < D; c++) {
      const d = x[o + c] - m;
      v += d * d;
    }
    const s = 1 / Math.sqrt(v / D + EPS);
    rstd[r] = s;
    for (let c = 0; c < D; c++) y[o + c] = (x[o + c] - m) * s;
  }
}

/** dx += rstd * (dy - mean(dy) - y * mean(dy * y)) per row (y the normalised rows). */
function layerNormBack(dy, y, rstd, dx) {
  for (let r = 0; r < R; r++) {
    const o = r * D;
    let a = 0, b = 0;
    for (let c = 0; c < D; c++) {
      a += dy[o + c];
      b += dy[o + c] * y[o + c];
    }
    a /= D;
    b /= D;
    const s = rstd[r];
    for (let c = 0; c < D; c++) dx[o + c] += s * (dy[o + c] - a - y[o + c] * b);
  }
}

export function handAttention(init, lr) {
  const params = Object.fromEntries(Object.keys(SHAPES).map((k) => [k, Float32Array.from(init[k])]));
  const grads = Object.fromEntries(Object.entries(SHAPES).map(([k, n]) => [k, new Float32Array(n)]));
  const { E, P, wq, wk, wv, wo, w1, b1, w2, b2, wout } = params;
  const buf = (n) => new Float32Array(n);
  const X = buf(R * D), H1 = buf(R * D), rstd1 = buf(R), Q = buf(R * D), K = buf(R * D), Vv = buf(R * D);
  const A = buf(NB * NH * T * T), O = buf(R * D), X1 = buf(R * D), H2 = buf(R * D), rstd2 = buf(R);
  const Z1 = buf(R * F), G = buf(R * F), X2 = buf(R * D), L = buf(R * V);
  const dX2 = buf(R * D), dG = buf(R * F), dH2 = buf(R * D), dX1 = buf(R * D), dO = buf(R * D);
  const dQ = buf(R * D), dK = buf(R * D), dV = buf(R * D), dH1 = buf(R * D), dX = buf(R * D), dA = buf(T);
  const idx = new Int32Array(R);

  function attention() {
    for (let n = 0; n < NB; n++) {
      for (let h = 0; h < NH; h++) {
        const a0 = (n * NH + h) * T * T, col = h * DH;
        for (let i = 0; i < T; i++) {
          const qi = (n * T + i) * D + col, ai = a0 + i * T;
          let m = -Infinity;
          for (let j = 0; j <= i; j++) {
            const kj = (n * T + j) * D + col;
            let s = 0;
            for (let c = 0; c < DH; c++) s += Q[qi + c] * K[kj + c];
            s *= SCALE;
            A[ai + j] = s;
            if (s > m) m = s;
          }
          let sum = 0;
          for (let j = 0; j <= i; j++) {
            const e = Math.exp(A[ai + j] - m);
            A[ai + j] = e;
            sum += e;
          }
          const inv = 1 / sum;
          for (let c = 0; c < DH; c++) O[qi + c] = 0;
          for (let j = 0; j <= i; j++) {
            const p = A[ai + j] * inv;
            A[ai + j] = p;
            const vj = (n * T + j) * D + col;
            for (let c = 0; c < DH; c++) O[qi + c] += p * Vv[vj + c];
          }
        }
      }
    }
  }

  function attentionBack() {
    dQ.fill(0); dK.fill(0); dV.fill(0);
    for (let n = 0; n < NB; n++) {
      for (let h = 0; h < NH; h++) {
        const a0 = (n * NH + h) * T * T, col = h * DH;
        for (let i = 0; i < T; i++) {
          const qi = (n * T + i) * D + col, ai = a0 + i * T;
          // dA[j] = dO_i . V_j; dV_j += A[i, j] dO_i
          let dot = 0;
          for (let j = 0; j <= i; j++) {
            const vj = (n * T + j) * D + col, p = A[ai + j];
            let s = 0;
            for (let c = 0; c < DH; c++) {
              s += dO[qi + c] * Vv[vj + c];
              dV[vj + c] += p * dO[qi + c];
            }
            dA[j] = s;
            dot += p * s;
          }
          // softmax backward, then the scaled product's: dS = A (dA - sum A dA) / sqrt(dh)
          for (let j = 0; j <= i; j++) {
            const ds = A[ai + j] * (dA[j] - dot) * SCALE;
            const kj = (n * T + j) * D + col;
            for (let c = 0; c < DH; c++) {
              dQ[qi + c] += ds * K[kj + c];
              dK[kj + c] += ds * Q[qi + c];
            }
          }
        }
      }
    }
  }

  function forward(ids, target) {
    for (let r = 0; r < R; r++) {
      const id = ids[r], o = r * D, e = id * D, p = (r % T) * D;
      idx[r] = id;
      for (let c = 0; c < D; c++) X[o + c] = E[e + c] + P[p + c];
    }
    layerNorm(X, H1, rstd1);
    mmNN(H1, 0, wq, 0, Q, 0, R, D, D, false);
    mmNN(H1, 0, wk, 0, K, 0, R, D, D, false);
    mmNN(H1, 0, wv, 0, Vv, 0, R, D, D, false);
    attention();
    X1.set(X);
    mmNN(O, 0, wo, 0, X1, 0, R, D, D, true);
    layerNorm(X1, H2, rstd2);
    mmNN(H2, 0, w1, 0, Z1, 0, R, D, F, false);
    addRows(Z1, R, F, b1);
    for (let e = 0; e < R * F; e++) {
      const z = Z1[e];
      G[e] = 0.5 * z * (1 + Math.tanh(GC * (z + GK * z * z * z)));
    }
    X2.set(X1);
    mmNN(G, 0, w2, 0, X2, 0, R, F, D, true);
    addRows(X2, R, D, b2);
    mmNN(X2, 0, wout, 0, L, 0, R, D, V, false);
    // softmax cross-entropy, mean over the R positions; L becomes d logits
    let loss = 0;
    for (let p = 0; p < R; p++) {
      const a = p * V;
      let m = -Infinity;
      for (let c = 0; c < V; c++) m = Math.max(m, L[a + c]);
      let s = 0, ys = 0, yl = 0;
      for (let c = 0; c < V; c++) {
        s += Math.exp(L[a + c] - m);
        ys += target[a + c];
        yl += target[a + c] * L[a + c];
      }
      loss += ys * (m + Math.log(s)) - yl;
      const q = ys / (R * s);
      for (let c = 0; c < V; c++) L[a + c] = Math.exp(L[a + c] - m) * q - target[a + c] / R;
    }
    return loss / R;
  }

  function backward() {
    mmTN(X2, 0, L, 0, grads.wout, D, R, V);
    mmNT(L, 0, wout, 0, dX2, 0, R, V, D, false);
    // MLP: x2 = x1 + gelu(h2 @ w1 + b1) @ w2 + b2
    colSum(dX2, R, D, grads.b2);
    mmTN(G, 0, dX2, 0, grads.w2, F, R, D);
    mmNT(dX2, 0, w2, 0, dG, 0, R, D, F, false);
    for (let e = 0; e < R * F; e++) {
      const z = Z1[e];
      const th = Math.tanh(GC * (z + GK * z * z * z));
      dG[e] *= 0.5 * (1 + th) + 0.5 * z * (1 - th * th) * GC * (1 + 3 * GK * z * z);
    }
    colSum(dG, R, F, grads.b1);
    mmTN(H2, 0, dG, 0, grads.w1, D, R, F);
    mmNT(dG, 0, w1, 0, dH2, 0, R, F, D, false);
    dX1.set(dX2);
    layerNormBack(dH2, H2, rstd2, dX1);
    // attention: x1 = x + merge(a @ v) @ wo
    mmTN(O, 0, dX1, 0, grads.wo, D, R, D);
    mmNT(dX1, 0, wo, 0, dO, 0, R, D, D, false);
    attentionBack();
    mmTN(H1, 0, dQ, 0, grads.wq, D, R, D);
    mmTN(H1, 0, dK, 0, grads.wk, D, R, D);
    mmTN(H1, 0, dV, 0, grads.wv, D, R, D);
    mmNT(dQ, 0, wq, 0, dH1, 0, R, D, D, false);
    mmNT(dK, 0, wk, 0, dH1, 0, R, D, D, true);
    mmNT(dV, 0, wv, 0, dH1, 0, R, D, D, true);
    dX.set(dX1);
    layerNormBack(dH1, H1, rstd1, dX);
    // embeddings: scatter-add into E's rows, sum over the batch into P's
    const dE = grads.E, dP = grads.P;
    dE.fill(0);
    dP.fill(0);
    for (let r = 0; r < R; r++) {
      const o = r * D, e = idx[r] * D, p = (r % T) * D;
      for (let c = 0; c < D; c++) {
        dE[e + c] += dX[o + c];
        dP[p + c] += dX[o + c];
      }
    }
  }

  const out = new Float64Array(1);
  const names = Object.keys(SHAPES);
  function step(v) {
    out[0] = forward(v.ids, v.target);
    backward();
    for (let i = 0; i < names.length; i++) sgd(params[names[i]], grads[names[i]], lr);
    return out[0];
  }
  return { params, grads, step };
}
