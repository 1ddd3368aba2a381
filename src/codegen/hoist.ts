// Loop-invariant loads: after unrolling, a kernel reads weights and biases at literal
// offsets (`w[13]`) inside its loops. V8 cannot prove that the typed arrays a function
// writes do not alias the ones it reads, so it reloads them on every iteration. An array
// the function never writes is read once, into a local, at the top of the function.

import { literalAccess, replaceNodes, rewriteLiteralAccesses, visit, type AnyNode } from "./ast";
import * as js from "./estree";

/** At most this many hoisted values per function (register pressure). */
const maxHoisted = 96;

/** The arrays statements may write: assignment and update targets, and every array
 *  passed to a function (a kernel, a runtime check, on the wasm target a SIMD kernel given
 *  addresses: each may write what it is given). */
function writtenBy(statements: js.Statement | js.Statement[]): Set<string> {
  const written = new Set<string>();
  visit(statements, (n) => {
    if (n.type === "AssignmentExpression" || n.type === "UpdateExpression") {
      const target = (n.left ?? n.argument) as AnyNode;
      const array = target.type === "MemberExpression" ? (target.object as AnyNode) : target;
      if (array.type === "Identifier") written.add(array.name as string);
    }
    if (n.type === "CallExpression" && (n.callee as AnyNode).type === "Identifier") {
      for (const arg of n.arguments as AnyNode[]) {
        const array = arg.type === "CallExpression" && (arg.callee as AnyNode).name === "elementAddress" ? (arg.arguments as AnyNode[])[0]! : arg;
        if (array.type === "Identifier") written.add(array.name as string);
      }
    }
  });
  return written;
}

