// How big one emitted function may be, and the split of a longer body into several
// functions. Every hot function must stay small enough for V8's optimizing compiler:
// one that is too big runs in the baseline tier for ever, about 20x slower.
//
// Measured on Node 20 (V8 11.3) with `node bench/v8-budget.mjs`:
// - TurboFan never optimizes a function of more than 61,440 bytes of bytecode
//   (`--max-optimized-bytecode-size`); `%GetOptimizationStatus` stays "baseline" however
//   often it runs, and straight-line typed-array code ran 17-40x slower per statement
//   than the same code optimized (a GRU step at a fixed batch: one 212,693-byte function,
//   20x slower than the same model with a free batch).
// - Below that limit, a function needs more profiler ticks the bigger it is
//   (`--bytecode-size-allowance-per-tick=150`: one more tick per 150 bytes), and
//   TurboFan's compile time grows with its locals: functions of 36-50 KB with hundreds of
//   locals were still "optimizing concurrently" after 10,000 calls on a loaded machine.
// - Emitted code compiles to 2-4 bytes of bytecode per ESTree node (4 for scalarised
//   straight-line code, whose hundreds of locals need wide register operands).
// So one function holds at most `functionBudget` nodes: under 24 KB of bytecode, 40% of
// V8's limit, optimized after a few hundred calls.

import { visit } from "./ast";
import * as js from "./estree";

/** The most ESTree nodes one emitted function should hold. */
export const functionBudget = 6000;

/** ESTree nodes under `node` (comments not counted), iteratively: bodies can have
 *  100,000s of statements. */
export function astSize(node: unknown): number {
  let count = 0;
  const stack: unknown[] = [node];
  while (stack.length > 0) {
    const n = stack.pop();
    if (Array.isArray(n)) { for (const item of n) stack.push(item); continue; }
    if (!n || typeof n !== "object") continue;
    count++;
    for (const k in n) if (k !== "comments") { const v = (n as Record<string, unknown>)[k]; if (typeof v === "object") stack.push(v); }
  }
  return count;
}

/**
 * `function name(params) { body }`, as one function when it fits the budget, else as
 * parts of about `functionBudget` nodes each, which `name` calls in order. A part boundary
 * never falls inside a local's live range (from its declaration to its last use), except
 * for `const`s computed from params and module state alone (adam's bias corrections): those
 * stay in `name`, in their place, and go to the parts that read them as arguments. Each
 * part takes only the params it reads. The body must not `return` at its top level.
 *
 * `loaded` names values the body reads from module state (a model's params through its
 * table): each function, whole or part, declares the ones it reads at its head
 * (`const p_w1 = paramArgs[0];`), so no function takes or loads them all.
 */
