// Loop nests for the convolution records, at any spatial rank, with groups, dilation and
// per-axis stride and padding: generic nests (taps in loops, padding guarded only on
// padded axes), and register-tiled kernels for small known channel and kernel sizes
// (every tap of one output position loaded once into locals, the filters unrolled).

import * as js from "../codegen/estree";
import type { Dim, Node } from "../ir";
import { convAttrs, type ConvAttrs } from "./conv-geometry";
import type { KernelContext, PoolEpilogue } from "./define";
import { nest, zeroOutput } from "./movement";
import { emitPoolGradTarget } from "./pool";

type Expr = js.Expression;
const num = js.num;
const id = js.id;

/** The geometry a kernel is emitted for: attributes plus the input plane's sizes. */
interface Geometry extends ConvAttrs {
  input: number[];
}

const geometryOf = (ctx: KernelContext, input: readonly Dim[]): Geometry =>
  ({ ...convAttrs(ctx.node.attrs), input: input.slice(2) as number[] });

/** Loop-variable prefixes for the spatial axes: i, j for a plane; i for a line. */
// Stryker disable next-line all: a loop variable's prefix only names a fresh local
const outPrefix = (axis: number, rank: number) => (rank - axis === 1 ? "j" : rank - axis === 2 ? "i" : "k");
// Stryker disable next-line all: a loop variable's prefix only names a fresh local
const tapPrefix = (axis: number, rank: number) => (rank - axis === 1 ? "b" : rank - axis === 2 ? "a" : "t");

/** `body(pos)` for pos = base - padding, guarded by 0 <= pos < size. Without padding the
 *  output-size rule keeps every tap inside, so there is no guard. */
function position(ctx: KernelContext, base: Expr, padding: number, size: number, body: (pos: Expr) => js.Statement[]): js.Statement[] {
  // Stryker disable next-line ConditionalExpression: a guard on an unpadded axis always holds
  if (padding === 0) return body(base);
  const name = ctx.fresh("p");
  const pos = id(name);
  const inside = js.logical("&&", js.binary(">=", pos, num(0)), js.binary("<", pos, num(size)));
  return [js.declare("const", name, js.binary("-", base, num(padding))), js.ifStmt(inside, body(pos))];
}

/** out*stride + tap*dilation on one axis. */
const tapBase = (geo: Geometry, axis: number, out: Expr, tap: Expr) =>
  js.add(js.mul(out, num(geo.stride[axis]!)), js.mul(tap, num(geo.dilation[axis]!)));

/** A padded position on one axis with the padding taken off (a window known inside). */
const unpadded = (geo: Geometry, axis: number, at: Expr) => (geo.padding[axis] === 0 ? at : js.binary("-", at, num(geo.padding[axis]!)));

/** Loops over the taps of the window at output position `out`, calling `body(taps, pos)`
 *  with the tap indices and the input position of each tap inside the plane (`inside`:
 *  the window is known to be inside, no guards). */
function emitTaps(ctx: KernelContext, out: Expr[], kernel: readonly Dim[], geo: Geometry, body: (taps: Expr[], pos: Expr[]) => js.Statement[], inside = false): js.Statement {
  const rank = out.length;
  const build = (axis: number, taps: Expr[], pos: Expr[]): js.Statement[] => {
    if (axis === rank) return body(taps, pos);
    const t = ctx.fresh(tapPrefix(axis, rank));
    const base = tapBase(geo, axis, out[axis]!, id(t));
    const next = (p: Expr) => build(axis + 1, [...taps, id(t)], [...pos, p]);
    const inner = inside ? next(unpadded(geo, axis, base)) : position(ctx, base, geo.padding[axis]!, geo.input[axis]!, next);
    return [js.loop(t, num(0), ctx.dim(kernel[axis]!), inner)];
  };
  return build(0, [], [])[0]!;
}

/** Loops over the output positions whose window puts tap `taps` inside the plane
 *  (the weight gradient's walk), calling `body(out, pos)`. */
function emitPositions(ctx: KernelContext, taps: Expr[], outSizes: readonly Dim[], geo: Geometry, body: (out: Expr[], pos: Expr[]) => js.Statement[]): js.Statement[] {
  const rank = taps.length;
  const build = (axis: number, out: Expr[], pos: Expr[]): js.Statement[] => {
    if (axis === rank) return body(out, pos);
    const v = ctx.fresh(outPrefix(axis, rank));
    const pad = geo.padding[axis]!;
    if (pad > 0 && geo.stride[axis] === 1) {
      // stride 1: the positions inside are a range, pad - tap * dilation <= v < size + pad
      // - tap * dilation (within 0 <= v < out size), walked in the same order
      const shift = ctx.fresh("s"), lo = ctx.fresh("lo"), hi = ctx.fresh("hi");
      const size = ctx.dim(outSizes[axis]!);
      const inner = build(axis + 1, [...out, id(v)], [...pos, js.binary("-", id(v), id(shift))]);
      return [
        js.declare("const", shift, js.binary("-", num(pad), js.mul(taps[axis]!, num(geo.dilation[axis]!)))),
        js.declare("const", lo, js.conditional(js.binary(">", id(shift), num(0)), id(shift), num(0))),
        js.declare("const", hi, js.conditional(js.binary("<", js.add(id(shift), num(geo.input[axis]!)), size), js.add(id(shift), num(geo.input[axis]!)), size)),
        js.loop(v, id(lo), id(hi), inner),
      ];
    }
    const inner = position(ctx, tapBase(geo, axis, id(v), taps[axis]!), pad, geo.input[axis]!, (p) =>
      build(axis + 1, [...out, id(v)], [...pos, p]));
    return [js.loop(v, num(0), ctx.dim(outSizes[axis]!), inner)];
  };
  return build(0, [], []);
}

