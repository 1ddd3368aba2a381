// Reading a built-in's constant arguments: numbers, integers, flags and axis lists, and the
// kept shape and element count of a reduction. Kept apart from the built-in table and the
// expression lowerer, which both use them, so neither module imports the other for them.

import { fail } from "../diagnostics";
import { normalizeAxis, type Dim, type Node } from "../ir";
import type { Builder } from "../ops";
import type { Expr } from "../syntax";

/** The value of a constant numeric expression (`3`, `-1.5`, `(2)`), if it is one. */
export function constNumber(e: Expr): number | undefined {
  if (e.kind === "number") return e.value;
  if (e.kind === "paren") return constNumber(e.inner);
  if (e.kind === "unary") {
    const v = constNumber(e.operand);
    return v === undefined ? undefined : -v;
  }
  return undefined;
}

export function int(fnName: string, argName: string, e: Expr | undefined, dflt: number): number {
  if (!e) return dflt;
  const v = constNumber(e);
  if (v === undefined || !Number.isInteger(v)) fail("E0116", e.span, fnName, argName);
  return v;
}

export function bool(fnName: string, argName: string, e: Expr | undefined, dflt: boolean): boolean {
  if (!e) return dflt;
  if (e.kind !== "bool") fail("E0117", e.span, fnName, argName);
  return e.value;
}

/** `axis` as an integer or a list; negative entries count from the end. */
export function axes(e: Expr | undefined, rank: number): number[] {
  if (!e) return Array.from({ length: rank }, (_, i) => i);
  const items = e.kind === "list" ? e.items : [e];
  const out: number[] = [];
  for (const item of items) {
    const v = constNumber(item);
    if (v === undefined || !Number.isInteger(v)) fail("E0118", item.span, "axis");
    const a = normalizeAxis(v, rank);
    if (a === undefined) fail("E0203", item.span, v, rank);
    if (out.includes(a)) fail("E0204", item.span, v);
    out.push(a);
  }
  return out.sort((x, y) => x - y);
}

export function keptShape(x: Node, ax: number[]): Dim[] {
  return x.shape.map((d, k) => (ax.includes(k) ? 1 : d));
}

/** The number of elements over `ax`, as a scalar node (runtime size for free dims). */
export function count(b: Builder, x: Node, ax: number[]): Node {
  let known = 1;
  const free: string[] = [];
  for (const a of ax) {
    const d = x.shape[a]!;
    if (typeof d === "number") known *= d;
    else free.push(d);
  }
  const c = b.constant(known);
  return free.length === 0 ? c : b.mul(c, b.op("size", [], { dims: free.sort() }));
}

/** The list of tensors `concat` and `stack` take (`[a, b, ...]`), each lowered by `tensor`. */
export function tensorList(e: Expr, tensor: (e: Expr) => Node): Node[] {
  if (e.kind !== "list" || e.items.length === 0) fail("E0209", e.span, "the first argument must be a list of tensors, like [a, b]");
  return e.items.map(tensor);
}
