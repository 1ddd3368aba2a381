// IR -> gradc text: printed definitions and expressions parse, lower again to the same
// values at random points, name shared subexpressions once, and use minimal parentheses.

import { describe, expect, it } from "vitest";
import { printDefinitions, printExpression } from "../../src/print";
import { parse, parseExpression } from "../../src/syntax";
import { declarations, gradientsOf, lower, randomValues, valuesOf, xorSource } from "./helpers";
import { Graph, type Node } from "../../src/ir";
import { Builder } from "../../src/ops";

const parses = (text: string) => parse({ file: "printed.grad", text });

/** Lower `decls` + printed definitions + `output` of the roots, and check each root has
 *  the original's values at a few random points. */
function expectSameValues(decls: string, roots: { name: string; node: Node }[], printed: string, original: ReturnType<typeof lower>) {
  const again = lower(`${decls}\n${printed}output ${roots.map((r) => r.name).join(", ")}\n`);
  for (const seed of [1, 2, 3]) {
    const values = randomValues(original, seed);
    const want = valuesOf(roots.map((r) => r.node), values);
    const got = valuesOf(again.outputs.map((o) => o.node), values);
    got.forEach((g, i) => {
      expect(g.length).toBe(want[i]!.length);
      g.forEach((v, k) => expect(v).toBeCloseTo(want[i]![k]!, 12));
    });
  }
}

describe("printDefinitions", () => {
  it("prints the XOR forward program as the source wrote it", () => {
    const p = lower(xorSource);
    const text = printDefinitions([{ name: "y_out", node: p.outputs[0]!.node }, { name: "loss", node: p.objective!.node }]);
    expect(text).toBe(
      "h1 = sigmoid(x @ m1 + b1)\n" +
      "y_out = sigmoid(h1 @ m2 + b2)\n" +
      "loss = sum((y - y_out) ^ 2)\n",
    );
  });

  it("prints the XOR gradient program: parseable, one definition per line, same values", () => {
    const p = lower(xorSource);
    const roots = gradientsOf(p);
    const text = printDefinitions(roots);
    expect(() => parses(text)).not.toThrow();
    const lines = text.trimEnd().split("\n");
    const names = lines.map((l) => l.split(" = ")[0]!);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
    // dependency order, ending with the roots
    expect(names.slice(-roots.length).sort()).toEqual(roots.map((r) => r.name).sort());
    expect(names).toContain("h1");
    expect(names).toContain("y_out");
    expect(names).toContain("d_h1");
    expect(text).not.toContain("broadcast_to");
    expectSameValues(declarations(xorSource), roots, text, p);
  });

  it("names a shared subexpression once", () => {
    const p = lower("input x\nf = sin(x) * sin(x) + cos(sin(x))\noutput f\n");
    const text = printDefinitions([{ name: "f", node: p.outputs[0]!.node }]);
    expect(text).toBe("t1 = sin(x)\nf = t1 * t1 + cos(t1)\n");
  });

  it("keeps names unique and off inputs, built-ins and keywords", () => {
    const p = lower("input x: [3]\nsum = x * 2\nt1 = exp(x)\nf = sum * sum + t1 * log(t1 + 2) * exp(sum)\noutput f\n");
    const roots = [{ name: "x", node: p.outputs[0]!.node }, { name: "input", node: p.outputs[0]!.node }];
    const text = printDefinitions(roots);
    expect(text).toBe(
      "sum_2 = x * 2\n" +
      "t1 = exp(x)\n" +
      "x_2 = sum_2 * sum_2 + t1 * log(t1 + 2) * exp(sum_2)\n" +
      "input_2 = x_2\n",
    );
    expect(() => parses(text)).not.toThrow();
  });

  it("puts a root that another root uses where it is needed", () => {
    const p = lower("input x\na = exp(x)\nb = a * 2\noutput b, a\n");
    const text = printDefinitions([{ name: "b", node: p.outputs[0]!.node }, { name: "a", node: p.outputs[1]!.node }]);
    expect(text).toBe("a = exp(x)\nb = a * 2\n");
  });

  it("gives deep chains temporary names, so every line stays parseable", () => {
    const b = new Builder(new Graph(), undefined);
    let y = b.input("x", "input", []);
    for (let i = 0; i < 1000; i++) y = b.unary(i % 2 ? "sin" : "cos", y);
    const text = printDefinitions([{ name: "y", node: y }]);
    expect(text.split("\n").length).toBeGreaterThan(10);
    expect(() => parses(text)).not.toThrow();
    expectSameValues("input x", [{ name: "y", node: y }], text, lower("input x"));
  });

  it("prints repeated roots as aliases and source roots as definitions", () => {
    const p = lower("input x: [2]\nparam w: [2]\nminimize sum(w)");
    const [g] = gradientsOf(p);
    const text = printDefinitions([{ name: "d_w", node: g!.node }, { name: "x_again", node: p.inputs[0]!.node }, { name: "same", node: g!.node }]);
    expect(text).toBe("d_w = broadcast_to(1, [2])\nx_again = x\nsame = d_w\n");
  });

  it("prints the runtime size of free dims as the dim names", () => {
    const p = lower("dim n, m\ninput a: [n, m]\nf = mean(a)\noutput f");
    expect(printDefinitions([{ name: "f", node: p.outputs[0]!.node }])).toBe("f = sum(a) / (1 * (m * n))\n");
  });

  it("prints tensor programs and their gradients that lower to the same values", () => {
    const programs = [
      "input a: [3, 4]\nparam w: [4, 2]\nparam c: [2]\nminimize sum(sigmoid(a @ w + c) ^ 2)",
      "input c3: [3]\nparam a: [3, 4]\nminimize sum(a[1:, ::2] * 3) + mean(a[0]) + sum(max(a, axis = 1) * c3) + sum(a[::-1, 2])",
      "input b: [4, 3]\nparam a: [3, 4]\nminimize sum(transpose(a) * b) + sum(reshape(a, [2, 6]) ^ 2) + prod(a[0] + 2)",
      "param a: [3, 4]\nminimize sum(a * sum(a, axis = 0, keepdims = true)) + sum(min(a, axis = [0, 1]))",
      "param a: [2, 3]\nparam v: [3]\nminimize sum(where(a > 0, a, 0.5 * a) @ v) + sum(broadcast_to(v, [2, 3]) * a)",
      "param a: [2, 3]\nminimize sum(concat([a, a * 2], axis = 1) ^ 2)",
    ];
    for (const src of programs) {
      const p = lower(src);
      const roots = [{ name: "objective", node: p.objective!.node }, ...gradientsOf(p)];
      const text = printDefinitions(roots);
      expect(() => parses(text)).not.toThrow();
      expectSameValues(declarations(src), roots, text, p);
    }
  });
});

