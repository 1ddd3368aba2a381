// Lowering, statements: AST to IR. Resolves names (single assignment; params and inputs
// are not assignable), binds dims from `sizes` or leaves them free, builds graph inputs,
// records outputs, the objective and the optimizer. Expressions are lowered in expr.ts.

import { diagnostic, fail, failWith, GradcError, withNotes, type Diagnostic, type Source, type Span } from "../diagnostics";
import { formatShape, Graph, isDimName, isKnown, topoSort, type Dim, type Node, type Shape } from "../ir";
import { Builder } from "../ops";
import { parse, preludeFile, preludeSource, type Expr, type Program, type Stmt } from "../syntax";
import { constNumber } from "./arguments";
import { solvableDims, usedDims } from "./dims";
import { ExprLowerer, checkKeywords } from "./expr";
import { AlreadyReported, Scope } from "./scope";
import { intExpr } from "./shape-expr";
import { nearest } from "./suggest";

export type InitSpec =
  | { kind: "zeros" } | { kind: "ones" } | { kind: "constant"; value: number }
  | { kind: "uniform"; lo: number; hi: number } | { kind: "normal"; mean: number; std: number }
  | { kind: "glorot_uniform" } | { kind: "he_normal" };

/** An optimizer hyperparameter: a constant, or a scalar input read at every `step`. */
export type Hyper = number | { input: string };

/** `clip_norm` is present only when given: a plain constant-rate `sgd` stays sparse-capable. */
export type OptimizerSpec = { clip_norm?: Hyper } & (
  | { kind: "sgd"; lr: Hyper }
  | { kind: "momentum"; lr: Hyper; beta: Hyper }
  | { kind: "adam"; lr: Hyper; beta1: Hyper; beta2: Hyper; eps: Hyper }
  | { kind: "adamw"; lr: Hyper; beta1: Hyper; beta2: Hyper; eps: Hyper; weight_decay: Hyper });

export interface TensorDecl {
  name: string;
  shape: Shape;
  node: Node;
  span: Span;
}

export interface ParamDecl extends TensorDecl {
  init: InitSpec;
  /** Declared `frozen param`: held and usable, but never updated and never differentiated. */
  frozen: boolean;
}

export interface LoweredProgram {
  graph: Graph;
  /** Declared dims in order, with their bound value or their own name when free. */
  dims: { name: string; value: Dim; span: Span }[];
  inputs: TensorDecl[];
  params: ParamDecl[];
  outputs: TensorDecl[];
  objective?: { node: Node; span: Span; name?: string };
  optimizer?: OptimizerSpec;
  /** Every top-level definition by name. */
  definitions: Map<string, Node>;
}

export interface LowerOptions {
  sizes?: Record<string, number>;
  filename?: string;
}

/** Each optimizer's arguments in order, with defaults (docs/language.md lists them). */
export const optimizerSchemas: Record<string, [string, number | undefined][]> = {
  sgd: [["lr", 0.01]],
  momentum: [["lr", 0.01], ["beta", 0.9]],
  adam: [["lr", 0.001], ["beta1", 0.9], ["beta2", 0.999], ["eps", 1e-8]],
  adamw: [["lr", 0.001], ["beta1", 0.9], ["beta2", 0.999], ["eps", 1e-8], ["weight_decay", 0.01]],
};

/** Taken by every optimizer, after its own arguments: the global L2 norm the gradient is
 *  clipped to (no clipping when absent). */
export const clipNormArgument = "clip_norm";

/** Each initialiser's arguments in order, with defaults (`undefined`: required). */
export const initSchemas: Record<string, [string, number | undefined][]> = {
  zeros: [], ones: [], glorot_uniform: [], he_normal: [],
  constant: [["value", undefined]],
  uniform: [["lo", -0.05], ["hi", 0.05]],
  normal: [["mean", 0], ["std", 0.05]],
};

/** The params gradients are taken for, in declaration order: all but the frozen ones. */
export function trainable<P extends ParamDecl>(params: readonly P[]): P[] {
  return params.filter((p) => !p.frozen);
}

