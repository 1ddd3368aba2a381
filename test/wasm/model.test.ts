// Whole models on the wasm target against the JS target: the differential tests' models
// (every built-in) and the wasm target's own kernels, at random and adversarial values
// (ties, zeros of both signs, integers), forward outputs, objective and every gradient.
// The translated kernels compute what the JS target's do in the same f64 arithmetic, so
// most results agree bit for bit; the Math functions are our polynomials (math.ts,
// trig.ts) and large matmuls accumulate in f32 SIMD lanes, so the bound is f32 rounding.
// Then training: the XOR seed and the W2 MLP reach the JS target's loss.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile, compileToSource } from "../../src/index";
import { scavengesDuring } from "../helpers/gc";
import { modelCases } from "../helpers/model-cases";
import { rng } from "../helpers/random";
import { asArray, compareTargets, expectClose, type Args, type TargetCase } from "../helpers/targets";

const xorSource = readFileSync(new URL("../../examples/xor/xor.grad", import.meta.url), "utf8");
const w2Source = readFileSync(new URL("../../bench/models/w2-mlp.grad", import.meta.url), "utf8");

interface WasmCase extends TargetCase {
  name: string;
  /** Random values only (see the case). */
  randomOnly?: boolean;
}

/** The models of the differential tests (every built-in, test/helpers/model-cases.ts), at
 *  their first run's sizes, then cases for the wasm target's own kernels (SIMD tiles). */
