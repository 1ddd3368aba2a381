// Convolution and pooling on NCHW tensors: conv2d (OIHW weights, cross-correlation, zero
// padding), maxpool2d and avgpool2d (no padding). Output size is
// floor((H + 2*padding - k) / stride) + 1. The derivative ops are primitives too and their
// derivatives close the set (conv2d and its two transposes are bilinear; max-pool routing
// and selection are each other's transpose), so gradients of gradients stay in the table.

import { fail, InternalError, type Span } from "../diagnostics";
import * as js from "../codegen/estree";
import { formatShape, numel, sameShape, type Attrs, type Dim, type Node, type OpDef, type Shape } from "../ir";
import type { KernelContext, KernelEmit } from "./define";
import { nest } from "./movement";

type KernelDef = OpDef & { readonly emit: KernelEmit };
type Expr = js.Expression;

/** floor((size + 2*padding - k) / stride) + 1 */
export function convOutSize(size: number, k: number, stride: number, padding: number): number {
  return Math.floor((size + 2 * padding - k) / stride) + 1;
}

/** The geometry of one sliding window over an input plane. */
interface Window {
  stride: number;
  padding: number;
  kh: number;
  kw: number;
  /** the input plane */
  height: number;
  width: number;
}

const isInt = (v: unknown, min: number): v is number => typeof v === "number" && Number.isInteger(v) && v >= min;

// ---- shape rules ----

function conv2dShape([x, w]: readonly Shape[], attrs: Attrs, span: Span | undefined): Shape {
  const { stride, padding } = attrs;
  if (!isInt(stride, 1)) fail("E0213", span, `stride must be a positive integer, found ${String(stride)}`);
  if (!isInt(padding, 0)) fail("E0213", span, `padding must be a non-negative integer, found ${String(padding)}`);
  if (x!.length !== 4) fail("E0213", span, `the input must be [batch, channels, height, width], but this is ${formatShape(x!)}`);
  if (w!.length !== 4) {
    fail("E0213", span, `the weights must be [out_channels, in_channels, kh, kw], but this is ${formatShape(w!)}`);
  }
  if (x![1] !== w![1]) fail("E0213", span, `the input ${formatShape(x!)} has ${x![1]} channels but the weights ${formatShape(w!)} expect ${w![1]}`);
  const [, , h, wd] = x!;
  const [, , kh, kw] = w!;
  if (typeof h !== "number" || typeof wd !== "number") {
    fail("E0213", span, `the input's height and width must be known sizes, but this is ${formatShape(x!)}`);
  }
  if (!isInt(kh, 1) || !isInt(kw, 1)) {
    fail("E0213", span, `the kernel's height and width must be known positive sizes, but the weights are ${formatShape(w!)}`);
  }
  if (kh > h + 2 * padding || kw > wd + 2 * padding) {
    fail("E0213", span, `the ${kh}x${kw} kernel is larger than the ${h + 2 * padding}x${wd + 2 * padding} padded input`);
  }
  return [x![0]!, w![0]!, convOutSize(h, kh, stride, padding), convOutSize(wd, kw, stride, padding)];
}

function poolShape(name: string, x: Shape, attrs: Attrs, span: Span | undefined): Shape {
  const { size, stride } = attrs;
  if (!isInt(size, 1)) fail("E0214", span, name, `the window size must be a positive integer, found ${String(size)}`);
  if (!isInt(stride, 1)) fail("E0214", span, name, `stride must be a positive integer, found ${String(stride)}`);
  if (x.length !== 4) fail("E0214", span, name, `the input must be [batch, channels, height, width], but this is ${formatShape(x)}`);
  const [, , h, w] = x;
  if (typeof h !== "number" || typeof w !== "number") {
    fail("E0214", span, name, `the input's height and width must be known sizes, but this is ${formatShape(x)}`);
  }
  if (size > h || size > w) fail("E0214", span, name, `the ${size}x${size} window is larger than the ${h}x${w} input`);
  return [x[0]!, x[1]!, convOutSize(h, size, stride, 0), convOutSize(w, size, stride, 0)];
}

/** Derivative ops are built only by vjp rules: a mismatch is a compiler bug. */
function expect(name: string, what: string, found: Shape, wanted: Shape): void {
  if (!sameShape(found, wanted)) {
    throw new InternalError(`${name}: ${what} is ${formatShape(found)}, expected ${formatShape(wanted)}`);
  }
}

const convWindow = (attrs: Attrs, w: readonly number[] | Shape, height: number, width: number): Window => ({
  stride: attrs.stride as number, padding: attrs.padding as number,
  kh: w[2] as number, kw: w[3] as number, height, width,
});

const poolWindow = (attrs: Attrs, height: number, width: number): Window => ({
  stride: attrs.stride as number, padding: 0,
  kh: attrs.size as number, kw: attrs.size as number, height, width,
});

