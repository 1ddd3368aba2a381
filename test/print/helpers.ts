// Shared helpers for the printer tests: lower a program, take gradients, evaluate nodes with
// the reference interpreter at seeded random points.

import { readFileSync } from "node:fs";
import "../../src/ops";
import { Builder } from "../../src/ops";
import { gradients } from "../../src/autodiff";
import { evaluate } from "../../src/interpret";
import { lowerSource, type LoweredProgram } from "../../src/lower";
import { numel, type Node } from "../../src/ir";
import { rng } from "../helpers/random";
export { rng };

export const xorSource = readFileSync(new URL("../../examples/xor/xor.grad", import.meta.url), "utf8");


export function lower(text: string): LoweredProgram {
  return lowerSource(text, { filename: "test.grad" });
}

/** Gradients of the objective with respect to every param, or the given inputs. */
export function gradientsOf(p: LoweredProgram, wrt: string[] = p.params.map((d) => d.name)): { name: string; node: Node }[] {
  const nodes = wrt.map((w) => [...p.inputs, ...p.params].find((d) => d.name === w)!.node);
  const gs = gradients(new Builder(p.graph, undefined), p.objective!.node, nodes);
  return wrt.map((w, i) => ({ name: `d_${w}`, node: gs[i]! }));
}

/** Random values for every input and param of `p`, in (lo, hi). */
export function randomValues(p: LoweredProgram, seed: number, lo = -1.5, hi = 1.5): Map<string, Float64Array> {
  const r = rng(seed);
  const values = new Map<string, Float64Array>();
  for (const d of [...p.inputs, ...p.params]) {
    values.set(d.name, Float64Array.from({ length: numel(d.shape as number[]) }, () => lo + (hi - lo) * r()));
  }
  return values;
}

export function valuesOf(nodes: Node[], values: Map<string, Float64Array>): Float64Array[] {
  const results = evaluate(nodes, { values });
  return nodes.map((n) => results.get(n)!.data);
}

/** The declarations of a program: its `dim`, `input` and `param` lines. */
export function declarations(text: string): string {
  return text.split("\n").filter((l) => /^\s*(dim|input|param)\b/.test(l)).join("\n");
}
