// The cheap-gradient principle, measured: the gradient costs a small constant times the
// forward pass (operation and flop counts, deterministic), and `derivative` finds shared
// terms as a person would.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildModel, compile, derivative } from "../../src/index";
import { modelStats } from "../../src/cli/stats";
import { lowerSource } from "../../src/lower";
import { parseExpression } from "../../src/syntax";

const models: Record<string, string> = {
  xor: readFileSync(new URL("../../examples/xor/xor.grad", import.meta.url), "utf8"),
  mlp: `input x: [64, 784]
input y: [64, 10]
param w1: [784, 128] = glorot_uniform
param b1: [128] = zeros
param w2: [128, 10] = glorot_uniform
param b2: [10] = zeros
h = relu(x @ w1 + b1)
logits = h @ w2 + b2
minimize cross_entropy(logits, y) with sgd(lr = 0.1)`,
  cnn: `input x: [16, 1, 28, 28]
input y: [16, 10]
param k: [8, 1, 3, 3] = he_normal
param kb: [8] = zeros
param w: [1352, 10] = glorot_uniform
param b: [10] = zeros
c = relu(conv2d(x, k) + reshape(kb, [8, 1, 1]))
p = maxpool2d(c)
logits = reshape(p, [16, 1352]) @ w + b
minimize cross_entropy(logits, y) with sgd(lr = 0.05)`,
};

describe("the cost of gradients", () => {
  for (const [name, source] of Object.entries(models)) {
    it(`${name}: forward+gradient flops and ops stay within 3x forward`, () => {
      const stats = modelStats(buildModel(lowerSource(source)), "f32");
      expect(stats.gradientFlops / stats.forwardFlops).toBeLessThanOrEqual(3);
      expect(stats.gradientOps / stats.forwardOps).toBeLessThanOrEqual(3);
    });
  }
});

/** Nodes in a parsed expression: a size measure for printed derivatives. */
function size(text: string): number {
  let n = 0;
  const walk = (e: ReturnType<typeof parseExpression>): void => {
    n++;
    switch (e.kind) {
      case "unary": walk(e.operand); break;
      case "paren": n--; walk(e.inner); break;
      case "binary": walk(e.left); walk(e.right); break;
      case "call": e.args.forEach(walk); break;
      default: break;
    }
  };
  walk(parseExpression({ file: "<t>", text }));
  return n;
}

describe("derivative", () => {
  it("x^2 * sin(x) is no larger than 2 * x * sin(x) + x^2 * cos(x), and right", () => {
    const d = derivative("x^2 * sin(x)", "x");
    expect(size(d)).toBeLessThanOrEqual(size("2 * x * sin(x) + x^2 * cos(x)"));
    const m = compile(`input x\ny = ${d}\noutput y`, { dtype: "f64" });
    for (const x of [-2, -0.5, 0.3, 1.7]) {
      expect(m.forward({ x }).y as number).toBeCloseTo(2 * x * Math.sin(x) + x * x * Math.cos(x), 12);
    }
  });

  it("differentiates twice", () => {
    const d2 = derivative(derivative("sin(x) * exp(x)", "x"), "x");
    const m = compile(`input x\ny = ${d2}\noutput y`, { dtype: "f64" });
    for (const x of [-1, 0.5, 2]) expect(m.forward({ x }).y as number).toBeCloseTo(2 * Math.cos(x) * Math.exp(x), 12);
  });

  it("treats other names as constants", () => {
    const d = derivative("a * x^3 + b", "x");
    const m = compile(`input x\ninput a\ninput b\ny = ${d}\noutput y`, { dtype: "f64" });
    expect(m.forward({ x: 2, a: 5, b: 7 }).y as number).toBeCloseTo(60, 12);
  });
});
