// grammar/gradc.ebnf and grammar/gradc.tmLanguage.json against the real parser.
//
// (a) The EBNF: its example programs (and every .grad file under examples/) parse; its
//     rules are well formed; and, run as a recognizer over the lexer's tokens, its
//     syntactic rules accept exactly the programs the hand-written parser accepts, on the
//     examples, on a table of edge cases and on random mutations of the examples.
// (b) The TextMate grammar: it tokenizes the examples without errors and gives the
//     expected scopes to comments, keywords, numbers, built-ins, operators, function
//     names and keyword arguments.

import { describe, it, expect, beforeAll } from "vitest";
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { parse, tokenize, keywords, binaryPrecedence, type Expr, type Program, type Stmt } from "../../src/syntax";
import { punctuation, type Token } from "../../src/syntax/tokens";
import { GradcError, type Diagnostic } from "../../src/diagnostics";
import { propertySeed } from "../helpers/seed";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const ebnfPath = join(root, "grammar", "gradc.ebnf");
const tmPath = join(root, "grammar", "gradc.tmLanguage.json");
const ebnfText = readFileSync(ebnfPath, "utf8");

// ---------------------------------------------------------------------------------------
// Example programs

interface Example {
  title: string;
  text: string;
}

/** Each example is a comment whose first line is `(* example: TITLE` and whose last line
 *  is exactly `*)`; the lines in between are the program. */
function extractExamples(text: string): Example[] {
  const out: Example[] = [];
  const re = /^\(\* example:[ \t]*(.*)\r?\n([\s\S]*?)^\*\)[ \t]*$/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push({ title: m[1]!.trim(), text: m[2]! });
  return out;
}

function gradFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    // Installed packages (and links back to this repository) are not examples.
    if (name === "node_modules") continue;
    const p = join(dir, name);
    if (lstatSync(p).isSymbolicLink()) continue;
    if (statSync(p).isDirectory()) out.push(...gradFiles(p));
    else if (name.endsWith(".grad")) out.push(p);
  }
  return out;
}

const examples = extractExamples(ebnfText);
const exampleFiles = gradFiles(join(root, "examples")).map((p) => ({
  title: relative(root, p),
  text: readFileSync(p, "utf8"),
}));
const allPrograms: Example[] = [...examples, ...exampleFiles];

function parseText(text: string, file = "example.grad"): Program {
  return parse({ file, text });
}

// ---------------------------------------------------------------------------------------
// A reader for the ISO 14977 EBNF of grammar/gradc.ebnf

type Node =
  | { k: "alt"; items: Node[] }
  | { k: "seq"; items: Node[] }
  | { k: "opt"; item: Node }
  | { k: "rep"; item: Node }
  | { k: "group"; item: Node }
  | { k: "term"; text: string }
  | { k: "ref"; name: string }
  | { k: "special"; text: string }
  | { k: "except"; item: Node; minus: Node };

interface ETok {
  t: "id" | "term" | "special" | "sym";
  v: string;
  line: number;
}

function scanEbnf(text: string): ETok[] {
  const toks: ETok[] = [];
  let i = 0;
  let line = 1;
  const fail = (msg: string): never => {
    throw new Error(`gradc.ebnf:${line}: ${msg}`);
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === "\n") { line++; i++; continue; }
    if (/\s/.test(c)) { i++; continue; }
    if (text.startsWith("(*", i)) {
      let depth = 1;
      i += 2;
      while (depth > 0) {
        if (i >= text.length) fail("unterminated comment");
        if (text.startsWith("(*", i)) { depth++; i += 2; }
        else if (text.startsWith("*)", i)) { depth--; i += 2; }
        else { if (text[i] === "\n") line++; i++; }
      }
      continue;
    }
    if (c === '"' || c === "'" || c === "?") {
      const j = text.indexOf(c, i + 1);
      if (j < 0 || text.slice(i + 1, j).includes("\n")) fail(`unterminated ${c === "?" ? "special sequence" : "terminal"}`);
      const v = text.slice(i + 1, j);
      if (c !== "?" && v.length === 0) fail("empty terminal");
      toks.push({ t: c === "?" ? "special" : "term", v: c === "?" ? v.trim() : v, line });
      i = j + 1;
      continue;
    }
    const id = /[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*/y;
    id.lastIndex = i;
    const m = id.exec(text);
    if (m) { toks.push({ t: "id", v: m[0], line }); i += m[0].length; continue; }
    if ("=,|;[]{}()-".includes(c)) { toks.push({ t: "sym", v: c, line }); i++; continue; }
    fail(`unexpected character ${JSON.stringify(c)}`);
  }
  return toks;
}

interface Rule {
  name: string;
  body: Node;
  line: number;
}