/** Whether every tap of the window at output position `out` is inside the plane, on the
 *  padded axes (out * stride - padding >= 0 and out * stride + (K - 1) * dilation -
 *  padding < size); undefined without padding, where every window is. */
function windowInside(out: Expr[], kernel: readonly number[], geo: Geometry): Expr | undefined {
  const tests = out.flatMap((o, axis) => {
    const pad = geo.padding[axis]!;
    if (pad === 0) return [];
    const start = js.mul(o, num(geo.stride[axis]!));
    return [js.logical("&&", js.binary(">=", start, num(pad)),
      js.binary("<", start, num(geo.input[axis]! + pad - (kernel[axis]! - 1) * geo.dilation[axis]!)))];
  });
  return tests.length === 0 ? undefined : tests.reduce((a, b) => js.logical("&&", a, b));
}

/** With groups, the first input channel of filter `o`'s group, bound to a local:
 *  ((o / filtersPerGroup) | 0) * channelsPerGroup. Undefined without groups. */
function groupBase(ctx: KernelContext, o: Expr, filters: Dim, perGroup: Dim, groups: number, body: js.Statement[]): Expr | undefined {
  // Stryker disable next-line ConditionalExpression: with one group the base is (o / filters | 0) * channels = 0
  if (groups === 1) return undefined;
  const name = ctx.fresh("c0");
  const group = js.binary("|", js.binary("/", o, num((filters as number) / groups)), num(0));
  body.push(js.declare("const", name, js.mul(group, num(perGroup as number))));
  return id(name);
}

const channel = (base: Expr | undefined, c: Expr) => (base ? js.add(base, c) : c);

// ---- the three records' kernels ----

/** conv(x, w): per output element, an accumulator over the group's channels and the taps. */
export function emitConv(ctx: KernelContext): js.Statement[] {
  const [x, w] = ctx.node.inputs as [Node, Node];
  const geo = geometryOf(ctx, x.shape);
  // Stryker disable next-line ConditionalExpression: the kernel forms compute the same values; only speed differs
  if (tapsFit(w.shape, geo.groups, 512)) return tiledConv(ctx, geo);
  // Stryker disable next-line ConditionalExpression: the kernel forms compute the same values; only speed differs
  if (blocksFilters(geo, w.shape[0]!)) return blockedConv(ctx, geo);
  const vars = ctx.node.shape.map(() => ctx.fresh("i"));
  const [n, o, ...out] = vars.map(id) as Expr[];
  const body: js.Statement[] = [];
  const base = groupBase(ctx, o!, w.shape[0]!, w.shape[1]!, geo.groups, body);
  const c = ctx.fresh("c");
  const acc = ctx.fresh("acc");
  const taps = emitTaps(ctx, out, w.shape.slice(2), geo, (t, pos) => {
    const inner: js.Statement[] = [];
    const xv = ctx.read(x, [n!, channel(base, id(c)), ...pos], inner);
    const wv = ctx.read(w, [o!, id(c), ...t], inner);
    inner.push(js.stmt(js.assign(id(acc), js.binary("*", xv, wv), "+=")));
    return inner;
  });
  // from -0, the identity of + (as the interpreter): a sum of -0s stays -0
  body.push(js.declare("let", acc, num(-0)), js.loop(c, num(0), ctx.dim(w.shape[1]!), [taps]), ctx.store(vars.map(id), id(acc)));
  return [nest(vars, ctx.node.shape, ctx, body)];
}

/** Filters a blockedConv output position computes together. */
const filterBlock = 4;

/** Whether the filters can be taken in blocks: one group, a known number of them. */
const blocksFilters = (geo: Geometry, filters: Dim) => geo.groups === 1 && typeof filters === "number";

/** `count` filters (or channels) 4 (`block`) at a time, then the last count % 4
 *  together: `body(first, size)` computes `size` of them from index `first`. */
function inBlocks(ctx: KernelContext, count: number, prefix: string, body: (first: Expr, size: number) => js.Statement[], block = filterBlock): js.Statement[] {
  const rest = count % block, whole = count - rest;
  const out: js.Statement[] = [];
  if (whole > 0) {
    const o = ctx.fresh(prefix);
    out.push(js.loop(o, num(0), num(whole), body(id(o), block), block));
  }
  if (rest > 0) out.push(js.block(body(num(whole), rest)));
  return out;
}

/** A block of `size` filters from `first`: a sum per filter and filter f's index. */
function filterBlockOf(ctx: KernelContext, first: Expr, size: number): { accs: string[]; filter: (f: number) => Expr } {
  const accs = Array.from({ length: size }, () => ctx.fresh("acc"));
  return { accs, filter: (f) => (f === 0 ? first : js.add(first, num(f))) };
}

/** A conv too large for the tiled kernel, ungrouped: at each output position 4 filters at
 *  once (then the rest together), each with its own sum (as the interpreter's: from -0,
 *  channel by channel, tap by tap), so each input value is loaded once for the 4, and the
 *  4 chains of additions overlap where one chain waited on each addition in turn (the
 *  MNIST CNN's second conv, 16 filters of 8 channels, batch 32: 3.3 -> 2.5 ms). */