const cases: WasmCase[] = [
  ...modelCases.map((c) => ({ name: c.name, source: c.source, sizes: c.sizes ?? c.runs?.[0], values: c.values })),
  {
    name: "large matmuls on the SIMD kernel: edge tiles, both gradients, an epilogue",
    source: `
input x: [37, 45]
param w: [45, 29]
param b: [29]
param u: [29, 13]
h = tanh(x @ w + b)
y = h @ u
loss = mean(y * y) + sum(exp(-h))
output y
minimize loss with sgd(lr = 0.01)
`,
  },
  {
    // With values that tie and cancel, a pre-activation exactly 0 in f64 is a rounding
    // error away from it in f32 SIMD lanes, and relu's gradient flips: random values only.
    name: "a relu epilogue on the SIMD kernel",
    source: `
input x: [64, 40]
param w: [40, 24]
param b: [24]
h = relu(x @ w + b)
loss = mean(h * h)
output h
minimize loss with sgd(lr = 0.01)
`,
    randomOnly: true,
  },
  {
    // Over smallModelElements: sums and maxima over the last axis as f32x4 reductions
    // (softmax's, layer norm's, a stored array's and a reshape of one's, maps reading a
    // reshape of a stored array), rows of 37 (a tail of 1) and of 6; a sum over the
    // first axis stays translated
    name: "f32x4 reductions over the last axis: softmax, layer norm, max",
    source: `
input x: [45, 37]
input z: [300, 6]
param w: [37, 37]
h = x @ w
s = softmax(h, axis = -1)
n = layer_norm(h)
m = max(h * x, axis = -1)
t = sum(exp(z) * z, axis = -1) + max(z, axis = 1)
q = reshape(h, [5, 9, 37])
u = max(q, axis = -1) + sum(exp(q / 10) * q, axis = -1)
loss = sum(s * x) + mean(n * n * x) + sum(m) + mean(t) + sum(sum(h, axis = 0)) + sum(u * u)
output s, m, t, u
minimize loss
`,
  },
  {
    // The weight gradients x^T @ dy over a batch of 300: k in blocks of 128, 128 and 44
    name: "a weight gradient over a long batch, in blocks of k",
    source: `
input x: [300, 21]
param w: [21, 9]
param u: [9, 13]
h = tanh(x @ w)
y = h @ u
loss = mean(y * y)
output y
minimize loss with sgd(lr = 0.01)
`,
  },
  {
    // Over smallModelElements: exp and tanh in f32x4 maps (vmath.ts), gelu's fused group
    // (its intermediates stored for the gradient) as one map with several outputs, odd
    // rows (a scalar tail per row)
    name: "f32x4 exp and tanh maps, a fused group with several outputs",
    source: `
input x: [37, 40]
param w: [40, 51]
h = x @ w
g = gelu(h)
e = exp(h - 1) * (h > 0)
t = tanh(h) * sigmoid(h)
loss = mean(g * g) + mean(e) + sum(t) / 100
output g, e, t
minimize loss
`,
  },
  {
    // Over smallModelElements (4096), so kernels are functions and the convolutions run
    // on the SIMD kernels (a small model's inline kernels are translated scalar code).
    name: "SIMD kernels: conv1d (dilation), grouped conv2d (unequal stride, padding), conv_transpose2d",
    source: `
input s: [2, 3, 30]
input img: [2, 4, 17, 14]
param k1: [5, 3, 3]
param kg: [6, 2, 3, 3]
param kt: [4, 3, 2, 2]
c1 = conv1d(s, k1, stride = 2, padding = 2, dilation = 2)
cg = conv2d(img, kg, groups = 2, padding = [1, 0], stride = [2, 1])
ct = conv_transpose2d(img, kt, stride = 2, padding = 1, output_padding = 1)
loss = sum(c1 * c1) + sum(relu(cg) * cg) + mean(ct ^ 2)
output c1, cg, ct
minimize loss
`,
  },
  {
    // Over smallModelElements: conv, its epilogue, max pooling and its gradient, the dense
    // layer and their gradients all on the SIMD kernels. The conv sums in f32 lanes: where
    // tied values cancel to exactly 0 (a relu's edge, a tie for a window's maximum) in f64,
    // f32 may be a rounding error off and route the gradient elsewhere: random values only
    // (the next case pools exact products at adversarial values).
    name: "SIMD kernels: conv + bias + relu, maxpool2d (tiled and overlapping), dense",
    source: `
input img: [4, 3, 12, 10]
param k: [6, 3, 3, 3]
param kb: [6]
param w: [180, 5]
c = relu(conv2d(img, k, padding = 1) + reshape(kb, [6, 1, 1]))
mp = maxpool2d(c)
ms = maxpool2d(c, size = 3, stride = 1)
logits = reshape(mp, [4, 180]) @ w
loss = sum(logits * logits) + sum(ms) + sum(abs(c - 0.5) * c)
output mp, ms, logits
minimize loss
`,
    randomOnly: true,
  },
  {
    // Batch 8, hidden 32: the cell's products (8 x 32 x 32) run on the SIMD tiles, the
    // carry and the slice passed by their address inside the loop's arrays.
    name: "scan: a GRU over time (SIMD matmuls in the cell and in its gradient loop)",
    source: `
input xs: [5, 8, 16]
input h0: [8, 32]
param wz: [16, 32] = glorot_uniform
param uz: [32, 32] = glorot_uniform
param bz: [32]
param wn: [16, 32] = glorot_uniform
param un: [32, 32] = glorot_uniform
param wo: [32, 4] = glorot_uniform
fn gru(h, x) {
  z = sigmoid(x @ wz + h @ uz + bz)
  n = tanh(x @ wn + (z * h) @ un)
  (1 - z) * n + z * h
}
hs = scan(gru, h0, xs)
y = hs @ wo
loss = mean(y * y) + sum(hs[-1] * h0)
output hs, y
minimize loss with adam(lr = 0.01)
`,
    randomOnly: true,
  },
  {
    // Over smallModelElements, so on the f32x4 kernels: max pooling, its selection and
    // gradient at ties, zeros of both signs and integers (the products are exact in f32).
    name: "SIMD kernels: maxpool2d and its gradients at adversarial values",
    source: `
input x: [4, 5, 14, 13]
param s: [5, 1, 1]
param t: [4, 5, 14, 13]
u = x * s
m2 = maxpool2d(u)
m3 = maxpool2d(u * t, size = 3, stride = 2)
m1 = maxpool2d(t, size = 2, stride = 1)
loss = sum(m2 * m2) + sum(m3) + sum(m1 * x[:, :, 1:, 1:])
output m2, m3, m1
minimize loss
`,
  },
  {
    name: "scan, general form: two carries, a captured param, reverse, ys",
    source: `
input xs: [5, 2, 3]
input h0: [2, 3]
param w: [3, 3]
param v: [3]
fn step(h, m, x, ww) {
  nh = tanh(h @ ww + x * v)
  [nh, m + sum(nh), nh * m]
}
last = scan(step, [h0, 0], [xs], [w], out = 0)
ys = scan(step, [h0, 0], [xs], [w], reverse = true, out = 2)
loss = sum(last * last) + mean(ys)
output last, ys
minimize loss
`,
  },
  {
    // its scratch arrays placed by layout(), at sizes alternating across calls
    name: "scan, general form, with free sizes in the cell and free steps",
    source: `
dim t, n
input xs: [t, n, 3]
input h0: [n, 3]
param w: [3, 3]
param v: [3]
fn step(h, m, x, ww) {
  nh = tanh(h @ ww + x * v)
  [nh, m + sum(nh), nh * m]
}
last = scan(step, [h0, 0], [xs], [w], out = 0)
ys = scan(step, [h0, 0], [xs], [w], reverse = true, out = 2)
loss = sum(last * last) + mean(ys)
output last, ys
minimize loss
`,
    runs: [{ t: 5, n: 2 }, { t: 1, n: 7 }, { t: 9, n: 1 }, { t: 3, n: 40 }, { t: 2, n: 3 }],
  },
  {
    // A scan body is planned with prologues on both targets: its max-pool is computed in
    // its conv's loop window by window (the pooled template translated), the pool's
    // epilogue (h + ...) applied as each window is stored.
    name: "scan: a max-pool over a conv in the cell",
    source: `
input xs: [3, 2, 1, 6, 6]
input h0: [2, 2, 2, 2]
param k: [2, 1, 3, 3]
fn cell(h, x) {
  h + maxpool2d(relu(conv2d(x, k)), size = 2)
}
hs = scan(cell, h0, xs)
output hs
`,
  },
];

