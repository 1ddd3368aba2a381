// The IR: an immutable DAG of hash-consed nodes. Building the same op on the same inputs
// with the same attributes returns the same node, so common subexpressions are shared by
// construction and equality is identity. Every node's shape is computed by its op's shape
// rule when it is built, so an ill-shaped graph cannot exist.

import { fail, type Span } from "../diagnostics";
import { formatShape, maxElements, maxRank, sizeOf, type Shape } from "./shape";
import type { OpDef } from "./op";

export type AttrValue = number | string | boolean | readonly AttrValue[] | null;
export type Attrs = Readonly<Record<string, AttrValue>>;

export interface Node {
  readonly id: number;
  readonly op: OpDef;
  readonly inputs: readonly Node[];
  readonly attrs: Attrs;
  readonly shape: Shape;
  /** Where the node came from; gradient nodes keep the span of their forward node. */
  readonly span: Span | undefined;
  /** A readable name from the model (`h1`, `d_m1`), used by printers and codegen. */
  name: string | undefined;
  /** A loop's body (scan): a graph of its own, run once per step (src/ops/scan.ts). */
  readonly body?: Body;
}

/** A body graph: `results` computed from placeholder `args` (a scan's carries, its
 *  slices, then its captured outer values, in the order of the loop node's inputs). */
export interface Body {
  readonly args: readonly Node[];
  readonly results: readonly Node[];
}

/** The text identifying a body in hash-consing keys (its args and results by id). */
export function bodyKey(body: Body): string {
  return `{${body.args.map((n) => n.id).join(",")}->${body.results.map((n) => n.id).join(",")}}`;
}

/** More nodes than this in one program is reported (E0221). */
export const maxNodes = 1_000_000;

export class Graph {
  private readonly table = new Map<string, Node>();
  private nextId = 0;

  /** The node for `op(inputs; attrs)`, built once. The shape rule runs on first build. */
  apply(op: OpDef, inputs: readonly Node[], attrs: Attrs, span: Span | undefined, body?: Body): Node {
    const inner = body ? bodyKey(body) : "";
    const key = `${op.name}(${inputs.map((n) => n.id).join(",")})${attrKey(attrs)}${inner}`;
    const found = this.table.get(key);
    if (found) return found;
    const shape = op.shape(inputs.map((n) => n.shape), attrs, span, inputs);
    if (shape.length > maxRank) fail("E0223", span, formatShape(shape), shape.length);
    // Every tensor must be allocatable and indexable: checked once, where nodes are built.
    const { coef } = sizeOf(shape);
    if (!(coef <= maxElements)) fail("E0220", span, formatShape(shape), coef);
    // Nested `grad` and doubling functions grow graphs exponentially: stop them with a
    // diagnostic long before memory runs out.
    if (this.nextId >= maxNodes) fail("E0221", span, maxNodes);
    const node: Node = { id: this.nextId++, op, inputs, attrs, shape, span, name: undefined, ...(body ? { body } : {}) };
    this.table.set(key, node);
    return node;
  }

  get size(): number {
    return this.table.size;
  }
}

/** Exact text of a node's attributes, the same for equal attributes. */
export function attrKey(attrs: Attrs): string {
  const keys = Object.keys(attrs);
  if (keys.length === 0) return "";
  return `{${keys.sort().map((k) => `${k}:${valueKey(attrs[k]!)}`).join(";")}}`;
}

/** Exact text of an attribute: NaN, infinities and -0 stay distinct (JSON would merge them). */
function valueKey(v: AttrValue): string {
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(valueKey).join(",")}]`;
  return String(v);
}

/** Nodes reachable from `roots`, inputs before users (iterative: graphs may be deep). */
export function topoSort(roots: readonly Node[]): Node[] {
  const order: Node[] = [];
  const state = new Map<number, 1 | 2>();
  const stack: { node: Node; next: number }[] = [];
  for (const root of roots) {
    if (state.has(root.id)) continue;
    stack.push({ node: root, next: 0 });
    state.set(root.id, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next < top.node.inputs.length) {
        const child = top.node.inputs[top.next++]!;
        if (!state.has(child.id)) {
          state.set(child.id, 1);
          stack.push({ node: child, next: 0 });
        }
      } else {
        state.set(top.node.id, 2);
        order.push(top.node);
        stack.pop();
      }
    }
  }
  return order;
}

/** `topoSort(roots)` and every node of the loop bodies among them (nested too): what
 *  emitted code computes, for passes that look at every op (runtime helpers). */
export function nodesWithBodies(roots: readonly Node[]): Node[] {
  const out: Node[] = [];
  const seen = new Set<Node>();
  const visit = (rs: readonly Node[]) => {
    for (const n of topoSort(rs)) {
      if (seen.has(n)) continue;
      seen.add(n);
      if (n.body) visit(n.body.results);
      out.push(n);
    }
  };
  visit(roots);
  return out;
}

/** How many times each node is used as an input among the nodes of `order`. */
export function useCounts(order: readonly Node[]): Map<Node, number> {
  const uses = new Map<Node, number>();
  for (const n of order) for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
  return uses;
}
