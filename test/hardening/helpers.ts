// Shared helpers of the hardening tests: a seeded PRNG, values for a model's inputs, the
// interpreter's outputs and gradients for the same values, and GradcError expectations.

import { expect } from "vitest";
import { buildModel, GradcError, type CompiledModel } from "../../src/index";
import { evaluate } from "../../src/interpret";
import { bindShape, numel } from "../../src/ir";
import { lowerSource } from "../../src/lower";
import { createRandom } from "../../src/train/random";

export type Values = Record<string, Float32Array | Float64Array | number>;

/** An own property, even for `__proto__` (plain assignment would set the prototype). */
export function put(record: object, key: string, value: unknown): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Uniform values in [lo, hi) for every input of `model` (free dims from `dims`). */
export function inputsFor(model: CompiledModel, seed: number, dims: Record<string, number> = {}, lo = -1, hi = 1): Values {
  const random = createRandom(seed);
  const f64 = Object.values(model.params)[0] instanceof Float64Array || model.source.includes("const F = Float64Array");
  const out: Values = {};
  for (const d of model.meta.inputs) {
    const n = d.shape.reduce<number>((c, s) => c * (typeof s === "number" ? s : dims[s]!), 1);
    const a = f64 ? new Float64Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * random();
    put(out, d.name, d.shape.length === 0 ? a[0]! : a);
  }
  return out;
}

/** The interpreter's outputs, objective and gradients for the model's source at `values`
 *  (inputs) and `params` (every param). */
export function interpret(source: string, values: Values, params: Record<string, ArrayLike<number>>, dims: Record<string, number> = {}) {
  const program = lowerSource(source);
  const model = buildModel(program);
  const all = new Map<string, ArrayLike<number>>();
  for (const [k, v] of Object.entries(values)) all.set(k, typeof v === "number" ? [v] : v);
  for (const [k, v] of Object.entries(params)) all.set(k, v);
  const dimMap = new Map(Object.entries(dims));
  const roots = [...model.outputs, ...(model.objective ? [model.objective] : []), ...(model.grads ?? [])];
  const results = evaluate(roots, { dims: dimMap, values: all });
  const get = (n: (typeof roots)[number]) => {
    const t = results.get(n)!;
    expect(t.data.length).toBe(numel(bindShape(n.shape, dimMap)));
    return Array.from(t.data);
  };
  return {
    outputs: Object.fromEntries(program.outputs.map((o, i) => [o.name, get(model.outputs[i]!)])),
    objective: model.objective ? get(model.objective)[0]! : undefined,
    grads: Object.fromEntries(program.params.map((p, i) => [p.name, get(model.grads![i]!)])),
  };
}

/** Expects `f` to throw a GradcError with `code`; returns it. */
export function expectGradcError(f: () => unknown, code: string, pattern?: RegExp): GradcError {
  let error: unknown;
  try {
    f();
  } catch (e) {
    error = e;
  }
  expect(error, `expected GradcError ${code}`).toBeInstanceOf(GradcError);
  const err = error as GradcError;
  expect(err.code, err.message).toBe(code);
  if (pattern) expect(err.message).toMatch(pattern);
  return err;
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-12): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    if (Number.isNaN(e)) { expect(a).toBeNaN(); continue; }
    expect(Math.abs(a - e), `element ${i}: ${a} vs ${e}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(e)));
  }
}
