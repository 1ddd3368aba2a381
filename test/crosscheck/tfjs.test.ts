// Cross-check gradc's gradients against TensorFlow.js (cpu backend) on real models with
// the same weights: gradc compiles each model in f64, its initialised params are rounded
// to f32 (so both sides see exactly the same numbers) and copied into tf variables, and
// the loss and every param gradient must agree to ~1e-4 relative (TF computes in f32).
//
// TF.js is ~300 MB, so it is not a root devDependency: it lives in the separate private
// package bench/package.json. This suite is not part of `npm test`: `npm run
// test:crosscheck` installs bench/ and runs it (as .ci/run does). Without TF.js these
// tests fail, on purpose, with a message saying so.

import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { compile, type CompiledModel } from "../../src/index";
import { rng } from "../helpers/random";

// ---- loading TF.js from bench/node_modules ----

// TF.js is loaded untyped: its types live in bench/node_modules, which the root
// type-check must not depend on.
type TF = any;
type Tensor = any;

const benchPackage = new URL("../../bench/package.json", import.meta.url);
const benchModules = fileURLToPath(new URL("../../bench/node_modules/@tensorflow/tfjs", import.meta.url));
let tfPromise: Promise<TF> | undefined;

function loadTf(): Promise<TF> {
  tfPromise ??= (async () => {
    let tf: TF;
    try {
      if (!existsSync(benchModules)) throw new Error(`${benchModules} does not exist`);
      tf = createRequire(benchPackage)("@tensorflow/tfjs");
    } catch (e) {
      throw new Error(
        "TensorFlow.js is not installed for the cross-check tests: run `npm ci --prefix bench` " +
          `(it installs bench/package.json, kept apart from the root package). Cause: ${(e as Error).message}`,
      );
    }
    tf.env().set("PROD", true); // no "install tfjs-node" banner
    await tf.setBackend("cpu");
    await tf.ready();
    if (tf.getBackend() !== "cpu") throw new Error(`TensorFlow.js backend is ${tf.getBackend()}, expected cpu`);
    return tf;
  })();
  return tfPromise;
}

// ---- data ----


/** n values uniform in [lo, hi), rounded to f32 so TF sees exactly the same numbers. */
function uniform(n: number, lo: number, hi: number, seed: number): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: n }, () => Math.fround(lo + (hi - lo) * r()));
}

function labels(n: number, k: number, seed: number): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: n }, () => Math.floor(r() * k));
}

// ---- the comparison ----

/** max |a - b| over the array, relative to the largest |b| (the reference scale). */
function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return diff / Math.max(scale, 1e-12);
}

// TF computes in f32; the observed errors are ~1e-7, so this leaves a wide margin.
const TOLERANCE = 1e-5;
const report: string[] = [];

interface CrossCheck {
  /** gradc source */
  source: string;
  /** input values for gradc (f32-exact numbers in Float64Arrays) */
  inputs: Record<string, Float64Array>;
  /** the same loss in TF, given the inputs as f32 tensors and the params as variables */
  tfLoss: (tf: TF, inputs: Record<string, Tensor>, params: Record<string, Tensor>) => Tensor;
  seed?: number;
}

let variableId = 0;

