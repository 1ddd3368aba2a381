// Printed gradients are programs: the gradient program `gradc grad` prints (the same
// printDefinitions call) compiles, with the model's declarations, to a model whose outputs
// are the gradients valueAndGrad computes — for slices of every kind (their gradient prints
// as the documented `pad` and `flip` built-ins) and for every built-in added for real models.

import { describe, expect, it } from "vitest";
import { buildModel, compile } from "../../src/index";
import { lowerSource } from "../../src/lower";
import { printDefinitions } from "../../src/print";
import { expectClose, model, randomValues } from "./helpers";

/** What `gradc grad` prints for `source`. */
function gradientText(source: string): string {
  const program = lowerSource(source, { filename: "m.grad" });
  const ir = buildModel(program);
  return printDefinitions(program.params.map((p, i) => ({ name: `d_${p.name}`, node: ir.grads![i]! })));
}

/** Compile the printed gradient with the model's declarations and compare its outputs
 *  with valueAndGrad at random points. */
function expectPrintedGradientComputes(source: string, dims: Record<string, number> = {}): string {
  const text = gradientText(source);
  const declarations = source.split("\n").filter((l) => /^\s*(dim|input|param)\b/.test(l)).join("\n");
  const names = lowerSource(source).params.map((p) => `d_${p.name}`);
  const printed = compile(`${declarations}\n${text}output ${names.join(", ")}\n`, { dtype: "f64", filename: "printed.grad" });
  const original = model(source);
  for (const seed of [1, 2, 3]) {
    const values = randomValues(source, seed, dims);
    const { grads } = original.valueAndGrad(values);
    const got = printed.forward(values);
    for (const p of lowerSource(source).params) {
      const g = got[`d_${p.name}`]!;
      expectClose(typeof g === "number" ? [g] : g, grads[p.name]!, 1e-12, `d_${p.name}\n${text}`);
    }
  }
  return text;
}

describe("the printed gradient of a slice", () => {
  it("is the pad built-in, positional pairs, and computes valueAndGrad's values", () => {
    const text = expectPrintedGradientComputes("param w: [4, 3]\ninput r: [2, 3]\nminimize sum(w[1:3] * r)");
    expect(text).toContain("pad(r, [[1, 1], [0, 0]])");
  });

  it("flips for negative steps and spaces out strided ones", () => {
    const text = expectPrintedGradientComputes(
      "param w: [7, 5]\ninput r: [2, 3]\nminimize sum(w[1::3, ::-2] * r) + sum(w[5:0:-2, 1] ^ 2) + sum(w[..., -1]) * sum(w[2])",
    );
    expect(text).toMatch(/flip\(/);
    expect(text).toMatch(/pad\(/);
  });

  it("covers integer indices, ellipsis and slices of slices", () => {
    expectPrintedGradientComputes("param w: [3, 4, 5]\nminimize sum(w[1, ::2, 1:4] ^ 2) + sum(w[..., 3][::-1] * 2) + sum(w[:, 1:][:, ::2, 4])");
  });
});

describe("printed gradients of the built-ins for real models", () => {
  const models = [
    "param w: [2, 3]\ninput x: [2, 3]\nminimize sum(erf(w * x)) + sum(mod(w, 0.7) * x) + sum(round(w) * w + ceil(w) * w + trunc(w) * w)",
    "param w: [2, 3]\nminimize sum(log_sigmoid(w)) + sum(silu(w)) + sum(rsqrt(w * w + 1))",
    "param w: [3, 4]\nminimize var(w) + sum(std(w, axis = 1, correction = 1)) + sum(norm(w, axis = 0)) + sum(cumsum(w, axis = 1) ^ 2)",
    "param w: [3, 4]\ninput x: [3, 4]\nminimize sum(w * argmax(w * x, axis = 1, keepdims = true)) + sum(layer_norm(w) * x) + sum(rms_norm(w, axis = 0) * x)",
    "param w: [2, 3]\nparam z: [2, 3]\nminimize sum(stack([w, z], axis = 1) ^ 2) + sum(flip(w, 1) * z) + sum(squeeze(expand_dims(w, 0)) * z)",
    "param w: [2, 3]\nminimize sum(pad(w, [[1, 0], [2, 1]], value = 3) ^ 2) + sum(sin(tile(w, [2, 2]))) + sum(cos(repeat(w, 3, 1)))",
  ];
  for (const src of models) it(src.split("\n").pop()!, () => { expectPrintedGradientComputes(src); });

  it("with free dims: pad, tile and repeat along a free axis", () => {
    const text = expectPrintedGradientComputes(
      "dim n\nparam w: [3]\ninput x: [n, 3]\nu = x * w\nminimize sum(pad(u, [[2, 1], [0, 1]]) ^ 2) + sum(sin(tile(u, [2, 1]))) + sum(cos(repeat(u, 2, 0))) + sum(pad(u, [[2, 1], [0, 0]])[2:-1] * u)",
      { n: 4 },
    );
    expect(text).toMatch(/\[2:-1, :3\]|\[2:-1, :-1\]/);
  });
});
