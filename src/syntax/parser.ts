// The parser: tokens to AST, by recursive descent with precedence climbing over the
// table in tokens.ts. Rule names in comments are those of grammar/gradc.ebnf. On an error
// the parser records a diagnostic, skips to the next statement boundary and goes on, so
// one run reports every independent syntax error. A statement cut short inside a bracket
// the lexer found unclosed is reported at that bracket, with a note where parsing stopped.

import { diagnostic, GradcError, joinSpans, span, withNotes, type Diagnostic, type Note, type Source, type Span } from "../diagnostics";
import type { Expr, Ident, IndexItem, KeywordArg, LocalDef, Program, Stmt } from "./ast";
import { describeToken, tokenize } from "./lexer";
import {
  binaryPrecedence, comparisonOps, isBinaryOp, rightAssociative, statementKeywords, unaryPrecedence, type Token,
} from "./tokens";

/** Deeper nesting than this is reported, never left to overflow the JS stack. */
export const maxNesting = 500;

class Recover extends Error {}

export function parse(source: Source): Program {
  const errors: Diagnostic[] = [];
  const tokens = tokenize(source, errors);
  const lexical = errors.length;
  const parser = new Parser(source, tokens, errors);
  const program = parser.program();
  if (errors.length > 0) throw new GradcError(inSourceOrder(withoutCascades(source, errors, lexical)));
  return program;
}

/** A bad character leaves a gap the parser then trips over (`y = x $ 2` reads as
 *  `y = x 2`): a syntax error later on the line of a lexical one is not reported. */
function withoutCascades(source: Source, errors: Diagnostic[], lexical: number): Diagnostic[] {
  if (lexical === 0) return errors;
  const lexicalStarts = errors.slice(0, lexical).map((d) => d.span!.start);
  return errors.filter((d, k) => {
    if (k < lexical || !d.span) return true;
    const lineStart = source.text.lastIndexOf("\n", d.span.start - 1) + 1;
    return !lexicalStarts.some((s) => s >= lineStart && s <= d.span!.start);
  });
}

/** Parse a single expression (used by `derivative`). */
export function parseExpression(source: Source): Expr {
  const errors: Diagnostic[] = [];
  const tokens = tokenize(source, errors);
  const lexical = errors.length;
  const parser = new Parser(source, tokens, errors);
  const expr = parser.standaloneExpression();
  if (errors.length > 0 || !expr) throw new GradcError(inSourceOrder(withoutCascades(source, errors, lexical)));
  return expr;
}

/** Lexer and parser errors, merged by position (the first is the headline). */
function inSourceOrder(errors: Diagnostic[]): Diagnostic[] {
  return [...errors].sort((a, b) => (a.span?.start ?? 0) - (b.span?.start ?? 0));
}

class Parser {
  private pos = 0;
  private depth = 0;
  /** The `(` and `[` tokens the parser is inside, innermost last. */
  private readonly open: Token[] = [];

  constructor(
    private readonly source: Source,
    private readonly tokens: Token[],
    private readonly errors: Diagnostic[],
  ) {}

  // program = { [ statement ] newline } eof
  program(): Program {
    const statements: Stmt[] = [];
    for (;;) {
      while (this.peek().kind === "newline") this.pos++;
      if (this.peek().kind === "eof") break;
      try {
        statements.push(this.statement());
        this.endOfStatement();
      } catch (e) {
        if (!(e instanceof Recover)) throw e;
        this.skipStatement();
      }
    }
    return { statements };
  }

  standaloneExpression(): Expr | undefined {
    try {
      while (this.peek().kind === "newline") this.pos++;
      const e = this.expr();
      while (this.peek().kind === "newline") this.pos++;
      if (this.peek().kind !== "eof") this.error(describeExpected("end of the expression", this.peek()));
      return e;
    } catch (e) {
      if (!(e instanceof Recover)) throw e;
      return undefined;
    }
  }

  // statement = dim | input | param | fn | output | minimize | definition
  private statement(): Stmt {
    const t = this.peek();
    if (t.kind === "keyword") {
      switch (t.text) {
        case "dim": return this.dimStatement();
        case "input": return this.inputStatement();
        case "param": return this.paramStatement();
        case "fn": return this.fnStatement();
        case "output": return this.outputStatement();
        case "minimize": return this.minimizeStatement();
      }
    }
    // `frozen param`: a contextual word, so `frozen` stays usable as a name elsewhere.
    const after = this.tokens[this.pos + 1];
    if (t.kind === "ident" && t.text === "frozen" && after?.kind === "keyword" && after.text === "param") {
      const start = this.next().start;
      const stmt = this.paramStatement();
      return { ...stmt, frozen: true, span: this.spanFrom(start) } as Stmt;
    }
    if (t.kind === "ident") {
      const name = this.ident("a name");
      this.expectPunct("=", "`=` after the name being defined");
      const value = this.expr();
      return { kind: "def", name, value, span: joinSpans(name.span, value.span) };
    }
    return this.error(describeExpected("a statement", t));
  }

