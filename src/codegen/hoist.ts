// Loop-invariant loads: after unrolling, a kernel reads weights and biases at literal
// offsets (`w[13]`) inside its loops. V8 cannot prove that the typed arrays a function
// writes do not alias the ones it reads, so it reloads them on every iteration. An array
// the function never writes is read once, into a local, at the top of the function.

import * as js from "./estree";

type AnyNode = { type: string; [key: string]: unknown };

/** At most this many hoisted values per function (register pressure). */
const maxHoisted = 96;

export function hoistInvariantLoads(body: js.Statement[]): js.Statement[] {
  const written = new Set<string>();
  const counts = new Map<string, { object: string; index: number; uses: number; looped: boolean }>();
  visit(body, 0, (n, loopDepth) => {
    if (n.type === "AssignmentExpression" || n.type === "UpdateExpression") {
      const target = (n.left ?? n.argument) as AnyNode;
      if (target.type === "MemberExpression") {
        const obj = target.object as AnyNode;
        if (obj.type === "Identifier") written.add(obj.name as string);
      } else if (target.type === "Identifier") {
        written.add(target.name as string);
      }
    }
    if (n.type === "MemberExpression" && n.computed === true) {
      const obj = n.object as AnyNode;
      const prop = n.property as AnyNode;
      if (obj.type === "Identifier" && prop.type === "Literal" && typeof prop.value === "number") {
        const key = `${obj.name as string}[${prop.value}]`;
        const entry = counts.get(key) ?? { object: obj.name as string, index: prop.value, uses: 0, looped: false };
        entry.uses++;
        entry.looped ||= loopDepth > 0;
        counts.set(key, entry);
      }
    }
  });
  const hoisted = [...counts.entries()]
    .filter(([, e]) => e.looped && !written.has(e.object))
    .slice(0, maxHoisted);
  if (hoisted.length === 0) return body;
  const names = new Map<string, string>();
  hoisted.forEach(([key, e]) => names.set(key, `${e.object}_at${e.index}`));
  const rewritten = replace(body, names) as js.Statement[];
  const decls = js.declareMany("const", hoisted.map(([key, e]) => [names.get(key)!, js.index(e.object, js.num(e.index))]));
  return [decls, ...rewritten];
}

function visit(node: unknown, loopDepth: number, f: (n: AnyNode, loopDepth: number) => void): void {
  if (Array.isArray(node)) { for (const n of node) visit(n, loopDepth, f); return; }
  if (!node || typeof node !== "object") return;
  const n = node as AnyNode;
  if (typeof n.type !== "string") return;
  f(n, loopDepth);
  const inner = n.type === "ForStatement" || n.type === "ForInStatement" ? loopDepth + 1 : loopDepth;
  for (const k of Object.keys(n)) if (k !== "comments") visit(n[k], inner, f);
}

function replace(node: unknown, names: ReadonlyMap<string, string>): unknown {
  if (Array.isArray(node)) return node.map((n) => replace(n, names));
  if (!node || typeof node !== "object") return node;
  const n = node as AnyNode;
  if (n.type === "MemberExpression" && n.computed === true) {
    const obj = n.object as AnyNode;
    const prop = n.property as AnyNode;
    if (obj.type === "Identifier" && prop.type === "Literal") {
      const name = names.get(`${obj.name as string}[${prop.value as number}]`);
      if (name) return js.id(name);
    }
  }
  const out: AnyNode = { type: n.type };
  for (const k of Object.keys(n)) if (k !== "type") out[k] = replace(n[k], names);
  return out;
}
