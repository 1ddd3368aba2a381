// Free sizes on the wasm target's SIMD kernels: matmuls take them at each call
// (matmul.ts), the forward product and both gradients; convolutions, max pooling and the
// f32x4 maps (bias, relu, their gradients) a free batch. Against the JS target at sizes
// alternating small, large, odd and 1 across calls of one model, through training steps,
// while the memory grows under held views; the W2 MLP and a W4-shaped CNN with their batch
// free against the same models with it bound.

import { readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import { compile } from "../../src/index";
import * as conv from "../../src/codegen/wasm/conv";
import * as epilogue from "../../src/codegen/wasm/epilogue";
import * as matmul from "../../src/codegen/wasm/matmul";
import * as pool from "../../src/codegen/wasm/pool";
import { rng } from "../helpers/random";
import { asArray, expectClose, type Args } from "../helpers/targets";

// every SIMD matmul kernel the compiler builds, to check which ones take free sizes
vi.mock("../../src/codegen/wasm/matmul", async (original) => {
  const real = await original<typeof import("../../src/codegen/wasm/matmul")>();
  return { ...real, addMatmul: vi.fn(real.addMatmul) };
});
vi.mock("../../src/codegen/wasm/conv", async (original) => {
  const real = await original<typeof import("../../src/codegen/wasm/conv")>();
  return { ...real, addConv: vi.fn(real.addConv) };
});
vi.mock("../../src/codegen/wasm/pool", async (original) => {
  const real = await original<typeof import("../../src/codegen/wasm/pool")>();
  return { ...real, addPool: vi.fn(real.addPool) };
});
vi.mock("../../src/codegen/wasm/epilogue", async (original) => {
  const real = await original<typeof import("../../src/codegen/wasm/epilogue")>();
  return { ...real, addVectorMap: vi.fn(real.addVectorMap) };
});
const built = () => vi.mocked(matmul.addMatmul).mock.calls.map((c) => c[1]);
function clearBuilt(): void {
  for (const f of [matmul.addMatmul, conv.addConv, pool.addPool, epilogue.addVectorMap]) vi.mocked(f).mockClear();
}

const mlpSource = `
dim n
input x: [n, 40]
input y: [n, 10]
param w: [40, 36] = glorot_uniform
param b: [36] = uniform(-0.1, 0.1)
param u: [36, 10] = glorot_uniform
param c: [10]
h = relu(x @ w + b)
logits = h @ u + c
loss = cross_entropy(logits, y)
output h, logits
minimize loss with momentum(lr = 0.1, beta = 0.9)
`;

function mlpValues(n: number, seed: number): Args {
  const r = rng(seed);
  const y = new Float32Array(n * 10);
  for (let i = 0; i < n; i++) y[i * 10 + Math.floor(r() * 10)] = 1;
  return { x: Float32Array.from({ length: n * 40 }, () => 2 * r() - 1), y };
}

/** forward, predict, valueAndGrad and a step of both models at `args`, compared. */
function compareCall(wasm: ReturnType<typeof compile>, js: ReturnType<typeof compile>, args: Args, label: string): void {
  const fw = wasm.forward(args), fj = js.forward(args);
  for (const key of Object.keys(fj)) expectClose(asArray(fw[key]), asArray(fj[key]), 1e-5, `${label}: ${key}`);
  const pw = wasm.predict(args), pj = js.predict(args);
  for (const key of Object.keys(pj)) expectClose(asArray(pw[key]), asArray(pj[key]), 1e-5, `${label}: predict ${key}`);
  const gw = wasm.valueAndGrad(args), gj = js.valueAndGrad(args);
  expectClose([gw.value], [gj.value], 1e-5, `${label}: objective`);
  for (const key of Object.keys(gj.grads)) expectClose(gw.grads[key]!, gj.grads[key]!, 1e-5, `${label}: d_${key}`);
  expectClose([wasm.step(args)], [js.step(args)], 1e-5, `${label}: step`);
  for (const key of Object.keys(js.params)) expectClose(wasm.params[key]!, js.params[key]!, 1e-5, `${label}: ${key} after the step`);
}

describe("SIMD kernels over free sizes", () => {
  it("an MLP with a free batch: the forward product and both gradients take the batch as an argument", () => {
    clearBuilt();
    compile(mlpSource, { target: "wasm" });
    const shapes = built();
    // x @ w and h @ u (m = n), dh = dlogits @ u^T (m = n), dw = x^T @ dh and du = h^T @ dlogits (k = n)
    expect(shapes).toContainEqual({ m: "free", k: 40, n: 36 });
    expect(shapes).toContainEqual({ m: "free", k: 36, n: 10 });
    expect(shapes).toContainEqual({ m: "free", k: 10, n: 36, bTransposed: true });
    expect(shapes).toContainEqual({ m: 40, k: "free", n: 36, aStride: [1, 40] });
    expect(shapes).toContainEqual({ m: 36, k: "free", n: 10, aStride: [1, 36] });
    // the bias and relu after x @ w as an f32x4 map over the free batch
    expect(vi.mocked(epilogue.addVectorMap).mock.calls.some(([, map]) => map.shape[0] === "free")).toBe(true);
  });

  it("agrees with the JS target at batches alternating small, large, odd and 1, call by call", () => {
    const wasm = compile(mlpSource, { target: "wasm" }), js = compile(mlpSource);
    [1, 64, 7, 130, 1, 33, 3, 130, 2, 65].forEach((n, k) => compareCall(wasm, js, mlpValues(n, k + 1), `call ${k} (n = ${n})`));
  });

  it("trains as on the JS target: 25 steps at alternating batches track its loss and params", () => {
    const wasm = compile(mlpSource, { target: "wasm" }), js = compile(mlpSource);
    const batches = [mlpValues(32, 1), mlpValues(5, 2), mlpValues(97, 3)];
    const first = js.forward(batches[0]!).loss as number;
    let lw = 0, lj = 0;
    for (let i = 0; i < 25; i++) {
      const v = batches[i % 3]!;
      lw = wasm.step(v); lj = js.step(v);
      expect(Math.abs(lw - lj), `step ${i}`).toBeLessThan(1e-4 * first);
    }
    expect(js.forward(batches[0]!).loss as number).toBeLessThan(first);
    for (const key of Object.keys(js.params)) expectClose(wasm.params[key]!, js.params[key]!, 1e-4, `${key} after training`);
  });

  it("two free dims: products with m, k and n given at run time, A transposed with a free row stride", () => {
    const source = `
dim n, m
input x: [n, 40]
input z: [n, 24]
input s: [40, m]
param w: [24, 16] = glorot_uniform
param a: [40, 40] = glorot_uniform
param q: [40, 12] = glorot_uniform
g = transpose(x) @ z @ w
t = x @ a @ s
r = transpose(s) @ q
loss = mean(g ^ 2) + mean(t ^ 2) + mean(r ^ 2)
output g, t, r
minimize loss with sgd(lr = 0.01)
`;
    clearBuilt();
    const wasm = compile(source, { target: "wasm" }), js = compile(source);
    const shapes = built();
    expect(shapes).toContainEqual({ m: 40, k: "free", n: 24, aStride: [1, 40] });
    expect(shapes).toContainEqual({ m: "free", k: 40, n: "free" });
    expect(shapes).toContainEqual({ m: "free", k: 40, n: 12, aStride: [1, "m"] });
    expect(shapes).toContainEqual({ m: 40, k: "free", n: 12 });
    const sizes: [number, number][] = [[1, 1], [37, 5], [3, 64], [130, 9], [1, 2], [8, 130]];
    sizes.forEach(([n, m], k) => {
      const r = rng(k + 10);
      const u = (length: number) => Float32Array.from({ length }, () => 2 * r() - 1);
      compareCall(wasm, js, { x: u(n * 40), z: u(n * 24), s: u(40 * m) }, `call ${k} (n = ${n}, m = ${m})`);
    });
  });

  it("sizes that are expressions of a free dim (2n and n // 2 rows) are computed at the call", () => {
    const source = `
dim n
input x: [n, 40]
param w: [20, 24] = glorot_uniform
param u: [80, 12] = glorot_uniform
a = reshape(x, [-1, 20]) @ w
c = reshape(x, [n // 2, 80]) @ u
loss = mean(a ^ 2) + mean(c ^ 2)
output a, c
minimize loss with sgd(lr = 0.1)
`;
    clearBuilt();
    const wasm = compile(source, { target: "wasm" }), js = compile(source);
    expect(built()).toContainEqual({ m: "free", k: 20, n: 24 });
    expect(built()).toContainEqual({ m: "free", k: 80, n: 12 });
    [2, 18, 4, 66].forEach((n, i) => {
      const r = rng(i + 80);
      compareCall(wasm, js, { x: Float32Array.from({ length: n * 40 }, () => 2 * r() - 1) }, `call ${i} (n = ${n})`);
    });
  });

  it("views held across a growth at a larger batch are detached; model.params and results are refreshed", () => {
    const wasm = compile(mlpSource, { target: "wasm" }), js = compile(mlpSource);
    const small = mlpValues(8, 1), large = mlpValues(3000, 2);
    compareCall(wasm, js, small, "small");
    const heldW = wasm.params.w!, heldGrad = wasm.valueAndGrad(small).grads.w!, heldH = wasm.forward(small).h as Float32Array;
    compareCall(wasm, js, large, "large");
    expect(heldW.length).toBe(0);
    expect(heldGrad.length).toBe(0);
    expect(heldH.length).toBe(0);
    let caught: unknown;
    try { wasm.forward({ ...small, w: heldW }); } catch (e) { caught = e; }
    expect((caught as { code?: string }).code).toBe("E0403");
    compareCall(wasm, js, small, "small again");
    expect((wasm.forward(small).h as Float32Array).buffer).toBe(wasm.params.w!.buffer);
  });

  it("elementwise kernels over a free batch run as f32x4 maps, broadcasts included", () => {
    const source = `
dim n
input x: [n, 7, 5]
input z: [n, 1, 5]
param s: [7, 1] = uniform(-1, 1)
param t: [5] = uniform(-1, 1)
y = relu(x * s + t) + z * x - abs(x) / 2
loss = mean(y ^ 2)
output y
minimize loss with sgd(lr = 0.1)
`;
    clearBuilt();
    const wasm = compile(source, { target: "wasm" }), js = compile(source);
    expect(vi.mocked(epilogue.addVectorMap).mock.calls.some(([, map]) => map.shape[0] === "free" && map.operands.length >= 3)).toBe(true);
    [1, 6, 2, 13].forEach((n, i) => {
      const r = rng(i + 40);
      const u = (length: number) => Float32Array.from({ length }, () => 2 * r() - 1);
      compareCall(wasm, js, { x: u(n * 35), z: u(n * 5) }, `call ${i} (n = ${n})`);
    });
  });

  const cnnSource = `
dim n
input x: [n, 1, 28, 28]
input y: [n, 10]
param k: [8, 1, 3, 3] = he_normal
param kb: [8, 1, 1] = uniform(-0.05, 0.05)
param w: [1352, 10] = glorot_uniform
param b: [10] = uniform(-0.05, 0.05)
c = relu(conv2d(x, k) + kb)
p = maxpool2d(c, size = 2)
logits = reshape(p, [n, 1352]) @ w + b
loss = cross_entropy(logits, y)
output logits, p
minimize loss with sgd(lr = 0.05)
`;
  const cnnValues = (n: number, seed: number): Args => {
    const r = rng(seed);
    const y = new Float32Array(n * 10);
    for (let i = 0; i < n; i++) y[i * 10 + Math.floor(r() * 10)] = 1;
    return { x: Float32Array.from({ length: n * 784 }, () => r()), y };
  };

  it("a CNN (W4's layers) with a free batch: conv, pooling and their gradients take the batch, and agree with the JS target", () => {
    clearBuilt();
    const wasm = compile(cnnSource, { target: "wasm" }), js = compile(cnnSource);
    const convs = vi.mocked(conv.addConv).mock.calls.map((c) => [c[1], c[2].n]);
    expect(convs).toContainEqual(["conv", "free"]);
    expect(convs).toContainEqual(["conv_weight_grad", "free"]);
    expect(vi.mocked(pool.addPool).mock.calls.every((c) => c[2].freeBatch === true)).toBe(true);
    expect(vi.mocked(pool.addPool).mock.calls.length).toBeGreaterThan(0);
    [1, 16, 3, 33, 2, 16].forEach((n, i) => compareCall(wasm, js, cnnValues(n, i + 1), `call ${i} (n = ${n})`));
  });

  it("two conv layers with a free batch: the input gradient over the batch too", () => {
    const source = `
dim n
input x: [n, 3, 12, 12]
input y: [n, 4]
param k1: [6, 3, 3, 3] = he_normal
param k2: [8, 6, 3, 3] = he_normal
param w: [32, 4] = glorot_uniform
h = relu(conv2d(x, k1, padding = 1))
g = relu(conv2d(h, k2, stride = 2))
loss = cross_entropy(reshape(maxpool2d(g, 2), [n, 32]) @ w, y)
output g
minimize loss with adam(lr = 0.01)
`;
    clearBuilt();
    const wasm = compile(source, { target: "wasm" }), js = compile(source);
    expect(vi.mocked(conv.addConv).mock.calls.map((c) => [c[1], c[2].n])).toContainEqual(["conv_input_grad", "free"]);
    [2, 11, 1, 5].forEach((n, i) => {
      const r = rng(i + 20);
      const y = new Float32Array(n * 4);
      for (let j = 0; j < n; j++) y[j * 4 + (j % 4)] = 1;
      compareCall(wasm, js, { x: Float32Array.from({ length: n * 432 }, () => 2 * r() - 1), y }, `call ${i} (n = ${n})`);
    });
  });

  it("the CNN with its batch free trains as with it bound", () => {
    const free = compile(cnnSource, { target: "wasm", seed: 2 }), bound = compile(cnnSource, { target: "wasm", seed: 2, sizes: { n: 16 } });
    const v = cnnValues(16, 9);
    for (let step = 0; step < 5; step++) expectClose([free.step(v)], [bound.step(v)], 1e-5, `step ${step}`);
    for (const key of Object.keys(bound.params)) expectClose(free.params[key]!, bound.params[key]!, 1e-5, key);
  });

  it("a scan whose cell has a free size (a GRU over a free batch and a free number of steps) agrees with the JS target", () => {
    const source = `
dim t, b
input h0: [b, 20]
input xs: [t, b, 12]
input target: [t, b, 6]
param wz: [12, 20] = glorot_uniform
param uz: [20, 20] = glorot_uniform
param wn: [12, 20] = glorot_uniform
param un: [20, 20] = glorot_uniform
param bn: [20]
param wout: [20, 6] = glorot_uniform
fn gru(h, x) {
  z = sigmoid(x @ wz + h @ uz)
  n = tanh(x @ wn + (z * h) @ un + bn)
  (1 - z) * n + z * h
}
hs = scan(gru, h0, xs)
logits = hs @ wout
loss = cross_entropy(logits, target)
output hs
minimize loss with adam(lr = 0.01)
`;
    clearBuilt();
    const wasm = compile(source, { target: "wasm" }), js = compile(source);
    // the cell's products over the free batch on the SIMD tiles
    expect(built()).toContainEqual({ m: "free", k: 20, n: 20 });
    const sizes: [number, number][] = [[3, 1], [5, 16], [1, 2], [7, 33], [2, 16], [4, 5]];
    sizes.forEach(([t, b], i) => {
      const r = rng(i + 60);
      const target = new Float32Array(t * b * 6);
      for (let j = 0; j < t * b; j++) target[j * 6 + Math.floor(r() * 6)] = 1;
      const u = (length: number) => Float32Array.from({ length }, () => 2 * r() - 1);
      compareCall(wasm, js, { h0: u(b * 20), xs: u(t * b * 12), target }, `call ${i} (t = ${t}, b = ${b})`);
    });
  });

  it("the W2 MLP with its batch free computes what it does with the batch bound", () => {
    const w2 = readFileSync(new URL("../../bench/models/w2-mlp.grad", import.meta.url), "utf8");
    const source = `dim n\n${w2.replaceAll("[64, ", "[n, ")}`;
    const free = compile(source, { target: "wasm", seed: 3 }), bound = compile(source, { target: "wasm", seed: 3, sizes: { n: 64 } });
    const r = rng(5);
    const x = Float32Array.from({ length: 64 * 784 }, () => r());
    const y = new Float32Array(64 * 10);
    for (let i = 0; i < 64; i++) y[i * 10 + (i % 10)] = 1;
    for (let step = 0; step < 3; step++) {
      const a = free.valueAndGrad({ x, y }), b = bound.valueAndGrad({ x, y });
      expectClose([a.value], [b.value], 1e-6, `step ${step}: loss`);
      for (const key of Object.keys(b.grads)) expectClose(a.grads[key]!, b.grads[key]!, 1e-5, `step ${step}: d_${key}`);
      expectClose([free.step({ x, y })], [bound.step({ x, y })], 1e-6, `step ${step}: step`);
    }
  });
});