  // dim = "dim" ident { "," ident }
  private dimStatement(): Stmt {
    const kw = this.next();
    const names = [this.ident("a dim name")];
    while (this.eatPunct(",")) names.push(this.ident("a dim name"));
    return { kind: "dim", names, span: this.spanFrom(kw.start) };
  }

  // input = "input" ident [ ":" shape ]
  private inputStatement(): Stmt {
    const kw = this.next();
    const name = this.ident("an input name");
    if (this.atPunct("[")) this.error(describeExpected("`:` before the shape", this.peek()));
    const shape = this.eatPunct(":") ? this.shape() : undefined;
    return { kind: "input", name, shape, span: this.spanFrom(kw.start) };
  }

  // param = [ "frozen" ] "param" ident [ ":" shape ] [ "=" expr ]
  private paramStatement(): Stmt {
    const kw = this.next();
    const name = this.ident("a param name");
    if (this.atPunct("[")) this.error(describeExpected("`:` before the shape", this.peek()));
    const shape = this.eatPunct(":") ? this.shape() : undefined;
    const init = this.eatPunct("=") ? this.expr() : undefined;
    return { kind: "param", name, shape, init, span: this.spanFrom(kw.start) };
  }

  // shape = "[" [ expr { "," expr } [ "," ] ] "]"
  private shape(): Expr[] {
    const list = this.listLiteral();
    return list.kind === "list" ? list.items : [];
  }

  // fn = "fn" ident "(" [ param { "," param } ] ")" ( "=" expr | block ) ; param = ident [ "=" expr ]
  private fnStatement(): Stmt {
    const kw = this.next();
    const name = this.ident("a function name");
    this.open.push(this.expectPunct("(", "`(` to open the parameter list"));
    const params: Ident[] = [];
    const defaults: (Expr | undefined)[] = [];
    if (!this.atPunct(")")) {
      do {
        if (this.atPunct(")")) break;
        const param = this.ident("a parameter name");
        params.push(param);
        // A default makes the parameter optional; the ones after it must be optional too.
        if (this.eatPunct("=")) defaults.push(this.expr());
        else if (defaults.some((d) => d !== undefined)) this.error(diagnostic("E0019", param.span, param.name));
        else defaults.push(undefined);
      } while (this.eatPunct(","));
    }
    this.expectPunct(")", "`,` or `)` in the parameter list");
    this.open.pop();
    if (this.atPunct("{")) {
      const { locals, body } = this.block(params);
      return { kind: "fn", name, params, ...(defaults.some((d) => d) ? { defaults } : {}), locals, body, span: this.spanFrom(kw.start) };
    }
    this.expectPunct("=", "`=` or `{` before the function body");
    const body = this.expr();
    return { kind: "fn", name, params, ...(defaults.some((d) => d) ? { defaults } : {}), body, span: this.spanFrom(kw.start) };
  }

  // block = "{" { newline } { definition newline { newline } } expr { newline } "}"
  // A mistake inside skips to the block's `}`, so its other lines are not read as statements.
  private block(params: readonly Ident[]): { locals: LocalDef[]; body: Expr } {
    const open = this.next();
    try {
      return this.blockItems(open, params);
    } catch (e) {
      if (!(e instanceof Recover)) throw e;
      let depth = 0;
      for (let t = this.peek(); t.kind !== "eof" && !this.startsStatement(t); t = this.peek()) {
        this.pos++;
        if (t.kind === "punct" && t.text === "{") depth++;
        if (t.kind === "punct" && t.text === "}" && depth-- === 0) break;
      }
      throw e;
    }
  }

