// The JS target's kernel code, translated to wasm. The wasm target prints the same
// schedule through the same op templates (FunctionEmitter, unrolling, scalarisation), then
// translates the small JavaScript subset those produce (numeric locals, counted loops,
// typed-array element reads and writes, Math calls, calls of other kernels) into wasm
// functions over one memory. Values compute in f64, exactly as JavaScript does, and are
// rounded to f32 where JS would store into a Float32Array, so a translated kernel gives the
// JS target's results bit for bit, except the Math functions, which are our polynomials
// (math.ts, trig.ts). Runtime helpers (erf, the generator's drawBits) translate too, with
// their own signature (numbers or int32s in, one out). Loop counters and index arithmetic
// are i32: a local is i32 when everything assigned to it is (a fixpoint over its
// assignments), f64 otherwise. Anything outside the subset throws Untranslatable; the wasm
// target turns that into E0308 at the op.

import type * as js from "../estree";
import { FunctionBuilder, type Opcode } from "./encode";

export class Untranslatable extends Error {}

export type Ty = "i32" | "f64";

/** A module-level buffer in memory: at a fixed byte offset, or (`placed`, an array sized by
 *  a free dim) at the offset held in the i32 cell at `base`, which the JS side writes when
 *  it lays the memory out for a call's sizes. */
export interface ArrayAt {
  base: number;
  elem: "f32" | "f64";
  placed?: boolean;
}

export interface TranslateEnv {
  /** Module-level arrays by name. */
  arrays: ReadonlyMap<string, ArrayAt>;
  /** Module-level numbers (`let opt_t`), each an f64 cell at a byte offset. */
  cells: ReadonlyMap<string, number>;
  /** Free dims (`let dim_n`), each an i32 cell at a byte offset, written before each call. */
  dims?: ReadonlyMap<string, number>;
  /** Functions a body may call, by name: their index and parameter count, their
   *  parameter types when not all i32 (runtime helpers), and their result, if any. */
  functions: ReadonlyMap<string, FunctionType>;
  /** Math functions that are wasm functions (f64 -> f64, pow and fmod (`%`) of two), by
   *  name (math.ts, mathArity). */
  math: ReadonlyMap<string, number>;
}

export interface FunctionType {
  index: number;
  arity: number;
  params?: readonly Ty[];
  result?: Ty;
}

/** A function's parameter and result types: kernels and run functions take i32 (offsets
 *  and integers) and return nothing; runtime helpers (erf, the generator's) differ. */
export interface Signature {
  params: readonly Ty[];
  result?: Ty;
}

interface Binding {
  kind: "local" | "param";
  type: Ty;
  /** Right-hand sides assigned to it (with `+=`-style operators folded in). */
  assigned: js.Expression[];
  local?: number;
}

type Resolved = Binding | { kind: "array"; at: ArrayAt } | { kind: "cell"; offset: number } | { kind: "dim"; offset: number } | { kind: "global"; name: string };

const isLiteralNumber = (e: js.Expression): e is { type: "Literal"; value: number } => e.type === "Literal" && typeof e.value === "number";
const isInt = (v: number) => Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff && !Object.is(v, -0);

/** Translates one JS function (by default its parameters are i32: array offsets or
 *  integers, and it returns nothing). */
export function translateFunction(params: readonly string[], body: readonly js.Statement[], env: TranslateEnv, signature?: Signature): FunctionBuilder {
  return new Translator(params, body, env, signature ?? { params: params.map(() => "i32") }).build();
}

class Translator {
  private readonly f: FunctionBuilder;
  private readonly refs = new Map<js.Expression, Resolved>();
  private readonly bindings: Binding[] = [];
  private readonly params: Binding[];

