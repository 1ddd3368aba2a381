// The gradient checker for users (`gradc gradcheck`, `gradcheck()`): the emitted gradient
// of an f64 model against Richardson-extrapolated central differences of `forward`'s
// objective, at seeded random points (sample.ts draws them; ids come out valid). An
// element where the estimate is unstable (a kink, a branch of `where`, a max tie within a
// step) is skipped, not failed; elsewhere the error counts beyond the estimate's own
// uncertainty (difference.ts), and the report says how fine that uncertainty is. A model
// that draws (rand, randn, dropout) is differenced through valueAndGrad's value with its
// generator reset before every call, so each evaluation sees the same draws and masks.

import { fail } from "../diagnostics";
import { createRandom } from "../train/random";
import { centralDifference } from "./difference";
import { rememberedIdInputs } from "./ids";
import { chooseIndices, dimValues, drawInputs, put, type Values } from "./sample";

export { findIdInputs, rememberIdInputs } from "./ids";
export { formatGradcheck } from "./format";

/** What gradcheck needs of a compiled model (a `CompiledModel` or an imported module). */
export interface CheckableModel {
  meta: { inputs: { name: string; shape: (number | string)[] }[]; params: { name: string; shape: (number | string)[] }[]; outputs: { name: string; shape: (number | string)[] }[] };
  createParams(seed?: number): Record<string, Float32Array | Float64Array>;
  forward(values: Values): Record<string, Float32Array | Float64Array | number>;
  valueAndGrad(values: Values): { value: number; grads: Record<string, Float32Array | Float64Array> };
  /** Present on models that draw: their generator, held fixed during the check. */
  reseed?(seed: number, calls?: number): void;
  randomState?(): { seed: number; calls: number };
}

export interface GradcheckOptions {
  /** Seed of the first point; point k uses seed + k. Default 1. */
  seed?: number;
  /** How many random points. Default 3. */
  points?: number;
  /** The largest acceptable relative error beyond the finite-difference uncertainty.
   *  Default 1e-6: f64 differences resolve ~1e-9 on ordinary models, so a gradient off by
   *  one part in 10^5 anywhere fails. */
  tolerance?: number;
  /** Fixed input values (by name); other inputs are drawn from [-1, 1), ids from [0, bound). */
  values?: Values;
  /** Values of free dims for drawn inputs. Default 3 each. */
  dims?: Record<string, number>;
  /** Elements checked per param and point, chosen at random when a param is larger. Default 64. */
  maxElements?: number;
}

export interface ParamReport {
  name: string;
  /** Elements of the param. */
  size: number;
  /** Element comparisons made, over all points. */
  checked: number;
  /** Elements left out because finite differences cannot settle them to the tolerance: a
   *  kink, a branch of `where` or a tie within a step, or a gradient so small against the
   *  others that rounding swamps it. */
  skipped: number;
  /** The largest relative difference |g - fd| / max(|g|, |fd|, 1e-3 * the largest |fd| of
   *  any param), over the checked elements. */
  worst: number;
  /** The finite differences' own relative uncertainty (rounding, and the gap between two
   *  extrapolations), the largest over the checked elements: a smaller `worst` says only
   *  that no difference could be seen. */
  resolution: number;
  /** The element whose error beyond its uncertainty was largest (else the largest
   *  difference). */
  worstAt?: { point: number; index: number; gradient: number; difference: number };
  /** Every checked element within `tolerance` beyond its uncertainty, and at least one
   *  element checked. */
  ok: boolean;
}

export interface GradcheckResult {
  ok: boolean;
  tolerance: number;
  points: number;
  params: ParamReport[];
}

/** The frozen params of compiled models, keyed by `meta` as the id inputs are (ids.ts). */
const frozenParams = new WeakMap<object, ReadonlySet<string>>();

export function rememberFrozenParams(meta: object, names: readonly string[]): void {
  if (names.length > 0) frozenParams.set(meta, new Set(names));
}

