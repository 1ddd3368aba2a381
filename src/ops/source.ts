// Source ops: graph inputs (params and inputs), scalar constants, index patterns (iota,
// for one_hot), and the runtime size of free dims (for mean over a free dim).

import * as js from "../codegen/estree";
import { bindShape, numel, type Dim, type OpDef, type Shape } from "../ir";
import type { SourceEmit } from "./define";
import { forEachIndex } from "./tensor";

type SourceDef = OpDef & { readonly emit: SourceEmit };

/** A named graph input; `role` is "param" or "input". Values come from the caller (the
 *  interpreter binds them itself: no `evaluate`). */
export const input: SourceDef = {
  name: "input", kind: "source", arity: 0, wasm: true,
  shape: (_i, attrs) => attrs.shape as Shape,
  emit: {},
};

/** A scalar constant. Tensors of one value are `broadcast(const)`. */
export const constant: SourceDef = {
  name: "const", kind: "source", arity: 0, wasm: true,
  shape: () => [],
  evaluate: (_i, attrs) => Float64Array.of(attrs.value as number),
  // Stryker disable next-line ObjectLiteral,BooleanLiteral: only a loop's residuals read `cheap`, and a source never depends on a step's values
  props: { cheap: true },
  emit: { value: (_idx, node) => js.num(node.attrs.value as number) },
};

/** iota: the index along `axis`, as a float, at every position of `shape`. */
export const iota: SourceDef = {
  name: "iota", kind: "source", arity: 0, wasm: true,
  shape: (_i, attrs) => attrs.shape as Shape,
  evaluate: (_i, attrs, out) => {
    const data = new Float64Array(numel(out));
    forEachIndex(out, (idx, flat) => { data[flat] = idx[attrs.axis as number]!; });
    return data;
  },
  // Stryker disable next-line ObjectLiteral,BooleanLiteral: only a loop's residuals read `cheap`, and a source never depends on a step's values
  props: { cheap: true },
  emit: { value: (idx, node) => idx[node.attrs.axis as number]! },
};

/** The product of free dims, known only at run time (scalar). */
export const size: SourceDef = {
  name: "size", kind: "source", arity: 0, wasm: true,
  shape: () => [],
  evaluate: (_i, attrs, _out, env) => Float64Array.of(numel(bindShape(attrs.dims as Dim[], env.dims))),
  // Stryker disable next-line ObjectLiteral,BooleanLiteral: only a loop's residuals read `cheap`, and a source never depends on a step's values
  props: { cheap: true },
  emit: {
    value: (_idx, node, dim) => (node.attrs.dims as Dim[]).map(dim).reduce((a, b) => js.mul(a, b), js.num(1)),
  },
};

export const sourceOps: OpDef[] = [input, constant, iota, size];
