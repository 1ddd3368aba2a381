// The function budget (src/codegen/budget.ts): a model whose run functions are too long for
// one function is split into parts, each within the budget, and computes what it did whole.
import { parse } from "acorn";
import { describe, expect, it } from "vitest";
import { compile, compileToSource, gradcheck } from "../../src/index";
import { astSize, functionBudget } from "../../src/codegen/budget";

/** A deep narrow MLP (free batch, so kernel functions): long run functions, many params. */
function deepMlp(layers: number, optimizer: string): string {
  const s = ["dim n", "input x: [n, 3]", "input y: [n, 3]"];
  for (let i = 1; i <= layers; i++) s.push(`param w${i}: [3, 3] = glorot_uniform`, `param b${i}: [3] = uniform(-0.1, 0.1)`);
  s.push("h0 = x");
  for (let i = 1; i <= layers; i++) s.push(`h${i} = tanh(h${i - 1} @ w${i} + b${i})`);
  s.push(`loss = mse(h${layers}, y)`, `output h${layers}`, `minimize loss with ${optimizer}`);
  return s.join("\n") + "\n";
}

/** Sizes of the module's top-level functions, by name. */
function functionSizes(text: string): Map<string, number> {
  const program = parse(text, { ecmaVersion: "latest", sourceType: "module" }) as unknown as { body: { type: string; id?: { name: string }; body?: unknown }[] };
  return new Map(program.body.filter((s) => s.type === "FunctionDeclaration").map((s) => [s.id!.name, astSize(s.body)]));
}

describe("function budget", () => {
  const source = deepMlp(250, "adam(lr = 0.01, clip_norm = 1)");

  it("splits long run functions into parts within the budget", () => {
    const sizes = functionSizes(compileToSource(source).text);
    const parts = [...sizes.keys()].filter((n) => /^run_\w*part/.test(n));
    expect(parts.length).toBeGreaterThan(2);
    for (const [name, size] of sizes) if (/^(run|kernel)_/.test(name)) expect(size, name).toBeLessThanOrEqual(functionBudget);
  });

  it("a split model's gradient checks, and its adam step (shared bias corrections) is valueAndGrad's", () => {
    const model = compile(source, { dtype: "f64" });
    const x = Float64Array.from({ length: 12 }, (_, i) => Math.sin(i));
    const y = Float64Array.from({ length: 12 }, (_, i) => Math.cos(i) * 0.5);
    const before = Object.fromEntries(Object.entries(model.params).map(([k, v]) => [k, Float64Array.from(v as Float64Array)]));
    const { grads } = model.valueAndGrad({ x, y });
    const g = Object.fromEntries(Object.entries(grads).map(([k, v]) => [k, Float64Array.from(v as Float64Array)]));
    model.step({ x, y });
    // adam's first step: m = 0.1 g, v = 0.001 g^2, p -= lr m / (1 - 0.9) / (sqrt(v / (1 - 0.999)) + 1e-8),
    // with g clipped to a global norm of 1.
    let sq = 0;
    for (const v of Object.values(g)) for (const e of v) sq += e * e;
    const scale = Math.min(1, 1 / (Math.sqrt(sq) + 1e-6));
    for (const [k, p] of Object.entries(model.params)) {
      (p as Float64Array).forEach((after, i) => {
        const gi = g[k]![i]! * scale;
        const want = before[k]![i]! - (0.01 * ((0.1 * gi) / 0.1)) / (Math.sqrt((0.001 * gi * gi) / 0.001) + 1e-8);
        expect(Math.abs(after - want), `${k}[${i}]`).toBeLessThan(1e-12);
      });
    }
    expect(gradcheck(deepMlp(40, "sgd(lr = 0.1)"), { points: 1, seed: 2, dims: { n: 2 } }).ok).toBe(true);
  });
});
