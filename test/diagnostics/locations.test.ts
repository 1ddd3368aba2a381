// Errors point where a careful human would (issue 12, point 4): each class of mistake with
// its exact code, position and rendered form, including related locations (notes).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../../src/cli/run";
import { check, compile, derivative, GradcError } from "../../src/index";

function errorOf(source: string): GradcError {
  try {
    check(source, { filename: "m.grad" });
  } catch (e) {
    if (e instanceof GradcError) return e;
    throw e;
  }
  throw new Error("expected a GradcError");
}

/** Code, position and the whole rendered text of the first error; the number of errors. */
function expectError(source: string, code: string, line: number, column: number, rendered: string[], count = 1): GradcError {
  const err = errorOf(source);
  expect(err.code).toBe(code);
  expect([err.file, err.line, err.column]).toEqual(["m.grad", line, column]);
  expect(err.rendered).toBe(rendered.join("\n"));
  expect(err.errors.length).toBe(count);
  return err;
}

describe("an unclosed ( or [ is reported at the opener, with a note where parsing stopped", () => {
  it("before the next statement", () => {
    const err = expectError("input x\ny = sigmoid(x\nz = 2\n", "E0010", 2, 12, [
      "m.grad:2:12: error: unclosed `(`",
      "  y = sigmoid(x",
      "             ^",
      "m.grad:2:14: note: expected `,` or `)` in the argument list, found end of line",
      "  y = sigmoid(x",
      "               ^",
      "  hint: close it with `)`",
    ]);
    expect(err.message).toBe("unclosed `(`");
    expect(err.notes).toEqual([{ message: "expected `,` or `)` in the argument list, found end of line", file: "m.grad", line: 2, column: 14 }]);
  });

  it("at the end of the file, after blank lines", () => {
    expectError("input x\ny = sigmoid(x\n\n\n", "E0010", 2, 12, [
      "m.grad:2:12: error: unclosed `(`",
      "  y = sigmoid(x",
      "             ^",
      "m.grad:2:14: note: expected `,` or `)` in the argument list, found end of line",
      "  y = sigmoid(x",
      "               ^",
      "  hint: close it with `)`",
    ]);
  });

  it("a statement keyword starting a line inside brackets: the shape's [ was left open", () => {
    // The next statements still parse: the error on line 3 is found too.
    const err = expectError("input x: [2, 3\nparam w: [3]\ny = w +\n", "E0010", 1, 10, [
      "m.grad:1:10: error: unclosed `[`",
      "  input x: [2, 3",
      "           ^",
      "m.grad:1:15: note: expected `,` or `]` in the list, found end of line",
      "  input x: [2, 3",
      "                ^",
      "  hint: close it with `]`",
      "m.grad:3:8: error: expected an expression, found end of line",
      "  y = w +",
      "         ^",
    ], 2);
    expect(err.errors[1]!.code).toBe("E0002");
  });

  it("every statement keyword counts, even when a later ) balances the count", () => {
    for (const kw of ["input z", "param z", "dim z", "fn z(a) = a", "output x", "minimize x"]) {
      const err = errorOf(`input x\ny = f(x,\n${kw})\n`);
      expect([err.code, err.line, err.column, err.message], kw).toEqual(["E0010", 2, 6, "unclosed `(`"]);
      expect(err.notes, kw).toEqual([{ message: "expected an expression, found end of line", file: "m.grad", line: 2, column: 9 }]);
    }
  });

  it("the innermost unclosed opener is named", () => {
    expectError("input x\ny = exp(sum(x)\nz = 1\n", "E0010", 2, 8, [
      "m.grad:2:8: error: unclosed `(`",
      "  y = exp(sum(x)",
      "         ^",
      "m.grad:2:15: note: expected `,` or `)` in the argument list, found end of line",
      "  y = exp(sum(x)",
      "                ^",
      "  hint: close it with `)`",
    ]);
    expectError("input x: [4]\ny = x[1:\n", "E0010", 2, 6, [
      "m.grad:2:6: error: unclosed `[`",
      "  y = x[1:",
      "       ^",
      "m.grad:2:9: note: expected an expression, found end of line",
      "  y = x[1:",
      "          ^",
      "  hint: close it with `]`",
    ]);
    expect(errorOf("input x\ny = (x + 1\n").message).toBe("unclosed `(`");
    expect(errorOf("fn f(a, b\ny = 1\n").column).toBe(5);
  });

  it("a mistake on the line itself stays the error; the open bracket becomes a note", () => {
    expectError("input x\ny = exp(x x\n", "E0002", 2, 11, [
      "m.grad:2:11: error: expected `,` or `)` in the argument list, found name `x`",
      "  y = exp(x x",
      "            ^",
      "m.grad:2:8: note: the `(` opened here is never closed",
      "  y = exp(x x",
      "         ^",
    ]);
  });

  it("a closer of the wrong kind: the bracket it skips is the unclosed one", () => {
    expectError("input x\ny = [x, (x]\n", "E0002", 2, 11, [
      "m.grad:2:11: error: expected `)` to close the parenthesis, found `]`",
      "  y = [x, (x]",
      "            ^",
      "m.grad:2:9: note: the `(` opened here is never closed",
      "  y = [x, (x]",
      "          ^",
    ]);
    expectError("input x\ny = f(x] + g(1))\n", "E0002", 2, 8, [
      "m.grad:2:8: error: expected `,` or `)` in the argument list, found `]`",
      "  y = f(x] + g(1))",
      "         ^",
      "m.grad:2:6: note: `]` cannot close the `(` opened here",
      "  y = f(x] + g(1))",
      "       ^",
    ]);
  });

  it("a line that does not fit inside a bracket closed further on names the bracket", () => {
    expectError("input x\ny = sigmoid(x\nz = exp(2))\n", "E0002", 3, 1, [
      "m.grad:3:1: error: expected `,` or `)` in the argument list, found name `z`",
      "  z = exp(2))",
      "  ^",
      "m.grad:2:12: note: this line is still inside the `(` opened here",
      "  y = sigmoid(x",
      "             ^",
    ]);
  });

  it("derivative() names the unclosed bracket of its expression too", () => {
    let err: unknown;
    try {
      derivative("x * sin(x", "x");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GradcError);
    expect((err as GradcError).rendered).toBe([
      "<expr>:1:8: error: unclosed `(`",
      "  x * sin(x",
      "         ^",
      "<expr>:1:10: note: expected `,` or `)` in the argument list, found end of input",
      "  x * sin(x",
      "           ^",
      "  hint: close it with `)`",
    ].join("\n"));
  });

  it("brackets that are closed still span lines", () => {
    const model = compile("input x: [\n  2,\n  3]\ny = sum(\n  x,\n  axis = 0)\noutput y\n", { dtype: "f64" });
    expect(Array.from(model.forward({ x: Float64Array.from([1, 2, 3, 4, 5, 6]) }).y as Float64Array)).toEqual([5, 7, 9]);
  });
});

