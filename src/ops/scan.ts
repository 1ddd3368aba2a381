// scan: a loop as ONE node whose body is a graph (JAX `lax.scan`). The body reads
// placeholder args — the carry, one slice per sliced input, then the outer values it
// captures — and computes the next carry; the node stacks every carry along a new axis 0.
// Its vjp is made of scans too: a reverse scan of the cell's vjp over the saved carries
// (the carry cotangents), and per-step maps for the slices' and captures' cotangents, all
// built by the same reverse sweep (src/autodiff), so a scan's gradient differentiates again.

import { fail, InternalError, type Span } from "../diagnostics";
import { dimSub, formatShape, numel, sameShape, topoSort, type Attrs, type Body, type Dim, type Node, type OpDef, type Shape, type Tensor } from "../ir";
import { gradients } from "../autodiff/reverse";
import { Builder } from "./builder";
import type { KernelContext } from "./define";
import { emitScan } from "../codegen/scan";
import { getOp } from "./registry";

/** A body's placeholder arg: `slot` in the loop's args, `tag` unique to its body. */
export const scanArg: OpDef = {
  name: "scan_arg", kind: "source", arity: 0,
  shape: (_inputs, attrs) => attrs.shape as Dim[],
  evaluate: () => {
    throw new InternalError("a scan body's arg evaluated outside its loop");
  },
};

/** scan(init, xs..., captures...; slices, reverse): `slices` inputs after init are read one
 *  slice along axis 0 per step (from the last when `reverse`); the result stacks the carry
 *  after each step, at that step's index: [T, ...init.shape]. */
export const scan: OpDef = {
  name: "scan", kind: "kernel", arity: -1,
  shape: (inputs, attrs) => {
    const k = attrs.slices as number;
    const [init, ...rest] = inputs;
    const steps = rest[0]?.[0];
    if (k < 1 || steps === undefined || rest.slice(0, k).some((x) => x[0] !== steps)) {
      throw new InternalError(`scan over ${inputs.slice(1, k + 1).map(formatShape).join(", ")}`);
    }
    return [steps, ...init!];
  },
  evaluate: (inputs, attrs, out, env, node) => {
    const body = node?.body;
    if (!body || !env.evaluateBody) throw new InternalError("scan evaluated without its body");
    const k = attrs.slices as number;
    const [init, ...rest] = inputs;
    const xs = rest.slice(0, k), captures = rest.slice(k);
    const steps = out[0]!, size = numel(init!.shape);
    const data = new Float64Array(numel(out));
    let carry = init!;
    for (let s = 0; s < steps; s++) {
      const t = attrs.reverse ? steps - 1 - s : s;
      const slices = xs.map((x): Tensor => {
        const n = numel(x.shape) / steps;
        return { shape: x.shape.slice(1), data: x.data.subarray(t * n, (t + 1) * n) };
      });
      carry = env.evaluateBody(body, [carry, ...slices, ...captures]);
      data.set(carry.data, t * size);
    }
    return data;
  },
  vjp: (gb, g, node) => scanVjp(new Builder(gb.graph, gb.span), g, node),
  // A loop around the body, emitted by the same op hooks (src/codegen/scan.ts).
  emit: { fusesInputs: false, kernel: (ctx: KernelContext) => emitScan(ctx) },
  cost: (node, numelOf) => {
    // One step's body, times the steps (a free count counts as 1, as elsewhere).
    const steps = typeof node.shape[0] === "number" ? node.shape[0] : 1;
    const inner = topoSort([node.body!.result]).reduce((acc, n) => acc + (n.op.kind === "source" ? 0 : numelOf(n.shape)), 0);
    return steps * inner;
  },
};

/** A scan node: `cell(args)` builds the body from the carry and slice placeholders; any
 *  outer value it reads (a param, a top-level definition, an enclosing loop's arg) becomes
 *  a captured input, so the body is a closed graph. */
