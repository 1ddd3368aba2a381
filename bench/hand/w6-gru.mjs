// W6 by hand: the GRU language model of bench/models/w6-gru.grad (T 32, batch 32, hidden
// 128, vocabulary 64), one SGD step: forward, backward through time, update.
//
// Written as a careful person would for speed in plain JavaScript: Float32Array buffers
// allocated once, three matrix-product kernels with 2x4 register tiles (A @ B, A @ B^T,
// A^T @ B; kernels.mjs), the input projections of all 32 steps done as one [1024, 128] product before the
// recurrence (only h @ U runs per step), the per-step gate gradients stored so the weight
// gradients are again [1024, ...] products after the loop, elementwise work fused into one
// pass per step. Same algorithm as the model (no algebraic shortcuts such as folding the
// embedding into the input weights).

import { addRows, colSum, mmNN, mmNT, mmTN, sgd } from "./kernels.mjs";

const T = 32, B = 32, H = 128, V = 64;
const TB = T * B, BH = B * H;

const SHAPES = { E: V * H, wz: H * H, uz: H * H, bz: H, wr: H * H, ur: H * H, br: H, wn: H * H, un: H * H, bn: H, wout: H * V, bout: V };

export function handGru(init, lr) {
  const params = Object.fromEntries(Object.keys(SHAPES).map((k) => [k, Float32Array.from(init[k])]));
  const grads = Object.fromEntries(Object.entries(SHAPES).map(([k, n]) => [k, new Float32Array(n)]));
  const { E, wz, uz, bz, wr, ur, br, wn, un, bn, wout, bout } = params;
  const X = new Float32Array(TB * H); // embedded tokens
  const Z = new Float32Array(TB * H), R = new Float32Array(TB * H), N = new Float32Array(TB * H); // gates (pre-activations first)
  const RH = new Float32Array(TB * H); // r * h_prev
  const HS = new Float32Array((T + 1) * BH); // h_0 = 0, then h_1..h_T
  const L = new Float32Array(TB * V); // logits, then their gradient
  const DHS = new Float32Array(TB * H);
  const DAZ = new Float32Array(TB * H), DAR = new Float32Array(TB * H), DAN = new Float32Array(TB * H);
  const dh = new Float32Array(BH), dhp = new Float32Array(BH), drh = new Float32Array(BH);
  const DX = new Float32Array(TB * H);
  const idx = new Int32Array(TB);

  function forward(ids, target) {
    for (let p = 0; p < TB; p++) {
      const id = ids[p];
      idx[p] = id;
      X.set(E.subarray(id * H, id * H + H), p * H);
    }
    // input projections of every step at once, biases folded in
    mmNN(X, 0, wz, 0, Z, 0, TB, H, H, false); addRows(Z, TB, H, bz);
    mmNN(X, 0, wr, 0, R, 0, TB, H, H, false); addRows(R, TB, H, br);
    mmNN(X, 0, wn, 0, N, 0, TB, H, H, false); addRows(N, TB, H, bn);
    for (let t = 0; t < T; t++) {
      const o = t * BH; // this step's rows; HS[o..] is h_prev, HS[o + BH..] is h
      mmNN(HS, o, uz, 0, Z, o, B, H, H, true);
      mmNN(HS, o, ur, 0, R, o, B, H, H, true);
      for (let e = 0; e < BH; e++) {
        const z = 1 / (1 + Math.exp(-Z[o + e]));
        const r = 1 / (1 + Math.exp(-R[o + e]));
        Z[o + e] = z; R[o + e] = r;
        RH[o + e] = r * HS[o + e];
      }
      mmNN(RH, o, un, 0, N, o, B, H, H, true);
      for (let e = 0; e < BH; e++) {
        const n = Math.tanh(N[o + e]);
        const z = Z[o + e];
        N[o + e] = n;
        HS[o + BH + e] = (1 - z) * n + z * HS[o + e];
      }
    }
    // logits and softmax cross-entropy (mean over the 1024 positions); L becomes d logits
    mmNN(HS, BH, wout, 0, L, 0, TB, H, V, false); addRows(L, TB, V, bout);
    let loss = 0;
    for (let p = 0; p < TB; p++) {
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
      const q = ys / (TB * s);
      for (let c = 0; c < V; c++) L[a + c] = Math.exp(L[a + c] - m) * q - target[a + c] / TB;
    }
    return loss / TB;
  }

  function backward() {
    mmTN(HS, BH, L, 0, grads.wout, H, TB, V);
    colSum(L, TB, V, grads.bout);
    mmNT(L, 0, wout, 0, DHS, 0, TB, V, H, false);
    dh.fill(0);
    for (let t = T - 1; t >= 0; t--) {
      const o = t * BH;
      for (let e = 0; e < BH; e++) {
        const g = dh[e] + DHS[o + e];
        const z = Z[o + e], n = N[o + e], hp = HS[o + e];
        DAN[o + e] = g * (1 - z) * (1 - n * n);
        DAZ[o + e] = g * (hp - n) * z * (1 - z);
        dhp[e] = g * z;
      }
      mmNT(DAN, o, un, 0, drh, 0, B, H, H, false);
      for (let e = 0; e < BH; e++) {
        const r = R[o + e];
        DAR[o + e] = drh[e] * HS[o + e] * r * (1 - r);
        dhp[e] += drh[e] * r;
      }
      mmNT(DAZ, o, uz, 0, dhp, 0, B, H, H, true);
      mmNT(DAR, o, ur, 0, dhp, 0, B, H, H, true);
      dh.set(dhp);
    }
    // weight gradients over all 1024 positions at once
    mmTN(X, 0, DAZ, 0, grads.wz, H, TB, H);
    mmTN(X, 0, DAR, 0, grads.wr, H, TB, H);
    mmTN(X, 0, DAN, 0, grads.wn, H, TB, H);
    mmTN(HS, 0, DAZ, 0, grads.uz, H, TB, H);
    mmTN(HS, 0, DAR, 0, grads.ur, H, TB, H);
    mmTN(RH, 0, DAN, 0, grads.un, H, TB, H);
    colSum(DAZ, TB, H, grads.bz);
    colSum(DAR, TB, H, grads.br);
    colSum(DAN, TB, H, grads.bn);
    mmNT(DAZ, 0, wz, 0, DX, 0, TB, H, H, false);
    mmNT(DAR, 0, wr, 0, DX, 0, TB, H, H, true);
    mmNT(DAN, 0, wn, 0, DX, 0, TB, H, H, true);
    const dE = grads.E;
    dE.fill(0);
    for (let p = 0; p < TB; p++) {
      const a = idx[p] * H, x = p * H;
      for (let j = 0; j < H; j++) dE[a + j] += DX[x + j];
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
