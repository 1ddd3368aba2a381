// The schedule: which nodes are materialised, in what order their kernels run, and which
// buffer each one lives in. Elementwise ops and views fuse into whatever reads them; a
// value is materialised only when it must be: it is returned, it is a kernel's result, it
// is read by several consumers (or through an expanding broadcast) and would otherwise be
// recomputed, or a loop-nest kernel (matmul, conv) reads it many times. Buffers are
// assigned by liveness, reusing a dead buffer of the same size.

import { isKnown, numel, sameShape, sameSize, sizeOf, topoSort, type Node, type Size } from "../ir";
import type { IndexInputs, KernelEmit } from "../ops";

/** The most kernels one horizontal group (one flat loop) holds. */
const maxGroupSize = 64;

/** The deepest chain of fused (unmaterialised) nodes inside one kernel. */
const maxFusionDepth = 48;

export interface Plan {
  /** Every node the roots need, inputs before users. */
  order: Node[];
  /** Materialised non-source nodes in execution order. */
  kernels: Node[];
  materialized: Set<Node>;
  /** Buffer slot of each materialised tensor (rank > 0) that is not a graph input. */
  slotOf: Map<Node, number>;
  /** Size of each slot. */
  slots: Size[];
  /** Slots holding returned values, never reused. */
  pinned: Set<number>;
  /** Elementwise kernels computed inside the kernel of their producer (an epilogue):
   *  consumer -> producer. The producer is then not materialised. */
  fusedProducer: Map<Node, Node>;
  /** Runs of consecutive same-shaped elementwise kernels computed in one flat loop, by
   *  their first member (values flow between members in locals). */
  groups: Map<Node, Node[]>;
  /** Group members whose value never leaves the group's loop (no store). */
  localOnly: Set<Node>;
  /** Kernel results computed inside the one kernel that reads them, per element it needs
   *  (a prologue: the weight gradient of a conv over a max-pool gradient visits only each
   *  window's first maximum), so never materialised. */
  prologues: Set<Node>;
  /** Max-pools whose windows tile the plane, computed in the loop of the conv they read,
   *  window by window (the pool's kernel: the pool or an elementwise epilogue fused into it
   *  -> the pooled value: the conv or an elementwise epilogue fused into it): the conv's
   *  output is never stored, and positions outside every window are never computed. */
  pooledConvs: Map<Node, Node>;
  /** Pooled values read by the pool's gradient too (maxpool2d_grad over the same windows):
   *  their buffer holds, in the pooled layout, each window's first-maximum tap (a * size +
   *  b), stored by the pool's kernel, which those gradients read instead of searching the
   *  window (value -> its pool's kernel). */
  firstMaxTaps: Map<Node, Node>;
}

export interface PlanRoots {
  /** Values the caller reads back (outputs, objective, gradients). */
  returned: readonly Node[];
  /** Values used after the kernels inside the same function (the gradients an optimizer
   *  update reads): materialised and kept alive to the end, but not returned. */
  extra?: readonly Node[];
  /** The roots after the first (the objective) are gradients in declaration order: they
   *  are visited last first, in backprop order, so a layer's cotangent is read by its
   *  weight gradient right after it is made and dies there, instead of every cotangent of
   *  a deep chain staying alive until the first layer's gradient is done. */
  gradients?: boolean;
  /** Whether a kernel may compute an input itself (see Plan.prologues); the wasm target,
   *  whose SIMD conv kernels read stored operands, plans without. Default true. */
  prologues?: boolean;
}