  constructor(paramNames: readonly string[], private readonly body: readonly js.Statement[], private readonly env: TranslateEnv, private readonly signature: Signature) {
    this.f = new FunctionBuilder(signature.params, signature.result ? [signature.result] : []);
    this.params = paramNames.map((_, i) => ({ kind: "param", type: signature.params[i]!, assigned: [], local: i }));
    const scope = new Map<string, Binding>();
    paramNames.forEach((p, i) => scope.set(p, this.params[i]!));
    this.resolveStatements(body, [scope]);
    this.inferTypes();
  }

  build(): FunctionBuilder {
    for (const b of this.bindings) b.local = this.f.local(b.type);
    for (const s of this.body) this.statement(s, 0);
    // A function with a result returns on every path; the end is never reached.
    if (this.signature.result) this.f.op("unreachable");
    return this.f;
  }

  // ---- pass 1: names to bindings, assignments collected ----

  private lookup(name: string, scopes: Map<string, Binding>[]): Resolved {
    for (let i = scopes.length - 1; i >= 0; i--) {
      const b = scopes[i]!.get(name);
      if (b) return b;
    }
    const at = this.env.arrays.get(name);
    if (at) return { kind: "array", at };
    const cell = this.env.cells.get(name);
    if (cell !== undefined) return { kind: "cell", offset: cell };
    const dim = this.env.dims?.get(name);
    if (dim !== undefined) return { kind: "dim", offset: dim };
    return { kind: "global", name };
  }

  private declare(decl: Extract<js.Statement, { type: "VariableDeclaration" }>, scopes: Map<string, Binding>[]): void {
    for (const d of decl.declarations) {
      if (d.id.type !== "Identifier") throw new Untranslatable("a destructuring declaration");
      if (d.init) this.resolveExpression(d.init, scopes);
      const b: Binding = { kind: "local", type: "i32", assigned: d.init ? [d.init] : [] };
      this.bindings.push(b);
      scopes[scopes.length - 1]!.set(d.id.name, b);
      this.refs.set(d.id, b);
    }
  }

  private resolveStatements(list: readonly js.Statement[], scopes: Map<string, Binding>[]): void {
    for (const s of list) this.resolveStatement(s, scopes);
  }

  private resolveStatement(s: js.Statement, scopes: Map<string, Binding>[]): void {
    switch (s.type) {
      case "VariableDeclaration": this.declare(s, scopes); return;
      case "ExpressionStatement": this.resolveExpression(s.expression, scopes); return;
      case "BlockStatement": this.resolveStatements(s.body, [...scopes, new Map()]); return;
      case "ForStatement": {
        const inner = [...scopes, new Map<string, Binding>()];
        if (s.init && s.init.type === "VariableDeclaration") this.declare(s.init, inner);
        else if (s.init) this.resolveExpression(s.init as js.Expression, inner);
        if (!s.test) throw new Untranslatable("a loop without a condition");
        this.resolveExpression(s.test, inner);
        if (s.update) this.resolveExpression(s.update, inner);
        this.resolveStatement(s.body, inner);
        return;
      }
      case "IfStatement":
        this.resolveExpression(s.test, scopes);
        this.resolveStatement(s.consequent, [...scopes, new Map()]);
        if (s.alternate) this.resolveStatement(s.alternate, [...scopes, new Map()]);
        return;
      case "ReturnStatement":
        if (s.argument && !this.signature.result) throw new Untranslatable("a return value");
        if (!s.argument && this.signature.result) throw new Untranslatable("a return without a value");
        if (s.argument) this.resolveExpression(s.argument, scopes);
        return;
      default:
        throw new Untranslatable(`a ${s.type}`);
    }
  }