  private blockItems(open: Token, params: readonly Ident[]): { locals: LocalDef[]; body: Expr } {
    const locals: LocalDef[] = [];
    const seen = new Map<string, Note>(params.map((p) => [p.name, { message: `\`${p.name}\` is a parameter of this function`, span: p.span }]));
    const unclosed = (): never => {
      const t = this.peek();
      return this.error({
        ...diagnostic("E0010", span(this.source, open.start, open.end), "{"),
        notes: [{ message: `the body was still open at ${describeToken(t)}`, span: span(this.source, t.start, t.end) }],
        hint: "close it with `}`",
      });
    };
    for (;;) {
      while (this.peek().kind === "newline") this.pos++;
      const t = this.peek();
      if (t.kind === "eof" || this.startsStatement(t)) unclosed();
      if (this.atPunct("}")) {
        const last = locals[locals.length - 1];
        if (last) return this.error(diagnostic("E0020", last.span, last.name.name));
        return this.error(describeExpected("the function's value", t));
      }
      const after = this.tokens[this.pos + 1];
      if (t.kind === "ident" && after?.kind === "punct" && after.text === "=") {
        const name = this.ident("a name");
        this.next();
        const first = seen.get(name.name);
        if (first) this.error(withNotes(diagnostic("E0021", name.span, name.name), first));
        seen.set(name.name, { message: `the first \`${name.name}\``, span: name.span });
        const value = this.expr();
        locals.push({ name, value, span: joinSpans(name.span, value.span) });
        if (!this.atPunct("}") && this.peek().kind !== "newline") this.error(describeExpected("end of line", this.peek()));
        continue;
      }
      const body = this.expr();
      while (this.peek().kind === "newline") this.pos++;
      const end = this.peek();
      if (end.kind === "eof" || this.startsStatement(end)) unclosed();
      if (!this.atPunct("}")) this.error(describeExpected("`}`: the value is the body's last line", end));
      this.next();
      return { locals, body };
    }
  }

  /** A statement keyword at the start of a line: a block still open there was left open. */
  private startsStatement(t: Token): boolean {
    return t.lineStart === true && t.kind === "keyword" && statementKeywords.has(t.text);
  }

  // output = "output" ident { "," ident }
  private outputStatement(): Stmt {
    const kw = this.next();
    const names = [this.ident("an output name")];
    while (this.eatPunct(",")) names.push(this.ident("an output name"));
    return { kind: "output", names, span: this.spanFrom(kw.start) };
  }

  // minimize = "minimize" expr [ "with" call ]
  private minimizeStatement(): Stmt {
    const kw = this.next();
    const objective = this.expr();
    let optimizer: Expr | undefined;
    if (this.peek().kind === "keyword" && this.peek().text === "with") {
      this.next();
      optimizer = this.expr();
    }
    return { kind: "minimize", objective, optimizer, span: this.spanFrom(kw.start) };
  }

  // expr = comparison ; precedence climbing over binaryPrecedence
  expr(): Expr {
    return this.binary(0);
  }

