// Model sources shared by the differential tests (emitted code against the interpreter,
// test/differential) and the wasm target's (against the JS target, test/wasm/model.test.ts):
// one list of models covering every built-in, each with the sizes and values to run at.

import { readFileSync } from "node:fs";
import { ids, oneHotRows, uniform, type Generator } from "./targets";

const xorSource = readFileSync(new URL("../../examples/xor/xor.grad", import.meta.url), "utf8");

export interface ModelCase {
  name: string;
  source: string;
  /** Dims bound at compile time. */
  sizes?: Record<string, number>;
  /** Values of free dims to run at, one entry per run (in order, so plans are re-made). */
  runs?: Record<string, number>[];
  /** Every output, the objective and every gradient must be finite (stable forms). */
  finite?: boolean;
  /** Custom value generators by input/param name (default: uniform in (-1, 1)). */
  values?: Record<string, Generator>;
}

export const modelCases: ModelCase[] = [
  { name: "xor (the seed)", source: xorSource, values: { x: uniform(0, 1), y: uniform(0, 1), m1: uniform(0.1, 0.9) } },
  {
    name: "mlp 5-16-4, relu, softmax cross-entropy",
    sizes: { n: 8 },
    source: `
dim n
input x: [n, 5]
input target: [n, 4]
param w1: [5, 16] = glorot_uniform
param b1: [16] = zeros
param w2: [16, 4] = glorot_uniform
param b2: [4] = zeros
h = relu(x @ w1 + b1)
logits = h @ w2 + b2
probs = softmax(logits)
loss = cross_entropy(logits, target)
output probs, logits
minimize loss with adam(lr = 0.01)
`,
    values: { target: oneHotRows(4) },
  },
  {
    name: "every elementwise built-in and composite",
    finite: true,
    source: `
input x: [2, 3]
param p: [2, 3]
param q: [3]
u = x * p + q
pos = p * p + 0.5
unit = 0.9 * tanh(u)
e1 = exp(u) + log(pos) + log1p(pos) + expm1(u) + sqrt(pos) + abs(u)
e2 = sin(u) + cos(u) + tan(unit) + asin(unit) + acos(unit) + atan(u)
e3 = tanh(u) + sinh(u) + cosh(u) + sigmoid(u) + relu(u) + softplus(u) + square(u) + sign(u) + floor(3 * u)
e4 = pow(pos, u) + maximum(u, x) + minimum(u, q) + where(u > 0, u, -u * x) + clip(u, -0.5, 0.5)
e5 = leaky_relu(u) + leaky_relu(u, alpha = 0.2) + elu(u) + elu(u, alpha = 0.5) + gelu(u)
e6 = pos ^ -1.5 + u ** 3 + -u ^ 2 + u / pos + where(u <= x, 1, 2) * where(u >= q, u, 1) + (u == u) + (u != x) + (u < 0.1)
e7 = log(sigmoid(4 * u)) + softplus(30 * u) + sigmoid(-40 * u) + log(sigmoid(-50 * u)) + 1e-3 * (log(sigmoid(2000 * u)) + softplus(-3000 * u))
loss = sum(e1 * e2 + e3 - e4 * e5) + mean(e6) + sum(e7)
output e1, e2, e3, e4, e5, e6, e7
minimize loss with sgd(lr = 0.1)
`,
  },
  {
    name: "reductions with axis and keepdims, softmax, log_softmax, tied max",
    source: `
input x: [3, 4, 5]
param w: [3, 4, 5]
param v: [4]
z = x * w
r1 = sum(z, axis = 1)
r2 = mean(z, axis = [0, 2], keepdims = true)
r3 = max(z, axis = -1)
r4 = min(z, axis = [-1, 0], keepdims = true)
r5 = prod(tanh(z) + 1.5, axis = 2)
r6 = logsumexp(z, axis = 1, keepdims = true)
r7 = softmax(z, axis = 1)
r8 = log_softmax(z)
r9 = sum(z) + mean(z) + max(z) + min(z) + prod(0.9 + 0.1 * tanh(z)) + logsumexp(z)
r10 = sum(v * sum(z, axis = [0, 2])) + sum(max(broadcast_to(v, [3, 4]), axis = 0)) + sum(min(concat([v, v]), keepdims = true))
loss = sum(r1 ^ 2) + sum(r2 * r2) + sum(r3) + sum(r4) + sum(r5) + sum(r6) + sum(r7 * x) + sum(r8 * x) + r9 + r10
output r1, r2, r3, r4, r5, r6, r7, r8, r9
minimize loss
`,
  },
  {
    name: "shape ops: transpose, reshape, broadcast_to, concat, slicing, one_hot",
    source: `
input x: [2, 3, 4]
input labels: [5]
param w: [2, 3, 4]
param c: [4, 3]
z = x * w
t1 = transpose(z, [1, 0, 2])
t2 = transpose(c)
t3 = reshape(z, [-1, 4])
t4 = reshape(z, [3, -1])
t5 = broadcast_to(t2, [2, 3, 4])
t6 = concat([z, t5], axis = 0)
t7 = concat([t2, t2 * 2, t2 ^ 2], axis = -1)
t8 = z[:, 1:3]
t9 = z[..., -1]
t10 = z[::-1]
t11 = z[1, :, 2:]
t12 = t2[2:, ::2]
t13 = one_hot(labels, 4) @ c
t14 = z[0] + t2
t15 = z[-1, ::-2, 1:-1]
loss = sum(t1 * t1) + sum(t3[1:4] * 2) + sum(tanh(t4)) + sum(t6 ^ 2) + sum(sin(t7)) + sum(t8 * t8) + sum(t9) + sum(t10 * x) + sum(t11 ^ 3) + sum(t12) + sum(t13 ^ 2) + sum(t14 * t14) + sum(t15)
output t1, t3, t4, t6, t7, t8, t9, t10, t11, t12, t13, t15
minimize loss
`,
    values: { labels: ids(4) },
  },
  {
    name: "matmul ranks 1-3 with batch broadcasting",
    source: `
input a: [3]
input bm: [2, 3, 4]
param v: [3]
param m: [3, 4]
param n: [4, 3]
param bt: [2, 4, 3]
s11 = v @ a
s12 = v @ m
s21 = n @ v
s22 = m @ n
s31 = bm @ n
s32 = m @ bt
s33 = bm @ bt
s13 = v @ bm
s34 = bt @ v
loss = s11 + sum(s12 ^ 2) + sum(s21 * s12) + sum(tanh(s22)) + sum(s31 * s33) + sum(s32 ^ 2) + sum(s13) + sum(s34 * s34)
output s11, s12, s21, s22, s31, s32, s33, s13, s34
minimize loss
`,
  },
  {
    name: "conv2d (stride 2, padding 1), maxpool2d, avgpool2d",
    source: `
input img: [2, 3, 8, 8]
param k: [4, 3, 3, 3]
param kb: [4]
param k2: [2, 4, 2, 2]
c = conv2d(img, k, stride = 2, padding = 1)
a = tanh(c + reshape(kb, [4, 1, 1]))
mp = maxpool2d(a)
ap = avgpool2d(a, size = 2)
mp3 = maxpool2d(a, size = 3, stride = 1)
ap2 = avgpool2d(a, size = 2, stride = 1)
c2 = conv2d(a, k2)
c3 = conv2d(img, k, padding = 2, stride = 3)
loss = sum(mp * mp) + mean(ap) + sum(mp3) + sum(ap2 ^ 2) + sum(sin(c2)) + mean(c3 ^ 2)
output c, mp, ap, mp3, ap2, c2, c3
minimize loss
`,
  },
  {
    // Each max-pool is computed in its conv's loop, window by window (the conv's output is
    // never stored; its last row and column, in no window, never computed), the first
    // maximum's tap kept for the pool's gradient: with an epilogue (on the conv, on the
    // pool), groups, dilation, padding, stride, windows of 2 and 3, and a free batch dim.
    name: "conv2d under max-pools, computed window by window",
    source: `
dim b
input img: [b, 2, 9, 9]
param k: [4, 2, 3, 3]
param kb: [4]
param k2: [4, 1, 2, 2]
param k3: [2, 2, 2, 2]
p1 = maxpool2d(relu(conv2d(img, k, padding = 1) + reshape(kb, [4, 1, 1])), size = 2)
p2 = maxpool2d(conv2d(img, k2, groups = 2, stride = 2), size = 2)
p3 = maxpool2d(conv2d(img, k3, dilation = 2), size = 3)
p4 = 1 - maxpool2d(tanh(conv2d(img, k3)), size = 2)
loss = sum(p1 * p1) + sum(sin(p2)) + sum(p3 ^ 2) + sum(p4 * p4)
output p1, p2, p3, p4
minimize loss
`,
    runs: [{ b: 2 }, { b: 1 }],
  },
  {
    name: "grad inside the language: gradient penalty and Hessian-vector product",
    source: `
input x: [4, 3]
input v: [3, 2]
param w: [3, 2]
param b: [2]
out = tanh(x @ w + b)
base = mean(out ^ 2)
gw = grad(base, w)
penalty = sum(gw ^ 2)
gx = grad(sum(out * out * out), x)
hvp = grad(sum(grad(base, w) * v), w)
loss = base + 0.1 * penalty + 0.01 * sum(gx ^ 2) + sum(hvp * w)
output gw, gx, hvp
minimize loss
`,
  },
  {
    name: "a free dim, called at two sizes",
    source: `
dim n
input x: [n, 3]
input y: [n]
param w: [3]
param b
pred = x @ w + b
centered = x - mean(x, axis = 0)
loss = mean((pred - y) ^ 2) + 0.1 * sum(softmax(pred, axis = 0) * y) + sum(mean(centered ^ 2, axis = 0) * w) + sum(pred) / n
output pred, centered
minimize loss with adam(lr = 0.01)
`,
    runs: [{ n: 3 }, { n: 5 }, { n: 3 }, { n: 1 }],
  },
  {
    name: "free dims through shape ops, conv, matmul and one_hot",
    source: `
dim b, t
input x: [b, t, 3]
input img: [b, 2, 6, 6]
input lab: [b]
param w: [3, 4]
param k: [3, 2, 3, 3]
h = tanh(x @ w)
flat = reshape(reshape(h, [-1, t, 2, 2]), [b, t, -1])
tr = transpose(h, [1, 0, 2])
sl = h[:, :, ::-1]
last = h[..., -1]
cat = concat([h, h * 2], axis = 2)
bc = broadcast_to(w, [b, 3, 4])
oh = one_hot(lab, 4)
conv = conv2d(img, k, stride = 2, padding = 1)
pooled = maxpool2d(relu(conv))
avg = avgpool2d(conv, size = 3, stride = 3)
loss = mean(flat ^ 2) + sum(tr[..., 0]) + sum(sl * sl) + mean(last) + sum(cat) / t + sum(mean(bc, axis = 0) * w) + sum(oh @ transpose(w)) + mean(pooled) + sum(avg ^ 2) / b + sum(softmax(h, axis = 1) * x[..., 0:1])
output flat, tr, sl, last, cat, oh, conv, pooled, avg
minimize loss
`,
    runs: [{ b: 2, t: 3 }, { b: 1, t: 4 }, { b: 3, t: 2 }],
    values: { lab: ids(4) },
  },
  {
    // Several results are one node: two outputs, and gradients that are graph inputs.
    name: "results that share a node",
    source: `
input x: [3]
input s
param w1: [3]
param w2: [3]
param a
param c
y = x
loss = sum(w1 * x) + sum(w2 * x) + a * s + c * s
output y, x
minimize loss
`,
  },
  {
    name: "scalar inputs and params",
    source: `
input t
input s: []
param a
param c = constant(0.5)
param w: [3]
z = a * t + c * s
zs = w * z
loss = (z - 1) ^ 2 + sin(a * c) + sum(w * z) + exp(-abs(z)) + sum(zs ^ 2)
output z, zs
minimize loss with momentum(lr = 0.1)
`,
  },
];

