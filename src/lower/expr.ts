// Lowering, expressions: names, operators with NumPy broadcasting, `@` with NumPy matmul
// semantics, indexing, calls of built-ins (builtins.ts) and inlined user functions
// (with arity checks and recursion detection).

import { diagnostic, fail, failWith, GradcError, span, withNotes, type Diagnostic, type Note, type Span } from "../diagnostics";
import { broadcastShape, dimProduct, formatShape, sameShape, type Dim, type Node } from "../ir";
import type { Builder } from "../ops";
import { preludeFile, printExpr, type BinaryOp, type Expr, type IndexItem } from "../syntax";
import { constNumber } from "./arguments";
import { builtins, type BuiltinContext } from "./builtins";
import { lowerIndex } from "./index-expr";
import { AlreadyReported, Scope } from "./scope";
import { boundSizeArgument, type DimLookup } from "./shape-expr";
import { nearest } from "./suggest";

const binaryOps: Record<Exclude<BinaryOp, "@" | "//">, string> = {
  "+": "add", "-": "sub", "*": "mul", "/": "div", "^": "pow",
  "<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne",
};

/** Lowering recurses over expressions, through inlined function bodies too: deeper than
 *  this (the parser bounds one expression; nested calls multiply it) is reported. */
export const maxLoweringDepth = 1000;

export class ExprLowerer {
  private readonly calling: string[] = [];
  private readonly inlined = new WeakMap<Expr, Map<string, Node>>();
  private depth = 0;

  /** Every top-level name the program defines, at its definition: a use before it is
   *  "not defined yet" (E0124), pointing at the definition, rather than unknown. */
  laterDefinitions: ReadonlyMap<string, Span> = new Map();

  constructor(private readonly b: Builder, private readonly globals: Scope) {}

  /** Lower `e` in `scope` to a tensor node. */
  tensor(e: Expr, scope: Scope = this.globals): Node {
    if (this.depth >= maxLoweringDepth) fail("E0004", e.span);
    this.depth++;
    try {
      return this.lowerExpr(e, scope);
    } finally {
      this.depth--;
    }
  }

  private lowerExpr(e: Expr, scope: Scope): Node {
    const b = this.b.at(e.span);
    switch (e.kind) {
      case "number":
        if (!Number.isFinite(e.value)) fail("E0003", e.span, e.text);
        return b.constant(e.value);
      case "bool":
        return fail("E0122", e.span);
      case "list":
        return fail("E0123", e.span);
      case "string":
        return fail("E0127", e.span);
      case "paren":
        return this.tensor(e.inner, scope);
      case "name":
        return this.name(e.name, e.span, scope);
      case "unary":
        return b.neg(this.tensor(e.operand, scope));
      case "binary": {
        // `a + b + c + ...` is a left-deep tree as long as the chain: a loop over its left
        // spine, not one recursion per operator (20,000-term sums are flat, not nested).
        const spine: Extract<Expr, { kind: "binary" }>[] = [];
        let leaf: Expr = e;
        for (; leaf.kind === "binary"; leaf = leaf.left) spine.push(leaf);
        let value = this.tensor(leaf, scope);
        for (let k = spine.length - 1; k >= 0; k--) value = this.binary(spine[k]!, value, this.tensor(spine[k]!.right, scope));
        return value;
      }
      case "index":
        return lowerIndex(b, this.tensor(e.target, scope), e.items as IndexItem[], this.dimValue(scope), e.span);
      case "call":
        return this.call(e, scope);
    }
  }

  private binary(e: Extract<Expr, { kind: "binary" }>, left: Node, right: Node): Node {
    // In a chain `a + b + ... + v` the left operand is the chain so far: a mistake in
    // this step is at its operator and right operand (`+ v`), not at the chain's start.
    const at = e.left.kind === "binary" && e.left.span.source === e.opSpan.source ? span(e.opSpan.source, e.opSpan.start, e.span.end) : e.span;
    const b = this.b.at(at);
    if (e.op === "@") return matmul(b, left, right, at);
    // Python's floor division: floor(a / b), elementwise (its derivative is zero).
    if (e.op === "//") return b.unary("floor", b.div(left, right));
    return b.binary(binaryOps[e.op], left, right);
  }