  private resolveExpression(e: js.Expression, scopes: Map<string, Binding>[]): void {
    switch (e.type) {
      case "Identifier": this.refs.set(e, this.lookup(e.name, scopes)); return;
      case "Literal": return;
      case "BinaryExpression": case "LogicalExpression":
        this.resolveExpression(e.left, scopes); this.resolveExpression(e.right, scopes); return;
      case "UnaryExpression": this.resolveExpression(e.argument, scopes); return;
      case "UpdateExpression": {
        this.resolveExpression(e.argument, scopes);
        const b = this.refs.get(e.argument);
        if (b && (b.kind === "local" || b.kind === "param")) b.assigned.push({ type: "BinaryExpression", operator: e.operator === "++" ? "+" : "-", left: e.argument, right: { type: "Literal", value: 1 } });
        return;
      }
      case "AssignmentExpression": {
        this.resolveExpression(e.left, scopes);
        this.resolveExpression(e.right, scopes);
        const b = this.refs.get(e.left);
        if (b && (b.kind === "local" || b.kind === "param")) {
          b.assigned.push(e.operator === "=" ? e.right : { type: "BinaryExpression", operator: e.operator.slice(0, -1), left: e.left, right: e.right });
        }
        return;
      }
      case "ConditionalExpression":
        this.resolveExpression(e.test, scopes); this.resolveExpression(e.consequent, scopes); this.resolveExpression(e.alternate, scopes); return;
      case "CallExpression":
        if (e.callee.type === "Identifier") this.resolveExpression(e.callee, scopes);
        for (const a of e.arguments) this.resolveExpression(a, scopes);
        return;
      case "MemberExpression":
        if (!e.computed) throw new Untranslatable("a property read");
        this.resolveExpression(e.object, scopes); this.resolveExpression(e.property, scopes); return;
      default:
        throw new Untranslatable(`a ${e.type}`);
    }
  }

  // ---- pass 2: types ----

  private inferTypes(): void {
    for (let changed = true; changed;) {
      changed = false;
      for (const b of this.bindings) {
        if (b.type === "f64") continue;
        if (b.assigned.some((e) => this.typeOf(e) === "f64")) { b.type = "f64"; changed = true; }
      }
    }
    if (this.params.some((p) => p.type === "i32" && p.assigned.some((e) => this.typeOf(e) === "f64"))) throw new Untranslatable("a parameter assigned a number");
  }

  private typeOf(e: js.Expression): Ty {
    switch (e.type) {
      case "Literal":
        if (typeof e.value === "boolean") return "i32";
        if (typeof e.value !== "number") throw new Untranslatable("a string");
        return isInt(e.value) ? "i32" : "f64";
      case "Identifier": {
        const r = this.refs.get(e)!;
        if (r.kind === "local" || r.kind === "param") return r.type;
        if (r.kind === "cell") return "f64";
        if (r.kind === "dim") return "i32";
        if (r.kind === "global" && (r.name === "Infinity" || r.name === "NaN")) return "f64";
        throw new Untranslatable(`\`${e.name}\` as a value`);
      }
      case "MemberExpression": return "f64";
      case "BinaryExpression":
        switch (e.operator) {
          case "+": case "-": case "*": return this.typeOf(e.left) === "i32" && this.typeOf(e.right) === "i32" ? "i32" : "f64";
          case "/": return "f64";
          case "%": return this.typeOf(e.left) === "i32" && this.typeOf(e.right) === "i32" ? "i32" : "f64";
          default: return "i32"; // comparisons, bitwise (checked when emitted)
        }
      case "LogicalExpression": return "i32";
      case "UnaryExpression":
        if (e.operator === "-" && isLiteralNumber(e.argument)) return isInt(-e.argument.value) ? "i32" : "f64";
        return e.operator === "!" ? "i32" : this.typeOf(e.argument);
      case "UpdateExpression": case "AssignmentExpression": return this.typeOf(e.type === "UpdateExpression" ? e.argument : e.left);
      case "ConditionalExpression": return this.typeOf(e.consequent) === "i32" && this.typeOf(e.alternate) === "i32" ? "i32" : "f64";
      case "CallExpression": {
        if (isElementAddress(e)) return "i32";
        const m = mathName(e);
        if (m === "imul") return "i32";
        if (m !== undefined) return "f64";
        const fn = this.calledFunction(e);
        if (fn?.result) return fn.result;
        throw new Untranslatable("a call used as a value");
      }
      default: throw new Untranslatable(`a ${e.type}`);
    }
  }

