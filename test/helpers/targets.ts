// The wasm target against the JS target on one model: forward, predict, the objective and
// every gradient, in f32, at random and adversarial values, within f32 rounding. Shared by
// test/wasm/model.test.ts (whole models) and test/wasm/ops.test.ts (every op of the table).

import { expect } from "vitest";
import { compile, type CompiledModel, type TypedArray } from "../../src/index";
import { rng } from "./random";
import { sampleValues, type ValueMode } from "./values";

/** Values of one input or param: `length` numbers from `r` (ids, labels, one-hot rows). */
export type Generator = (length: number, r: () => number) => number[];

/** Integer ids in [0, k). */
export const ids = (k: number): Generator => (length, r) => Array.from({ length }, () => Math.floor(r() * k));
/** Rows of one-hot vectors over `k` classes. */
export const oneHotRows = (k: number): Generator => (length, r) => {
  const out = new Array<number>(length).fill(0);
  for (let row = 0; row < length / k; row++) out[row * k + Math.floor(r() * k)] = 1;
  return out;
};
export const uniform = (lo: number, hi: number): Generator => (length, r) => Array.from({ length }, () => lo + (hi - lo) * r());

export type Args = Record<string, Float32Array | number>;

/** Arguments for every input and param of `model`: a generator's where given, else
 *  sampleValues in `mode`; f32 values, so both targets see the same numbers. */
export function targetArgs(model: CompiledModel, seed: number, mode: ValueMode, generators: Record<string, Generator> = {}, dims: Record<string, number> = {}): Args {
  const r = rng(seed);
  const out: Args = {};
  for (const d of [...model.meta.inputs, ...model.meta.params]) {
    const n = (d.shape as (number | string)[]).reduce<number>((a, b) => a * (typeof b === "number" ? b : dims[b]!), 1);
    const gen = generators[d.name];
    out[d.name] = Float32Array.from(gen ? gen(n, r) : sampleValues(n, r, mode));
  }
  return out;
}

/** |got - want| <= rtol * (|want| + the tensor's largest |want|), NaN matching NaN. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, label: string): void {
  expect(got.length, label).toBe(want.length);
  let scale = 0;
  for (let i = 0; i < want.length; i++) if (Number.isFinite(want[i]!)) scale = Math.max(scale, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w)) || g === w) continue;
    if (!(Math.abs(g - w) <= rtol * (Math.abs(w) + scale))) expect.fail(`${label}[${i}]: wasm ${g}, js ${w}`);
  }
}

export const asArray = (v: TypedArray | number | undefined): ArrayLike<number> => (typeof v === "number" ? [v] : v!);

export interface TargetCase {
  source: string;
  /** Dims bound when compiling. */
  sizes?: Record<string, number>;
  /** Free dims' sizes to run at, one entry per run (default: one run, every size bound). */
  runs?: Record<string, number>[];
  values?: Record<string, Generator>;
}

/** Compiles `c` on both targets and compares forward, predict, the objective and every
 *  gradient at seeds 1-3 in `mode` (and at each run's sizes). */
export function compareTargets(c: TargetCase, mode: ValueMode, rtol = 1e-5): void {
  const wasm = compile(c.source, { target: "wasm", filename: "m.grad", sizes: c.sizes });
  const js = compile(c.source, { filename: "m.grad", sizes: c.sizes });
  for (const seed of [1, 2, 3]) for (const dims of c.runs ?? [{}]) {
    const args = targetArgs(js, seed, mode, c.values, dims);
    const fw = wasm.forward(args), fj = js.forward(args);
    for (const key of Object.keys(fj)) expectClose(asArray(fw[key]), asArray(fj[key]), rtol, `seed ${seed}: ${key}`);
    const pw = wasm.predict(args), pj = js.predict(args);
    for (const key of Object.keys(pj)) expectClose(asArray(pw[key]), asArray(pj[key]), rtol, `seed ${seed}: predict ${key}`);
    if (!hasObjective(c.source)) continue;
    const gw = wasm.valueAndGrad(args), gj = js.valueAndGrad(args);
    expectClose([gw.value], [gj.value], rtol, `seed ${seed}: objective`);
    for (const key of Object.keys(gj.grads)) expectClose(gw.grads[key]!, gj.grads[key]!, rtol, `seed ${seed}: d_${key}`);
  }
}

/** Whether the model has an objective (`minimize`): valueAndGrad is E0406 otherwise. */
function hasObjective(source: string): boolean {
  return /^\s*minimize\b/m.test(source);
}