/** The inputs `predict` needs, in declaration order: those the declared outputs depend on,
 *  and, when their lengths cannot give every free dim the outputs use (`ids: [b, t]` alone
 *  gives neither b nor t), the further inputs whose lengths do (`len: [b]`), added one at a
 *  time in declaration order. Without them predict would run with sizes it cannot know. */
export function predictInputs(program: LoweredProgram): TensorDecl[] {
  const roots = program.outputs.map((o) => o.node);
  const reached = new Set(topoSort(roots));
  const chosen = new Set(program.inputs.filter((i) => reached.has(i.node)));
  const free = new Set(program.dims.filter((d) => typeof d.value === "string").map((d) => d.name));
  const wanted = [...usedDims(roots)].filter((d) => free.has(d));
  const ordered = () => program.inputs.filter((i) => chosen.has(i));
  let solved = solvableDims(ordered());
  let progress = true;
  while (progress && !wanted.every((d) => solved.has(d))) {
    progress = false;
    for (const i of program.inputs) {
      if (chosen.has(i)) continue;
      chosen.add(i);
      const more = solvableDims(ordered());
      if (more.size > solved.size) {
        solved = more;
        progress = true;
        break;
      }
      chosen.delete(i);
    }
  }
  return ordered();
}

let preludeProgram: Program | undefined;

export function lowerSource(text: string, options: LowerOptions = {}): LoweredProgram {
  const source: Source = { file: options.filename ?? "<input>", text };
  const program = parse(source);
  return lowerProgram(program, source, options);
}

