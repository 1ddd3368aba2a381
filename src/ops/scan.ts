// scan: a loop as ONE node whose body is a graph (JAX `lax.scan`). The body reads
// placeholder args — its carries, one slice per sliced input, then the outer values it
// captures — and returns the next carries, then its per-step outputs ("ys"). The loop node
// has several outputs, packed in one flat buffer: every final carry, then every y stacked
// along a new axis 0 (at each step's index). `scan_out` nodes read one output each; the
// user's `scan(f, init, xs)` is the stack of its carry (a y equal to the carry).
// Its derivative is ONE scan running the other way over the saved carries, whose body is
// the cell's vjp: its carries are the carries' cotangents and a sum per captured value,
// its ys the slices' cotangents (src/autodiff hands it every output's cotangent at once).
// What the vjp reads of a step (products, transcendental values) the forward loop saves
// as extra ys, so the backward body never recomputes the cell; `mergeLoops` makes the
// loop and its saving twin one loop.
// The derivative is again a scan, so it differentiates again.

import { fail, InternalError, type Span } from "../diagnostics";
import {
  attrKey, dimAdd, dimMul, dimProduct, dimSub, evalDim, formatShape, nodesWithBodies, numel, sameShape, topoSort,
  type Attrs, type Body, type Dim, type Node, type OpDef, type Shape, type Tensor,
} from "../ir";
import { gradients } from "../autodiff/reverse";
import * as js from "../codegen/estree";
import { Builder } from "./builder";
import type { KernelContext, ViewEmit } from "./define";
import { emitScan } from "../codegen/scan";
import { layoutOf, scanLayout, stepsOf } from "./scan-layout";

export { layoutOf, scanLayout, type ScanOutput } from "./scan-layout";
import { getOp } from "./registry";

/** A body's placeholder arg: `slot` in the loop's args, `tag` unique to its body. */
export const scanArg: OpDef = {
  name: "scan_arg", kind: "source", arity: 0, wasm: true,
  shape: (_inputs, attrs) => attrs.shape as Dim[],
  evaluate: () => {
    throw new InternalError("a scan body's arg evaluated outside its loop");
  },
};

/** scan(inits..., xs..., captures...; carries, slices, ys, reverse): `slices` inputs after
 *  the carries are read one slice along axis 0 per step (from the last when `reverse`). */
export const scan: OpDef = {
  // Stryker disable next-line UnaryOperator: loops are built by graph.apply (no arity check) and printed in a form of their own
  name: "scan", kind: "kernel", arity: -1, wasm: true,
  shape: (inputs, attrs) => {
    const m = attrs.carries as number, k = attrs.slices as number;
    const xs = inputs.slice(m, m + k);
    const steps = xs[0]?.[0];
    if (steps === undefined || xs.some((x) => x[0] !== steps)) {
      throw new InternalError(`scan over ${xs.map(formatShape).join(", ")}`);
    }
    const layout = scanLayout(inputs.slice(0, m), attrs.ys as unknown as Shape[], steps);
    const last = layout[layout.length - 1];
    return [last ? dimAdd(last.offset, dimProduct(last.shape)) : 0];
  },
  evaluate: (inputs, attrs, out, env, node) => {
    // Stryker disable next-line OptionalChaining: the interpreter always passes the node
    const body = node?.body;
    // Stryker disable next-line ConditionalExpression,LogicalOperator,StringLiteral: a safety net; the interpreter passes a loop its body and evaluateBody
    if (!body || !env.evaluateBody) throw new InternalError("scan evaluated without its body");
    const m = attrs.carries as number, k = attrs.slices as number;
    const inits = inputs.slice(0, m), xs = inputs.slice(m, m + k), captures = inputs.slice(m + k);
    const steps = xs[0]!.shape[0]!;
    const data = new Float64Array(out[0]!);
    const carrySizes = inits.map((c) => numel(c.shape));
    const ySizes = (attrs.ys as unknown as Shape[]).map((y) => numel(y.map((d) => evalDim(d, (n) => env.dims.get(n)!))));
    const yBase = carrySizes.reduce((a, b) => a + b, 0);
    const yOffsets = ySizes.map((_, j) => yBase + steps * ySizes.slice(0, j).reduce((a, b) => a + b, 0));
    let carries: Tensor[] = inits;
    for (let s = 0; s < steps; s++) {
      const t = attrs.reverse ? steps - 1 - s : s;
      const slices = xs.map((x): Tensor => {
        const n = numel(x.shape) / steps;
        return { shape: x.shape.slice(1), data: x.data.subarray(t * n, (t + 1) * n) };
      });
      const results = env.evaluateBody(body, [...carries, ...slices, ...captures]);
      carries = results.slice(0, m);
      results.slice(m).forEach((y, j) => data.set(y.data, yOffsets[j]! + t * ySizes[j]!));
    }
    let offset = 0;
    carries.forEach((c, i) => { data.set(c.data, offset); offset += carrySizes[i]!; });
    return data;
  },
  vjpOutputs: (gb, gs, node, needed) => scanVjp(new Builder(gb.graph, gb.span), gs, node, needed),
  // A loop around the body, emitted by the same planner and kernel emitter (src/codegen/scan.ts).
  emit: { fusesInputs: false, kernel: (ctx: KernelContext) => emitScan(ctx) },
  cost: (node, numelOf) => {
    // One step's body, times the steps (a free count counts as 1, as elsewhere).
    const steps = stepsOf(node);
    const inner = topoSort(node.body!.results).reduce((acc, n) => acc + (n.op.kind === "source" ? 0 : numelOf(n.shape)), 0);
    return (typeof steps === "number" ? steps : 1) * inner;
  },
};

