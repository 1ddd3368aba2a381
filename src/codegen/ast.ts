// Walking and rewriting emitted ESTree, shared by the post-passes (unroll, scalarize,
// hoist). Comments are data, not code, and are never visited.

import * as js from "./estree";

export type AnyNode = { type: string; [key: string]: unknown };

/** Calls `f` on every node, with the key and parent it hangs from and how many loops
 *  enclose it. */
export function visit(
  node: unknown,
  f: (n: AnyNode, key: string | undefined, parent: AnyNode | undefined, loopDepth: number) => void,
  key?: string, parent?: AnyNode, loopDepth = 0,
): void {
  if (Array.isArray(node)) { for (const n of node) visit(n, f, key, parent, loopDepth); return; }
  if (!node || typeof node !== "object") return;
  const n = node as AnyNode;
  if (typeof n.type !== "string") return;
  f(n, key, parent, loopDepth);
  const inner = n.type === "ForStatement" || n.type === "ForInStatement" ? loopDepth + 1 : loopDepth;
  for (const k of Object.keys(n)) if (k !== "comments") visit(n[k], f, k, n, inner);
}

/** `name[3]`: the array name and the literal index, if `n` is such an access. */
export function literalAccess(n: AnyNode): { object: string; index: number } | undefined {
  if (n.type !== "MemberExpression" || n.computed !== true) return undefined;
  const obj = n.object as AnyNode;
  const prop = n.property as AnyNode;
  if (obj.type !== "Identifier" || prop.type !== "Literal" || typeof prop.value !== "number") return undefined;
  return { object: obj.name as string, index: prop.value };
}

/** A copy of `node` with each node that `f` maps replaced by `f`'s result (whose own
 *  nodes are not entered); comments are kept as they are. */
export function replaceNodes(node: unknown, f: (n: AnyNode) => unknown): unknown {
  if (Array.isArray(node)) return node.map((n) => replaceNodes(n, f));
  if (!node || typeof node !== "object") return node;
  const n = node as AnyNode;
  if (typeof n.type !== "string") return node;
  const replacement = f(n);
  if (replacement !== undefined) return replacement;
  const out: AnyNode = { ...n };
  for (const k of Object.keys(n)) if (k !== "type" && k !== "comments") out[k] = replaceNodes(n[k], f);
  return out;
}

/** A copy of `node` with each `name[literal]` that `f` maps replaced by `f`'s result. */
export function rewriteLiteralAccesses(node: unknown, f: (object: string, index: number) => js.Expression | undefined): unknown {
  return replaceNodes(node, (n) => {
    const access = literalAccess(n);
    return access ? f(access.object, access.index) : undefined;
  });
}

/** The local names `node` assigns (`x = ...`, `x += ...`, `x++`). */
export function assignedNames(node: unknown): Set<string> {
  const names = new Set<string>();
  visit(node, (n) => {
    const target = (n.type === "AssignmentExpression" ? n.left : n.type === "UpdateExpression" ? n.argument : undefined) as AnyNode | undefined;
    if (target?.type === "Identifier") names.add(target.name as string);
  });
  return names;
}