  private name(name: string, span: Span, scope: Scope): Node {
    const binding = scope.get(name);
    if (!binding) {
      this.notDefinedYet(name, span);
      const hint = nearest(name, scope.allNames().filter((n) => scope.get(n)?.kind !== "fn"));
      throw new GradcError([{ ...diagnostic("E0101", span, name), hint: hint ? `did you mean \`${hint}\`?` : undefined }]);
    }
    if (binding.kind === "failed") throw new AlreadyReported();
    if (binding.kind === "fn") return failWith(withNotes(diagnostic("E0109", span, name), definedHere(name, binding.span)));
    if (binding.kind === "static") return this.tensor(binding.expr, binding.scope);
    if (binding.kind === "dim") {
      // A dim in value position is its size, a scalar.
      const b = this.b.at(span);
      return typeof binding.value === "number" ? b.constant(binding.value) : b.op("size", [], { dims: [binding.value] });
    }
    return binding.node;
  }

  /** A name used before the statement that defines it. */
  private notDefinedYet(name: string, use: Span): void {
    const later = this.laterDefinitions.get(name);
    if (later) failWith(withNotes(diagnostic("E0124", use, name), { message: `\`${name}\` is defined here, after its use`, span: later }));
  }

  private dimLookup(scope: Scope): DimLookup {
    return { dim: this.dimValue(scope) };
  }

  private dimValue(scope: Scope) {
    return (name: string): Dim | undefined => {
      const bnd = scope.get(name);
      return bnd?.kind === "dim" ? bnd.value : undefined;
    };
  }

  private call(e: Extract<Expr, { kind: "call" }>, scope: Scope): Node {
    const name = e.callee.name;
    const binding = scope.get(name);
    if (binding?.kind === "failed") throw new AlreadyReported();
    if (binding?.kind === "tensor" || binding?.kind === "dim" || binding?.kind === "static") {
      failWith(withNotes(diagnostic("E0110", e.callee.span, name), definedHere(name, binding.span)));
    }
    if (binding?.kind === "fn") return this.inline(binding, e, scope);
    const builtin = Object.prototype.hasOwnProperty.call(builtins, name) ? builtins[name] : undefined;
    if (!builtin) {
      if (!binding) this.notDefinedYet(name, e.callee.span);
      const candidates = [...Object.keys(builtins), ...scope.allNames().filter((n) => scope.get(n)?.kind === "fn")];
      const hint = nearest(name, candidates);
      throw new GradcError([{ ...diagnostic("E0104", e.callee.span, name), hint: hint ? `did you mean \`${hint}\`?` : undefined }]);
    }
    checkKeywords(name, builtin.params, e, (n) => isValue(scope, n));
    // A function parameter bound to a constant stands for it: `mean(x, axis = axis)`.
    // A bound dim (or an integer expression of them) stands for its value: `one_hot(y, k)`.
    const args = bindArguments(name, builtin.params, builtin.required, e)
      .map((a) => (a && staticArg(a, scope)?.expr) ?? a)
      .map((a) => (a && boundSizeArgument(this.dimLookup(scope), a)) ?? a);
    const ctx: BuiltinContext = {
      b: this.b.at(e.span),
      span: e.span,
      tensor: (x) => this.tensor(x, scope),
      dim: this.dimValue(scope),
      lowerer: this,
      scope,
    };
    return builtin.lower(args, ctx);
  }

  /** A user function applied to nodes (scan's cell on its carry and slice placeholders):
   *  the body lowered as an inlined call's, its errors noted with `call`. */
  applyFunction(fn: Extract<import("./scope").Binding, { kind: "fn" }>, args: readonly Node[], call: Span): Node {
    return this.applyFunctionList(fn, args, call, false)[0]!;
  }