  // ---- pass 3: code ----

  private statement(s: js.Statement, depth: number): void {
    const f = this.f;
    switch (s.type) {
      case "VariableDeclaration":
        for (const d of s.declarations) {
          const b = this.refs.get(d.id) as Binding;
          if (d.init) this.value(d.init, b.type);
          else if (b.type === "i32") f.op("i32.const", 0); else f.op("f64.const", 0);
          f.op("local.set", b.local!);
        }
        return;
      case "ExpressionStatement": this.effect(s.expression); return;
      case "BlockStatement": for (const t of s.body) this.statement(t, depth); return;
      case "ForStatement":
        if (s.init && s.init.type === "VariableDeclaration") this.statement(s.init, depth);
        else if (s.init) this.effect(s.init as js.Expression);
        f.open("block").open("loop");
        this.condition(s.test!);
        f.op("i32.eqz").op("br_if", 1);
        this.statement(s.body, depth + 2);
        if (s.update) this.effect(s.update);
        f.op("br", 0).op("end").op("end");
        return;
      case "IfStatement":
        this.condition(s.test);
        f.open("if");
        this.statement(s.consequent, depth + 1);
        if (s.alternate) { f.op("else"); this.statement(s.alternate, depth + 1); }
        f.op("end");
        return;
      case "ReturnStatement":
        if (s.argument) this.value(s.argument, this.signature.result!);
        f.op("return");
        return;
      default: throw new Untranslatable(`a ${s.type}`);
    }
  }

  /** An expression evaluated for its effect (its value, if any, dropped). */
  private effect(e: js.Expression): void {
    if (e.type === "AssignmentExpression") { this.assign(e.left, e.operator, e.right, false); return; }
    if (e.type === "UpdateExpression") { this.assign(e.argument, e.operator === "++" ? "+=" : "-=", { type: "Literal", value: 1 }, false); return; }
    if (e.type === "CallExpression" && e.callee.type === "Identifier") {
      if (this.call(e)) this.f.op("drop");
      return;
    }
    throw new Untranslatable(`a ${e.type} statement`);
  }

  /** The module function `e` calls, if its callee names one. */
  private calledFunction(e: Extract<js.Expression, { type: "CallExpression" }>): FunctionType | undefined {
    if (e.callee.type !== "Identifier") return undefined;
    const r = this.refs.get(e.callee);
    return r?.kind === "global" ? this.env.functions.get(e.callee.name) : undefined;
  }

  /** Calls a module function; returns whether it left a result. */
  private call(e: Extract<js.Expression, { type: "CallExpression" }>): boolean {
    const name = (e.callee as { name: string }).name;
    const fn = this.calledFunction(e);
    if (!fn) throw new Untranslatable(`a call of \`${name}\``);
    if (fn.arity !== e.arguments.length) throw new Untranslatable(`\`${name}\` called with ${e.arguments.length} arguments`);
    e.arguments.forEach((a, i) => {
      const type = fn.params?.[i] ?? "i32";
      if (type === "i32") this.pointer(a);
      else this.value(a, type);
    });
    this.f.op("call", fn.index);
    return fn.result !== undefined;
  }

  /** An argument passed to a kernel function: an array's offset or an integer. */
  private pointer(e: js.Expression): void {
    if (e.type === "Identifier") {
      const r = this.refs.get(e)!;
      if (r.kind === "array") { this.base(r.at); return; }
      if (r.kind === "global" && r.name === "undefined") { this.f.op("i32.const", 0); return; }
    }
    this.value(e, "i32");
  }

  /** Pushes the byte offset of a module-level array. */
  private base(at: ArrayAt): void {
    if (at.placed) this.f.op("i32.const", 0).op("i32.load", 2, at.base);
    else this.f.op("i32.const", at.base);
  }

