// scan's cost against T, for a GRU cell (hidden 32, batch 8, input 16) with T bound:
// emitted bytes, compile time, and valueAndGrad time per token at T = 8, 64 and 512,
// against a hand-written JavaScript GRU (forward saving z, n and the carries, then the
// reverse sweep) that is first checked to compute the same loss and gradients; and `step`
// (with adam) per token. Not a test: `npx tsx bench/scan-gru.mjs` prints a table. Runs are
// interleaved (compiled, hand-written, step, ...) and medians reported: the machine is shared.

import { compileToSource, compile } from "../src/index.ts";

const B = 8, D = 16, H = 32;
const source = `dim t
input xs: [t, ${B}, ${D}]
input h0: [${B}, ${H}]
param wz: [${D}, ${H}] = glorot_uniform
param uz: [${H}, ${H}] = glorot_uniform
param wn: [${D}, ${H}] = glorot_uniform
param un: [${H}, ${H}] = glorot_uniform
fn gru(h, x) {
  z = sigmoid(x @ wz + h @ uz)
  n = tanh(x @ wn + (z * h) @ un)
  (1 - z) * n + z * h
}
hs = scan(gru, h0, xs)
output hs
minimize mean(hs * hs) with adam(lr = 0.001)`;

/** A hand-written GRU valueAndGrad over Float32Arrays, allocated once for T steps. */
function handWritten(T) {
  const F = Float32Array;
  const hs = new F(T * B * H), zs = new F(T * B * H), ns = new F(T * B * H);
  const a = new F(B * H), dh = new F(B * H), dan = new F(B * H), daz = new F(B * H), dzh = new F(B * H);
  const grads = { wz: new F(D * H), uz: new F(H * H), wn: new F(D * H), un: new F(H * H) };
  const zh = new F(B * H);
  return (xs, h0, p) => {
    const { wz, uz, wn, un } = p;
    for (let t = 0; t < T; t++) {
      const prev = t === 0 ? h0 : hs, po = t === 0 ? 0 : (t - 1) * B * H, xo = t * B * D, o = t * B * H;
      for (let b = 0; b < B; b++) {
        for (let j = 0; j < H; j++) {
          let s = 0;
          for (let k = 0; k < D; k++) s += xs[xo + b * D + k] * wz[k * H + j];
          for (let k = 0; k < H; k++) s += prev[po + b * H + k] * uz[k * H + j];
          const z = 1 / (1 + Math.exp(-s));
          zs[o + b * H + j] = z;
          zh[b * H + j] = z * prev[po + b * H + j];
        }
        for (let j = 0; j < H; j++) {
          let s = 0;
          for (let k = 0; k < D; k++) s += xs[xo + b * D + k] * wn[k * H + j];
          for (let k = 0; k < H; k++) s += zh[b * H + k] * un[k * H + j];
          const n = Math.tanh(s), z = zs[o + b * H + j];
          ns[o + b * H + j] = n;
          hs[o + b * H + j] = (1 - z) * n + z * prev[po + b * H + j];
        }
      }
    }
    let loss = 0;
    for (let i = 0; i < T * B * H; i++) loss += hs[i] * hs[i];
    const scale = 2 / (T * B * H);
    for (const g of Object.values(grads)) g.fill(0);
    a.fill(0);
    for (let t = T - 1; t >= 0; t--) {
      const prev = t === 0 ? h0 : hs, po = t === 0 ? 0 : (t - 1) * B * H, xo = t * B * D, o = t * B * H;
      for (let i = 0; i < B * H; i++) {
        const g = a[i] + scale * hs[o + i], z = zs[o + i], n = ns[o + i];
        dh[i] = g;
        dan[i] = g * (1 - z) * (1 - n * n);
        zh[i] = z * prev[po + i];
      }
      for (let b = 0; b < B; b++) {
        for (let k = 0; k < H; k++) {
          let s = 0;
          for (let j = 0; j < H; j++) s += dan[b * H + j] * un[k * H + j];
          dzh[b * H + k] = s;
        }
      }
      for (let i = 0; i < B * H; i++) {
        const z = zs[o + i], n = ns[o + i], h = prev[po + i];
        const dz = dh[i] * (h - n) + dzh[i] * h;
        daz[i] = dz * z * (1 - z);
        a[i] = dh[i] * z + dzh[i] * z;
      }
      for (let b = 0; b < B; b++) {
        for (let k = 0; k < H; k++) {
          let s = 0;
          for (let j = 0; j < H; j++) s += daz[b * H + j] * uz[k * H + j];
          a[b * H + k] += s;
        }
        for (let k = 0; k < D; k++) {
          const x = xs[xo + b * D + k];
          for (let j = 0; j < H; j++) { grads.wz[k * H + j] += x * daz[b * H + j]; grads.wn[k * H + j] += x * dan[b * H + j]; }
        }
        for (let k = 0; k < H; k++) {
          const h = prev[po + b * H + k], q = zh[b * H + k];
          for (let j = 0; j < H; j++) { grads.uz[k * H + j] += h * daz[b * H + j]; grads.un[k * H + j] += q * dan[b * H + j]; }
        }
      }
    }
    return { value: loss / (T * B * H), grads };
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log("T\temitted bytes\tcompile ms\tvalueAndGrad µs/token\thand-written µs/token\tratio\tstep (adam) µs/token");
for (const T of [8, 64, 512]) {
  const compiles = [];
  let text = "";
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    text = compileToSource(source, { sizes: { t: T } }).text;
    compiles.push(performance.now() - start);
  }
  const model = compile(source, { sizes: { t: T } });
  const params = model.createParams(1);
  const xs = Float32Array.from({ length: T * B * D }, (_, i) => Math.sin(i * 0.37));
  const h0 = Float32Array.from({ length: B * H }, (_, i) => 0.5 * Math.cos(i * 0.11));
  const hand = handWritten(T);
  // Same loss and gradients first.
  const ours = model.valueAndGrad({ xs, h0, ...params });
  const theirs = hand(xs, h0, params);
  const worst = Math.max(Math.abs(ours.value - theirs.value) / Math.abs(theirs.value),
    ...Object.keys(theirs.grads).map((k) => Math.max(...theirs.grads[k].map((v, i) => Math.abs(v - ours.grads[k][i]))) / Math.max(...theirs.grads[k].map(Math.abs))));
  if (!(worst < 1e-3)) throw new Error(`T = ${T}: the hand-written GRU disagrees (relative ${worst})`);
  const runs = Math.max(5, Math.round(4000 / T));
  const time = (f) => { const t0 = performance.now(); for (let i = 0; i < runs; i++) f(); return ((performance.now() - t0) / runs / T) * 1000; };
  const a = [], b = [], c = [];
  const values = { xs, h0, ...params };
  for (let i = 0; i < 3; i++) { model.valueAndGrad(values); hand(xs, h0, params); }
  for (let r = 0; r < 7; r++) {
    a.push(time(() => model.valueAndGrad(values)));
    b.push(time(() => hand(xs, h0, params)));
    c.push(time(() => model.step({ xs, h0 })));
  }
  const ma = median(a), mb = median(b);
  console.log(`${T}\t${text.length}\t${median(compiles).toFixed(0)}\t${ma.toFixed(1)}\t${mb.toFixed(1)}\t${(ma / mb).toFixed(2)}\t${median(c).toFixed(1)}`);
}