export function planFunction(roots: PlanRoots): Plan {
  const extra = roots.extra ?? [];
  const all = [...roots.returned, ...extra];
  // Stryker disable next-line MethodExpression: the objective met again at the end is already visited
  const order = topoSort(roots.gradients ? [...all.slice(0, 1), ...all.slice(1).reverse()] : all);
  const patterns = indexPatterns(order);
  const returned = new Set(roots.returned);
  const keepAlive = new Set([...roots.returned, ...extra]);
  const materialized = new Set<Node>();
  const users = new Map<Node, Node[]>();
  for (const n of order) for (const i of n.inputs) {
    const list = users.get(i);
    // (n's pushes are consecutive, so a repeated input of n finds n last: no scan of a
    // constant's thousands of users)
    if (list) { if (list[list.length - 1] !== n) list.push(n); } else users.set(i, [n]);
  }

  const mustMaterialize = (n: Node) => {
    if (n.op.kind !== "source") materialized.add(n);
  };

  // Rules that do not depend on other decisions.
  for (const n of order) {
    // Graph inputs and a loop body's args live in arrays the caller provides.
    if (n.op.name === "input" || n.op.name === "scan_arg") { materialized.add(n); continue; }
    // Stryker disable next-line ConditionalExpression,StringLiteral: the rules below never materialise a source (mustMaterialize)
    if (n.op.kind === "source") continue;
    if (keepAlive.has(n) || n.op.kind === "kernel" || n.shape.length === 0) mustMaterialize(n);
    // (Every op but the sources has an emit record; only kernels say fusesInputs, only
    // views needsContiguousInput.)
    const emit = n.op.emit as KernelEmit & { needsContiguousInput?: (n: Node) => boolean };
    if (emit.fusesInputs === false) {
      // Read many times per output element: materialise the computed value under views.
      for (const i of n.inputs) materializeBase(i);
    }
    if (emit.needsContiguousInput?.(n)) mustMaterialize(n.inputs[0]!);
    // Ids (take, scatter_add) are materialised, so the emitted code checks them once.
    for (const { input } of indexInputs(n)) mustMaterialize(n.inputs[input]!);
    if (n.op.kind === "view" && expands(n) && !gatherRecomputes(n, patterns)) materializeBase(n.inputs[0]!);
  }

  function materializeBase(n: Node): void {
    let cur = n;
    // (A view needing a contiguous input has it stored already: the walk stops there.)
    while (cur.op.kind === "view" && !materialized.has(cur)) {
      // A gather from stored data is read in place; from a computed value (one_hot's
      // identity pattern), its own output is the smaller buffer.
      if (indexInputs(cur).length > 0) {
        if (baseOf(cur.inputs[0]!).op.kind === "elementwise") mustMaterialize(cur);
        return;
      }
      cur = cur.inputs[0]!;
    }
    // Stryker disable next-line ConditionalExpression: a kernel is stored already, a source never is, and a stored view ends the walk
    if (cur.op.kind === "elementwise") mustMaterialize(cur);
  }

  // A kernel read by one kernel alone that computes it itself, per element it needs.
  const prologues = new Set<Node>();
  for (const n of order) {
    const emit = n.op.emit as KernelEmit | undefined;
    if (roots.prologues === false || !emit?.fusesKernelInput) continue;
    n.inputs.forEach((input, k) => {
      // (fusesKernelInput accepts only a kernel's result as `input`; n is one of its users)
      const only = users.get(input)!;
      if (!keepAlive.has(input) && only.length === 1 && n.inputs.indexOf(input) === k && emit.fusesKernelInput!(n, k)) {
        prologues.add(input);
        materialized.delete(input);
      }
    });
  }

  // Elementwise values read by several kernels (directly or through views) are computed
  // once. Walk users-first so a view's effective use count is known before its input's.
  const effectiveUses = new Map<Node, number>();
  // Stryker disable next-line EqualityOperator: order[0] has no inputs (a source or a constant kernel): no view reads its count
  for (let k = order.length - 1; k >= 0; k--) {
    const n = order[k]!;
    let count = 0;
    for (const u of users.get(n) ?? []) {
      count += u.op.kind === "view" && !materialized.has(u) ? (effectiveUses.get(u) ?? 1) : 1;
    }
    effectiveUses.set(n, count);
    if (n.op.kind === "elementwise" && count > 1 && !isCheap(n, patterns)) mustMaterialize(n);
  }

  // Fused expressions stay shallow: a long elementwise chain is cut every
  // `maxFusionDepth` nodes, so emission (recursive over fused inputs) stays bounded.
  const depth = new Map<Node, number>();
  for (const n of order) {
    if (materialized.has(n) || n.op.kind === "source") { depth.set(n, 0); continue; }
    let d = 0;
    for (const i of n.inputs) d = Math.max(d, depth.get(i) ?? 0);
    if (d + 1 > maxFusionDepth) { mustMaterialize(n); depth.set(n, 0); } else depth.set(n, d + 1);
  }

  const kernels = order.filter((n) => materialized.has(n) && n.op.kind !== "source");
  const fusedProducer = fuseEpilogues(kernels, materialized, keepAlive);
  const { pooledConvs, firstMaxTaps } = roots.prologues === false
    ? { pooledConvs: new Map<Node, Node>(), firstMaxTaps: new Map<Node, Node>() }
    : fusePools(kernels, materialized, keepAlive, fusedProducer, users);
  const groups = groupElementwise(kernels, materialized, fusedProducer);
  // Members of a group read only by later members never need to reach memory.
  const localOnly = new Set<Node>();
  // Stryker disable next-line ConditionalExpression,EqualityOperator: with no groups the readers are not read
  const groupReaders = groups.size > 0 ? readersOf(kernels, materialized) : new Map<Node, { kernel: Node; direct: boolean }[]>();
  for (const members of groups.values()) {
    const index = new Map(members.map((m, i) => [m, i]));
    members.forEach((m, i) => {
      // Stryker disable next-line EqualityOperator,ArrayDeclaration: a member never reads itself (index i), and every kernel has a reader or is kept alive
      if (!keepAlive.has(m) && (groupReaders.get(m) ?? []).every((r) => (index.get(r.kernel) ?? -1) > i)) localOnly.add(m);
    });
  }

  // Liveness: a buffer is free after the last kernel that reads it.
  const lastUse = new Map<Node, number>();
  const readsOf = (kernel: Node): Node[] => {
    // The materialised nodes a kernel reads: walk fused inputs down to materialised ones.
    // Stryker disable next-line ArrayDeclaration: a non-node entry has no slot and frees nothing
    const found: Node[] = [];
    const stack = [...kernel.inputs];
    const seen = new Set<Node>();
    while (stack.length > 0) {
      const n = stack.pop()!;
      // Stryker disable next-line ConditionalExpression: revisiting only repeats work (the same last use)
      if (seen.has(n)) continue;
      seen.add(n);
      if (materialized.has(n)) found.push(n);
      else stack.push(...n.inputs);
    }
    return found;
  };
  kernels.forEach((k, i) => {
    for (const r of readsOf(k)) lastUse.set(r, i);
  });

  const slots: Size[] = [];
  const pinned = new Set<number>();
  const slotOf = new Map<Node, number>();
  const free: number[] = [];
  const releaseAt = new Map<number, Node[]>();
  for (const [n, i] of lastUse) {
    const list = releaseAt.get(i);
    if (list) list.push(n); else releaseAt.set(i, [n]);
  }
  // A pooled value holding first-maximum taps is stored by its pool's kernel.
  const storedWith = new Map<Node, Node[]>();
  for (const [c, p] of firstMaxTaps) storedWith.set(p, [c]);
  kernels.forEach((k, i) => {
    for (const n of [k, ...(storedWith.get(k) ?? [])]) {
      if (n.shape.length === 0) continue;
      const size = sizeOf((firstMaxTaps.get(n) ?? n).shape);
      let slot = -1;
      if (!keepAlive.has(n)) {
        const j = free.findIndex((s) => sameSize(slots[s]!, size));
        if (j >= 0) slot = free.splice(j, 1)[0]!;
      }
      if (slot < 0) {
        slot = slots.length;
        slots.push(size);
        if (returned.has(n)) pinned.add(slot);
      }
      slotOf.set(n, slot);
    }
    // Buffers last read by this kernel can be reused by later kernels (not this one:
    // it may still be reading them while it writes).
    // Stryker disable next-line ArrayDeclaration: a non-node entry has no slot and frees nothing
    for (const dead of releaseAt.get(i) ?? []) {
      const s = slotOf.get(dead);
      if (s !== undefined && !pinned.has(s) && !keepAlive.has(dead)) free.push(s);
    }
  });
  return { order, kernels, materialized, slotOf, slots, pinned, fusedProducer, groups, localOnly, prologues, pooledConvs, firstMaxTaps };
}