/** Output `output` of a loop node (a final carry, or a stacked y). */
export const scanOut: OpDef & { emit: ViewEmit } = {
  name: "scan_out", kind: "view", arity: 1, wasm: true,
  shape: (_inputs, attrs, _span, nodes) => {
    const out = layoutOf(nodes[0]!)[attrs.output as number];
    if (!out) throw new InternalError(`scan_out ${String(attrs.output)} of a loop with fewer outputs`);
    return out.shape;
  },
  evaluate: ([x], attrs, out, env, node) => {
    const offset = evalDim(layoutOf(node!.inputs[0]!)[attrs.output as number]!.offset, (n) => env.dims.get(n)!);
    return x!.data.slice(offset, offset + numel(out));
  },
  projects: (node) => node.attrs.output as number,
  // Stryker disable next-line ObjectLiteral,BooleanLiteral: only residualsOf reads cheap, and it saves a projection as it is
  props: { cheap: true },
  emit: {
    mapIndex: (idx, node, dim) => {
      const { offset, shape } = layoutOf(node.inputs[0]!)[node.attrs.output as number]!;
      let flat: js.Expression = dim(offset);
      let stride: js.Expression = js.num(1);
      for (let k = shape.length - 1; k >= 0; k--) {
        flat = js.add(flat, js.mul(idx[k]!, stride));
        stride = js.mul(stride, dim(shape[k]!));
      }
      return [flat];
    },
  },
};

/** The cell of a scan: from its carries, slices and explicitly captured values, the next
 *  carries then the ys. */
export type Cell = (carries: Node[], slices: Node[], captures: Node[]) => Node[];

/** How a loop is built: its direction, its source span, values passed to the cell
 *  explicitly, and the name of the user's function (`cell`, which printed programs name
 *  the loop's function after). */
export interface ScanOptions {
  reverse?: boolean;
  span?: Span;
  captures?: readonly Node[];
  cell?: string;
}

/**
 * A loop node: `cell` builds the body from carry and slice placeholders. Any outer value it
 * reads (a param, a top-level definition, an enclosing loop's arg) becomes a captured
 * input, so the body is a closed graph; a draw made inside the cell (rand, randn, dropout's
 * mask) becomes a slice of one draw over every step, so each step draws its own numbers.
 */