describe.each(cases)("wasm vs js: $name", (c) => {
  it.each(c.randomOnly ? ["random" as const] : ["random", "adversarial"] as const)("forward, objective and gradients agree within f32 rounding (%s values)", (mode) => {
    compareTargets(c, mode);
  });
});

describe("refused", () => {
  it("f64 says why", () => {
    const messageOf = (f: () => unknown) => { try { f(); } catch (e) { return (e as Error).message; } return ""; };
    expect(messageOf(() => compile("input x: [3]\nparam w: [3]\nminimize sum(x * w)", { target: "wasm", dtype: "f64" }))).toMatch(/f64 model/);
  });
});

describe("training on wasm", () => {
  it("the XOR seed trains to the JS target's loss", () => {
    const wasm = compile(xorSource, { target: "wasm" }), js = compile(xorSource);
    const x = new Float32Array([0, 0, 0, 1, 1, 0, 1, 1]), y = new Float32Array([0, 1, 1, 0]);
    let lw = 0, lj = 0;
    for (let i = 0; i < 2000; i++) { lw = wasm.step({ x, y }); lj = js.step({ x, y }); }
    expect(lj).toBeLessThan(0.05);
    expect(Math.abs(lw - lj)).toBeLessThanOrEqual(1e-6 * Math.max(1, lj));
    expectClose(wasm.params.m1!, js.params.m1!, 1e-5, "m1 after training");
  });

  it("the W2 MLP (784-128-10, batch 64) tracks the JS target's loss over 30 steps", () => {
    const wasm = compile(w2Source, { target: "wasm" }), js = compile(w2Source);
    const r = rng(7);
    const x = Float32Array.from({ length: 64 * 784 }, () => r());
    const y = new Float32Array(64 * 10);
    for (let i = 0; i < 64; i++) y[i * 10 + (i % 10)] = 1;
    const first = js.forward({ x, y }).loss as number;
    let lw = 0, lj = 0;
    for (let i = 0; i < 30; i++) { lw = wasm.step({ x, y }); lj = js.step({ x, y }); }
    expect(lj).toBeLessThan(first / 2);
    expect(Math.abs(lw - lj)).toBeLessThan(1e-4 * first);
  });
});

