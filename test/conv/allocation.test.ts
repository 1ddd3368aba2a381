// Convolution kernels keep the zero-allocation contract: steady-state steps and
// valueAndGrads of a model using every conv variant (grouped, dilated, strided pairs,
// conv1d, conv_transpose2d, both pools) cause no young-generation collection, counted in a
// separate process with a 1 MB nursery (as test/codegen/allocation.test.ts does for XOR).
import { describe, expect, it } from "vitest";
import { compileToSource } from "../../src/index";
import { scavengesDuring } from "../helpers/gc";

const source = `
input x: [4, 4, 10, 10]
input s: [4, 2, 16]
param dw: [8, 2, 3, 3] = he_normal
param up: [8, 2, 2, 2] = he_normal
param v: [3, 2, 3] = he_normal
d = relu(conv2d(x, dw, stride = [2, 1], padding = [1, 2], dilation = [1, 2], groups = 2))
u = conv_transpose2d(d, up, stride = 2)
z = conv1d(s, v, padding = 2, dilation = 2)
loss = mean(maxpool2d(u) ^ 2) + mean(avgpool2d(d, size = 2, stride = 1)) + mean(z ^ 2)
minimize loss with adam(lr = 0.001)
`;

describe("convolution models allocate nothing per call", () => {
  it("20,000 steps and valueAndGrads cause no GC", () => {
    const { gcs, result } = scavengesDuring(compileToSource(source, { format: "esm" }).text, `
const values = { x: new Float32Array(1600).map((_, i) => Math.sin(i)), s: new Float32Array(128).map((_, i) => Math.cos(i)) };
const measure = () => { let t = 0; for (let i = 0; i < 20000; i++) { t += model.step(values); t += model.valueAndGrad(values).value; } return t; };`);
    expect(Number.isFinite(result)).toBe(true);
    expect(gcs).toBe(0);
  }, 120_000);
});