export function buildScan(
  b: Builder, inits: readonly Node[], xs: readonly Node[], cell: Cell,
  options: ScanOptions = {},
): Node {
  const m = inits.length;
  const tag = b.graph.size;
  const carries = inits.map((x, i) => placeholder(b, tag, i, x.shape));
  const slices = xs.map((x, i) => placeholder(b, tag, m + i, x.shape.slice(1)));
  // Values passed explicitly (the list form's captures) are args from the start, so the
  // body reads them as the loop's inputs whatever it computes from them.
  const explicit = options.captures ?? [];
  const explicitArgs = explicit.map((c, j) => placeholder(b, tag, -1 - j, c.shape));
  let results = cell(carries, slices, explicitArgs);
  results.slice(0, m).forEach((r, i) => {
    if (!sameShape(r.shape, inits[i]!.shape)) fail("E0266", options.span ?? b.span, formatShape(r.shape), formatShape(inits[i]!.shape));
  });
  const steps = xs[0]!.shape[0]!;
  // Draws made in the cell (ids from `tag` on) are read per step from one draw of all steps.
  const draws = topoSort(results).filter((n) => isDraw(n) && n.id >= tag);
  const drawArgs = draws.map((d, i) => placeholder(b, tag, m + xs.length + i, d.shape));
  const outerDraws = draws.map((d) => b.graph.apply(d.op, [], { ...d.attrs, shape: [dimMul(steps, dimProduct(d.shape))] }, d.span));
  const stepDraws = draws.map((d, i) => b.reshape(outerDraws[i]!, [steps, ...d.shape]));
  results = substituteAll(b, results, new Map(draws.map((d, i) => [d, drawArgs[i]!])));
  const own = [...carries, ...slices, ...drawArgs, ...explicitArgs];
  const captured = capturesOf(results, own);
  const capArgs = captured.map((c, j) => placeholder(b, tag, own.length + j, c.shape));
  const closed = substituteAll(b, results, new Map(captured.map((c, j) => [c, capArgs[j]!])));
  return loop(b, inits, [...xs, ...stepDraws], [...explicit, ...captured], { args: [...own, ...capArgs], results: closed }, options.reverse === true, options.cell);
}

/** Output `j` of a loop node. */
export function scanOutput(b: Builder, loop: Node, j: number): Node {
  return b.op("scan_out", [loop], { output: j });
}

/** The user's `scan(f, init, xs)`: the stack of the carry after every step. */
export function stackedScan(
  b: Builder, init: Node, xs: readonly Node[], cell: (carry: Node, slices: Node[], captures: Node[]) => Node,
  options: ScanOptions = {},
): Node {
  // (the carry fed to each step is saved as a second y, for the gradient)
  const node = buildScan(b, [init], xs, ([c], slices, captures) => { const next = cell(c!, slices, captures); return [next, next, c!]; }, options);
  return scanOutput(b, node, 1);
}

function loop(b: Builder, inits: readonly Node[], xs: readonly Node[], captures: readonly Node[], body: Body, reverse: boolean, cell: unknown): Node {
  const m = inits.length;
  const attrs: Attrs = { carries: m, slices: xs.length, ys: body.results.slice(m).map((r) => r.shape as Dim[]), reverse, ...(typeof cell === "string" ? { cell } : {}) };
  return b.graph.apply(getOp("scan"), [...inits, ...xs, ...captures], attrs, b.span, body);
}

function placeholder(b: Builder, tag: number, slot: number, shape: Shape): Node {
  return b.op("scan_arg", [], { tag, slot, shape: shape as Dim[] });
}

function isDraw(n: Node): boolean {
  return n.op.name === "rand" || n.op.name === "randn";
}

/** Nodes computed from no outer value: constants and index patterns, recomputed in the
 *  body. Draws and the training flag are outer values (specialised and keyed per call). */
function isClosed(n: Node, closed: Set<Node>): boolean {
  if (n.inputs.length === 0) return n.op.name !== "input" && n.op.name !== "scan_arg" && !isDraw(n) && n.op.name !== "training";
  return n.inputs.every((i) => closed.has(i));
}