  private assign(left: js.Expression, operator: string, right: js.Expression, keep: boolean): void {
    const f = this.f;
    const combined: js.Expression = operator === "=" ? right : { type: "BinaryExpression", operator: operator.slice(0, -1), left, right };
    if (left.type === "Identifier") {
      const r = this.refs.get(left)!;
      if (r.kind === "local" || r.kind === "param") {
        this.value(combined, r.type);
        f.op(keep ? "local.tee" : "local.set", r.local!);
        return;
      }
      if (r.kind === "cell" && !keep) {
        f.op("i32.const", 0);
        this.value(combined, "f64");
        f.op("f64.store", 3, r.offset);
        return;
      }
      throw new Untranslatable(`an assignment to \`${left.name}\``);
    }
    if (left.type === "MemberExpression" && !keep) {
      const elem = this.address(left);
      this.value(combined, "f64");
      if (elem.type === "f32") f.op("f32.demote_f64").op("f32.store", 2, elem.offset);
      else f.op("f64.store", 3, elem.offset);
      return;
    }
    throw new Untranslatable("an assignment used as a value");
  }

  /** Pushes the address of `a[i]` (less a constant folded into the memarg offset). */
  private address(e: Extract<js.Expression, { type: "MemberExpression" }>): { type: "f32" | "f64"; offset: number } {
    const f = this.f;
    if (e.object.type !== "Identifier") throw new Untranslatable("an element of a computed array");
    const r = this.refs.get(e.object)!;
    let elem: "f32" | "f64";
    let base: number | undefined;
    let placed: ArrayAt | undefined;
    if (r.kind === "param" || r.kind === "local") {
      if (r.type !== "i32") throw new Untranslatable("an element of a number");
      elem = "f32";
    } else if (r.kind === "array") {
      elem = r.at.elem;
      if (r.at.placed) placed = r.at; else base = r.at.base;
    } else throw new Untranslatable(`an element of \`${e.object.name}\``);
    const size = elem === "f32" ? 4 : 8;
    // index = rest + c, c a non-negative literal: c goes into the offset
    let index = e.property;
    let c = 0;
    if (isLiteralNumber(index) && isInt(index.value) && index.value >= 0) { c = index.value; index = { type: "Literal", value: 0 }; }
    else if (index.type === "BinaryExpression" && index.operator === "+" && isLiteralNumber(index.right) && isInt(index.right.value) && index.right.value >= 0 && this.typeOf(index.left) === "i32") {
      c = index.right.value;
      index = index.left;
    }
    const zero = isLiteralNumber(index) && index.value === 0;
    if (base === undefined) {
      if (placed) this.base(placed); else f.op("local.get", (r as Binding).local!);
      if (!zero) { this.value(index, "i32"); f.op("i32.const", size === 4 ? 2 : 3).op("i32.shl").op("i32.add"); }
      return { type: elem, offset: c * size };
    }
    if (zero) f.op("i32.const", 0);
    else { this.value(index, "i32"); f.op("i32.const", size === 4 ? 2 : 3).op("i32.shl"); }
    return { type: elem, offset: base + c * size };
  }

  /** A test: pushes an i32 that is nonzero where JS would take the branch. */
  private condition(e: js.Expression): void {
    if (this.typeOf(e) === "i32") { this.value(e, "i32"); return; }
    // a number is truthy unless 0, -0 or NaN
    this.value(e, "f64");
    this.f.op("f64.abs").op("f64.const", 0).op("f64.gt");
  }

  /** Pushes `e` as `want`. */
  private value(e: js.Expression, want: Ty): void {
    const literal = literalValue(e);
    if (want === "f64" && literal !== undefined) { this.f.op("f64.const", literal); return; }
    // an integer literal in an int32 context (a bitwise operand, Math.imul): ToInt32
    if (want === "i32" && literal !== undefined && Number.isInteger(literal) && Math.abs(literal) < 2 ** 32) { this.f.op("i32.const", literal | 0); return; }
    const have = this.natural(e);
    if (have === want) return;
    if (want === "f64") this.f.op("f64.convert_i32_s");
    else this.f.op("i32.trunc_sat_f64_s");
  }