function blockedConv(ctx: KernelContext, geo: Geometry): js.Statement[] {
  const [x, w] = ctx.node.inputs as [Node, Node];
  const [N, O, ...outShape] = ctx.node.shape;
  const n = ctx.fresh("i");
  const block = (first: Expr, size: number): js.Statement[] => {
    const { accs, filter } = filterBlockOf(ctx, first, size);
    const out = outShape.map(() => ctx.fresh("i"));
    const c = ctx.fresh("c");
    const taps = (inside: boolean) => emitTaps(ctx, out.map(id), w.shape.slice(2), geo, (t, pos) => {
      const inner: js.Statement[] = [];
      const xv = ctx.fresh("x");
      inner.push(js.declare("const", xv, ctx.read(x, [id(n), id(c), ...pos], inner)));
      accs.forEach((acc, f) => inner.push(js.stmt(js.assign(id(acc), js.binary("*", id(xv), ctx.read(w, [filter(f), id(c), ...t], inner)), "+="))));
      return inner;
    }, inside);
    const channels = (inside: boolean) => [js.loop(c, num(0), ctx.dim(w.shape[1]!), [taps(inside)])];
    // with padding, windows away from the edges skip the guards
    const interior = windowInside(out.map(id), w.shape.slice(2) as number[], geo);
    const point = [
      js.declareMany("let", accs.map((a) => [a, num(-0)])),
      ...(interior ? [js.ifStmt(interior, channels(true), channels(false))] : channels(false)),
      ...accs.map((acc, f) => ctx.store([id(n), filter(f), ...out.map(id)], id(acc))),
    ];
    return [nest(out, outShape, ctx, point)];
  };
  return [js.loop(n, num(0), ctx.dim(N!), inBlocks(ctx, O as number, "o", block))];
}

/** conv_weight_grad as emitConvWeightGrad's nest, 4 filters at a time (as blockedConv):
 *  each x value loaded once for the 4, four independent sums, each in the nest's order. */
function blockedConvWeightGrad(ctx: KernelContext, geo: Geometry): js.Statement[] {
  const [x, g] = ctx.node.inputs as [Node, Node];
  const [O, ...rest] = ctx.node.shape;
  return inBlocks(ctx, O as number, "o", (first, size) => {
    const { accs, filter } = filterBlockOf(ctx, first, size);
    const vars = rest.map(() => ctx.fresh("i"));
    const [c, ...taps] = vars.map(id) as Expr[];
    const n = ctx.fresh("n");
    const walk = emitPositions(ctx, taps, g.shape.slice(2), geo, (out, pos) => {
      const inner: js.Statement[] = [];
      const xv = ctx.fresh("x");
      inner.push(js.declare("const", xv, ctx.read(x, [id(n), c!, ...pos], inner)));
      accs.forEach((acc, f) => inner.push(js.stmt(js.assign(id(acc), js.binary("*", ctx.read(g, [id(n), filter(f), ...out], inner), id(xv)), "+="))));
      return inner;
    });
    const weight = [
      js.declareMany("let", accs.map((a) => [a, num(0)])),
      js.loop(n, num(0), ctx.dim(x.shape[0]!), walk),
      ...accs.map((acc, f) => ctx.store([filter(f), ...vars.map(id)], id(acc))),
    ];
    return [nest(vars, rest, ctx, weight)];
  });
}

/** conv_input_grad(g, w): each g element scattered through its window's weights. */
export function emitConvInputGrad(ctx: KernelContext): js.Statement[] {
  const [g, w] = ctx.node.inputs as [Node, Node];
  const geo = geometryOf(ctx, ctx.node.shape);
  // Stryker disable next-line ConditionalExpression: the kernel forms compute the same values; only speed differs
  if (gathersInputGrad(w.shape)) return gatheredConvInputGrad(ctx, geo);
  const vars = g.shape.map(() => ctx.fresh("i"));
  const [n, o, ...out] = vars.map(id) as Expr[];
  const body: js.Statement[] = [];
  const gv = ctx.fresh("g");
  body.push(js.declare("const", gv, ctx.read(g, vars.map(id), body)));
  const base = groupBase(ctx, o!, w.shape[0]!, w.shape[1]!, geo.groups, body);
  // Stryker disable next-line StringLiteral: any prefix gives a fresh name
  const c = ctx.fresh("c");
  const taps = emitTaps(ctx, out, w.shape.slice(2), geo, (t, pos) => {
    const inner: js.Statement[] = [];
    const wv = ctx.read(w, [o!, id(c), ...t], inner);
    inner.push(ctx.store([n!, channel(base, id(c)), ...pos], js.binary("*", id(gv), wv), "+="));
    return inner;
  });
  body.push(js.loop(c, num(0), ctx.dim(w.shape[1]!), [taps]));
  return [zeroOutput(ctx), nest(vars, g.shape, ctx, body)];
}

/** Whether conv_input_grad can gather: known filter, channel and kernel sizes. */
function gathersInputGrad(w: readonly Dim[]): boolean {
  return w.every((d) => typeof d === "number");
}

/** conv_input_grad as a gather: each input position sums g * w over its group's filters
 *  and the taps that reach it, in the scatter's order (filters ascending; output positions
 *  ascending, so taps descending; from +0, the scatter's zeroed start), so the sums are the
 *  interpreter's exactly. 4 channels at a time (then the rest together; one at a time when
 *  a group's channels are not a multiple of 4): each g value loaded serves 4 products, and
 *  the sums stay in locals where the scatter loaded and stored an input element for every
 *  product (the MNIST CNN's second conv, 16 filters of 8 channels, batch 32: 3.3 -> 2.7
 *  ms; a stride-2 one, 16 of 16: 0.80 -> 0.51 ms; depthwise 3x3: 0.85 -> 0.77 ms). On a
 *  stride-1 axis a tap reaches every position whose window it is in, and positions away
 *  from the edges skip the bounds tests; on a strided axis it reaches the positions a
 *  multiple of the stride from the window's start, tested for each tap. */
