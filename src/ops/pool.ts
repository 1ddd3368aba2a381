// Pooling on NCHW tensors: maxpool2d and avgpool2d (square windows, no padding), output
// size floor((H - size) / stride) + 1, and their derivative records. Max-pool routing
// (maxpool2d_grad) and selection (maxpool2d_select) are each other's transpose, so
// gradients of gradients stay in the table; every record is also a documented built-in,
// so printed gradients are programs.

import { fail, type Span } from "../diagnostics";
import * as js from "../codegen/estree";
import { formatShape, numel, sameShape, type Attrs, type Dim, type Node, type OpDef, type Shape } from "../ir";
import { convOutSize } from "./conv-geometry";
import type { KernelContext, KernelEmit } from "./define";
import { nest, zeroOutput } from "./movement";

type KernelDef = OpDef & { readonly emit: KernelEmit };
type Expr = js.Expression;

/** The geometry of one sliding window (pools do not pad: the output-size rule keeps
 *  every tap inside the plane). */
interface Window {
  stride: number;
  kh: number;
  kw: number;
}

// Stryker disable next-line ConditionalExpression: Number.isInteger is false for anything but a number (the typeof is the type guard)
const isInt = (v: unknown, min: number): v is number => typeof v === "number" && Number.isInteger(v) && v >= min;

// ---- shape rules ----

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

/** The derivative records are built-ins too (printed gradients are programs): a second
 *  operand of the wrong shape is a located error. */
function expect(name: string, what: string, found: Shape, wanted: Shape, span: Span | undefined): void {
  if (!sameShape(found, wanted)) fail("E0255", span, name, what, formatShape(found), formatShape(wanted));
}

const poolWindow = (attrs: Attrs): Window => ({
  stride: attrs.stride as number, kh: attrs.size as number, kw: attrs.size as number,
});

// ---- reference semantics ----

/** Calls `f(a, b, h, v)` for each tap (a, b) of the window at output (i, j), at (h, v)
 *  in the input plane. */
function forEachTap(i: number, j: number, win: Window, f: (a: number, b: number, h: number, v: number) => void): void {
  for (let a = 0; a < win.kh; a++) {
    for (let b = 0; b < win.kw; b++) f(a, b, i * win.stride + a, j * win.stride + b);
  }
}

/** Flat offset of [i0, i1, i2, i3] in a row-major tensor of `shape`. */
function at4(shape: readonly number[], i0: number, i1: number, i2: number, i3: number): number {
  return ((i0 * shape[1]! + i1) * shape[2]! + i2) * shape[3]! + i3;
}

