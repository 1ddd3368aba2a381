// W2 by hand: MLP 784-128-10, batch 64, relu, softmax cross-entropy (mean over the
// batch), one SGD step.
//
// `tiledMlp` is the fastest version we could write: sizes are literals, the two big
// matmuls (x @ w1 and x^T @ dh) use 2x4 register tiles with k innermost and 8 accumulators
// in locals, bias + relu fused into the forward tile's epilogue and the SGD update fused
// into the weight-gradient tile's epilogue; the 10-class layers keep 10 accumulators in
// locals. `plainMlp` is the textbook version: i-k-j loops and a buffer per intermediate.
// Each instance gets its own generated function text (`new Function`).

const tiledBody = `
  // h = relu(x @ w1 + b1): 2x4 tiles
  for (let i = 0; i < 64; i += 2) {
    const a0 = i * 784, a1 = a0 + 784;
    for (let j = 0; j < 128; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      for (let k = 0; k < 784; k++) {
        const x0 = x[a0 + k], x1 = x[a1 + k];
        const wb = k * 128 + j;
        const w0 = w1[wb], v1 = w1[wb + 1], v2 = w1[wb + 2], v3 = w1[wb + 3];
        c00 += x0 * w0; c01 += x0 * v1; c02 += x0 * v2; c03 += x0 * v3;
        c10 += x1 * w0; c11 += x1 * v1; c12 += x1 * v2; c13 += x1 * v3;
      }
      const d0 = b1[j], d1 = b1[j + 1], d2 = b1[j + 2], d3 = b1[j + 3];
      const o0 = i * 128 + j, o1 = o0 + 128;
      let t;
      t = c00 + d0; h[o0] = t > 0 ? t : 0;
      t = c01 + d1; h[o0 + 1] = t > 0 ? t : 0;
      t = c02 + d2; h[o0 + 2] = t > 0 ? t : 0;
      t = c03 + d3; h[o0 + 3] = t > 0 ? t : 0;
      t = c10 + d0; h[o1] = t > 0 ? t : 0;
      t = c11 + d1; h[o1 + 1] = t > 0 ? t : 0;
      t = c12 + d2; h[o1 + 2] = t > 0 ? t : 0;
      t = c13 + d3; h[o1 + 3] = t > 0 ? t : 0;
    }
  }
  // logits = h @ w2 + b2, softmax cross-entropy, d logits = (softmax - y) / 64
  let loss = 0;
  for (let i = 0; i < 64; i++) {
    let l0 = b2[0], l1 = b2[1], l2 = b2[2], l3 = b2[3], l4 = b2[4], l5 = b2[5], l6 = b2[6], l7 = b2[7], l8 = b2[8], l9 = b2[9];
    const hb = i * 128;
    for (let k = 0; k < 128; k++) {
      const a = h[hb + k];
      const wb = k * 10;
      l0 += a * w2[wb]; l1 += a * w2[wb + 1]; l2 += a * w2[wb + 2]; l3 += a * w2[wb + 3]; l4 += a * w2[wb + 4];
      l5 += a * w2[wb + 5]; l6 += a * w2[wb + 6]; l7 += a * w2[wb + 7]; l8 += a * w2[wb + 8]; l9 += a * w2[wb + 9];
    }
    const m = Math.max(l0, l1, l2, l3, l4, l5, l6, l7, l8, l9);
    const e0 = Math.exp(l0 - m), e1 = Math.exp(l1 - m), e2 = Math.exp(l2 - m), e3 = Math.exp(l3 - m), e4 = Math.exp(l4 - m);
    const e5 = Math.exp(l5 - m), e6 = Math.exp(l6 - m), e7 = Math.exp(l7 - m), e8 = Math.exp(l8 - m), e9 = Math.exp(l9 - m);
    const s = e0 + e1 + e2 + e3 + e4 + e5 + e6 + e7 + e8 + e9;
    const lse = m + Math.log(s);
    const yb = i * 10;
    const y0 = y[yb], y1 = y[yb + 1], y2 = y[yb + 2], y3 = y[yb + 3], y4 = y[yb + 4], y5 = y[yb + 5], y6 = y[yb + 6], y7 = y[yb + 7], y8 = y[yb + 8], y9 = y[yb + 9];
    const ys = y0 + y1 + y2 + y3 + y4 + y5 + y6 + y7 + y8 + y9;
    loss += ys * lse - (y0 * l0 + y1 * l1 + y2 * l2 + y3 * l3 + y4 * l4 + y5 * l5 + y6 * l6 + y7 * l7 + y8 * l8 + y9 * l9);
    const q = ys / (64 * s);
    dl[yb] = e0 * q - y0 / 64; dl[yb + 1] = e1 * q - y1 / 64; dl[yb + 2] = e2 * q - y2 / 64; dl[yb + 3] = e3 * q - y3 / 64; dl[yb + 4] = e4 * q - y4 / 64;
    dl[yb + 5] = e5 * q - y5 / 64; dl[yb + 6] = e6 * q - y6 / 64; dl[yb + 7] = e7 * q - y7 / 64; dl[yb + 8] = e8 * q - y8 / 64; dl[yb + 9] = e9 * q - y9 / 64;
  }
  out[0] = loss / 64;
  // dh = (dl @ w2^T) * (h > 0), with the old w2
  for (let i = 0; i < 64; i++) {
    const yb = i * 10;
    const g0 = dl[yb], g1 = dl[yb + 1], g2 = dl[yb + 2], g3 = dl[yb + 3], g4 = dl[yb + 4], g5 = dl[yb + 5], g6 = dl[yb + 6], g7 = dl[yb + 7], g8 = dl[yb + 8], g9 = dl[yb + 9];
    const hb = i * 128;
    for (let k = 0; k < 128; k++) {
      const wb = k * 10;
      dh[hb + k] = h[hb + k] > 0
        ? g0 * w2[wb] + g1 * w2[wb + 1] + g2 * w2[wb + 2] + g3 * w2[wb + 3] + g4 * w2[wb + 4] + g5 * w2[wb + 5] + g6 * w2[wb + 6] + g7 * w2[wb + 7] + g8 * w2[wb + 8] + g9 * w2[wb + 9]
        : 0;
    }
  }
  // w2 -= lr * h^T @ dl; b2 -= lr * sum(dl)
  for (let k = 0; k < 128; k++) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0, s8 = 0, s9 = 0;
    for (let i = 0; i < 64; i++) {
      const a = h[i * 128 + k];
      const yb = i * 10;
      s0 += a * dl[yb]; s1 += a * dl[yb + 1]; s2 += a * dl[yb + 2]; s3 += a * dl[yb + 3]; s4 += a * dl[yb + 4];
      s5 += a * dl[yb + 5]; s6 += a * dl[yb + 6]; s7 += a * dl[yb + 7]; s8 += a * dl[yb + 8]; s9 += a * dl[yb + 9];
    }
    const wb = k * 10;
    w2[wb] -= LR * s0; w2[wb + 1] -= LR * s1; w2[wb + 2] -= LR * s2; w2[wb + 3] -= LR * s3; w2[wb + 4] -= LR * s4;
    w2[wb + 5] -= LR * s5; w2[wb + 6] -= LR * s6; w2[wb + 7] -= LR * s7; w2[wb + 8] -= LR * s8; w2[wb + 9] -= LR * s9;
  }
  for (let c = 0; c < 10; c++) {
    let s = 0;
    for (let i = 0; i < 64; i++) s += dl[i * 10 + c];
    b2[c] -= LR * s;
  }
  // w1 -= lr * x^T @ dh: 2x4 tiles, the update fused into the epilogue
  for (let p = 0; p < 784; p += 2) {
    for (let j = 0; j < 128; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      for (let k = 0; k < 64; k++) {
        const xb = k * 784 + p;
        const x0 = x[xb], x1 = x[xb + 1];
        const db = k * 128 + j;
        const g0 = dh[db], g1 = dh[db + 1], g2 = dh[db + 2], g3 = dh[db + 3];
        c00 += x0 * g0; c01 += x0 * g1; c02 += x0 * g2; c03 += x0 * g3;
        c10 += x1 * g0; c11 += x1 * g1; c12 += x1 * g2; c13 += x1 * g3;
      }
      const o0 = p * 128 + j, o1 = o0 + 128;
      w1[o0] -= LR * c00; w1[o0 + 1] -= LR * c01; w1[o0 + 2] -= LR * c02; w1[o0 + 3] -= LR * c03;
      w1[o1] -= LR * c10; w1[o1 + 1] -= LR * c11; w1[o1 + 2] -= LR * c12; w1[o1 + 3] -= LR * c13;
    }
  }
  // b1 -= lr * sum(dh)
  for (let j = 0; j < 128; j += 4) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let i = 0; i < 64; i++) {
      const db = i * 128 + j;
      s0 += dh[db]; s1 += dh[db + 1]; s2 += dh[db + 2]; s3 += dh[db + 3];
    }
    b1[j] -= LR * s0; b1[j + 1] -= LR * s1; b1[j + 2] -= LR * s2; b1[j + 3] -= LR * s3;
  }
`;