describe("invisible and unusual characters", () => {
  it("a UTF-8 byte-order mark at the start is skipped, and columns do not count it", () => {
    expect(check("\uFEFFinput x: [2]\ny = x\noutput y\n").outputs).toEqual([{ name: "y", shape: [2] }]);
    expectError("\uFEFFy = 1 $ 2\n", "E0001", 1, 7, [
      "m.grad:1:7: error: unexpected character `$`",
      "  y = 1 $ 2",
      "        ^",
    ]);
  });

  it("a bad character is one error: the parser does not trip over the gap it leaves", () => {
    const err = errorOf("input x\ny = x $ 2\nz = x +\n");
    expect(err.errors.map((d) => [d.code, d.message])).toEqual([
      ["E0001", "unexpected character `$`"],
      ["E0002", "expected an expression, found end of line"],
    ]);
  });

  it("is named by code point, and shown as a blank in the frame", () => {
    const cases: [string, string, number][] = [
      ["\u00A0", "U+00A0 (no-break space)", 1],
      ["\u2028", "U+2028 (line separator)", 1],
      ["\u200B", "U+200B (zero-width space)", 1],
      ["\uFEFF", "U+FEFF (byte-order mark, zero-width no-break space)", 1],
      ["\u0001", "U+0001", 1],
      ["\u3000", "U+3000 (ideographic space)", 1],
    ];
    for (const [ch, name] of cases) {
      expectError(`input x\ny = x${ch} + 1\n`, "E0001", 2, 6, [
        `m.grad:2:6: error: unexpected character ${name}`,
        "  y = x  + 1",
        "       ^",
      ]);
    }
  });

  it("tabs and carriage returns are blanks", () => {
    expect(check("input x\r\ny =\tx\t+ 1\r\noutput y\r\n").outputs[0]!.name).toBe("y");
  });

  it("a Unicode name is one error naming the character, not one per character", () => {
    expectError("café = 1\n", "E0001", 1, 4, [
      "m.grad:1:4: error: unexpected character `é` (U+00E9) in the name `café`",
      "  café = 1",
      "     ^",
      "  hint: names use only ASCII letters, digits and `_`",
    ]);
    expectError("λ = 2\n", "E0001", 1, 1, [
      "m.grad:1:1: error: unexpected character `λ` (U+03BB) in the name `λ`",
      "  λ = 2",
      "  ^",
      "  hint: names use only ASCII letters, digits and `_`",
    ]);
    expect(errorOf("input x\ny = x² + 1\n").message).toBe("unexpected character `²` (U+00B2) in the name `x²`");
    expect(errorOf("input x\ny = x² + 1\n").errors.length).toBe(1);
  });
});

