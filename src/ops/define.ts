// Helpers for writing op records: the shared shape rule of elementwise ops, the record
// types with codegen fields, and the gradient-check domain.

import { InternalError, type Span } from "../diagnostics";
import { formatShape, sameShape, type Attrs, type Node, type OpDef, type Shape } from "../ir";
import type { Expression } from "../codegen/estree";
import type { RuntimeHelper } from "./special";

/** Where gradient checks sample an op's inputs: an interval, avoiding kinks. */
export interface GradDomain {
  lo: number;
  hi: number;
  /** Keep samples at least this far from integers (floor), zero (abs, relu), each other... */
  avoid?: (xs: number[]) => boolean;
}

export interface ElementwiseDef extends OpDef {
  readonly kind: "elementwise";
  readonly scalar: (...xs: number[]) => number;
  /** One element of the result from its arguments (identifiers or literals). */
  readonly emit: (args: Expression[]) => Expression;
  /** Sampling domain per input for the gradient checks. */
  readonly gradDomain?: GradDomain | GradDomain[];
  /** A function `emit` calls, declared once in modules that use the op (special.ts). */
  readonly helper?: RuntimeHelper;
}

export function elementwiseShape(name: string) {
  return (inputs: readonly Shape[], _attrs: Attrs, _span: Span | undefined): Shape => {
    const first = inputs[0]!;
    for (const s of inputs) {
      if (!sameShape(s, first)) {
        throw new InternalError(`${name} on unequal shapes ${inputs.map(formatShape).join(", ")}`);
      }
    }
    return first;
  };
}

export type { Node };

/** What kernel templates (matmul, reductions, conv...) emit code with; implemented by
 *  src/codegen. Indices are JS expressions over the output's loop variables. */
export interface KernelContext {
  readonly node: Node;
  /** The value of `input` at a multi-index; pushes any local bindings to `body`. */
  read(input: Node, idx: Expression[], body: import("../codegen/estree").Statement[]): Expression;
  /** A statement writing `value` to the output at `idx` (or `op=` for accumulation). */
  store(idx: Expression[], value: Expression, operator?: string): import("../codegen/estree").Statement;
  /** The output element at `idx`, for read-modify-write. */
  load(idx: Expression[]): Expression;
  /** The size of one dim, as a literal or a dim variable. */
  dim(d: import("../ir").Dim): Expression;
  /** A fresh local name. */
  fresh(prefix: string): string;
  /** Whether an index into the output is contiguous with the loop (for fast paths). */
  readonly dtype: "f32" | "f64";
  /** The array holding a materialised tensor of rank > 0 (the output included), if any:
   *  loops (scan) read and write such values in place. */
  arrayOf?(node: Node): string | undefined;
  /** A module-level array of `size` elements for a loop's body values (allocated once;
   *  one sized by free dims starts empty and is grown by the code that uses it). */
  scratch?(size: import("../ir").Size): string;
  /** wasm: an array from `scratch` sized by free dims is placed in the memory before the
   *  call (its \`layout()\`): the code using it does not grow it. */
  scratchPlaced?: boolean;
  /** The identifier of a free dim's runtime size. */
  dimName?(dim: string): string;
  /** Whether `input`, a kernel, is left to this kernel to compute (fusesKernelInput). */
  prologue?(input: Node): boolean;
  /** Where `x`'s buffer holds each max-pool window's first-maximum tap instead of x's
   *  values (schedule Plan.firstMaxTaps): that tap at pooled index `idx`; else undefined. */
  firstMaxTap?(x: Node, idx: Expression[]): Expression | undefined;
  /** An emitter of a loop body's kernels in this function, for a body's own schedule
   *  (a codegen FunctionEmitter over a schedule Plan and a Storage; typed loosely here). */
  subEmitter?(plan: unknown, storage: unknown): unknown;
  /** wasm: a loop body's kernel as a call of a SIMD kernel (its operands and output passed
   *  by `pointerOf`, a name holding each one's address), with the epilogue fused after it
   *  to emit in place; undefined where it does not apply (and on the JS target). */
  simdKernel?(k: Node, plan: unknown, pointerOf: (n: Node) => string): { call: unknown[]; epilogue?: { producer: Node } } | undefined;
}

export interface ViewEmit {
  /** The index into the view's input for an index into its output. A gather (take) reads
   *  its index inputs (inputs after the first) with `readIndex`. */
  mapIndex(
    idx: Expression[], node: Node, dim: (d: import("../ir").Dim) => Expression,
    readIndex: (input: Node, idx: Expression[]) => Expression,
  ): Expression[];
}

/** Inputs holding integer ids (as floats) that address an axis of size `bound`: the
 *  schedule materialises them and the emitted code checks them once per call. */
export interface IndexInputs {
  indexInputs(node: Node): { input: number; bound: import("../ir").Dim }[];
}

export interface KernelEmit {
  /** Statements that compute every element of the node's output. */
  kernel(ctx: KernelContext): import("../codegen/estree").Statement[];
  /** Whether inputs may be fused elementwise expressions (read once per element), or
   *  must be materialised (read many times: matmul, conv). */
  readonly fusesInputs: boolean;
  /** Whether the kernel writes each output element exactly once, with `store` and its
   *  final value: then an elementwise consumer can be fused into it as an epilogue. */
  storesOnce?(node: Node): boolean;
  /** Whether the kernel can compute its kernel input `input` itself, at the elements it
   *  needs, when nothing else reads that input: the schedule then leaves it unmaterialised
   *  (a prologue; KernelContext.prologue tells the template). */
  fusesKernelInput?(node: Node, input: number): boolean;
  /** Whether the kernel's loop can run window by window under `pool`, a max-pool whose
   *  windows tile the plane, reading its output (schedule Plan.pooledConvs). */
  poolsInLoop?(node: Node, pool: Node): boolean;
  /** The kernel computed window by window under a max-pool (poolsInLoop): each output
   *  value goes through `pool.value`, and only the windows' results are stored. */
  pooledKernel?(ctx: KernelContext, pool: PoolEpilogue): import("../codegen/estree").Statement[];
}

/** What a kernel computed under a max-pool stores (KernelEmit.pooledKernel). */
export interface PoolEpilogue {
  /** The max-pool (its attrs give the window; it tiles the plane). */
  readonly node: Node;
  /** The pooled value at output `idx` of the kernel, from the kernel's value there (the
   *  elementwise epilogue fused into it applied); pushes local bindings to `body`. */
  value(idx: Expression[], kernelValue: Expression, body: import("../codegen/estree").Statement[]): Expression;
  /** When the epilogue ends in relu (an op with props.rectifier): as `value`, the value
   *  relu is applied to. */
  beforeRelu?(idx: Expression[], kernelValue: Expression, body: import("../codegen/estree").Statement[]): Expression;
  /** A statement storing the window maximum at pooled index `idx`. */
  store(idx: Expression[], value: Expression): import("../codegen/estree").Statement;
  /** A statement storing the window's first-maximum tap (a * size + b) at pooled index
   *  `idx`; undefined when nothing reads the taps. */
  storeTap?(idx: Expression[], tap: Expression): import("../codegen/estree").Statement;
}

export interface SourceEmit {
  /** The value at an index, for sources computed in place (const, iota, size). */
  value?(idx: Expression[], node: Node, dim: (d: import("../ir").Dim) => Expression): Expression;
}
