// Helpers for the shape tests: run a model's emitted f64 code and the reference
// interpreter on the same values, and check its gradient against central differences of
// the emitted forward objective (params overridden through `values`).

import { expect } from "vitest";
import { buildModel, compile, type CompiledModel } from "../../src/index";
import { evaluate } from "../../src/interpret";
import { bindShape, numel } from "../../src/ir";
import { lowerSource } from "../../src/lower";
import { rng } from "../helpers/random";

export type Values = Record<string, Float64Array>;

/** Values in (-1, 1) for every input and param, for the given free dims. */
export function randomValues(source: string, dims: Record<string, number> = {}, seed = 1): Values {
  const program = lowerSource(source);
  const r = rng(seed);
  const dimMap = new Map(Object.entries(dims));
  const out: Values = {};
  for (const d of [...program.inputs, ...program.params]) {
    out[d.name] = Float64Array.from({ length: numel(bindShape(d.shape, dimMap)) }, () => 2 * r() - 1);
  }
  return out;
}

/** Emitted f64 outputs (and objective, named `loss`) equal the interpreter's. */
export function expectEmittedMatchesInterpreter(source: string, values: Values, dims: Record<string, number> = {}): CompiledModel {
  const model = compile(source, { dtype: "f64" });
  const program = lowerSource(source);
  const ir = buildModel(program);
  const roots = [...ir.outputs, ...(ir.objective ? [ir.objective] : [])];
  const results = evaluate(roots, { dims: new Map(Object.entries(dims)), values: new Map(Object.entries(values)) });
  const fwd = model.forward(values);
  program.outputs.forEach((o, i) => {
    const want = results.get(roots[i]!)!.data;
    const got = fwd[o.name]!;
    const arr = typeof got === "number" ? [got] : Array.from(got);
    expect(arr.length, `${o.name} length`).toBe(want.length);
    arr.forEach((g, k) => expect(Math.abs(g - want[k]!), `${o.name}[${k}]`).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(want[k]!))));
  });
  return model;
}

/** valueAndGrad's gradient of every param against central differences (f64). */
export function expectGradientsMatchDifferences(model: CompiledModel, values: Values, tolerance = 1e-7): void {
  const { grads } = model.valueAndGrad(values);
  const copies = Object.fromEntries(Object.entries(grads).map(([k, v]) => [k, Float64Array.from(v)]));
  const objective = (vals: Values) => model.valueAndGrad(vals).value;
  for (const name of Object.keys(copies)) {
    const base = values[name]!;
    for (let i = 0; i < base.length; i++) {
      const h = 1e-5;
      const plus = Float64Array.from(base); plus[i]! += h;
      const minus = Float64Array.from(base); minus[i]! -= h;
      const fd = (objective({ ...values, [name]: plus }) - objective({ ...values, [name]: minus })) / (2 * h);
      const g = copies[name]![i]!;
      expect(Math.abs(g - fd), `d/d${name}[${i}]: ${g} vs ${fd}`).toBeLessThanOrEqual(tolerance * (1 + Math.abs(fd)));
    }
  }
}

/** The GradcError thrown by `f`, for its code, message and rendered form. */
export function errorOf(f: () => unknown): { code: string; message: string; rendered: string; line: number; column: number } {
  try {
    f();
  } catch (e) {
    const err = e as { name?: string; code: string; message: string; rendered: string; line: number; column: number };
    expect(err.name).toBe("GradcError");
    return err;
  }
  throw new Error("expected a GradcError");
}
