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