// ---- reference semantics ----

/** Calls `f(a, b, h, v)` for each tap (a, b) of the window at output (i, j) that lands
 *  inside the input plane at (h, v); taps in the zero padding are skipped. */
function forEachTap(i: number, j: number, win: Window, f: (a: number, b: number, h: number, v: number) => void): void {
  for (let a = 0; a < win.kh; a++) {
    const h = i * win.stride + a - win.padding;
    if (h < 0 || h >= win.height) continue;
    for (let b = 0; b < win.kw; b++) {
      const v = j * win.stride + b - win.padding;
      if (v >= 0 && v < win.width) f(a, b, h, v);
    }
  }
}

/** Flat offset of [i0, i1, i2, i3] in a row-major tensor of `shape`. */
function at4(shape: readonly number[], i0: number, i1: number, i2: number, i3: number): number {
  return ((i0 * shape[1]! + i1) * shape[2]! + i2) * shape[3]! + i3;
}

/** Calls `f(n, c, i, j, flat)` for every element of a rank-4 shape, row-major. */
function forEach4(s: readonly number[], f: (n: number, c: number, i: number, j: number, flat: number) => void): void {
  let flat = 0;
  for (let n = 0; n < s[0]!; n++) {
    for (let c = 0; c < s[1]!; c++) {
      for (let i = 0; i < s[2]!; i++) {
        for (let j = 0; j < s[3]!; j++) f(n, c, i, j, flat++);
      }
    }
  }
}

/** A window's first maximal element: a later element wins only if strictly greater, or if
 *  it is the first NaN (NaN propagates, as in max). */
const beats = (v: number, best: number): boolean => v > best || (v !== v && best === best);

/** The flat offset in `x` of the first maximum of the window at output (n, c, i, j). */
function firstMax(x: Float64Array, xs: readonly number[], win: Window, n: number, c: number, i: number, j: number): number {
  let best = at4(xs, n, c, i * win.stride, j * win.stride);
  forEachTap(i, j, win, (_a, _b, h, v) => {
    const o = at4(xs, n, c, h, v);
    if (beats(x[o]!, x[best]!)) best = o;
  });
  return best;
}

// ---- emission helpers ----

const num = js.num;
const id = js.id;
const plus = (a: Expr, b: Expr) => js.add(a, b);

/** `body(pos)` for pos = base - padding, guarded by 0 <= pos < size. Without padding the
 *  output-size rule keeps every tap inside, so there is no guard. */
function position(ctx: KernelContext, base: Expr, padding: number, size: number, body: (pos: Expr) => js.Statement[]): js.Statement[] {
  if (padding === 0) return body(base);
  const name = ctx.fresh("p");
  const pos = id(name);
  const inside = js.logical("&&", js.binary(">=", pos, num(0)), js.binary("<", pos, num(size)));
  return [js.declare("const", name, js.binary("-", base, num(padding))), js.ifStmt(inside, body(pos))];
}

/** Loops over the taps (a, b) of the window at output (i, j), calling `body(a, b, h, v)`
 *  with the input position (h, v) of each tap inside the plane. */
function emitTaps(ctx: KernelContext, i: Expr, j: Expr, win: Window, body: (a: Expr, b: Expr, h: Expr, v: Expr) => js.Statement[]): js.Statement {
  const a = ctx.fresh("a");
  const b = ctx.fresh("b");
  const row = position(ctx, plus(js.mul(i, num(win.stride)), id(a)), win.padding, win.height, (h) => [
    js.loop(b, num(0), num(win.kw), position(ctx, plus(js.mul(j, num(win.stride)), id(b)), win.padding, win.width, (v) =>
      body(id(a), id(b), h, v))),
  ]);
  return js.loop(a, num(0), num(win.kh), row);
}

/** Zeroes the whole output (for kernels that accumulate with `+=`). */
function emitZero(ctx: KernelContext): js.Statement {
  const vars = ctx.node.shape.map(() => ctx.fresh("i"));
  return nest(vars, ctx.node.shape, ctx, [ctx.store(vars.map(id), num(0))]);
}

/** Statements finding the first maximum of x's window at pooled (n, c, i, j); returns
 *  the names holding its value and its tap (row and column within the window). */
function emitFirstMax(ctx: KernelContext, x: Node, win: Window, [n, c, i, j]: Expr[], out: js.Statement[]): { best: string; ra: string; rb: string } {
  const best = ctx.fresh("m");
  const ra = ctx.fresh("r");
  const rb = ctx.fresh("r");
  const first = ctx.read(x, [n!, c!, js.mul(i!, num(win.stride)), js.mul(j!, num(win.stride))], out);
  out.push(js.declare("let", best, first), js.declareMany("let", [[ra, num(0)], [rb, num(0)]]));
  out.push(emitTaps(ctx, i!, j!, win, (a, b, h, v) => {
    const inner: js.Statement[] = [];
    const t = ctx.fresh("v");
    inner.push(js.declare("const", t, ctx.read(x, [n!, c!, h, v], inner)));
    const beat = js.logical("||", js.binary(">", id(t), id(best)),
      js.logical("&&", js.binary("!==", id(t), id(t)), js.binary("===", id(best), id(best))));
    inner.push(js.ifStmt(beat, [
      js.stmt(js.assign(id(best), id(t))), js.stmt(js.assign(id(ra), a)), js.stmt(js.assign(id(rb), b)),
    ]));
    return inner;
  }));
  return { best, ra, rb };
}

