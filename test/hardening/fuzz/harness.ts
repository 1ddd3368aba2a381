// The checks every fuzz case must pass. A valid model compiles; its f64 gradient agrees
// with central finite differences of forward's objective (gradcheck); its f32 build steps
// without throwing. A mutated model compiles (and then runs and differentiates like a
// valid one) or fails with a GradcError located inside the source. Nothing else may be
// thrown, by the compiler or by the emitted code; a case that takes too long is a failure.

import { gradients } from "../../../src/autodiff";
import { compile, GradcError, gradcheck, type CompiledModel } from "../../../src/index";
import { evaluate } from "../../../src/interpret";
import { lowerSource } from "../../../src/lower";
import { Builder } from "../../../src/ops";
import { rng } from "../../helpers/random";
import { sampleValues } from "../../helpers/values";
import { createRandom } from "../../../src/train/random";
import { generateModel, mutate, Tape, type GeneratedModel } from "./generate";
import { limitsMode } from "../../helpers/limits";

export interface FuzzStats {
  cases: number;
  compiled: number;
  rejected: number;
  gradientElements: number;
  skippedElements: number;
  /** Mutants with a non-finite gradient at a singular point (see `exercise`). */
  singular: number;
  /** GradcError codes of rejected mutants. */
  codes: Map<string, number>;
}

export function newStats(): FuzzStats {
  return { cases: 0, compiled: 0, rejected: 0, gradientElements: 0, skippedElements: 0, singular: 0, codes: new Map() };
}

/** The longest one case may take before it counts as a hang. */
/** Asserted only under `npm run test:limits` (wall-clock budgets stay out of `npm test`). */
const caseBudgetMs = 20_000;
/** Models with more param or input elements than this are compiled and run, not gradchecked. */
const checkBudget = 400;

class FuzzFailure extends Error {}

function failure(what: string, source: string, detail: unknown): never {
  const d = detail instanceof Error ? `${detail.name}: ${detail.message}\n${detail.stack ?? ""}` : String(detail);
  throw new FuzzFailure(`${what}\n--- model ---\n${source}\n--- detail ---\n${d}`);
}

/** Runs `f`; a GradcError comes back as a value, any other exception is a failure. */
function guarded<T>(what: string, source: string, f: () => T): T | GradcError {
  try {
    return f();
  } catch (e) {
    if (e instanceof GradcError) return e;
    return failure(`${what} threw something other than a GradcError`, source, e);
  }
}

/** A GradcError must point inside the source, or be about an option (no position). */
export function expectLocated(e: GradcError, source: string): void {
  const lines = source.split("\n");
  if (e.line === 0) {
    if (!["E0301"].includes(e.code)) failure(`GradcError ${e.code} without a location: ${e.message}`, source, e);
    return;
  }
  const line = lines[e.line - 1];
  if (line === undefined || e.column < 1 || e.column > line.replace(/\r$/, "").length + 1 || e.file !== "fuzz.grad") {
    failure(`GradcError ${e.code} located outside the source (${e.file}:${e.line}:${e.column}): ${e.message}`, source, e);
  }
  if (!e.rendered.startsWith(`fuzz.grad:${e.line}:${e.column}: error: `)) failure("badly rendered diagnostic", source, e.rendered);
}

function inputValues(model: CompiledModel, dims: Record<string, number>, seed: number, f64: boolean): Record<string, Float32Array | Float64Array | number> | undefined {
  const random = createRandom(seed);
  const out: Record<string, Float32Array | Float64Array | number> = {};
  let total = 0;
  for (const d of model.meta.inputs) {
    const n = d.shape.reduce<number>((c, s) => c * (typeof s === "number" ? s : (dims[s] ?? 3)), 1);
    total += n;
    if (total > 100_000) return undefined;
    const a = f64 ? new Float64Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = 2 * random() - 1;
    // An own property even for `__proto__` (assignment would set the prototype).
    Object.defineProperty(out, d.name, { value: d.shape.length === 0 ? a[0]! : a, enumerable: true });
  }
  return out;
}

/** The interpreter's gradient of the objective at one element (the f64 reference on the
 *  unsimplified gradient graph) is `value`, NaN and infinities included. */