export function buildScan(
  b: Builder, init: Node, xs: readonly Node[], cell: (carry: Node, slices: Node[]) => Node,
  options: { reverse?: boolean; span?: Span } = {},
): Node {
  const tag = b.graph.size;
  const carry = placeholder(b, tag, 0, init.shape);
  const slices = xs.map((x, i) => placeholder(b, tag, 1 + i, x.shape.slice(1)));
  const result = cell(carry, slices);
  if (!sameShape(result.shape, init.shape)) {
    fail("E0266", options.span ?? b.span, formatShape(result.shape), formatShape(init.shape));
  }
  const own = [carry, ...slices];
  const captured = capturesOf(result, own);
  const capArgs = captured.map((c, j) => placeholder(b, tag, 1 + xs.length + j, c.shape));
  const closed = substitute(b, result, new Map(captured.map((c, j) => [c, capArgs[j]!])));
  return loop(b, init, xs, captured, { args: [...own, ...capArgs], result: closed }, options.reverse === true);
}

function loop(b: Builder, init: Node, xs: readonly Node[], captures: readonly Node[], body: Body, reverse: boolean): Node {
  const attrs: Attrs = { slices: xs.length, reverse };
  return b.graph.apply(getOp("scan"), [init, ...xs, ...captures], attrs, b.span, body);
}

function placeholder(b: Builder, tag: number, slot: number, shape: Shape): Node {
  return b.op("scan_arg", [], { tag, slot, shape: shape as Dim[] });
}

/** Nodes computed from no outer value: constants and index patterns, recomputed in the body. */
function isClosed(n: Node, closed: Set<Node>): boolean {
  if (n.inputs.length === 0) return n.op.name !== "input" && n.op.name !== "scan_arg";
  return n.inputs.every((i) => closed.has(i));
}

/** The outer values a body reads: the inputs of its arg-dependent nodes that depend on no
 *  arg and are not closed (or the result itself, for a cell ignoring its args). */
function capturesOf(result: Node, args: readonly Node[]): Node[] {
  const order = topoSort([result]);
  const argSet = new Set(args);
  const depends = new Set<Node>(), closed = new Set<Node>();
  for (const n of order) {
    if (argSet.has(n) || n.inputs.some((i) => depends.has(i))) depends.add(n);
    else if (isClosed(n, closed)) closed.add(n);
  }
  const captured = new Set<Node>();
  if (!depends.has(result) && !closed.has(result)) captured.add(result);
  for (const n of order) {
    if (!depends.has(n)) continue;
    for (const i of n.inputs) if (!depends.has(i) && !closed.has(i)) captured.add(i);
  }
  return [...captured];
}

/** `root` rebuilt with the nodes of `map` replaced (a body's captures by its args). */
function substitute(b: Builder, root: Node, map: Map<Node, Node>): Node {
  const image = new Map(map);
  const stack: Node[] = [root];
  const order: Node[] = [];
  const seen = new Set<Node>();
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (seen.has(n) || image.has(n)) continue;
    seen.add(n);
    order.push(n);
    for (const i of n.inputs) stack.push(i);
  }
  for (const n of topoSort([root])) {
    if (image.has(n)) continue;
    if (!seen.has(n)) continue;
    const inputs = n.inputs.map((i) => image.get(i) ?? i);
    const m = inputs.every((x, k) => x === n.inputs[k]) ? n : b.graph.apply(n.op, inputs, n.attrs, n.span, n.body);
    if (m.name === undefined) m.name = n.name;
    image.set(n, m);
  }
  return image.get(root) ?? root;
}

/** A [T] mask, 1 at the first (or last) step and 0 elsewhere: built from a pad, as a
 *  free T can be neither sliced to one row nor concatenated along. */
function edgeMask(b: Builder, steps: Dim, last: boolean): Node {
  const rest = b.op("pad", [b.constant(1, [dimSub(steps, 1)])], { pad_width: last ? [[0, 1]] : [[1, 0]], value: 0 });
  return b.sub(b.constant(1, [steps]), rest);
}

/** Row 0 (or the last) of axis 0, without that axis. */
function row(b: Builder, x: Node, last: boolean): Node {
  return b.sum(b.mul(x, b.broadcastTo(edgeMask(b, x.shape[0]!, last), x.shape, [0])), [0]);
}

/**
 * The vjp of `Y = scan(init, xs; caps)` with cotangent G of every carry. prev[t] is the
 * carry fed to step t (init, then the saved carries shifted by one step). A scan running
 * the other way carries a = the cotangent of the carry into the step after t: step t's
 * body is the cell's vjp at (prev[t], xs[t]) on a + G[t], giving D[t] = d prev[t]; the
 * first step's D is init's cotangent. With Gt[t] = G[t] + D[next step], each slice's
 * cotangent is a map (a scan ignoring its carry) and each capture's a sum over steps
 * (a scan accumulating it).
 */