function gatheredConvInputGrad(ctx: KernelContext, geo: Geometry): js.Statement[] {
  const [g, w] = ctx.node.inputs as [Node, Node];
  const [N, C, ...inShape] = ctx.node.shape;
  const kernel = w.shape.slice(2) as number[];
  const outSizes = g.shape.slice(2);
  const n = ctx.fresh("i");
  const rank = inShape.length;
  const [O, Cg] = w.shape as number[];
  const perGroup = O! / geo.groups;
  const block = (first: Expr, size: number): js.Statement[] => {
    const { accs, filter: channelOf } = filterBlockOf(ctx, first, size);
    const o = ctx.fresh("o");
    const pos = inShape.map((_, axis) => ctx.fresh(outPrefix(axis, rank)));
    // with groups: the block's group's filters, and each channel's index within the group
    const setup: js.Statement[] = [];
    let filters0: Expr = num(0), filtersEnd: Expr = ctx.dim(O!), local = channelOf;
    if (geo.groups > 1) {
      const group = ctx.fresh("grp");
      setup.push(js.declare("const", group, Cg === 1 ? first : js.binary("|", js.binary("/", first, num(Cg!)), num(0))));
      filters0 = js.mul(id(group), num(perGroup));
      filtersEnd = js.add(filters0, num(perGroup));
      local = (f) => js.binary("-", channelOf(f), js.mul(id(group), num(Cg!)));
    }
    // taps descending on each axis: pos + padding - tap * dilation is stride times the
    // output position, if that is inside (`guarded`; away from the edges of a stride-1
    // axis every tap is)
    const taps = (guarded: boolean, axis: number, tap: Expr[], out: Expr[]): js.Statement[] => {
      if (axis === rank) {
        const inner: js.Statement[] = [];
        const gv = ctx.fresh("g");
        inner.push(js.declare("const", gv, ctx.read(g, [id(n), id(o), ...out], inner)));
        accs.forEach((acc, f) => inner.push(js.stmt(js.assign(id(acc), js.binary("*", id(gv), ctx.read(w, [id(o), local(f), ...tap], inner)), "+="))));
        return inner;
      }
      const t = ctx.fresh(tapPrefix(axis, rank));
      const k = js.binary("-", num(kernel[axis]! - 1), id(t));
      const at = js.binary("-", js.add(id(pos[axis]!), num(geo.padding[axis]!)), js.mul(k, num(geo.dilation[axis]!)));
      const stride = geo.stride[axis]!;
      const q = ctx.fresh("q");
      if (stride === 1) {
        const inside = js.logical("&&", js.binary(">=", id(q), num(0)), js.binary("<", id(q), ctx.dim(outSizes[axis]!)));
        const next = taps(guarded, axis + 1, [...tap, k], [...out, id(q)]);
        return [js.loop(t, num(0), num(kernel[axis]!), [js.declare("const", q, at), ...(guarded ? [js.ifStmt(inside, next)] : next)])];
      }
      // r = stride * q: r >= 0, a multiple of the stride, r < stride * out size
      const r = ctx.fresh("r");
      const reaches = [js.binary(">=", id(r), num(0)), js.binary("===", js.binary("%", id(r), num(stride)), num(0)), js.binary("<", id(r), js.mul(ctx.dim(outSizes[axis]!), num(stride)))]
        .reduce((a, b) => js.logical("&&", a, b));
      const next = taps(guarded, axis + 1, [...tap, k], [...out, id(q)]);
      return [js.loop(t, num(0), num(kernel[axis]!), [js.declare("const", r, at), js.ifStmt(reaches, [js.declare("const", q, js.binary("|", js.binary("/", id(r), num(stride)), num(0))), ...next])])];
    };
    // every tap inside on each stride-1 axis: (K - 1) * dilation - padding <= pos < out size - padding
    const tests = pos.flatMap((p, axis) => (geo.stride[axis] !== 1 ? [] : [js.logical("&&",
      js.binary(">=", id(p), num((kernel[axis]! - 1) * geo.dilation[axis]! - geo.padding[axis]!)),
      js.binary("<", id(p), js.binary("-", ctx.dim(outSizes[axis]!), num(geo.padding[axis]!))))]));
    const filters = (guarded: boolean) => [js.loop(o, filters0, filtersEnd, taps(guarded, 0, [], []))];
    const point = [
      js.declareMany("let", accs.map((a) => [a, num(0)])),
      ...(tests.length > 0 ? [js.ifStmt(tests.reduce((a, b) => js.logical("&&", a, b)), filters(false), filters(true))] : filters(true)),
      ...accs.map((acc, f) => ctx.store([id(n), channelOf(f), ...pos.map(id)], id(acc))),
    ];
    return [...setup, nest(pos, inShape, ctx, point)];
  };
  // (a block of 4 channels stays in one group when a group's channels are a multiple of 4)
  const channelsTogether = geo.groups === 1 || Cg! % filterBlock === 0 ? filterBlock : 1;
  return [js.loop(n, num(0), ctx.dim(N!), inBlocks(ctx, C as number, "c", block, channelsTogether))];
}

/** conv_weight_grad(x, g): one accumulator per weight, summed over the batch and the
 *  output positions in the reference's order, so the two agree exactly. */
export function emitConvWeightGrad(ctx: KernelContext): js.Statement[] {
  const [x, g] = ctx.node.inputs as [Node, Node];
  const geo = geometryOf(ctx, x.shape);
  if (tapsFit(ctx.node.shape, geo.groups, 64)) return tiledConvWeightGrad(ctx, geo);
  // Stryker disable next-line ConditionalExpression: the kernel forms compute the same values; only speed differs
  if (blocksFilters(geo, ctx.node.shape[0]!)) return blockedConvWeightGrad(ctx, geo);
  const vars = ctx.node.shape.map(() => ctx.fresh("i"));
  const [o, c, ...taps] = vars.map(id) as Expr[];
  const body: js.Statement[] = [];
  const base = groupBase(ctx, o!, ctx.node.shape[0]!, ctx.node.shape[1]!, geo.groups, body);
  // Stryker disable next-line StringLiteral: any prefix gives a fresh name
  const n = ctx.fresh("n");
  const acc = ctx.fresh("acc");
  const walk = emitPositions(ctx, taps, g.shape.slice(2), geo, (out, pos) => {
    const inner: js.Statement[] = [];
    const gv = ctx.read(g, [id(n), o!, ...out], inner);
    const xv = ctx.read(x, [id(n), channel(base, c!), ...pos], inner);
    inner.push(js.stmt(js.assign(id(acc), js.binary("*", gv, xv), "+=")));
    return inner;
  });
  body.push(js.declare("let", acc, num(0)), js.loop(n, num(0), ctx.dim(x.shape[0]!), walk), ctx.store(vars.map(id), id(acc)));
  return [nest(vars, ctx.node.shape, ctx, body)];
}

