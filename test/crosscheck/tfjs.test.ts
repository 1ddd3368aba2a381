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
  const value = model.forward(c.inputs)[output]!; // a scalar output is a number
  const got = typeof value === "number" ? Float64Array.of(value) : Float64Array.from(value);
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

// ---- the built-ins added for real models ----
// Each against the TF.js op of the same meaning: forward values of every output, then the
// loss and every param gradient (crossCheck). TF.js has no gradient for einsum, so its
// gradient is checked against the same contraction written with tf.matMul.

const ints = (tf: TF, v: Tensor) => tf.cast(v, "int32");

/** Every named output against TF, then the gradients. */
async function checkAll(name: string, c: CrossCheck, outputs: Record<string, (tf: TF, i: Record<string, Tensor>, p: Record<string, Tensor>) => Tensor>): Promise<void> {
  for (const [output, tfOutput] of Object.entries(outputs)) await forwardCheck(`${name}.${output}`, c, output, tfOutput);
  await crossCheck(name, c);
}

describe("built-ins for real models cross-checked against TensorFlow.js (cpu, f32)", () => {
  it("(j) take along axis 0 and axis 1, repeated ids (scatter-add gradient): tf.gather", async () => {
    const a = (tf: TF, i: Record<string, Tensor>, p: Record<string, Tensor>) => tf.gather(p.E, ints(tf, i.ids), 0);
    const c = (tf: TF, i: Record<string, Tensor>, p: Record<string, Tensor>) => tf.gather(p.F, ints(tf, i.ids2), 1);
    await checkAll("take", {
      source: `
input ids: [2, 3]
input ids2: [4]
param E: [7, 5]    = normal(0, 1)
param F: [3, 6, 2] = normal(0, 1)
a    = take(E, ids)
c    = take(F, ids2, axis = 1)
loss = sum(sin(a) * a) + mean(c ^ 3)
output a, c
minimize loss
`,
      inputs: { ids: Float64Array.from([0, 6, 3, 3, 0, 2]), ids2: Float64Array.from([5, 1, 5, 0]) },
      tfLoss: (tf, i, p) => tf.add(tf.sum(tf.mul(tf.sin(a(tf, i, p)), a(tf, i, p))), tf.mean(tf.pow(c(tf, i, p), 3))),
    }, { a, c });
  });

  it("(k) einsum attention (bhqd,bhkd->bhqk; bhqk,bhkd->bhqd) with a rank-4 input times a matrix: tf.einsum forward, tf.matMul gradient", async () => {
    // TF.js's matMul gradient fails when a rank-4 operand meets a matrix, so TF multiplies
    // the merged rows; gradc writes x @ wq directly.
    const proj = (tf: TF, x: Tensor, w: Tensor) => tf.reshape(tf.matMul(tf.reshape(x, [-1, 3]), w), [2, 2, 4, 3]);
    const qkv = (tf: TF, i: Record<string, Tensor>, p: Record<string, Tensor>) => [proj(tf, i.x, p.wq), proj(tf, i.x, p.wk), proj(tf, i.x, p.wv)];
    await checkAll("einsum_attention", {
      source: `
input x: [2, 2, 4, 3]
param wq: [3, 3] = glorot_uniform
param wk: [3, 3] = glorot_uniform
param wv: [3, 3] = glorot_uniform
q    = x @ wq
k    = x @ wk
v    = x @ wv
s    = einsum("bhqd,bhkd->bhqk", q, k)
o    = einsum("bhqk,bhkd->bhqd", softmax(s, axis = -1), v)
loss = mean(o * o) + mean(sin(s))
output s, o
minimize loss
`,
      inputs: { x: uniform(2 * 2 * 4 * 3, -1, 1, 101) },
      tfLoss: (tf, i, p) => {
        const [q, k, v] = qkv(tf, i, p);
        const s = tf.matMul(q, k, false, true);
        const o = tf.matMul(tf.softmax(s, -1), v);
        return tf.add(tf.mean(tf.mul(o, o)), tf.mean(tf.sin(s)));
      },
    }, {
      s: (tf, i, p) => { const [q, k] = qkv(tf, i, p); return tf.einsum("bhqd,bhkd->bhqk", q, k); },
      o: (tf, i, p) => {
        const [q, k, v] = qkv(tf, i, p);
        return tf.einsum("bhqk,bhkd->bhqd", tf.softmax(tf.einsum("bhqd,bhkd->bhqk", q, k), -1), v);
      },
    });
  });

  it("(k') einsum forms tf.einsum supports: matrix product, row dots, outer product, batched, transpose, sums", async () => {
    const source = `
input a: [3, 4]
input b: [4, 5]
input c: [3, 4]
input u: [3]
input v: [5]
input x: [2, 3, 4]
input y: [2, 4, 5]
mm    = einsum("ij,jk->ik", a, b)
dots  = einsum("ij,ij->i", a, c)
outer = einsum("i,j->ij", u, v)
bmm   = einsum("bij,bjk->bik", x, y)
tr    = einsum("ij->ji", a)
rows  = einsum("ij->i", a)
total = einsum("ij->", a)
output mm, dots, outer, bmm, tr, rows, total
`;
    const inputs = {
      a: uniform(12, -1, 1, 111), b: uniform(20, -1, 1, 112), c: uniform(12, -1, 1, 113), u: uniform(3, -1, 1, 114),
      v: uniform(5, -1, 1, 115), x: uniform(24, -1, 1, 116), y: uniform(40, -1, 1, 117),
    };
    const c: CrossCheck = { source, inputs, tfLoss: () => { throw new Error("forward only"); } };
    const forms: Record<string, [string, string[]]> = {
      mm: ["ij,jk->ik", ["a", "b"]], dots: ["ij,ij->i", ["a", "c"]], outer: ["i,j->ij", ["u", "v"]],
      bmm: ["bij,bjk->bik", ["x", "y"]], tr: ["ij->ji", ["a"]], rows: ["ij->i", ["a"]], total: ["ij->", ["a"]],
    };
    for (const [output, [subscripts, operands]] of Object.entries(forms)) {
      await forwardCheck(`einsum ${subscripts}`, c, output, (tf, i) => tf.einsum(subscripts, ...operands.map((n) => i[n])));
    }
  });

  it("(l) batched matmul at rank 4: equal batch dims, and broadcast [2, 1] x [1, 3] batch dims: tf.matMul", async () => {
    await checkAll("matmul_rank4", {
      source: `
param a: [2, 3, 4, 5] = normal(0, 1)
param b: [2, 3, 5, 2] = normal(0, 1)
param c: [2, 1, 4, 5] = normal(0, 1)
param d: [1, 3, 5, 2] = normal(0, 1)
y    = a @ b
z    = c @ d
loss = sum(sin(y)) + sum(z * z)
output y, z
minimize loss
`,
      inputs: {},
      tfLoss: (tf, _i, p) => {
        const z = tf.matMul(tf.tile(p.c, [1, 3, 1, 1]), tf.tile(p.d, [2, 1, 1, 1]));
        return tf.add(tf.sum(tf.sin(tf.matMul(p.a, p.b))), tf.sum(tf.mul(z, z)));
      },
    }, {
      y: (tf, _i, p) => tf.matMul(p.a, p.b),
      z: (tf, _i, p) => tf.matMul(tf.tile(p.c, [1, 3, 1, 1]), tf.tile(p.d, [2, 1, 1, 1])),
    });
  });

  it("(m) cumsum, erf, silu, log_sigmoid, mod, rsqrt, var, std, norm, layer_norm and rms_norm (tf.moments)", async () => {
    const ln = (tf: TF, x: Tensor) => {
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5)));
    };
    const rms = (tf: TF, x: Tensor) => tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-6)));
    const silu = (tf: TF, x: Tensor) => tf.mul(x, tf.sigmoid(x));
    const outs: Record<string, (tf: TF, i: Record<string, Tensor>, p: Record<string, Tensor>) => Tensor> = {
      cs: (tf, i, p) => tf.cumsum(tf.mul(p.a, i.x), 1),
      e: (tf, _i, p) => tf.erf(p.a),
      s: (tf, _i, p) => tf.add(silu(tf, p.a), tf.logSigmoid(tf.mul(p.a, 3))),
      m: (tf, _i, p) => tf.mod(tf.mul(p.a, 3), p.b),
      r: (tf, _i, p) => tf.rsqrt(p.b),
      vs: (tf, _i, p) => tf.moments(p.a, 1).variance,
      sd: (tf, _i, p) => tf.sqrt(tf.moments(p.a, 0).variance),
      nn: (tf, _i, p) => tf.norm(p.a),
      n: (tf, i, p) => ln(tf, tf.add(p.a, i.x)),
      rn: (tf, i, p) => rms(tf, tf.mul(p.a, i.x)),
    };
    await checkAll("elementwise_reductions_norms", {
      source: `
input x: [3, 5]
param a: [3, 5] = normal(0, 1)
param b: [5]    = uniform(0.5, 1.5)
cs   = cumsum(a * x, axis = 1)
e    = erf(a)
s    = silu(a) + log_sigmoid(a * 3)
m    = mod(a * 3, b)
r    = rsqrt(b)
vs   = var(a, axis = 1)
sd   = std(a, axis = 0)
nn   = norm(a)
n    = layer_norm(a + x)
rn   = rms_norm(a * x)
loss = sum(sin(cs)) + sum(e * x) + sum(s * x) + sum(m * m) + sum(r * x[0]) + sum(vs * vs) + sum(sd * x[1]) + nn + sum(n * x) + sum(rn * sin(x))
output cs, e, s, m, r, vs, sd, nn, n, rn
minimize loss
`,
      inputs: { x: uniform(15, -1, 1, 121) },
      tfLoss: (tf, i, p) => {
        // tf.logSigmoid's gradient reads a disposed tensor when its input is computed (TF.js
        // 4.x), so the loss uses its stable form -softplus(-x); the forward check above uses it
        const logSigmoid = (x: Tensor) => tf.neg(tf.softplus(tf.neg(x)));
        const o = Object.fromEntries(Object.entries(outs).map(([k, f]) => [k, f(tf, i, p)]));
        o.s = tf.add(silu(tf, p.a), logSigmoid(tf.mul(p.a, 3)));
        const x0 = tf.slice(i.x, [0, 0], [1, 5]).reshape([5]);
        const x1 = tf.slice(i.x, [1, 0], [1, 5]).reshape([5]);
        return tf.addN([
          tf.sum(tf.sin(o.cs)), tf.sum(tf.mul(o.e, i.x)), tf.sum(tf.mul(o.s, i.x)), tf.sum(tf.mul(o.m, o.m)),
          tf.sum(tf.mul(o.r, x0)), tf.sum(tf.mul(o.vs, o.vs)), tf.sum(tf.mul(o.sd, x1)), o.nn, tf.sum(tf.mul(o.n, i.x)), tf.sum(tf.mul(o.rn, tf.sin(i.x))),
        ]);
      },
    }, outs);
  });

  it("(n) pad, tile, flip, stack, tril, triu, concat: tf.pad, tf.tile, tf.reverse, tf.stack, tf.linalg.bandPart, tf.concat", async () => {
    const pos = (tf: TF, shape: number[]) => tf.reshape(tf.range(0, shape.reduce((s, n) => s * n, 1)), shape);
    const outs: Record<string, (tf: TF, i: Record<string, Tensor>, p: Record<string, Tensor>) => Tensor> = {
      pd: (tf, _i, p) => tf.pad(p.a, [[1, 0], [2, 1]], 0.5),
      tl: (tf, _i, p) => tf.tile(p.a, [2, 3]),
      fl: (tf, _i, p) => tf.reverse(p.b, 1),
      st: (tf, _i, p) => tf.stack([p.a, p.b], 1),
      lo: (tf, _i, p) => tf.linalg.bandPart(p.m, -1, 0),
      up: (tf, _i, p) => tf.linalg.bandPart(p.m, 0, -1),
      cc: (tf, _i, p) => tf.concat([p.a, p.m], 0),
    };
    const weighted = (tf: TF, x: Tensor) => tf.sum(tf.mul(tf.sin(x), pos(tf, x.shape)));
    await checkAll("shape_ops", {
      source: `
param a: [2, 3] = normal(0, 1)
param b: [2, 3] = normal(0, 1)
param m: [3, 3] = normal(0, 1)
pd   = pad(a, [[1, 0], [2, 1]], value = 0.5)
tl   = tile(a, [2, 3])
fl   = flip(b, 1)
st   = stack([a, b], axis = 1)
lo   = tril(m)
up   = triu(m)
cc   = concat([a, m], axis = 0)
loss = sum(sin(pd) * reshape(arange(18), [3, 6])) + sum(sin(tl) * reshape(arange(36), [4, 9])) + sum(sin(fl) * reshape(arange(6), [2, 3])) + sum(sin(st) * reshape(arange(12), [2, 2, 3])) + sum(sin(lo) * reshape(arange(9), [3, 3])) + sum(sin(up) * reshape(arange(9), [3, 3])) + sum(sin(cc) * reshape(arange(15), [5, 3]))
output pd, tl, fl, st, lo, up, cc
minimize loss
`,
      inputs: {},
      // bandPart has no working gradient in TF.js: the loss masks with its constant output
      tfLoss: (tf, i, p) => {
        const ones = tf.ones([3, 3]);
        const masked = { lo: tf.mul(p.m, tf.linalg.bandPart(ones, -1, 0)), up: tf.mul(p.m, tf.linalg.bandPart(ones, 0, -1)) };
        const o = Object.fromEntries(Object.entries(outs).map(([k, f]) => [k, f(tf, i, p)]));
        return tf.addN(Object.values({ ...o, ...masked }).map((t) => weighted(tf, t)));
      },
    }, outs);
  });

  it("(o) argmax, argmin, round (half to even), ceil, floor: tf.argMax, tf.argMin, tf.round, tf.ceil, tf.floor", async () => {
    // multiples of 1/8, so x * 4 holds exact halves (round's ties) and integers (ceil's edge)
    const r = rng(131);
    const x = Float64Array.from({ length: 20 }, () => Math.round((r() * 2 - 1) * 24) / 8);
    const c: CrossCheck = {
      source: `
input x: [4, 5]
am = argmax(x, axis = 1)
an = argmin(x, axis = 0)
rd = round(x * 4)
cl = ceil(x * 4)
fl = floor(x * 4)
output am, an, rd, cl, fl
`,
      inputs: { x },
      tfLoss: () => { throw new Error("forward only"); },
    };
    expect(Array.from(x).some((v) => Math.abs(v * 4 - Math.round(v * 4)) === 0.5)).toBe(true);
    await forwardCheck("argmax", c, "am", (tf, i) => tf.argMax(i.x, 1));
    await forwardCheck("argmin", c, "an", (tf, i) => tf.argMin(i.x, 0));
    await forwardCheck("round", c, "rd", (tf, i) => tf.round(tf.mul(i.x, 4)));
    await forwardCheck("ceil", c, "cl", (tf, i) => tf.ceil(tf.mul(i.x, 4)));
    await forwardCheck("floor", c, "fl", (tf, i) => tf.floor(tf.mul(i.x, 4)));
  });
});
