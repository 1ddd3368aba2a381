// Every op of the op table on the wasm target against the JS target. The list is the
// table itself (allOps()): each op must have a model here that uses it (checked in the
// lowered and built graphs), compared on both targets in f32 (forward, predict, objective
// and every gradient, within f32 rounding, at random and adversarial values), or be listed
// as refused with the reason (none is). A new op without wasm coverage fails the first test. (The
// op-table gradcheck runs in f64, which the wasm target refuses: this is its f32 twin.)

import { describe, expect, it } from "vitest";
import { buildModel } from "../../src/index";
import { nodesWithBodies, type Node } from "../../src/ir";
import { lowerSource } from "../../src/lower";
import { allOps } from "../../src/ops";
import { compareTargets, ids, type TargetCase } from "../helpers/targets";

/** Ops the wasm target refuses (E0308), each with the reason. None is now; an op added to
 *  the table without wasm support goes here. */
const refused: Record<string, string> = {};

/** One model per group of ops; every op of the table is in one (or in `refused`). */
const models: { ops: string[]; case: TargetCase }[] = [
  {
    ops: ["input", "const", "neg", "add", "sub", "mul", "div", "exp", "log", "log1p", "expm1", "sqrt", "abs", "tanh", "sigmoid", "relu", "softplus", "sign", "stop_gradient"],
    case: { source: `
input x: [2, 3]
param w: [2, 3]
u = x * w
pos = w * w + 0.5
y = -u + exp(u) + log(pos) + log1p(pos) + expm1(u) + sqrt(pos) + abs(u) + tanh(u) + sigmoid(u) + relu(u) + softplus(u) + sign(u) + stop_gradient(u) * u - u / pos
output y
minimize sum(y * x)
` },
  },
  {
    ops: ["sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh"],
    case: { source: `
input x: [2, 3]
param w: [2, 3]
u = x * w
unit = 0.9 * tanh(u)
y = sin(u) + cos(3 * u) + tan(unit) + asin(unit) + acos(unit) + atan(4 * u) + sinh(2 * u) + cosh(u) + sin(1e4 * u) + cos(3e7 * x)
output y
minimize sum(y * x)
` },
  },
  {
    ops: ["floor", "ceil", "trunc", "round", "erf", "mod", "pow", "maximum", "minimum", "where", "lt", "le", "gt", "ge", "eq", "ne"],
    case: { source: `
input x: [2, 3]
param w: [2, 3]
u = 3 * x * w
y = floor(u) + ceil(u) + trunc(u) + round(u) + round(u + 0.5) + erf(u) + mod(u, 1.5) + mod(-u, 0.7) + pow(w * w + 0.5, u) + u ^ 3
z = maximum(u, x) + minimum(u, w) + where(u > x, u, x) + (u < w) + (u <= x) + (u >= w) + (u == x) + (u != w)
output y, z
minimize sum(y * x) + sum(z * u)
` },
  },
  {
    ops: ["broadcast", "reshape", "transpose", "slice", "pad", "flip", "concat"],
    case: { source: `
input x: [2, 3, 4]
param w: [3, 4]
z = x * w
a = reshape(transpose(z, [1, 0, 2]), [3, 8])
b = pad(z[:, 1:, ::2], [[1, 0], [0, 2], [1, 1]])
c = concat([z, flip(z, axis = 1)], axis = 2)
output a, b, c
minimize sum(a * a) + sum(b) + sum(c * c)
` },
  },
  {
    ops: ["sum", "prod", "max", "min", "argmax", "argmin", "cumsum"],
    case: { source: `
input x: [3, 4]
param w: [3, 4]
z = x * w
r = sum(z, axis = 0) + prod(z + 1.5, axis = 0) + max(z, axis = 0) + min(z, axis = 0) + cumsum(z, axis = 0)[2]
i = argmax(z, axis = 1) + argmin(z, axis = 1)
output r, i
minimize sum(r * r) + mean(z)
` },
  },
  {
    ops: ["matmul"],
    case: { source: `
input x: [4, 5]
param w: [5, 3]
param v: [5]
y = x @ w
output y
minimize sum(y * y) + sum(x @ v)
` },
  },
  {
    ops: ["conv", "conv_input_grad", "conv_weight_grad", "maxpool2d", "maxpool2d_grad", "avgpool2d", "avgpool2d_grad"],
    case: { source: `
input img: [2, 2, 6, 6]
param k: [3, 2, 3, 3]
param k2: [2, 3, 2, 2]
a = conv2d(img, k, padding = 1)
b = conv2d(tanh(a), k2, stride = 2)
p = maxpool2d(a) + avgpool2d(a, size = 2)
output b, p
minimize sum(b * b) + sum(p * p)
` },
  },
  {
    ops: ["maxpool2d_select", "maxpool2d_grad"],
    case: { source: `
input a: [1, 2, 4, 4]
input g: [1, 2, 2, 2]
param w: [1, 2, 4, 4]
routed = maxpool2d_grad(a * w, g)
picked = maxpool2d_select(a, a * w)
output routed, picked
minimize sum(routed * routed) + sum(picked * picked)
` },
  },
  {
    ops: ["take", "scatter_add", "iota", "arange", "tensor"],
    case: {
      source: `
input tokens: [2, 3]
input x: [2, 3]
param table: [5, 4]
param w: [4]
e = take(table, tokens)
picked = take(table, floor(clip(abs(x) * 5, 0, 4)))
oh = one_hot(tokens, 5)
fixed = take(table, arange(1, 4)) + take(table, tensor([4, 0, 2]))
h = e @ w + sum(oh, axis = -1) + picked @ w + iota([2, 3], 1) * x
output h, oh, fixed
minimize sum(h * h) + sum(fixed * fixed) + sum(scatter_add(x, tokens, 5) * table[:, 0])
`,
      values: { tokens: ids(5) },
    },
  },
  {
    ops: ["scan", "scan_arg", "scan_out"],
    case: { source: `
input xs: [4, 2, 3]
input h0: [2, 3]
param w: [3, 3]
param v: [3]
fn step(h, m, x, ww) {
  nh = tanh(h @ ww + x * v)
  [nh, m + sum(nh), nh * m]
}
last = scan(step, [h0, 0], [xs], [w], out = 0)
ys = scan(step, [h0, 0], [xs], [w], reverse = true, out = 2)
output last, ys
minimize sum(last * last) + mean(ys)
` },
  },
  {
    ops: ["size"],
    case: { source: `
dim n
input x: [n, 3]
param w: [3]
y = x * w
output y
minimize sum(y) / n + mean(y)
`, runs: [{ n: 2 }, { n: 5 }, { n: 1 }] },
  },
  {
    ops: ["rand", "randn", "training"],
    case: { source: `
input x: [4, 3]
param w: [4, 3]
d = dropout(x * w, 0.3)
r = rand([4, 3]) + randn([4, 3]) * w
output d, r
minimize sum(d * d) + sum(r * r)
` },
  },
];