/**
 * Epilogue fusion: an elementwise kernel E whose only materialised kernel input K (a
 * matmul, conv, last-axis reduction: each output element stored once) is read by E alone,
 * at the same index, is computed inside K's loop nest as K stores each element. K's
 * buffer and a full pass over memory disappear (`relu(x @ w + b)`, `conv + bias + relu`).
 * Rewrites `kernels` in place (E takes K's position) and `materialized`.
 */
function fuseEpilogues(kernels: Node[], materialized: Set<Node>, keepAlive: Set<Node>): Map<Node, Node> {
  const fused = new Map<Node, Node>();
  const readers = readersOf(kernels, materialized);
  const leavesOf = new Map<Node, Node[]>();
  for (const [leaf, rs] of readers) {
    for (const r of rs) {
      const list = leavesOf.get(r.kernel);
      if (list) list.push(leaf); else leavesOf.set(r.kernel, [leaf]);
    }
  }
  // Positions change as consumers move up to their producers; kernels are re-sorted once.
  const position = new Map<Node, number>();
  kernels.forEach((k, i) => position.set(k, i));
  for (const e of kernels) {
    if (e.shape.length === 0) continue;
    // Stryker disable next-line ConditionalExpression: only an elementwise reader reads its leaves directly (readersOf), which \`ok\` requires
    if (e.op.kind !== "elementwise") continue;
    const leaves = leavesOf.get(e) ?? [];
    let k: Node | undefined;
    for (const c of leaves) {
      const rs = readers.get(c)!;
      const ok =
        // Stryker disable next-line ConditionalExpression: only kernels have storesOnce
        c.op.kind === "kernel" &&
        !keepAlive.has(c) && !fused.has(c) && (c.op.emit as KernelEmit).storesOnce?.(c) === true &&
        sameShape(c.shape, e.shape) && rs.length === 1 && rs[0]!.direct;
      // Stryker disable next-line EqualityOperator: two kernels never share a position
      if (ok && (!k || position.get(c)! > position.get(k)!)) k = c;
    }
    if (!k) continue;
    // Everything else E reads must already exist when K runs.
    const at = position.get(k)!;
    // (a source has no position: it exists from the start)
    // Stryker disable next-line EqualityOperator: no other leaf shares K's position
    if (leaves.some((l) => l !== k && (position.get(l) ?? -1) >= at)) continue;
    fused.set(e, k);
    materialized.delete(k);
    position.set(e, at);
    position.delete(k);
  }
  // (In depth-first order no kernel sits between K and E: it would be something E reads,
  // placed after K, and the check above would have kept E out. E's place among the others
  // does not change, so the sort is a safeguard the mutants of these lines cannot upset.)
  // Stryker disable next-line ConditionalExpression,EqualityOperator: see above
  if (fused.size > 0) {
    // Stryker disable next-line MethodExpression,ArrowFunction,ArithmeticOperator: see above
    const order = kernels.filter((n) => position.has(n)).sort((a, b) => position.get(a)! - position.get(b)!);
    kernels.length = 0;
    for (const n of order) kernels.push(n);
  }
  return fused;
}

