// W4 by hand: CNN step. x [16,1,28,28] -> conv 3x3, 8 filters (+ bias) -> relu ->
// maxpool 2 -> reshape [16,1352] -> dense 10 (+ bias) -> softmax cross-entropy (mean over
// the batch) -> SGD. Layouts as gradc's: k [8,1,3,3], kb [8,1,1], w [1352,10], b [10].
//
// Written as well as we could: all sizes are literals; conv, relu and max-pool are one
// pass per filter (the 9 weights in locals, the 4x4 input patch of a pool window in
// locals, 4 conv outputs, relu, the first maximal element kept as an argmax code); the
// dense layer keeps its 10 classes in locals; its backward pass computes d pooled (masked
// by the pool's relu) and the SGD update of w in one sweep; the filter gradient visits only
// each window's argmax (the only position with a gradient). The straight-line parts
// (9 taps, the 4x4 window, 10 classes) are written out by a template, and each instance is
// its own generated function. The 8 filters stay a loop around that straight-line code:
// unrolling them too (8 copies, the filter index a literal) measured no faster here.

const list = (n, f, sep = ", ") => Array.from({ length: n }, (_, i) => f(i)).join(sep);
const C = 10; // classes

function source() {
  // One conv output at patch offset (r, s) within the 4x4 window.
  const conv = (r, s) => `kb_f + ${list(9, (t) => `k${t} * x${Math.floor(t / 3) + r}${(t % 3) + s}`, " + ")}`;
  return `
  // conv + relu + maxpool, one filter at a time
  for (let f = 0; f < 8; f++) {
    const ${list(9, (t) => `k${t} = k[f * 9 + ${t}]`)};
    const kb_f = kb[f];
    for (let n = 0; n < 16; n++) {
      for (let pi = 0; pi < 13; pi++) {
        const xrow = n * 784 + pi * 56;
        const orow = n * 1352 + f * 169 + pi * 13;
        for (let pj = 0; pj < 13; pj++) {
          const q = xrow + 2 * pj;
          ${list(4, (r) => `const ${list(4, (s) => `x${r}${s} = x[q + ${r * 28 + s}]`)};`, "\n          ")}
          const c0 = ${conv(0, 0)};
          const c1 = ${conv(0, 1)};
          const c2 = ${conv(1, 0)};
          const c3 = ${conv(1, 1)};
          let m = c0, a = 0;
          if (c1 > m) { m = c1; a = 1; }
          if (c2 > m) { m = c2; a = 2; }
          if (c3 > m) { m = c3; a = 3; }
          p[orow + pj] = m > 0 ? m : 0;
          am[orow + pj] = a;
        }
      }
    }
  }
  // logits = p @ w + b; softmax cross-entropy; d logits = (softmax * sum(y) - y) / 16
  let loss = 0;
  for (let n = 0; n < 16; n++) {
    let ${list(C, (c) => `l${c} = b[${c}]`)};
    const pb = n * 1352;
    for (let i = 0; i < 1352; i++) {
      const a = p[pb + i];
      const wb = i * 10;
      ${list(C, (c) => `l${c} += a * w[wb + ${c}];`, " ")}
    }
    const m = Math.max(${list(C, (c) => `l${c}`)});
    ${list(C, (c) => `const e${c} = Math.exp(l${c} - m);`, " ")}
    const s = ${list(C, (c) => `e${c}`, " + ")};
    const lse = m + Math.log(s);
    const yb = n * 10;
    ${list(C, (c) => `const y${c} = y[yb + ${c}];`, " ")}
    const ys = ${list(C, (c) => `y${c}`, " + ")};
    loss += ys * lse - (${list(C, (c) => `y${c} * l${c}`, " + ")});
    const q = ys / (16 * s);
    ${list(C, (c) => `dl[yb + ${c}] = e${c} * q - y${c} / 16;`, " ")}
  }
  out[0] = loss / 16;
  // b -= lr * sum(d logits)
  ${list(C, (c) => `b[${c}] -= LR * (${list(16, (n) => `dl[${n * 10 + c}]`, " + ")});`, "\n  ")}
  // one sweep over w's rows: d pooled (with the old w, zero where the relu was off) and
  // w -= lr * p^T @ d logits
  for (let i = 0; i < 1352; i++) {
    const wb = i * 10;
    const ${list(C, (c) => `w${c} = w[wb + ${c}]`)};
    let ${list(C, (c) => `s${c} = 0`)};
    for (let n = 0; n < 16; n++) {
      const pv = p[n * 1352 + i];
      const db = n * 10;
      const ${list(C, (c) => `g${c} = dl[db + ${c}]`)};
      ${list(C, (c) => `s${c} += pv * g${c};`, " ")}
      dp[n * 1352 + i] = pv > 0 ? ${list(C, (c) => `g${c} * w${c}`, " + ")} : 0;
    }
    ${list(C, (c) => `w[wb + ${c}] = w${c} - LR * s${c};`, " ")}
  }
  // k -= lr * d k, kb -= lr * d kb: each pool window's gradient goes to its argmax
  for (let f = 0; f < 8; f++) {
    let ${list(9, (t) => `s${t} = 0`)}, sb = 0;
    for (let n = 0; n < 16; n++) {
      for (let pi = 0; pi < 13; pi++) {
        const xrow = n * 784 + pi * 56;
        const orow = n * 1352 + f * 169 + pi * 13;
        for (let pj = 0; pj < 13; pj++) {
          const g = dp[orow + pj];
          const a = am[orow + pj];
          const q = xrow + 2 * pj + (a >> 1) * 28 + (a & 1);
          ${list(9, (t) => `s${t} += g * x[q + ${Math.floor(t / 3) * 28 + (t % 3)}];`, " ")}
          sb += g;
        }
      }
    }
    ${list(9, (t) => `k[f * 9 + ${t}] -= LR * s${t};`, " ")}
    kb[f] -= LR * sb;
  }
`;
}

export function handCnn(init, lr) {
  const params = { k: Float32Array.from(init.k), kb: Float32Array.from(init.kb), w: Float32Array.from(init.w), b: Float32Array.from(init.b) };
  const p = new Float32Array(16 * 1352), dp = new Float32Array(16 * 1352), am = new Uint8Array(16 * 1352), dl = new Float64Array(16 * 10);
  const out = new Float64Array(1);
  const make = new Function("k", "kb", "w", "b", "p", "dp", "am", "dl", "out", `
    const LR = ${lr};
    function run(x, y) {${source()}}
    return function step(v) { run(v.x, v.y); return out[0]; };`);
  return { params, step: make(params.k, params.kb, params.w, params.b, p, dp, am, dl, out), source: source() };
}
