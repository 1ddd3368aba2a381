// The AST printer: AST back to gradc source with minimal parentheses, driven by the same
// precedence table as the parser. `parse(print(ast))` gives the AST back (property-tested).

import type { Expr, IndexItem, Program, Stmt } from "./ast";
import { binaryPrecedence, comparisonOps, unaryPrecedence } from "./tokens";

const postfixPrecedence = 5;
const atomPrecedence = 6;

export function printProgram(program: Program): string {
  return program.statements.map(printStatement).join("\n") + "\n";
}

export function printStatement(s: Stmt): string {
  const shape = (dims?: Expr[]) => (dims ? `: [${dims.map(printExpr).join(", ")}]` : "");
  switch (s.kind) {
    case "dim": return `dim ${s.names.map((n) => n.name).join(", ")}`;
    case "input": return `input ${s.name.name}${shape(s.shape)}`;
    case "param": return `${s.frozen ? "frozen " : ""}param ${s.name.name}${shape(s.shape)}${s.init ? ` = ${printExpr(s.init)}` : ""}`;
    case "def": return `${s.name.name} = ${printExpr(s.value)}`;
    case "fn": {
      const params = s.params.map((p, i) => (s.defaults?.[i] ? `${p.name} = ${printExpr(s.defaults[i]!)}` : p.name));
      const head = `fn ${s.name.name}(${params.join(", ")})`;
      if (!s.locals?.length) return `${head} = ${printExpr(s.body)}`;
      // A block body: one definition per line, the value last.
      const lines = [...s.locals.map((d) => `${d.name.name} = ${printExpr(d.value)}`), printExpr(s.body)];
      return `${head} {\n${lines.map((l) => `  ${l}`).join("\n")}\n}`;
    }
    case "output": return `output ${s.names.map((n) => n.name).join(", ")}`;
    case "minimize": return `minimize ${printExpr(s.objective)}${s.optimizer ? ` with ${printExpr(s.optimizer)}` : ""}`;
  }
}

export function printExpr(e: Expr): string {
  return print(e, 0);
}

function precedenceOf(e: Expr): number {
  switch (e.kind) {
    case "binary": return binaryPrecedence[e.op];
    case "unary": return unaryPrecedence;
    case "paren": return precedenceOf(e.inner);
    case "call": case "index": return postfixPrecedence;
    default: return atomPrecedence;
  }
}

function print(e: Expr, min: number): string {
  const text = printBare(e);
  return precedenceOf(e) < min ? `(${text})` : text;
}

function printBare(e: Expr): string {
  switch (e.kind) {
    case "number": return formatNumber(e.value);
    case "bool": return e.value ? "true" : "false";
    case "string": return `"${e.value}"`;
    case "name": return e.name;
    case "paren": return printBare(e.inner);
    case "unary": return `-${print(e.operand, unaryPrecedence)}`;
    case "binary": {
      const p = binaryPrecedence[e.op];
      if (e.op === "^") return `${print(e.left, postfixPrecedence)} ^ ${print(e.right, unaryPrecedence)}`;
      if (comparisonOps.has(e.op)) return `${print(e.left, p + 1)} ${e.op} ${print(e.right, p + 1)}`;
      // A left-deep chain `a + b - c + ...` (20,000 terms are valid) prints with a loop
      // over its left spine, not one recursion per operator.
      const tail: string[] = [];
      let left: Expr = e;
      for (; left.kind === "binary" && left.op !== "^" && binaryPrecedence[left.op] === p; left = left.left) {
        tail.push(` ${left.op} ${print(left.right, p + 1)}`);
      }
      return print(left, p) + tail.reverse().join("");
    }
    case "call": {
      const args = e.args.map(printExpr);
      for (const k of e.kwargs) args.push(`${k.name.name} = ${printExpr(k.value)}`);
      return `${e.callee.name}(${args.join(", ")})`;
    }
    case "index": return `${print(e.target, postfixPrecedence)}[${e.items.map(printIndexItem).join(", ")}]`;
    case "list": return `[${e.items.map(printExpr).join(", ")}]`;
  }
}

function printIndexItem(item: IndexItem): string {
  switch (item.kind) {
    case "ellipsis": return "...";
    case "at": return printExpr(item.index);
    case "slice": {
      const part = (x?: Expr) => (x ? printExpr(x) : "");
      return `${part(item.start)}:${part(item.stop)}${item.step ? `:${printExpr(item.step)}` : ""}`;
    }
  }
}

/** Shortest text that reads back as the same double. Non-finite values cannot be written
 *  in gradc, so they print as expressions that evaluate to them. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return "(0 / 0)";
  if (v === Infinity) return "(1 / 0)";
  if (v === -Infinity) return "(-1 / 0)";
  return String(v);
}
