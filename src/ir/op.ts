// The shape of an op record (`OpDef`). The records themselves live in src/ops/, one per
// primitive, holding everything about it: shape rule, reference semantics, derivative,
// emission and printing. Passes never switch on op names; they read these fields.

import type { Span } from "../diagnostics";
import type { Attrs, AttrValue, Node } from "./graph";
import type { Shape } from "./shape";

/** Scalar semantics of an elementwise op, in f64. */
export type ScalarFn = (...xs: number[]) => number;

/** A dense f64 tensor for the interpreter and constant folding. */
export interface Tensor {
  shape: readonly number[];
  data: Float64Array;
}

export type OpKind =
  /** one output element from the same element of each input (same shapes) */
  | "elementwise"
  /** a re-indexing of its one input: no arithmetic */
  | "view"
  /** its own loop nest (reductions, matmul, conv, ...) */
  | "kernel"
  /** no inputs: a constant, an index pattern, a graph input */
  | "source";

export interface OpDef {
  readonly name: string;
  readonly kind: OpKind;
  /** Number of inputs, or -1 for any number (concat). */
  readonly arity: number;
  /** Output shape, or a thrown GradcError located at `span`. */
  shape(inputs: readonly Shape[], attrs: Attrs, span: Span | undefined, nodes: readonly Node[]): Shape;
  /** Elementwise scalar semantics (interpreter, constant folding). */
  readonly scalar?: ScalarFn;
  /** Reference semantics on dense f64 tensors, for non-elementwise ops. */
  evaluate?(inputs: readonly Tensor[], attrs: Attrs, outShape: readonly number[], env: EvalEnv, node?: Node): Float64Array;
  /**
   * The vector-Jacobian product: given the cotangent `g` of `node`, one cotangent per
   * input, or null where the input gets no gradient. Built only with the builder.
   */
  vjp?(b: GraphBuilder, g: Node, node: Node): (Node | null)[];
  /**
   * A node with several outputs (a loop): it is read only through projection nodes (an op
   * with `projects`), and its rule receives each projection's cotangent (null where none
   * flows) and which inputs need a cotangent, in place of `vjp`.
   */
  vjpOutputs?(b: GraphBuilder, gs: readonly (Node | null)[], node: Node, needed: readonly boolean[]): (Node | null)[];
  /** A projection: output number `projects(node)` of its one input, a multi-output node. */
  projects?(node: Node): number;
  /** Why this op cannot be differentiated, when it has no vjp. */
  readonly noGradReason?: string;
  readonly props?: OpProps;
  /** Floating-point operations to compute the node, for `--stats` (free dims count as 1).
   *  Defaults: one per output element for elementwise ops, one per input element for
   *  other kernels, none for views and sources. */
  cost?(node: Node, numel: (shape: Shape) => number): number;
  /** How the op prints as gradc text. */
  readonly print?: PrintForm;
  /** Codegen hooks; see src/codegen. Typed loosely here so ir/ does not depend on codegen. */
  readonly emit?: unknown;
  /** Whether the wasm target runs this op (docs/wasm.md): its JS template translates, and
   *  test/wasm/ops.test.ts compares it with the JS target. Elementwise ops need not say:
   *  the target probes whether their one-element expression translates. */
  readonly wasm?: boolean;
}

export interface OpProps {
  commutative?: boolean;
  /** Comparisons: the result is 0 or 1 and carries no gradient. */
  boolean?: boolean;
  /** Cheap enough to recompute in every consumer rather than materialise. */
  cheap?: boolean;
  /** f(x) is x where x > 0 and +0 elsewhere, NaN and -0 included (relu): the first maximum
   *  of f over values is the running maximum of x from 0, moved only by a greater x. */
  rectifier?: boolean;
}

export type PrintForm =
  | { kind: "infix"; symbol: string; precedence: number }
  | { kind: "prefix"; symbol: string }
  | {
    kind: "call"; fn: string;
    /** Attributes printed as positional arguments after the inputs, in order (pad's widths). */
    positional?: readonly string[];
    /** Keyword attributes left out where they equal the built-in's default. */
    defaults?: Readonly<Record<string, AttrValue>>;
  }
  /** A call whose built-in depends on the node (conv1d or conv2d by rank, conv_transpose
   *  with its output_padding): every name it may print as, and the call for one node. */
  | { kind: "builtin"; fns: readonly string[]; spell(n: Node): { fn: string; kwargs: [string, AttrValue][] } };

export interface EvalEnv {
  dims: ReadonlyMap<string, number>;
  /** Values of graph inputs (params and inputs) by name. */
  values: ReadonlyMap<string, Tensor>;
  /** The generator state draws (rand, randn) read: the model's seed and its call count. */
  random?: { seed: number; calls: number };
  /** The training flag (dropout active): true as in valueAndGrad and step. */
  training?: boolean;
  /** A body's result with its args bound to `args` (a loop's step), by the same evaluator. */
  evaluateBody?(body: import("./graph").Body, args: readonly Tensor[]): Tensor[];
}

/** What vjp rules build with; implemented in src/ops/builder.ts. */
export interface GraphBuilder {
  readonly graph: import("./graph").Graph;
  readonly span: Span | undefined;
  op(name: string, inputs: readonly Node[], attrs?: Attrs): Node;
  constant(value: number, shape?: Shape): Node;
  add(a: Node, b: Node): Node;
  sub(a: Node, b: Node): Node;
  mul(a: Node, b: Node): Node;
  div(a: Node, b: Node): Node;
  neg(a: Node): Node;
  unary(name: string, a: Node): Node;
  binary(name: string, a: Node, b: Node): Node;
  where(c: Node, a: Node, b: Node): Node;
  broadcastTo(a: Node, shape: Shape, dims?: readonly number[]): Node;
  reshape(a: Node, shape: Shape): Node;
  transpose(a: Node, perm: readonly number[]): Node;
  sum(a: Node, axes: readonly number[]): Node;
  /** Sum `g` down to `shape` (the inverse of NumPy broadcasting). */
  unbroadcast(g: Node, shape: Shape): Node;
}
