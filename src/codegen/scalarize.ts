// Scalar replacement: after unrolling, an arena buffer that is only ever indexed by
// literal offsets is a handful of named values. Each element becomes a local variable,
// so small fully unrolled models (XOR) keep their intermediates in registers instead of
// typed-array memory. Returned and external arrays are never candidates.

import { literalAccess, rewriteLiteralAccesses, visit } from "./ast";
import * as js from "./estree";

/** Replace `buf[3]` by `buf_3` for every candidate buffer indexed only by literals.
 *  Returns the new body and the buffers that no longer need an array. */
export function scalarizeBuffers(body: js.Statement[], candidates: ReadonlySet<string>): { body: js.Statement[]; removed: Set<string> } {
  const disqualified = new Set<string>();
  const used = new Map<string, Set<number>>();
  visit(body, (n, key, parent) => {
    if (n.type !== "Identifier" || !candidates.has(n.name as string)) return;
    const name = n.name as string;
    const access = parent && key === "object" ? literalAccess(parent) : undefined;
    if (!access) {
      disqualified.add(name);
      return;
    }
    const set = used.get(name) ?? new Set<number>();
    set.add(access.index);
    used.set(name, set);
  });
  const removed = new Set([...used.keys()].filter((n) => !disqualified.has(n)));
  if (removed.size === 0) return { body, removed };
  const rewritten = rewriteLiteralAccesses(body, (object, index) => (removed.has(object) ? js.id(`${object}_${index}`) : undefined)) as js.Statement[];
  const locals: [string, js.Expression][] = [];
  for (const name of [...removed].sort()) {
    for (const i of [...used.get(name)!].sort((a, b) => a - b)) locals.push([`${name}_${i}`, js.num(0)]);
  }
  return { body: [js.declareMany("let", locals), ...rewritten], removed };
}