export function lowerProgram(program: Program, source: Source, options: LowerOptions = {}): LoweredProgram {
  const graph = new Graph();
  const b = new Builder(graph, undefined);
  const top = new Scope();
  const builtinScope = new Scope();
  preludeProgram ??= parse({ file: preludeFile, text: preludeSource });
  for (const s of preludeProgram.statements) {
    if (s.kind === "fn") builtinScope.set(s.name.name, { kind: "fn", name: s.name.name, params: s.params, defaults: s.defaults, locals: s.locals, body: s.body, span: s.name.span });
  }
  const globals = new Scope(builtinScope);
  const lowerer = new ExprLowerer(b, globals);
  lowerer.laterDefinitions = definedNames(program);
  const out: LoweredProgram = { graph, dims: [], inputs: [], params: [], outputs: [], definitions: new Map() };
  const errors: Diagnostic[] = [];
  const sizes = options.sizes ?? {};
  const usedSizes = new Set<string>();
  const outputNames = new Set<string>();
  void top;

  const declare = (name: string, span: Span) => {
    const existing = globals.own(name);
    if (existing) failWith(withNotes(diagnostic("E0102", span, name), { message: `\`${name}\` is first defined here`, span: existing.span }));
  };

  const shapeOf = (dims: Expr[] | undefined): Shape => {
    if (!dims) return [];
    return dims.map((e): Dim => {
      if (e.kind === "name") {
        const bnd = globals.get(e.name);
        if (bnd?.kind === "dim") return bnd.value;
        if (!bnd) {
          const hint = nearest(e.name, globals.allNames());
          throw new GradcError([{ ...diagnostic("E0101", e.span, e.name), hint: hint ? `did you mean \`${hint}\`?` : "declare it first with `dim " + e.name + "`" }]);
        }
        return fail("E0215", e.span, `\`${e.name}\` is not a dim`);
      }
      const v = constNumber(e);
      if (v !== undefined && (!Number.isInteger(v) || v < 0)) return fail("E0215", e.span, "a shape entry must be a non-negative integer or a dim name");
      if (v !== undefined) return v;
      // `[d * 4, d]`: an integer expression, folded; a free dim must stand alone here, since
      // the wrappers read free dims from the lengths of the arrays passed in.
      const d = intExpr({ dim: (n) => { const b = globals.get(n); return b?.kind === "dim" ? b.value : undefined; } }, e);
      if (typeof d === "string" && !isDimName(d)) return fail("E0224", e.span, `a declared shape may combine dims only when they are bound (with \`sizes\`); \`${d}\` has a free dim`);
      if (typeof d === "number" && d < 0) return fail("E0215", e.span, `a shape entry cannot be negative, found ${d}`);
      return d;
    });
  };

  for (const stmt of program.statements) {
    try {
      lowerStatement(stmt);
    } catch (e) {
      if (!(e instanceof GradcError) && !(e instanceof AlreadyReported)) throw e;
      if (e instanceof GradcError) errors.push(...e.errors);
      // Later uses of what this statement defines are not reported again.
      const defined = stmt.kind === "def" || stmt.kind === "input" || stmt.kind === "param" || stmt.kind === "fn" ? stmt.name : undefined;
      if (defined && !globals.own(defined.name)) globals.set(defined.name, { kind: "failed", span: defined.span });
    }
  }

  for (const key of Object.keys(sizes)) {
    if (usedSizes.has(key)) continue;
    // Name what the program has, so a misspelt or leftover binding is quick to fix.
    const dims = out.dims.map((d) => d.name);
    // (one letter is "near" every other one-letter name: no guess then)
    const near = key.length > 1 ? nearest(key, dims) : undefined;
    const listed = dims.length === 0 ? "it declares no dims" : `its dims are ${dims.map((d) => `\`${d}\``).join(", ")}`;
    errors.push({ ...diagnostic("E0301", undefined, key), hint: near ? `did you mean \`${near}\`? (${listed})` : listed });
  }
  if (errors.length > 0) throw new GradcError(errors);
  return out;

  function lowerStatement(stmt: Stmt): void {
    switch (stmt.kind) {
      case "dim":
        for (const n of stmt.names) {
          declare(n.name, n.span);
          let value: Dim = n.name;
          if (Object.prototype.hasOwnProperty.call(sizes, n.name)) {
            const v = sizes[n.name];
            usedSizes.add(n.name);
            // A bad binding is reported once; the dim stays declared (free), so its uses
            // are not reported again as unknown names.
            if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) errors.push(diagnostic("E0302", n.span, n.name, String(v)));
            else value = v;
          }
          globals.set(n.name, { kind: "dim", name: n.name, value, span: n.span });
          out.dims.push({ name: n.name, value, span: n.span });
        }
        return;
      case "input": {
        declare(stmt.name.name, stmt.name.span);
        const shape = shapeOf(stmt.shape);
        const node = b.at(stmt.name.span).input(stmt.name.name, "input", shape);
        globals.set(stmt.name.name, { kind: "tensor", role: "input", node, span: stmt.name.span });
        out.inputs.push({ name: stmt.name.name, shape, node, span: stmt.name.span });
        return;
      }
      case "param": {
        declare(stmt.name.name, stmt.name.span);
        const shape = shapeOf(stmt.shape);
        if (!isKnown(shape)) fail("E0125", stmt.name.span, stmt.name.name);
        const init = stmt.init ? lowerInit(stmt.init) : ({ kind: "uniform", lo: -0.05, hi: 0.05 } as InitSpec);
        const node = b.at(stmt.name.span).input(stmt.name.name, "param", shape);
        globals.set(stmt.name.name, { kind: "tensor", role: "param", node, span: stmt.name.span });
        out.params.push({ name: stmt.name.name, shape, node, span: stmt.name.span, init, frozen: stmt.frozen === true });
        return;
      }
      case "def": {
        const existing = globals.own(stmt.name.name);
        if (existing?.kind === "tensor" && (existing.role === "param" || existing.role === "input")) {
          const kind = existing.role === "param" ? "a param" : "an input";
          failWith(withNotes(diagnostic("E0103", stmt.name.span, stmt.name.name, kind), { message: `\`${stmt.name.name}\` is declared as ${kind} here`, span: existing.span }));
        }
        declare(stmt.name.name, stmt.name.span);
        const node = lowerer.tensor(stmt.value);
        if (node.name === undefined && node.op.kind !== "source") node.name = stmt.name.name;
        globals.set(stmt.name.name, { kind: "tensor", role: "def", node, span: stmt.name.span });
        out.definitions.set(stmt.name.name, node);
        return;
      }
      case "fn": {
        declare(stmt.name.name, stmt.name.span);
        const seen = new Map<string, Span>();
        for (const p of stmt.params) {
          const first = seen.get(p.name);
          if (first) failWith(withNotes(diagnostic("E0121", p.span, p.name), { message: `the first \`${p.name}\``, span: first }));
          seen.set(p.name, p.span);
        }
        globals.set(stmt.name.name, { kind: "fn", name: stmt.name.name, params: stmt.params, defaults: stmt.defaults, locals: stmt.locals, body: stmt.body, span: stmt.name.span });
        return;
      }
      case "output":
        for (const n of stmt.names) {
          if (outputNames.has(n.name)) fail("E0112", n.span, n.name);
          const node = lowerer.tensor({ kind: "name", name: n.name, span: n.span });
          outputNames.add(n.name);
          out.outputs.push({ name: n.name, shape: node.shape, node, span: n.span });
        }
        return;
      case "minimize": {
        if (out.objective) fail("E0111", stmt.span);
        const node = lowerer.tensor(stmt.objective);
        if (node.shape.length !== 0) fail("E0211", stmt.objective.span, formatShape(node.shape));
        out.objective = { node, span: stmt.objective.span, name: stmt.objective.kind === "name" ? stmt.objective.name : undefined };
        out.optimizer = stmt.optimizer ? lowerOptimizer(stmt.optimizer) : { kind: "sgd", lr: 0.01 };
        return;
      }
    }
  }

  function lowerOptimizer(e: Expr): OptimizerSpec {
    const call = e.kind === "call" ? e : e.kind === "name" ? { kind: "call" as const, callee: { name: e.name, span: e.span }, args: [], kwargs: [], span: e.span } : undefined;
    if (!call) return fail("E0002", e.span, "an optimizer such as `sgd(lr = 0.1)`", "an expression");
    const schema = optimizerSchemas[call.callee.name];
    if (!schema || !Object.prototype.hasOwnProperty.call(optimizerSchemas, call.callee.name)) {
      const hint = nearest(call.callee.name, Object.keys(optimizerSchemas));
      throw new GradcError([{ ...diagnostic("E0113", call.callee.span, call.callee.name), hint: hint ? `did you mean \`${hint}\`?` : "use sgd, momentum, adam or adamw" }]);
    }
    const fnName = call.callee.name;
    // `clip_norm` only by keyword: it is not part of any optimizer's positional list.
    checkKeywords(fnName, [...schema.map(([n]) => n), clipNormArgument], call, () => false);
    const clips = call.kwargs.filter((k) => k.name.name === clipNormArgument);
    if (clips.length > 1) fail("E0007", clips[1]!.name.span, clipNormArgument);
    const clip = clips[0];
    const v = hyperArgs(fnName, schema, { ...call, kwargs: call.kwargs.filter((k) => k !== clip) });
    const extra = clip ? { clip_norm: hyper(fnName, clipNormArgument, clip.value) } : {};
    switch (fnName) {
      case "sgd": return { kind: "sgd", lr: v.lr!, ...extra };
      case "momentum": return { kind: "momentum", lr: v.lr!, beta: v.beta!, ...extra };
      case "adam": return { kind: "adam", lr: v.lr!, beta1: v.beta1!, beta2: v.beta2!, eps: v.eps!, ...extra };
      default: return { kind: "adamw", lr: v.lr!, beta1: v.beta1!, beta2: v.beta2!, eps: v.eps!, weight_decay: v.weight_decay!, ...extra };
    }
  }

  /** Optimizer arguments against a schema: each a constant or a scalar input's name. */
  function hyperArgs(fnName: string, schema: [string, number | undefined][], call: Extract<Expr, { kind: "call" }>): Record<string, Hyper> {
    const names = schema.map(([n]) => n);
    if (call.args.length > schema.length) {
      fail("E0105", call.span, fnName, `at most ${schema.length} argument${schema.length === 1 ? "" : "s"}`, call.args.length);
    }
    const given = new Map<string, Expr>();
    call.args.forEach((a, i) => given.set(schema[i]![0], a));
    for (const k of call.kwargs) {
      if (!names.includes(k.name.name)) fail("E0106", k.name.span, fnName, k.name.name);
      if (given.has(k.name.name)) fail("E0007", k.name.span, k.name.name);
      given.set(k.name.name, k.value);
    }
    const values: Record<string, Hyper> = {};
    for (const [name, dflt] of schema) {
      const e = given.get(name);
      values[name] = e ? hyper(fnName, name, e) : dflt!;
    }
    return values;
  }

  /** One hyperparameter: a finite constant, or the name of a scalar input declared before. */
  function hyper(fnName: string, arg: string, e: Expr): Hyper {
    const v = constNumber(e);
    if (v !== undefined) {
      if (!Number.isFinite(v)) fail("E0116", e.span, fnName, arg);
      return v;
    }
    if (e.kind !== "name") return fail("E0128", e.span, fnName, arg);
    const bound = globals.get(e.name);
    if (!bound || bound.kind === "failed") {
      if (bound) throw new AlreadyReported();
      const inputs = out.inputs.filter((i) => i.shape.length === 0).map((i) => i.name);
      const hint = nearest(e.name, inputs);
      throw new GradcError([{ ...diagnostic("E0101", e.span, e.name), hint: hint ? `did you mean \`${hint}\`?` : "declare it with `input " + e.name + "`" }]);
    }
    if (bound.kind !== "tensor" || bound.role !== "input") return fail("E0128", e.span, fnName, arg);
    if (bound.node.shape.length !== 0) fail("E0212", e.span, `\`${fnName}\`'s \`${arg}\``, formatShape(bound.node.shape));
    return { input: e.name };
  }

  function lowerInit(e: Expr): InitSpec {
    const call = e.kind === "call" ? e : e.kind === "name" ? { kind: "call" as const, callee: { name: e.name, span: e.span }, args: [], kwargs: [], span: e.span } : undefined;
    if (!call) {
      const v = constNumber(e);
      if (v !== undefined) return { kind: "constant", value: v };
      return fail("E0002", e.span, "an initialiser such as `uniform(-0.1, 0.1)` or a number", "an expression");
    }
    const schema = initSchemas[call.callee.name];
    if (!schema || !Object.prototype.hasOwnProperty.call(initSchemas, call.callee.name)) {
      const hint = nearest(call.callee.name, Object.keys(initSchemas));
      throw new GradcError([{ ...diagnostic("E0114", call.callee.span, call.callee.name), hint: hint ? `did you mean \`${hint}\`?` : undefined }]);
    }
    const v = numericArgs(call.callee.name, schema, call);
    switch (call.callee.name) {
      case "constant": return { kind: "constant", value: v.value! };
      case "uniform": return { kind: "uniform", lo: v.lo!, hi: v.hi! };
      case "normal": return { kind: "normal", mean: v.mean!, std: v.std! };
      default: return { kind: call.callee.name as "zeros" };
    }
  }
}

