// The reference interpreter: a plain f64 evaluator of the IR, node by node, with each
// op's own reference semantics. Slow and obviously correct: the oracle for emitted code.

import { InternalError } from "../diagnostics";
import { bindShape, numel, topoSort, type EvalEnv, type Node, type Tensor } from "../ir";

export interface EvaluateOptions {
  dims?: ReadonlyMap<string, number>;
  /** Values of params and inputs by name (flat row-major). */
  values: ReadonlyMap<string, ArrayLike<number>>;
  /** The generator state for draws (rand, randn): a model's `randomState()` before a call. */
  random?: { seed: number; calls: number };
  /** The training flag (dropout active), for graphs not yet specialised. */
  training?: boolean;
}

/** Evaluate `roots` (and everything they depend on). */
export function evaluate(roots: readonly Node[], options: EvaluateOptions): Map<Node, Tensor> {
  const dims = options.dims ?? new Map<string, number>();
  const values = new Map<string, Tensor>();
  const env: EvalEnv = { dims, values, random: options.random, training: options.training };
  // A loop's body runs by the same code, its args bound to the step's values.
  env.evaluateBody = (body, args) => {
    const got = run(body.results, new Map(body.args.map((a, k) => [a, args[k]!])));
    return body.results.map((r) => got.get(r)!);
  };
  const run = (roots: readonly Node[], bound: Map<Node, Tensor>) => evaluateNodes(roots, options, env, bound);
  return run(roots, new Map());
}

function evaluateNodes(roots: readonly Node[], options: EvaluateOptions, env: EvalEnv, results: Map<Node, Tensor>): Map<Node, Tensor> {
  const { dims } = env;
  const values = env.values as Map<string, Tensor>;
  for (const node of topoSort(roots)) {
    if (results.has(node)) continue;
    const shape = bindShape(node.shape, dims);
    if (node.op.name === "input") {
      const name = node.attrs.name as string;
      const v = options.values.get(name);
      if (!v) throw new InternalError(`no value given for ${name}`);
      if (v.length !== numel(shape)) throw new InternalError(`${name} has ${v.length} values, expected ${numel(shape)}`);
      const t = { shape, data: Float64Array.from(v) };
      values.set(name, t);
      results.set(node, t);
      continue;
    }
    const inputs = node.inputs.map((i) => results.get(i)!);
    let data: Float64Array;
    if (node.op.kind === "elementwise") {
      const f = node.op.scalar!;
      const n = numel(shape);
      data = new Float64Array(n);
      const arrays = inputs.map((t) => t.data);
      const args = new Array<number>(arrays.length);
      for (let i = 0; i < n; i++) {
        for (let a = 0; a < arrays.length; a++) args[a] = arrays[a]![i]!;
        data[i] = f(...args);
      }
    } else {
      if (!node.op.evaluate) throw new InternalError(`op ${node.op.name} has no reference semantics`);
      data = node.op.evaluate(inputs, node.attrs, shape, env, node);
    }
    results.set(node, { shape, data });
  }
  return results;
}