function sameAsReference(source: string, sizes: Record<string, number> | undefined, dims: Record<string, number>, model: CompiledModel, values: Record<string, Float32Array | Float64Array | number>, param: string, index: number, value: number): boolean {
  const program = lowerSource(source, { filename: "fuzz.grad", sizes });
  const p = program.params.find((d) => d.name === param)!;
  const [g] = gradients(new Builder(program.graph, undefined), program.objective!.node, [p.node]);
  const inputs = new Map<string, ArrayLike<number>>();
  for (const [k, v] of [...Object.entries(model.params), ...Object.entries(values)]) inputs.set(k, typeof v === "number" ? [v] : v);
  const want = evaluate([g!], { values: inputs, dims: new Map(Object.entries(dims)) }).get(g!)!.data[index]!;
  return Object.is(want, value) || (Number.isNaN(want) && Number.isNaN(value));
}

/** Emitted f64 code against the interpreter at adversarial inputs (ties, zeros of both
 *  signs, small integers: where tie rules and kinks decide the value, which random floats
 *  never reach): the objective and every gradient, relative to each tensor's finite scale.
 *  Returns what disagreed, or undefined. */
function adversarialDisagreement(source: string, sizes: Record<string, number> | undefined, dims: Record<string, number>, model: CompiledModel, seed: number): string | undefined {
  const program = lowerSource(source, { filename: "fuzz.grad", sizes });
  const objective = program.objective!.node;
  const grads = gradients(new Builder(program.graph, undefined), objective, program.params.map((p) => p.node));
  const r = rng(seed ^ 0x5bd1e995);
  const values: Record<string, Float64Array | number> = {};
  const env = new Map<string, ArrayLike<number>>(Object.entries(model.params));
  for (const d of model.meta.inputs) {
    const n = d.shape.reduce<number>((c, s) => c * (typeof s === "number" ? s : (dims[s] ?? 3)), 1);
    const a = Float64Array.from(sampleValues(n, r, "adversarial"));
    Object.defineProperty(values, d.name, { value: d.shape.length === 0 ? a[0]! : a, enumerable: true });
    env.set(d.name, a);
  }
  const want = evaluate([objective, ...grads], { values: env, dims: new Map(Object.entries(dims)) });
  const got = guarded("valueAndGrad at adversarial values", source, () => model.valueAndGrad(values));
  if (got instanceof GradcError) return undefined; // e.g. ids out of range: a located refusal
  const pairs: [string, ArrayLike<number>, ArrayLike<number>][] = [
    ["objective", [got.value], want.get(objective)!.data],
    ...program.params.map((p, i): [string, ArrayLike<number>, ArrayLike<number>] => [`d_${p.name}`, got.grads[p.name] as ArrayLike<number>, want.get(grads[i]!)!.data]),
  ];
  for (const [label, g, w] of pairs) {
    let scale = 0;
    for (let i = 0; i < w.length; i++) if (Number.isFinite(w[i]!)) scale = Math.max(scale, Math.abs(w[i]!));
    for (let i = 0; i < w.length; i++) {
      const a = g[i]!, b = w[i]!;
      if (Object.is(a, b) || a === b || (Number.isNaN(a) && Number.isNaN(b))) continue;
      if (!Number.isFinite(a) || !Number.isFinite(b) || Math.abs(a - b) > 1e-9 * (Math.abs(b) + scale)) return `${label}[${i}]: emitted ${a}, interpreter ${b}`;
    }
  }
  return undefined;
}

const paramSize = (m: CompiledModel) => Object.values(m.params).reduce((c, p) => c + p.length, 0);

