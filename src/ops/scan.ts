// scan: a loop as ONE node whose body is a graph (JAX `lax.scan`). The body reads
// placeholder args — its carries, one slice per sliced input, then the outer values it
// captures — and returns the next carries, then its per-step outputs ("ys"). The loop node
// has several outputs, packed in one flat buffer: every final carry, then every y stacked
// along a new axis 0 (at each step's index). `scan_out` nodes read one output each; the
// user's `scan(f, init, xs)` is the stack of its carry (a y equal to the carry).
// Its derivative is ONE scan running the other way over the saved carries, whose body is
// the cell's vjp: its carries are the carries' cotangents and a sum per captured value,
// its ys the slices' cotangents (src/autodiff hands it every output's cotangent at once).
// The derivative is again a scan, so it differentiates again.

import { fail, InternalError, type Span } from "../diagnostics";
import {
  dimAdd, dimMul, dimProduct, dimSub, evalDim, formatShape, numel, sameShape, topoSort,
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
  name: "scan_arg", kind: "source", arity: 0,
  shape: (_inputs, attrs) => attrs.shape as Dim[],
  evaluate: () => {
    throw new InternalError("a scan body's arg evaluated outside its loop");
  },
};

/** scan(inits..., xs..., captures...; carries, slices, ys, reverse): `slices` inputs after
 *  the carries are read one slice along axis 0 per step (from the last when `reverse`). */
export const scan: OpDef = {
  name: "scan", kind: "kernel", arity: -1,
  shape: (inputs, attrs) => {
    const m = attrs.carries as number, k = attrs.slices as number;
    const xs = inputs.slice(m, m + k);
    const steps = xs[0]?.[0];
    if (k < 1 || steps === undefined || xs.some((x) => x[0] !== steps)) {
      throw new InternalError(`scan over ${xs.map(formatShape).join(", ")}`);
    }
    const layout = scanLayout(inputs.slice(0, m), attrs.ys as unknown as Shape[], steps);
    const last = layout[layout.length - 1];
    return [last ? dimAdd(last.offset, dimProduct(last.shape)) : 0];
  },
  evaluate: (inputs, attrs, out, env, node) => {
    const body = node?.body;
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
  name: "scan_out", kind: "view", arity: 1,
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
 * scan does), else from the same loop saving its carries as extra ys. One loop running the other way carries a_i, the cotangent of carry
 * i after step t (starting from the final carry's cotangent), and one sum per captured
 * value; its body is the cell's vjp at (prev[t], xs[t]) on (a, gY[t]): a_i becomes the
 * cotangent of the carry fed to step t, the sums grow, and the slices' cotangents are its
 * ys. Its final carries are the inits' and the captures' cotangents.
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

  // The carry fed to each step: a y of the loop itself (the user's scan saves it), else
  // from the same loop saving its carries as extra ys.
  const prevs: Node[] = new Array<Node>(m);
  const unsaved: number[] = [];
  for (let i = 0; i < m; i++) {
    const j = ys.indexOf(carryArgs[i]!);
    if (j >= 0) prevs[i] = scanOutput(b, node, m + j);
    else unsaved.push(i);
  }
  if (unsaved.length > 0) {
    // The same loop with the carries it is fed as extra ys.
    const saving = loop(b, inits, xs, caps, { args: body.args, results: [...results, ...unsaved.map((i) => carryArgs[i]!)] }, reverse, node.attrs.cell);
    unsaved.forEach((i, u) => { prevs[i] = scanOutput(b, saving, m + n + u); });
  }

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
  const bodyResults = [...dCarries, ...dCaps.map((d, q) => b.add(accArgs[q]!, d)), ...dXs];

  const zeros = (x: Node) => b.constant(0, x.shape);
  const gradInits = [...inits.map((c, i) => gs[i] ?? zeros(c)), ...sumCaps.map((j) => zeros(caps[j]!))];
  const sliced = [...withG.map((j) => gs[m + j]!), ...prevs, ...xs];
  const gradBody: Body = { args: [...aArgs, ...accArgs, ...gyArgs, ...carryArgs, ...sliceArgs, ...capArgs], results: bodyResults };
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

export const scanOps: OpDef[] = [scanArg, scan, scanOut];
