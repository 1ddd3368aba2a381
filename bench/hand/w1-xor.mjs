// W1 by hand: the seed XOR model (x [4,2] -> 3 sigmoid units -> 1 sigmoid output,
// loss = sum((y - y_out)^2), sgd lr = 1.0), one training step.
//
// `fusedXor` is the fastest version we could write: forward, backward and the SGD update
// fully fused and unrolled into straight-line code over locals (the text is produced by a
// template, as a person would copy-paste it), one generated function per instance, the loss
// written into a preallocated Float64Array and returned from a tiny wrapper.
// `loopsXor` is the plain way: loops and a buffer per intermediate.

const S = 4; // samples
const I = 2; // inputs
const H = 3; // hidden units

export function fusedXor(init, lr) {
  const L = [];
  const e = (s) => L.push(s);
  for (let i = 0; i < I; i++) for (let j = 0; j < H; j++) e(`const m1_${i}${j} = m1[${i * H + j}];`);
  for (let j = 0; j < H; j++) e(`const b1_${j} = b1[${j}], m2_${j} = m2[${j}];`);
  e(`const b2_0 = b2[0];`);
  for (let s = 0; s < S; s++) {
    e(`const x${s}0 = x[${s * I}], x${s}1 = x[${s * I + 1}];`);
    for (let j = 0; j < H; j++) e(`const h${s}${j} = 1 / (1 + Math.exp(-(x${s}0 * m1_0${j} + x${s}1 * m1_1${j} + b1_${j})));`);
    e(`const o${s} = 1 / (1 + Math.exp(-(h${s}0 * m2_0 + h${s}1 * m2_1 + h${s}2 * m2_2 + b2_0)));`);
    e(`const r${s} = o${s} - y[${s}];`);
    // d loss / d z2 = 2 (o - y) o (1 - o)
    e(`const d${s} = 2 * r${s} * o${s} * (1 - o${s});`);
    // d loss / d z1_j = d * m2_j * h (1 - h)
    for (let j = 0; j < H; j++) e(`const g${s}${j} = d${s} * m2_${j} * h${s}${j} * (1 - h${s}${j});`);
  }
  const sum = (f) => Array.from({ length: S }, (_, s) => f(s)).join(" + ");
  e(`out[0] = ${sum((s) => `r${s} * r${s}`)};`);
  for (let j = 0; j < H; j++) e(`m2[${j}] = m2_${j} - ${lr} * (${sum((s) => `d${s} * h${s}${j}`)});`);
  e(`b2[0] = b2_0 - ${lr} * (${sum((s) => `d${s}`)});`);
  for (let i = 0; i < I; i++) for (let j = 0; j < H; j++) e(`m1[${i * H + j}] = m1_${i}${j} - ${lr} * (${sum((s) => `x${s}${i} * g${s}${j}`)});`);
  for (let j = 0; j < H; j++) e(`b1[${j}] = b1_${j} - ${lr} * (${sum((s) => `g${s}${j}`)});`);

  const params = { m1: Float32Array.from(init.m1), b1: Float32Array.from(init.b1), m2: Float32Array.from(init.m2), b2: Float32Array.from(init.b2) };
  const out = new Float64Array(1);
  const make = new Function("m1", "b1", "m2", "b2", "out", `
    function run(x, y) {
      ${L.join("\n      ")}
    }
    return function step(v) { run(v.x, v.y); return out[0]; };`);
  return { params, step: make(params.m1, params.b1, params.m2, params.b2, out) };
}

export function loopsXor(init, lr) {
  const params = { m1: Float32Array.from(init.m1), b1: Float32Array.from(init.b1), m2: Float32Array.from(init.m2), b2: Float32Array.from(init.b2) };
  const { m1, b1, m2, b2 } = params;
  const z1 = new Float32Array(S * H), h = new Float32Array(S * H), z2 = new Float32Array(S), o = new Float32Array(S);
  const dz2 = new Float32Array(S), dh = new Float32Array(S * H), dz1 = new Float32Array(S * H);
  const dm1 = new Float32Array(I * H), db1 = new Float32Array(H), dm2 = new Float32Array(H), db2 = new Float32Array(1);
  const out = new Float64Array(1);
  function run(x, y) {
    for (let s = 0; s < S; s++) for (let j = 0; j < H; j++) {
      let acc = b1[j];
      for (let i = 0; i < I; i++) acc += x[s * I + i] * m1[i * H + j];
      z1[s * H + j] = acc;
    }
    for (let k = 0; k < S * H; k++) h[k] = 1 / (1 + Math.exp(-z1[k]));
    for (let s = 0; s < S; s++) {
      let acc = b2[0];
      for (let j = 0; j < H; j++) acc += h[s * H + j] * m2[j];
      z2[s] = acc;
    }
    for (let s = 0; s < S; s++) o[s] = 1 / (1 + Math.exp(-z2[s]));
    let loss = 0;
    for (let s = 0; s < S; s++) {
      const r = o[s] - y[s];
      loss += r * r;
      dz2[s] = 2 * r * o[s] * (1 - o[s]);
    }
    for (let s = 0; s < S; s++) for (let j = 0; j < H; j++) dh[s * H + j] = dz2[s] * m2[j];
    for (let k = 0; k < S * H; k++) dz1[k] = dh[k] * h[k] * (1 - h[k]);
    dm2.fill(0); db2.fill(0); dm1.fill(0); db1.fill(0);
    for (let s = 0; s < S; s++) {
      db2[0] += dz2[s];
      for (let j = 0; j < H; j++) {
        dm2[j] += h[s * H + j] * dz2[s];
        db1[j] += dz1[s * H + j];
        for (let i = 0; i < I; i++) dm1[i * H + j] += x[s * I + i] * dz1[s * H + j];
      }
    }
    for (let k = 0; k < I * H; k++) m1[k] -= lr * dm1[k];
    for (let k = 0; k < H; k++) { b1[k] -= lr * db1[k]; m2[k] -= lr * dm2[k]; }
    b2[0] -= lr * db2[0];
    out[0] = loss;
  }
  return { params, step: (v) => { run(v.x, v.y); return out[0]; } };
}
