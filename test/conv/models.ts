// Convolution models shared by the tests in this folder: every variant (conv1d with
// dilation and groups, conv2d with groups / dilation / per-axis stride and padding,
// depthwise, conv_transpose1d/2d with output_padding, max and average pooling), and a
// model whose objective is itself a gradient (second derivatives of every record).

export interface ConvModel {
  name: string;
  source: string;
  /** Built-ins its printed gradient must use (and so the language must accept). */
  printsAs: string[];
  /** Values of free dims to run at. */
  dims?: Record<string, number>;
}

export const models: ConvModel[] = [
  {
    name: "conv1d: dilation, padding, stride, groups",
    source: `
input x: [2, 4, 17]
input t: [2, 6, 6]
param w1: [4, 2, 3] = he_normal
param w2: [6, 4, 3] = he_normal
h = tanh(conv1d(x, w1, padding = 2, dilation = 2, groups = 2))
y = conv1d(h, w2, stride = 3, padding = 1)
loss = mean((y - t) ^ 2)
output y
minimize loss
`,
    printsAs: ["conv_transpose1d", "conv1d_weight_grad"],
  },
  {
    name: "conv2d: depthwise with pairs, pointwise, strided, max and average pooling",
    source: `
input x: [2, 3, 9, 8]
param dw: [6, 1, 3, 3] = he_normal
param pw: [4, 6, 1, 1] = he_normal
param k: [4, 2, 2, 3] = he_normal
param b: [4, 1, 1] = uniform(-0.1, 0.1)
d = relu(conv2d(x, dw, padding = [1, 2], dilation = [2, 1], groups = 3))
p = conv2d(d, pw) + b
s = conv2d(maxpool2d(p, size = 2, stride = 1), k, stride = [2, 1], padding = [0, 1], groups = 2)
loss = sum(avgpool2d(sigmoid(s), size = 2) ^ 2) + mean(maxpool2d(p, size = 3, stride = 2))
output s
minimize loss
`,
    printsAs: ["conv_transpose2d", "conv2d_weight_grad", "maxpool2d_grad", "avgpool2d_grad"],
  },
  {
    name: "conv_transpose2d: stride 2 with output_padding, then conv_transpose1d",
    source: `
input t: [2, 2, 9, 9]
param z: [2, 3, 4, 4] = normal(0, 1)
param w: [3, 2, 3, 3] = he_normal
param u: [2, 2, 2] = he_normal
up = conv_transpose2d(z, w, stride = 2, output_padding = 1)
y = tanh(up[:, :, 0:9, 0:9])
line = conv_transpose1d(reshape(y, [2, 2, 81]), u, stride = 2, dilation = 2, groups = 1)
loss = mean((y - t) ^ 2) + mean(line ^ 2)
output up
minimize loss
`,
    printsAs: ["conv2d", "conv2d_weight_grad", "conv1d", "conv1d_weight_grad"],
  },
  {
    name: "free batch dim: conv2d, grouped conv_transpose2d, pooling",
    source: `
dim n
input x: [n, 2, 8, 8]
param k: [4, 2, 3, 3] = he_normal
param kt: [4, 1, 2, 2] = he_normal
c = relu(conv2d(x, k, stride = 2, padding = 1))
u = conv_transpose2d(c, kt, stride = 2, groups = 2)
loss = mean(avgpool2d(u, size = 2, stride = 2) ^ 2) + mean(maxpool2d(c, size = 2))
output u
minimize loss
`,
    printsAs: ["conv_transpose2d", "conv2d_weight_grad", "conv2d", "maxpool2d_grad", "avgpool2d_grad"],
    dims: { n: 3 },
  },
  {
    // more than 32 (forward) and 64 (weight gradient) taps per group: the generic loop
    // nests, not the register-tiled kernels
    name: "many taps per group: generic nests with groups, dilation and padding pairs",
    source: `
input x: [2, 16, 7, 6]
input s: [2, 12, 20]
param w: [4, 8, 3, 3] = he_normal
param v: [6, 6, 7] = he_normal
y = conv2d(x, w, padding = [1, 0], dilation = [2, 1], stride = [1, 2], groups = 2)
z = conv1d(s, v, padding = 3, dilation = 2, groups = 2)
loss = mean(tanh(y) ^ 2) + mean(z ^ 2)
output y, z
minimize loss
`,
    printsAs: ["conv2d_weight_grad", "conv1d_weight_grad"],
  },
  {
    name: "second derivatives: an objective that is a gradient",
    source: `
input x: [2, 2, 6, 6]
param w: [3, 2, 3, 3] = he_normal
param v: [3, 2, 2, 2] = he_normal
h = conv2d(x, w, padding = 1, dilation = [1, 2])
l = sum(maxpool2d(h, size = 2) ^ 2) + sum(conv_transpose2d(h, v, stride = 2) ^ 2)
loss = sum(grad(l, w) ^ 2) + sum(grad(l, x) * x)
minimize loss
`,
    printsAs: ["conv2d", "conv_transpose2d", "conv2d_weight_grad", "maxpool2d_grad", "maxpool2d_select"],
  },
];