async function crossCheck(name: string, c: CrossCheck): Promise<{ loss: number; worst: number }> {
  const tf = await loadTf();
  const model: CompiledModel = compile(c.source, { dtype: "f64", seed: c.seed ?? 7, filename: `${name}.grad` });

  // Both sides use the same f32-representable weights.
  for (const p of Object.values(model.params)) for (let i = 0; i < p.length; i++) p[i] = Math.fround(p[i]!);

  const shapeOf = (list: { name: string; shape: (number | string)[] }[], n: string) => {
    const d = list.find((x) => x.name === n);
    if (!d) throw new Error(`${name}: no descriptor for ${n}`);
    return d.shape.map((s) => {
      if (typeof s !== "number") throw new Error(`${name}: ${n} has a free dim ${s}`);
      return s;
    });
  };

  const { value, grads } = model.valueAndGrad(c.inputs);
  const gradcGrads: Record<string, Float64Array> = {};
  for (const [k, g] of Object.entries(grads)) gradcGrads[k] = Float64Array.from(g);

  const tfInputs: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(c.inputs)) tfInputs[k] = tf.tensor(Float32Array.from(v), shapeOf(model.meta.inputs, k));
  const vars: Record<string, Tensor> = {};
  const varNames: Record<string, string> = {};
  for (const [k, v] of Object.entries(model.params)) {
    varNames[k] = `crosscheck_${name}_${k}_${variableId++}`;
    vars[k] = tf.variable(tf.tensor(Float32Array.from(v), shapeOf(model.meta.params, k)), true, varNames[k]);
  }
  try {
    const result = tf.variableGrads(() => c.tfLoss(tf, tfInputs, vars), Object.values(vars));
    const tfLoss = (await result.value.data())[0] as number;
    const lossErr = Math.abs(value - tfLoss) / Math.max(Math.abs(tfLoss), 1e-12);
    expect(lossErr, `${name}: loss gradc ${value} vs tf ${tfLoss}`).toBeLessThan(TOLERANCE);
    let worst = lossErr;
    const lines = [`${name}: loss ${value.toPrecision(8)} (tf ${tfLoss.toPrecision(8)}), rel err ${lossErr.toExponential(2)}`];
    expect(Object.keys(gradcGrads).sort()).toEqual(Object.keys(model.params).sort());
    for (const k of Object.keys(model.params)) {
      const g = result.grads[varNames[k]!];
      expect(g, `${name}: TF gave no gradient for ${k}`).toBeDefined();
      const want = (await g.data()) as Float32Array;
      const got = gradcGrads[k]!;
      expect(got.length, `${name}: d/d${k} length`).toBe(want.length);
      let nonzero = 0;
      for (const w of want) if (w !== 0) nonzero++;
      expect(nonzero, `${name}: TF's d/d${k} is all zero; the check would prove nothing`).toBeGreaterThan(0);
      const err = relError(got, want);
      lines.push(`  d/d${k} [${shapeOf(model.meta.params, k).join(", ")}]: rel err ${err.toExponential(2)}`);
      expect(err, `${name}: d/d${k} gradc [${Array.from(got.slice(0, 6))}...] vs tf [${Array.from(want.slice(0, 6))}...]`).toBeLessThan(TOLERANCE);
      worst = Math.max(worst, err);
    }
    lines[0] += `; worst ${worst.toExponential(2)}`;
    report.push(...lines);
    tf.dispose(result.value);
    tf.dispose(Object.values(result.grads));
    return { loss: value, worst };
  } finally {
    tf.dispose(Object.values(tfInputs));
    for (const v of Object.values(vars)) v.dispose();
  }
}

afterAll(() => {
  if (report.length > 0 && process.env.CROSSCHECK_REPORT) console.log(report.join("\n"));
});

// ---- the models ----