// ---- register-tiled kernels for small kernels ----

/** Known filter, channel and kernel sizes small enough to keep every tap of one output
 *  position (channels per group x kernel values) in locals, and, for the forward kernel
 *  (`limit` 512), the unrolled filters too. `w` is the weight shape. */
function tapsFit(w: readonly Dim[], groups: number, limit: number): boolean {
  // Stryker disable next-line ConditionalExpression,MethodExpression,BooleanLiteral: which kernel form, and whether a pool or its gradient joins the conv, only changes speed
  if (!w.every((d) => typeof d === "number")) return false;
  const [o, cg, ...kernel] = w as number[];
  // Stryker disable next-line ArithmeticOperator: which kernel form, and whether a pool or its gradient joins the conv, only changes speed
  const taps = cg! * kernel.reduce((p, k) => p * k, 1);
  // Stryker disable next-line ConditionalExpression,EqualityOperator,LogicalOperator,ArithmeticOperator: which kernel form, and whether a pool or its gradient joins the conv, only changes speed
  return limit >= 512 ? taps <= 32 && taps * o! <= limit && o! % groups === 0 : taps <= limit;
}

/** Every tap offset of a kernel, row-major. */
function tapOffsets(kernel: readonly number[]): number[][] {
  let all: number[][] = [[]];
  for (const k of kernel) all = all.flatMap((t) => Array.from({ length: k }, (_, a) => [...t, a]));
  return all;
}

/** The input value at channel `c`, tap `tap` of output position `out`, or 0 in the padding. */
function tapValue(ctx: KernelContext, x: Node, geo: Geometry, n: Expr, c: Expr, out: Expr[], tap: number[], body: js.Statement[]): Expr {
  return inputValue(ctx, x, geo, n, c, out.map((o, e) => tapBase(geo, e, o, num(tap[e]!))), body);
}

/** tapValue for a window known to be inside the plane: the input value, no bounds tests. */
function insideTapValue(ctx: KernelContext, x: Node, geo: Geometry, n: Expr, c: Expr, out: Expr[], tap: number[], body: js.Statement[]): Expr {
  return ctx.read(x, [n, c, ...out.map((o, e) => unpadded(geo, e, tapBase(geo, e, o, num(tap[e]!))))], body);
}

/** The input value at channel `c` and padded position `at` (before the padding is taken
 *  off), or 0 in the padding. */
function inputValue(ctx: KernelContext, x: Node, geo: Geometry, n: Expr, c: Expr, at: Expr[], body: js.Statement[]): Expr {
  const rank = at.length;
  const pos: Expr[] = [];
  let inside: Expr | undefined;
  for (let e = 0; e < rank; e++) {
    const base = at[e]!;
    // Stryker disable next-line ConditionalExpression,BlockStatement: a guard on an unpadded axis always holds
    if (geo.padding[e] === 0) {
      pos.push(base);
      continue;
    }
    // Stryker disable next-line all: any prefix gives a fresh name
    const name = ctx.fresh(rank - e === 1 ? "v" : "h");
    body.push(js.declare("const", name, js.binary("-", base, num(geo.padding[e]!))));
    const ok = js.logical("&&", js.binary(">=", id(name), num(0)), js.binary("<", id(name), num(geo.input[e]!)));
    inside = inside ? js.logical("&&", inside, ok) : ok;
    pos.push(id(name));
  }
  const value = ctx.read(x, [n, c, ...pos], body);
  return inside ? js.conditional(inside, value, num(0)) : value;
}

/** conv with every tap of an output position loaded once into locals and reused by all
 *  filters of its group (unrolled): C*K loads per position instead of O*(C/groups)*K. */
function tiledConv(ctx: KernelContext, geo: Geometry): js.Statement[] {
  const [x, w] = ctx.node.inputs as [Node, Node];
  const [O, Cg, ...K] = w.shape as number[];
  const perGroup = O! / geo.groups;
  const offsets = tapOffsets(K);
  const n = ctx.fresh("n");
  const outSizes = ctx.node.shape.slice(2);
  const out = outSizes.map((_, e) => ctx.fresh(outPrefix(e, outSizes.length)));
  const body: js.Statement[] = [];
  // with padding, windows inside the plane load their taps without the bounds tests
  const interior = windowInside(out.map(id), K, geo);
  // Stryker disable next-line EqualityOperator: a group too many (<=) stores past the last filter: on the next batch element's first filter, stored again after, or past the output
  for (let group = 0; group < geo.groups; group++) {
    const taps: string[] = [];
    const inside: js.Statement[] = [], edge: js.Statement[] = [];
    // Stryker disable next-line EqualityOperator: a channel too many (<=) loads taps no sum reads
    for (let c = 0; c < Cg!; c++) {
      for (const tap of offsets) {
        const t = ctx.fresh("x");
        const channel = num(group * Cg! + c);
        if (interior) {
          inside.push(js.stmt(js.assign(id(t), insideTapValue(ctx, x, geo, id(n), channel, out.map(id), tap, inside))));
          edge.push(js.stmt(js.assign(id(t), tapValue(ctx, x, geo, id(n), channel, out.map(id), tap, edge))));
        } else {
          body.push(js.declare("const", t, tapValue(ctx, x, geo, id(n), channel, out.map(id), tap, body)));
        }
        taps.push(t);
      }
    }
    if (interior) body.push(js.declareMany("let", taps.map((t) => [t, num(0)])), js.ifStmt(interior, inside, edge));
    // Stryker disable next-line EqualityOperator: a filter too many (<=) is the next group's first, stored again after, or past the last filter (as for groups)
    for (let o = group * perGroup; o < (group + 1) * perGroup; o++) {
      let sum: Expr | undefined;
      let k = 0;
      for (let c = 0; c < Cg!; c++) {
        for (const tap of offsets) {
          const term = js.binary("*", id(taps[k++]!), ctx.read(w, [num(o), num(c), ...tap.map(num)], body));
          sum = sum ? js.binary("+", sum, term) : term;
        }
      }
      body.push(ctx.store([id(n), num(o), ...out.map(id)], sum ?? num(0)));
    }
  }
  let loops = body;
  for (let e = out.length - 1; e >= 0; e--) loops = [js.loop(out[e]!, num(0), ctx.dim(outSizes[e]!), loops)];
  return [js.loop(n, num(0), ctx.dim(ctx.node.shape[0]!), loops)];
}