  /** Pushes `e` in its own type; returns it. */
  private natural(e: js.Expression): Ty {
    const f = this.f;
    const t = this.typeOf(e);
    switch (e.type) {
      case "Literal": {
        const v = typeof e.value === "boolean" ? Number(e.value) : e.value as number;
        if (t === "i32") f.op("i32.const", v); else f.op("f64.const", v);
        return t;
      }
      case "Identifier": {
        const r = this.refs.get(e)!;
        if (r.kind === "local" || r.kind === "param") f.op("local.get", r.local!);
        else if (r.kind === "cell") f.op("i32.const", 0).op("f64.load", 3, r.offset);
        else if (r.kind === "dim") f.op("i32.const", 0).op("i32.load", 2, r.offset);
        else f.op("f64.const", (r as { name: string }).name === "NaN" ? NaN : Infinity);
        return t;
      }
      case "MemberExpression": {
        const { type, offset } = this.address(e);
        if (type === "f32") f.op("f32.load", 2, offset).op("f64.promote_f32");
        else f.op("f64.load", 3, offset);
        return "f64";
      }
      case "BinaryExpression": return this.binary(e, t);
      case "LogicalExpression": {
        // only between tests (their values are 0 / 1)
        if (this.typeOf(e.left) !== "i32" || this.typeOf(e.right) !== "i32" || !isTest(e.left) || !isTest(e.right)) throw new Untranslatable("a logical expression of numbers");
        if (e.operator === "??") throw new Untranslatable("??");
        this.value(e.left, "i32");
        f.open("if", "i32");
        if (e.operator === "&&") { this.value(e.right, "i32"); f.op("else").op("i32.const", 0); }
        else { f.op("i32.const", 1).op("else"); this.value(e.right, "i32"); }
        f.op("end");
        return "i32";
      }
      case "UnaryExpression":
        switch (e.operator) {
          case "-":
            if (isLiteralNumber(e.argument)) {
              if (t === "i32") f.op("i32.const", -e.argument.value); else f.op("f64.const", -e.argument.value);
              return t;
            }
            if (t === "i32") { f.op("i32.const", 0); this.value(e.argument, "i32"); f.op("i32.sub"); return t; }
            this.value(e.argument, "f64"); f.op("f64.neg"); return t;
          case "+": this.value(e.argument, t); return t;
          case "!": this.condition(e.argument); f.op("i32.eqz"); return "i32";
          default: throw new Untranslatable(`unary ${e.operator}`);
        }
      case "ConditionalExpression": {
        if (isPure(e.consequent) && isPure(e.alternate)) {
          this.value(e.consequent, t);
          this.value(e.alternate, t);
          this.condition(e.test);
          f.op("select");
          return t;
        }
        this.condition(e.test);
        f.open("if", t);
        this.value(e.consequent, t);
        f.op("else");
        this.value(e.alternate, t);
        f.op("end");
        return t;
      }
      case "CallExpression":
        if (mathName(e) === undefined && !isElementAddress(e)) {
          if (!this.call(e)) throw new Untranslatable("a call used as a value");
          return t;
        }
        return this.mathCall(e);
      case "AssignmentExpression":
        this.assign(e.left, e.operator, e.right, true);
        return t;
      default: throw new Untranslatable(`a ${e.type}`);
    }
  }