describe("gradients cross-checked against TensorFlow.js (cpu, f32) on the same weights", () => {
  it("TensorFlow.js loads from bench/node_modules (else: run `npm ci --prefix bench`), cpu backend", async () => {
    const tf = await loadTf();
    expect(typeof tf.variableGrads).toBe("function");
  });

  it("(a) MLP [16, 20] -> 32 relu -> 10, softmax cross-entropy on one-hot labels", async () => {
    const source = `
input x: [16, 20]
input labels: [16]
param w1: [20, 32] = glorot_uniform
param b1: [32]     = uniform(-0.1, 0.1)
param w2: [32, 10] = glorot_uniform
param b2: [10]     = uniform(-0.1, 0.1)
h      = relu(x @ w1 + b1)
logits = h @ w2 + b2
loss   = cross_entropy(logits, one_hot(labels, 10))
minimize loss
`;
    await crossCheck("mlp", {
      source,
      inputs: { x: uniform(16 * 20, -1, 1, 11), labels: labels(16, 10, 12) },
      tfLoss: (tf, i, p) => {
        const h = tf.relu(tf.add(tf.matMul(i.x, p.w1), p.b1));
        const logits = tf.add(tf.matMul(h, p.w2), p.b2);
        const onehot = tf.oneHot(tf.cast(i.labels, "int32"), 10);
        // reduction SUM_BY_NONZERO_WEIGHTS with no weights: the mean over the 16 rows
        return tf.losses.softmaxCrossEntropy(onehot, logits);
      },
    });
  });

  it("(a') the same MLP loss as a manual TF expression: mean over rows of -sum(t * log_softmax)", async () => {
    const source = `
input x: [16, 20]
input t: [16, 10]
param w1: [20, 32] = glorot_uniform
param b1: [32]     = uniform(-0.1, 0.1)
param w2: [32, 10] = glorot_uniform
param b2: [10]     = uniform(-0.1, 0.1)
logits = relu(x @ w1 + b1) @ w2 + b2
loss   = cross_entropy(logits, t)
minimize loss
`;
    // soft targets: rows of random positive weights summing to 1
    const raw = uniform(16 * 10, 0.05, 1, 14);
    for (let r = 0; r < 16; r++) {
      let s = 0;
      for (let c = 0; c < 10; c++) s += raw[r * 10 + c]!;
      for (let c = 0; c < 10; c++) raw[r * 10 + c] = Math.fround(raw[r * 10 + c]! / s);
    }
    await crossCheck("mlp_soft", {
      source,
      inputs: { x: uniform(16 * 20, -1, 1, 13), t: raw },
      tfLoss: (tf, i, p) => {
        const logits = tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(i.x, p.w1), p.b1)), p.w2), p.b2);
        return tf.mean(tf.neg(tf.sum(tf.mul(i.t, tf.logSoftmax(logits, -1)), -1)));
      },
    });
  });

  it("(b) the seed XOR model (examples/xor/xor.grad)", async () => {
    const { readFileSync } = await import("node:fs");
    const source = readFileSync(new URL("../../examples/xor/xor.grad", import.meta.url), "utf8");
    await crossCheck("xor", {
      source,
      seed: 1,
      inputs: { x: Float64Array.from([0, 0, 0, 1, 1, 0, 1, 1]), y: Float64Array.from([0, 1, 1, 0]) },
      tfLoss: (tf, i, p) => {
        const h1 = tf.sigmoid(tf.add(tf.matMul(i.x, p.m1), p.b1));
        const yOut = tf.sigmoid(tf.add(tf.matMul(h1, p.m2), p.b2));
        return tf.sum(tf.square(tf.sub(i.y, yOut)));
      },
    });
  });

  it("(c) CNN [2,1,8,8]: conv 3x3x4 stride 1 padding 1 + bias + relu, maxpool 2, dense to 3, softmax CE", async () => {
    const source = `
input x: [2, 1, 8, 8]
input labels: [2]
param w: [4, 1, 3, 3] = he_normal
param cb: [4]         = uniform(-0.1, 0.1)
param wd: [64, 3]     = glorot_uniform
param bd: [3]         = uniform(-0.1, 0.1)
c      = relu(conv2d(x, w, stride = 1, padding = 1) + reshape(cb, [1, 4, 1, 1]))
p      = maxpool2d(c, size = 2)
logits = reshape(p, [2, 64]) @ wd + bd
loss   = cross_entropy(logits, one_hot(labels, 3))
minimize loss
`;
    await crossCheck("cnn", {
      source,
      inputs: { x: uniform(2 * 64, -1, 1, 21), labels: Float64Array.from([2, 0]) },
      tfLoss: (tf, i, p) => {
        const xNhwc = tf.transpose(i.x, [0, 2, 3, 1]); // NCHW -> NHWC
        const wHwio = tf.transpose(p.w, [2, 3, 1, 0]); // OIHW -> HWIO
        const pad = [[0, 0], [1, 1], [1, 1], [0, 0]];
        const c = tf.relu(tf.add(tf.conv2d(xNhwc, wHwio, 1, pad), p.cb));
        const pooled = tf.maxPool(c, 2, 2, "valid"); // [2, 4, 4, 4] NHWC
        const flat = tf.reshape(tf.transpose(pooled, [0, 3, 1, 2]), [2, 64]); // flatten in NCHW order
        const logits = tf.add(tf.matMul(flat, p.wd), p.bd);
        return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.cast(i.labels, "int32"), 3), logits);
      },
    });
  });

  it("(d) conv2d stride 2 padding 0 (odd sizes), avgpool2d, tanh, mse", async () => {
    // [2,2,11,11] -conv 3x3 s2-> [2,3,5,5] -avgpool 2-> [2,3,2,2] (floor drops the last row/col)
    const source = `
input x: [2, 2, 11, 11]
input t: [2, 3, 2, 2]
param w: [3, 2, 3, 3] = glorot_uniform
param cb: [3, 1, 1]   = uniform(-0.2, 0.2)
c    = tanh(conv2d(x, w, stride = 2, padding = 0) + cb)
p    = avgpool2d(c, size = 2)
loss = mse(p, t)
minimize loss
`;
    await crossCheck("conv_stride2_avgpool", {
      source,
      inputs: { x: uniform(2 * 2 * 121, -1, 1, 31), t: uniform(2 * 3 * 4, -0.5, 0.5, 32) },
      tfLoss: (tf, i, p) => {
        const c = tf.tanh(tf.add(tf.conv2d(tf.transpose(i.x, [0, 2, 3, 1]), tf.transpose(p.w, [2, 3, 1, 0]), 2, "valid"), tf.reshape(p.cb, [3])));
        const pooled = tf.avgPool(c, 2, 2, "valid"); // [2, 2, 2, 3] NHWC
        return tf.mean(tf.square(tf.sub(tf.transpose(pooled, [0, 3, 1, 2]), i.t)));
      },
    });
  });

  it("(d') conv2d stride 2 padding 1 with 2 filters per output, maxpool, sum of squares", async () => {
    // [2,3,9,9] -conv 3x3 s2 p1-> [2,2,5,5] -maxpool 2-> [2,2,2,2]
    const source = `
input x: [2, 3, 9, 9]
param w: [2, 3, 3, 3] = glorot_uniform
param s              = constant(0.7)
c    = conv2d(x, w, stride = 2, padding = 1) * s
loss = sum(square(maxpool2d(c, size = 2))) + s ^ 2
minimize loss
`;
    await crossCheck("conv_stride2_pad1_maxpool", {
      source,
      inputs: { x: uniform(2 * 3 * 81, -1, 1, 41) },
      tfLoss: (tf, i, p) => {
        const pad = [[0, 0], [1, 1], [1, 1], [0, 0]];
        const c = tf.mul(tf.conv2d(tf.transpose(i.x, [0, 2, 3, 1]), tf.transpose(p.w, [2, 3, 1, 0]), 2, pad), p.s);
        return tf.add(tf.sum(tf.square(tf.maxPool(c, 2, 2, "valid"))), tf.square(p.s));
      },
    });
  });

  it("(e) composite: tanh, sigmoid, softplus, elu, gelu (tanh form), logsumexp, mean with axis/keepdims", async () => {
    const source = `
input x: [5, 6]
param w1: [6, 8] = glorot_uniform
param b1: [8]    = uniform(-0.3, 0.3)
param w2: [8, 4] = glorot_uniform
param w3: [8, 4] = glorot_uniform
param scale      = constant(1.5)
a    = x @ w1 + b1
h    = tanh(a) + sigmoid(a) * softplus(a)
z    = elu(h @ w2) + elu(h @ w2, alpha = 0.5) * 0.5 + gelu(h @ w3)
m    = mean(z, axis = 0, keepdims = true)
c    = z - m
l    = logsumexp(c * scale, axis = 1)
loss = mean(l) + mean(mean(square(c), axis = -1, keepdims = true)) + sum(mean(z, axis = [0, 1]))
minimize loss
`;
    await crossCheck("composite", {
      source,
      inputs: { x: uniform(30, -1.5, 1.5, 51) },
      tfLoss: (tf, i, p) => {
        const a = tf.add(tf.matMul(i.x, p.w1), p.b1);
        const h = tf.add(tf.tanh(a), tf.mul(tf.sigmoid(a), tf.softplus(a)));
        const u = tf.matMul(h, p.w2);
        // elu with alpha != 1 (tf.elu has alpha = 1): relu(v) + alpha * (exp(min(v, 0)) - 1)
        const eluAlpha = (v: Tensor, alpha: number) => tf.add(tf.relu(v), tf.mul(alpha, tf.sub(tf.exp(tf.minimum(v, 0)), 1)));
        const v = tf.matMul(h, p.w3);
        const gelu = tf.mul(tf.mul(0.5, v), tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(v, tf.mul(0.044715, tf.pow(v, 3)))))));
        const z = tf.add(tf.add(tf.elu(u), tf.mul(eluAlpha(u, 0.5), 0.5)), gelu);
        const m = tf.mean(z, 0, true);
        const c = tf.sub(z, m);
        const l = tf.logSumExp(tf.mul(c, p.scale), 1);
        return tf.add(tf.add(tf.mean(l), tf.mean(tf.mean(tf.square(c), -1, true))), tf.sum(tf.mean(z, [0, 1])));
      },
    });
  });
});