function instance(body, init, lr) {
  const params = { w1: Float32Array.from(init.w1), b1: Float32Array.from(init.b1), w2: Float32Array.from(init.w2), b2: Float32Array.from(init.b2) };
  const bufs = { h: new Float32Array(64 * 128), dh: new Float32Array(64 * 128), dl: new Float32Array(64 * 10), z: new Float32Array(64 * 128), logits: new Float32Array(64 * 10), dw1: new Float32Array(784 * 128), dw2: new Float32Array(128 * 10) };
  const out = new Float64Array(1);
  const make = new Function("w1", "b1", "w2", "b2", "h", "dh", "dl", "z", "logits", "dw1", "dw2", "out", `
    const LR = ${lr};
    function run(x, y) {${body}}
    return function step(v) { run(v.x, v.y); return out[0]; };`);
  const step = make(params.w1, params.b1, params.w2, params.b2, bufs.h, bufs.dh, bufs.dl, bufs.z, bufs.logits, bufs.dw1, bufs.dw2, out);
  return { params, step };
}

export function tiledMlp(init, lr) {
  return instance(tiledBody, init, lr);
}

const plainBody = `
  // z = x @ w1 (i-k-j), h = relu(z + b1)
  z.fill(0);
  for (let i = 0; i < 64; i++) for (let k = 0; k < 784; k++) {
    const a = x[i * 784 + k];
    for (let j = 0; j < 128; j++) z[i * 128 + j] += a * w1[k * 128 + j];
  }
  for (let i = 0; i < 64; i++) for (let j = 0; j < 128; j++) {
    const t = z[i * 128 + j] + b1[j];
    h[i * 128 + j] = t > 0 ? t : 0;
  }
  logits.fill(0);
  for (let i = 0; i < 64; i++) for (let k = 0; k < 128; k++) {
    const a = h[i * 128 + k];
    for (let c = 0; c < 10; c++) logits[i * 10 + c] += a * w2[k * 10 + c];
  }
  let loss = 0;
  for (let i = 0; i < 64; i++) {
    let m = -Infinity;
    for (let c = 0; c < 10; c++) { logits[i * 10 + c] += b2[c]; m = Math.max(m, logits[i * 10 + c]); }
    let s = 0, ys = 0;
    for (let c = 0; c < 10; c++) { s += Math.exp(logits[i * 10 + c] - m); ys += y[i * 10 + c]; }
    const lse = m + Math.log(s);
    for (let c = 0; c < 10; c++) {
      const l = logits[i * 10 + c];
      loss += y[i * 10 + c] * (lse - l);
      dl[i * 10 + c] = (Math.exp(l - lse) * ys - y[i * 10 + c]) / 64;
    }
  }
  out[0] = loss / 64;
  // dh = dl @ w2^T * (h > 0)
  for (let i = 0; i < 64; i++) for (let k = 0; k < 128; k++) {
    let s = 0;
    for (let c = 0; c < 10; c++) s += dl[i * 10 + c] * w2[k * 10 + c];
    dh[i * 128 + k] = h[i * 128 + k] > 0 ? s : 0;
  }
  // dw2 = h^T @ dl, dw1 = x^T @ dh (i-k-j)
  dw2.fill(0);
  for (let i = 0; i < 64; i++) for (let k = 0; k < 128; k++) {
    const a = h[i * 128 + k];
    for (let c = 0; c < 10; c++) dw2[k * 10 + c] += a * dl[i * 10 + c];
  }
  dw1.fill(0);
  for (let i = 0; i < 64; i++) for (let p = 0; p < 784; p++) {
    const a = x[i * 784 + p];
    for (let j = 0; j < 128; j++) dw1[p * 128 + j] += a * dh[i * 128 + j];
  }
  for (let k = 0; k < 784 * 128; k++) w1[k] -= LR * dw1[k];
  for (let k = 0; k < 128 * 10; k++) w2[k] -= LR * dw2[k];
  for (let j = 0; j < 128; j++) { let s = 0; for (let i = 0; i < 64; i++) s += dh[i * 128 + j]; b1[j] -= LR * s; }
  for (let c = 0; c < 10; c++) { let s = 0; for (let i = 0; i < 64; i++) s += dl[i * 10 + c]; b2[c] -= LR * s; }
`;

export function plainMlp(init, lr) {
  return instance(plainBody, init, lr);
}
