// Run-time checks of ids (take, scatter_add, one_hot): every id must be an integer in
// [0, bound). An ids input is checked once per call, after the argument checks; computed
// ids right after the kernel that computes them, naming their source line. One pass over
// the ids (the runtime's `checkIds`); the error path builds the message.

import { messages, sourceLine } from "../diagnostics";
import type { Dim, Node, Shape } from "../ir";
import type { IndexInputs } from "../ops";
import { sizeExpression } from "./dim-expression";
import * as js from "./estree";

/** The runtime helpers, emitted only into modules whose model reads ids. */
export const idsRuntimeSource = `
// Ids (take, one_hot): integers in [0, bound), checked in one pass before any kernel
// reads them. (v | 0) !== v also rejects NaN, fractions and huge values.
function checkIds(ids, n, bound, start = 0) {
  for (let i = 0; i < n; i++) {
    const v = ids[start + i];
    if ((v | 0) !== v || v < 0 || v >= bound) return i;
  }
  return -1;
}
function badIds(code, parts, ids, bound, shape) {
  const flat = checkIds(ids, ids.length, bound);
  badIdAt(code, parts, ids[flat], flat, bound, shape);
}
function badIdAt(code, parts, value, flat, bound, shape) {
  let rest = flat;
  const index = [];
  for (let k = shape.length - 1; k >= 0; k--) {
    index[k] = rest % shape[k];
    rest = (rest - index[k]) / shape[k];
  }
  const values = [String(value), "[" + index.join(", ") + "]", String(flat), String(bound)];
  let message = parts[0];
  for (let k = 0; k < values.length; k++) message += values[k] + parts[k + 1];
  fail(code, message);
}
`;

export interface IdCheck {
  ids: Node;
  bound: Dim;
}

/** Every (ids, bound) pair the nodes read, once each, in order. */
export function collectIdChecks(order: readonly Node[]): IdCheck[] {
  const found = new Map<string, IdCheck>();
  for (const n of order) {
    const emit = n.op.emit as Partial<IndexInputs> | undefined;
    for (const { input, bound } of emit?.indexInputs?.(n) ?? []) {
      const ids = n.inputs[input]!;
      const key = `${ids.id}:${bound}`;
      if (!found.has(key)) found.set(key, { ids, bound });
    }
  }
  return [...found.values()];
}

const marker = "\u0000";

/** The message parts around its runtime values (value, index, flat index, bound). */
function parts(ids: Node): js.Expression {
  const text = ids.op.name === "input"
    ? messages.E0420(ids.attrs.name as string, marker, marker, marker, marker)
    : messages.E0421(ids.span ? sourceLine(ids.span) : "an expression", marker, marker, marker, marker);
  return js.array(text.split(marker).map(js.str));
}

/**
 * `if (checkIds(ids, n, bound) >= 0) badIds(...)`: `array` holds the ids (an input or a
 * buffer, from `start` when they are a row of a larger array, as a scan's slice is); a
 * computed scalar is wrapped in a one-element array on the error path only.
 */
export function idCheckStatement(check: IdCheck, value: js.Expression, dim: (d: Dim) => js.Expression, start?: js.Expression): js.Statement {
  const { ids, bound } = check;
  const code = js.str(ids.op.name === "input" ? "E0420" : "E0421");
  const limit = dim(bound);
  if (ids.shape.length === 0) {
    const v = value;
    const bad = js.logical("||", js.logical("||", js.binary("!==", js.binary("|", v, js.num(0)), v), js.binary("<", v, js.num(0))), js.binary(">=", v, limit));
    return js.ifStmt(bad, [js.stmt(js.call("badIds", code, parts(ids), js.array([v]), limit, js.array([])))]);
  }
  const count = sizeExpression(ids.shape, dim);
  const test = js.binary(">=", js.call("checkIds", value, count, limit, ...(start ? [start] : [])), js.num(0));
  // The error path may allocate: a row's ids are cut out for the message.
  const ids_ = start ? js.call(js.member(value, "subarray"), start, js.add(start, count)) : value;
  return js.ifStmt(test, [js.stmt(js.call("badIds", code, parts(ids), ids_, limit, js.array(ids.shape.map(dim))))]);
}


/** The wasm target's failure record: [check number (from 1; 0 while none failed), flat
 *  index, value], a Float64Array in the module's memory. */
export const idFailureName = "idFailure";

/**
 * wasm: the check of computed ids as code the module translates (it cannot throw): on the
 * first bad id, `idFailure` gets [k, its flat index, its value] and the run function
 * returns at once, as the JS target's throw would leave it; the JS side then reports it
 * with `idReport` (the same message as the JS target's).
 */
export function wasmIdCheckStatement(check: IdCheck, k: number, value: js.Expression, dim: (d: Dim) => js.Expression, fresh: (prefix: string) => string): js.Statement {
  const v = fresh("id");
  const bad = (): js.Expression => js.logical("||", js.logical("||",
    js.binary("!==", js.binary("|", js.id(v), js.num(0)), js.id(v)), js.binary("<", js.id(v), js.num(0))), js.binary(">=", js.id(v), dim(check.bound)));
  const record = (flat: js.Expression): js.Statement[] => [
    js.stmt(js.assign(js.index(idFailureName, js.num(0)), js.num(k))),
    js.stmt(js.assign(js.index(idFailureName, js.num(1)), flat)),
    js.stmt(js.assign(js.index(idFailureName, js.num(2)), js.id(v))),
    js.ret(),
  ];
  if (check.ids.shape.length === 0) return js.block([js.declare("const", v, value), js.ifStmt(bad(), record(js.num(0)))]);
  const i = fresh("i");
  return js.loop(i, js.num(0), sizeExpression(check.ids.shape, dim), [
    js.declare("const", v, js.index(value, js.id(i))),
    js.ifStmt(bad(), record(js.id(i))),
  ]);
}

/** wasm: `badIdAt(code, parts, idFailure[2], idFailure[1], bound, shape)` for check `k`'s
 *  failure, once the module has returned (the arguments `wasmIdCheckStatement` recorded). */
export function idReport(check: IdCheck, dim: (d: Dim) => js.Expression): js.Statement {
  const { ids, bound } = check;
  const code = js.str(ids.op.name === "input" ? "E0420" : "E0421");
  return js.stmt(js.call("badIdAt", code, parts(ids), js.index(idFailureName, js.num(2)), js.index(idFailureName, js.num(1)), dim(bound), js.array(ids.shape.map(dim))));
}
