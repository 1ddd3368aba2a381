// Which inputs hold integer ids, so gradcheck draws valid ones (random floats would make
// `take` and `one_hot` throw, or embedding gradients trivially zero). Walks the model's
// IR for ops whose `indexInputs` hook (take, scatter_add; one_hot is a take) names an
// input holding ids in [0, bound), and follows that input back through views, which move
// values without changing them, to a graph input. Computed ids (`ids + 1`) are not traced.

import { topoSort, type Dim, type Node } from "../ir";

/** Input name -> the bounds of every index it feeds. */
export type IdInputs = ReadonlyMap<string, readonly Dim[]>;

const remembered = new WeakMap<object, IdInputs>();

/** The id inputs among the graph inputs `roots` depend on. */
export function findIdInputs(roots: readonly Node[]): IdInputs {
  const found = new Map<string, Dim[]>();
  for (const n of topoSort(roots)) {
    for (const { input, bound } of indexInputs(n)) {
      for (const source of valueSources(n.inputs[input]!)) {
        const name = source.attrs.name as string;
        found.set(name, [...(found.get(name) ?? []), bound]);
      }
    }
  }
  return found;
}

/** Keep a compiled model's id inputs beside it, keyed by its `meta` (which wrappers that
 *  copy the model object keep). */
export function rememberIdInputs(meta: object, ids: IdInputs): void {
  if (ids.size > 0) remembered.set(meta, ids);
}

export function rememberedIdInputs(meta: object): IdInputs {
  return remembered.get(meta) ?? new Map();
}

/** The op's `indexInputs` emit hook (src/ops/define.ts), read structurally. */
type IndexHook = { indexInputs?(node: Node): { input: number; bound: Dim }[] };

function indexInputs(n: Node): { input: number; bound: Dim }[] {
  return (n.op.emit as IndexHook | undefined)?.indexInputs?.(n) ?? [];
}

/** The graph inputs (role "input") whose values reach `node` through views only. */
function valueSources(node: Node): Node[] {
  const out: Node[] = [];
  const seen = new Set<Node>();
  const work = [node];
  for (let n = work.pop(); n; n = work.pop()) {
    if (seen.has(n)) continue;
    seen.add(n);
    if (n.op.kind === "source" && n.op.name === "input" && n.attrs.role === "input") out.push(n);
    if (n.op.kind !== "view") continue;
    // A gather's own ids address its values; they are not among them.
    const addressing = new Set(indexInputs(n).map((i) => i.input));
    n.inputs.forEach((x, k) => { if (!addressing.has(k)) work.push(x); });
  }
  return out;
}
