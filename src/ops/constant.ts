// Constant tensors. `arange` is an index pattern: computed in whatever kernel reads it
// (start + i * step), never a buffer; eye, tril/triu masks and one_hot are built from it.
// `tensor` holds a literal written in the program; its kernel stores the values.

import { fail, InternalError } from "../diagnostics";
import * as js from "../codegen/estree";
import { numel, type Attrs, type Dim, type OpDef, type Shape } from "../ir";
import type { KernelEmit, SourceEmit } from "./define";

/** The length of NumPy's arange(start, stop, step): ceil((stop - start) / step), at least 0. */
export function arangeLength(start: number, stop: number, step: number): number {
  return Math.max(0, Math.ceil((stop - start) / step));
}

/** arange(; start, stop, step): rank 1, element i is start + i * step. A free dim as
 *  `stop` (with start 0 and step 1) gives its runtime size. `start` (0) and `step` (1)
 *  are left out of the attributes at their defaults, so equal ranges are one node and
 *  print as `arange(stop = n)`. */
export const arange: OpDef & { readonly emit: SourceEmit } = {
  name: "arange", kind: "source", arity: 0, wasm: true,
  shape: (_i, attrs, span) => {
    const { start, stop, step } = rangeOf(attrs);
    if (step === 0 || !Number.isFinite(step)) fail("E0243", span, "`step` must be a non-zero number");
    if (typeof stop !== "number") {
      if (start !== 0 || step !== 1) fail("E0243", span, `with the dim \`${stop}\` as \`stop\`, \`start\` must be 0 and \`step\` 1`);
      return [stop];
    }
    return [arangeLength(start, stop, step)];
  },
  evaluate: (_i, attrs, out) => {
    const { start, step } = rangeOf(attrs);
    return Float64Array.from({ length: numel(out) }, (_, i) => start + i * step);
  },
  // Stryker disable next-line ObjectLiteral,BooleanLiteral: only a loop's residuals read `cheap`, and a source never depends on a step's values
  props: { cheap: true },
  // Stryker disable next-line ObjectLiteral,StringLiteral: the printer falls back to the op's name and keywords, the same text
  print: { kind: "call", fn: "arange" },
  emit: {
    value: (idx, node) => {
      const { start, step } = rangeOf(node.attrs);
      return js.add(js.num(start), js.mul(idx[0]!, js.num(step)));
    },
  },
};

function rangeOf(attrs: Attrs): { start: number; stop: Dim; step: number } {
  return { start: (attrs.start as number | undefined) ?? 0, stop: attrs.stop as Dim, step: (attrs.step as number | undefined) ?? 1 };
}

/** The attributes of arange(start, stop, step), defaults left out. */
export function arangeAttrs(start: number, stop: Dim, step: number): Attrs {
  return { ...(start !== 0 ? { start } : {}), stop, ...(step !== 1 ? { step } : {}) };
}

/** The shape of a nested list of numbers (already checked to be rectangular). */
export function literalShape(values: unknown): number[] {
  const shape: number[] = [];
  let v = values;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = v[0];
  }
  return shape;
}

function flatten(values: unknown, out: number[]): number[] {
  if (typeof values === "number") out.push(values);
  else if (Array.isArray(values)) for (const v of values) flatten(v, out);
  else throw new InternalError("tensor literal holds a non-number");
  return out;
}

/** tensor(; values): a literal, `values` a rectangular nested list of numbers. */
export const tensor: OpDef & { readonly emit: KernelEmit } = {
  name: "tensor", kind: "kernel", arity: 0, wasm: true,
  shape: (_i, attrs): Shape => {
    const shape = literalShape(attrs.values);
    if (flatten(attrs.values, []).length !== numel(shape)) throw new InternalError("ragged tensor literal");
    return shape;
  },
  evaluate: (_i, attrs) => Float64Array.from(flatten(attrs.values, [])),
  cost: () => 0,
  // Stryker disable next-line ObjectLiteral,StringLiteral: the printer falls back to the op's name and keywords, the same text
  print: { kind: "call", fn: "tensor" },
  emit: {
    // Stryker disable next-line BooleanLiteral: a literal has no inputs
    fusesInputs: true,
    // One store per element: literals are small, and the values stay in the code.
    kernel: (ctx) => {
      const shape = ctx.node.shape as number[];
      const strides = shape.map((_, k) => shape.slice(k + 1).reduce((a, d) => a * d, 1));
      const stores = flatten(ctx.node.attrs.values, []).map((v, flat) =>
        ctx.store(shape.map((_, k) => js.num(Math.floor(flat / strides[k]!) % shape[k]!)), js.num(v)));
      return stores.length > 0 ? stores : [js.block([])];
    },
    // Stryker disable next-line BooleanLiteral: a literal is stored once, when the module loads, outside every function's plan (no epilogue joins it)
    storesOnce: () => true,
  },
};

export const constantOps: OpDef[] = [arange, tensor];
