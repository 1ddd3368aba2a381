// Every kind of user mistake: its code, exact line and column, and the rendered form.
import { describe, expect, it } from "vitest";
import { check, GradcError } from "../../src/index";

function errorOf(source: string, options: { sizes?: Record<string, number> } = {}): GradcError {
  try {
    check(source, { filename: "m.grad", ...options });
  } catch (e) {
    if (e instanceof GradcError) return e;
    throw e;
  }
  throw new Error("expected a GradcError");
}

const cases: [string, string, string, number, number, RegExp][] = [
  // [title, source, code, line, column, message]
  ["unexpected character", "x = 1 $ 2", "E0001", 1, 7, /unexpected character `\$`/],
  ["missing operand", "input x\ny = x +\n", "E0002", 2, 8, /expected an expression, found end of line/],
  ["malformed number", "y = 3x", "E0003", 1, 5, /malformed number `3x`/],
  ["reserved word", "y = dim + 1", "E0005", 1, 5, /`dim` is a reserved word/],
  ["keyword args first", "input x\ny = sum(axis = 0, x)", "E0006", 2, 19, /positional arguments/],
  ["duplicate keyword", "input x: [2]\ny = sum(x, axis = 0, axis = 0)", "E0007", 2, 22, /given twice/],
  ["chained comparison", "input x\ny = 1 < x < 2", "E0008", 2, 11, /chained/],
  ["unknown name", "input x\ny = sigmoid(z)", "E0101", 2, 13, /unknown name `z`/],
  ["redefinition", "input x\ny = x\ny = x * 2", "E0102", 3, 1, /`y` is already defined/],
  ["assign to param", "param w\nw = 2", "E0103", 2, 1, /`w` is a param and cannot be assigned/],
  ["unknown function", "input x\ny = sigmod(x)", "E0104", 2, 5, /unknown function `sigmod`/],
  ["arity", "input x\ny = exp(x, x)", "E0105", 2, 5, /`exp` takes 1 argument, but 2 were given/],
  ["unknown kwarg", "input x: [2]\ny = sum(x, axes = 0)", "E0106", 2, 12, /no argument named `axes`/],
  ["missing argument", "input x\ny = pow(x)", "E0107", 2, 5, /missing its argument `b`/],
  ["recursion", "fn f(a) = g(a)\nfn g(a) = f(a)\ninput x\ny = f(x)", "E0108", 2, 11, /recursively: f -> g -> f/],
  ["fn as value", "fn f(a) = a\ny = f + 1", "E0109", 2, 5, /`f` is a function/],
  ["tensor called", "input x\ny = x(1)", "E0110", 2, 5, /`x` is a tensor/],
  ["two minimize", "param w\nminimize w\nminimize w", "E0111", 3, 1, /only one `minimize`/],
  ["output twice", "input x\noutput x, x", "E0112", 2, 11, /listed as an output twice/],
  ["unknown optimizer", "param w\nminimize w with sdg(lr = 1)", "E0113", 2, 17, /unknown optimizer `sdg`/],
  ["unknown init", "param w: [2] = unifrom(0, 1)", "E0114", 1, 16, /unknown initialiser `unifrom`/],
  ["broadcast", "input a: [3]\ninput b: [4]\nc = a + b", "E0201", 3, 5, /cannot broadcast \[3\] with \[4\]/],
  ["matmul", "input x: [4, 2]\nparam m: [3, 3]\nh = x @ m", "E0202", 3, 5, /cannot matmul \[4, 2\] by \[3, 3\]: inner sizes 2 and 3 differ/],
  ["axis range", "input x: [2, 3]\ny = sum(x, axis = 2)", "E0203", 2, 19, /axis 2 is out of range for a tensor of rank 2/],
  ["axis twice", "input x: [2, 3]\ny = sum(x, axis = [1, -1])", "E0204", 2, 23, /axis -1 is listed twice/],
  ["reshape size", "input x: [2, 3]\ny = reshape(x, [4, 2])", "E0205", 2, 5, /cannot reshape \[2, 3\] to \[4, 2\]/],
  ["reshape two -1", "input x: [2, 3]\ny = reshape(x, [-1, -1])", "E0206", 2, 21, /at most one -1/],
  ["bad perm", "input x: [2, 3]\ny = transpose(x, [0, 0])", "E0207", 2, 18, /not a permutation/],
  ["broadcast_to", "input x: [2, 3]\ny = broadcast_to(x, [3, 3])", "E0208", 2, 5, /cannot broadcast \[2, 3\] to \[3, 3\]/],
  ["concat", "input a: [2, 3]\ninput b: [2, 4]\nc = concat([a, b], axis = 0)", "E0209", 3, 5, /cannot concatenate/],
  ["index range", "input x: [2, 3]\ny = x[2]", "E0210", 2, 7, /index 2 is out of range/],
  ["objective not scalar", "param w: [2]\nminimize w * 2", "E0211", 2, 10, /the objective must be a scalar, but this is \[2\]/],
  ["conv channels", "input x: [1, 2, 5, 5]\nparam w: [4, 3, 3, 3]\ny = conv2d(x, w)", "E0213", 3, 5, /conv2d/],
  ["one_hot k", "input l: [3]\ny = one_hot(l, 0)", "E0216", 2, 16, /positive integer/],
  ["grad wrt", "input x\ny = grad(x * 2, x * 3)", "E0119", 2, 17, /must be a param or input name/],
  ["grad of tensor", "input x: [2]\ny = grad(x * 2, x)", "E0219", 2, 10, /must be a scalar/],
  ["size not int", "dim n\ninput x: [n]", "E0302", 1, 5, /positive integer/],
  ["param free dim", "dim n\nparam w: [n]", "E0125", 2, 7, /free dim/],
];