function parseEbnf(text: string): Rule[] {
  const toks = scanEbnf(text);
  let p = 0;
  const peek = () => toks[p];
  const fail = (msg: string): never => {
    throw new Error(`gradc.ebnf:${peek()?.line ?? "end"}: ${msg}, found ${peek()?.v ?? "end of file"}`);
  };
  const isSym = (v: string) => peek()?.t === "sym" && peek()!.v === v;
  const expect = (v: string) => { if (!isSym(v)) fail(`expected ${v}`); p++; };
  const definitions = (): Node => {
    const items = [single()];
    while (isSym("|")) { p++; items.push(single()); }
    return items.length === 1 ? items[0]! : { k: "alt", items };
  };
  const single = (): Node => {
    const items = [term()];
    while (isSym(",")) { p++; items.push(term()); }
    return items.length === 1 ? items[0]! : { k: "seq", items };
  };
  const term = (): Node => {
    const item = factor();
    if (isSym("-")) { p++; return { k: "except", item, minus: factor() }; }
    return item;
  };
  const factor = (): Node => {
    const t = peek();
    if (!t) return fail("expected a factor");
    p++;
    if (t.t === "id") return { k: "ref", name: t.v };
    if (t.t === "term") return { k: "term", text: t.v };
    if (t.t === "special") return { k: "special", text: t.v };
    if (t.v === "[") { const item = definitions(); expect("]"); return { k: "opt", item }; }
    if (t.v === "{") { const item = definitions(); expect("}"); return { k: "rep", item }; }
    if (t.v === "(") { const item = definitions(); expect(")"); return { k: "group", item }; }
    p--;
    return fail("expected a factor");
  };
  const rules: Rule[] = [];
  while (p < toks.length) {
    const name = peek()!;
    if (name.t !== "id") fail("expected a rule name");
    p++;
    expect("=");
    const body = definitions();
    expect(";");
    rules.push({ name: name.v, body, line: name.line });
  }
  return rules;
}

function walk(node: Node, visit: (n: Node) => void): void {
  visit(node);
  switch (node.k) {
    case "alt": case "seq": node.items.forEach((n) => walk(n, visit)); break;
    case "opt": case "rep": case "group": walk(node.item, visit); break;
    case "except": walk(node.item, visit); walk(node.minus, visit); break;
    default: break;
  }
}

const rules = parseEbnf(ebnfText);
const ruleMap = new Map(rules.map((r) => [r.name, r]));

/** Lexical rules the syntactic level uses as token classes. */
const tokenClasses: Record<string, (t: Token) => boolean> = {
  identifier: (t) => t.kind === "ident",
  number: (t) => t.kind === "number",
  string: (t) => t.kind === "string",
  "statement-end": (t) => t.kind === "newline",
  // `frozen param`: an identifier token, special only in that position.
  "frozen-word": (t) => t.kind === "ident" && t.text === "frozen",
};

/** The rules reachable from `start` without entering a token class. */
function reachable(start: string, stopAt: Set<string>): Set<string> {
  const seen = new Set<string>();
  const todo = [start];
  while (todo.length > 0) {
    const name = todo.pop()!;
    if (seen.has(name) || stopAt.has(name)) continue;
    seen.add(name);
    const rule = ruleMap.get(name);
    if (rule) walk(rule.body, (n) => { if (n.k === "ref") todo.push(n.name); });
  }
  return seen;
}

const syntacticRules = reachable("program", new Set(Object.keys(tokenClasses)));

// ---------------------------------------------------------------------------------------
// The syntactic rules as a recognizer: the set of token positions where each rule can end.
// Exact for any grammar without left recursion; memoised per (rule, position).

class Recognizer {
  private readonly memo = new Map<string, Set<number>>();
  private readonly active = new Set<string>();
  private readonly end: number;

  constructor(private readonly tokens: Token[]) {
    this.end = tokens.length - 1; // the last token is eof
  }

  accepts(start = "program"): boolean {
    return this.match({ k: "ref", name: start }, 0).has(this.end);
  }

  private match(node: Node, pos: number): Set<number> {
    switch (node.k) {
      case "term": {
        const t = this.tokens[pos]!;
        const ok = pos < this.end && (t.kind === "keyword" || t.kind === "punct") && t.text === node.text;
        return new Set(ok ? [pos + 1] : []);
      }
      case "ref": {
        const cls = tokenClasses[node.name];
        if (cls) return new Set(pos < this.end && cls(this.tokens[pos]!) ? [pos + 1] : []);
        const key = `${node.name}@${pos}`;
        const hit = this.memo.get(key);
        if (hit) return hit;
        if (this.active.has(key)) throw new Error(`left recursion through ${node.name}`);
        const rule = ruleMap.get(node.name);
        if (!rule) throw new Error(`undefined rule ${node.name}`);
        this.active.add(key);
        const result = this.match(rule.body, pos);
        this.active.delete(key);
        this.memo.set(key, result);
        return result;
      }
      case "seq": {
        let current = new Set([pos]);
        for (const item of node.items) {
          const next = new Set<number>();
          for (const p of current) for (const q of this.match(item, p)) next.add(q);
          current = next;
          if (current.size === 0) break;
        }
        return current;
      }
      case "alt": {
        const out = new Set<number>();
        for (const item of node.items) for (const q of this.match(item, pos)) out.add(q);
        return out;
      }
      case "group":
        return this.match(node.item, pos);
      case "opt":
        return new Set([pos, ...this.match(node.item, pos)]);
      case "rep": {
        const out = new Set([pos]);
        const todo = [pos];
        while (todo.length > 0) {
          const p = todo.pop()!;
          for (const q of this.match(node.item, p)) if (!out.has(q)) { out.add(q); todo.push(q); }
        }
        return out;
      }
      case "special":
      case "except":
        throw new Error(`the syntactic level may not use ${node.k}`);
    }
  }
}

