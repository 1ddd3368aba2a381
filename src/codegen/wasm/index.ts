// The wasm target: the same schedule printed as a WebAssembly module with SIMD128 kernels.
// Built in layers (docs/wasm.md): the encoder, the register-tiled matmul kernel and fused
// elementwise / column-sum kernels exist and are tested; the step that runs a whole
// model's kernels in wasm memory does not yet.
// Asking for the target is refused with E0308 at the first op it has no kernel for,
// rather than silently compiled to JS.

import { fail } from "../../diagnostics";
import type { Node } from "../../ir";
import type { CodegenOptions, ModelIR } from "../model";

export { Bytes, FunctionBuilder, ModuleBuilder, valType, type Opcode, type ValType } from "./encode";
export { addMatmul, type MatmulShape } from "./matmul";
export { addColumnSum, addMap, type Expr } from "./elementwise";

/** Ops whose kernels the wasm target has: leaves need none. The model-level step (arena
 *  in wasm memory, elementwise prologues and epilogues) is what is missing for the rest. */
const covered = new Set(["input", "const", "tensor", "size"]);

/** The module text of `model` for the wasm target; refuses (E0308) what it cannot run. */
export function emitWasmSource(model: ModelIR, options: CodegenOptions): string {
  if (options.dtype === "f64") fail("E0308", undefined, "an f64 model", "its kernels are f32x4 only");
  const first = firstUncovered([...model.outputs, ...(model.objective ? [model.objective] : []), ...(model.grads ?? [])]);
  if (first) fail("E0308", first.span, `\`${first.op.name}\``, "it has a SIMD matmul kernel, not yet the model step that runs kernels in wasm memory");
  return fail("E0308", undefined, "this model", "it has no kernels to run in wasm");
}

/** The op, earliest in the source, that has no wasm kernel. */
function firstUncovered(roots: readonly Node[]): Node | undefined {
  const seen = new Set<Node>();
  const work = [...roots];
  let first: Node | undefined;
  for (let n = work.pop(); n; n = work.pop()) {
    if (seen.has(n)) continue;
    seen.add(n);
    work.push(...n.inputs);
    if (!covered.has(n.op.name) && (!first || n.id < first.id)) first = n;
  }
  return first;
}