const fourVars = (ctx: KernelContext) => [ctx.fresh("i"), ctx.fresh("i"), ctx.fresh("i"), ctx.fresh("i")];
const plane = (s: Shape) => [s[2] as number, s[3] as number] as const;

// ---- convolution ----

/** conv2d(x [N, C, H, W], w [O, C, KH, KW]; stride, padding) -> [N, O, OH, OW]:
 *  y[n, o, i, j] = sum over c, a, b of x[n, c, i*stride + a - padding, j*stride + b - padding] * w[o, c, a, b]. */
export const conv2d: KernelDef = {
  name: "conv2d", kind: "kernel", arity: 2,
  shape: (inputs, attrs, span) => conv2dShape(inputs, attrs, span),
  evaluate: ([x, w], attrs, out) => {
    const xs = x!.shape, ws = w!.shape;
    const win = convWindow(attrs, ws, xs[2]!, xs[3]!);
    const data = new Float64Array(numel(out));
    forEach4(out, (n, o, i, j, flat) => {
      let acc = 0;
      for (let c = 0; c < xs[1]!; c++) {
        forEachTap(i, j, win, (a, b, h, v) => { acc += x!.data[at4(xs, n, c, h, v)]! * w!.data[at4(ws, o, c, a, b)]!; });
      }
      data[flat] = acc;
    });
    return data;
  },
  vjp: (b, g, node) => {
    const [x, w] = node.inputs as [Node, Node];
    const { stride, padding } = node.attrs;
    return [
      b.op("conv2d_input_grad", [g, w], { stride: stride!, padding: padding!, height: x.shape[2]!, width: x.shape[3]! }),
      b.op("conv2d_weight_grad", [x, g], { stride: stride!, padding: padding!, kh: w.shape[2]!, kw: w.shape[3]! }),
    ];
  },
  print: { kind: "call", fn: "conv2d" },
  cost: (node, numel) => 2 * numel(node.shape) * numel(node.inputs[1]!.shape.slice(1)),
  emit: {
    fusesInputs: false,
    storesOnce: () => true,
    kernel: (ctx) => {
      const [x, w] = ctx.node.inputs as [Node, Node];
      if (tapsFit(x.shape, w.shape, 512)) return tiledConv2d(ctx);
      const vars = fourVars(ctx);
      const [n, o, i, j] = vars.map(id) as [Expr, Expr, Expr, Expr];
      const c = ctx.fresh("c");
      const acc = ctx.fresh("acc");
      const taps = emitTaps(ctx, i, j, convWindow(ctx.node.attrs, w.shape, ...plane(x.shape)), (a, b, h, v) => {
        const inner: js.Statement[] = [];
        const xv = ctx.read(x, [n, id(c), h, v], inner);
        const wv = ctx.read(w, [o, id(c), a, b], inner);
        inner.push(js.stmt(js.assign(id(acc), js.binary("*", xv, wv), "+=")));
        return inner;
      });
      const body = [
        js.declare("let", acc, num(0)),
        js.loop(c, num(0), ctx.dim(x.shape[1]!), [taps]),
        ctx.store(vars.map(id), id(acc)),
      ];
      return [nest(vars, ctx.node.shape, ctx, body)];
    },
  },
};

/** conv2d_input_grad(g [N, O, OH, OW], w [O, C, KH, KW]; stride, padding, height, width)
 *  -> [N, C, height, width]: the transpose of conv2d in x, scattering g through w. */
