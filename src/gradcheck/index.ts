// The gradient checker for users (`gradc gradcheck`, `gradcheck()`): the emitted gradient
// of an f64 model against central finite differences of `forward`'s objective, at seeded
// random points. Each point draws the inputs uniformly from [-1, 1) (unless given) and the
// params from the model's own initialisers, jittered so that no element sits at a kink.
// Elements where the difference quotient itself is unstable (a kink, a branch of `where`,
// a max tie inside the step: estimates from steps h, h/2 and h/2, h/4 disagree) are
// counted as skipped, not as errors; differences within the estimate's own uncertainty
// count as zero.

import { fail } from "../diagnostics";
import { createRandom } from "../train/random";

type Values = Record<string, Float32Array | Float64Array | number>;

/** What gradcheck needs of a compiled model (a `CompiledModel` or an imported module). */
export interface CheckableModel {
  meta: { inputs: { name: string; shape: (number | string)[] }[]; params: { name: string; shape: (number | string)[] }[]; outputs: { name: string; shape: (number | string)[] }[] };
  createParams(seed?: number): Record<string, Float32Array | Float64Array>;
  forward(values: Values): Record<string, Float32Array | Float64Array | number>;
  valueAndGrad(values: Values): { value: number; grads: Record<string, Float32Array | Float64Array> };
}

export interface GradcheckOptions {
  /** Seed of the first point; point k uses seed + k. Default 1. */
  seed?: number;
  /** How many random points. Default 3. */
  points?: number;
  /** The largest acceptable relative error. Default 1e-4. */
  tolerance?: number;
  /** Fixed input values (by name); other inputs are drawn from [-1, 1). */
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
  /** Elements left out because the finite difference is unstable there (kinks). */
  skipped: number;
  /** The largest relative error over the checked elements: (|g - fd| - u) / max(|g|, |fd|,
   *  1e-3 * the param's largest |fd|), where u is the difference quotient's own
   *  uncertainty (rounding, and the gap between steps h and h/2); 0 when within it. */
  worst: number;
  /** Where the worst error was seen. */
  worstAt?: { point: number; index: number; gradient: number; difference: number };
  ok: boolean;
}

export interface GradcheckResult {
  ok: boolean;
  tolerance: number;
  points: number;
  params: ParamReport[];
}