type Verdict = "accept" | "reject" | "lexical-error" | "unknown";

/** What the hand-written parser says. Duplicate keyword arguments (E0007, not context-free)
 *  and nesting limits (E0004) are outside the grammar, so they give "unknown". */
function parserVerdict(text: string): Verdict {
  const lexErrors: Diagnostic[] = [];
  tokenize({ file: "t.grad", text }, lexErrors);
  if (lexErrors.length > 0) return "lexical-error";
  try {
    parseText(text);
    return "accept";
  } catch (e) {
    if (!(e instanceof GradcError)) throw e;
    if (e.errors.some((d) => d.code === "E0007" || d.code === "E0004")) return "unknown";
    return "reject";
  }
}

function grammarVerdict(text: string): Verdict {
  const lexErrors: Diagnostic[] = [];
  const tokens = tokenize({ file: "t.grad", text }, lexErrors);
  if (lexErrors.length > 0) return "lexical-error";
  return new Recognizer(tokens).accepts() ? "accept" : "reject";
}

// ---------------------------------------------------------------------------------------
// A fully parenthesised rendering of expressions, to check precedence.

function show(e: Expr): string {
  switch (e.kind) {
    case "number": return e.text;
    case "bool": return String(e.value);
    case "string": return `"${e.value}"`;
    case "name": return e.name;
    case "paren": return show(e.inner);
    case "unary": return `(-${show(e.operand)})`;
    case "binary": return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case "list": return `[${e.items.map(show).join(", ")}]`;
    case "call": return `${e.callee.name}(${[...e.args.map(show), ...e.kwargs.map((k) => `${k.name.name}=${show(k.value)}`)].join(", ")})`;
    case "index": return `${show(e.target)}[${e.items.map((i) =>
      i.kind === "ellipsis" ? "..." : i.kind === "at" ? show(i.index)
        : `${i.start ? show(i.start) : ""}:${i.stop ? show(i.stop) : ""}${i.step ? `:${show(i.step)}` : ""}`).join(", ")}]`;
  }
}

function exprOf(text: string): string {
  const s = parseText(`r = ${text}`).statements[0]!;
  if (s.kind !== "def") throw new Error("expected a definition");
  return show(s.value);
}

function exprsOf(stmt: Stmt): Expr[] {
  switch (stmt.kind) {
    case "dim": case "output": return [];
    case "input": return stmt.shape ?? [];
    case "param": return [...(stmt.shape ?? []), ...(stmt.init ? [stmt.init] : [])];
    case "def": return [stmt.value];
    case "fn": return [stmt.body];
    case "minimize": return [stmt.objective, ...(stmt.optimizer ? [stmt.optimizer] : [])];
  }
}

function subExprs(e: Expr, out: Expr[] = []): Expr[] {
  out.push(e);
  switch (e.kind) {
    case "unary": subExprs(e.operand, out); break;
    case "binary": subExprs(e.left, out); subExprs(e.right, out); break;
    case "paren": subExprs(e.inner, out); break;
    case "list": e.items.forEach((i) => subExprs(i, out)); break;
    case "call": e.args.forEach((a) => subExprs(a, out)); e.kwargs.forEach((k) => subExprs(k.value, out)); break;
    case "index":
      subExprs(e.target, out);
      for (const i of e.items) {
        if (i.kind === "at") subExprs(i.index, out);
        if (i.kind === "slice") for (const x of [i.start, i.stop, i.step]) if (x) subExprs(x, out);
      }
      break;
    default: break;
  }
  return out;
}

// =======================================================================================
// (a) The EBNF

