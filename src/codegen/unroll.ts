// Unrolling of tiny loops with known trip counts: a loop of one iteration disappears, and
// short innermost loops (3x3 taps, a handful of units) become straight-line code, with
// the loop variable replaced by its value and index arithmetic folded.

import { assignedNames, visit, type AnyNode } from "./ast";
import * as js from "./estree";

/** Unroll when trip count x body size stays under this many AST nodes. */
const budget = 1500;
/** ... and the trip count stays under this (so bias-sized loops stay loops). */
const maxTrip = 32;

export function unrollLoops(body: js.Statement[]): js.Statement[] {
  return body.flatMap(unrollStatement);
}

function unrollStatement(s: js.Statement): js.Statement[] {
  switch (s.type) {
    case "BlockStatement":
      return [{ ...s, body: unrollLoops(s.body) }];
    case "IfStatement":
      return [{ ...s, consequent: single(unrollStatement(s.consequent)), alternate: s.alternate ? single(unrollStatement(s.alternate)) : null }];
    case "ForStatement": {
      const inner = unrollStatement(s.body);
      const loop = { ...s, body: single(inner) };
      const bound = literalBound(loop);
      if (bound === undefined || bound > maxTrip) return [loop];
      const trip = tripCount(loop);
      if (!trip) return [loop];
      const { name, count } = trip;
      const innerBody = loop.body.type === "BlockStatement" ? loop.body.body : [loop.body];
      if (count !== 1 && (count > maxTrip || count * size(innerBody) > budget)) return [loop];
      const copies: js.Statement[][] = [];
      for (let k = 0; k < count; k++) {
        const replaced = innerBody.map((st) => substitute(st, name, k) as js.Statement);
        // Each copy keeps its own block so its `const`s do not collide.
        copies.push(declares(replaced) ? [js.block(replaced)] : replaced);
      }
      const flat = copies.flat();
      if (s.comments && flat.length > 0) flat[0] = withComments(flat[0]!, s.comments);
      return flat;
    }
    default:
      return [s];
  }
}

/** astring prints a block's comments inside it too: put them on its first statement. */
function withComments(s: js.Statement, comments: js.Comment[]): js.Statement {
  if (s.type === "BlockStatement" && s.body.length > 0) return { ...s, body: [withComments(s.body[0]!, comments), ...s.body.slice(1)] };
  return { ...s, comments };
}

function single(list: js.Statement[]): js.Statement {
  return list.length === 1 ? list[0]! : js.block(list);
}

function declares(list: js.Statement[]): boolean {
  return list.some((s) => s.type === "VariableDeclaration");
}

/** N of `... v < N ...` when N is a literal: a cheap test before the full check. */
function literalBound(s: Extract<js.Statement, { type: "ForStatement" }>): number | undefined {
  const t = s.test;
  return t && t.type === "BinaryExpression" && t.operator === "<" && js.isNum(t.right) ? (t.right as { value: number }).value : undefined;
}

/** `for (let v = 0; v < N; v++)` with a literal N. */
function tripCount(s: Extract<js.Statement, { type: "ForStatement" }>): { name: string; count: number } | undefined {
  const init = s.init as js.Statement | null;
  if (!init || init.type !== "VariableDeclaration" || init.declarations.length !== 1) return undefined;
  const decl = init.declarations[0]!;
  if (decl.id.type !== "Identifier" || !decl.init || !js.isNum(decl.init, 0)) return undefined;
  const test = s.test;
  if (!test || test.type !== "BinaryExpression" || test.operator !== "<" || test.left.type !== "Identifier" || test.left.name !== decl.id.name) return undefined;
  if (!js.isNum(test.right)) return undefined;
  const u = s.update;
  if (!u || u.type !== "UpdateExpression" || u.argument.type !== "Identifier" || u.argument.name !== decl.id.name) return undefined;
  if (assignedNames(s.body).has(decl.id.name)) return undefined;
  return { name: decl.id.name, count: (test.right as { value: number }).value };
}

function size(node: unknown): number {
  let count = 0;
  visit(node, () => { count++; });
  return count;
}

/** A copy of `node` with identifier `name` replaced by the literal `value`, folding
 *  the integer index arithmetic that results. Only subscripts are index arithmetic: in
 *  values, `x + 0 -> x` and `x * 0 -> 0` are wrong for -0, NaN and infinities, so there
 *  only exact folds apply (literals with literals, `x * 1`). */
function substitute(node: unknown, name: string, value: number, inIndex = false): unknown {
  if (Array.isArray(node)) return node.map((n) => substitute(n, name, value, inIndex));
  if (!node || typeof node !== "object") return node;
  const n = node as AnyNode;
  if (n.type === "Identifier" && n.name === name) return js.num(value);
  const out: AnyNode = { type: n.type };
  for (const key of Object.keys(n)) {
    if (key === "type" || key === "comments") continue;
    // Property names of member expressions are not variables.
    if (key === "property" && n.computed === false) out[key] = n[key];
    else out[key] = substitute(n[key], name, value, inIndex || (n.type === "MemberExpression" && key === "property"));
  }
  if (out.type === "BinaryExpression") {
    const e = out as unknown as { operator: string; left: js.Expression; right: js.Expression };
    const exact = inIndex || (js.isNum(e.left) && js.isNum(e.right));
    if (e.operator === "+" && exact) return js.add(e.left, e.right);
    if (e.operator === "*" && exact) return js.mul(e.left, e.right);
    // `last - i` (flip's index): literals fold; `- 0` is exact in an index
    if (e.operator === "-" && js.isNum(e.left) && js.isNum(e.right)) {
      return js.num((e.left as { value: number }).value - (e.right as { value: number }).value);
    }
    if (e.operator === "-" && inIndex && js.isNum(e.right, 0)) return e.left;
    if (e.operator === "*" && js.isNum(e.right, 1)) return e.left;
    if (e.operator === "*" && js.isNum(e.left, 1)) return e.right;
  }
  return out;
}
