// Functions with default parameters (`fn f(x, axis = -1, eps = 1e-5) = ...`), which the
// prelude's layer_norm and rms_norm are written with: keyword and positional calls,
// constant arguments standing where a built-in needs a constant, tensors still allowed
// for the rest, errors located at the user's call, and the AST printer's round trip.

import { describe, expect, it } from "vitest";
import { compile, GradcError } from "../../src/index";
import { parse, printProgram } from "../../src/syntax";
import { expectClose, outputs } from "./helpers";

const X = Float64Array.from([1, 2, 4, 3, -1, 0.5]);

function error(src: string): GradcError {
  try {
    compile(src, { filename: "m.grad" });
  } catch (e) {
    if (e instanceof GradcError) return e;
    throw e;
  }
  throw new Error("compiled without an error");
}

describe("fn with defaults", () => {
  const fns = `
fn centered(x, axis = -1, keep = true, scale = 1) = scale * (x - mean(x, axis = axis, keepdims = keep))
fn total(x, axis = [0, 1]) = sum(x, axis = axis)
input x: [2, 3]
`;
  it("takes defaults, keywords and positional overrides", () => {
    const out = outputs(`${fns}
a = centered(x)
b = centered(x, 0)
c = centered(x, axis = 0, scale = 2)
d = total(x)
e = total(x, 1)
f = centered(x, scale = x)
output a, b, c, d, e, f`, { x: X });
    expectClose(out.a as number[], [1 - 7 / 3, 2 - 7 / 3, 4 - 7 / 3, 3 - 2.5 / 3, -1 - 2.5 / 3, 0.5 - 2.5 / 3]);
    expectClose(out.b as number[], [-1, 1.5, 1.75, 1, -1.5, -1.75]);
    expectClose(out.c as number[], [-2, 3, 3.5, 2, -3, -3.5]);
    expect(out.d).toBe(9.5);
    expect(out.e).toEqual([7, 2.5]);
    // a tensor for a parameter with a numeric default is still a tensor
    expectClose(out.f as number[], (out.a as number[]).map((v, i) => v * X[i]!));
  });

  it("layer_norm and rms_norm are prelude lines that take keywords", () => {
    const out = outputs("input x: [2, 3]\na = layer_norm(x, eps = 0)\nb = rms_norm(x, -1, 0)\noutput a, b", { x: X });
    const mean = [7 / 3, 2.5 / 3];
    const sd = [0, 1].map((r) => Math.sqrt([0, 1, 2].reduce((s, c) => s + (X[r * 3 + c]! - mean[r]!) ** 2, 0) / 3));
    expectClose(out.a as number[], [...X].map((v, i) => (v - mean[Math.floor(i / 3)]!) / sd[Math.floor(i / 3)]!));
    const rms = [0, 1].map((r) => Math.sqrt([0, 1, 2].reduce((s, c) => s + X[r * 3 + c]! ** 2, 0) / 3));
    expectClose(out.b as number[], [...X].map((v, i) => v / rms[Math.floor(i / 3)]!));
  });

  it("reports misuse located at the call (or the parameter list)", () => {
    const cases: [string, string, number, number][] = [
      ["fn f(x, a = 1, b) = x\ninput x: [2]\ny = f(x, 1, 2)", "E0019", 1, 16],
      ["fn f(x, a = 1) = x * a\ninput x: [2]\ny = f(x, c = 2)", "E0106", 3, 10],
      ["fn f(x, a = 1) = x * a\ninput x: [2]\ny = f(a = 2)", "E0107", 3, 5],
      ["fn f(x, a = 1) = x * a\ninput x: [2]\ny = f(x, 2, a = 3)", "E0007", 3, 13],
      ["fn f(x, a = 1) = x * a\ninput x: [2]\ny = f(x, 1, 2)", "E0105", 3, 5],
      // a default is read where the function is defined, within the call: this one recurses
      ["fn f(x, a = f(x)) = x * a\ninput x: [2]\ny = f(x)", "E0108", 1, 13],
      // the constant passed on into the prelude's body is the user's own text: located there
      ["input x: [2, 3]\ny = layer_norm(x, axis = 2)", "E0203", 2, 26],
    ];
    for (const [src, code, line, column] of cases) {
      const e = error(src);
      expect(e.errors[0]!.code, src).toBe(code);
      expect([e.line, e.column], src).toEqual([line, column]);
    }
    const list = error("input x: [2, 3]\ny = layer_norm(x, eps = [1])");
    expect([list.errors[0]!.code, list.line, list.column]).toEqual(["E0123", 2, 25]);
  });

  it("prints back to the same program", () => {
    const text = "fn f(x, axis = -1, eps = 0.5, k = [0, 1], keep = true) = x\n";
    const once = printProgram(parse({ file: "f.grad", text }));
    expect(once).toBe(text);
    expect(printProgram(parse({ file: "f.grad", text: once }))).toBe(once);
  });
});