/** Each name the program's statements define, at its first definition. */
function definedNames(program: Program): Map<string, Span> {
  const names = new Map<string, Span>();
  for (const s of program.statements) {
    const defined = s.kind === "dim" ? s.names : s.kind === "def" || s.kind === "input" || s.kind === "param" || s.kind === "fn" ? [s.name] : [];
    for (const n of defined) if (!names.has(n.name)) names.set(n.name, n.span);
  }
  return names;
}

/** Constant numeric arguments against a schema of (name, default). */
function numericArgs(
  fnName: string,
  schema: [string, number | undefined][],
  call: Extract<Expr, { kind: "call" }>,
): Record<string, number> {
  checkKeywords(fnName, schema.map(([n]) => n), call, () => false);
  if (call.args.length > schema.length) {
    fail("E0105", call.span, fnName, `at most ${schema.length} argument${schema.length === 1 ? "" : "s"}`, call.args.length);
  }
  const values: Record<string, number> = {};
  const given = new Map<string, Expr>();
  call.args.forEach((a, i) => given.set(schema[i]![0], a));
  for (const k of call.kwargs) {
    if (!schema.some(([n]) => n === k.name.name)) fail("E0106", k.name.span, fnName, k.name.name);
    if (given.has(k.name.name)) fail("E0007", k.name.span, k.name.name);
    given.set(k.name.name, k.value);
  }
  for (const [name, dflt] of schema) {
    const e = given.get(name);
    if (!e) {
      if (dflt === undefined) fail("E0107", call.span, fnName, name);
      values[name] = dflt;
      continue;
    }
    const v = constNumber(e);
    if (v === undefined || !Number.isFinite(v)) fail("E0116", e.span, fnName, name);
    values[name] = v;
  }
  return values;
}