// ---- convolutions: conv1d, dilation, groups, depthwise, conv_transpose2d ----
//
// Forward values are compared with TF's own ops (tf.conv1d with dilation, tf.conv2d with
// dilations, tf.depthwiseConv2d, tf.conv2dTranspose). TF.js has no gradient for dilation
// > 1 ("not yet supported in gradients") and no grouped conv2d, so the losses whose
// gradients are compared write those as TF does allow: the kernel dilated explicitly (taps
// spread by a constant 0/1 matrix) and groups as split + concat; each such formulation is
// first checked against the native op's forward values.

/** A gradc output (f64, same f32-rounded weights as crossCheck uses) against TF's value. */
async function forwardCheck(name: string, c: CrossCheck, output: string, tfOutput: (tf: TF, inputs: Record<string, Tensor>, params: Record<string, Tensor>) => Tensor): Promise<void> {
  const tf = await loadTf();
  const model = compile(c.source, { dtype: "f64", seed: c.seed ?? 7, filename: `${name}.grad` });
  for (const p of Object.values(model.params)) for (let i = 0; i < p.length; i++) p[i] = Math.fround(p[i]!);
  const shape = (d: { shape: (number | string)[] }) => d.shape as number[];
  const got = Float64Array.from(model.forward(c.inputs)[output] as Float64Array);
  const want = tf.tidy(() => {
    const inputs = Object.fromEntries(model.meta.inputs.map((d) => [d.name, tf.tensor(Float32Array.from(c.inputs[d.name]!), shape(d))]));
    const params = Object.fromEntries(model.meta.params.map((d) => [d.name, tf.tensor(Float32Array.from(model.params[d.name]!), shape(d))]));
    return tfOutput(tf, inputs, params);
  });
  const data = (await want.data()) as Float32Array;
  want.dispose();
  const err = relError(got, data);
  report.push(`${name}: forward ${output} rel err ${err.toExponential(2)}`);
  expect(err, `${name}: ${output} gradc [${Array.from(got.slice(0, 4))}...] vs tf [${Array.from(data.slice(0, 4))}...]`).toBeLessThan(TOLERANCE);
}