describe("printExpression", () => {
  const scalarCases = [
    "x^2 * sin(x)",
    "exp(-x) / (1 + x^2) - log(1 + y^2)",
    "maximum(x, 0.5) - minimum(x, -y) + abs(x - y)",
    "where(x > 0, x, 2 * x) * y",
    "-x ^ 2 + (-x) ^ 3 + x ^ -1",
    "2 ^ 3 ^ x - (2 ^ 3) ^ y",
    "x - (x - y) - -x - (y - (x - 1))",
    "sqrt(abs(x) + 1) * tanh(x) / sigmoid(y)",
    "((x < 1) + (y >= 0.5) == 1) * x",
    "x / (y / (x + 3)) / (x + y + 4)",
    "softplus(x * y) + atan(x) * cos(y) - 1e-3 * x",
    "pow(x + 2, y) * exp(expm1(y) - log1p(x + 2))",
  ];

  it("prints scalar expressions and their derivatives that lower to the same values", () => {
    for (const expr of scalarCases) {
      const p = lower(`input x\ninput y\nf = ${expr}\nminimize f`);
      const nodes = [p.objective!.node, ...gradientsOf(p, ["x", "y"]).map((g) => g.node)];
      for (const node of nodes) {
        const printed = printExpression(node);
        expect(() => parseExpression({ file: "<expr>", text: printed })).not.toThrow();
        const again = lower(`input x\ninput y\ng = ${printed}\noutput g`);
        for (const seed of [7, 8, 9, 10]) {
          const values = randomValues(p, seed, 0.2, 1.4);
          const [want] = valuesOf([node], values);
          const [got] = valuesOf([again.outputs[0]!.node], values);
          expect(got![0]).toBeCloseTo(want![0]!, 10);
        }
      }
    }
  });

  it("differentiates its own output again (second derivatives)", () => {
    const p = lower("input x\nminimize x^3 * sin(x)");
    const d1 = printExpression(gradientsOf(p, ["x"])[0]!.node);
    const q = lower(`input x\nminimize ${d1}`);
    const d2 = gradientsOf(q, ["x"])[0]!.node;
    const again = lower(`input x\ng = ${printExpression(d2)}\noutput g`);
    const x = 0.7;
    const want = 6 * x * Math.sin(x) + 6 * x * x * Math.cos(x) - x ** 3 * Math.sin(x);
    const [got] = valuesOf([again.outputs[0]!.node], new Map([["x", Float64Array.of(x)]]));
    expect(got![0]).toBeCloseTo(want, 10);
  });

  it("prints constants that read back as the same doubles", () => {
    const b = new Builder(new Graph(), undefined);
    const x = b.input("x", "input", []);
    for (const v of [NaN, Infinity, -Infinity, -0, 1e-7, 1e21, -2.5, 0.1]) {
      const node = b.add(b.mul(x, b.constant(v)), b.binary("pow", b.constant(v), x));
      const again = lower(`input x\ng = ${printExpression(node)}\noutput g`);
      const values = new Map([["x", Float64Array.of(1)]]);
      expect(Object.is(valuesOf([again.outputs[0]!.node], values)[0]![0], valuesOf([node], values)[0]![0])).toBe(true);
    }
  });

  it("uses minimal parentheses", () => {
    const cases: [string, string][] = [
      ["(x - y) - x", "x - y - x"],
      ["x - (y - x)", "x - (y - x)"],
      ["-(x ^ 2)", "-x ^ 2"],
      ["(-x) ^ 2", "(-x) ^ 2"],
      ["x ^ (-y)", "x ^ -y"],
      ["x ^ (y ^ 2)", "x ^ y ^ 2"],
      ["(x ^ y) ^ 2", "(x ^ y) ^ 2"],
      ["(x * y) / (x + y)", "x * y / (x + y)"],
      ["x * (-2)", "x * -2"],
      ["(x < y) + 1", "(x < y) + 1"],
      ["-(-x)", "--x"],
      ["sin((x + y))", "sin(x + y)"],
    ];
    for (const [src, want] of cases) {
      const p = lower(`input x\ninput y\nf = ${src}\noutput f`);
      expect(printExpression(p.outputs[0]!.node)).toBe(want);
    }
  });

  it("prints broadcasts implicitly where NumPy would redo them, explicitly otherwise", () => {
    const p = lower("input a: [2, 3]\ninput v: [3]\ninput u: [2]\nf = a * v + 1\ng = broadcast_to(v, [2, 3])\nh = a - reshape(u, [2, 1])\noutput f, g, h");
    expect(printExpression(p.outputs[0]!.node)).toBe("a * v + 1");
    expect(printExpression(p.outputs[1]!.node)).toBe("broadcast_to(v, [2, 3])");
    expect(printExpression(p.outputs[2]!.node)).toBe("a - reshape(u, [2, 1])");
  });

  it("prints indexing, reductions and shape ops in source syntax", () => {
    const p = lower(
      "input a: [4, 3]\nf = a[1:3, ::2]\ng = a[0]\nh = a[::-1, 2]\ni = sum(a, axis = 1)\nj = max(a)\n" +
      "k = mean(a, axis = 0, keepdims = true)\nl = transpose(a)\nm = reshape(a, [2, 6])\noutput f, g, h, i, j, k, l, m",
    );
    expect(p.outputs.map((o) => printExpression(o.node))).toEqual([
      "a[1:3, ::2]", "a[0]", "a[::-1, 2]", "sum(a, axis = 1)", "max(a)",
      "sum(a, axis = 0, keepdims = true) / 4", "transpose(a)", "reshape(a, [2, 6])",
    ]);
  });
});