export function splitFunction(name: string, params: readonly string[], body: readonly js.Statement[], fresh: (base: string) => string,
  loaded: ReadonlyMap<string, js.Expression> = new Map()): js.Statement[] {
  const sizes = body.map(astSize);
  // (a function's block is one node, and each load 6)
  const room = functionBudget - 1;
  const facts = loaded.size > 0 || sizes.reduce((a, b) => a + b, 0) > room ? body.map(statementFacts) : [];
  // The loads a function made of these statements needs, in `loaded`'s order.
  const loads = (items: readonly number[]): js.Statement[] => {
    if (loaded.size === 0) return [];
    const read = new Set(items.flatMap((i) => [...facts[i]!.read]));
    return [...loaded].filter(([n]) => read.has(n)).map(([n, e]) => js.declare("const", n, e));
  };
  const whole = () => [js.func(name, [...params], [...loads(body.map((_, i) => i)), ...body])];
  if (sizes.reduce((a, b) => a + b, 0) + loads(body.map((_, i) => i)).length * 6 <= room) return whole();
  const locals = new Set(facts.flatMap((f) => f.declared));
  // Shared consts: declared from params, module state and other shared consts only.
  const kept = facts.map(() => false);
  const shared = new Set<string>();
  facts.forEach((f, i) => {
    const s = body[i]!;
    kept[i] = s.type === "VariableDeclaration" && s.kind === "const" && [...f.read].every((r) => !locals.has(r) || shared.has(r) || f.declared.includes(r));
    if (kept[i]) for (const d of f.declared) shared.add(d);
  });
  // A boundary before statement p is blocked while a part-local declared before p is used
  // at p or later. A shared const sits between two parts, so it needs the boundaries before
  // and after it free; one that has not is computed in its part like any other local (and
  // the boundaries are worked out again).
  let blocked = blockedBoundaries(facts, kept);
  for (let changed = true; changed;) {
    changed = false;
    kept.forEach((k, i) => {
      if (k && (blocked[i] || blocked[i + 1])) { kept[i] = false; changed = true; }
    });
    if (changed) blocked = blockedBoundaries(facts, kept);
  }
  shared.clear();
  facts.forEach((f, i) => { if (kept[i]) for (const d of f.declared) shared.add(d); });
  // Runs of statements, each a part or a kept const.
  // A part's size counts the loads at its head (`const p = paramArgs[k];`: 6 nodes each).
  const runs: { kept: boolean; items: number[] }[] = [];
  let size = 0;
  const partLoads = new Set<string>();
  const newLoads = (i: number) => (loaded.size === 0 ? 0 : [...facts[i]!.read].filter((n) => loaded.has(n) && !partLoads.has(n)).length * 6);
  const addLoads = (i: number) => { if (loaded.size > 0) for (const n of facts[i]!.read) if (loaded.has(n)) partLoads.add(n); };
  body.forEach((_, i) => {
    const last = runs[runs.length - 1];
    if (kept[i]) { runs.push({ kept: true, items: [i] }); return; }
    const grown = sizes[i]! + newLoads(i);
    if (!last || last.kept || (size + grown > room && !blocked[i])) {
      runs.push({ kept: false, items: [i] });
      partLoads.clear();
      size = sizes[i]! + newLoads(i);
      addLoads(i);
      return;
    }
    last.items.push(i);
    size += grown;
    addLoads(i);
  });
  if (runs.filter((r) => !r.kept).length < 2) return whole();

  const out: js.Statement[] = [];
  const calls: js.Statement[] = [];
  for (const run of runs) {
    if (run.kept) { calls.push(body[run.items[0]!]!); continue; }
    const read = new Set(run.items.flatMap((i) => [...facts[i]!.read]));
    // Each part takes only the params and shared consts it reads.
    const passed = [...params.filter((p) => read.has(p)), ...[...shared].filter((c) => read.has(c))];
    const part = fresh(`${name}_part`);
    out.push(js.func(part, passed, [...loads(run.items), ...run.items.map((i) => body[i]!)]));
    calls.push(js.stmt(js.call(part, ...passed.map(js.id))));
  }
  // (kept consts computed from loaded values load them here)
  out.push(js.func(name, [...params], [...loads(runs.filter((r) => r.kept).map((r) => r.items[0]!)), ...calls]));
  return out;
}

/** Whether the boundary before each statement (and after the last) falls inside the live
 *  range of a local that is not kept in the caller. */
function blockedBoundaries(facts: readonly StatementFacts[], kept: readonly boolean[]): boolean[] {
  const declaredAt = new Map<string, number>();
  facts.forEach((f, i) => { if (!kept[i]) for (const d of f.declared) declaredAt.set(d, i); });
  const lastUse = new Map<string, number>();
  facts.forEach((f, i) => {
    for (const u of f.read) if (declaredAt.has(u)) lastUse.set(u, i);
    for (const u of f.assigned) if (declaredAt.has(u)) lastUse.set(u, i);
  });
  // Boundaries p with declaredAt < p <= lastUse, by a running count of open ranges.
  const delta = new Array<number>(facts.length + 2).fill(0);
  for (const [name, last] of lastUse) {
    const d = declaredAt.get(name)!;
    if (last > d) { delta[d + 1]!++; delta[last + 1]!--; }
  }
  const blocked = new Array<boolean>(facts.length + 1).fill(false);
  let open = 0;
  for (let p = 0; p <= facts.length; p++) { open += delta[p]!; blocked[p] = open > 0; }
  return blocked;
}

interface StatementFacts {
  /** Names declared at the statement's top level (`const x = ...`). */
  declared: string[];
  /** Identifiers assigned anywhere inside it. */
  assigned: Set<string>;
  /** Identifiers read anywhere inside it (a superset: also declarations and callees). */
  read: Set<string>;
}

function statementFacts(s: js.Statement): StatementFacts {
  const declared = s.type === "VariableDeclaration" ? s.declarations.map((d) => (d.id as { name: string }).name) : [];
  const assigned = new Set<string>();
  const read = new Set<string>();
  visit(s, (n, key, parent) => {
    if (n.type === "Identifier") {
      // `a.b`'s b and `{ b: ... }`'s key are not variables.
      if (parent && key === "property" && parent.type === "MemberExpression" && parent.computed === false) return;
      if (parent && key === "key" && parent.type === "Property" && parent.computed === false) return;
      read.add(n.name as string);
    }
    if (n.type === "AssignmentExpression" || n.type === "UpdateExpression") {
      const target = (n.left ?? n.argument) as { type: string; name?: string };
      if (target.type === "Identifier") assigned.add(target.name!);
    }
  });
  return { declared, assigned, read };
}