export const conv2dInputGrad: KernelDef = {
  name: "conv2d_input_grad", kind: "kernel", arity: 2,
  shape: ([g, w], attrs) => {
    if (g!.length !== 4 || w!.length !== 4) throw new InternalError(`conv2d_input_grad of ${formatShape(g!)} and ${formatShape(w!)}`);
    const out: Shape = [g![0]!, w![1]!, attrs.height as number, attrs.width as number];
    expect("conv2d_input_grad", "the cotangent", g!, conv2dShape([out, w!], attrs, undefined));
    return out;
  },
  evaluate: ([g, w], attrs, out) => {
    const gs = g!.shape, ws = w!.shape;
    const win = convWindow(attrs, ws, out[2]!, out[3]!);
    const data = new Float64Array(numel(out));
    forEach4(gs, (n, o, i, j, flat) => {
      const gv = g!.data[flat]!;
      for (let c = 0; c < ws[1]!; c++) {
        forEachTap(i, j, win, (a, b, h, v) => { data[at4(out, n, c, h, v)] += gv * w!.data[at4(ws, o, c, a, b)]!; });
      }
    });
    return data;
  },
  // <conv2d_input_grad(g, w), H> = <g, conv2d(H, w)> = <w, conv2d_weight_grad(H, g)>
  vjp: (b, h, node) => {
    const [g, w] = node.inputs as [Node, Node];
    const { stride, padding } = node.attrs;
    return [
      b.op("conv2d", [h, w], { stride: stride!, padding: padding! }),
      b.op("conv2d_weight_grad", [h, g], { stride: stride!, padding: padding!, kh: w.shape[2]!, kw: w.shape[3]! }),
    ];
  },
  print: { kind: "call", fn: "conv2d_input_grad" },
  cost: (node, numel) => 2 * numel(node.inputs[0]!.shape) * numel(node.inputs[1]!.shape.slice(1)),
  emit: {
    fusesInputs: false,
    kernel: (ctx) => {
      const [g, w] = ctx.node.inputs as [Node, Node];
      const vars = fourVars(ctx);
      const [n, o, i, j] = vars.map(id) as [Expr, Expr, Expr, Expr];
      const c = ctx.fresh("c");
      const gv = ctx.fresh("g");
      const body: js.Statement[] = [];
      body.push(js.declare("const", gv, ctx.read(g, [n, o, i, j], body)));
      const taps = emitTaps(ctx, i, j, convWindow(ctx.node.attrs, w.shape, ...plane(ctx.node.shape)), (a, b, h, v) => {
        const inner: js.Statement[] = [];
        const wv = ctx.read(w, [o, id(c), a, b], inner);
        inner.push(ctx.store([n, id(c), h, v], js.binary("*", id(gv), wv), "+="));
        return inner;
      });
      body.push(js.loop(c, num(0), ctx.dim(w.shape[1]!), [taps]));
      return [emitZero(ctx), nest(vars, g.shape, ctx, body)];
    },
  },
};

/** conv2d_weight_grad(x [N, C, H, W], g [N, O, OH, OW]; stride, padding, kh, kw)
 *  -> [O, C, kh, kw]: the transpose of conv2d in w, correlating g with x. */
export const conv2dWeightGrad: KernelDef = {
  name: "conv2d_weight_grad", kind: "kernel", arity: 2,
  shape: ([x, g], attrs) => {
    if (x!.length !== 4 || g!.length !== 4) throw new InternalError(`conv2d_weight_grad of ${formatShape(x!)} and ${formatShape(g!)}`);
    const out: Shape = [g![1]!, x![1]!, attrs.kh as number, attrs.kw as number];
    expect("conv2d_weight_grad", "the cotangent", g!, conv2dShape([x!, out], attrs, undefined));
    return out;
  },
  evaluate: ([x, g], attrs, out) => {
    const xs = x!.shape, gs = g!.shape;
    const win = convWindow(attrs, out, xs[2]!, xs[3]!);
    const data = new Float64Array(numel(out));
    forEach4(gs, (n, o, i, j, flat) => {
      const gv = g!.data[flat]!;
      for (let c = 0; c < xs[1]!; c++) {
        forEachTap(i, j, win, (a, b, h, v) => { data[at4(out, o, c, a, b)] += gv * x!.data[at4(xs, n, c, h, v)]!; });
      }
    });
    return data;
  },
  // <conv2d_weight_grad(x, g), K> = <x, conv2d_input_grad(g, K)> = <g, conv2d(x, K)>
  vjp: (b, k, node) => {
    const [x, g] = node.inputs as [Node, Node];
    const { stride, padding } = node.attrs;
    return [
      b.op("conv2d_input_grad", [g, k], { stride: stride!, padding: padding!, height: x.shape[2]!, width: x.shape[3]! }),
      b.op("conv2d", [x, k], { stride: stride!, padding: padding! }),
    ];
  },
  print: { kind: "call", fn: "conv2d_weight_grad" },
  cost: (node, numel) => 2 * numel(node.inputs[1]!.shape) * numel(node.shape.slice(1)),
  emit: {
    fusesInputs: false,
    kernel: (ctx) => {
      // One accumulator per weight: sum over batch and output positions, in the same order
      // as the reference scatter, so the two agree exactly.
      const [x, g] = ctx.node.inputs as [Node, Node];
      if (tapsFit(x.shape, ctx.node.shape, 64)) return tiledConv2dWeightGrad(ctx);
      const win = convWindow(ctx.node.attrs, ctx.node.shape, ...plane(x.shape));
      const vars = fourVars(ctx);
      const [o, c, a, b] = vars.map(id) as [Expr, Expr, Expr, Expr];
      const [n, i, j] = [ctx.fresh("n"), ctx.fresh("i"), ctx.fresh("j")];
      const acc = ctx.fresh("acc");
      const cols = (h: Expr) => position(ctx, plus(js.mul(id(j), num(win.stride)), b), win.padding, win.width, (v) => {
        const inner: js.Statement[] = [];
        const gv = ctx.read(g, [id(n), o, id(i), id(j)], inner);
        const xv = ctx.read(x, [id(n), c, h, v], inner);
        inner.push(js.stmt(js.assign(id(acc), js.binary("*", gv, xv), "+=")));
        return inner;
      });
      const rows = position(ctx, plus(js.mul(id(i), num(win.stride)), a), win.padding, win.height, (h) =>
        [js.loop(j, num(0), num(g.shape[3] as number), cols(h))]);
      const body = [
        js.declare("let", acc, num(0)),
        js.loop(n, num(0), ctx.dim(x.shape[0]!), [js.loop(i, num(0), num(g.shape[2] as number), rows)]),
        ctx.store(vars.map(id), id(acc)),
      ];
      return [nest(vars, ctx.node.shape, ctx, body)];
    },
  },
};