/**
 * Pool fusion: a max-pool P whose windows tile the plane (stride = size), over a value c
 * that a conv kernel K computes (c is K, or an elementwise epilogue fused into K), read by
 * P alone or also by maxpool2d_grad(c, g) over the same windows, is computed in K's loop
 * window by window when K's template can (KernelEmit.poolsInLoop): c is not stored, so a
 * full write and a full read of the conv's output disappear. If the pool's gradient reads
 * c, c keeps a buffer holding each window's first-maximum tap (Plan.firstMaxTaps), which
 * is all that gradient needs of c. Rewrites `kernels` (c leaves the list: P's kernel
 * computes it) and `materialized`.
 */
function fusePools(kernels: Node[], materialized: Set<Node>, keepAlive: Set<Node>, fusedProducer: ReadonlyMap<Node, Node>, users: ReadonlyMap<Node, Node[]>): { pooledConvs: Map<Node, Node>; firstMaxTaps: Map<Node, Node> } {
  const pooledConvs = new Map<Node, Node>();
  const firstMaxTaps = new Map<Node, Node>();
  for (const k of kernels) {
    // (the pool, or an elementwise epilogue fused into it)
    const p = fusedProducer.get(k) ?? k;
    if (p.op.name !== "maxpool2d" || p.attrs.stride !== p.attrs.size) continue;
    const c = p.inputs[0]!;
    // Stryker disable next-line ConditionalExpression: an unmaterialised c is fused into P (an elementwise op or a view), whose emit has no poolsInLoop
    if (!materialized.has(c)) continue;
    if (keepAlive.has(c)) continue;
    const conv = fusedProducer.get(c) ?? c;
    // Only kernels that can say poolsInLoop (the conv): every op has an emit record.
    if (!(conv.op.emit as KernelEmit).poolsInLoop?.(conv, p)) continue;
    const others = users.get(c)!.filter((u) => u !== p);
    // maxpool2d_grad(c, g) over P's windows; u reads c, so not as g means as its x.
    const sameWindows = (u: Node) => u.op.name === "maxpool2d_grad" && u.inputs[1] !== c &&
      u.attrs.size === p.attrs.size && u.attrs.stride === p.attrs.stride;
    if (!others.every(sameWindows)) continue;
    pooledConvs.set(k, c);
    if (others.length > 0) firstMaxTaps.set(c, k); else materialized.delete(c);
  }
  const computed = new Set(pooledConvs.values());
  const kept = kernels.filter((k) => !computed.has(k));
  kernels.length = 0;
  for (const k of kept) kernels.push(k);
  return { pooledConvs, firstMaxTaps };
}