// Every optimizer, with clipping and run-time hyperparameters: the update statements are
// the JS target's, translated, with the state arrays, the step counter and clipping's sum
// in the memory. Params after every step agree with the JS target's within f32 rounding.
const optimizerCases = [
  "momentum(lr = 0.05, beta = 0.9)",
  "adam(lr = 0.02)",
  "adamw(lr = 0.02, weight_decay = 0.1)",
  "adam(lr = 0.02, clip_norm = 0.5)",
  "momentum(lr = 0.1, beta = 0.8, clip_norm = 1)",
  "sgd(lr = rate, clip_norm = 0.3)",
  "adamw(lr = rate, beta1 = b1, weight_decay = decay, clip_norm = limit)",
];

describe("optimizers on wasm", () => {
  it.each(optimizerCases)("%s: params after each step agree with the JS target's", (optimizer) => {
    const source = `
input x: [6, 5]
input y: [6, 2]
input rate
input b1
input decay
input limit
param w: [5, 4] = glorot_uniform
param b: [4]
param u: [4, 2] = glorot_uniform
param s
h = tanh(x @ w + b)
minimize sum((s * (h @ u) - y) ^ 2) + 0 * rate * b1 * decay * limit with ${optimizer}
`;
    const wasm = compile(source, { target: "wasm", seed: 3 }), js = compile(source, { seed: 3 });
    const r = rng(5);
    const x = Float32Array.from({ length: 30 }, () => 2 * r() - 1), y = Float32Array.from({ length: 12 }, () => r());
    const first = js.forward({ x, y, rate: 0, b1: 0, decay: 0, limit: 0 }).objective as number;
    let lw = 0, lj = 0;
    for (let i = 0; i < 12; i++) {
      // a learning-rate schedule and hyperparameters read at every step
      const args = { x, y, rate: 0.05 / (1 + i), b1: 0.85, decay: 0.05, limit: 0.4 + 0.1 * (i % 3) };
      lw = wasm.step(args); lj = js.step(args);
      expectClose([lw], [lj], 1e-6, `step ${i}: objective`);
      for (const key of Object.keys(js.params)) expectClose(asArray(wasm.params[key]), asArray(js.params[key]), 1e-6, `step ${i}: ${key}`);
    }
    expect(lj).toBeLessThan(first);
  });

  it("the XOR seed trains with adam to the JS target's loss", () => {
    const source = xorSource.replace("sgd(lr = 1.0)", "adam(lr = 0.05)");
    const wasm = compile(source, { target: "wasm" }), js = compile(source);
    const x = new Float32Array([0, 0, 0, 1, 1, 0, 1, 1]), y = new Float32Array([0, 1, 1, 0]);
    let lw = 0, lj = 0;
    for (let i = 0; i < 1500; i++) { lw = wasm.step({ x, y }); lj = js.step({ x, y }); }
    expect(lj).toBeLessThan(0.01);
    expect(Math.abs(lw - lj)).toBeLessThanOrEqual(1e-6 * Math.max(1, lj));
  });

  it("the W2 MLP with adamw and clip_norm (kernel functions, step sharing valueAndGrad's) tracks the JS target", () => {
    const source = w2Source.replace("sgd(lr = 0.1)", "adamw(lr = 0.002, weight_decay = 0.01, clip_norm = 1)");
    const wasm = compile(source, { target: "wasm" }), js = compile(source);
    const r = rng(9);
    const x = Float32Array.from({ length: 64 * 784 }, () => r());
    const y = new Float32Array(64 * 10);
    for (let i = 0; i < 64; i++) y[i * 10 + (i % 10)] = 1;
    const first = js.forward({ x, y }).loss as number;
    for (let i = 0; i < 6; i++) {
      const lw = wasm.step({ x, y }), lj = js.step({ x, y });
      expect(Math.abs(lw - lj), `step ${i}`).toBeLessThan(1e-4 * first);
    }
    expectClose(wasm.params.b2!, js.params.b2!, 1e-3, "b2 after 6 steps");
  });

  it("a param passed as another array is updated with the model's optimizer state, as on the JS target", () => {
    const source = xorSource.replace("sgd(lr = 1.0)", "momentum(lr = 0.5, beta = 0.9, clip_norm = 2)");
    const wasm = compile(source, { target: "wasm" }), js = compile(source);
    const x = new Float32Array([0, 0, 0, 1, 1, 0, 1, 1]), y = new Float32Array([0, 1, 1, 0]);
    const mine = new Float32Array([0.3, -0.2, 0.1, 0.5, 0.4, -0.6]), mineJs = Float32Array.from(mine);
    for (let i = 0; i < 5; i++) {
      // exp is ours: the f64 loss may differ in its last bits
      expectClose([wasm.step({ x, y, m1: mine })], [js.step({ x, y, m1: mineJs })], 1e-12, `step ${i}: loss`);
      expectClose(mine, mineJs, 1e-7, `step ${i}: the m1 passed in`);
    }
    expectClose(wasm.params.b1!, js.params.b1!, 1e-7, "b1");
  });
});