function scanVjp(b: Builder, g: Node, node: Node): (Node | null)[] {
  const body = node.body!;
  const k = node.attrs.slices as number;
  const reverse = node.attrs.reverse === true;
  const [init, ...rest] = node.inputs as Node[];
  const xs = rest.slice(0, k), caps = rest.slice(k);
  const [carryArg, ...others] = body.args as Node[];
  const sliceArgs = others.slice(0, k), capArgs = others.slice(k);
  const steps = node.shape[0]!;
  const rank = node.shape.length;
  const window = (x: Node, begin: number): Node => b.op("slice", [x], {
    begin: x.shape.map((_, a) => (a === 0 ? begin : 0)), step: x.shape.map(() => 1),
    shape: [dimSub(steps, 1), ...x.shape.slice(1)] as Dim[],
  });
  const widths = (before: number, after: number) => Array.from({ length: rank }, (_, a) => (a === 0 ? [before, after] : [0, 0]));
  // prev: forward, [init, Y[0:T-1]]; reverse, [Y[1:T], init]. Built from pads (concat
  // cannot join along a free axis): the shifted carries, plus init where the mask is 1.
  const shifted = reverse
    ? b.op("pad", [window(node, 1)], { pad_width: widths(0, 1), value: 0 })
    : b.op("pad", [window(node, 0)], { pad_width: widths(1, 0), value: 0 });
  const mask = b.broadcastTo(edgeMask(b, steps, reverse), node.shape, [0]);
  const prev = b.add(shifted, b.mul(b.broadcastTo(init!, node.shape), mask));
  const cellVjp = (ct: Node, wrt: Node) => gradients(b, b.sum(b.mul(body.result, ct), body.result.shape.map((_, a) => a)), [wrt])[0]!;
  // The carry cotangents, running against the forward direction.
  const sliced = [g, prev, ...xs];
  const dPrev = buildLoop(b, b.constant(0, init!.shape), sliced, caps, !reverse, (a, [gt]) => cellVjp(b.add(a, gt!), carryArg!), [carryArg!, ...sliceArgs], capArgs);
  const dInit = row(b, dPrev, reverse);
  // The total cotangent of each step's output carry.
  const next = reverse
    ? b.op("pad", [window(dPrev, 0)], { pad_width: widths(1, 0), value: 0 })
    : b.op("pad", [window(dPrev, 1)], { pad_width: widths(0, 1), value: 0 });
  const total = b.add(g, next);
  const perStep = [total, prev, ...xs];
  const dXs = xs.map((x, i) => buildLoop(b, b.constant(0, x.shape.slice(1)), perStep, caps, false, (_acc, [gt]) => cellVjp(gt!, sliceArgs[i]!), [carryArg!, ...sliceArgs], capArgs));
  const dCaps = caps.map((c, j) => {
    const acc = buildLoop(b, b.constant(0, c.shape), perStep, caps, true, (a, [gt]) => b.add(a, cellVjp(gt!, capArgs[j]!)), [carryArg!, ...sliceArgs], capArgs);
    return row(b, acc, false);
  });
  return [dInit, ...dXs, ...dCaps];
}

/**
 * A scan over `[head, ...]` slices whose body also reads the forward body's own args: the
 * slices after the first are the forward carry and slices (bound to `forwardArgs`), the
 * captures are the forward captures (bound to `capArgs`). The body is closed by
 * construction: its args are new placeholders plus the forward body's.
 */
function buildLoop(
  b: Builder, init: Node, sliced: readonly Node[], caps: readonly Node[], reverse: boolean,
  cell: (carry: Node, heads: Node[]) => Node, forwardArgs: readonly Node[], capArgs: readonly Node[],
): Node {
  const tag = b.graph.size;
  const carry = placeholder(b, tag, 0, init.shape);
  const heads = sliced.slice(0, sliced.length - forwardArgs.length).map((x, i) => placeholder(b, tag, 1 + i, x.shape.slice(1)));
  const result = cell(carry, heads);
  return loop(b, init, sliced, caps, { args: [carry, ...heads, ...forwardArgs, ...capArgs], result }, reverse);
}

export const scanOps: OpDef[] = [scanArg, scan];