/** Whether conv_weight_grad(x, g) computes g = maxpool2d_grad(c, h) itself (a prologue,
 *  when nothing else reads it): a 2-d conv small enough for the tiled kernel, and windows
 *  that tile the plane, so each element of h is the whole gradient at its window's first
 *  maximum and every other position's is +0. */
// Stryker disable next-line all: whether the weight gradient computes the pool gradient itself only changes speed
export function fusesPoolGrad(node: Node, input: number): boolean {
  const g = node.inputs[1]!;
  // Stryker disable next-line all: whether the weight gradient computes the pool gradient itself only changes speed
  return input === 1 && g.op.name === "maxpool2d_grad" && g.attrs.stride === g.attrs.size && node.shape.length === 4 &&
    tapsFit(node.shape, convAttrs(node.attrs).groups, 64);
}

/** conv_weight_grad with one accumulator per tap (channels per group x kernel locals)
 *  for each filter: each gradient value is loaded once and multiplied into every tap.
 *  Over a max-pool gradient computed here (fusesPoolGrad), the walk is over the pooled
 *  positions, each adding its gradient at its window's first maximum: the other
 *  positions' gradient is +0, which adds nothing unless it meets Infinity or NaN in x
 *  (0 * Infinity is NaN). So x is scanned first, and if it holds one, the walk is over
 *  every position, as without the prologue, each one's gradient routed in place. */
