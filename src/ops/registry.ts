// The op registry: every primitive by name. Families register here; nothing else keeps a
// list of ops, so a new op is one record in its family file.

import { InternalError } from "../diagnostics";
import type { OpDef } from "../ir";

const ops = new Map<string, OpDef>();

export function registerOps(defs: readonly OpDef[]): void {
  for (const d of defs) {
    if (ops.has(d.name)) throw new InternalError(`op ${d.name} registered twice`);
    ops.set(d.name, d);
  }
}

export function getOp(name: string): OpDef {
  const op = ops.get(name);
  if (!op) throw new InternalError(`unknown op ${name}`);
  return op;
}

export function allOps(): OpDef[] {
  return [...ops.values()];
}