// ---- register-tiled convolution for small kernels ----

/** Known channel and kernel sizes small enough to keep every tap of one output position
 *  (C * KH * KW values), times the filters when `limit` allows, in locals. */
function tapsFit(x: Shape, w: Shape, limit: number): boolean {
  const [o, c, kh, kw] = w as Dim[];
  if (![o, c, kh, kw].every((d) => typeof d === "number") || typeof x[1] !== "number") return false;
  const taps = (c as number) * (kh as number) * (kw as number);
  return limit >= 512 ? taps <= 32 && taps * (o as number) <= limit : taps <= limit;
}

/** The input value at tap (c, a, b) of output position (i, j), or 0 in the padding. */
function tapValue(ctx: KernelContext, x: Node, win: Window, n: Expr, c: number, i: Expr, j: Expr, a: number, b: number, body: js.Statement[]): Expr {
  const h = js.binary("-", plus(js.mul(i, num(win.stride)), num(a)), num(win.padding));
  const v = js.binary("-", plus(js.mul(j, num(win.stride)), num(b)), num(win.padding));
  if (win.padding === 0) {
    return ctx.read(x, [n, num(c), plus(js.mul(i, num(win.stride)), num(a)), plus(js.mul(j, num(win.stride)), num(b))], body);
  }
  const hn = ctx.fresh("h"), vn = ctx.fresh("v");
  body.push(js.declare("const", hn, h), js.declare("const", vn, v));
  const inside = js.logical("&&", js.logical("&&", js.binary(">=", id(hn), num(0)), js.binary("<", id(hn), num(win.height))),
    js.logical("&&", js.binary(">=", id(vn), num(0)), js.binary("<", id(vn), num(win.width))));
  return js.conditional(inside, ctx.read(x, [n, num(c), id(hn), id(vn)], body), num(0));
}

/** conv2d with every tap of an output position loaded once into locals and reused by
 *  all filters (unrolled): C*KH*KW loads per position instead of O*C*KH*KW. */
function tiledConv2d(ctx: KernelContext): js.Statement[] {
  const [x, w] = ctx.node.inputs as [Node, Node];
  const [O, C, KH, KW] = w.shape as number[];
  const win = convWindow(ctx.node.attrs, w.shape, ...plane(x.shape));
  const [n, i, j] = [ctx.fresh("n"), ctx.fresh("i"), ctx.fresh("j")];
  const body: js.Statement[] = [];
  const taps: string[] = [];
  for (let c = 0; c < C!; c++) for (let a = 0; a < KH!; a++) for (let b = 0; b < KW!; b++) {
    const t = ctx.fresh("x");
    body.push(js.declare("const", t, tapValue(ctx, x, win, id(n), c, id(i), id(j), a, b, body)));
    taps.push(t);
  }
  for (let o = 0; o < O!; o++) {
    let sum: Expr | undefined;
    let k = 0;
    for (let c = 0; c < C!; c++) for (let a = 0; a < KH!; a++) for (let b = 0; b < KW!; b++) {
      const term = js.binary("*", id(taps[k++]!), ctx.read(w, [num(o), num(c), num(a), num(b)], body));
      sum = sum ? js.binary("+", sum, term) : term;
    }
    body.push(ctx.store([id(n), num(o), id(i), id(j)], sum ?? num(0)));
  }
  const [, , OH, OW] = ctx.node.shape;
  return [js.loop(n, num(0), ctx.dim(ctx.node.shape[0]!), [
    js.loop(i, num(0), ctx.dim(OH!), [js.loop(j, num(0), ctx.dim(OW!), body)]),
  ])];
}

/** conv2d_weight_grad with one accumulator per tap (C*KH*KW locals) for each filter:
 *  each gradient value is loaded once and multiplied into every tap. */