/** Check a model's gradient against central differences of its forward objective. */
export function checkGradients(model: CheckableModel, options: GradcheckOptions = {}): GradcheckResult {
  const seed = option(options.seed, 1, "seed", (v) => Number.isInteger(v));
  const points = option(options.points, 3, "points", (v) => Number.isInteger(v) && v >= 1);
  const tolerance = option(options.tolerance, 1e-4, "tolerance", (v) => v > 0);
  const maxElements = option(options.maxElements, 64, "maxElements", (v) => Number.isInteger(v) && v >= 1);
  const base = model.createParams(seed);
  const names = model.meta.params.map((p) => p.name);
  if (names.some((n) => !(base[n] instanceof Float64Array))) {
    fail("E0304", undefined, "gradcheck needs an f64 model: compile it with dtype \"f64\" (or pass the source)");
  }
  const reports: ParamReport[] = names.map((name) => ({ name, size: base[name]!.length, checked: 0, skipped: 0, worst: 0, ok: true }));

  for (let point = 0; point < points; point++) {
    const random = createRandom(seed + point);
    const values = drawInputs(model, options, random);
    const params = model.createParams(seed + point);
    for (const name of names) {
      const p = params[name]!;
      // Jitter keeps the initialiser's scale and sign but leaves kinks (zeros) behind.
      for (let i = 0; i < p.length; i++) p[i] = p[i]! * (1 + 0.1 * (2 * random() - 1)) + 0.01 * (2 * random() - 1);
      put(values, name, p);
    }
    const objective = objectiveReader(model, values);
    const { grads } = model.valueAndGrad(values);
    const analytic = Object.fromEntries(names.map((n) => [n, Float64Array.from(grads[n]!)]));
    names.forEach((name, k) => {
      const p = params[name]!;
      const g = analytic[name]!;
      const indices = chooseIndices(p.length, maxElements, random);
      const fds: number[] = [];
      const checks: ({ fd: number; uncertainty: number } | undefined)[] = [];
      for (const i of indices) {
        const x = p[i]!;
        const h = 1e-5 * Math.max(1, Math.abs(x));
        const at = (dx: number) => { p[i] = x + dx; const v = objective(); p[i] = x; return v; };
        // Central quotients at steps h, h/2, h/4, and two Richardson estimates from them
        // (the O(h^2) errors cancel, leaving O(h^4)).
        const fmax = { v: 0 };
        const quotient = (s: number) => {
          const [up, down] = [at(s), at(-s)];
          fmax.v = Math.max(fmax.v, Math.abs(up), Math.abs(down));
          return (up - down) / (2 * s);
        };
        const [q1, q2, q3] = [quotient(h), quotient(h / 2), quotient(h / 4)];
        const coarse = q2 + (q2 - q1) / 3;
        const fd = q3 + (q3 - q2) / 3;
        // Rounding of the objective, amplified by the smallest step's quotient (about 4500
        // ulps of the largest value, for objectives summed from many terms).
        const noise = (1e-12 * fmax.v) / (h / 4);
        const gap = Math.abs(fd - coarse);
        fds.push(fd);
        // Smooth: the two estimates agree to O(h^4) plus rounding. Else a kink, a branch
        // or a tie lies within a step, and the element cannot be checked here.
        const smooth = gap <= 1e-4 * Math.max(Math.abs(fd), Math.abs(coarse)) + 4 * noise;
        checks.push(smooth && Number.isFinite(fd) ? { fd, uncertainty: gap + 2 * noise } : undefined);
      }
      const scale = Math.max(0, ...fds.filter(Number.isFinite).map(Math.abs));
      const report = reports[k]!;
      indices.forEach((i, j) => {
        const c = checks[j];
        const gi = g[i]!;
        if (c === undefined) { report.skipped++; return; }
        report.checked++;
        const { fd, uncertainty } = c;
        const err = Number.isFinite(gi)
          ? Math.max(0, Math.abs(gi - fd) - uncertainty) / Math.max(Math.abs(gi), Math.abs(fd), 1e-3 * scale, 1e-12)
          : Infinity;
        if (err > report.worst || report.worstAt === undefined) {
          report.worst = Math.max(report.worst, err);
          report.worstAt = { point, index: i, gradient: gi, difference: fd };
        }
      });
    });
  }
  for (const r of reports) r.ok = r.worst <= tolerance;
  return { ok: reports.every((r) => r.ok), tolerance, points, params: reports };
}

/** A one-line-per-param table of a result, for the CLI. */
export function formatGradcheck(result: GradcheckResult, label: string): string {
  const rows = result.params.map((r) => [r.name, String(r.size), String(r.checked), String(r.skipped), r.worst.toExponential(2), r.ok ? "ok" : "FAIL"]);
  const header = ["param", "size", "checked", "skipped", "worst rel. error", ""];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => cells.map((s, c) => s.padEnd(widths[c]!)).join("  ").trimEnd();
  const out = [`gradcheck ${label}: ${result.points} point${result.points === 1 ? "" : "s"}, f64 central differences`, line(header), ...rows.map(line)];
  out.push(result.params.length === 0
    ? "no params: nothing to check"
    : result.ok ? `ok: every param within ${result.tolerance}` : `FAILED: over the tolerance ${result.tolerance}`);
  return `${out.join("\n")}\n`;
}

function option(v: number | undefined, dflt: number, name: string, valid: (v: number) => boolean): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !valid(v)) fail("E0304", undefined, `gradcheck: ${name} cannot be ${String(v)}`);
  return v;
}

function drawInputs(model: CheckableModel, options: GradcheckOptions, random: () => number): Values {
  const out: Values = {};
  const given = options.values ?? {};
  for (const d of model.meta.inputs) {
    if (Object.prototype.hasOwnProperty.call(given, d.name)) { put(out, d.name, given[d.name]!); continue; }
    const n = d.shape.reduce<number>((acc, s) => acc * (typeof s === "number" ? s : (options.dims?.[s] ?? 3)), 1);
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = 2 * random() - 1;
    put(out, d.name, d.shape.length === 0 ? a[0]! : a);
  }
  return out;
}

/** `record[key] = value` as an own property, even for `__proto__`. */
function put(record: Values, key: string, value: Values[string]): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
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

function chooseIndices(n: number, max: number, random: () => number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const picked = new Set<number>();
  while (picked.size < max) picked.add(Math.floor(random() * n));
  return [...picked].sort((a, b) => a - b);
}