  /** `applyFunction` for a function whose value may be a list (`[next carry, y]`, the
   *  general scan's cell): one node per item. */
  applyFunctionList(fn: Extract<import("./scope").Binding, { kind: "fn" }>, args: readonly Node[], call: Span, list = true): Node[] {
    if (this.calling.includes(fn.name)) fail("E0108", call, [...this.calling.slice(this.calling.indexOf(fn.name)), fn.name].join(" -> "));
    const inner = new Scope(this.globals);
    fn.params.forEach((p, i) => inner.set(p.name, { kind: "tensor", role: "fn-param", node: args[i]!, span: p.span }));
    this.calling.push(fn.name);
    try {
      for (const d of fn.locals ?? []) {
        const node = this.tensor(d.value, inner);
        if (node.name === undefined && node.op.kind !== "source") node.name = d.name.name;
        inner.set(d.name.name, { kind: "tensor", role: "def", node, span: d.name.span });
      }
      const body = fn.body;
      return list && body.kind === "list" ? body.items.map((item) => this.tensor(item, inner)) : [this.tensor(body, inner)];
    } catch (err) {
      if (!(err instanceof GradcError)) throw err;
      throw new GradcError(err.errors.map((d) => withCallNote(d, { message: `in this scan of \`${fn.name}\``, span: call })));
    } finally {
      this.calling.pop();
    }
  }

  /** Inline a user function: parameters bound to the argument nodes, body lowered in a
   *  scope that sees the parameters, then the names defined so far. */
  private inline(fn: Extract<import("./scope").Binding, { kind: "fn" }>, e: Extract<Expr, { kind: "call" }>, scope: Scope): Node {
    const names = fn.params.map((p) => p.name);
    checkKeywords(fn.name, names, e, (n) => isValue(scope, n));
    const firstDefault = fn.defaults?.findIndex((d) => d !== undefined) ?? -1;
    if (firstDefault < 0 && e.kwargs.length === 0 && e.args.length !== fn.params.length) {
      fail("E0105", e.span, fn.name, `${fn.params.length} argument${fn.params.length === 1 ? "" : "s"}`, e.args.length);
    }
    const given = bindArguments(fn.name, names, firstDefault < 0 ? names.length : firstDefault, e);
    if (this.calling.includes(fn.name)) {
      fail("E0108", e.callee.span, [...this.calling.slice(this.calling.indexOf(fn.name)), fn.name].join(" -> "));
    }
    const inner = new Scope(this.globals);
    // Constant arguments (numbers, lists, true/false) are bound as written, so the body can
    // pass them where a built-in needs a constant; the rest are lowered to tensors. A
    // default is written with the function, so it is read in the top-level scope (and
    // within the call, so a default that calls the function itself is recursion).
    const keys = fn.params.map((p, i) => {
      const [arg, from] = given[i] ? [given[i]!, scope] : [fn.defaults![i]!, this.globals];
      const constant = staticArg(arg, from);
      if (constant) {
        inner.set(p.name, { kind: "static", expr: constant.expr, scope: constant.scope, span: p.span });
        return `=${printExpr(constant.expr)}`;
      }
      if (!given[i]) this.calling.push(fn.name);
      try {
        const node = this.tensor(arg, from);
        inner.set(p.name, { kind: "tensor", role: "fn-param", node, span: p.span });
        return String(node.id);
      } finally {
        if (!given[i]) this.calling.pop();
      }
    });
    // Same function on the same (hash-consed) arguments gives the same node: reuse it, so
    // `fn f2(x) = f1(f1(x))` chains lower in linear, not exponential, time.
    const key = keys.join(",");
    let known = this.inlined.get(fn.body);
    const found = known?.get(key);
    if (found) return found;
    this.calling.push(fn.name);
    try {
      // A block body's definitions: local to this call, each seeing the ones before it.
      for (const d of fn.locals ?? []) {
        const node = this.tensor(d.value, inner);
        if (node.name === undefined && node.op.kind !== "source") node.name = d.name.name;
        inner.set(d.name.name, { kind: "tensor", role: "def", node, span: d.name.span });
      }
      const result = this.tensor(fn.body, inner);
      if (!known) this.inlined.set(fn.body, (known = new Map()));
      known.set(key, result);
      return result;
    } catch (err) {
      if (!(err instanceof GradcError)) throw err;
      // An error in a user function's body names the call that led there; through nested
      // calls each level adds its call, so the notes read as the chain, innermost first.
      const call: Note = { message: `in this call of \`${fn.name}\``, span: e.span };
      if (fn.span.source.file !== preludeFile) throw new GradcError(err.errors.map((d) => withCallNote(d, call)));
      // A built-in written in the prelude reports its errors at the user's call.
      throw new GradcError(err.errors.map((d) => (d.span && d.span.source.file !== preludeFile ? d : {
        ...d, span: e.span, labels: d.labels?.filter((l) => l.span.source.file !== preludeFile),
        hint: d.hint ?? `in the built-in \`${fn.name}\``,
      })));
    } finally {
      this.calling.pop();
    }
  }
}