function tiledConv2dWeightGrad(ctx: KernelContext): js.Statement[] {
  const [x, g] = ctx.node.inputs as [Node, Node];
  const [, C, KH, KW] = ctx.node.shape as number[];
  const win = convWindow(ctx.node.attrs, ctx.node.shape, ...plane(x.shape));
  const [o, n, i, j] = [ctx.fresh("o"), ctx.fresh("n"), ctx.fresh("i"), ctx.fresh("j")];
  const accs: { name: string; c: number; a: number; b: number }[] = [];
  for (let c = 0; c < C!; c++) for (let a = 0; a < KH!; a++) for (let b = 0; b < KW!; b++) accs.push({ name: ctx.fresh("acc"), c, a, b });
  const inner: js.Statement[] = [];
  const gv = ctx.fresh("g");
  inner.push(js.declare("const", gv, ctx.read(g, [id(n), id(o), id(i), id(j)], inner)));
  for (const acc of accs) {
    const xv = tapValue(ctx, x, win, id(n), acc.c, id(i), id(j), acc.a, acc.b, inner);
    inner.push(js.stmt(js.assign(id(acc.name), js.binary("*", id(gv), xv), "+=")));
  }
  const [, , OH, OW] = g.shape;
  const perFilter: js.Statement[] = [
    js.declareMany("let", accs.map((a) => [a.name, num(0)])),
    js.loop(n, num(0), ctx.dim(x.shape[0]!), [js.loop(i, num(0), ctx.dim(OH!), [js.loop(j, num(0), ctx.dim(OW!), inner)])]),
    ...accs.map((a) => ctx.store([id(o), num(a.c), num(a.a), num(a.b)], id(a.name))),
  ];
  return [js.loop(o, num(0), ctx.dim(ctx.node.shape[0]!), perFilter)];
}

// ---- max pooling ----

/** maxpool2d(x [N, C, H, W]; size, stride) -> [N, C, OH, OW]: each window's maximum. */
export const maxpool2d: KernelDef = {
  name: "maxpool2d", kind: "kernel", arity: 1,
  shape: ([x], attrs, span) => poolShape("maxpool2d", x!, attrs, span),
  evaluate: ([x], attrs, out) => {
    const xs = x!.shape;
    const win = poolWindow(attrs, xs[2]!, xs[3]!);
    const data = new Float64Array(numel(out));
    // The value is Math.max over the window (NaN if any is NaN); the gradient still goes
    // to the first maximal element (maxpool2d_grad).
    forEach4(out, (n, c, i, j, flat) => {
      let m = -Infinity;
      forEachTap(i, j, win, (_a, _b, h, v) => { m = Math.max(m, x!.data[at4(xs, n, c, h, v)]!); });
      data[flat] = m;
    });
    return data;
  },
  vjp: (b, g, node) => [b.op("maxpool2d_grad", [node.inputs[0]!, g], node.attrs)],
  print: { kind: "call", fn: "maxpool2d" },
  emit: {
    fusesInputs: false,
    storesOnce: () => true,
    kernel: (ctx) => {
      // One Math.max over the window's taps: branch-free, where a running compare
      // mispredicts on unordered data.
      const x = ctx.node.inputs[0]!;
      const win = poolWindow(ctx.node.attrs, ...plane(x.shape));
      const vars = fourVars(ctx);
      const [n, c, i, j] = vars.map(id) as [Expr, Expr, Expr, Expr];
      const body: js.Statement[] = [];
      const taps: Expr[] = [];
      for (let a = 0; a < win.kh; a++) {
        for (let b = 0; b < win.kw; b++) {
          taps.push(ctx.read(x, [n, c, plus(js.mul(i, num(win.stride)), num(a)), plus(js.mul(j, num(win.stride)), num(b))], body));
        }
      }
      body.push(ctx.store(vars.map(id), taps.length === 1 ? taps[0]! : js.math("max", ...taps)));
      return [nest(vars, ctx.node.shape, ctx, body)];
    },
  },
};

/** maxpool2d_grad(x, g [pooled]; size, stride) -> shape of x: each g element added at its
 *  window's first maximum of x. Piecewise constant in x; linear in g. */
