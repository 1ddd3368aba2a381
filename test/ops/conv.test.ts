// The convolution records (src/ops/conv.ts) beyond their reference semantics (those are in
// conv-evaluate.test.ts): the printed gradient of conv models is a program computing the
// gradients valueAndGrad computes, for 1-d and 2-d convs whose stride, padding, dilation,
// groups, output padding and kernel size differ per axis or are all one number (the
// keywords each record spells); and the flops each record reports (2 per multiply-add).

import { describe, expect, it } from "vitest";
import { buildModel, compile } from "../../src/index";
import { flopsOf } from "../../src/cli/stats";
import { numel, topoSort, type Shape } from "../../src/ir";
import { lowerSource } from "../../src/lower";
import { expectClose, gradientProgram, randomValues } from "../conv/helpers";
import { kernelOps, planOf } from "../schedule/helpers";

/** Compiles the printed gradient of `source` and compares it with valueAndGrad. */
function expectPrintedGradientComputes(source: string): void {
  const model = compile(source, { dtype: "f64", filename: "conv.grad" });
  const printed = compile(gradientProgram(source, model.meta), { dtype: "f64", filename: "printed.grad" });
  const values = randomValues(model.meta, 5);
  const { grads } = model.valueAndGrad(values);
  const got = printed.forward(values);
  for (const p of model.meta.params) expectClose(got[`d_${p.name}`] as Float64Array, grads[p.name]!, 1e-12, `d_${p.name}`);
}

describe("printed gradients of convolutions are programs", () => {
  it("2-d: per-axis stride, padding and dilation; groups; output padding", () => {
    // x is 9x8: with stride [2, 3] the input reaches past the last window on both axes
    // (output padding [0, 2]); v's windows tile (output padding 0)
    expectPrintedGradientComputes(`param x: [1, 4, 9, 8]
param w: [4, 2, 3, 2]
param v: [2, 4, 3, 3]
loss = sum(sin(conv2d(x, w, stride = [2, 3], padding = [1, 0], dilation = [1, 2], groups = 2))) + sum(sin(conv2d(x, v, stride = 2, padding = 1, dilation = 2)))
minimize loss`);
  });

  it("1-d, and a conv_transpose2d and a conv2d_weight_grad under a param", () => {
    expectPrintedGradientComputes(`param x: [2, 2, 11]
param w: [3, 2, 3]
param g: [1, 2, 3, 4]
param k: [2, 3, 2, 3]
param y: [1, 3, 7, 11]
loss = sum(sin(conv1d(x, w, stride = 2, padding = 2, dilation = 2))) + sum(sin(conv_transpose2d(g, k, stride = [2, 1], padding = [0, 1], output_padding = [1, 0]))) + sum(sin(conv2d_weight_grad(y, g, [3, 2], stride = [3, 2], padding = [1, 0], dilation = [1, 3])))
minimize loss`);
  });

  it("with tensors named like the built-ins the gradient calls (the printer renames them)", () => {
    expectPrintedGradientComputes(`param x: [1, 2, 9]
param w: [2, 2, 3]
param y: [1, 1, 5, 5]
param k: [1, 1, 3, 3]
conv_transpose1d = conv1d(x, w)
conv_transpose2d = conv2d(y, k)
conv1d_weight_grad = sin(conv_transpose1d)
conv2d_weight_grad = sin(conv_transpose2d)
minimize sum(conv1d_weight_grad * conv1d_weight_grad) + sum(conv2d_weight_grad * conv2d_weight_grad)`);
    // the input gradient of a transposed convolution is a convolution
    expectPrintedGradientComputes(`param g: [1, 2, 4]
param w: [2, 3, 3]
param h: [1, 2, 3, 3]
param k: [2, 1, 2, 2]
conv1d = sin(g)
conv2d = sin(h)
minimize sum(conv_transpose1d(conv1d, w) ^ 2) + sum(conv_transpose2d(conv2d, k) ^ 2)`);
  });
});

describe("what the plan stores around a convolution", () => {
  it("each record reads its operands stored (a window reads each element several times)", () => {
    for (const call of ["conv2d(exp(x), w)", "conv_transpose2d(exp(g), w)", "conv2d_weight_grad(exp(x), exp(g), 3)"]) {
      const { plan } = planOf(`input x: [1, 2, 6, 6]\ninput g: [1, 2, 4, 4]\ninput w: [2, 2, 3, 3]\ny = ${call}\noutput y`);
      expect([...plan.materialized].filter((n) => n.op.name === "exp").length, call).toBeGreaterThan(0);
    }
  });

  it("an elementwise consumer joins conv (each output stored once), not the two gradients (they accumulate)", () => {
    const joined = (call: string) => kernelOps(planOf(`input x: [1, 2, 6, 6]\ninput g: [1, 2, 4, 4]\ninput w: [2, 2, 3, 3]\ny = ${call} * 2 + 1\noutput y`).plan);
    expect(joined("conv2d(x, w)")).toEqual(["add"]);
    expect(joined("conv_transpose2d(g, w)")).toEqual(["conv_input_grad", "add"]);
    expect(joined("conv2d_weight_grad(x, g, 3)")).toEqual(["conv_weight_grad", "add"]);
  });
});

describe("on the wasm target", () => {
  it("every convolution record has a kernel", () => {
    const source = `input x: [1, 2, 6, 6]
input g: [1, 2, 4, 4]
input w: [2, 2, 3, 3]
y = conv2d(x, w)
z = conv_transpose2d(g, w)
v = conv2d_weight_grad(x, g, 3)
output y, z, v`;
    const r = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(1.3 * i + k));
    const inputs = { x: r(72, 1), g: r(32, 2), w: r(36, 3) };
    const js = compile(source, { filename: "conv.grad" }).forward(inputs);
    const wasm = compile(source, { filename: "conv.grad", target: "wasm" }).forward(inputs);
    for (const o of ["y", "z", "v"]) expectClose(wasm[o] as Float32Array, js[o] as Float32Array, 1e-5, o);
  });
});

describe("flops of the convolution records", () => {
  it("are 2 per multiply-add: outputs x channels per group x kernel taps", () => {
    const source = `input x: [2, 4, 9, 8]
param w: [6, 2, 3, 2]
y = conv2d(x, w, stride = [2, 1], padding = 1, groups = 2)
minimize sum(y * y)`;
    const model = buildModel(lowerSource(source));
    const count = (s: Shape) => numel(s.map((d) => (typeof d === "number" ? d : 1)));
    const flops = new Map(topoSort([model.objective!, ...model.grads!]).map((n) => [n.op.name, flopsOf(n, count)]));
    // y is [2, 6, 5, 9]: 540 outputs, each 2 channels x 6 taps
    const macs = 2 * 6 * 5 * 9 * 2 * 3 * 2;
    expect(flops.get("conv")).toBe(2 * macs);
    // the weight gradient makes the same multiply-adds; x is an input: no input gradient
    expect(flops.get("conv_weight_grad")).toBe(2 * macs);
    const transpose = buildModel(lowerSource(source.replace("input x", "param x")));
    const input = topoSort(transpose.grads!).find((n) => n.op.name === "conv_input_grad")!;
    expect(flopsOf(input, count)).toBe(2 * macs);
  });
});