function tiledConvWeightGrad(ctx: KernelContext, geo: Geometry): js.Statement[] {
  const [x, g] = ctx.node.inputs as [Node, Node];
  const [, Cg, ...K] = ctx.node.shape as number[];
  // Stryker disable next-line OptionalChaining: the JS emitter, the only one that emits this kernel, always gives `prologue`
  const pooled = ctx.prologue?.(g) === true;
  const o = ctx.fresh("o");
  const accs: { name: string; c: number; tap: number[] }[] = [];
  // Stryker disable next-line EqualityOperator: an extra channel's sums land on the next filter's first weights, which that filter's own sums then overwrite, or past the gradient's end
  for (let c = 0; c < Cg!; c++) for (const tap of tapOffsets(K)) accs.push({ name: ctx.fresh("acc"), c, tap });
  const perFilter: js.Statement[] = [];
  const base = groupBase(ctx, id(o), ctx.node.shape[0]!, Cg!, geo.groups, perFilter);
  // Over a pool gradient computed here, the walk's position is data-dependent: unpadded
  // x in an array is addressed from one offset per output position (q: its window's
  // first input element), each tap at a constant offset from it, instead of a full index
  // expression per tap.
  // Stryker disable next-line ConditionalExpression,ArrowFunction,EqualityOperator,OptionalChaining: x addressed from one offset per window or by its full index reads the same elements (speed only)
  const array = pooled && geo.padding.every((p) => p === 0) ? ctx.arrayOf?.(x) : undefined;
  // Stryker disable next-line ConditionalExpression,BlockStatement: as above, the full index instead (speed only)
  const flat = array === undefined ? undefined : (n: Expr, at: Expr[], step: js.Statement[]) => {
    const spatial = x.shape.slice(2) as number[];
    const strides = spatial.map((_, e) => spatial.slice(e + 1).reduce((p, d) => p * d, 1));
    const plane = spatial.reduce((p, d) => p * d, 1);
    const q = ctx.fresh("q");
    let offset = js.mul(n, js.mul(ctx.dim(x.shape[1]!), num(plane)));
    if (base) offset = js.add(offset, js.mul(base, num(plane)));
    at.forEach((a, e) => { offset = js.add(offset, js.mul(a, num(geo.stride[e]! * strides[e]!))); });
    step.push(js.declare("const", q, offset));
    return (c: number, tap: number[]) =>
      js.index(array, js.add(id(q), num(c * plane + tap.reduce((p, t, e) => p + t * geo.dilation[e]! * strides[e]!, 0))));
  };
  /** Loops over n and `loops` (name prefix and trip count, outermost first); `value`
   *  gives the gradient (bound to a local), where in g's plane it applies, and a guard. */
  const walk = (loops: [string, Expr][], value: (n: Expr, vars: Expr[], inner: js.Statement[]) => { g: Expr; at: Expr[]; inside?: Expr }): js.Statement => {
    const n = ctx.fresh("n");
    const vars = loops.map(([prefix]) => ctx.fresh(prefix));
    const inner: js.Statement[] = [];
    const gv = ctx.fresh("g");
    const v = value(id(n), vars.map(id), inner);
    const step: js.Statement[] = [js.declare("const", gv, v.g)];
    const at = flat ? flat(id(n), v.at, step) : undefined;
    const accumulate = (guarded: boolean): js.Statement[] => {
      const out: js.Statement[] = [];
      for (const acc of accs) {
        const c = channel(base, num(acc.c));
        const xv = at ? at(acc.c, acc.tap) : (guarded ? tapValue : insideTapValue)(ctx, x, geo, id(n), c, v.at, acc.tap, out);
        out.push(js.stmt(js.assign(id(acc.name), js.binary("*", id(gv), xv), "+=")));
      }
      return out;
    };
    // with padding, windows inside the plane read their taps without the bounds tests
    const interior = at ? undefined : windowInside(v.at, K, geo);
    if (interior) step.push(js.ifStmt(interior, accumulate(false), accumulate(true)));
    else step.push(...accumulate(true));
    if (v.inside) inner.push(js.ifStmt(v.inside, step)); else inner.push(...step);
    let body = inner;
    for (let e = loops.length - 1; e >= 0; e--) body = [js.loop(vars[e]!, num(0), loops[e]![1], body)];
    return js.loop(n, num(0), ctx.dim(x.shape[0]!), body);
  };
  const local = (inner: js.Statement[], prefix: string, e: Expr): Expr => {
    const name = ctx.fresh(prefix);
    inner.push(js.declare("const", name, e));
    return id(name);
  };
  const plane = (node: Node) => node.shape.slice(2).map((d, e) => [outPrefix(e, 2), ctx.dim(d)] as [string, Expr]);
  const before: js.Statement[] = [];
  let loops: js.Statement;
  if (!pooled) {
    loops = walk(plane(g), (n, out, inner) => ({ g: ctx.read(g, [n, id(o), ...out], inner), at: out }));
  } else {
    const h = g.inputs[1]!;
    const s = g.attrs.stride as number;
    // The pooled walk: each window's gradient at its first maximum.
    const sparse = walk(plane(h), (n, out, inner) => {
      const { row, col } = emitPoolGradTarget(ctx, g, [n, id(o), ...out], inner);
      return { g: ctx.read(h, [n, id(o), ...out], inner), at: [local(inner, "h", row), local(inner, "v", col)] };
    });
    // The dense walk, row-major over g's plane as window row wi, tap a, window column wj,
    // tap b: each position's gradient is its window's if it is the first maximum, else 0
    // (also past the last window when the plane is not a multiple of the window).
    const [H, W] = g.shape.slice(2) as [number, number];
    const [PH, PW] = h.shape.slice(2) as [number, number];
    // Stryker disable next-line ArithmeticOperator: more window rows or columns in the dense walk are cut by its bounds guards (speed only)
    const rows = Math.ceil(H / s), cols = Math.ceil(W / s);
    // Stryker disable next-line StringLiteral: a fresh loop variable's prefix
    const dense = walk([["wi", num(rows)], ["a", num(s)], ["wj", num(cols)], ["b", num(s)]], (n, [wi, a, wj, b], inner) => {
      const routed = ctx.fresh("r");
      inner.push(js.declare("let", routed, num(0)));
      const found: js.Statement[] = [];
      const { ra, rb } = emitPoolGradTarget(ctx, g, [n, id(o), wi!, wj!], found);
      const hit = js.logical("&&", js.binary("===", ra, a!), js.binary("===", rb, b!));
      found.push(js.ifStmt(hit, [js.stmt(js.assign(id(routed), ctx.read(h, [n, id(o), wi!, wj!], found)))]));
      // Stryker disable next-line ConditionalExpression,EqualityOperator: with no window past the last, the guard always holds (speed only)
      const covered = [...(rows > PH ? [js.binary("<", wi!, num(PH))] : []), ...(cols > PW ? [js.binary("<", wj!, num(PW))] : [])];
      inner.push(covered.length > 0 ? js.ifStmt(covered.reduce((p, q) => js.logical("&&", p, q)), found) : js.block(found));
      const i = local(inner, "i", js.add(js.mul(wi!, num(s)), a!));
      const j = local(inner, "j", js.add(js.mul(wj!, num(s)), b!));
      // Stryker disable next-line ConditionalExpression: inside the plane the bound always holds (speed only)
      const bounds = [...(rows * s > H ? [js.binary("<", i, num(H))] : []), ...(cols * s > W ? [js.binary("<", j, num(W))] : [])];
      return { g: id(routed), at: [i, j], ...(bounds.length > 0 ? { inside: bounds.reduce((p, q) => js.logical("&&", p, q)) } : {}) };
    });
    // probe = sum of 0 * x: NaN exactly when x holds Infinity or NaN.
    const probe = ctx.fresh("probe");
    before.push(js.declare("let", probe, num(0)));
    const add = (v: Expr) => js.stmt(js.assign(id(probe), js.binary("*", num(0), v), "+="));
    // Stryker disable next-line OptionalChaining: the JS emitter always gives `arrayOf`
    const array = ctx.arrayOf?.(x);
    // Stryker disable next-line ConditionalExpression: the scan by full index reads the same elements (speed only)
    if (array) {
      const q = ctx.fresh("q");
      const size = x.shape.map((d) => ctx.dim(d)).reduce((a, b) => js.mul(a, b));
      before.push(js.loop(q, num(0), size, [add(js.index(array, id(q)))]));
    } else {
      const xv = x.shape.map(() => ctx.fresh("i"));
      const scan: js.Statement[] = [];
      scan.push(add(ctx.read(x, xv.map(id), scan)));
      before.push(nest(xv, x.shape, ctx, scan));
    }
    const special = js.binary("!==", id(probe), num(0));
    loops = js.ifStmt(special, [dense], [sparse]);
  }
  perFilter.push(
    js.declareMany("let", accs.map((a) => [a.name, num(0)])),
    loops,
    ...accs.map((a) => ctx.store([id(o), num(a.c), ...a.tap.map(num)], id(a.name))),
  );
  return [...before, js.loop(o, num(0), ctx.dim(ctx.node.shape[0]!), perFilter)];
}

/** Whether conv(x, w) can run window by window under `pool` (a max-pool whose windows tile
 *  the plane, stride = size): a 2-d conv small enough for the tiled kernel, and windows of
 *  at most 16 taps (each window's outputs are written out, with a running maximum per
 *  filter in locals). */