export const maxpool2dGrad: KernelDef = {
  name: "maxpool2d_grad", kind: "kernel", arity: 2,
  shape: ([x, g], attrs) => {
    expect("maxpool2d_grad", "the cotangent", g!, poolShape("maxpool2d_grad", x!, attrs, undefined));
    return x!;
  },
  evaluate: ([x, g], attrs, out) => {
    const win = poolWindow(attrs, out[2]!, out[3]!);
    const data = new Float64Array(numel(out));
    forEach4(g!.shape, (n, c, i, j, flat) => { data[firstMax(x!.data, out, win, n, c, i, j)] += g!.data[flat]!; });
    return data;
  },
  vjp: (b, h, node) => [null, b.op("maxpool2d_select", [node.inputs[0]!, h], node.attrs)],
  print: { kind: "call", fn: "maxpool2d_grad" },
  emit: {
    fusesInputs: false,
    // Windows that tile the plane (stride = size) are written whole, once each.
    storesOnce: (node) => node.attrs.stride === node.attrs.size,
    kernel: (ctx) => {
      const [x, g] = ctx.node.inputs as [Node, Node];
      const win = poolWindow(ctx.node.attrs, ...plane(x.shape));
      if (win.stride === win.kh) return tiledMaxpoolGrad(ctx, win);
      const vars = fourVars(ctx);
      const [n, c, i, j] = vars.map(id) as [Expr, Expr, Expr, Expr];
      const body: js.Statement[] = [];
      const { ra, rb } = emitFirstMax(ctx, x, win, [n, c, i, j], body);
      const gv = ctx.read(g, [n, c, i, j], body);
      const s = num(win.stride);
      body.push(ctx.store([n, c, plus(js.mul(i, s), id(ra)), plus(js.mul(j, s), id(rb))], gv, "+="));
      return [emitZero(ctx), nest(vars, g.shape, ctx, body)];
    },
  },
};

/** maxpool2d_grad for windows that tile the plane: each window's taps are written once,
 *  the gradient at the first maximum and 0 elsewhere; rows and columns past the last
 *  window are 0. Every element is stored exactly once, so a consumer can be fused. */
function tiledMaxpoolGrad(ctx: KernelContext, win: Window): js.Statement[] {
  const [x, g] = ctx.node.inputs as [Node, Node];
  const vars = fourVars(ctx);
  const [n, c, i, j] = vars.map(id) as [Expr, Expr, Expr, Expr];
  const body: js.Statement[] = [];
  const { ra, rb } = emitFirstMax(ctx, x, win, [n, c, i, j], body);
  const gv = ctx.fresh("g");
  body.push(js.declare("const", gv, ctx.read(g, [n, c, i, j], body)));
  const s = num(win.stride);
  for (let a = 0; a < win.kh; a++) {
    for (let b = 0; b < win.kw; b++) {
      const hit = js.logical("&&", js.binary("===", id(ra), num(a)), js.binary("===", id(rb), num(b)));
      body.push(ctx.store([n, c, plus(js.mul(i, s), num(a)), plus(js.mul(j, s), num(b))], js.conditional(hit, id(gv), num(0))));
    }
  }
  const out: js.Statement[] = [nest(vars, g.shape, ctx, body)];
  // The rest of the plane, outside every window.
  const [N, C, H, W] = ctx.node.shape as [Dim, Dim, number, number];
  const [OH, OW] = [g.shape[2] as number, g.shape[3] as number];
  const covered = [OH * win.stride, OW * win.stride];
  const zero = (rows: [number, number], cols: [number, number]) => {
    const zv = fourVars(ctx);
    const inner = [ctx.store([id(zv[0]!), id(zv[1]!), plus(id(zv[2]!), num(rows[0])), plus(id(zv[3]!), num(cols[0]))], num(0))];
    return nest(zv, [N, C, rows[1] - rows[0], cols[1] - cols[0]], ctx, inner);
  };
  if (covered[0]! < H) out.push(zero([covered[0]!, H], [0, W]));
  if (covered[1]! < W) out.push(zero([0, covered[0]!], [covered[1]!, W]));
  return out;
}

/** maxpool2d_select(x, h [both shape of x]; size, stride) -> pooled: h at each window's
 *  first maximum of x (maxpool2d(x) is maxpool2d_select(x, x)). */
export const maxpool2dSelect: KernelDef = {
  name: "maxpool2d_select", kind: "kernel", arity: 2,
  shape: ([x, h], attrs) => {
    expect("maxpool2d_select", "the selected tensor", h!, x!);
    return poolShape("maxpool2d_select", x!, attrs, undefined);
  },
  evaluate: ([x, h], attrs, out) => {
    const xs = x!.shape;
    const win = poolWindow(attrs, xs[2]!, xs[3]!);
    const data = new Float64Array(numel(out));
    forEach4(out, (n, c, i, j, flat) => { data[flat] = h!.data[firstMax(x!.data, xs, win, n, c, i, j)]!; });
    return data;
  },
  vjp: (b, g, node) => [null, b.op("maxpool2d_grad", [node.inputs[0]!, g], node.attrs)],
  print: { kind: "call", fn: "maxpool2d_select" },
  emit: {
    fusesInputs: false,
    kernel: (ctx) => {
      const [x, h] = ctx.node.inputs as [Node, Node];
      const win = poolWindow(ctx.node.attrs, ...plane(x.shape));
      const vars = fourVars(ctx);
      const [n, c, i, j] = vars.map(id) as [Expr, Expr, Expr, Expr];
      const body: js.Statement[] = [];
      const { ra, rb } = emitFirstMax(ctx, x, win, [n, c, i, j], body);
      const s = num(win.stride);
      const hv = ctx.read(h, [n, c, plus(js.mul(i, s), id(ra)), plus(js.mul(j, s), id(rb))], body);
      body.push(ctx.store(vars.map(id), hv));
      return [nest(vars, ctx.node.shape, ctx, body)];
    },
  },
};