describe("numbers", () => {
  it("1.2.3 is one malformed number", () => {
    expectError("y = 1.2.3\n", "E0003", 1, 5, [
      "m.grad:1:5: error: malformed number `1.2.3`",
      "  y = 1.2.3",
      "      ^^^^^",
    ]);
    expect(errorOf("input x\ny = x * 0.5.1 + 2\n").errors.map((d) => [d.code, d.message])).toEqual([["E0003", "malformed number `0.5.1`"]]);
  });

  it("a number running into a name suggests the product, unless it may be an exponent", () => {
    expectError("input x\ny = 2x + 1\n", "E0003", 2, 5, [
      "m.grad:2:5: error: malformed number `2x`",
      "  y = 2x + 1",
      "      ^^",
      "  hint: to multiply, write `2 * x`",
    ]);
    expect(errorOf("input x_2\ny = 1.5x_2\n").errors[0]!.hint).toBe("to multiply, write `1.5 * x_2`");
    for (const bad of ["2e", "1e-", "2.5E+", "1.x"]) expect(errorOf(`y = ${bad}\n`).errors[0]!.hint, bad).toBeUndefined();
  });
});

describe("declarations", () => {
  it("a shape without its colon", () => {
    expectError("input x [4, 2]\n", "E0002", 1, 9, [
      "m.grad:1:9: error: expected `:` before the shape, found `[`",
      "  input x [4, 2]",
      "          ^",
    ]);
    expect(errorOf("param w [2] = zeros\n").message).toBe("expected `:` before the shape, found `[`");
  });
});

