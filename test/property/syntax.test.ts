// parse(print(ast)) is the identity: random ASTs of every statement and expression form
// are printed with printProgram / printExpr and parsed back to the same tree, ignoring
// spans and `paren` wrappers (the printer chooses its own minimal parentheses).
// fast-check runs with fixed seeds; a failure report names the seed and the shrunk AST.

import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Span } from "../../src/diagnostics";
import {
  formatNumber, keywords, parse, parseExpression, printExpr, printProgram,
  type BinaryOp, type Expr, type Ident, type IndexItem, type Program, type Stmt,
} from "../../src/syntax";

const noSpan: Span = { source: { file: "", text: "" }, start: 0, end: 0 };

/** The tree without spans and parentheses: what parse(print(ast)) must reproduce.
 *  `numberText` also drops the spelling of numbers (`1.0` prints as `1`). */
function strip(v: unknown, numberText = false): unknown {
  if (Array.isArray(v)) return v.map((x) => strip(x, numberText));
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (o.kind === "paren") return strip(o.inner, numberText);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) {
      if (k === "span" || k.endsWith("Span") || x === undefined) continue;
      if (numberText && k === "text" && o.kind === "number") continue;
      out[k] = strip(x, numberText);
    }
    return out;
  }
  return v;
}

// ---- generators ----

const name = fc.oneof(
  fc.constantFrom("x", "y", "w1", "b_2", "_t", "sum", "exp", "sigmoid", "inputs", "dims", "fnx", "with_", "trueish", "n"),
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,7}$/),
).filter((n) => !keywords.has(n));

const ident: fc.Arbitrary<Ident> = name.map((n) => ({ name: n, span: noSpan }));

const numberValue = fc.oneof(
  fc.nat(1000),
  fc.constantFrom(0.5, 1e-3, 2.5e4, 1e21, 1e-7, 5e-324, 1.7976931348623157e308, 123456789012345680000),
  fc.double({ min: 0, max: 1e300, noNaN: true, noDefaultInfinity: true }),
).map((v) => (Object.is(v, -0) ? 0 : v));

const numberExpr: fc.Arbitrary<Expr> = numberValue.map((value) => ({ kind: "number", value, text: formatNumber(value), span: noSpan }));
const boolExpr: fc.Arbitrary<Expr> = fc.boolean().map((value) => ({ kind: "bool", value, span: noSpan }));
const nameExpr: fc.Arbitrary<Expr> = name.map((n) => ({ kind: "name", name: n, span: noSpan }));

const binaryOps: BinaryOp[] = ["+", "-", "*", "/", "@", "^", "<", "<=", ">", ">=", "==", "!="];

const { expr } = fc.letrec<{ expr: Expr; item: IndexItem; items: IndexItem[] }>((tie) => {
  const sub = tie("expr");
  const optional = fc.option(sub, { nil: undefined, freq: 2 });
  return {
    expr: fc.oneof(
      { maxDepth: 5, depthIdentifier: "expr" },
      fc.oneof(numberExpr, nameExpr, boolExpr),
      sub.map((operand): Expr => ({ kind: "unary", op: "-", operand, span: noSpan })),
      fc.tuple(fc.constantFrom(...binaryOps), sub, sub)
        .map(([op, left, right]): Expr => ({ kind: "binary", op, left, right, opSpan: noSpan, span: noSpan })),
      fc.tuple(
        ident,
        fc.array(sub, { maxLength: 3 }),
        fc.uniqueArray(fc.record({ name: ident, value: fc.oneof(boolExpr, sub) }), { maxLength: 3, selector: (k) => k.name.name }),
      ).map(([callee, args, kwargs]): Expr => ({ kind: "call", callee, args, kwargs, span: noSpan })),
      fc.tuple(sub, tie("items")).map(([target, items]): Expr => ({ kind: "index", target, items, span: noSpan })),
      fc.array(sub, { maxLength: 3 }).map((items): Expr => ({ kind: "list", items, span: noSpan })),
      sub.map((inner): Expr => ({ kind: "paren", inner, span: noSpan })),
    ),
    item: fc.oneof(
      sub.map((index): IndexItem => ({ kind: "at", index, span: noSpan })),
      fc.tuple(optional, optional, optional)
        .map(([start, stop, step]): IndexItem => ({ kind: "slice", start, stop, step, span: noSpan })),
    ),
    // One to three items, at most one `...` among them.
    items: fc.tuple(fc.array(tie("item"), { minLength: 1, maxLength: 3 }), fc.option(fc.nat(3), { nil: undefined }))
      .map(([items, at]) => (at === undefined ? items : [...items.slice(0, at), { kind: "ellipsis", span: noSpan } as IndexItem, ...items.slice(at)])),
  };
});

