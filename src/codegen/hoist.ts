// Loop-invariant loads: after unrolling, a kernel reads weights and biases at literal
// offsets (`w[13]`) inside its loops. V8 cannot prove that the typed arrays a function
// writes do not alias the ones it reads, so it reloads them on every iteration. An array
// the function never writes is read once, into a local, at the top of the function.

import { literalAccess, rewriteLiteralAccesses, visit, type AnyNode } from "./ast";
import * as js from "./estree";

/** At most this many hoisted values per function (register pressure). */
const maxHoisted = 96;

export function hoistInvariantLoads(body: js.Statement[]): js.Statement[] {
  const written = new Set<string>();
  const loads = new Map<string, { object: string; index: number; looped: boolean }>();
  visit(body, (n, _key, _parent, loopDepth) => {
    if (n.type === "AssignmentExpression" || n.type === "UpdateExpression") {
      const target = (n.left ?? n.argument) as AnyNode;
      const array = target.type === "MemberExpression" ? (target.object as AnyNode) : target;
      if (array.type === "Identifier") written.add(array.name as string);
    }
    // A call of a function (a kernel, on the wasm target a SIMD kernel given addresses)
    // may write every array passed to it.
    if (n.type === "CallExpression" && (n.callee as AnyNode).type === "Identifier") {
      for (const arg of n.arguments as AnyNode[]) {
        const array = arg.type === "CallExpression" && (arg.callee as AnyNode).name === "elementAddress" ? (arg.arguments as AnyNode[])[0]! : arg;
        if (array.type === "Identifier") written.add(array.name as string);
      }
    }
    const access = literalAccess(n);
    if (access) {
      const key = `${access.object}[${access.index}]`;
      const entry = loads.get(key) ?? { ...access, looped: false };
      entry.looped ||= loopDepth > 0;
      loads.set(key, entry);
    }
  });
  const hoisted = [...loads.values()].filter((e) => e.looped && !written.has(e.object)).slice(0, maxHoisted);
  if (hoisted.length === 0) return body;
  const names = new Map(hoisted.map((e) => [`${e.object}[${e.index}]`, `${e.object}_at${e.index}`]));
  const rewritten = rewriteLiteralAccesses(body, (object, index) => {
    const name = names.get(`${object}[${index}]`);
    return name ? js.id(name) : undefined;
  }) as js.Statement[];
  const decls = js.declareMany("const", hoisted.map((e) => [`${e.object}_at${e.index}`, js.index(e.object, js.num(e.index))]));
  return [decls, ...rewritten];
}
