// gradc's public API. It only wires the phases: parse -> lower -> grad -> simplify ->
// schedule -> emit, and turns the emitted code into a live model with `new Function`.

import { gradients } from "./autodiff";
import { emitSource, type CodegenOptions, type ModelIR } from "./codegen";
import { emitWasmSource } from "./codegen/wasm";
import { fail, GradcError, InternalError } from "./diagnostics";
import { checkGradients, findIdInputs, rememberFrozenParams, rememberIdInputs, type CheckableModel, type GradcheckOptions, type GradcheckResult } from "./gradcheck";
import type { Shape } from "./ir";
import { lowerProgram, lowerSource, requireReadableDims, trainable, type LoweredProgram } from "./lower";
import { Builder, mergeLoops } from "./ops";
import { printExpression } from "./print";
import { readsTraining, simplify, specialiseTraining } from "./simplify";
import { keywords, parseExpression, type Expr, type Program } from "./syntax";
import { validateDims, validateOptions } from "./options";
import { gradTag } from "./grad-tag";

export { GradcError } from "./diagnostics";
export { formatGradcheck, type GradcheckOptions, type GradcheckResult, type ParamReport } from "./gradcheck";
// The inline `grad` tag, over `compile` below (grad-tag.ts receives it: no import cycle).
// Pure: a bundle that never calls `grad` drops it, and with it the compiler.
export const grad = /* @__PURE__ */ gradTag(compile);
export * from "./train";

export interface Descriptor {
  name: string;
  shape: (number | string)[];
}

export interface ModelMeta {
  inputs: Descriptor[];
  params: Descriptor[];
  outputs: Descriptor[];
}

export interface CheckOptions {
  filename?: string;
  sizes?: Record<string, number>;
}

export interface CompileOptions extends CheckOptions {
  dtype?: "f32" | "f64";
  seed?: number;
  /** What the model's kernels are emitted as: JavaScript (the default) or WebAssembly
   *  with SIMD128 matmuls (docs/wasm.md: what it covers so far; the rest is refused with
   *  E0308). */
  target?: "js" | "wasm";
}

export type TypedArray = Float32Array | Float64Array;

export interface CompiledModel {
  meta: ModelMeta;
  params: Record<string, TypedArray>;
  createParams(seed?: number): Record<string, TypedArray>;
  forward(values: Record<string, TypedArray | number>): Record<string, TypedArray | number>;
  valueAndGrad(values: Record<string, TypedArray | number>): { value: number; grads: Record<string, TypedArray> };
  step(values: Record<string, TypedArray | number>): number;
  /** The declared outputs only, from just the inputs they depend on (no labels, no
   *  objective); `dropout` is the identity. Arrays are owned by the model, as forward's. */
  predict(values: Record<string, TypedArray | number>): Record<string, TypedArray | number>;
  /** Models that draw (rand, randn, dropout) only: set the generator state, as compiled
   *  with `seed` after `calls` calls (default 0); the params are not touched. */
  reseed?(seed: number, calls?: number): void;
  /** wasm target only: resolves once the WebAssembly module is compiled. Node (and an
   *  emitted ES module, by top-level await) compiles it before the model is returned; a
   *  browser's main thread compiles large modules only asynchronously, and calls before
   *  this resolves throw E0308 (docs/wasm.md). */
  ready?: Promise<void>;
  /** Models that draw only: the generator state; `reseed(seed, calls)` restores it. */
  randomState?(): { seed: number; calls: number };
  source: string;
}

/** Check a program: throws GradcError, or returns its descriptors. It takes compile's
 *  options too (dtype and seed change nothing here), so one options object serves both. */
export function check(source: string, options: CompileOptions = {}): ModelMeta {
  validateOptions("check", options);
  const program = lower(source, options);
  requireReadableDims(program);
  return describe(program);
}

/** Compile a program to a live model. */
export function compile(source: string, options: CompileOptions = {}): CompiledModel {
  validateOptions("compile", options);
  const { text, model } = compileToSource(source, { ...options, format: "function" });
  let factory: (errorClass: typeof GradcError) => Omit<CompiledModel, "source">;
  try {
    factory = new Function("GradcError", text) as typeof factory;
  } catch (e) {
    throw new InternalError("emitted code does not parse", String(e));
  }
  let live: Omit<CompiledModel, "source">;
  try {
    live = factory(GradcError);
  } catch (e) {
    // Params, arenas and optimizer state are allocated here: an engine that cannot give
    // that much memory throws RangeError ("Array buffer allocation failed").
    if (e instanceof RangeError) fail("E0222", undefined, e.message);
    throw e;
  }
  // Which inputs hold ids, so gradcheck can draw valid ones for this model.
  rememberFrozenParams(live.meta, model.program.params.filter((p) => p.frozen).map((p) => p.name));
  rememberIdInputs(live.meta, findIdInputs([...model.outputs, ...(model.objective ? [model.objective] : []), ...(model.grads ?? [])]));
  return { ...live, source: text };
}

export interface SourceOptions extends CompileOptions {
  format?: CodegenOptions["format"];
}

/** The emitted JavaScript for a program (a module for "esm"/"cjs"). */
export function compileToSource(source: string, options: SourceOptions = {}): { text: string; model: ModelIR } {
  validateOptions("source", options);
  const dtype = options.dtype ?? "f32";
  const seed = options.seed ?? 1;
  const program = lower(source, options);
  requireReadableDims(program);
  const model = buildModel(program);
  const codegen: CodegenOptions = { dtype, seed, format: options.format ?? "esm", filename: options.filename ?? "<input>" };
  const text = options.target === "wasm" ? emitWasmSource(model, codegen) : emitSource(model, codegen);
  return { text, model };
}