/** Calls named in a chain of notes: the innermost few and the outermost, so an error
 *  500 calls deep reads (and renders) in a dozen lines. */
const shownCalls = 4;
const callNotes = new WeakSet<Note>();
const elidedCalls = new WeakMap<Note, number>();

/** `d` with the call `note` added as the new outermost of its chain of call notes. */
function withCallNote(d: Diagnostic, note: Note): Diagnostic {
  callNotes.add(note);
  const notes = d.notes ?? [];
  const calls = notes.filter((n) => callNotes.has(n)).length;
  if (calls <= shownCalls) return withNotes(d, note);
  // Drop the previous outermost call into the count of the elided ones.
  const rest = notes.slice(0, -1);
  const last = rest[rest.length - 1];
  const elided = (last && elidedCalls.get(last)) ?? 0;
  const count: Note = { message: `... through ${elided + 1} more call${elided === 0 ? "" : "s"}` };
  elidedCalls.set(count, elided + 1);
  return { ...d, notes: [...(elided > 0 ? rest.slice(0, -1) : rest), count, note] };
}

function definedHere(name: string, span: Span): Note {
  return { message: `\`${name}\` is defined here`, span };
}

function isValue(scope: Scope, name: string): boolean {
  const kind = scope.get(name)?.kind;
  return kind === "tensor" || kind === "dim" || kind === "failed" || kind === "static";
}

/** A constant argument as written (a number, a list, true/false, or a parameter bound to
 *  one), with the scope its names are read in; undefined for a tensor expression. */
function staticArg(e: Expr, scope: Scope): { expr: Expr; scope: Scope } | undefined {
  if (e.kind === "name") {
    const b = scope.get(e.name);
    return b?.kind === "static" ? { expr: b.expr, scope: b.scope } : undefined;
  }
  if (e.kind === "list" || e.kind === "bool" || constNumber(e) !== undefined) return { expr: e, scope };
  return undefined;
}

/** Keyword arguments against the callee's parameters, before they are bound. A keyword
 *  the function does not have, naming a value in scope or followed by positional
 *  arguments, is a comparison written with one `=`: `where(w = 0, a, b)` (E0011). Else a
 *  positional argument after a keyword one is out of order (E0006). */
export function checkKeywords(
  fnName: string,
  params: readonly string[],
  e: Extract<Expr, { kind: "call" }>,
  isValue: (name: string) => boolean,
): void {
  for (const k of e.kwargs) {
    const name = k.name.name;
    if (params.includes(name) || !k.equalsSpan) continue;
    if (!isValue(name) && !(e.misplaced && e.misplaced.span.start > k.value.span.start)) continue;
    throw new GradcError([{
      ...diagnostic("E0011", k.equalsSpan),
      hint: `\`${fnName}\` has no argument named \`${name}\`; did you mean \`${name} == ${shortText(k.value)}\`?`,
    }]);
  }
  if (e.misplaced) fail("E0006", e.misplaced.span);
}