/** Compile, run, gradcheck and step one model; `valid` models must compile. */
function exercise(source: string, sizes: Record<string, number> | undefined, dims: Record<string, number>, seed: number, valid: boolean, stats: FuzzStats): void {
  const started = Date.now();
  stats.cases++;
  const compiled = guarded("compile", source, () => compile(source, { sizes, dtype: "f64", filename: "fuzz.grad", seed }));
  if (compiled instanceof GradcError) {
    if (valid) failure(`a valid model did not compile: ${compiled.rendered}`, source, compiled);
    stats.rejected++;
    stats.codes.set(compiled.code, (stats.codes.get(compiled.code) ?? 0) + 1);
    expectLocated(compiled, source);
    return;
  }
  stats.compiled++;
  const model = compiled;
  if (paramSize(model) > 1_000_000) return;
  const values = inputValues(model, dims, seed, true);
  if (!values) return;
  const fwd = guarded("forward", source, () => model.forward(values));
  if (fwd instanceof GradcError) failure(`forward rejected well-formed values: ${fwd.message}`, source, fwd);
  const hasObjective = !(guarded("valueAndGrad", source, () => model.valueAndGrad(values)) instanceof GradcError);
  if (valid && !hasObjective) failure("valueAndGrad failed on a valid model", source, "");
  if (hasObjective) {
    const { value } = model.valueAndGrad(values);
    if (valid && !Number.isFinite(value)) failure(`the objective of a valid model is ${value}`, source, "");
    const small = paramSize(model) + Object.values(values).reduce<number>((c, v) => c + (typeof v === "number" ? 1 : v.length), 0) <= checkBudget;
    // A mutant's numbers are anything (`normal(1e12, 0.5)`): where params are huge, the
    // finite-difference step (1e-5 |x|) spans many periods of a sin or cos, and no
    // quotient measures the derivative.
    const tame = valid || Object.values(model.params).every((p) => p.every((x) => Math.abs(x) <= 1e3));
    if (Number.isFinite(value) && small && tame) {
      // gradcheck's own tolerance: it checks only the elements its finite differences can
      // settle (their estimated error well under the tolerance) and skips the rest.
      const result = guarded("gradcheck", source, () => gradcheck(model, { values, points: 1, seed }));
      if (result instanceof GradcError) failure(`gradcheck failed: ${result.message}`, source, result);
      for (const r of result.params) { stats.gradientElements += r.checked; stats.skippedElements += r.skipped; }
      for (const r of result.params) {
        if (r.ok || r.checked === 0) continue; // nothing settled, nothing to judge
        // A mutant may put a function at a singular point of its derivative (sqrt(0) times a
        // zero slope: Infinity * 0 = NaN, as IEEE says): a non-finite gradient is accepted
        // only where the reference interpreter computes the same non-finite value.
        const at = r.worstAt!;
        if (!valid && !Number.isFinite(at.gradient) && sameAsReference(source, sizes, dims, model, values, r.name, at.index, at.gradient)) {
          stats.singular++;
          continue;
        }
        failure("the gradient disagrees with finite differences", source, JSON.stringify(result.params, null, 1));
      }
    }
  }
  if (hasObjective && Number.isFinite(model.valueAndGrad(values).value) && paramSize(model) <= checkBudget) {
    const disagreement = adversarialDisagreement(source, sizes, dims, model, seed);
    if (disagreement) failure(`emitted code and the interpreter disagree at adversarial values: ${disagreement}`, source, "");
  }
  // The f32 build: forward, and a few optimizer steps, must not throw.
  const f32 = guarded("compile f32", source, () => compile(source, { sizes, filename: "fuzz.grad", seed }));
  if (f32 instanceof GradcError) failure(`f32 compile failed where f64 compiled: ${f32.message}`, source, f32);
  const values32 = inputValues(f32, dims, seed, false)!;
  const run = guarded("f32 forward/step", source, () => {
    f32.forward(values32);
    if (hasObjective) for (let k = 0; k < 3; k++) f32.step(values32);
    return 0;
  });
  if (run instanceof GradcError && (run.code !== "E0406" || hasObjective)) failure(`f32 run rejected well-formed values: ${run.message}`, source, run);
  if (limitsMode && Date.now() - started > caseBudgetMs) failure(`one case took ${Date.now() - started} ms`, source, "");
}

export function checkValidModel(tape: number[], seed: number, stats: FuzzStats): GeneratedModel {
  const model = generateModel(new Tape(tape));
  exercise(model.source, model.sizes, model.runtimeDims, seed, true, stats);
  return model;
}

export function checkMutant(tape: number[], mutations: number[], seed: number, stats: FuzzStats): string {
  const model = generateModel(new Tape(tape));
  const text = mutate(model.source, new Tape(mutations), 1 + (seed % 3));
  exercise(text, model.sizes, model.runtimeDims, seed, false, stats);
  return text;
}

export function formatStats(label: string, s: FuzzStats, ms: number): string {
  const codes = [...s.codes].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c}x${n}`).join(" ");
  return `${label}: ${s.cases} cases in ${(ms / 1000).toFixed(1)} s (${s.compiled} compiled, ${s.rejected} rejected with located GradcErrors${codes ? `: ${codes}` : ""}); ` +
    `${s.gradientElements} gradient elements checked against finite differences, ${s.skippedElements} skipped at kinks` +
    (s.singular > 0 ? `, ${s.singular} models with a non-finite gradient at a singular point` : "");
}
