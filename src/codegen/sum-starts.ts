// Sums start from -0, the identity of + (-0 + x is x for every x, -0 and NaN included),
// so a sum's first addition can be dropped: after unrolling, `let acc = -0; acc += a * b;`
// is `let acc = a * b;`, and a scalarized reduction's `s = -0; ... s = s + v;` is
// `s = v;`. Exact, unlike dropping a start from +0 (0 + -0 is +0), and it saves one
// addition per sum: small unrolled models are mostly short sums (XOR's step has 40).
//
// A forward pass over straight-line code: a local is known to hold -0 from the literal
// assignment until anything else assigns it. Loop and branch bodies start knowing
// nothing (a loop's second iteration sees its first one's sums), and a loop or branch
// forgets every local it assigns.

import { mentions } from "./hoist";
import { assignedNames, visit } from "./ast";
import * as js from "./estree";

export function foldSumStarts(body: js.Statement[]): js.Statement[] {
  // (a local a closure could assign is not straight-line: left alone)
  let closures = false;
  visit(body, (n) => { if (n.type.includes("Function")) closures = true; });
  if (closures) return body;
  const dead = new Set<js.Statement>();
  const folded = foldList(body, new Map(), dead, declaredNames(body, true));
  return dead.size === 0 ? folded : dropStatements(folded, dead);
}

/** A local known to hold -0. `store` is the `x = -0;` statement that set it, and `decl`
 *  its `let x = -0;` declaration (in the list being built), while nothing has mentioned
 *  the local since: the sum's first term then replaces the one or takes the other's place. */
interface Start {
  store?: js.Statement;
  decl?: { list: js.Statement[]; at: number };
}
type Known = Map<string, Start>;

function foldList(list: js.Statement[], known: Known, dead: Set<js.Statement>, locals: ReadonlySet<string>): js.Statement[] {
  const out: js.Statement[] = [];
  for (const s of list) {
    const first = firstTerm(s, known);
    if (first) {
      const { name, term } = first;
      const start = known.get(name)!;
      known.delete(name);
      forgetMentions(term, known);
      if (start.store) dead.add(start.store);
      if (start.decl?.list === out) {
        // the declaration moves down to the first term (its comments stay in place)
        dead.add(out[start.decl.at]!);
        out.push(withComments(js.declare("let", name, term), s.comments));
      } else {
        out.push(withComments(js.stmt(js.assign(js.id(name), term)), s.comments));
      }
      continue;
    }
    switch (s.type) {
      case "VariableDeclaration": {
        forgetMentions(s, known);
        for (const d of s.declarations) {
          if (d.id.type !== "Identifier") continue;
          if (d.init && isNegZero(d.init) && s.kind === "let") {
            known.set(d.id.name, s.declarations.length === 1 ? { decl: { list: out, at: out.length } } : {});
          } else {
            known.delete(d.id.name);
          }
        }
        out.push(s);
        break;
      }
      case "ExpressionStatement": {
        const e = s.expression;
        forgetMentions(s, known);
        for (const name of assignedNames(s)) known.delete(name);
        if (e.type === "AssignmentExpression" && e.operator === "=" && e.left.type === "Identifier" && locals.has(e.left.name) && isNegZero(e.right)) {
          known.set(e.left.name, { store: s });
        }
        out.push(s);
        break;
      }
      case "BlockStatement": {
        const declared = declaredNames(s.body, false);
        // (inside, a name it declares is its own local, not the outer one)
        const outer = new Map([...known].filter(([name]) => declared.has(name)));
        const inner: Known = new Map([...known].filter(([name]) => !declared.has(name)));
        const body = foldList(s.body, inner, dead, locals);
        // the block's own declarations end with it; the outer locals go on as it left them
        known.clear();
        for (const [name, k] of inner) if (!declared.has(name)) known.set(name, k);
        for (const [name, k] of outer) known.set(name, k);
        out.push({ ...s, body });
        break;
      }
      default: {
        forgetMentions(s, known);
        for (const name of assignedNames(s)) known.delete(name);
        out.push(foldNested(s, dead, locals));
      }
    }
  }
  return out;
}