/** The outer values a body reads: the inputs of its arg-dependent nodes that depend on no
 *  arg and are not closed (or a result itself, for a cell ignoring its args). */
function capturesOf(results: readonly Node[], args: readonly Node[]): Node[] {
  const order = topoSort(results);
  const argSet = new Set(args);
  const depends = new Set<Node>(), closed = new Set<Node>();
  for (const n of order) {
    if (argSet.has(n) || n.inputs.some((i) => depends.has(i))) depends.add(n);
    else if (isClosed(n, closed)) closed.add(n);
  }
  const captured = new Set<Node>();
  for (const r of results) if (!depends.has(r) && !closed.has(r)) captured.add(r);
  for (const n of order) {
    if (!depends.has(n)) continue;
    for (const i of n.inputs) if (!depends.has(i) && !closed.has(i)) captured.add(i);
  }
  return [...captured];
}

/** `roots` rebuilt with the nodes of `map` replaced (a body's captures by its args). */
function substituteAll(b: Builder, roots: readonly Node[], map: Map<Node, Node>): Node[] {
  if (map.size === 0) return [...roots];
  const image = new Map(map);
  for (const n of topoSort(roots)) {
    if (image.has(n)) continue;
    const inputs = n.inputs.map((i) => image.get(i) ?? i);
    const m = inputs.every((x, k) => x === n.inputs[k]) ? n : b.graph.apply(n.op, inputs, n.attrs, n.span, n.body);
    if (m.name === undefined) m.name = n.name;
    image.set(n, m);
  }
  return roots.map((r) => image.get(r) ?? r);
}

/**
 * The vjp of a loop, given the cotangents `gs` of its outputs (final carries, stacked ys).
 * prev_i[t] is the carry i fed to step t: a y of the loop when it saves it (the user's
 * scan does), else from the same loop saving its carries as extra ys. One loop running
 * the other way carries a_i, the cotangent of carry
 * i after step t (starting from the final carry's cotangent), and one sum per captured
 * value; its body is the cell's vjp at (prev[t], xs[t]) on (a, gY[t]): a_i becomes the
 * cotangent of the carry fed to step t, the sums grow, and the slices' cotangents are its
 * ys. Its final carries are the inits' and the captures' cotangents. The body reads the
 * step's residuals (residualsOf) as slices of ys the forward loop saves.
 */