// ---- average pooling ----

/** avgpool2d(x [N, C, H, W]; size, stride) -> [N, C, OH, OW]: each window's mean. */
export const avgpool2d: KernelDef = {
  name: "avgpool2d", kind: "kernel", arity: 1,
  shape: ([x], attrs, span) => poolShape("avgpool2d", x!, attrs, span),
  evaluate: ([x], attrs, out) => {
    const xs = x!.shape;
    const win = poolWindow(attrs, xs[2]!, xs[3]!);
    const data = new Float64Array(numel(out));
    forEach4(out, (n, c, i, j, flat) => {
      let acc = 0;
      forEachTap(i, j, win, (_a, _b, h, v) => { acc += x!.data[at4(xs, n, c, h, v)]!; });
      data[flat] = acc / (win.kh * win.kw);
    });
    return data;
  },
  vjp: (b, g, node) => {
    const x = node.inputs[0]!;
    return [b.op("avgpool2d_grad", [g], { ...node.attrs, height: x.shape[2]!, width: x.shape[3]! })];
  },
  print: { kind: "call", fn: "avgpool2d" },
  emit: {
    fusesInputs: false,
    kernel: (ctx) => {
      const x = ctx.node.inputs[0]!;
      const win = poolWindow(ctx.node.attrs, ...plane(x.shape));
      const vars = fourVars(ctx);
      const [n, c, i, j] = vars.map(id) as [Expr, Expr, Expr, Expr];
      const acc = ctx.fresh("acc");
      const taps = emitTaps(ctx, i, j, win, (_a, _b, h, v) => {
        const inner: js.Statement[] = [];
        inner.push(js.stmt(js.assign(id(acc), ctx.read(x, [n, c, h, v], inner), "+=")));
        return inner;
      });
      const body = [
        js.declare("let", acc, num(0)),
        taps,
        ctx.store(vars.map(id), js.binary("/", id(acc), num(win.kh * win.kw))),
      ];
      return [nest(vars, ctx.node.shape, ctx, body)];
    },
  },
};

/** avgpool2d_grad(g [pooled]; size, stride, height, width) -> [N, C, height, width]:
 *  each g element spread as g / size^2 over its window, overlaps accumulating. */
export const avgpool2dGrad: KernelDef = {
  name: "avgpool2d_grad", kind: "kernel", arity: 1,
  shape: ([g], attrs) => {
    if (g!.length !== 4) throw new InternalError(`avgpool2d_grad of ${formatShape(g!)}`);
    const out: Shape = [g![0]!, g![1]!, attrs.height as number, attrs.width as number];
    expect("avgpool2d_grad", "the cotangent", g!, poolShape("avgpool2d_grad", out, attrs, undefined));
    return out;
  },
  evaluate: ([g], attrs, out) => {
    const win = poolWindow(attrs, out[2]!, out[3]!);
    const data = new Float64Array(numel(out));
    forEach4(g!.shape, (n, c, i, j, flat) => {
      const gv = g!.data[flat]! / (win.kh * win.kw);
      forEachTap(i, j, win, (_a, _b, h, v) => { data[at4(out, n, c, h, v)] += gv; });
    });
    return data;
  },
  vjp: (b, h, node) => [b.op("avgpool2d", [h], { size: node.attrs.size!, stride: node.attrs.stride! })],
  print: { kind: "call", fn: "avgpool2d_grad" },
  emit: {
    fusesInputs: false,
    kernel: (ctx) => {
      const g = ctx.node.inputs[0]!;
      const win = poolWindow(ctx.node.attrs, ...plane(ctx.node.shape));
      const vars = fourVars(ctx);
      const [n, c, i, j] = vars.map(id) as [Expr, Expr, Expr, Expr];
      const gv = ctx.fresh("g");
      const body: js.Statement[] = [];
      const value = ctx.read(g, [n, c, i, j], body);
      body.push(js.declare("const", gv, js.binary("/", value, num(win.kh * win.kw))));
      body.push(emitTaps(ctx, i, j, win, (_a, _b, h, v) => [ctx.store([n, c, h, v], id(gv), "+=")]));
      return [emitZero(ctx), nest(vars, g.shape, ctx, body)];
    },
  },
};

export const convOps: OpDef[] = [
  conv2d, conv2dInputGrad, conv2dWeightGrad, maxpool2d, maxpool2dGrad, maxpool2dSelect, avgpool2d, avgpool2dGrad,
];