/** Check a model's gradient against central differences of its forward objective. */
export function checkGradients(model: CheckableModel, options: GradcheckOptions = {}): GradcheckResult {
  const seed = option(options.seed, 1, "seed", (v) => Number.isInteger(v));
  const points = option(options.points, 3, "points", (v) => Number.isInteger(v) && v >= 1);
  const tolerance = option(options.tolerance, 1e-6, "tolerance", (v) => v > 0);
  const maxElements = option(options.maxElements, 64, "maxElements", (v) => Number.isInteger(v) && v >= 1);
  const base = model.createParams(seed);
  const all = model.meta.params.map((p) => p.name);
  if (all.some((n) => !(base[n] instanceof Float64Array))) {
    fail("E0304", undefined, "gradcheck needs an f64 model: compile it with dtype \"f64\" (or pass the source)");
  }
  const ids = rememberedIdInputs(model.meta);
  const dims = dimValues([...model.meta.inputs.map((d) => d.shape), ...ids.values()], options.dims);
  // A frozen param has no gradient: the others are checked.
  const frozen = frozenParams.get(model.meta);
  const names = all.filter((n) => !frozen?.has(n));
  const reports: ParamReport[] = names.map((name) => ({ name, size: base[name]!.length, checked: 0, skipped: 0, worst: 0, resolution: 0, ok: true }));
  const worst = names.map(() => ({ over: -1, rel: -1 }));
  const generator = model.reseed && model.randomState ? { reseed: model.reseed, randomState: model.randomState } : undefined;
  const start = generator?.randomState();

  for (let point = 0; point < points; point++) {
    const random = createRandom(seed + point);
    const values = drawInputs(model.meta.inputs, options.values ?? {}, ids, dims, random);
    const params = model.createParams(seed + point);
    for (const name of all) {
      const p = params[name]!;
      // Jitter keeps the initialiser's scale and sign but leaves kinks (zeros) behind.
      for (let i = 0; i < p.length; i++) p[i] = p[i]! * (1 + 0.1 * (2 * random() - 1)) + 0.01 * (2 * random() - 1);
      put(values, name, p);
    }
    const objective = generator ? fixedDraws(model, generator, start!, values) : objectiveReader(model, values);
    if (generator) generator.reseed(start!.seed, start!.calls);
    const { grads } = model.valueAndGrad(values);
    const analytic = names.map((n) => {
      const g = grads[n];
      if (!(g instanceof Float64Array) || g.length !== params[n]!.length) {
        fail("E0304", undefined, `gradcheck: valueAndGrad gave no f64 gradient of ${params[n]!.length} elements for \`${n}\``);
      }
      return Float64Array.from(g);
    });
    const estimates = names.map((name) => {
      const p = params[name]!;
      return chooseIndices(p.length, maxElements, random).map((i) => {
        const x = p[i]!;
        return { i, estimate: centralDifference((dx) => { p[i] = x + dx; const v = objective(); p[i] = x; return v; }, x) };
      });
    });
    // Relative errors are taken against at least 1e-3 of the largest derivative of any
    // param here, so a gradient that is zero up to rounding is not held to 1e-6 of itself.
    const largest = Math.max(0, ...estimates.flat().map(({ estimate: e }) => (e.kink ? 0 : Math.abs(e.fd))));
    const floor = largest > 0 ? 1e-3 * largest : 1;
    estimates.forEach((list, k) => {
      const report = reports[k]!;
      for (const { i, estimate } of list) {
        const g = analytic[k]![i]!;
        const { fd, gap, rounding } = estimate;
        const denominator = Math.max(Math.abs(g), Math.abs(fd), floor);
        const res = (gap + rounding) / denominator;
        // The estimate cannot settle this element to the tolerance: a kink, a branch or a
        // tie lies within a step, or rounding swamps a gradient this small.
        if (!Number.isFinite(fd) || gap > (tolerance / 4) * denominator + 4 * rounding || res > tolerance / 2) { report.skipped++; continue; }
        report.checked++;
        const rel = Number.isFinite(g) ? Math.abs(g - fd) / denominator : Infinity;
        report.worst = Math.max(report.worst, rel);
        report.resolution = Math.max(report.resolution, res);
        const over = Math.max(0, rel - res);
        const w = worst[k]!;
        if (over > w.over || (over === w.over && rel > w.rel)) {
          worst[k] = { over, rel };
          report.worstAt = { point, index: i, gradient: g, difference: fd };
        }
      }
    });
  }
  reports.forEach((r, k) => { r.ok = (r.checked > 0 || r.size === 0) && worst[k]!.over <= tolerance; });
  // The check leaves the model's generator where it found it.
  if (generator) generator.reseed(start!.seed, start!.calls);
  return { ok: reports.every((r) => r.ok), tolerance, points, params: reports };
}

function option(v: number | undefined, dflt: number, name: string, valid: (v: number) => boolean): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !valid(v)) fail("E0304", undefined, `gradcheck: ${name} cannot be ${String(v)}`);
  return v;
}

/** The objective with dropout active and the draws of the generator at `at`, at every
 *  evaluation: valueAndGrad's value after resetting the generator. */
function fixedDraws(model: CheckableModel, generator: { reseed(seed: number, calls?: number): void }, at: { seed: number; calls: number }, values: Values): () => number {
  return () => {
    generator.reseed(at.seed, at.calls);
    return model.valueAndGrad(values).value;
  };
}

/** Reads forward's objective: the result key that is not an output, or (when the
 *  objective is itself an output) the scalar output equal to valueAndGrad's value. */
function objectiveReader(model: CheckableModel, values: Values): () => number {
  const outputs = new Set(model.meta.outputs.map((o) => o.name));
  const keys = Object.keys(model.forward(values));
  let key = keys.find((k) => !outputs.has(k));
  if (key === undefined) {
    const value = model.valueAndGrad(values).value;
    const fwd = model.forward(values);
    key = keys.find((k) => typeof fwd[k] === "number" && (Object.is(fwd[k], value) || Math.abs((fwd[k] as number) - value) <= 1e-12 * Math.abs(value)));
  }
  if (key === undefined) return () => model.valueAndGrad(values).value;
  const k = key;
  return () => model.forward(values)[k] as number;
}