/** Every op name in the graphs `source` lowers and builds to (outputs, objective, grads). */
function opsIn(c: TargetCase): Set<string> {
  const program = lowerSource(c.source, { filename: "m.grad", sizes: c.sizes });
  const model = buildModel(program);
  const roots: Node[] = [...program.outputs.map((o) => o.node), ...(program.objective ? [program.objective.node] : []),
    ...model.outputs, ...(model.objective ? [model.objective] : []), ...(model.grads ?? []), ...(model.forwardObjective ? [model.forwardObjective] : [])];
  return new Set(nodesWithBodies(roots).map((n) => n.op.name));
}

describe("the op table on the wasm target", () => {
  it("every op has a model here or a reason it is refused (none is)", () => {
    const covered = new Set(models.flatMap((m) => m.ops));
    const missing = allOps().map((op) => op.name).filter((name) => !covered.has(name) && !(name in refused));
    expect(missing).toEqual([]);
    expect(Object.keys(refused).filter((name) => covered.has(name))).toEqual([]);
  });

  it.each(models.map((m) => [m.ops.join(", "), m] as const))("the model for %s uses them", (_, m) => {
    const found = opsIn(m.case);
    expect(m.ops.filter((op) => !found.has(op))).toEqual([]);
  });

  describe.each(models.map((m) => [m.ops.join(", "), m] as const))("%s", (_, m) => {
    it.each(["random", "adversarial"] as const)("wasm agrees with js within f32 rounding (%s values)", (mode) => {
      compareTargets(m.case, mode);
    });
  });
});