const nchw = (tf: TF, x: Tensor) => tf.transpose(x, [0, 2, 3, 1]);
const toNchw = (tf: TF, x: Tensor) => tf.transpose(x, [0, 3, 1, 2]);
const hwio = (tf: TF, w: Tensor) => tf.transpose(w, [2, 3, 1, 0]); // OIHW -> HWIO
const padHW = (tf: TF, x: Tensor, ph: number, pw: number) => tf.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]]);

/** The [(k - 1) * d + 1, k] matrix placing tap a at row a * d. */
const spread = (tf: TF, k: number, d: number) =>
  tf.tensor2d(Array.from({ length: (k - 1) * d + 1 }, (_, r) => Array.from({ length: k }, (_, a) => (r === a * d ? 1 : 0))));

/** A [kh, kw, i, o] filter with its taps spread dh and dw apart (zeros between). */
function dilateKernel(tf: TF, w: Tensor, dh: number, dw: number): Tensor {
  const [kh, kw, i, o] = w.shape as number[];
  const [hd, wd] = [(kh! - 1) * dh + 1, (kw! - 1) * dw + 1];
  let t = tf.matMul(spread(tf, kh!, dh), tf.reshape(w, [kh, kw! * i! * o!])); // [hd, kw*i*o]
  t = tf.reshape(tf.transpose(tf.reshape(t, [hd, kw, i! * o!]), [1, 0, 2]), [kw, hd * i! * o!]);
  t = tf.matMul(spread(tf, kw!, dw), t); // [wd, hd*i*o]
  return tf.transpose(tf.reshape(t, [wd, hd, i, o]), [1, 0, 2, 3]);
}