// Free sizes: arrays sized by a free dim are laid out above the fixed ones for the sizes of
// the calls so far, the memory grows when a call needs more, and every view is made again.
const freeSource = `
dim n
dim m
input x: [n, 5]
input target: [n, 3]
input z: [m, 2]
param w: [5, 8] = glorot_uniform
param b: [8]
param u: [8, 3] = glorot_uniform
param v: [2]
h = relu(x @ w + b)
logits = h @ u
probs = softmax(logits)
zs = sum(z * v, axis = 1)
loss = cross_entropy(logits, target) + mean(zs ^ 2)
output probs, h, zs, z
minimize loss with adam(lr = 0.01)
`;

function freeValues(n: number, m: number, seed: number): Args {
  const r = rng(seed);
  const target = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) target[i * 3 + (i % 3)] = 1;
  return { x: Float32Array.from({ length: n * 5 }, () => 2 * r() - 1), target, z: Float32Array.from({ length: m * 2 }, () => 2 * r() - 1) };
}

describe("free sizes on wasm", () => {
  it("sizes alternating small, large, small and a size-1 batch agree with the JS target, call by call", () => {
    const wasm = compile(freeSource, { target: "wasm" }), js = compile(freeSource);
    const sizes: [number, number][] = [[3, 2], [1, 1], [300, 40], [2, 7], [1, 300], [300, 40], [4000, 3], [5, 1]];
    sizes.forEach(([n, m], k) => {
      const args = freeValues(n, m, k + 1);
      const label = `call ${k} (n = ${n}, m = ${m})`;
      const fw = wasm.forward(args), fj = js.forward(args);
      expect(Object.keys(fw).sort()).toEqual(Object.keys(fj).sort());
      for (const key of Object.keys(fj)) expectClose(asArray(fw[key]), asArray(fj[key]), 1e-5, `${label}: ${key}`);
      const pw = wasm.predict({ x: args.x!, z: args.z! }), pj = js.predict({ x: args.x!, z: args.z! });
      expectClose(asArray(pw.probs), asArray(pj.probs), 1e-5, `${label}: predict probs`);
      const gw = wasm.valueAndGrad(args), gj = js.valueAndGrad(args);
      expectClose([gw.value], [gj.value], 1e-5, `${label}: objective`);
      for (const key of Object.keys(gj.grads)) expectClose(gw.grads[key]!, gj.grads[key]!, 1e-5, `${label}: d_${key}`);
      expectClose([wasm.step(args)], [js.step(args)], 1e-5, `${label}: step`);
      for (const key of Object.keys(js.params)) expectClose(wasm.params[key]!, js.params[key]!, 1e-5, `${label}: ${key} after the step`);
      // every result and param is a view of the current memory
      const buffer = wasm.params.w!.buffer;
      for (const view of [fw.probs, fw.h, gw.grads.w, gw.grads.v, wasm.params.v]) expect((view as Float32Array).buffer).toBe(buffer);
    });
  });

  it("the memory grows only when a call needs more; views held across a growth are detached, model.params is refreshed", () => {
    const m = compile(freeSource, { target: "wasm" });
    const small = freeValues(4, 2, 1), large = freeValues(2000, 2, 2);
    m.step(small);
    const held = m.params.w!, heldGrad = m.valueAndGrad(small).grads.w!;
    const bytes = held.buffer.byteLength;
    held[3] = 0.25; // written through the view: the model's param
    m.forward(small);
    expect(m.params.w).toBe(held); // no growth at the same size
    m.forward(large);
    expect(m.params.w!.buffer.byteLength).toBeGreaterThan(bytes);
    // held views read as empty (their buffer is detached), never as stale numbers
    expect(held.length).toBe(0);
    expect(heldGrad.length).toBe(0);
    expect(m.params.w!.length).toBe(40);
    expect(m.params.w![3]).toBe(0.25);
    expect(m.valueAndGrad(small).grads.w!.buffer).toBe(m.params.w!.buffer);
    // passing a detached view is a length error, not zeros
    let caught: unknown;
    try { m.forward({ ...small, w: held }); } catch (e) { caught = e; }
    expect((caught as { code?: string }).code).toBe("E0403");
    // smaller sizes fit: no further growth, the views stay
    const now = m.params.w!;
    for (const n of [1, 7, 2000, 3]) m.step(freeValues(n, 2, n));
    expect(m.params.w).toBe(now);
    expect(now.length).toBe(40);
  });

  it("a call that grows the memory uses the model's own params given explicitly, and a param passed as another array", () => {
    const wasm = compile(freeSource, { target: "wasm" }), js = compile(freeSource);
    const mine = Float32Array.from({ length: 2 }, (_, i) => 0.5 - i), mineJs = Float32Array.from(mine);
    for (const n of [2, 50, 900]) {
      const args = freeValues(n, n, n);
      // params read from values before the growth: the model's own view, then another array
      expectClose([wasm.step({ ...args, w: wasm.params.w! })], [js.step({ ...args, w: js.params.w! })], 1e-5, `n = ${n}: own w`);
      expectClose([wasm.step({ ...args, v: mine })], [js.step({ ...args, v: mineJs })], 1e-5, `n = ${n}: v passed in`);
      expectClose(mine, mineJs, 1e-5, `n = ${n}: the v passed in, updated`);
      expectClose(wasm.params.w!, js.params.w!, 1e-5, `n = ${n}: w`);
    }
  });

  it("a CNN with a free batch agrees with the JS target", () => {
    const source = `
dim n
input x: [n, 2, 6, 6]
input y: [n, 3]
param k: [4, 2, 3, 3] = he_normal
param d: [36, 3] = glorot_uniform
c = relu(conv2d(x, k, padding = 1))
p = maxpool2d(c, 2)
loss = cross_entropy(reshape(p, [n, 36]) @ d, y)
output p
minimize loss with momentum(lr = 0.05, beta = 0.9)
`;
    const wasm = compile(source, { target: "wasm" }), js = compile(source);
    for (const n of [1, 9, 2, 9]) {
      const r = rng(n);
      const y = new Float32Array(n * 3);
      for (let i = 0; i < n; i++) y[i * 3 + (i % 3)] = 1;
      const args = { x: Float32Array.from({ length: n * 72 }, () => 2 * r() - 1), y };
      expectClose(asArray(wasm.forward(args).p), asArray(js.forward(args).p), 1e-5, `n = ${n}: p`);
      expectClose([wasm.step(args)], [js.step(args)], 1e-5, `n = ${n}: step`);
      expectClose(wasm.params.k!, js.params.k!, 1e-5, `n = ${n}: k`);
    }
  });
});