export function hoistInvariantLoads(body: js.Statement[]): js.Statement[] {
  const loads = new Map<string, { object: string; index: number; looped: boolean }>();
  const written = writtenBy(body);
  visit(body, (n, _key, _parent, loopDepth) => {
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


/**
 * Argument loads of a small model's run function (one straight-line function, unrolled):
 * its kernels read the same input and param elements many times (`in_x[0]` once per
 * product it enters), and V8 reloads a typed array element at each read. An element of an
 * argument read at least twice before anything writes that array (by name, as
 * `hoistInvariantLoads` judges) is read once, at the top of the function, into a local;
 * reads after a write (the optimizer's update of a param) stay as they are.
 */
export function hoistArgumentLoads(body: js.Statement[], args: readonly string[], fresh: (base: string) => string): js.Statement[] {
  const candidates = new Set(args);
  const writtenBefore = new Set<string>();
  // Per top-level statement, the arrays whose reads in it may be hoisted.
  const open: Set<string>[] = [];
  const counts = new Map<string, { object: string; index: number; count: number }>();
  for (const statement of body) {
    const writes = writtenBy(statement);
    const readable = new Set([...candidates].filter((a) => !writtenBefore.has(a) && !writes.has(a)));
    open.push(readable);
    if (readable.size > 0) {
      visit(statement, (n) => {
        const access = literalAccess(n);
        if (!access || !readable.has(access.object)) return;
        const key = `${access.object}[${access.index}]`;
        const entry = counts.get(key) ?? { ...access, count: 0 };
        entry.count++;
        counts.set(key, entry);
      });
    }
    for (const w of writes) writtenBefore.add(w);
  }
  const hoisted = [...counts.values()].filter((e) => e.count >= 2).sort((a, b) => b.count - a.count).slice(0, maxHoisted)
    .sort((a, b) => args.indexOf(a.object) - args.indexOf(b.object) || a.index - b.index);
  if (hoisted.length === 0) return body;
  const names = new Map(hoisted.map((e) => [`${e.object}[${e.index}]`, fresh(`${e.object}_at${e.index}`)]));
  const rewritten = body.map((statement, i) => rewriteLiteralAccesses(statement, (object, index) => {
    const name = open[i]!.has(object) ? names.get(`${object}[${index}]`) : undefined;
    return name ? js.id(name) : undefined;
  }) as js.Statement);
  const decls = js.declareMany("const", hoisted.map((e) => [names.get(`${e.object}[${e.index}]`)!, js.index(e.object, js.num(e.index))]));
  return [decls, ...rewritten];
}

/**
 * Scalar arguments a run function can take as numbers: each of `candidates` (a scalar
 * input's or param's array) that the body only reads, as `name[0]`. Their reads become
 * the name itself, a local the caller declares (module.ts reads it from the box the API
 * function wrote: the array is then always the same one, not a number's box or the
 * user's array by turns).
 */
export function numericScalars(body: js.Statement[], candidates: ReadonlySet<string>): { body: js.Statement[]; numeric: Set<string> } {
  if (candidates.size === 0) return { body, numeric: new Set() };
  const disqualified = writtenBy(body);
  visit(body, (n, key, parent) => {
    if (n.type !== "Identifier" || !candidates.has(n.name as string)) return;
    if (key !== "object" || !parent || literalAccess(parent)?.index !== 0) disqualified.add(n.name as string);
  });
  // (one the body never reads is passed as a number too: nothing reads it)
  const numeric = new Set([...candidates].filter((name) => !disqualified.has(name)));
  if (numeric.size === 0) return { body, numeric };
  const rewritten = rewriteLiteralAccesses(body, (object, index) => (numeric.has(object) && index === 0 ? js.id(object) : undefined)) as js.Statement[];
  return { body: rewritten, numeric };
}

/**
 * Loads of a loop's element, once per iteration: a fused kernel reads its inputs at the
 * loop's own index (`a0[i]`) once per use, and V8 reloads (and bounds-checks) each. An
 * array the function never writes (as `hoistInvariantLoads` judges) read at least twice
 * at `[i]` in the body of the loop over `i` is read once, at the top of the body. The
 * free dims (`dims`, module state no kernel writes) are read once, at the top of the
 * function, when a loop uses them.
 */
export function hoistLoopLoads(body: js.Statement[], dims: ReadonlySet<string>, fresh: (base: string) => string): js.Statement[] {
  const written = writtenBy(body);
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!node || typeof node !== "object") return node;
    const n = node as AnyNode;
    if (typeof n.type !== "string") return node;
    const out: AnyNode = { ...n };
    for (const k of Object.keys(n)) if (k !== "type" && k !== "comments") out[k] = rewrite(n[k]);
    return out.type === "ForStatement" ? elementLoads(out, written, fresh) : out;
  };
  let result = rewrite(body) as js.Statement[];
  // Dims read in a loop: one local each.
  const used = new Set<string>();
  visit(result, (n, _key, _parent, loopDepth) => {
    if (n.type === "Identifier" && dims.has(n.name as string) && loopDepth > 0 && !written.has(n.name as string)) used.add(n.name as string);
  });
  if (used.size === 0) return result;
  const locals = new Map([...used].sort().map((d) => [d, fresh(`${d}_local`)]));
  result = replaceNodes(result, (n) => (n.type === "Identifier" && locals.has(n.name as string) ? js.id(locals.get(n.name as string)!) : undefined)) as js.Statement[];
  return [js.declareMany("const", [...locals].map(([d, local]) => [local, js.id(d)])), ...result];
}

/** `loop` with its body's repeated reads of unwritten arrays at the loop index made once. */
function elementLoads(loop: AnyNode, written: ReadonlySet<string>, fresh: (base: string) => string): AnyNode {
  const init = loop.init as AnyNode | null;
  const body = loop.body as AnyNode;
  if (!init || init.type !== "VariableDeclaration" || body.type !== "BlockStatement") return loop;
  const decls = init.declarations as AnyNode[];
  if (decls.length !== 1 || (decls[0]!.id as AnyNode).type !== "Identifier") return loop;
  const v = (decls[0]!.id as AnyNode).name as string;
  // The index must be the same value throughout the body.
  let unsafe = false;
  const counts = new Map<string, number>();
  visit(body, (n) => {
    if (n.type === "AssignmentExpression" || n.type === "UpdateExpression") {
      const target = (n.left ?? n.argument) as AnyNode;
      if (target.type === "Identifier" && target.name === v) unsafe = true;
    }
    if (n.type === "VariableDeclarator" && (n.id as AnyNode).type === "Identifier" && (n.id as AnyNode).name === v) unsafe = true;
    const array = elementRead(n, v);
    if (array && !written.has(array)) counts.set(array, (counts.get(array) ?? 0) + 1);
  });
  const arrays = [...counts].filter(([, c]) => c >= 2).map(([a]) => a);
  if (unsafe || arrays.length === 0) return loop;
  const names = new Map(arrays.map((a) => [a, fresh(`${a}_${v}`)]));
  const inner = replaceNodes(body.body, (n) => {
    const array = elementRead(n, v);
    return array && names.has(array) ? js.id(names.get(array)!) : undefined;
  }) as js.Statement[];
  const loads = js.declareMany("const", arrays.map((a) => [names.get(a)!, js.index(a, js.id(v))]));
  return { ...loop, body: { ...body, body: [loads, ...inner] } };
}

/** The array of `array[v]`, if `n` is such a read. */
function elementRead(n: AnyNode, v: string): string | undefined {
  if (n.type !== "MemberExpression" || n.computed !== true) return undefined;
  const obj = n.object as AnyNode;
  const prop = n.property as AnyNode;
  return obj.type === "Identifier" && prop.type === "Identifier" && prop.name === v ? (obj.name as string) : undefined;
}

/** Whether `name` occurs as an identifier in `node`. */
export function mentions(node: unknown, name: string): boolean {
  let found = false;
  visit(node, (n) => { if (n.type === "Identifier" && n.name === name) found = true; });
  return found;
}