describe("convolutions cross-checked against TensorFlow.js (cpu, f32)", () => {
  it("(f) conv1d with dilation and padding, then stride with dilation: tf.conv1d", async () => {
    const c: CrossCheck = {
      source: `
input x: [2, 3, 20]
param w1: [4, 3, 3] = he_normal
param w2: [2, 4, 2] = he_normal
h    = tanh(conv1d(x, w1, padding = 2, dilation = 2))
y    = conv1d(h, w2, stride = 2, dilation = 3)
loss = sum(y ^ 2)
output h, y
minimize loss
`,
      inputs: { x: uniform(2 * 3 * 20, -1, 1, 61) },
      // NCL -> NWC; OIL -> [L, I, O]; dilated taps as an explicit kernel (gradients)
      tfLoss: (tf, i, p) => {
        const x = tf.pad(tf.transpose(i.x, [0, 2, 1]), [[0, 0], [2, 2], [0, 0]]);
        const k1 = tf.squeeze(dilateKernel(tf, tf.expandDims(tf.transpose(p.w1, [2, 1, 0]), 0), 1, 2), [0]);
        const h = tf.tanh(tf.conv1d(x, k1, 1, "valid"));
        const k2 = tf.squeeze(dilateKernel(tf, tf.expandDims(tf.transpose(p.w2, [2, 1, 0]), 0), 1, 3), [0]);
        return tf.sum(tf.square(tf.conv1d(h, k2, 2, "valid")));
      },
    };
    const h = (tf: TF, i: Record<string, Tensor>, p: Record<string, Tensor>) =>
      tf.tanh(tf.conv1d(tf.pad(tf.transpose(i.x, [0, 2, 1]), [[0, 0], [2, 2], [0, 0]]), tf.transpose(p.w1, [2, 1, 0]), 1, "valid", "NWC", 2));
    await forwardCheck("conv1d_dilated", c, "h", (tf, i, p) => tf.transpose(h(tf, i, p), [0, 2, 1]));
    // TF refuses stride 2 with dilation 3 natively: the second layer's reference is the
    // explicit dilated kernel, checked on the first layer above against tf.conv1d's dilation
    await forwardCheck("conv1d_stride_dilated", c, "y", (tf, i, p) => {
      const k2 = tf.squeeze(dilateKernel(tf, tf.expandDims(tf.transpose(p.w2, [2, 1, 0]), 0), 1, 3), [0]);
      return tf.transpose(tf.conv1d(h(tf, i, p), k2, 2, "valid"), [0, 2, 1]);
    });
    await crossCheck("conv1d_dilated", c);
  });

  it("(g) conv2d with dilations [2, 3] and padding [2, 1], then groups = 2 with stride 2: tf.conv2d", async () => {
    const c: CrossCheck = {
      source: `
input x: [2, 2, 9, 10]
param w: [4, 2, 3, 2] = he_normal
param g: [4, 2, 3, 3] = he_normal
h    = relu(conv2d(x, w, padding = [2, 1], dilation = [2, 3]))
y    = conv2d(h, g, stride = 2, padding = 1, groups = 2)
loss = mean(y ^ 2)
output h, y
minimize loss
`,
      inputs: { x: uniform(2 * 2 * 90, -1, 1, 71) },
      tfLoss: (tf, i, p) => {
        const h = tf.relu(tf.conv2d(padHW(tf, nchw(tf, i.x), 2, 1), dilateKernel(tf, hwio(tf, p.w), 2, 3), 1, "valid"));
        // groups = 2: each half of the channels with its half of the filters
        const [h0, h1] = tf.split(h, 2, 3);
        const [g0, g1] = tf.split(hwio(tf, p.g), 2, 3);
        const y = tf.concat([tf.conv2d(padHW(tf, h0, 1, 1), g0, 2, "valid"), tf.conv2d(padHW(tf, h1, 1, 1), g1, 2, "valid")], 3);
        return tf.mean(tf.square(y));
      },
    };
    await forwardCheck("conv2d_dilations", c, "h", (tf, i, p) =>
      toNchw(tf, tf.relu(tf.conv2d(padHW(tf, nchw(tf, i.x), 2, 1), hwio(tf, p.w), 1, "valid", "NHWC", [2, 3]))));
    await forwardCheck("conv2d_dilated_kernel", c, "h", (tf, i, p) =>
      toNchw(tf, tf.relu(tf.conv2d(padHW(tf, nchw(tf, i.x), 2, 1), dilateKernel(tf, hwio(tf, p.w), 2, 3), 1, "valid"))));
    await crossCheck("conv2d_dilations_groups", c);
  });

  it("(h) depthwise conv2d (groups = channels, 2 filters each), stride 2, padding 1: tf.depthwiseConv2d", async () => {
    // gradc's [C * 2, 1, kh, kw] is TF's [kh, kw, C, 2]: output channel c * 2 + m reads channel c
    const depthwise = (tf: TF, w: Tensor, c: number) => tf.transpose(tf.reshape(w, [c, 2, 3, 3]), [2, 3, 0, 1]);
    const c: CrossCheck = {
      source: `
input x: [2, 3, 8, 8]
param dw: [6, 1, 3, 3] = he_normal
param pw: [2, 6, 1, 1] = he_normal
d    = tanh(conv2d(x, dw, stride = 2, padding = 1, groups = 3))
e    = conv2d(x, dw, padding = 2, dilation = 2, groups = 3)
loss = sum(conv2d(d, pw) ^ 2) + mean(e ^ 2)
output d, e
minimize loss
`,
      inputs: { x: uniform(2 * 3 * 64, -1, 1, 81) },
      tfLoss: (tf, i, p) => {
        const d = tf.tanh(tf.depthwiseConv2d(padHW(tf, nchw(tf, i.x), 1, 1), depthwise(tf, p.dw, 3), 2, "valid"));
        const e = tf.depthwiseConv2d(padHW(tf, nchw(tf, i.x), 2, 2), dilateKernel(tf, depthwise(tf, p.dw, 3), 2, 2), 1, "valid");
        return tf.add(tf.sum(tf.square(tf.conv2d(d, hwio(tf, p.pw), 1, "valid"))), tf.mean(tf.square(e)));
      },
    };
    await forwardCheck("depthwise", c, "d", (tf, i, p) =>
      toNchw(tf, tf.tanh(tf.depthwiseConv2d(padHW(tf, nchw(tf, i.x), 1, 1), depthwise(tf, p.dw, 3), 2, "valid"))));
    await forwardCheck("depthwise_dilated", c, "e", (tf, i, p) =>
      toNchw(tf, tf.depthwiseConv2d(padHW(tf, nchw(tf, i.x), 2, 2), depthwise(tf, p.dw, 3), 1, "valid", "NHWC", [2, 2])));
    await crossCheck("depthwise", c);
  });

  it("(i) conv_transpose2d stride 2, padding 1, output_padding 1 (an up-sampling decoder): tf.conv2dTranspose", async () => {
    // TF's 'valid' transpose is [(H - 1) * 2 + 4] = 10 wide; padding 1 crops one row and
    // column each side and output_padding 1 gives one back at the end: rows 1..9
    const up = (tf: TF, x: Tensor, w: Tensor, cout: number) =>
      tf.slice(tf.conv2dTranspose(x, hwio(tf, w), [x.shape[0], 10, 10, cout], 2, "valid"), [0, 1, 1, 0], [-1, 9, 9, -1]);
    const c: CrossCheck = {
      source: `
input z: [2, 4, 4, 4]
param w1: [4, 3, 4, 4] = he_normal
param b1: [3, 1, 1]    = uniform(-0.1, 0.1)
param w2: [3, 2, 3, 3] = he_normal
h    = relu(conv_transpose2d(z, w1, stride = 2, padding = 1, output_padding = 1) + b1)
y    = conv_transpose2d(h, w2)
loss = mean(sigmoid(y) ^ 2)
output h, y
minimize loss
`,
      inputs: { z: uniform(2 * 4 * 16, -1, 1, 91) },
      tfLoss: (tf, i, p) => {
        const h = tf.relu(tf.add(up(tf, nchw(tf, i.z), p.w1, 3), tf.reshape(p.b1, [3])));
        const y = tf.conv2dTranspose(h, hwio(tf, p.w2), [2, 11, 11, 2], 1, "valid");
        return tf.mean(tf.square(tf.sigmoid(y)));
      },
    };
    await forwardCheck("conv_transpose2d", c, "h", (tf, i, p) => toNchw(tf, tf.relu(tf.add(up(tf, nchw(tf, i.z), p.w1, 3), tf.reshape(p.b1, [3])))));
    await crossCheck("conv_transpose2d", c);
  });
});