function scanVjp(b: Builder, gs: readonly (Node | null | undefined)[], node: Node, needed: readonly boolean[]): (Node | null)[] {
  const body = node.body!;
  const m = node.attrs.carries as number, k = node.attrs.slices as number;
  const reverse = node.attrs.reverse === true;
  const inits = node.inputs.slice(0, m), xs = node.inputs.slice(m, m + k), caps = node.inputs.slice(m + k);
  const carryArgs = body.args.slice(0, m), sliceArgs = body.args.slice(m, m + k), capArgs = body.args.slice(m + k);
  const results = body.results;
  const ys = results.slice(m);
  const n = ys.length;

  const tag = b.graph.size;
  let slot = 0;
  const aArgs = inits.map((c) => placeholder(b, tag, slot++, c.shape));
  const capNeeded = caps.map((_, c) => needed[m + k + c] === true);
  const sumCaps = caps.flatMap((c, j) => (capNeeded[j] ? [j] : []));
  const accArgs = sumCaps.map((j) => placeholder(b, tag, slot++, caps[j]!.shape));
  const withG = ys.flatMap((_, j) => (gs[m + j] ? [j] : []));
  const gyArgs = withG.map((j) => placeholder(b, tag, slot++, ys[j]!.shape));
  const xsNeeded = xs.flatMap((_, j) => (needed[m + j] ? [j] : []));

  // The cell's vjp: every cotangent from one reverse sweep through the body.
  const dot = (x: Node, y: Node) => b.sum(b.mul(x, y), x.shape.map((_, a) => a));
  const terms = [...results.slice(0, m).map((r, i) => dot(r, aArgs[i]!)), ...withG.map((j, q) => dot(ys[j]!, gyArgs[q]!))];
  const objective = terms.reduce((acc, t) => b.add(acc, t));
  const wrt = [...carryArgs, ...xsNeeded.map((j) => sliceArgs[j]!), ...sumCaps.map((j) => capArgs[j]!)];
  const grads = gradients(b, objective, wrt);
  const dCarries = grads.slice(0, m);
  const dXs = grads.slice(m, m + xsNeeded.length);
  const dCaps = grads.slice(m + xsNeeded.length);
  let bodyResults = [...dCarries, ...dCaps.map((d, q) => b.add(accArgs[q]!, d)), ...dXs];

  // What the vjp reads of each forward step is saved by the forward loop as ys, not
  // recomputed: the carry fed to the step (a y already when the loop saves it, as the
  // user's scan does) and the residuals (its matmuls, its transcendental and reduced
  // values; the cheap ops between them and the vjp are recomputed).
  const extra: Node[] = [];
  const later: ((saving: Node) => void)[] = [];
  /** `set` gets `v` stacked over the steps: a y of the loop, else an extra y of its twin. */
  const save = (v: Node, set: (stacked: Node) => void) => {
    const j = ys.indexOf(v);
    if (j >= 0) return set(scanOutput(b, node, m + j));
    const u = extra.length;
    extra.push(v);
    later.push((saving) => set(scanOutput(b, saving, m + n + u)));
  };
  const prevs: Node[] = new Array<Node>(m);
  carryArgs.forEach((c, i) => save(c, (s) => { prevs[i] = s; }));
  const residuals = residualsOf(bodyResults, [...carryArgs, ...sliceArgs], [...aArgs, ...accArgs, ...gyArgs]);
  const resArgs = residuals.map((r) => placeholder(b, tag, slot++, r.shape));
  const resSlices: Node[] = new Array<Node>(residuals.length);
  residuals.forEach((r, q) => save(r, (s) => { resSlices[q] = s; }));
  if (extra.length > 0) {
    // The same loop saving more ys: one loop with the original once mergeLoops has run.
    const saving = loop(b, inits, xs, caps, { args: body.args, results: [...results, ...extra] }, reverse, node.attrs.cell);
    for (const f of later) f(saving);
  }
  bodyResults = substituteAll(b, bodyResults, new Map(residuals.map((r, q) => [r, resArgs[q]!])));

  const zeros = (x: Node) => b.constant(0, x.shape);
  const gradInits = [...inits.map((c, i) => gs[i] ?? zeros(c)), ...sumCaps.map((j) => zeros(caps[j]!))];
  const sliced = [...withG.map((j) => gs[m + j]!), ...prevs, ...resSlices, ...xs];
  const gradBody: Body = { args: [...aArgs, ...accArgs, ...gyArgs, ...carryArgs, ...resArgs, ...sliceArgs, ...capArgs], results: bodyResults };
  // (printed as the cell's name with `_grad`: `gru_grad` for a loop of `gru`)
  const back = loop(b, gradInits, sliced, caps, gradBody, !reverse, typeof node.attrs.cell === "string" ? `${node.attrs.cell}_grad` : undefined);

  const mg = m + sumCaps.length;
  const out: (Node | null)[] = [];
  for (let i = 0; i < m; i++) out.push(needed[i] ? scanOutput(b, back, i) : null);
  for (let j = 0; j < k; j++) {
    const q = xsNeeded.indexOf(j);
    out.push(q >= 0 ? scanOutput(b, back, mg + q) : null);
  }
  for (let c = 0; c < caps.length; c++) {
    const q = sumCaps.indexOf(c);
    out.push(q >= 0 ? scanOutput(b, back, m + q) : null);
  }
  return out;
}

/**
 * The values of a forward step that a loop's gradient body reads: nodes computed from the
 * step's own args (`perStep`: its carries and slices) and not from the cotangents, where
 * the cotangent part reads them (or a result is one), seen through cheap ops (views,
 * arithmetic: recomputed, fused into their readers). A loop's output is saved as it is
 * (a loop is read only through its projections). In the order of the body.
 */
