// The compiled model's IR, as codegen receives it: the lowered program plus the
// (simplified) roots of each function.

import type { Node } from "../ir";
import type { LoweredProgram } from "../lower";

export interface ModelIR {
  program: LoweredProgram;
  /** Simplified nodes of the declared outputs, in order. */
  outputs: Node[];
  /** Simplified objective, when the program minimizes something. */
  objective?: Node;
  /** The objective as `forward` computes it, where that differs from `objective`: with
   *  the training flag off (dropout the identity), while `objective` has it on. */
  forwardObjective?: Node;
  /** Simplified gradient of the objective for each trainable (not frozen) param, in
   *  declaration order. */
  grads?: Node[];
}

export interface CodegenOptions {
  dtype: "f32" | "f64";
  seed: number;
  /** "function": the body of a factory run by `new Function`; "esm" / "cjs": a module. */
  format: "function" | "esm" | "cjs";
  filename: string;
  /** "wasm": the kernels run in a WebAssembly module inside the emitted one (docs/wasm.md). */
  target?: "js" | "wasm";
}