describe("diagnostics: every error kind at its exact position", () => {
  for (const [title, source, code, line, column, message] of cases) {
    it(title, () => {
      const err = errorOf(source, title === "size not int" ? { sizes: { n: 0 } } : {});
      expect(err.code).toBe(code);
      expect(err.message).toMatch(message);
      expect([err.file, err.line, err.column]).toEqual(["m.grad", line, column]);
      expect(err.rendered.startsWith(`m.grad:${line}:${column}: error: `)).toBe(true);
    });
  }
});

describe("diagnostics: rendering", () => {
  it("draws the code frame with a caret run under the exact span", () => {
    const err = errorOf("input x: [4, 2]\nparam m1: [3, 3]\nh1 = sigmoid(x @ m1 + 1)");
    expect(err.rendered).toBe([
      "m.grad:3:14: error: cannot matmul [4, 2] by [3, 3]: inner sizes 2 and 3 differ",
      "  h1 = sigmoid(x @ m1 + 1)",
      "               ^^^^^^",
    ].join("\n"));
  });

  it("suggests the near name", () => {
    const err = errorOf("input x\ny = sigmiod(x)");
    expect(err.rendered).toContain("did you mean `sigmoid`?");
    const err2 = errorOf("input input_x\ny = input_y + 1");
    expect(err2.rendered).toContain("did you mean `input_x`?");
  });

  it("reports several syntax errors at once, recovering at statement boundaries", () => {
    const err = errorOf("x = 1 +\ny = (2\nz = 3 $\nw = 4");
    expect(err.errors.length).toBeGreaterThanOrEqual(2);
    expect(err.line).toBe(1);
  });

  it("reports independent lowering errors together without cascades", () => {
    const err = errorOf("input x: [2]\na = foo(x)\nb = a + 1\nc = bar(x)");
    expect(err.errors.map((e) => e.code)).toEqual(["E0104", "E0104"]);
  });

  it("100,000-deep nesting is an error, not a stack overflow", () => {
    const deep = `y = ${"(".repeat(100_000)}1${")".repeat(100_000)}`;
    expect(errorOf(deep).code).toBe("E0004");
    const deepNeg = `y = ${"-".repeat(100_000)}1`;
    expect(errorOf(deepNeg).code).toBe("E0004");
    const deepPow = `y = ${"2^".repeat(100_000)}1`;
    expect(errorOf(deepPow).code).toBe("E0004");
  });
});