describe("memory", () => {
  it("params are views of the module's memory, read and written in place; results are views", () => {
    const m = compile(xorSource, { target: "wasm" });
    const buffer = m.params.m1!.buffer;
    expect(m.params.b2!.buffer).toBe(buffer);
    const g = m.valueAndGrad({ x: new Float32Array(8), y: new Float32Array(4) });
    expect(g.grads.m1!.buffer).toBe(buffer);
    // writing a param changes what the model computes
    const x = new Float32Array([0, 0, 0, 1, 1, 0, 1, 1]), y = new Float32Array([0, 1, 1, 0]);
    const before = m.forward({ x, y }).loss;
    m.params.b2![0] = 5;
    expect(m.forward({ x, y }).loss).not.toBe(before);
  });

  it("a param passed as another array is used without touching the model's, and step updates it", () => {
    const wasm = compile(xorSource, { target: "wasm" }), js = compile(xorSource);
    const x = new Float32Array([0, 0, 0, 1, 1, 0, 1, 1]), y = new Float32Array([0, 1, 1, 0]);
    const own = Float32Array.from(wasm.params.m1!);
    const mine = new Float32Array([0.3, -0.2, 0.1, 0.5, 0.4, -0.6]);
    const mineJs = Float32Array.from(mine);
    expect(wasm.forward({ x, y, m1: mine }).loss).toBe(js.forward({ x, y, m1: mineJs }).loss);
    wasm.step({ x, y, m1: mine });
    js.step({ x, y, m1: mineJs });
    expect([...mine]).toEqual([...mineJs]);
    expect([...wasm.params.m1!]).toEqual([...own]);
  });

  it("a steady-state step, valueAndGrad and forward allocate nothing (no scavenge)", () => {
    const source = `
input x: [16, 40]
input y: [16, 4]
param w: [40, 32]
param b: [32]
param u: [32, 4]
h = relu(x @ w + b)
minimize cross_entropy(h @ u, y) with adamw(lr = 0.01, clip_norm = 1)
`;
    for (const [text, steps] of [[source, 2000], [xorSource, 20000]] as const) {
      const { gcs, result } = scavengesDuring(compileToSource(text, { target: "wasm", format: "esm" }).text, `
const n = (d) => d.shape.reduce((a, b) => a * b, 1);
const values = Object.fromEntries(model.meta.inputs.map((d) => [d.name, new Float32Array(n(d)).map((_, i) => (i % 4 === 0 ? 1 : 0))]));
const measure = () => { let t = 0; for (let i = 0; i < ${steps}; i++) { t += model.step(values); t += model.valueAndGrad(values).value; model.forward(values); } return t; };`);
      expect(Number.isFinite(result)).toBe(true);
      expect(gcs).toBe(0);
    }
  }, 120_000);

  it("with a free size, steady-state calls at a fixed size (or sizes seen before) allocate nothing", () => {
    const { gcs, result } = scavengesDuring(compileToSource(freeSource, { target: "wasm", format: "esm" }).text, `
const make = (n) => ({ x: new Float32Array(n * 5).map((_, i) => (i % 3) - 1), target: new Float32Array(n * 3).map((_, i) => (i % 3 === 0 ? 1 : 0)), z: new Float32Array(n * 2).fill(0.5) });
const [a, b] = [make(16), make(5)];
const measure = () => { let t = 0; for (let i = 0; i < 2000; i++) { const v = i % 2 ? a : b; t += model.step(v); t += model.valueAndGrad(a).value; model.forward(a); } return t; };`);
    expect(Number.isFinite(result)).toBe(true);
    expect(gcs).toBe(0);
  }, 120_000);

  it("the emitted ES module is standalone: no import, the wasm bytes inside, ready", async () => {
    const text = compileToSource(xorSource, { target: "wasm", format: "esm" }).text;
    expect(text).not.toMatch(/\bimport\b|require\(|fetch\(/);
    const mod = await import(`data:text/javascript;base64,${Buffer.from(text).toString("base64")}`);
    await mod.ready;
    const x = new Float32Array([0, 0, 0, 1, 1, 0, 1, 1]), y = new Float32Array([0, 1, 1, 0]);
    // exp is our polynomial: the f64 loss may differ from Math.exp's in its last bits
    const [got, want] = [mod.step({ x, y }) as number, compile(xorSource).step({ x, y })];
    expect(Math.abs(got - want)).toBeLessThanOrEqual(1e-12 * want);
  });
});
