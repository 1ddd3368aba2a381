// Real convolutional models end to end: each compiles, passes gradcheck (f64, against
// finite differences) and trains (f32, adam): the loss falls to a fraction of where it
// started. A depthwise-separable CNN block classifies blobs by quadrant, a dilated conv1d
// stack learns a filter with a wide receptive field over sequences, and a conv_transpose2d
// decoder (stride 2, twice) learns to reproduce a teacher decoder's images.

import { describe, expect, it } from "vitest";
import { compile, gradcheck, type CompiledModel } from "../../src/index";
import { rng } from "../helpers/random";

const separable = `
input x: [16, 4, 8, 8]
input y: [16, 4]
param dw: [4, 1, 3, 3] = he_normal
param db: [4, 1, 1]    = zeros
param pw: [8, 4, 1, 1] = he_normal
param pb: [8, 1, 1]    = zeros
param w:  [32, 4]      = glorot_uniform
param b:  [4]          = zeros
h    = relu(conv2d(x, dw, padding = 1, groups = 4) + db)   # depthwise
z    = relu(conv2d(h, pw) + pb)                             # pointwise
f    = reshape(avgpool2d(z, size = 4), [16, 32])
loss = cross_entropy(f @ w + b, y)
output f
minimize loss with adam(lr = 0.02)
`;

const dilated = `
input x: [8, 1, 40]
input t: [8, 1, 40]
param w1: [6, 1, 3] = he_normal
param w2: [6, 6, 3] = he_normal
param w3: [1, 6, 3] = he_normal
h1   = tanh(conv1d(x, w1, padding = 1))
h2   = tanh(conv1d(h1, w2, padding = 2, dilation = 2))
y    = conv1d(h2, w3, padding = 4, dilation = 4)
loss = mean((y - t) ^ 2)
output y
minimize loss with adam(lr = 0.01)
`;

const decoder = `
input z: [8, 4, 2, 2]
input target: [8, 1, 8, 8]
param w1: [4, 6, 4, 4] = he_normal
param b1: [6, 1, 1]    = zeros
param w2: [6, 1, 4, 4] = he_normal
h    = relu(conv_transpose2d(z, w1, stride = 2, padding = 1) + b1)   # [8, 6, 4, 4]
y    = sigmoid(conv_transpose2d(h, w2, stride = 2, padding = 1))    # [8, 1, 8, 8]
loss = mean((y - target) ^ 2)
output y
minimize loss with adam(lr = 0.02)
`;

/** Steps `model` on fixed data; the mean loss of the first and last five steps. */
function train(model: CompiledModel, values: Record<string, Float32Array>, steps: number): { first: number; last: number } {
  const losses: number[] = [];
  for (let k = 0; k < steps; k++) losses.push(model.step(values));
  const mean = (xs: number[]) => xs.reduce((a, v) => a + v, 0) / xs.length;
  expect(losses.every(Number.isFinite)).toBe(true);
  if (process.env.CONV_TRAIN_REPORT) console.log(`loss ${mean(losses.slice(0, 5))} -> ${mean(losses.slice(-5))}`);
  return { first: mean(losses.slice(0, 5)), last: mean(losses.slice(-5)) };
}

function expectGradcheck(source: string): void {
  const result = gradcheck(source, { points: 2, seed: 4 });
  expect(result.params.map((p) => ({ name: p.name, ok: p.ok })), JSON.stringify(result.params)).toEqual(
    result.params.map((p) => ({ name: p.name, ok: true })));
  expect(result.ok).toBe(true);
}

describe("a depthwise-separable CNN block (groups = channels, then 1x1)", () => {
  // class k: a bright 3x3 blob in quadrant k of a random channel, on noise
  const r = rng(101);
  const x = new Float32Array(16 * 4 * 64);
  const y = new Float32Array(16 * 4);
  for (let n = 0; n < 16; n++) {
    const k = n % 4;
    y[n * 4 + k] = 1;
    for (let i = 0; i < 4 * 64; i++) x[n * 256 + i] = 0.2 * (r() - 0.5);
    const c = Math.floor(r() * 4);
    const [i0, j0] = [(k >> 1) * 4 + Math.floor(r() * 2), (k & 1) * 4 + Math.floor(r() * 2)];
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) x[n * 256 + c * 64 + (i0 + a) * 8 + j0 + b] = 1;
  }

  it("passes gradcheck", () => expectGradcheck(separable));

  it("trains: the loss falls", () => {
    const { first, last } = train(compile(separable, { seed: 2 }), { x, y }, 150);
    expect(last).toBeLessThan(0.05 * first);
  });
});

describe("a dilated conv1d stack over sequences", () => {
  // t[i] = 0.8 x[i - 5] - 0.6 x[i + 3]: needs the receptive field that dilation 1, 2, 4 gives (15)
  const r = rng(202);
  const x = Float32Array.from({ length: 8 * 40 }, () => 2 * r() - 1);
  const t = new Float32Array(8 * 40);
  for (let n = 0; n < 8; n++) {
    for (let i = 0; i < 40; i++) {
      const at = (j: number) => (j >= 0 && j < 40 ? x[n * 40 + j]! : 0);
      t[n * 40 + i] = 0.8 * at(i - 5) - 0.6 * at(i + 3);
    }
  }

  it("passes gradcheck", () => expectGradcheck(dilated));

  it("trains: the loss falls", () => {
    const { first, last } = train(compile(dilated, { seed: 3 }), { x, t }, 300);
    expect(last).toBeLessThan(0.05 * first);
  });
});

describe("an up-sampling decoder with conv_transpose2d (stride 2)", () => {
  // targets: what a teacher decoder (same architecture, other weights) makes of the codes
  const r = rng(303);
  const z = Float32Array.from({ length: 8 * 16 }, () => 2 * r() - 1);
  const teacher = compile(decoder, { seed: 99 });
  for (const p of Object.values(teacher.params)) for (let i = 0; i < p.length; i++) p[i] = p[i]! * 2;
  const target = Float32Array.from(teacher.forward({ z, target: new Float32Array(64 * 8) }).y as Float32Array);

  it("passes gradcheck", () => expectGradcheck(decoder));

  it("trains: the loss falls", () => {
    const model = compile(decoder, { seed: 4 });
    expect(model.forward({ z, target }).y).toHaveLength(8 * 64);
    const { first, last } = train(model, { z, target }, 300);
    expect(last).toBeLessThan(0.1 * first);
  });
});
