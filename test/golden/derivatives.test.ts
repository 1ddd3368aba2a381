// Golden scalar derivatives: `derivative(expr, wrt)` for a fixed list of expressions,
// compared with test/golden/derivatives.txt (`UPDATE_GOLDEN=1` rewrites it). Each
// printed derivative must also parse and evaluate to the true derivative.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile, derivative } from "../../src/index";

const file = new URL("./derivatives.txt", import.meta.url);

const cases: [string, string, (x: number, y: number) => number][] = [
  ["x^2 * sin(x)", "x", (x) => 2 * x * Math.sin(x) + x * x * Math.cos(x)],
  ["exp(-x^2)", "x", (x) => -2 * x * Math.exp(-x * x)],
  ["log(1 + x^2)", "x", (x) => (2 * x) / (1 + x * x)],
  ["sigmoid(x)", "x", (x) => { const s = 1 / (1 + Math.exp(-x)); return s * (1 - s); }],
  ["tanh(x) * y", "x", (x, y) => (1 - Math.tanh(x) ** 2) * y],
  ["sqrt(x * y)", "y", (x, y) => x / (2 * Math.sqrt(x * y))],
  ["(1 - x)^2 + 100 * (y - x^2)^2", "x", (x, y) => -2 * (1 - x) - 400 * x * (y - x * x)],
  ["sin(x * y) * exp(-x^2)", "x", (x, y) => y * Math.cos(x * y) * Math.exp(-x * x) - 2 * x * Math.sin(x * y) * Math.exp(-x * x)],
  ["x / (1 + abs(x))", "x", (x) => 1 / (1 + Math.abs(x)) ** 2],
  ["softplus(x) - relu(x)", "x", (x) => 1 / (1 + Math.exp(-x)) - (x > 0 ? 1 : 0)],
  ["x^0 + pow(x, 0)", "x", () => 0],
  ["x^y", "x", (x, y) => y * x ** (y - 1)],
  ["x^y", "y", (x, y) => x ** y * Math.log(x)],
  ["1 / x + x^-1", "x", (x) => -2 / (x * x)],
];

describe("golden derivatives", () => {
  const lines = cases.map(([e, w]) => `d/d${w} ${e} = ${derivative(e, w)}`);
  it("match test/golden/derivatives.txt", () => {
    const text = lines.join("\n") + "\n";
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(file, text);
    else if (!existsSync(file)) expect.fail(`${file} is missing; run UPDATE_GOLDEN=1 npx vitest run test/golden`);
    expect(text, "the derivatives differ from the golden file; if the change is intended, run UPDATE_GOLDEN=1 npx vitest run test/golden").toBe(readFileSync(file, "utf8"));
  });

  for (const [expr, wrt, expected] of cases) {
    it(`d/d${wrt} ${expr} evaluates to the true derivative`, () => {
      const m = compile(`input x\ninput y\nd = ${derivative(expr, wrt)}\noutput d`, { dtype: "f64" });
      for (const [x, y] of [[0.3, 1.2], [1.7, 0.4], [0.8, 2.5], [2.2, 0.9]] as const) {
        expect(m.forward({ x, y }).d as number).toBeCloseTo(expected(x, y), 10);
      }
    });
  }
});