const shape = fc.option(fc.array(expr, { maxLength: 3 }), { nil: undefined });

const statement: fc.Arbitrary<Stmt> = fc.oneof(
  fc.array(ident, { minLength: 1, maxLength: 3 }).map((names): Stmt => ({ kind: "dim", names, span: noSpan })),
  fc.tuple(ident, shape).map(([n, s]): Stmt => ({ kind: "input", name: n, shape: s, span: noSpan })),
  fc.tuple(ident, shape, fc.option(expr, { nil: undefined }))
    .map(([n, s, init]): Stmt => ({ kind: "param", name: n, shape: s, init, span: noSpan })),
  fc.tuple(ident, expr).map(([n, value]): Stmt => ({ kind: "def", name: n, value, span: noSpan })),
  fc.tuple(ident, fc.array(ident, { maxLength: 3 }), expr)
    .map(([n, params, body]): Stmt => ({ kind: "fn", name: n, params, body, span: noSpan })),
  fc.array(ident, { minLength: 1, maxLength: 3 }).map((names): Stmt => ({ kind: "output", names, span: noSpan })),
  fc.tuple(expr, fc.option(expr, { nil: undefined }))
    .map(([objective, optimizer]): Stmt => ({ kind: "minimize", objective, optimizer, span: noSpan })),
);

const program: fc.Arbitrary<Program> = fc.array(statement, { maxLength: 8 }).map((statements) => ({ statements }));

const reparse = (text: string) => parse({ file: "printed.grad", text });

describe("parse(printProgram(ast)) is the identity", () => {
  it("on random programs of every statement and expression form", () => {
    fc.assert(
      fc.property(program, (p) => {
        const text = printProgram(p);
        const again = reparse(text);
        expect(strip(again), text).toEqual(strip(p));
        // The printed text is a fixed point too.
        expect(printProgram(again)).toBe(text);
      }),
      { seed: 20240601, numRuns: 400 },
    );
  });

  it("on random expressions via printExpr / parseExpression", () => {
    fc.assert(
      fc.property(expr, (e) => {
        const text = printExpr(e);
        const again = parseExpression({ file: "<expr>", text });
        expect(strip(again), text).toEqual(strip(e));
      }),
      { seed: 7, numRuns: 1500 },
    );
  });

  it("on expressions built only from operators, where precedence and associativity matter", () => {
    const { opExpr } = fc.letrec<{ opExpr: Expr }>((tie) => ({
      opExpr: fc.oneof(
        { maxDepth: 7, depthIdentifier: "op" },
        fc.oneof(nameExpr, numberExpr),
        tie("opExpr").map((operand): Expr => ({ kind: "unary", op: "-", operand, span: noSpan })),
        fc.tuple(fc.constantFrom(...binaryOps), tie("opExpr"), tie("opExpr"))
          .map(([op, left, right]): Expr => ({ kind: "binary", op, left, right, opSpan: noSpan, span: noSpan })),
      ),
    }));
    fc.assert(
      fc.property(opExpr, (e) => {
        const text = printExpr(e);
        expect(strip(parseExpression({ file: "<expr>", text })), text).toEqual(strip(e));
      }),
      { seed: 99, numRuns: 1500 },
    );
  });

  it("on the fixed readings of the spec: -x^2, 2^3^2, x ^ -1.5, ** as ^", () => {
    const read = (text: string) => printExpr(parseExpression({ file: "<expr>", text }));
    expect(read("-x^2")).toBe("-x ^ 2");
    expect(read("(-x)^2")).toBe("(-x) ^ 2");
    expect(read("2^3^2")).toBe("2 ^ 3 ^ 2");
    expect(read("(2^3)^2")).toBe("(2 ^ 3) ^ 2");
    expect(read("x ^ -1.5")).toBe("x ^ -1.5");
    expect(read("x ** 2")).toBe("x ^ 2");
    expect(read("a - (b - c)")).toBe("a - (b - c)");
    expect(read("(a < b) == c")).toBe("(a < b) == c");
    expect(read("x[2:, ::2][..., -1]")).toBe("x[2:, ::2][..., -1]");
  });

  it("on the seed example (number spellings aside: `1.0` prints as `1`)", () => {
    const xor = readFileSync(new URL("../../examples/xor/xor.grad", import.meta.url), "utf8");
    const p = reparse(xor);
    expect(strip(reparse(printProgram(p)), true)).toEqual(strip(p, true));
  });
});