/** `x += t;`, `x = x + t;` or `x = t + x;` for a known -0 local x, with t free of x:
 *  the sum's first term. */
function firstTerm(s: js.Statement, known: Known): { name: string; term: js.Expression } | undefined {
  if (s.type !== "ExpressionStatement" || s.expression.type !== "AssignmentExpression") return undefined;
  const { operator, left, right } = s.expression;
  if (left.type !== "Identifier" || !known.has(left.name)) return undefined;
  const name = left.name;
  let term: js.Expression | undefined;
  if (operator === "+=") term = right;
  else if (operator === "=" && right.type === "BinaryExpression" && right.operator === "+") {
    if (isName(right.left, name)) term = right.right;
    else if (isName(right.right, name)) term = right.left;
  }
  return term && !mentions(term, name) ? { name, term } : undefined;
}

/** Loops, branches and the rest: their bodies start knowing nothing. */
function foldNested(s: js.Statement, dead: Set<js.Statement>, locals: ReadonlySet<string>): js.Statement {
  const sub = (st: js.Statement): js.Statement => {
    if (st.type === "BlockStatement") return { ...st, body: foldList(st.body, new Map(), dead, locals) };
    const [one] = foldList([st], new Map(), dead, locals);
    return one!;
  };
  switch (s.type) {
    case "ForStatement":
    case "ForInStatement":
      return { ...s, body: sub(s.body) };
    case "IfStatement":
      return { ...s, consequent: sub(s.consequent), alternate: s.alternate && sub(s.alternate) };
    default:
      return s;
  }
}

/** A local mentioned after its start keeps the statement that set it. */
function forgetMentions(node: unknown, known: Known): void {
  if (known.size === 0) return;
  visit(node, (n) => {
    const k = n.type === "Identifier" ? known.get(n.name as string) : undefined;
    if (k) {
      k.store = undefined;
      k.decl = undefined;
    }
  });
}

/** The names `list` declares: at its own level, or (deep) in any block of it too. */
function declaredNames(list: js.Statement[], deep: boolean): Set<string> {
  const names = new Set<string>();
  const add = (s: js.Statement) => {
    if (s.type === "VariableDeclaration") for (const d of s.declarations) if (d.id.type === "Identifier") names.add(d.id.name);
  };
  if (deep) visit(list, (n) => add(n as js.Statement));
  else list.forEach(add);
  return names;
}

/** `list` without the dead statements; their comments go to the next one kept. */
function dropStatements(list: js.Statement[], dead: Set<js.Statement>): js.Statement[] {
  const out: js.Statement[] = [];
  let comments: js.Comment[] = [];
  for (const s of list) {
    if (dead.has(s)) {
      comments = [...comments, ...(s.comments ?? [])];
      continue;
    }
    out.push(comments.length > 0 ? withComments(dropIn(s, dead), comments) : dropIn(s, dead));
    comments = [];
  }
  return out;
}

function dropIn(s: js.Statement, dead: Set<js.Statement>): js.Statement {
  switch (s.type) {
    case "BlockStatement":
      return { ...s, body: dropStatements(s.body, dead) };
    case "ForStatement":
    case "ForInStatement":
      return { ...s, body: dropIn(s.body, dead) };
    case "IfStatement":
      return { ...s, consequent: dropIn(s.consequent, dead), alternate: s.alternate && dropIn(s.alternate, dead) };
    default:
      return s;
  }
}

/** `s` with `comments` before its own; a block's go on its first statement (astring
 *  would print them both before the block and inside it). */
function withComments(s: js.Statement, comments: js.Comment[] | undefined): js.Statement {
  if (!comments || comments.length === 0) return s;
  if (s.type === "BlockStatement" && s.body.length > 0) return { ...s, body: [withComments(s.body[0]!, comments), ...s.body.slice(1)] };
  return { ...s, comments: [...comments, ...(s.comments ?? [])] };
}

function isName(e: js.Expression, name: string): boolean {
  return e.type === "Identifier" && e.name === name;
}

function isNegZero(e: js.Expression): boolean {
  return e.type === "UnaryExpression" && e.operator === "-" && e.argument.type === "Literal" && e.argument.value === 0;
}
