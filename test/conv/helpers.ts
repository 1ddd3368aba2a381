// Shared helpers for the convolution tests: seeded values for a compiled model's inputs and
// params, the reference interpreter's outputs / objective / gradients of a source, the
// printed gradient program of a source as a program of its own, and closeness checks.

import { expect } from "vitest";
import { buildModel, compile, type CompiledModel } from "../../src/index";
import { evaluate } from "../../src/interpret";
import { numel, type Node } from "../../src/ir";
import { lowerSource } from "../../src/lower";
import { printDefinitions } from "../../src/print";
import { rng } from "../helpers/random";

export type Values = Record<string, Float64Array>;
type Meta = CompiledModel["meta"];

const sizeOf = (shape: (number | string)[], dims: Record<string, number>) =>
  numel(shape.map((d) => (typeof d === "number" ? d : dims[d]!)));

/** Uniform values in [-1, 1) for every input and param (free dims from `dims`). */
export function randomValues(meta: Meta, seed: number, dims: Record<string, number> = {}): Values {
  const r = rng(seed);
  const out: Values = {};
  for (const d of [...meta.inputs, ...meta.params]) {
    out[d.name] = Float64Array.from({ length: sizeOf(d.shape, dims) }, () => 2 * r() - 1);
  }
  return out;
}

/** What the reference interpreter says the source computes at `values`: outputs by name,
 *  the objective, and the gradient of every param. */
export function interpret(source: string, values: Values, dims: Record<string, number> = {}, sizes: Record<string, number> = {}) {
  const program = lowerSource(source, { filename: "test.grad", sizes });
  const model = buildModel(program);
  const roots: Node[] = [...model.outputs, ...(model.objective ? [model.objective] : []), ...(model.grads ?? [])];
  const results = evaluate(roots, { values: new Map(Object.entries(values)), dims: new Map(Object.entries(dims)) });
  const data = (n: Node) => results.get(n)!.data;
  const outputs: Values = {};
  program.outputs.forEach((o, k) => { outputs[o.name] = data(model.outputs[k]!); });
  const grads: Values = {};
  program.params.forEach((p, k) => { grads[p.name] = data(model.grads![k]!); });
  return { outputs, objective: model.objective ? data(model.objective)[0]! : undefined, grads };
}

/** `gradc grad`'s text for the source (one `d_<param> = ...` line per param, as the CLI
 *  prints it). */
export function gradientText(source: string): string {
  const program = lowerSource(source, { filename: "test.grad" });
  const model = buildModel(program);
  return printDefinitions(program.params.map((p, k) => ({ name: `d_${p.name}`, node: model.grads![k]! })));
}

/** The printed gradient as a program: the source's dims, its inputs, its params as inputs,
 *  the printed definitions, and `output d_<param>, ...`. */
export function gradientProgram(source: string, meta: Meta): string {
  const dims = source.split("\n").filter((l) => /^\s*dim\b/.test(l));
  const decl = (d: { name: string; shape: (number | string)[] }) => `input ${d.name}: [${d.shape.join(", ")}]`;
  return [
    ...dims, ...meta.inputs.map(decl), ...meta.params.map(decl),
    gradientText(source).trimEnd(),
    `output ${meta.params.map((p) => `d_${p.name}`).join(", ")}`,
  ].join("\n") + "\n";
}

/** max |a - b| / max(1, max |b|) over the arrays. */
export function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return diff / scale;
}

export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  const err = relError(got, want);
  expect(err, `${what}: relative error ${err}`).toBeLessThanOrEqual(tol);
}