/** Whether `e` reads only same-shaped values and scalars through elementwise ops (a scalar
 *  broadcast is fine), so one flat index addresses everything it touches. */
export function isFlat(e: Node, materialized: ReadonlySet<Node>): boolean {
  if (e.op.kind !== "elementwise" || e.shape.length === 0) return false;
  const seen = new Set<Node>();
  const stack = [...e.inputs];
  while (stack.length > 0) {
    const n = stack.pop()!;
    // Stryker disable next-line ConditionalExpression: revisiting a node gives the same answer
    if (seen.has(n)) continue;
    seen.add(n);
    if (materialized.has(n)) {
      if (n.shape.length !== 0 && !sameShape(n.shape, e.shape)) return false;
      continue;
    }
    if (n.op.kind === "source") { if (n.shape.length !== 0) return false; continue; }
    if (n.op.kind === "view" && n.inputs[0]!.shape.length === 0) { stack.push(n.inputs[0]!); continue; }
    if (n.op.kind !== "elementwise") return false;
    for (const i of n.inputs) stack.push(i);
  }
  return true;
}

/** Consecutive flat elementwise kernels of one shape form a group (horizontal fusion). */
/** The kernels reading each materialised node (through fused nodes), and whether every
 *  such path goes through elementwise ops only (same index). */