function residualsOf(results: readonly Node[], perStep: readonly Node[], cotangents: readonly Node[]): Node[] {
  const order = topoSort(results);
  const args = new Set(perStep);
  const primal = new Set<Node>(perStep), tangent = new Set<Node>(cotangents);
  for (const n of order) {
    if (tangent.has(n) || n.inputs.some((i) => tangent.has(i))) tangent.add(n);
    else if (n.inputs.some((i) => primal.has(i))) primal.add(n);
  }
  const work: Node[] = results.filter((r) => primal.has(r));
  for (const n of order) if (tangent.has(n)) for (const i of n.inputs) if (primal.has(i)) work.push(i);
  const saved = new Set<Node>(), seen = new Set<Node>();
  for (let n = work.pop(); n; n = work.pop()) {
    if (seen.has(n) || args.has(n)) continue;
    seen.add(n);
    // (a loop's output is saved, never the loop: its reads go through projections)
    if (n.op.props?.cheap === true && !n.op.projects) work.push(...n.inputs.filter((i) => primal.has(i)));
    else saved.add(n);
  }
  return order.filter((n) => saved.has(n));
}

/**
 * Loops that differ only in the ys they save become one: a loop whose body results are a
 * prefix of another's, with the same inputs, body args and attributes otherwise (the
 * loop a gradient builds to save more of each step), is read from the longer one. Its
 * outputs keep their places (the extra ys come last). Loops inside bodies too.
 */
export function mergeLoops(b: Builder, roots: readonly Node[]): Node[] {
  const groups = new Map<string, Node[]>();
  for (const n of nodesWithBodies(roots)) {
    if (n.op !== scan || !n.body) continue;
    const { ys: _ys, ...rest } = n.attrs;
    const key = `${n.inputs.map((i) => i.id).join(",")}|${n.body.args.map((a) => a.id).join(",")}|${attrKey(rest)}`;
    const list = groups.get(key);
    if (list) list.push(n);
    else groups.set(key, [n]);
  }
  const target = new Map<Node, Node>();
  for (const list of groups.values()) {
    if (list.length < 2) continue;
    const longest = list.reduce((a, c) => (c.body!.results.length > a.body!.results.length ? c : a));
    const all = longest.body!.results;
    for (const n of list) {
      if (n !== longest && n.body!.results.every((r, i) => r === all[i])) target.set(n, longest);
    }
  }
  if (target.size === 0) return [...roots];
  const image = new Map<Node, Node>();
  const rebuild = (rs: readonly Node[]): Node[] => {
    // Inputs before users, a merged loop's reads counting as reads of its target.
    const state = new Set<Node>();
    const stack: { node: Node; next: number }[] = [];
    const edges = (n: Node) => n.inputs.map((i) => target.get(i) ?? i);
    for (const root of rs.map((r) => target.get(r) ?? r)) {
      if (state.has(root) || image.has(root)) continue;
      state.add(root);
      stack.push({ node: root, next: 0 });
      while (stack.length > 0) {
        const top = stack[stack.length - 1]!;
        const inputs = edges(top.node);
        if (top.next < inputs.length) {
          const child = inputs[top.next++]!;
          if (!state.has(child) && !image.has(child)) { state.add(child); stack.push({ node: child, next: 0 }); }
          continue;
        }
        stack.pop();
        const n = top.node;
        const ins = inputs.map((i) => image.get(i)!);
        const results = n.body ? rebuild(n.body.results) : undefined;
        const body = n.body && results!.some((r, k) => r !== n.body!.results[k]) ? { args: n.body.args, results: results! } : n.body;
        let m = n;
        if (ins.some((x, k) => x !== n.inputs[k]) || body !== n.body) {
          m = b.graph.apply(n.op, ins, n.attrs, n.span, body);
          if (m.name === undefined) m.name = n.name;
        }
        image.set(n, m);
      }
    }
    return rs.map((r) => image.get(target.get(r) ?? r)!);
  };
  return rebuild(roots);
}

export const scanOps: OpDef[] = [scanArg, scan, scanOut];