describe("grammar/gradc.ebnf", () => {
  it("has at least 8 delimited examples", () => {
    expect(examples.length).toBeGreaterThanOrEqual(8);
    const opens = ebnfText.split("\n").filter((l) => l.startsWith("(* example:")).length;
    expect(opens).toBe(examples.length);
    for (const ex of examples) {
      expect(ex.title).not.toBe("");
      expect(ex.text.trim()).not.toBe("");
    }
  });

  it("examples/xor/xor.grad exists and is among the programs checked", () => {
    expect(exampleFiles.map((f) => f.title.replace(/\\/g, "/"))).toContain("examples/xor/xor.grad");
  });

  for (const ex of allPrograms) {
    it(`parses: ${ex.title}`, () => {
      expect(() => parseText(ex.text, ex.title)).not.toThrow();
      expect(grammarVerdict(ex.text)).toBe("accept");
    });
  }

  it("the examples cover every statement form", () => {
    const forms = new Set<string>();
    for (const ex of examples) {
      for (const s of parseText(ex.text).statements) {
        forms.add(s.kind);
        if (s.kind === "dim") forms.add(s.names.length > 1 ? "dim many" : "dim one");
        if (s.kind === "input") forms.add(!s.shape ? "input scalar" : s.shape.length === 0 ? "input []" : "input shaped");
        if (s.kind === "param") forms.add(`param ${s.shape ? "shaped" : "bare"} ${s.init ? "init" : "no-init"}`);
        if (s.kind === "fn") forms.add(s.params.length === 0 ? "fn no params" : "fn params");
        if (s.kind === "output") forms.add(s.names.length > 1 ? "output many" : "output one");
        if (s.kind === "minimize") forms.add(s.optimizer ? "minimize with" : "minimize bare");
      }
    }
    for (const f of [
      "dim", "input", "param", "def", "fn", "output", "minimize",
      "dim one", "dim many", "input scalar", "input []", "input shaped",
      "param shaped init", "param bare init", "param bare no-init", "fn no params", "fn params",
      "output one", "output many", "minimize with", "minimize bare",
    ]) expect(forms, f).toContain(f);
  });

  it("the examples cover every expression form", () => {
    const forms = new Set<string>();
    for (const ex of examples) {
      for (const s of parseText(ex.text).statements) {
        for (const root of exprsOf(s)) {
          for (const e of subExprs(root)) {
            forms.add(e.kind);
            if (e.kind === "binary") forms.add(`op ${e.op}`);
            if (e.kind === "bool") forms.add(String(e.value));
            if (e.kind === "call") {
              forms.add(`call ${e.callee.name}`);
              if (e.args.length === 0 && e.kwargs.length === 0) forms.add("call empty");
              if (e.kwargs.length > 0) forms.add(e.args.length > 0 ? "call positional+keyword" : "call keyword only");
            }
            if (e.kind === "index") {
              for (const i of e.items) {
                forms.add(`item ${i.kind}`);
                if (i.kind === "slice") forms.add(`slice ${i.start ? "a" : "_"}:${i.stop ? "b" : "_"}${i.step ? ":c" : ""}`);
              }
              if (e.target.kind === "index") forms.add("index of index");
              if (e.target.kind === "call") forms.add("index of call");
            }
            if (e.kind === "unary" && e.operand.kind === "unary") forms.add("double negation");
            if (e.kind === "binary" && e.op === "^" && e.right.kind === "unary") forms.add("power of negation");
            if (e.kind === "binary" && e.op === "^" && e.right.kind === "binary" && e.right.op === "^") forms.add("power chain");
          }
        }
      }
    }
    const wanted = [
      "number", "bool", "name", "unary", "binary", "call", "index", "list", "paren", "true", "false",
      ...Object.keys(binaryPrecedence).map((op) => `op ${op}`),
      "call grad", "call empty", "call positional+keyword", "call keyword only",
      "item at", "item slice", "item ellipsis", "slice a:b", "slice a:_", "slice _:b", "slice _:_",
      "slice _:_:c", "slice a:b:c", "index of index", "index of call", "double negation",
      "power of negation", "power chain",
    ];
    for (const f of wanted) expect(forms, f).toContain(f);
  });

  it("the examples cover the lexical forms", () => {
    const all = examples.map((e) => e.text).join("\n");
    const numbers = new Set<string>();
    for (const ex of examples) for (const t of tokenize({ file: "x", text: ex.text }, [])) if (t.kind === "number") numbers.add(t.text);
    for (const n of ["12", "0.5", ".5", "1e-3", "2.5E+4"]) expect(numbers).toContain(n);
    expect(all).toContain("**");
    expect(all).toContain("2^3^2");
    expect(all).toContain("x ^ -1.5");
    expect(all).toMatch(/#/);
    expect(examples.some((e) => /;/.test(e.text.replace(/#.*$/gm, "")))).toBe(true);
    expect(all).toMatch(/\(\s*\n/); // a parenthesised expression or argument list over several lines
    expect(all).toMatch(/\[\s*\n/); // a list over several lines
  });

  it("is well-formed ISO EBNF: every rule is defined once, used, and reachable", () => {
    const names = rules.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    const used = new Set<string>();
    for (const r of rules) walk(r.body, (n) => { if (n.k === "ref") used.add(n.name); });
    for (const u of used) expect(ruleMap.has(u), `rule ${u} is used but not defined`).toBe(true);
    const all = new Set([...reachable("program", new Set()), ...reachable("source-text", new Set())]);
    for (const n of names) expect(all.has(n), `rule ${n} is unreachable`).toBe(true);
  });

  it("defines the rules the parser's comments refer to", () => {
    for (const name of [
      "program", "statement", "dim", "input", "param", "shape", "fn", "output", "minimize",
      "expr", "unary", "power", "postfix", "arguments", "index", "item", "primary", "list",
    ]) expect(ruleMap.has(name), name).toBe(true);
  });

  it("agrees with the lexer's token table", () => {
    const kw = new Set<string>();
    walk(ruleMap.get("keyword")!.body, (n) => { if (n.k === "term") kw.add(n.text); });
    expect([...kw].sort()).toEqual([...keywords].sort());
    const punct = new Set<string>();
    walk(ruleMap.get("punctuator")!.body, (n) => { if (n.k === "term") punct.add(n.text); });
    expect([...punct].sort()).toEqual([...punctuation].sort());
    // The syntactic level uses only keywords and punctuators (with `**` folded into `^`).
    const used = new Set<string>();
    for (const name of syntacticRules) walk(ruleMap.get(name)!.body, (n) => {
      if (n.k === "term") used.add(n.text);
      expect(n.k === "special" || n.k === "except", `${name} uses ${n.k}`).toBe(false);
    });
    for (const t of used) expect(kw.has(t) || (punct.has(t) && t !== "**"), t).toBe(true);
    for (const op of Object.keys(binaryPrecedence)) expect(used, op).toContain(op);
    expect(used).toContain("...");
  });

  it("lexical rules for numbers and identifiers match the lexer", () => {
    // The EBNF's `number` and `word`, transcribed as regular expressions.
    const numberRe = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
    for (const n of ["12", "0.5", ".5", "1e-3", "2.5E+4", "1.", "7E2", "0.25e+1"]) {
      expect(n).toMatch(numberRe);
      const toks = tokenize({ file: "x", text: n }, []);
      expect(toks.map((t) => t.kind)).toEqual(["number", "eof"]);
      expect(toks[0]!.value).toBe(Number(n));
    }
    for (const bad of ["3x", "1e", "2.5E+", "1.5e", "4_"]) {
      const errors: Diagnostic[] = [];
      tokenize({ file: "x", text: bad }, errors);
      expect(errors.map((d) => d.code), bad).toEqual(["E0003"]);
    }
    for (const id of ["x", "_", "y_out", "m1", "_x9", "True", "dims"]) {
      const toks = tokenize({ file: "x", text: id }, []);
      expect(toks.map((t) => t.kind), id).toEqual(["ident", "eof"]);
    }
    for (const bad of ["!", ".", "$", "é", "`"]) {
      const errors: Diagnostic[] = [];
      tokenize({ file: "x", text: `a ${bad} b` }, errors);
      expect(errors.map((d) => d.code), bad).toEqual(["E0001"]);
    }
    // `**` is `^`; newlines inside brackets vanish; `;` is always a statement end.
    const kinds = (text: string) => tokenize({ file: "x", text }, []).map((t) => (t.kind === "newline" ? "NL" : t.text));
    expect(kinds("a ** b")).toEqual(["a", "^", "b", ""]);
    expect(kinds("f(a,\n b)\n[1,\n2]")).toEqual(["f", "(", "a", ",", "b", ")", "NL", "[", "1", ",", "2", "]", ""]);
    expect(kinds("(a; b)")).toEqual(["(", "a", "NL", "b", ")", ""]);
    expect(kinds("a # c ( [\nb")).toEqual(["a", "NL", "b", ""]);
  });

  it("precedence and associativity are as the grammar says", () => {
    const cases: [string, string][] = [
      ["2^3^2", "(2 ^ (3 ^ 2))"],
      ["-x^2", "(-(x ^ 2))"],
      ["x ^ -1.5", "(x ^ (-1.5))"],
      ["2 ** -x ** 2", "(2 ^ (-(x ^ 2)))"],
      ["- -x", "(-(-x))"],
      ["a - b - c", "((a - b) - c)"],
      ["a / b * c @ d", "(((a / b) * c) @ d)"],
      ["a + b * c", "(a + (b * c))"],
      ["-a * b", "((-a) * b)"],
      ["a * -b", "(a * (-b))"],
      ["a - -b", "(a - (-b))"],
      ["a + b < c * d", "((a + b) < (c * d))"],
      ["a == (b < c)", "(a == (b < c))"],
      ["f(x)[0]^2", "(f(x)[0] ^ 2)"],
      ["-x[0][1:]", "(-x[0][1:])"],
      ["(a + b) * c", "((a + b) * c)"],
      ["(a +\n b) * c", "((a + b) * c)"],
      ["[a,\n b][0]", "[a, b][0]"],
      ["sum(x, axis = 1, keepdims = true)", "sum(x, axis=1, keepdims=true)"],
      ["f(a == b, c = d <= e)", "f((a == b), c=(d <= e))"],
      ["x[..., ::-1, 1:2:3, :]", "x[..., ::(-1), 1:2:3, :]"],
    ];
    for (const [src, want] of cases) expect(exprOf(src), src).toBe(want);
  });

  it("accepts and rejects exactly what the parser does (edge cases)", () => {
    const cases: [string, boolean][] = [
      ["", true],
      ["\n\n;;\n", true],
      ["# only a comment", true],
      ["x = 1", true],
      ["x = 1;", true],
      ["x = 1; y = 2", true],
      ["x = 1 y = 2", false],
      ["x", false],
      ["x = ", false],
      ["= 1", false],
      ["with = 1", false],
      ["true = 1", false],
      ["x = true(1)", false],
      ["dim", false],
      ["dim n,", false],
      ["dim n, m", true],
      ["input x: [n, 2]", true],
      ["input x: []", true],
      ["input x: 3", false],
      ["input x:", false],
      ["param w: [2, 3,] = zeros", true],
      ["param w = 1", true],
      ["param w:", false],
      ["fn f() = 1", true],
      ["fn f(a,) = a", true],
      ["fn f(,) = 1", false],
      ["fn f(a b) = 1", false],
      ["fn f = 1", false],
      ["fn f(a)", false],
      ["output", false],
      ["output a,", false],
      ["output a, b", true],
      ["output f(a)", false],
      ["minimize", false],
      ["minimize l with", false],
      ["minimize l with sgd(lr = 1)", true],
      ["minimize l with sgd", true],
      ["x = a < b < c", false],
      ["x = a < b == c", false],
      ["x = (a < b) < c", true],
      ["x = f(x)(y)", false],
      ["x = (f)(x)", false],
      ["x = y[0](1)", false],
      ["x = f(x)[0][1]", true],
      ["x = f()", true],
      ["x = f(,)", false],
      ["x = f(a,,)", false],
      ["x = f(a,)", true],
      ["x = f(a = 1,)", true],
      ["x = f(a = 1, b)", true], // positional after keyword: E0006 after parsing
      ["x = f(a, b = 1, c = 2)", true],
      ["x = f(a = b = 1)", false],
      ["x = f(1 = 2)", false],
      ["x = y[]", false],
      ["x = y[,]", false],
      ["x = y[0,]", true],
      ["x = y[..., ...]", false],
      ["x = y[..., 0, ...]", false],
      ["x = y[...]", true],
      ["x = y[0, ...]", true],
      ["x = y[1:2:3:4]", false],
      ["x = y[::]", true],
      ["x = y[:, :2, 1:, ::3, 1:2:, :2:3]", true],
      ["x = []", true],
      ["x = [,]", false],
      ["x = [1, 2,]", true],
      ["x = [[1, 2], [3, 4]]", true],
      ["x = (1\n+ 2)", true],
      ["x = (1; 2)", false],
      ["x = [1\n,\n2]", true],
      ["x = 1\n+ 2", false],
      ["x = 2 ** -3", true],
      ["x = 2 * * 3", false],
      ["x = 2 ^", false],
      ["x = -", false],
      ["x = ^2", false],
      ["x = 1. + .5", true],
      ["x = ()", false],
      ["x = (1, 2)", false],
      ["x = a b", false],
      ["x = f(a)\n(b)", false],
      ["x = a\ny = b", true],
    ];
    for (const [src, ok] of cases) {
      const want = ok ? "accept" : "reject";
      expect(parserVerdict(src), `parser on ${JSON.stringify(src)}`).toBe(want);
      expect(grammarVerdict(src), `grammar on ${JSON.stringify(src)}`).toBe(want);
    }
  });

  it("accepts and rejects exactly what the parser does (mutated examples)", () => {
    const corpora = allPrograms.map((ex) =>
      tokenize({ file: "x", text: ex.text }, []).filter((t) => t.kind !== "eof").map((t) => (t.kind === "newline" ? "\n" : t.text)));
    const alphabet = [
      ...keywords, ...punctuation, "\n", ";", "x", "f", "sum", "axis", "1", "2.5", ".5", "1e-3",
    ];
    const operators = ["+", "-", "*", "/", "@", "^", "**", "<", "<=", ">", ">=", "==", "!="];
    const op = fc.record({
      kind: fc.constantFrom("delete", "insert", "replace", "swap", "duplicate", "operator"),
      at: fc.nat(),
      token: fc.constantFrom(...alphabet),
      operator: fc.constantFrom(...operators),
    });
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(fc.nat({ max: corpora.length - 1 }), fc.array(op, { minLength: 1, maxLength: 3 }), (which, ops) => {
        const toks = [...corpora[which]!];
        for (const o of ops) {
          if (toks.length === 0) break;
          const i = o.at % toks.length;
          if (o.kind === "delete") toks.splice(i, 1);
          else if (o.kind === "insert") toks.splice(i, 0, o.token);
          else if (o.kind === "replace") toks[i] = o.token;
          else if (o.kind === "duplicate") toks.splice(i, 0, toks[i]!);
          else if (o.kind === "operator") {
            // Replace the first operator at or after i by another (often still valid).
            const j = toks.findIndex((t, k) => k >= i && operators.includes(t));
            if (j >= 0) toks[j] = o.operator;
          }
          else if (i + 1 < toks.length) [toks[i], toks[i + 1]] = [toks[i + 1]!, toks[i]!];
        }
        const text = toks.join(" ");
        const p = parserVerdict(text);
        if (p === "unknown" || p === "lexical-error") return;
        if (p === "accept") accepted++;
        else rejected++;
        expect(grammarVerdict(text), text).toBe(p);
      }),
      { numRuns: 3000, seed: propertySeed(20240527) },
    );
    expect(accepted).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(100);
  });
});

// =======================================================================================
// (b) The TextMate grammar

type VsTextmate = typeof import("vscode-textmate");
type VsOniguruma = typeof import("vscode-oniguruma");

const require = createRequire(import.meta.url);
const vsctm = require("vscode-textmate") as VsTextmate;
const oniguruma = require("vscode-oniguruma") as VsOniguruma;

interface ScopedToken {
  line: number;
  start: number;
  end: number;
  text: string;
  scopes: string[];
}

const builtinNames = (
  "exp log log1p expm1 sqrt abs sin cos tan asin acos atan tanh sinh cosh sigmoid relu softplus " +
  "square sign floor pow maximum minimum where clip leaky_relu elu gelu sum mean max min prod " +
  "logsumexp softmax log_softmax transpose reshape broadcast_to concat one_hot conv2d maxpool2d " +
  "avgpool2d grad mse cross_entropy sgd momentum adam zeros ones constant uniform normal " +
  "glorot_uniform he_normal erf round ceil trunc mod log_sigmoid silu rsqrt var std norm cumsum argmax argmin " +
  "layer_norm rms_norm stack squeeze expand_dims flip pad tile repeat stop_gradient " +
  "conv1d conv_transpose1d conv_transpose2d conv1d_weight_grad conv2d_weight_grad maxpool2d_grad maxpool2d_select avgpool2d_grad " +
  "take embedding scatter_add arange full eye iota tensor tril triu"
).split(" ");

describe("grammar/gradc.tmLanguage.json", () => {
  let grammar: import("vscode-textmate").IGrammar;
  const raw = JSON.parse(readFileSync(tmPath, "utf8")) as { scopeName: string; fileTypes: string[] };

  beforeAll(async () => {
    const wasm = readFileSync(join(root, "node_modules", "vscode-oniguruma", "release", "onig.wasm"));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
    const registry = new vsctm.Registry({
      onigLib: Promise.resolve({
        createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
        createOnigString: (s: string) => new oniguruma.OnigString(s),
      }),
      loadGrammar: async (scopeName: string) =>
        scopeName === "source.gradc" ? vsctm.parseRawGrammar(readFileSync(tmPath, "utf8"), tmPath) : null,
    });
    const g = await registry.loadGrammar("source.gradc");
    if (!g) throw new Error("could not load source.gradc");
    grammar = g;
  });

  function tokenizeText(text: string): ScopedToken[] {
    const out: ScopedToken[] = [];
    let state = vsctm.INITIAL;
    text.split(/\r?\n/).forEach((lineText, line) => {
      const r = grammar.tokenizeLine(lineText, state, 2000);
      expect(r.stoppedEarly, `line ${line + 1} did not finish tokenizing: ${lineText}`).toBe(false);
      let at = 0;
      for (const t of r.tokens) {
        expect(t.startIndex).toBe(at);
        at = t.endIndex;
        out.push({ line, start: t.startIndex, end: t.endIndex, text: lineText.slice(t.startIndex, t.endIndex), scopes: t.scopes });
      }
      expect(at).toBeGreaterThanOrEqual(lineText.length);
      state = r.ruleStack;
    });
    return out;
  }

  const hasScope = (scopes: string[], prefix: string) => scopes.some((s) => s === prefix || s.startsWith(`${prefix}.`));

  /** The scopes of every token covering the `nth` occurrence of `needle` in `text`
   *  (an occurrence that stands alone as a word when it is one). */
  function scopesOf(text: string, toks: ScopedToken[], needle: string, nth = 0): string[][] {
    const lines = text.split(/\r?\n/);
    const word = /^\w+$/.test(needle);
    let seen = 0;
    for (let line = 0; line < lines.length; line++) {
      const l = lines[line]!;
      for (let col = l.indexOf(needle); col >= 0; col = l.indexOf(needle, col + 1)) {
        if (word && (/\w/.test(l[col - 1] ?? "") || /\w/.test(l[col + needle.length] ?? ""))) continue;
        if (seen++ < nth) continue;
        const covering = toks.filter((t) => t.line === line && t.end > col && t.start < col + needle.length);
        return covering.map((t) => t.scopes);
      }
    }
    throw new Error(`${JSON.stringify(needle)} (occurrence ${nth}) not found`);
  }

  function expectScope(text: string, toks: ScopedToken[], needle: string, prefix: string, nth = 0): void {
    const scopes = scopesOf(text, toks, needle, nth);
    expect(scopes.length).toBeGreaterThan(0);
    for (const s of scopes) expect(hasScope(s, prefix), `${needle} has scopes ${s.join(" ")}, wanted ${prefix}`).toBe(true);
  }

  function expectNoScope(text: string, toks: ScopedToken[], needle: string, prefix: string, nth = 0): void {
    for (const s of scopesOf(text, toks, needle, nth)) expect(hasScope(s, prefix), `${needle} has scopes ${s.join(" ")}`).toBe(false);
  }

  it("declares the language", () => {
    expect(raw.scopeName).toBe("source.gradc");
    expect(raw.fileTypes).toEqual(["grad"]);
  });

  for (const ex of allPrograms) {
    it(`tokenizes without errors: ${ex.title}`, () => {
      const toks = tokenizeText(ex.text);
      for (const t of toks) {
        expect(t.scopes[0]).toBe("source.gradc");
        expect(t.scopes.some((s) => s.startsWith("invalid")), `${JSON.stringify(t.text)} on line ${t.line + 1} is marked invalid`).toBe(false);
      }
    });
  }

  it("scopes the seed program", () => {
    const xor = exampleFiles.find((f) => f.title.replace(/\\/g, "/") === "examples/xor/xor.grad")!.text;
    const t = tokenizeText(xor);
    expectScope(xor, t, "# XOR", "comment.line.number-sign");
    expectScope(xor, t, "inputs -> 3 sigmoid", "comment");
    expectScope(xor, t, "input", "keyword", 0);
    expectScope(xor, t, "param", "keyword", 0);
    expectScope(xor, t, "output", "comment", 0); // in "# XOR: ... 1 sigmoid output"
    expectScope(xor, t, "output", "keyword", 1);
    expectScope(xor, t, "minimize", "keyword");
    expectScope(xor, t, "with", "keyword");
    expectScope(xor, t, "0.1", "constant.numeric");
    expectScope(xor, t, "1.0", "constant.numeric");
    expectScope(xor, t, "4", "constant.numeric");
    expectScope(xor, t, "uniform", "support.function.initializer");
    expectScope(xor, t, "sigmoid", "comment", 1); // "3 sigmoid units -> 1 sigmoid output"
    expectScope(xor, t, "sigmoid", "support.function", 2);
    expectScope(xor, t, "sum", "support.function");
    expectScope(xor, t, "sgd", "support.function.optimizer");
    expectScope(xor, t, "lr", "variable.parameter.keyword-argument");
    expectScope(xor, t, "@", "keyword.operator");
    expectScope(xor, t, "^", "keyword.operator");
    expectScope(xor, t, "+", "keyword.operator");
    expectScope(xor, t, "-", "comment", 1); // "->" in the comment
    expectScope(xor, t, "-", "keyword.operator", 2);
    expectScope(xor, t, "m1", "variable.other.declaration");
    expectScope(xor, t, "y_out", "variable.other.definition");
  });

  it("scopes the grammar's examples", () => {
    const text = examples.map((e) => e.text).join("\n");
    const t = tokenizeText(text);
    expectScope(text, t, "true", "constant.language");
    expectScope(text, t, "false", "constant.language");
    expectScope(text, t, "dim", "keyword");
    expectScope(text, t, "fn", "keyword");
    expectScope(text, t, "dense", "entity.name.function");
    expectScope(text, t, "affine", "entity.name.function");
    expectScope(text, t, "smooth_relu", "entity.name.function");
    expectScope(text, t, "dense", "entity.name.function", 1); // a call of a user function
    for (const n of ["12", "0.5", ".5", "1e-3", "2.5E+4", "1.", "7E2", "0.25e+1", "0.7978845608"]) {
      expectScope(text, t, n, "constant.numeric");
    }
    expectScope(text, t, "...", "constant.other.ellipsis");
    expectScope(text, t, "**", "keyword.operator");
    for (const op of ["<=", ">=", "==", "!="]) expectScope(text, t, op, "keyword.operator.comparison");
    const lg = "r = (a < b) > c";
    const tl = tokenizeText(lg);
    for (const op of ["<", ">"]) expectScope(lg, tl, op, "keyword.operator.comparison");
    for (const kw of ["axis", "keepdims", "stride", "padding", "size", "alpha", "beta1", "eps", "beta"]) {
      expectScope(text, t, kw, "variable.parameter.keyword-argument");
    }
    // Function parameters, also over several lines.
    const def = "fn affine(x, a,\n  b,) = a * x + b";
    const td = tokenizeText(def);
    for (const p of ["x", "a", "b"]) expectScope(def, td, p, "variable.parameter.function");
    expectScope(def, td, "b", "variable.other", 1);
    expectScope(def, td, "affine", "entity.name.function");
    // A keyword argument on a line of its own, inside a call that spans lines.
    const multi = "minimize total with sgd(\n  lr = 2.5E+4 * 1e-6,\n)";
    const tm = tokenizeText(multi);
    expectScope(multi, tm, "lr", "variable.parameter.keyword-argument");
    expectScope(multi, tm, "2.5E+4", "constant.numeric");
    // `x >= 0` inside a call is a comparison, not a keyword argument.
    const cmp = "eq = where(x >= 0, x, -x) == abs(x)";
    const tc = tokenizeText(cmp);
    expectNoScope(cmp, tc, "x", "variable.parameter", 0);
    expectScope(cmp, tc, ">=", "keyword.operator.comparison");
    expectScope(cmp, tc, "==", "keyword.operator.comparison");
  });

  it("scopes every built-in function as support.function", () => {
    for (const name of builtinNames) {
      const called = `y = ${name}(x, 1)`;
      expectScope(called, tokenizeText(called), name, "support.function");
      const bare = `param w: [2] = ${name}`;
      expectScope(bare, tokenizeText(bare), name, "support.function");
    }
    const user = "y = my_fn(x) + exp2(x) + sums";
    const tu = tokenizeText(user);
    expectScope(user, tu, "my_fn", "entity.name.function");
    expectNoScope(user, tu, "exp2", "support");
    expectNoScope(user, tu, "sums", "support");
  });

  it("marks malformed text as invalid", () => {
    for (const [src, bad] of [["x = 3x", "3x"], ["x = 1e", "1e"], ["x = a ! b", "!"], ["x = a . b", "."], ["x = y)", ")"]] as const) {
      expectScope(src, tokenizeText(src), bad, "invalid.illegal");
    }
  });
});