  private binary(e: Extract<js.Expression, { type: "BinaryExpression" }>, t: Ty): Ty {
    const f = this.f;
    const lt = this.typeOf(e.left), rt = this.typeOf(e.right);
    const both: Ty = lt === "i32" && rt === "i32" ? "i32" : "f64";
    const arith: Record<string, [Opcode, Opcode]> = {
      "+": ["i32.add", "f64.add"], "-": ["i32.sub", "f64.sub"], "*": ["i32.mul", "f64.mul"],
    };
    const compare: Record<string, [Opcode, Opcode]> = {
      "<": ["i32.lt_s", "f64.lt"], ">": ["i32.gt_s", "f64.gt"], "<=": ["i32.le_s", "f64.le"], ">=": ["i32.ge_s", "f64.ge"],
      "===": ["i32.eq", "f64.eq"], "==": ["i32.eq", "f64.eq"], "!==": ["i32.ne", "f64.ne"], "!=": ["i32.ne", "f64.ne"],
    };
    const bits: Record<string, Opcode> = { "|": "i32.or", "&": "i32.and", "^": "i32.xor", "<<": "i32.shl", ">>": "i32.shr_s" };
    if (e.operator in arith) {
      this.value(e.left, t); this.value(e.right, t);
      f.op(arith[e.operator]![t === "i32" ? 0 : 1]);
      return t;
    }
    if (e.operator === "/") {
      this.value(e.left, "f64"); this.value(e.right, "f64");
      f.op("f64.div");
      return "f64";
    }
    if (e.operator in compare) {
      this.value(e.left, both); this.value(e.right, both);
      f.op(compare[e.operator]![both === "i32" ? 0 : 1]);
      return "i32";
    }
    if (e.operator === "%") {
      // JavaScript's remainder: i32.rem_s on integers (index arithmetic, never by 0 or
      // overflowing), fmod on numbers
      if (both === "i32") { this.value(e.left, "i32"); this.value(e.right, "i32"); f.op("i32.rem_s"); return "i32"; }
      const fmod = this.env.math.get("fmod");
      if (fmod === undefined) throw new Untranslatable("`%` on numbers");
      this.value(e.left, "f64"); this.value(e.right, "f64");
      f.op("call", fmod);
      return "f64";
    }
    if (e.operator in bits) {
      this.int32(e.left); this.int32(e.right);
      f.op(bits[e.operator]!);
      return "i32";
    }
    // x >>> c for a literal c in 1..31: below 2^31, so an i32 holds it
    const shift = literalValue(e.right);
    if (e.operator === ">>>" && shift !== undefined && Number.isInteger(shift) && shift >= 1 && shift <= 31) {
      this.int32(e.left); f.op("i32.const", shift).op("i32.shr_u");
      return "i32";
    }
    throw new Untranslatable(`\`${e.operator}\` on numbers`);
  }

  /** Pushes `e` converted as JavaScript's bitwise operators do (ToInt32): an i32 as it
   *  is, a number truncated and wrapped modulo 2^32 (exact for |e| < 2^63; NaN gives 0). */
  private int32(e: js.Expression): void {
    if (this.typeOf(e) === "i32" || literalValue(e) !== undefined) { this.value(e, "i32"); return; }
    this.value(e, "f64");
    this.f.op("i64.trunc_sat_f64_s").op("i32.wrap_i64");
  }