/** Compare a model's gradient with central finite differences of its objective, in f64, at
 *  seeded random points; a source is compiled in f64 first (with `sizes`, `seed`, `filename`). */
export function gradcheck(model: CompiledModel | CheckableModel | string, options: GradcheckOptions & CheckOptions & { seed?: number } = {}): GradcheckResult {
  validateOptions("gradcheck", options);
  // A compiled model's sizes and filename are fixed: passing them would silently do nothing.
  const compileOnly = (["sizes", "filename"] as const).filter((k) => options[k] !== undefined);
  if (typeof model !== "string" && compileOnly.length > 0) {
    fail("E0304", undefined, `\`${compileOnly[0]}\` applies only when gradcheck compiles a source string; this model is compiled already`);
  }
  const live = typeof model === "string"
    ? compile(model, { filename: options.filename, sizes: options.sizes, seed: options.seed, dtype: "f64" })
    : model;
  if (live === null || typeof live !== "object") fail("E0304", undefined, "gradcheck takes a compiled model or a source string");
  validateDims(options.dims, (live as CheckableModel).meta);
  return checkGradients(live as CheckableModel, options);
}

/** Differentiate, then simplify every root together so shared work stays shared. */
export function buildModel(program: LoweredProgram): ModelIR {
  const b = new Builder(program.graph, undefined);
  const outputs = program.outputs.map((o) => o.node);
  const objective = program.objective?.node;
  // Frozen params are never differentiated: no gradient code exists for them.
  const grads = objective ? gradients(b, objective, trainable(program.params).map((p) => p.node)) : undefined;
  // (a loop's gradient reads what its forward steps saved: one loop computes both)
  const roots = mergeLoops(b, [...outputs, ...(objective ? [objective] : []), ...(grads ?? [])]);
  const simple = simplify(program.graph, roots);
  const k = outputs.length;
  const model: ModelIR = {
    program,
    outputs: simple.slice(0, k),
    objective: objective ? simple[k] : undefined,
    grads: grads ? simple.slice(k + 1) : undefined,
  };
  return readsTraining(simple) ? specialiseModel(model) : model;
}

/** dropout is active only while training: the outputs and forward's objective see the
 *  training flag off, the objective and gradients of valueAndGrad and step see it on. */
function specialiseModel(model: ModelIR): ModelIR {
  const graph = model.program.graph;
  const k = model.outputs.length;
  const off = specialiseTraining(graph, [...model.outputs, ...(model.objective ? [model.objective] : [])], false);
  const on = model.objective ? specialiseTraining(graph, [model.objective, ...(model.grads ?? [])], true) : undefined;
  return {
    ...model,
    outputs: off.slice(0, k),
    objective: on?.[0],
    forwardObjective: model.objective ? off[k] : undefined,
    grads: model.grads ? on!.slice(1) : undefined,
  };
}

/** d(expr)/d(wrt) for a scalar expression of elementwise built-ins, simplified, as one
 *  gradc expression. Every free name in the expression is a scalar variable. */
export function derivative(expr: string, wrt: string): string {
  // It has no options: a third argument is a mistake, not something to ignore.
  if (arguments.length > 2) fail("E0304", undefined, `derivative(expr, wrt) takes two arguments, but ${arguments.length} were given`);
  if (typeof expr !== "string" || typeof wrt !== "string") fail("E0304", undefined, "derivative(expr, wrt) takes two strings");
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(wrt) || keywords.has(wrt)) fail("E0304", undefined, `\`${wrt}\` is not a variable name`);
  const source = { file: "<expr>", text: expr };
  const e = parseExpression(source);
  const names = new Set<string>([wrt]);
  collectNames(e, names);
  let result = "result";
  while (names.has(result)) result = `_${result}`;
  const statements: Program["statements"] = [...names].map((n) => ({ kind: "input" as const, name: { name: n, span: e.span }, span: e.span }));
  statements.push({ kind: "def", name: { name: result, span: e.span }, value: e, span: e.span });
  const lowered = lowerProgram({ statements }, source, {});
  const y = lowered.definitions.get(result)!;
  if (y.shape.length !== 0) fail("E0219", e.span, `[${y.shape.join(", ")}]`);
  const w = lowered.inputs.find((i) => i.name === wrt)!.node;
  const [g] = gradients(new Builder(lowered.graph, e.span), y, [w]);
  const [simple] = simplify(lowered.graph, [g!]);
  return printExpression(simple!);
}

function lower(source: string, options: CheckOptions): LoweredProgram {
  if (typeof source !== "string") fail("E0304", undefined, "the source must be a string");
  if (options.sizes !== undefined && (options.sizes === null || typeof options.sizes !== "object")) {
    fail("E0304", undefined, "sizes must be an object like { n: 64 }");
  }
  return lowerSource(source, { filename: options.filename ?? "<input>", sizes: options.sizes });
}

function describe(program: LoweredProgram): ModelMeta {
  const d = (list: { name: string; shape: Shape }[]) => list.map((x) => ({ name: x.name, shape: [...x.shape] }));
  return { inputs: d(program.inputs), params: d(program.params), outputs: d(program.outputs) };
}

/** The names `root` mentions; with a work list, since a flat 20,000-term sum is a tree
 *  20,000 deep. */
function collectNames(root: Expr, into: Set<string>): void {
  const work = [root];
  for (let e = work.pop(); e; e = work.pop()) {
    switch (e.kind) {
      case "name": into.add(e.name); break;
      case "unary": work.push(e.operand); break;
      case "paren": work.push(e.inner); break;
      case "binary": work.push(e.left, e.right); break;
      case "call": work.push(...e.args, ...e.kwargs.map((k) => k.value)); break;
      case "index": work.push(e.target); break;
      case "list": work.push(...e.items); break;
      default: break;
    }
  }
}