/** An expression as a hint quotes it, elided when long. */
function shortText(e: Expr): string {
  const text = printExpr(e);
  return text.length <= 30 ? text : "...";
}

/** Match positional and keyword arguments against a built-in's parameter names. */
function bindArguments(
  name: string,
  params: readonly string[],
  required: number,
  e: Extract<Expr, { kind: "call" }>,
): (Expr | undefined)[] {
  if (e.args.length > params.length) {
    const n = params.length;
    const range = required === n ? `${n}` : `${required} to ${n}`;
    fail("E0105", e.span, name, `${range} argument${n === 1 ? "" : "s"}`, e.args.length);
  }
  const bound: (Expr | undefined)[] = params.map((_, i) => e.args[i]);
  for (const k of e.kwargs) {
    const i = params.indexOf(k.name.name);
    if (i < 0) {
      const hint = nearest(k.name.name, params);
      throw new GradcError([{ ...diagnostic("E0106", k.name.span, name, k.name.name), hint: hint ? `did you mean \`${hint}\`?` : undefined }]);
    }
    if (bound[i]) fail("E0007", k.name.span, k.name.name);
    bound[i] = k.value;
  }
  for (let i = 0; i < required; i++) if (!bound[i]) fail("E0107", e.span, name, params[i]!);
  return bound;
}

/** NumPy matmul at any rank, reduced to the matmul primitive on equal ranks: rank-1
 *  operands gain a unit axis (removed from the result), leading batch dims broadcast. */
function matmul(b: Builder, a: Node, c: Node, span: Span): Node {
  const ra = a.shape.length, rc = c.shape.length;
  const sa = formatShape(a.shape), sc = formatShape(c.shape);
  if (ra === 0 || rc === 0) fail("E0202", span, sa, sc, "a scalar operand has no axis to multiply over; use `*`");
  const ka = a.shape[ra - 1]!;
  const kc = rc === 1 ? c.shape[0]! : c.shape[rc - 2]!;
  if (ka !== kc) fail("E0202", span, sa, sc, `inner sizes ${ka} and ${kc} differ`);
  const x = ra === 1 ? b.reshape(a, [1, ka]) : a;
  const y = rc === 1 ? b.reshape(c, [kc, 1]) : c;
  const bx = x.shape.slice(0, -2), by = y.shape.slice(0, -2);
  const batch = broadcastShape([bx, by]);
  if (!batch) fail("E0202", span, sa, sc, `batch dims ${formatShape(bx)} and ${formatShape(by)} do not broadcast`);
  const expand = (n: Node): Node =>
    n.shape.length === batch.length + 2 && sameShape(n.shape.slice(0, -2), batch) ? n : b.broadcastTo(n, [...batch, ...n.shape.slice(-2)]);
  // A batch against one matrix (a linear layer over [b, t, d]) is one product over the
  // merged rows: no broadcast copy of the matrix, and its gradient is one product, not a
  // product per batch summed.
  const rows = y.shape.length === 2 && bx.length > 0
    ? b.op("matmul", [b.reshape(x, [dimProduct(x.shape.slice(0, -1)), ka]), y])
    : undefined;
  const product = rows ? b.reshape(rows, [...bx, x.shape[x.shape.length - 2]!, y.shape[1]!]) : b.op("matmul", [expand(x), expand(y)]);
  const r = product.shape.length;
  const outShape: Dim[] = [...batch];
  if (ra !== 1) outShape.push(product.shape[r - 2]!);
  if (rc !== 1) outShape.push(product.shape[r - 1]!);
  return sameShape(outShape, product.shape) ? product : b.reshape(product, outShape);
}
