// The points gradcheck evaluates at: inputs drawn uniformly from [-1, 1) unless given, ids
// (inputs that index a `take` or `one_hot`) drawn as integers in [0, bound), free dims at
// the sizes asked for (3 by default), and which param elements to check.

import { bindShape, type Dim } from "../ir";
import type { IdInputs } from "./ids";

export type Values = Record<string, Float32Array | Float64Array | number>;

interface Described {
  name: string;
  shape: (number | string)[];
}

/** The free dims' values: `dims[name]`, else 3; every name a shape text mentions. */
export function dimValues(shapes: readonly (readonly Dim[])[], dims: Record<string, number> = {}): Map<string, number> {
  const out = new Map<string, number>();
  for (const shape of shapes) {
    for (const d of shape) {
      if (typeof d !== "string") continue;
      for (const name of d.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []) {
        out.set(name, Object.prototype.hasOwnProperty.call(dims, name) ? dims[name]! : 3);
      }
    }
  }
  return out;
}

/** Every input's value: given, ids, or uniform in [-1, 1). */
export function drawInputs(inputs: readonly Described[], given: Values, ids: IdInputs, dims: Map<string, number>, random: () => number): Values {
  const out: Values = {};
  for (const d of inputs) {
    if (Object.prototype.hasOwnProperty.call(given, d.name)) { put(out, d.name, given[d.name]!); continue; }
    const n = bindShape(d.shape, dims).reduce((a, b) => a * b, 1);
    const bounds = ids.get(d.name);
    // The smallest bound when one input indexes several axes: valid for all of them.
    const bound = bounds && Math.min(...bindShape(bounds, dims));
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = bound !== undefined ? Math.floor(random() * bound) : 2 * random() - 1;
    put(out, d.name, d.shape.length === 0 ? a[0]! : a);
  }
  return out;
}

/** `record[key] = value` as an own property, even for `__proto__`. */
export function put(record: Values, key: string, value: Values[string]): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** All n indices, or `max` distinct ones at random, in order. */
export function chooseIndices(n: number, max: number, random: () => number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  const picked = new Set<number>();
  while (picked.size < max) picked.add(Math.floor(random() * n));
  return [...picked].sort((a, b) => a - b);
}