describe("long lines are cut around the caret", () => {
  it("an error at column 40,005 of an 80,000-column line renders one window", () => {
    const line = `y = ${"a + ".repeat(10_000)}q${" + a".repeat(10_000)}`;
    const err = expectError(`input a\n${line}\n`, "E0101", 2, 40_005, [
      "m.grad:2:40005: error: unknown name `q`",
      "  ...+ a + a + a + a + a + a + a + q + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a + a ...",
      "                                   ^",
      "  hint: did you mean `a`?",
    ]);
    expect(err.rendered.length).toBeLessThan(300);
  });

  it("near either end of the line the window sits at that end", () => {
    const line = `y = ${"a + ".repeat(100)}b`;
    expectError(`input a\n${line}\n`, "E0101", 2, 405, [
      "m.grad:2:405: error: unknown name `b`",
      `  ...${line.slice(-100)}`,
      `     ${" ".repeat(99)}^`,
      "  hint: did you mean `a`?",
    ]);
    const start = `y = q${" + a".repeat(100)}`;
    expectError(`input a\n${start}\n`, "E0101", 2, 5, [
      "m.grad:2:5: error: unknown name `q`",
      `  ${start.slice(0, 100)}...`,
      "      ^",
      "  hint: did you mean `a`?",
    ]);
  });

  it("a span longer than the window is underlined to the window's edge", () => {
    const sum = Array.from({ length: 60 }, () => "a").join(" + ");
    const err = errorOf(`input a: [3]\ninput b: [4]\ny = (${sum}) + b\n`);
    expect(err.code).toBe("E0201");
    const [, shown, carets] = err.rendered.split("\n");
    expect(shown).toBe(`  ${`y = (${sum}`.slice(0, 100)}...`);
    expect(carets).toBe(`      ${"^".repeat(96)}`);
  });
});

describe("redefinitions point at both definitions", () => {
  it("the new one is the error, the first a note", () => {
    const err = expectError("input x\ny = x\nz = 1\ny = x * 2\n", "E0102", 4, 1, [
      "m.grad:4:1: error: `y` is already defined",
      "  y = x * 2",
      "  ^",
      "m.grad:2:1: note: `y` is first defined here",
      "  y = x",
      "  ^",
    ]);
    expect(err.notes).toEqual([{ message: "`y` is first defined here", file: "m.grad", line: 2, column: 1 }]);
  });

  it("for every kind of name", () => {
    const cases: [string, number, number, number, number][] = [
      ["dim n\ninput n", 2, 7, 1, 5],
      ["input x\nparam x", 2, 7, 1, 7],
      ["fn f(a) = a\nfn f(b) = b", 2, 4, 1, 4],
      ["dim n, n", 1, 8, 1, 5],
    ];
    for (const [source, line, column, firstLine, firstColumn] of cases) {
      const err = errorOf(source);
      expect([err.code, err.line, err.column], source).toEqual(["E0102", line, column]);
      expect(err.notes.map((n) => [n.line, n.column]), source).toEqual([[firstLine, firstColumn]]);
    }
  });

  it("assigning to a param or input points at its declaration", () => {
    expectError("param w: [2]\nw = 2\n", "E0103", 2, 1, [
      "m.grad:2:1: error: `w` is a param and cannot be assigned",
      "  w = 2",
      "  ^",
      "m.grad:1:7: note: `w` is declared as a param here",
      "  param w: [2]",
      "        ^",
    ]);
  });

  it("a repeated fn parameter points at the first", () => {
    expectError("fn f(a, b, a) = a\n", "E0121", 1, 12, [
      "m.grad:1:12: error: `a` is a function parameter name used twice",
      "  fn f(a, b, a) = a",
      "             ^",
      "m.grad:1:6: note: the first `a`",
      "  fn f(a, b, a) = a",
      "       ^",
    ]);
  });
});

describe("a name used in the wrong way points at its definition", () => {
  it("used before its definition: not defined yet, with the definition as a note", () => {
    expectError("input x\ny = z + x\nz = 2 * x\n", "E0124", 2, 5, [
      "m.grad:2:5: error: `z` is not defined yet; names must be defined before they are used",
      "  y = z + x",
      "      ^",
      "m.grad:3:1: note: `z` is defined here, after its use",
      "  z = 2 * x",
      "  ^",
    ]);
    const fn = errorOf("input x\ny = f(x)\nfn f(a) = a\n");
    expect([fn.code, fn.line, fn.column, fn.notes]).toEqual(["E0124", 2, 5, [{ message: "`f` is defined here, after its use", file: "m.grad", line: 3, column: 4 }]]);
    // In a fn body: defined after the call that inlines it.
    const body = errorOf("input x\nfn f(a) = a + z\ny = f(x)\nz = 2\n");
    expect([body.code, body.line, body.column]).toEqual(["E0124", 2, 15]);
    expect(body.notes.map((n) => [n.message, n.line])).toEqual([["`z` is defined here, after its use", 4], ["in this call of `f`", 3]]);
    // Defined before the call: fine.
    expect(check("input x\nfn f(a) = a + z\nz = 2\ny = f(x)\noutput y\n").outputs[0]!.name).toBe("y");
  });

  it("a tensor called, or a function used as a value", () => {
    expectError("input x\ny = x(2)\n", "E0110", 2, 5, [
      "m.grad:2:5: error: `x` is a tensor, not a function",
      "  y = x(2)",
      "      ^",
      "m.grad:1:7: note: `x` is defined here",
      "  input x",
      "        ^",
    ]);
    expectError("fn f(a) = a\ny = f + 1\n", "E0109", 2, 5, [
      "m.grad:2:5: error: `f` is a function; call it with arguments",
      "  y = f + 1",
      "      ^",
      "m.grad:1:4: note: `f` is defined here",
      "  fn f(a) = a",
      "     ^",
    ]);
  });
});

describe("a keyword-looking `=` where a comparison was meant suggests `==`", () => {
  it("where(w = 0, a, b)", () => {
    expectError("input w: [2]\ninput a: [2]\nb = where(w = 0, a, w)\n", "E0011", 3, 13, [
      "m.grad:3:13: error: `=` inside a call names a keyword argument; to compare, use `==`",
      "  b = where(w = 0, a, w)",
      "              ^",
      "  hint: `where` has no argument named `w`; did you mean `w == 0`?",
    ]);
  });

  it("in any call whose function has no such parameter: built-ins, user functions, unknown names", () => {
    expect(errorOf("input w\nb = sigmoid(w = 0)\n").code).toBe("E0011");
    expect(errorOf("input w\nfn f(c) = c\nb = f(w = 1)\n").code).toBe("E0011");
    // Not a name in scope, but positional arguments follow: still a comparison.
    const err = errorOf("input a: [2]\nb = where(q = 0, a, a)\n");
    expect([err.code, err.line, err.column]).toEqual(["E0011", 2, 13]);
  });

  it("real keyword parameters keep their own errors", () => {
    expectError("input x: [2]\ny = sum(axis = 0, x)\n", "E0006", 2, 19, [
      "m.grad:2:19: error: positional arguments must come before keyword arguments",
      "  y = sum(axis = 0, x)",
      "                    ^",
    ]);
    expectError("input x: [2]\ny = sum(x, axes = 0)\n", "E0106", 2, 12, [
      "m.grad:2:12: error: `sum` has no argument named `axes`",
      "  y = sum(x, axes = 0)",
      "             ^^^^",
      "  hint: did you mean `axis`?",
    ]);
    expect(errorOf("param w\nminimize w with sgd(lr = 1, 2)\n").code).toBe("E0006");
  });
});

describe("an error inside an inlined fn names the calls that led there", () => {
  it("one call", () => {
    const err = expectError("input x: [3]\ninput y: [4]\nfn f(a) = a + y\nz = f(x)\n", "E0201", 3, 11, [
      "m.grad:3:11: error: cannot broadcast [3] with [4]",
      "  fn f(a) = a + y",
      "            ^^^^^",
      "m.grad:4:5: note: in this call of `f`",
      "  z = f(x)",
      "      ^^^^",
    ]);
    expect(err.notes).toEqual([{ message: "in this call of `f`", file: "m.grad", line: 4, column: 5 }]);
  });

  it("nested calls: the chain, innermost first", () => {
    expectError("input x: [3]\ninput y: [4]\nfn f(a) = a + y\nfn g(a) = f(a * 2)\nz = g(x)\n", "E0201", 3, 11, [
      "m.grad:3:11: error: cannot broadcast [3] with [4]",
      "  fn f(a) = a + y",
      "            ^^^^^",
      "m.grad:4:11: note: in this call of `f`",
      "  fn g(a) = f(a * 2)",
      "            ^^^^^^^^",
      "m.grad:5:5: note: in this call of `g`",
      "  z = g(x)",
      "      ^^^^",
    ]);
  });

  it("a deep chain shows its innermost calls and the outermost, with a count between", () => {
    const lines = ["input x: [3]", "input y: [4]", "fn f0(a) = a + y"];
    for (let i = 1; i < 30; i++) lines.push(`fn f${i}(a) = f${i - 1}(a) * 2`);
    lines.push("z = f29(x)");
    const err = errorOf(lines.join("\n"));
    expect([err.code, err.line, err.column]).toEqual(["E0201", 3, 12]);
    expect(err.notes.map((n) => [n.message, n.line])).toEqual([
      ["in this call of `f0`", 4],
      ["in this call of `f1`", 5],
      ["in this call of `f2`", 6],
      ["in this call of `f3`", 7],
      ["... through 25 more calls", 0],
      ["in this call of `f29`", 33],
    ]);
    expect(err.rendered.split("\n").slice(-4)).toEqual([
      "  note: ... through 25 more calls",
      "m.grad:33:5: note: in this call of `f29`",
      "  z = f29(x)",
      "      ^^^^^^",
    ]);
  });

  it("a mistake in the arguments is the caller's own, with no note", () => {
    const err = errorOf("input x: [3]\nfn f(a) = a\nz = f(q)\n");
    expect([err.code, err.line, err.column, err.notes]).toEqual(["E0101", 3, 7, []]);
  });
});

describe("only real nesting counts toward the nesting limit", () => {
  const sum = (n: number, term: (i: number) => string) => Array.from({ length: n }, (_, i) => term(i)).join(" + ");

  it("a flat sum of 5,000 terms compiles and computes", () => {
    const model = compile(`input a\nparam b = constant(2)\ny = ${sum(5000, (i) => (i % 2 ? "a * b" : "b"))}\noutput y\nminimize y\n`, { dtype: "f64" });
    expect(model.forward({ a: 0.5 }).y).toBeCloseTo(2500 * 1 + 2500 * 2, 9);
    expect(model.valueAndGrad({ a: 0.5 }).grads.b![0]).toBeCloseTo(2500 * 0.5 + 2500, 9);
  }, 60_000);

  it("a flat sum of 20,000 terms compiles and computes", () => {
    const model = compile(`input a\ny = ${sum(20_000, (i) => (i % 2 ? "a" : "sin(a)"))}\noutput y\n`, { dtype: "f64" });
    expect(model.forward({ a: 0.5 }).y).toBeCloseTo(10_000 * (0.5 + Math.sin(0.5)), 6);
  }, 120_000);

  it("a flat product of 600 terms compiles, with its gradient", () => {
    const model = compile(`param a = constant(1.001)\ny = ${Array.from({ length: 600 }, () => "a").join(" * ")}\noutput y\nminimize y\n`, { dtype: "f64" });
    const { value, grads } = model.valueAndGrad({});
    expect(value).toBeCloseTo(1.001 ** 600, 9);
    expect(grads.a![0]).toBeCloseTo(600 * 1.001 ** 599, 7);
  }, 60_000);

  it("in a 20,000-term sum with one mistake, the mistake is reported", () => {
    const unknown = errorOf(`input a\ny = ${sum(20_000, (i) => (i === 12_345 ? "aa" : "a"))}\n`);
    expect([unknown.code, unknown.line, unknown.column, unknown.message]).toEqual(["E0101", 2, 5 + 12_345 * 4, "unknown name `aa`"]);
    const syntax = errorOf(`input a\ny = ${sum(20_000, (i) => (i === 7_000 ? "* a" : "a"))}\n`);
    expect([syntax.code, syntax.line, syntax.column, syntax.message]).toEqual(["E0002", 2, 5 + 7_000 * 4, "expected an expression, found `*`"]);
  });

  it("a shape mistake in a long chain points at its step, not at the chain's start", () => {
    const line = `y = ${"a + ".repeat(10_000)}v${" + a".repeat(10)}`;
    expectError(`input a: [2]\ninput v: [3]\n${line}\n`, "E0201", 3, 40_003, [
      "m.grad:3:40003: error: cannot broadcast [2] with [3]",
      `  ...${line.slice(-100)}`,
      `  ${" ".repeat(3 + 100 - 43)}^^^`,
    ]);
    expectError("input x: [4, 2]\nparam m1: [2, 3]\nparam m2: [2, 3]\ny = x @ m1 @ m2\n", "E0202", 4, 12, [
      "m.grad:4:12: error: cannot matmul [4, 3] by [2, 3]: inner sizes 3 and 2 differ",
      "  y = x @ m1 @ m2",
      "             ^^^^",
    ]);
  });

  it("10,000-deep parentheses are the located nesting-limit error, not a stack overflow", () => {
    const err = errorOf(`input a\ny = ${"(".repeat(10_000)}a${")".repeat(10_000)}\n`);
    expect([err.code, err.line, err.message]).toEqual(["E0004", 2, "program is nested too deeply"]);
    expect(err.errors[0]!.hint).toBe("give parts of the expression names of their own, one definition per line");
    expect(err.column).toBeGreaterThan(5);
    expect(err.column).toBeLessThan(1000);
    expect(err.rendered.length).toBeLessThan(400);
  });
});

describe("the CLI prints the notes with the error", () => {
  it("gradc check on a file saved with a byte-order mark and an unclosed call", () => {
    const dir = mkdtempSync(join(tmpdir(), "gradc-locations-"));
    try {
      const file = join(dir, "m.grad");
      writeFileSync(file, "\uFEFFinput x: [2]\ny = sum(x, axis = 0\noutput y\n");
      let out = "", err = "";
      const code = run(["check", file], (t) => (out += t), (t) => (err += t));
      expect([code, out]).toEqual([1, ""]);
      expect(err).toBe([
        `${file}:2:8: error: unclosed \`(\``,
        "  y = sum(x, axis = 0",
        "         ^",
        `${file}:2:20: note: expected \`,\` or \`)\` in the argument list, found end of line`,
        "  y = sum(x, axis = 0",
        "                     ^",
        "  hint: close it with `)`",
        "",
      ].join("\n"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
