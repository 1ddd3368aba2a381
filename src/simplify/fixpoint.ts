// Simplify, the driver: rebuild the graph bottom-up (inputs before users, iteratively, so
// depth is no limit), applying the rule table at each node until none applies, then repeat
// whole passes until nothing changes. Both loops are bounded. A rewrite is taken only if it
// adds no more nodes than it frees, by use counts kept up to date through the pass; the
// result is never bigger than the graph given, else the given roots come back unchanged.

import { InternalError } from "../diagnostics";
import { formatShape, sameShape, topoSort, useCounts, type Graph, type Node } from "../ir";
import { Builder } from "../ops";
import { rules } from "./rules";

const maxPasses = 8;
const maxRewritesPerNode = 16;
/** The most nodes one rewrite may bring into the graph. */
const maxAdded = 64;

export interface SimplifyOptions {
  /** Called for every rewrite taken (tests, debugging). */
  onRewrite?(rule: string, from: Node, to: Node): void;
}

/** The same values as `roots`, from a graph with no more nodes. */
export function simplify(graph: Graph, roots: readonly Node[], options: SimplifyOptions = {}): Node[] {
  const b = new Builder(graph, undefined);
  const before = topoSort(roots).length;
  let current = [...roots];
  let size = before;
  for (let pass = 0; pass < maxPasses; pass++) {
    const next = simplifyPass(b, current, options);
    // Hash-consing: a root is unchanged exactly when nothing beneath it changed.
    // Stryker disable next-line ConditionalExpression,ArrowFunction: an early exit; another pass over an unchanged graph changes nothing
    if (next.every((n, k) => n === current[k])) break;
    const nextSize = topoSort(next).length;
    // Stryker disable next-line ConditionalExpression: a safety net; every rewrite taken pays for itself, so no pass grows the graph
    if (nextSize > size) break;
    current = next;
    size = nextSize;
  }
  // Stryker disable next-line ConditionalExpression,ArrayDeclaration: the same safety net
  return size <= before ? current : [...roots];
}

/** One bottom-up rebuild: each node on its (already simplified) inputs, then rewritten. */
function simplifyPass(b: Builder, roots: readonly Node[], options: SimplifyOptions): Node[] {
  const order = topoSort(roots);
  const uses = new Uses(order, roots);
  const image = new Map<Node, Node>();
  for (const n of order) {
    let m = n;
    const inputs = n.inputs.map((i) => image.get(i)!);
    // A loop's body is simplified as a graph of its own (its args stay as they are).
    const results = n.body && simplify(b.graph, n.body.results, options);
    const body = n.body && results!.some((r, k) => r !== n.body!.results[k]) ? { args: n.body.args, results: results! } : n.body;
    if (inputs.some((x, k) => x !== n.inputs[k]) || body !== n.body) {
      m = b.graph.apply(n.op, inputs, n.attrs, n.span, body);
      if (m.name === undefined) m.name = n.name;
      uses.transfer(n, m);
    }
    image.set(n, rewrite(b.at(n.span), m, uses, options));
  }
  return roots.map((r) => image.get(r)!);
}

/** Apply the first rule that matches and pays for itself, again and again (bounded). */
function rewrite(b: Builder, node: Node, uses: Uses, options: SimplifyOptions): Node {
  let current = node;
  for (let k = 0; k < maxRewritesPerNode; k++) {
    const next = firstRewrite(b, current, uses, options);
    if (next === undefined) break;
    current = next;
  }
  return current;
}

function firstRewrite(b: Builder, node: Node, uses: Uses, options: SimplifyOptions): Node | undefined {
  for (const rule of rules) {
    const r = rule.match(node, b);
    if (r === undefined) continue;
    // Stryker disable next-line ConditionalExpression: replace() refuses a replacement that contains the node, itself included
    if (r === node) continue;
    if (!sameShape(r.shape, node.shape)) {
      throw new InternalError(`simplify rule ${rule.name} changed a shape`, `${formatShape(node.shape)} -> ${formatShape(r.shape)}`);
    }
    if (!uses.replace(node, r)) continue;
    moveName(node, r);
    options.onRewrite?.(rule.name, node, r);
    return r;
  }
  return undefined;
}

/** A model name stays with the computation it named, never on a source or a view. */
function moveName(from: Node, to: Node): void {
  if (from.name !== undefined && to.name === undefined && to.op.kind !== "source" && to.op.kind !== "view") {
    to.name = from.name;
  }
}

/**
 * Use counts of the graph as the pass leaves it: nodes already visited stand for their
 * images, nodes not yet visited for themselves. A node is live while its count is above
 * zero; roots hold one extra use so they always are.
 */
class Uses {
  private readonly count: Map<Node, number>;

  constructor(order: readonly Node[], roots: readonly Node[]) {
    this.count = useCounts(order);
    for (const r of roots) this.add(r, 1);
  }

  private get(n: Node): number {
    return this.count.get(n) ?? 0;
  }

  private add(n: Node, k: number): void {
    this.count.set(n, this.get(n) + k);
  }

  /** `to` takes over the users of `from` (rebuilt on new inputs). */
  transfer(from: Node, to: Node): void {
    this.add(to, this.get(from));
    this.count.set(from, 0);
  }

  /** Replace `node` by `r` if `r` brings in no more new nodes than the replacement frees,
   *  and update the counts; else change nothing. */
  replace(node: Node, r: Node): boolean {
    // New nodes: reachable from r without passing through a live node.
    const added = new Set<Node>();
    const stack = [r];
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (x === node) return false;
      if (added.has(x) || this.get(x) > 0) continue;
      added.add(x);
      if (added.size > maxAdded) return false;
      stack.push(...x.inputs);
    }
    const kept = new Set<Node>([r]);
    for (const a of added) for (const i of a.inputs) kept.add(i);
    // Freed nodes: node, then every input whose uses all came from freed nodes.
    const lost = new Map<Node, number>();
    const freed = [node];
    const isFreed = new Set<Node>(freed);
    for (let k = 0; k < freed.length; k++) {
      for (const i of freed[k]!.inputs) {
        const d = (lost.get(i) ?? 0) + 1;
        lost.set(i, d);
        if (!isFreed.has(i) && !kept.has(i) && this.get(i) - d <= 0) {
          isFreed.add(i);
          freed.push(i);
        }
      }
    }
    if (added.size > freed.length) return false;
    const users = this.get(node);
    for (const [i, d] of lost) this.add(i, -d);
    for (const f of freed) this.count.set(f, 0);
    for (const a of added) for (const i of a.inputs) this.add(i, 1);
    this.add(r, users);
    return true;
  }
}