/** Calls `f(n, c, i, j, flat)` for every element of a rank-4 shape, row-major. */
function forEach4(s: readonly number[], f: (n: number, c: number, i: number, j: number, flat: number) => void): void {
  let flat = 0;
  // Stryker disable next-line EqualityOperator: a batch row past the end (<=) only writes past the end of a Float64Array, which is ignored
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

/** Loops over the taps (a, b) of the window at output (i, j), calling `body(a, b, h, v)`
 *  with the input position (h, v) of each tap. */
function emitTaps(ctx: KernelContext, i: Expr, j: Expr, win: Window, body: (a: Expr, b: Expr, h: Expr, v: Expr) => js.Statement[]): js.Statement {
  // Stryker disable next-line StringLiteral: any prefix gives a fresh name
  const a = ctx.fresh("a");
  // Stryker disable next-line StringLiteral: any prefix gives a fresh name
  const b = ctx.fresh("b");
  const h = plus(js.mul(i, num(win.stride)), id(a));
  const v = plus(js.mul(j, num(win.stride)), id(b));
  return js.loop(a, num(0), num(win.kh), [js.loop(b, num(0), num(win.kw), body(id(a), id(b), h, v))]);
}

/** Windows with at most this many taps have their taps written out (no loop), the first
 *  one only as the starting maximum. */
const unrolledTaps = 16;

/** Statements finding the first maximum of x's window at pooled (n, c, i, j); returns
 *  the names holding its value and its tap (row and column within the window). */
function emitFirstMax(ctx: KernelContext, x: Node, win: Window, [n, c, i, j]: Expr[], out: js.Statement[]): { ra: string; rb: string } {
  // Stored by the pool's kernel (a conv computed window by window): read, not searched.
  // Stryker disable next-line OptionalChaining: the one KernelContext (codegen/kernel.ts) has firstMaxTap
  const stored = ctx.firstMaxTap?.(x, [n!, c!, i!, j!]);
  if (stored) return splitTap(ctx, stored, win.kw, out);
  const best = ctx.fresh("m");
  const ra = ctx.fresh("r");
  const rb = ctx.fresh("r");
  const first = ctx.read(x, [n!, c!, js.mul(i!, num(win.stride)), js.mul(j!, num(win.stride))], out);
  out.push(js.declare("let", best, first), js.declareMany("let", [[ra, num(0)], [rb, num(0)]]));
  // A later tap wins if strictly greater, or if it is the first NaN (NaN propagates).
  const compare = (a: Expr, b: Expr, h: Expr, v: Expr): js.Statement[] => {
    const inner: js.Statement[] = [];
    const t = ctx.fresh("v");
    inner.push(js.declare("const", t, ctx.read(x, [n!, c!, h, v], inner)));
    const beat = js.logical("||", js.binary(">", id(t), id(best)),
      js.logical("&&", js.binary("!==", id(t), id(t)), js.binary("===", id(best), id(best))));
    inner.push(js.ifStmt(beat, [
      js.stmt(js.assign(id(best), id(t))), js.stmt(js.assign(id(ra), a)), js.stmt(js.assign(id(rb), b)),
    ]));
    return inner;
  };
  // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator: the taps written out or in a loop compute the same; only speed differs
  if (win.kh * win.kw <= unrolledTaps) {
    // The first tap is the starting maximum: it cannot beat itself, so it is not compared.
    const s = num(win.stride);
    for (let a = 0; a < win.kh; a++) {
      for (let b = 0; b < win.kw; b++) {
        // Stryker disable next-line ConditionalExpression: compared with itself, the first tap never wins (not greater, and not a first NaN)
        if (a === 0 && b === 0) continue;
        out.push(js.block(compare(num(a), num(b), plus(js.mul(i!, s), num(a)), plus(js.mul(j!, s), num(b)))));
      }
    }
  } else {
    out.push(emitTaps(ctx, i!, j!, win, compare));
  }
  return { ra, rb };
}

/** The row and column within a window of a stored tap a * kw + b, bound to integer locals
 *  (a shift and a mask when kw is a power of two). */
function splitTap(ctx: KernelContext, tap: Expr, kw: number, out: js.Statement[]): { ra: string; rb: string } {
  const t = ctx.fresh("t");
  const ra = ctx.fresh("r");
  const rb = ctx.fresh("r");
  // (taps are small integers, stored exactly in either dtype)
  out.push(js.declare("const", t, js.binary("|", tap, num(0))));
  const shift = Math.log2(kw);
  const [row, col] = Number.isInteger(shift)
    ? [js.binary(">>", id(t), num(shift)), js.binary("&", id(t), num(kw - 1))]
    : [js.binary("|", js.binary("/", id(t), num(kw)), num(0)), js.binary("-", id(t), js.mul(id(ra), num(kw)))];
  out.push(js.declareMany("const", [[ra, row], [rb, col]]));
  return { ra, rb };
}

const fourVars = (ctx: KernelContext) => [ctx.fresh("i"), ctx.fresh("i"), ctx.fresh("i"), ctx.fresh("i")];

/** For a kernel that computes maxpool2d_grad(x, g) itself (a prologue): statements finding
 *  the first maximum of x's window at pooled (n, c, i, j), and the position in x's plane
 *  (row, column) that receives g[n, c, i, j] — the only one that does. */
export function emitPoolGradTarget(ctx: KernelContext, grad: Node, [n, c, i, j]: Expr[], out: js.Statement[]): { row: Expr; col: Expr; ra: Expr; rb: Expr } {
  const x = grad.inputs[0]!;
  const win = poolWindow(grad.attrs);
  const { ra, rb } = emitFirstMax(ctx, x, win, [n!, c!, i!, j!], out);
  const s = num(win.stride);
  return { row: plus(js.mul(i!, s), id(ra)), col: plus(js.mul(j!, s), id(rb)), ra: id(ra), rb: id(rb) };
}

// ---- max pooling ----

/** maxpool2d(x [N, C, H, W]; size, stride) -> [N, C, OH, OW]: each window's maximum. */
export const maxpool2d: KernelDef = {
  name: "maxpool2d", kind: "kernel", arity: 1, wasm: true,
  shape: ([x], attrs, span) => poolShape("maxpool2d", x!, attrs, span),
  evaluate: ([x], attrs, out) => {
    const xs = x!.shape;
    const win = poolWindow(attrs);
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
  // Stryker disable next-line ObjectLiteral: without a print form the printer spells the op by its name, the same word
  print: { kind: "call", fn: "maxpool2d" },
  emit: {
    fusesInputs: false,
    storesOnce: () => true,
    kernel: (ctx) => {
      // One Math.max over the window's taps: branch-free, where a running compare
      // mispredicts on unordered data.
      const x = ctx.node.inputs[0]!;
      const win = poolWindow(ctx.node.attrs);
      const vars = fourVars(ctx);
      const [n, c, i, j] = vars.map(id) as [Expr, Expr, Expr, Expr];
      const body: js.Statement[] = [];
      const taps: Expr[] = [];
      for (let a = 0; a < win.kh; a++) {
        for (let b = 0; b < win.kw; b++) {
          taps.push(ctx.read(x, [n, c, plus(js.mul(i, num(win.stride)), num(a)), plus(js.mul(j, num(win.stride)), num(b))], body));
        }
      }
      // Stryker disable next-line ConditionalExpression: Math.max of one value is that value (-0 and NaN too)
      body.push(ctx.store(vars.map(id), taps.length === 1 ? taps[0]! : js.math("max", ...taps)));
      return [nest(vars, ctx.node.shape, ctx, body)];
    },
  },
};

/** maxpool2d_grad(x, g [pooled]; size, stride) -> shape of x: each g element added at its
 *  window's first maximum of x. Piecewise constant in x; linear in g. */
export const maxpool2dGrad: KernelDef = {
  name: "maxpool2d_grad", kind: "kernel", arity: 2, wasm: true,
  shape: ([x, g], attrs, span) => {
    expect("maxpool2d_grad", "the output gradient `g`", g!, poolShape("maxpool2d_grad", x!, attrs, span), span);
    return x!;
  },
  evaluate: ([x, g], attrs, out) => {
    const win = poolWindow(attrs);
    const data = new Float64Array(numel(out));
    // Windows that tile the plane route each element alone, -0 included (stored, as the
    // tiled kernel does); overlapping or spaced ones add up from +0.
    const tiles = win.stride === win.kh;
    forEach4(g!.shape, (n, c, i, j, flat) => {
      const at = firstMax(x!.data, out, win, n, c, i, j);
      data[at] = tiles ? g!.data[flat]! : data[at]! + g!.data[flat]!;
    });
    return data;
  },
  vjp: (b, h, node) => [null, b.op("maxpool2d_select", [node.inputs[0]!, h], node.attrs)],
  // Stryker disable next-line ObjectLiteral: without a print form the printer spells the op by its name, the same word
  print: { kind: "call", fn: "maxpool2d_grad" },
  emit: {
    fusesInputs: false,
    // Windows that tile the plane (stride = size) are written whole, each element's final
    // value stored last (tiledMaxpoolGrad).
    storesOnce: (node) => node.attrs.stride === node.attrs.size,
    kernel: (ctx) => {
      const [x, g] = ctx.node.inputs as [Node, Node];
      const win = poolWindow(ctx.node.attrs);
      if (win.stride === win.kh) return tiledMaxpoolGrad(ctx, win);
      const vars = fourVars(ctx);
      const [n, c, i, j] = vars.map(id) as [Expr, Expr, Expr, Expr];
      const body: js.Statement[] = [];
      const { ra, rb } = emitFirstMax(ctx, x, win, [n, c, i, j], body);
      const gv = ctx.read(g, [n, c, i, j], body);
      const s = num(win.stride);
      body.push(ctx.store([n, c, plus(js.mul(i, s), id(ra)), plus(js.mul(j, s), id(rb))], gv, "+="));
      return [zeroOutput(ctx), nest(vars, g.shape, ctx, body)];
    },
  },
};

/** maxpool2d_grad for windows that tile the plane: each window's taps are stored 0, then
 *  its first maximum is stored the gradient (the index held in locals, so no tap tests
 *  which one it is: that test mispredicts on unordered data); rows and columns past the
 *  last window are 0. Every element is stored with its final value last and nothing reads
 *  the output meanwhile, so an elementwise consumer can be fused. */
function tiledMaxpoolGrad(ctx: KernelContext, win: Window): js.Statement[] {
  const [x, g] = ctx.node.inputs as [Node, Node];
  const vars = fourVars(ctx);
  const [n, c, i, j] = vars.map(id) as [Expr, Expr, Expr, Expr];
  const body: js.Statement[] = [];
  const { ra, rb } = emitFirstMax(ctx, x, win, [n, c, i, j], body);
  const gv = ctx.fresh("g");
  body.push(js.declare("const", gv, ctx.read(g, [n, c, i, j], body)));
  const s = num(win.stride);
  // Stryker disable next-line EqualityOperator: a row of zeros too many (<=) lands on the next window's first row, stored again when that window is, or past the output
  for (let a = 0; a < win.kh; a++) {
    for (let b = 0; b < win.kw; b++) {
      body.push(ctx.store([n, c, plus(js.mul(i, s), num(a)), plus(js.mul(j, s), num(b))], num(0)));
    }
  }
  body.push(ctx.store([n, c, plus(js.mul(i, s), id(ra)), plus(js.mul(j, s), id(rb))], id(gv)));
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
  // Stryker disable next-line ConditionalExpression,EqualityOperator: with no rows left over the nest runs zero times
  if (covered[0]! < H) out.push(zero([covered[0]!, H], [0, W]));
  // Stryker disable next-line ConditionalExpression,EqualityOperator: with no columns left over the nest runs zero times
  if (covered[1]! < W) out.push(zero([0, covered[0]!], [covered[1]!, W]));
  return out;
}

/** maxpool2d_select(x, h [both shape of x]; size, stride) -> pooled: h at each window's
 *  first maximum of x (maxpool2d(x) is maxpool2d_select(x, x)). */
export const maxpool2dSelect: KernelDef = {
  name: "maxpool2d_select", kind: "kernel", arity: 2, wasm: true,
  shape: ([x, h], attrs, span) => {
    expect("maxpool2d_select", "the selected tensor `h`", h!, x!, span);
    return poolShape("maxpool2d_select", x!, attrs, span);
  },
  evaluate: ([x, h], attrs, out) => {
    const xs = x!.shape;
    const win = poolWindow(attrs);
    const data = new Float64Array(numel(out));
    forEach4(out, (n, c, i, j, flat) => { data[flat] = h!.data[firstMax(x!.data, xs, win, n, c, i, j)]!; });
    return data;
  },
  vjp: (b, g, node) => [null, b.op("maxpool2d_grad", [node.inputs[0]!, g], node.attrs)],
  // Stryker disable next-line ObjectLiteral: without a print form the printer spells the op by its name, the same word
  print: { kind: "call", fn: "maxpool2d_select" },
  emit: {
    fusesInputs: false,
    kernel: (ctx) => {
      const [x, h] = ctx.node.inputs as [Node, Node];
      const win = poolWindow(ctx.node.attrs);
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
  name: "avgpool2d", kind: "kernel", arity: 1, wasm: true,
  shape: ([x], attrs, span) => poolShape("avgpool2d", x!, attrs, span),
  evaluate: ([x], attrs, out) => {
    const xs = x!.shape;
    const win = poolWindow(attrs);
    const data = new Float64Array(numel(out));
    forEach4(out, (n, c, i, j, flat) => {
      let acc = -0;
      forEachTap(i, j, win, (_a, _b, h, v) => { acc += x!.data[at4(xs, n, c, h, v)]!; });
      data[flat] = acc / (win.kh * win.kw);
    });
    return data;
  },
  vjp: (b, g, node) => {
    const x = node.inputs[0]!;
    return [b.op("avgpool2d_grad", [g], { ...node.attrs, height: x.shape[2]!, width: x.shape[3]! })];
  },
  // Stryker disable next-line ObjectLiteral: without a print form the printer spells the op by its name, the same word
  print: { kind: "call", fn: "avgpool2d" },
  emit: {
    fusesInputs: false,
    kernel: (ctx) => {
      const x = ctx.node.inputs[0]!;
      const win = poolWindow(ctx.node.attrs);
      const vars = fourVars(ctx);
      const [n, c, i, j] = vars.map(id) as [Expr, Expr, Expr, Expr];
      const acc = ctx.fresh("acc");
      const taps = emitTaps(ctx, i, j, win, (_a, _b, h, v) => {
        const inner: js.Statement[] = [];
        inner.push(js.stmt(js.assign(id(acc), ctx.read(x, [n, c, h, v], inner), "+=")));
        return inner;
      });
      const body = [
        js.declare("let", acc, num(-0)),
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
  name: "avgpool2d_grad", kind: "kernel", arity: 1, wasm: true,
  shape: ([g], attrs, span) => {
    if (g!.length !== 4) fail("E0214", span, "avgpool2d_grad", `the output gradient must be [batch, channels, height, width], but this is ${formatShape(g!)}`);
    const { height, width } = attrs;
    if (!isInt(height, 1) || !isInt(width, 1)) fail("E0214", span, "avgpool2d_grad", "`height` and `width` must be positive integers");
    const out: Shape = [g![0]!, g![1]!, height, width];
    expect("avgpool2d_grad", "the output gradient `g`", g!, poolShape("avgpool2d_grad", out, attrs, span), span);
    return out;
  },
  evaluate: ([g], attrs, out) => {
    const win = poolWindow(attrs);
    const data = new Float64Array(numel(out));
    forEach4(g!.shape, (n, c, i, j, flat) => {
      const gv = g!.data[flat]! / (win.kh * win.kw);
      forEachTap(i, j, win, (_a, _b, h, v) => { data[at4(out, n, c, h, v)] += gv; });
    });
    return data;
  },
  vjp: (b, h, node) => [b.op("avgpool2d", [h], { size: node.attrs.size!, stride: node.attrs.stride! })],
  // Stryker disable next-line ObjectLiteral: without a print form the printer spells the op by its name, the same word
  print: { kind: "call", fn: "avgpool2d_grad" },
  emit: {
    fusesInputs: false,
    kernel: (ctx) => {
      const g = ctx.node.inputs[0]!;
      const win = poolWindow(ctx.node.attrs);
      const vars = fourVars(ctx);
      const [n, c, i, j] = vars.map(id) as [Expr, Expr, Expr, Expr];
      const gv = ctx.fresh("g");
      const body: js.Statement[] = [];
      const value = ctx.read(g, [n, c, i, j], body);
      body.push(js.declare("const", gv, js.binary("/", value, num(win.kh * win.kw))));
      body.push(emitTaps(ctx, i, j, win, (_a, _b, h, v) => [ctx.store([n, c, h, v], id(gv), "+=")]));
      return [zeroOutput(ctx), nest(vars, g.shape, ctx, body)];
    },
  },
};

export const poolOps: OpDef[] = [maxpool2d, maxpool2dGrad, maxpool2dSelect, avgpool2d, avgpool2dGrad];
