// Shared helpers for the built-in tests: run a program compiled to f64 (or f32), and check
// that the emitted code computes what the reference interpreter computes on the same
// lowered program: every output, the objective and every param's gradient.

import { expect } from "vitest";
import { buildModel, compile, type CompiledModel } from "../../src/index";
import { evaluate } from "../../src/interpret";
import { bindShape, numel } from "../../src/ir";
import { lowerSource } from "../../src/lower";
import { rng } from "../helpers/random";

export type Values = Record<string, Float64Array | number>;

export function model(source: string, dtype: "f32" | "f64" = "f64"): CompiledModel {
  return compile(source, { dtype, filename: "test.grad" });
}

/** The declared outputs of `source` at `values`, as plain arrays (scalars as numbers). */
export function outputs(source: string, values: Values = {}): Record<string, number[] | number> {
  const result = model(source).forward(values);
  const out: Record<string, number[] | number> = {};
  for (const [k, v] of Object.entries(result)) out[k] = typeof v === "number" ? v : [...v];
  return out;
}

/** Element by element within `tol` (relative to the larger magnitude, at least 1). */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-12, label = ""): void {
  expect(got.length, `${label} length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (Number.isNaN(w)) { expect(g, `${label}[${i}]`).toBeNaN(); continue; }
    if (!Number.isFinite(w)) { expect(g, `${label}[${i}]`).toBe(w); continue; }
    const ok = Math.abs(g - w) <= tol * Math.max(1, Math.abs(w));
    expect(ok, `${label}[${i}]: got ${g}, want ${w}`).toBe(true);
  }
}

/** Random values in (lo, hi) for every input and param of `source` (free dims bound by `dims`). */
export function randomValues(source: string, seed: number, dims: Record<string, number> = {}, lo = -1.5, hi = 1.5): Values {
  const p = lowerSource(source, { filename: "test.grad" });
  const r = rng(seed);
  const dimMap = new Map(Object.entries(dims));
  const values: Values = {};
  for (const d of [...p.inputs, ...p.params]) {
    const n = numel(bindShape(d.shape, dimMap));
    const data = Float64Array.from({ length: n }, () => lo + (hi - lo) * r());
    values[d.name] = d.shape.length === 0 ? data[0]! : data;
  }
  return values;
}

/** The emitted f64 code against the interpreter: outputs, objective, gradients. */
export function expectMatchesInterpreter(source: string, values: Values, dims: Record<string, number> = {}, tol = 1e-10): void {
  const program = lowerSource(source, { filename: "test.grad" });
  const ir = buildModel(program);
  const interpreted = evaluate([...ir.outputs, ...(ir.objective ? [ir.objective] : []), ...(ir.grads ?? [])], {
    dims: new Map(Object.entries(dims)),
    values: new Map(Object.entries(values).map(([k, v]) => [k, typeof v === "number" ? [v] : v])),
  });
  const m = model(source);
  const forward = m.forward(values);
  program.outputs.forEach((o, i) => {
    const want = interpreted.get(ir.outputs[i]!)!.data;
    const got = forward[o.name]!;
    expectClose(typeof got === "number" ? [got] : got, want, tol, `output ${o.name}`);
  });
  if (!ir.objective) return;
  const { value, grads } = m.valueAndGrad(values);
  expectClose([value], interpreted.get(ir.objective)!.data, tol, "objective");
  program.params.forEach((p, i) => expectClose(grads[p.name]!, interpreted.get(ir.grads![i]!)!.data, tol, `d/d${p.name}`));
}