export function poolsInLoop(node: Node, pool: Node): boolean {
  const w = node.inputs[1]!;
  const size = pool.attrs.size as number;
  return node.shape.length === 4 && tapsFit(w.shape, convAttrs(node.attrs).groups, 512) && size * size <= 16;
}

/** conv under a max-pool whose windows tile the plane (poolsInLoop), a window per step:
 *  for each of its positions (row-major) the input values under the taps are loaded once
 *  (shared by the window's positions that overlap, and by the group's filters), each
 *  filter's output goes through the fused epilogue (pool.value), and a running maximum per
 *  filter (as maxpool2d's Math.max: compared, its 0's sign set after the window) and, when the taps are stored, the tap of the first
 *  maximum (as maxpool2d_grad routes) are kept in locals; then the window's results are
 *  stored. Conv outputs outside every window are never computed. */
export function emitConvPooled(ctx: KernelContext, pool: PoolEpilogue): js.Statement[] {
  const [x, w] = ctx.node.inputs as [Node, Node];
  const geo = geometryOf(ctx, x.shape);
  const [O, Cg, ...K] = w.shape as number[];
  const perGroup = O! / geo.groups;
  const offsets = tapOffsets(K);
  const size = pool.node.attrs.size as number;
  const n = ctx.fresh("n");
  const windows = [ctx.fresh("wi"), ctx.fresh("wj")];
  const body: js.Statement[] = [];
  // Input values by channel and position relative to the window's first output's window.
  const loaded = new Map<string, string>();
  const input = (c: number, offset: number[]): string => {
    const key = `${c}:${offset.join(",")}`;
    let name = loaded.get(key);
    if (!name) {
      name = ctx.fresh("x");
      const at = windows.map((v, e) => js.add(js.mul(id(v), num(size * geo.stride[e]!)), num(offset[e]!)));
      body.push(js.declare("const", name, inputValue(ctx, x, geo, id(n), num(c), at, body)));
      loaded.set(key, name);
    }
    return name;
  };
  const max = Array.from({ length: O! }, () => ctx.fresh("m"));
  const tap = pool.storeTap ? max.map(() => ctx.fresh("t")) : [];
  const values: string[][] = max.map(() => []);
  for (let a = 0; a < size; a++) {
    for (let b = 0; b < size; b++) {
      const k = a * size + b;
      const out = [js.add(js.mul(id(windows[0]!), num(size)), num(a)), js.add(js.mul(id(windows[1]!), num(size)), num(b))];
      for (let group = 0; group < geo.groups; group++) {
        for (let o = group * perGroup; o < (group + 1) * perGroup; o++) {
          let sum: Expr | undefined;
          for (let c = 0; c < Cg!; c++) {
            for (const t of offsets) {
              const offset = t.map((tv, e) => [a, b][e]! * geo.stride[e]! + tv * geo.dilation[e]!);
              const term = js.binary("*", id(input(group * Cg! + c, offset)), ctx.read(w, [num(o), num(c), ...t.map(num)], body));
              sum = sum ? js.binary("+", sum, term) : term;
            }
          }
          const v = ctx.fresh("v");
          values[o]!.push(v);
          const m = id(max[o]!);
          if (pool.beforeRelu) {
            // relu last: the window's maximum of relu(v) is the running maximum of v from 0,
            // moving only to a strictly greater v: as relu, a NaN or a value <= 0 counts as
            // +0, and the first maximum's tap is kept. One comparison per value, where
            // relu's own and the NaN test were three data-dependent branches (W4's conv:
            // 514 -> 213 µs alone).
            body.push(js.declare("const", v, pool.beforeRelu([id(n), num(o), ...out], sum ?? num(0), body)));
            if (k === 0) {
              body.push(js.declare("let", max[o]!, num(0)));
              if (pool.storeTap) body.push(js.declare("let", tap[o]!, num(0)));
            }
            const moves = [js.stmt(js.assign(m, id(v))), ...(pool.storeTap && k > 0 ? [js.stmt(js.assign(id(tap[o]!), num(k)))] : [])];
            body.push(js.ifStmt(js.binary(">", id(v), m), moves));
            continue;
          }
          body.push(js.declare("const", v, pool.value([id(n), num(o), ...out], sum ?? num(0), body)));
          if (k === 0) {
            body.push(js.declare("let", max[o]!, id(v)));
            if (pool.storeTap) body.push(js.declare("let", tap[o]!, num(0)));
            continue;
          }
          // The first maximum moves only to a strictly greater value or the first NaN (a NaN
          // in m stays): one comparison in the common case. m is then Math.max of the
          // window but for a 0's sign, set after the window.
          const moves = [js.stmt(js.assign(m, id(v))), ...(pool.storeTap ? [js.stmt(js.assign(id(tap[o]!), num(k)))] : [])];
          body.push(js.ifStmt(js.unary("!", js.binary("<=", id(v), m)), [js.ifStmt(js.binary("===", m, m), moves)]));
        }
      }
    }
  }
  for (let o = 0; o < O!; o++) {
    const at = [id(n), num(o), ...windows.map(id)];
    // A maximum of 0 is +0 if any of the window's values is (Math.max(-0, 0) is +0); no
    // value is NaN, or m would be.
    const m = id(max[o]!);
    if (!pool.beforeRelu) body.push(js.ifStmt(js.binary("===", m, num(0)), [js.stmt(js.assign(m, js.math("max", ...values[o]!.map(id))))]));
    body.push(pool.store(at, m));
    if (pool.storeTap) body.push(pool.storeTap(at, id(tap[o]!)));
  }
  const [OH, OW] = pool.node.shape.slice(2);
  const loops = js.loop(windows[0]!, num(0), ctx.dim(OH!), [js.loop(windows[1]!, num(0), ctx.dim(OW!), body)]);
  return [js.loop(n, num(0), ctx.dim(ctx.node.shape[0]!), [loops])];
}
