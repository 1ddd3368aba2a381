// Scalar replacement: after unrolling, an arena buffer that is only ever indexed by
// literal offsets is a handful of named values. Each element becomes a local variable,
// so small fully unrolled models (XOR) keep their intermediates in registers instead of
// typed-array memory. Returned and external arrays are never candidates.

import * as js from "./estree";

type AnyNode = { type: string; [key: string]: unknown };

/** Replace `buf[3]` by `buf_3` for every candidate buffer indexed only by literals.
 *  Returns the new body and the buffers that no longer need an array. */
export function scalarizeBuffers(body: js.Statement[], candidates: ReadonlySet<string>): { body: js.Statement[]; removed: Set<string> } {
  const disqualified = new Set<string>();
  const used = new Map<string, Set<number>>();
  visit(body, (n, parentKey, parent) => {
    if (n.type !== "Identifier" || !candidates.has(n.name as string)) return;
    const name = n.name as string;
    const isObject = parent?.type === "MemberExpression" && parentKey === "object" && parent.computed === true;
    const property = isObject ? (parent!.property as AnyNode) : undefined;
    if (!property || property.type !== "Literal" || typeof property.value !== "number") {
      disqualified.add(name);
      return;
    }
    const set = used.get(name) ?? new Set<number>();
    set.add(property.value as number);
    used.set(name, set);
  });
  const removed = new Set([...used.keys()].filter((n) => !disqualified.has(n)));
  if (removed.size === 0) return { body, removed };
  const rewritten = replace(body, removed) as js.Statement[];
  const locals: [string, js.Expression][] = [];
  for (const name of [...removed].sort()) {
    for (const i of [...used.get(name)!].sort((a, b) => a - b)) locals.push([`${name}_${i}`, js.num(0)]);
  }
  return { body: [js.declareMany("let", locals), ...rewritten], removed };
}

function visit(node: unknown, f: (n: AnyNode, key: string | undefined, parent: AnyNode | undefined) => void, key?: string, parent?: AnyNode): void {
  if (Array.isArray(node)) { node.forEach((n) => visit(n, f, key, parent)); return; }
  if (!node || typeof node !== "object") return;
  const n = node as AnyNode;
  if (typeof n.type !== "string") return;
  f(n, key, parent);
  for (const k of Object.keys(n)) if (k !== "comments") visit(n[k], f, k, n);
}

function replace(node: unknown, names: ReadonlySet<string>): unknown {
  if (Array.isArray(node)) return node.map((n) => replace(n, names));
  if (!node || typeof node !== "object") return node;
  const n = node as AnyNode;
  if (n.type === "MemberExpression" && n.computed === true) {
    const obj = n.object as AnyNode;
    const prop = n.property as AnyNode;
    if (obj.type === "Identifier" && names.has(obj.name as string) && prop.type === "Literal") {
      return js.id(`${obj.name as string}_${prop.value as number}`);
    }
  }
  const out: AnyNode = { type: n.type };
  for (const k of Object.keys(n)) if (k !== "type") out[k] = replace(n[k], names);
  return out;
}
