// Draws in printed programs and in gradcheck: the gradient `gradc grad` prints for a model
// with dropout names its mask's stream (`rand([6], stream = 1)`), so the printed program,
// compiled and run at the same generator state, computes valueAndGrad's gradient; gradcheck
// holds a drawing model's generator fixed, so dropout's gradient checks, and leaves the
// generator's state as it found it.

import { describe, expect, it } from "vitest";
import { buildModel, compile, gradcheck } from "../../src/index";
import { lowerSource } from "../../src/lower";
import { printDefinitions } from "../../src/print";

const source = "input x: [2, 3]\nparam w: [3, 3] = normal(0, 1)\nh = dropout(tanh(x @ w), 0.5) + 0.1 * randn([2, 3])\nminimize sum(h * h)";

describe("a printed gradient with draws", () => {
  it("names its streams and computes valueAndGrad's gradient at the same generator state", () => {
    const program = lowerSource(source, { filename: "m.grad" });
    const text = printDefinitions([{ name: "d_w", node: buildModel(program).grads![0]! }]);
    expect(text).toMatch(/rand\(\[6\], stream = 1\)/);
    expect(text).toMatch(/randn\(\[6\], stream = 2\)/);
    expect(text).not.toMatch(/training/);
    const printed = compile(`input x: [2, 3]\nparam w: [3, 3]\n${text}output d_w\n`, { dtype: "f64" });
    const original = compile(source, { dtype: "f64" });
    const x = Float64Array.of(0.5, -1, 2, 0.25, 1.5, -0.75);
    for (const calls of [0, 1, 7]) {
      original.reseed!(1, calls);
      printed.reseed!(1, calls);
      const g = original.valueAndGrad({ x }).grads.w!;
      const p = printed.forward({ x, w: original.params.w! }).d_w as Float64Array;
      [...g].forEach((v, i) => expect(p[i]).toBeCloseTo(v, 12));
    }
  });
});

describe("gradcheck of a model that draws", () => {
  it("checks dropout's gradient at fixed draws and restores the generator", () => {
    const m = compile(source, { dtype: "f64", seed: 3 });
    m.reseed!(3, 5);
    const result = gradcheck(m);
    expect(result.ok).toBe(true);
    expect(result.params[0]!.checked).toBeGreaterThan(0);
    expect(m.randomState!()).toEqual({ seed: 3, calls: 5 });
    expect(gradcheck(source).ok).toBe(true);
  });

  it("still fails a wrong gradient: the same draws with a different mask scale by hand", () => {
    // Both models draw stream 1; the objective uses scale 2 but the mask of the gradient
    // path is cut by stop_gradient, so the gradient is wrong and gradcheck says so.
    const wrong = "input x: [4]\nparam w: [4] = ones\nm = where(rand([4], stream = 1) >= 0.5, 2, 0)\nminimize sum(stop_gradient(x * w * m) + x * w)";
    const result = gradcheck(wrong);
    expect(result.ok).toBe(false);
  });
});