  private binary(minPrec: number): Expr {
    this.enter();
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.kind !== "punct" || !isBinaryOp(t.text)) break;
      const prec = binaryPrecedence[t.text];
      if (prec < minPrec) break;
      this.next();
      // `a + b + c ...` is a flat chain, not nesting: the loop builds it left-deep, and
      // every later pass walks such chains iteratively.
      const op = t.text;
      const right = rightAssociative.has(op) ? this.binary(prec) : this.binary(prec + 1);
      left = { kind: "binary", op, left, right, opSpan: span(this.source, t.start, t.end), span: joinSpans(left.span, right.span) };
      if (comparisonOps.has(op)) {
        const after = this.peek();
        if (after.kind === "punct" && comparisonOps.has(after.text)) {
          this.error(diagnostic("E0008", span(this.source, after.start, after.end)));
        }
      }
    }
    this.leave();
    return left;
  }

  // unary = "-" unary | power
  private unary(): Expr {
    const t = this.peek();
    if (t.kind === "punct" && t.text === "-") {
      this.next();
      this.enter();
      const operand = this.unary();
      this.leave();
      return { kind: "unary", op: "-", operand, span: joinSpans(span(this.source, t.start, t.end), operand.span) };
    }
    return this.power();
  }

  // power = postfix [ "^" unary-or-power ]   (right-associative; `x ^ -1.5` allowed)
  private power(): Expr {
    const base = this.postfix();
    const t = this.peek();
    if (t.kind === "punct" && t.text === "^") {
      this.next();
      this.enter();
      const exponent = this.unary();
      this.leave();
      return { kind: "binary", op: "^", left: base, right: exponent, opSpan: span(this.source, t.start, t.end), span: joinSpans(base.span, exponent.span) };
    }
    return base;
  }

  // postfix = primary { "(" arguments ")" | "[" index-items "]" }
  private postfix(): Expr {
    let e = this.primary();
    let chain = 0;
    for (;;) {
      const t = this.peek();
      if (t.kind === "punct" && t.text === "(") {
        if (e.kind !== "name") this.error(describeExpected("an operator or end of line (only names can be called)", t));
        e = this.callArguments({ name: (e as { name: string }).name, span: e.span });
      } else if (t.kind === "punct" && t.text === "[") {
        // `x[0][0]...` nests like a binary chain.
        this.enter();
        chain++;
        e = this.indexItems(e);
      } else {
        this.depth -= chain;
        return e;
      }
    }
  }

  // arguments = [ argument { "," argument } [ "," ] ] ; argument = [ ident "=" ] expr
  private callArguments(callee: Ident): Expr {
    this.open.push(this.next());
    this.enter();
    const args: Expr[] = [];
    const kwargs: KeywordArg[] = [];
    let misplaced: Expr | undefined;
    while (!this.atPunct(")")) {
      const t = this.peek();
      const t2 = this.tokens[this.pos + 1]!;
      if (t.kind === "ident" && t2.kind === "punct" && t2.text === "=") {
        const name = this.ident("an argument name");
        const equals = this.next();
        const value = this.expr();
        if (kwargs.some((k) => k.name.name === name.name)) this.error(diagnostic("E0007", name.span, name.name));
        kwargs.push({ name, value, equalsSpan: span(this.source, equals.start, equals.end) });
      } else {
        const value = this.expr();
        if (kwargs.length > 0) misplaced ??= value;
        args.push(value);
      }
      if (!this.eatPunct(",")) break;
    }
    const close = this.expectPunct(")", "`,` or `)` in the argument list");
    this.open.pop();
    this.leave();
    const call: Expr = { kind: "call", callee, args, kwargs, span: span(this.source, callee.span.start, close.end) };
    if (misplaced) call.misplaced = misplaced;
    return call;
  }

  // index = "[" item { "," item } "]" ; item = "..." | [expr] ":" [expr] [ ":" [expr] ] | expr
  private indexItems(target: Expr): Expr {
    this.open.push(this.next());
    this.enter();
    const items: IndexItem[] = [];
    do {
      if (this.atPunct("]")) break;
      items.push(this.indexItem());
    } while (this.eatPunct(","));
    const close = this.expectPunct("]", "`,` or `]` in the index");
    this.open.pop();
    this.leave();
    if (items.length === 0) this.error(describeExpected("an index", close));
    if (items.filter((i) => i.kind === "ellipsis").length > 1) {
      this.error(diagnostic("E0009", items.filter((i) => i.kind === "ellipsis")[1]!.span));
    }
    return { kind: "index", target, items, span: span(this.source, target.span.start, close.end) };
  }

  private indexItem(): IndexItem {
    const t = this.peek();
    if (t.kind === "punct" && t.text === "...") {
      this.next();
      return { kind: "ellipsis", span: span(this.source, t.start, t.end) };
    }
    const startPos = t.start;
    const startExpr = this.atPunct(":") ? undefined : this.expr();
    if (!this.atPunct(":")) return { kind: "at", index: startExpr!, span: startExpr!.span };
    this.next();
    const boundary = () => this.atPunct(":") || this.atPunct(",") || this.atPunct("]");
    const stop = boundary() ? undefined : this.expr();
    let step: Expr | undefined;
    if (this.eatPunct(":")) step = boundary() ? undefined : this.expr();
    return { kind: "slice", start: startExpr, stop, step, span: this.spanFrom(startPos) };
  }

  // primary = number | string | ident | "true" | "false" | "(" expr ")" | list
  private primary(): Expr {
    const t = this.peek();
    if (t.kind === "string") {
      this.next();
      return { kind: "string", value: t.text, span: span(this.source, t.start, t.end) };
    }
    if (t.kind === "number") {
      this.next();
      return { kind: "number", value: t.value!, text: t.text, span: span(this.source, t.start, t.end) };
    }
    if (t.kind === "ident") {
      this.next();
      return { kind: "name", name: t.text, span: span(this.source, t.start, t.end) };
    }
    if (t.kind === "keyword" && (t.text === "true" || t.text === "false")) {
      this.next();
      return { kind: "bool", value: t.text === "true", span: span(this.source, t.start, t.end) };
    }
    if (t.kind === "punct" && t.text === "(") {
      this.open.push(this.next());
      this.enter();
      const inner = this.expr();
      const close = this.expectPunct(")", "`)` to close the parenthesis");
      this.open.pop();
      this.leave();
      return { kind: "paren", inner, span: span(this.source, t.start, close.end) };
    }
    if (t.kind === "punct" && t.text === "[") return this.listLiteral();
    if (t.kind === "keyword") return this.error(diagnostic("E0005", span(this.source, t.start, t.end), t.text));
    return this.error(describeExpected("an expression", t));
  }

  // list = "[" [ expr { "," expr } [ "," ] ] "]"
  private listLiteral(): Expr {
    const open = this.expectPunct("[", "`[` to open a list");
    this.open.push(open);
    this.enter();
    const items: Expr[] = [];
    while (!this.atPunct("]")) {
      items.push(this.expr());
      if (!this.eatPunct(",")) break;
    }
    const close = this.expectPunct("]", "`,` or `]` in the list");
    this.open.pop();
    this.leave();
    return { kind: "list", items, span: span(this.source, open.start, close.end) };
  }

  // ---- token helpers ----

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private next(): Token {
    const t = this.tokens[this.pos]!;
    if (t.kind !== "eof") this.pos++;
    return t;
  }

  private atPunct(text: string): boolean {
    const t = this.peek();
    return t.kind === "punct" && t.text === text;
  }

  private eatPunct(text: string): boolean {
    if (!this.atPunct(text)) return false;
    this.pos++;
    return true;
  }

  private expectPunct(text: string, expected: string): Token {
    if (this.atPunct(text)) return this.next();
    return this.error(describeExpected(expected, this.peek()));
  }

  private ident(expected: string): Ident {
    const t = this.peek();
    if (t.kind === "ident") {
      this.next();
      return { name: t.text, span: span(this.source, t.start, t.end) };
    }
    if (t.kind === "keyword") return this.error(diagnostic("E0005", span(this.source, t.start, t.end), t.text));
    return this.error(describeExpected(expected, t));
  }

  private endOfStatement(): void {
    const t = this.peek();
    if (t.kind === "newline") { this.pos++; return; }
    if (t.kind === "eof") return;
    this.error(describeExpected("end of line", t));
  }

  private skipStatement(): void {
    this.depth = 0;
    this.open.length = 0;
    // After an error inside brackets, newlines were swallowed by the lexer; stop at the
    // next line that starts a statement keyword too.
    while (this.peek().kind !== "newline" && this.peek().kind !== "eof") this.pos++;
  }

  private spanFrom(start: number): Span {
    const prev = this.tokens[Math.max(0, this.pos - 1)]!;
    return span(this.source, start, Math.max(start, prev.end));
  }

  private enter(): void {
    if (++this.depth > maxNesting) {
      const t = this.peek();
      this.error({ ...diagnostic("E0004", span(this.source, t.start, t.end)), hint: "give parts of the expression names of their own, one definition per line" });
    }
  }

  private leave(): void {
    this.depth--;
  }

  private error(d: Diagnostic | ((source: Source) => Diagnostic)): never {
    this.errors.push(this.blameUnclosed(typeof d === "function" ? d(this.source) : d));
    throw new Recover();
  }

  /** Inside a bracket the lexer found unclosed, a statement that ends early is that
   *  bracket's fault: report the opener (rustc's "unclosed delimiter"), with a note where
   *  the parser gave up. Other errors there gain a note at the opener. */
  private blameUnclosed(d: Diagnostic): Diagnostic {
    if (d.code !== "E0002") return d;
    let opener: Token | undefined;
    for (let k = this.open.length - 1; k >= 0 && !opener; k--) if (this.open[k]!.unclosed) opener = this.open[k];
    const found = this.peek();
    const inner = this.open[this.open.length - 1];
    if (!opener) {
      if (!inner) return d;
      const at = span(this.source, inner.start, inner.end);
      // `f(x]`: the closer does not match the bracket it closes.
      if (found.kind === "punct" && (found.text === ")" || found.text === "]") && found.text !== closerOf(inner)) {
        return withNotes(d, { message: `\`${found.text}\` cannot close the \`${inner.text}\` opened here`, span: at });
      }
      // The bracket is closed further on, but a new line inside it that does not fit
      // suggests that it was meant to be closed before.
      if (found.lineStart) return withNotes(d, { message: `this line is still inside the \`${inner.text}\` opened here`, span: at });
      return d;
    }
    const at = span(this.source, opener.start, opener.end);
    const innermost = inner === opener;
    if (innermost && (found.kind === "newline" || found.kind === "eof")) {
      return {
        ...diagnostic("E0010", at, opener.text),
        notes: [{ message: d.message, span: d.span }],
        hint: `close it with \`${closerOf(opener)}\``,
      };
    }
    return withNotes(d, { message: `the \`${opener.text}\` opened here is never closed`, span: at });
  }
}

function closerOf(opener: Token): string {
  return opener.text === "(" ? ")" : "]";
}

function describeExpected(expected: string, found: Token) {
  return (source: Source): Diagnostic =>
    diagnostic("E0002", span(source, found.start, Math.max(found.end, found.start + (found.kind === "eof" ? 0 : 1))), expected, describeToken(found));
}