  private mathCall(e: Extract<js.Expression, { type: "CallExpression" }>): Ty {
    const f = this.f;
    if (isElementAddress(e)) {
      // elementAddress(a, k): the byte address of a[k] (an f32 array), for a SIMD kernel's
      // operand inside a larger array (a loop's carry or slice); wasm-only code.
      this.pointer(e.arguments[0]!);
      this.value(e.arguments[1]!, "i32");
      f.op("i32.const", 2).op("i32.shl").op("i32.add");
      return "i32";
    }
    const name = mathName(e);
    const args = e.arguments;
    const one = (): void => {
      if (args.length !== 1) throw new Untranslatable(`Math.${name} with ${args.length} arguments`);
      this.value(args[0]!, "f64");
    };
    const native: Record<string, Opcode> = { abs: "f64.abs", sqrt: "f64.sqrt", floor: "f64.floor", ceil: "f64.ceil", trunc: "f64.trunc" };
    if (name !== undefined && name in native) { one(); f.op(native[name]!); return "f64"; }
    if (name !== undefined && this.env.math.has(name) && name !== "pow" && name !== "fmod") { one(); f.op("call", this.env.math.get(name)!); return "f64"; }
    if (name === "fround") { one(); f.op("f32.demote_f64").op("f64.promote_f32"); return "f64"; }
    if ((name === "max" || name === "min") && args.length >= 1) {
      // Math.max / Math.min: NaN if any is NaN, -0 < +0, exactly f64.max / f64.min
      this.value(args[0]!, "f64");
      for (const a of args.slice(1)) { this.value(a, "f64"); f.op(name === "max" ? "f64.max" : "f64.min"); }
      return "f64";
    }
    if (name === "sign") {
      // v > 0 ? 1 : (v < 0 ? -1 : v): ±0 and NaN give themselves
      const v = this.f.local("f64");
      one();
      f.op("local.set", v).op("f64.const", 1);
      f.op("f64.const", -1).op("local.get", v).op("local.get", v).op("f64.const", 0).op("f64.lt").op("select");
      f.op("local.get", v).op("f64.const", 0).op("f64.gt").op("select");
      return "f64";
    }
    const exponent = args.length === 2 ? literalValue(args[1]!) : undefined;
    if (name === "pow" && exponent !== undefined && Number.isInteger(exponent) && Math.abs(exponent) <= 64) {
      // an integer power by squaring (a constant exponent); negative: its reciprocal
      const n = exponent;
      const base = this.f.local("f64"), acc = this.f.local("f64");
      this.value(args[0]!, "f64");
      f.op("local.set", base).op("f64.const", 1).op("local.set", acc);
      for (let k = Math.abs(n); k > 0; k >>= 1) {
        if (k & 1) f.op("local.get", acc).op("local.get", base).op("f64.mul").op("local.set", acc);
        if (k > 1) f.op("local.get", base).op("local.get", base).op("f64.mul").op("local.set", base);
      }
      if (n < 0) f.op("f64.const", 1).op("local.get", acc).op("f64.div");
      else f.op("local.get", acc);
      return "f64";
    }
    if (name === "imul" && args.length === 2) { this.value(args[0]!, "i32"); this.value(args[1]!, "i32"); f.op("i32.mul"); return "i32"; }
    if (name === "pow" && args.length === 2 && this.env.math.has("pow")) {
      this.value(args[0]!, "f64"); this.value(args[1]!, "f64");
      f.op("call", this.env.math.get("pow")!);
      return "f64";
    }
    throw new Untranslatable(name === undefined ? "a call used as a value" : `Math.${name}`);
  }
}

/** The value of a number literal, or of `-literal`. */
function literalValue(e: js.Expression): number | undefined {
  if (isLiteralNumber(e)) return e.value;
  if (e.type === "UnaryExpression" && e.operator === "-" && isLiteralNumber(e.argument)) return -e.argument.value;
  return undefined;
}

/** `elementAddress(array, k)` (wasm/build.ts reserves the name). */
function isElementAddress(e: Extract<js.Expression, { type: "CallExpression" }>): boolean {
  return e.callee.type === "Identifier" && e.callee.name === "elementAddress" && e.arguments.length === 2;
}

/** `Math.name(...)`: the name. */
function mathName(e: Extract<js.Expression, { type: "CallExpression" }>): string | undefined {
  const c = e.callee;
  if (c.type === "MemberExpression" && !c.computed && c.object.type === "Identifier" && c.object.name === "Math" && c.property.type === "Identifier") return c.property.name;
  return undefined;
}

/** Cheap and free of effects: both arms of a `?:` can be evaluated (a select). */
function isPure(e: js.Expression): boolean {
  if (e.type === "Identifier" || e.type === "Literal") return true;
  if (e.type === "UnaryExpression" && e.operator === "-") return isPure(e.argument);
  return false;
}

function isTest(e: js.Expression): boolean {
  return (e.type === "BinaryExpression" && ["<", ">", "<=", ">=", "===", "!==", "==", "!="].includes(e.operator))
    || (e.type === "UnaryExpression" && e.operator === "!") || e.type === "LogicalExpression" || (e.type === "Literal" && typeof e.value === "boolean");
}