function readersOf(kernels: readonly Node[], materialized: ReadonlySet<Node>): Map<Node, { kernel: Node; direct: boolean }[]> {
  const readers = new Map<Node, { kernel: Node; direct: boolean }[]>();
  for (const k of kernels) {
    const seen = new Set<Node>();
    // Stryker disable next-line ConditionalExpression: \`direct\` matters only for an elementwise reader (fuseEpilogues)
    const stack: { n: Node; direct: boolean }[] = k.inputs.map((n) => ({ n, direct: k.op.kind === "elementwise" }));
    while (stack.length > 0) {
      const { n, direct } = stack.pop()!;
      if (seen.has(n)) continue;
      seen.add(n);
      if (materialized.has(n)) {
        const list = readers.get(n) ?? [];
        list.push({ kernel: k, direct });
        readers.set(n, list);
        continue;
      }
      for (const i of n.inputs) stack.push({ n: i, direct: direct && n.op.kind === "elementwise" });
    }
  }
  return readers;
}

function groupElementwise(kernels: Node[], materialized: ReadonlySet<Node>, fused: ReadonlyMap<Node, Node>): Map<Node, Node[]> {
  const groups = new Map<Node, Node[]>();
  let run: Node[] = [];
  // Stryker disable next-line EqualityOperator: a group of one is the kernel's own flat loop (the same pass and values)
  const close = () => { if (run.length > 1) groups.set(run[0]!, run); run = []; };
  for (const k of kernels) {
    const flat = !fused.has(k) && isFlat(k, materialized);
    // Bounded: a group becomes one kernel function taking every member's buffers as
    // arguments, and a call with thousands of arguments overflows the engine's stack.
    if (flat && run.length > 0 && run.length < maxGroupSize && sameShape(run[0]!.shape, k.shape)) { run.push(k); continue; }
    close();
    if (flat) run = [k];
  }
  close();
  return groups;
}

/** The index inputs of a gather or scatter (an op's `indexInputs` emit hook). */
function indexInputs(n: Node): { input: number }[] {
  return (n.op.emit as Partial<IndexInputs> | undefined)?.indexInputs?.(n) ?? [];
}

/** Whether a gather computes its (unmaterialised) input at each gathered element rather
 *  than from a buffer: always for index patterns (arange, eye: cheaper than any buffer),
 *  and when it reads no more elements than the input has. */
function gatherRecomputes(n: Node, patterns: ReadonlySet<Node>): boolean {
  if (indexInputs(n).length === 0) return false;
  if (patterns.has(n.inputs[0]!)) return true;
  // Stryker disable next-line EqualityOperator: asked only of a gather that expands, so the counts are never equal
  return isKnown(n.shape) && isKnown(n.inputs[0]!.shape) && numel(n.shape) <= numel(n.inputs[0]!.shape);
}

/** The index patterns among `order` (inputs first): nodes made of sources other than
 *  graph inputs, through views and elementwise ops only (arange, eye, tril masks). */
function indexPatterns(order: readonly Node[]): Set<Node> {
  const patterns = new Set<Node>();
  for (const n of order) {
    const pattern = n.op.kind === "source"
      ? n.op.name !== "input" && n.op.name !== "scan_arg"
      : (n.op.kind === "view" || n.op.kind === "elementwise") && n.inputs.every((i) => patterns.has(i));
    if (pattern) patterns.add(n);
  }
  return patterns;
}

/** The node under a chain of views. */
function baseOf(n: Node): Node {
  let cur = n;
  while (cur.op.kind === "view") cur = cur.inputs[0]!;
  return cur;
}

function expands(n: Node): boolean {
  const from = sizeOf(n.inputs[0]!.shape);
  const to = sizeOf(n.shape);
  return !sameSize(from, to);
}

/** Recomputing beats a buffer: negation or a comparison of one value, or an index
 *  pattern (a tril/triu mask, an arange expression: a few integer operations). */
function isCheap(n: Node, patterns: ReadonlySet<Node>): boolean {
  return (n.op.name === "neg" && n.inputs[0]!.op.kind !== "elementwise") || patterns.has(n);
}
