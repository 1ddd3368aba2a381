// Gradient checks over the op table (JAX `tests/lax_autodiff_test.py`, `check_grads`).
// Every registered op has a list of cases; for each, y = sum(op(xs) * r) with r a fixed
// random tensor, and in f64 at a seeded random point:
//   - first derivatives: <dy/dx_i, v> against central differences of y along a random v;
//   - second derivatives: y2 = sum_i sum(dy/dx_i * s_i), checked the same way;
//   - for inputs the op is linear in, the dot-product identity <v, vjp(u)> = <jvp(v), u>.
// Inputs that carry no gradient (comparisons, conditions, stop_gradient, sign, floor,
// max-pool routing) must get an exactly zero gradient. Sampling follows the elementwise
// ops' `gradDomain` and avoids kinks and ties. Set GRADCHECK_SEED to vary the points; a
// failure names the case and its seed.

import { describe, expect, it } from "vitest";
import "../../src/ops";
import { gradients } from "../../src/autodiff";
import { evaluate } from "../../src/interpret";
import { Graph, numel, stridesOf, type Attrs, type Node } from "../../src/ir";
import { allOps, broadcastShapes, buildScan, scanOutput, stackedScan, Builder, getOp, type ElementwiseDef, type GradDomain } from "../../src/ops";
import { convOutSize } from "../../src/ops/conv";
import { forEachIndex } from "../../src/ops/tensor";
import { rng as mulberry32 } from "../helpers/random";

// ---- the case table ----

interface Input {
  shape: number[];
  domain: GradDomain;
  /** All values distinct and well apart (max/min reductions, max pooling: no ties). */
  distinct?: boolean;
}

/** A condition on the values of some inputs at each element of their broadcast shape. */
interface Avoid {
  inputs: number[];
  ok: (xs: number[]) => boolean;
}

interface Case {
  name: string;
  inputs: Input[];
  build: (b: Builder, xs: Node[]) => Node;
  avoid?: Avoid[];
  /** Inputs that must get no gradient (exactly zero). */
  noGrad?: number[];
  /** The zero gradient is by definition, not the function's derivative (stop_gradient):
   *  no central differences. */
  blocked?: boolean;
  /** Inputs the op is linear in (others fixed): the dot-product identity. */
  linear?: number[];
  /** The case itself, built inside its test: its shapes need code under test (conv output
   *  sizes), and code run while tests are collected makes every mutant there "static". */
  make?: () => Case;
}

/** A case named now and built when its test runs. */
const later = (name: string, make: () => Case): Case => ({ name, inputs: [], build: () => { throw new Error("built later"); }, make });

// No inputs, nothing to differentiate: graph inputs, constants, index patterns, literals.
const SOURCES = new Set(["input", "const", "iota", "size", "arange", "tensor", "rand", "randn", "training", "scan_arg"]);
const DEFAULT: GradDomain = { lo: -2, hi: 2 };
const notZero = (xs: number[]) => xs.every((x) => Math.abs(x) > 0.3);
const fmt = (s: readonly unknown[]) => `[${s.join(", ")}]`;
const input = (shape: number[], domain: GradDomain = DEFAULT): Input => ({ shape, domain });
const distinct = (shape: number[]): Input => ({ shape, domain: DEFAULT, distinct: true });
const all = (n: number) => Array.from({ length: n }, (_, i) => i);

/** A non-elementwise op applied directly: `op(xs; attrs)`. */
function direct(op: string, inputs: Input[], attrs: Attrs, extra: Partial<Case> = {}): Case {
  const shown = Object.entries(attrs).map(([k, v]) => `${k}=${Array.isArray(v) ? fmt(v) : String(v)}`).join(" ");
  return {
    name: `${inputs.map((i) => fmt(i.shape)).join(" ")}${shown ? ` ${shown}` : ""}`,
    inputs, build: (b, xs) => b.op(op, xs, attrs), ...extra,
  };
}

/** An elementwise op through the builder (so unequal shapes broadcast), sampled in its
 *  `gradDomain`: one domain's `avoid` sees the tuple of all inputs at an element, a
 *  per-input domain's `avoid` sees that input's value. */
function elementwise(name: string, shapes: number[][], extra: Partial<Case> = {}): Case {
  const op = getOp(name) as ElementwiseDef;
  const gd = op.gradDomain ?? DEFAULT;
  const inputs = shapes.map((shape, i) => {
    const d = Array.isArray(gd) ? gd[i]! : gd;
    return input(shape, Array.isArray(gd) ? d : { lo: d.lo, hi: d.hi });
  });
  const avoid = !Array.isArray(gd) && gd.avoid ? [{ inputs: all(shapes.length), ok: gd.avoid }] : [];
  const build = (b: Builder, xs: Node[]): Node => {
    if (xs.length === 1) return b.unary(name, xs[0]!);
    if (xs.length === 2) return b.binary(name, xs[0]!, xs[1]!);
    if (name === "where") return b.where(xs[0]!, xs[1]!, xs[2]!);
    throw new Error(`no builder for ${name}`);
  };
  return { name: shapes.map(fmt).join(" "), inputs, build, avoid, ...extra };
}

const unaryCases = (name: string, extra: Partial<Case> = {}) =>
  [elementwise(name, [[2, 3]], extra), elementwise(name, [[]], extra)];
const binaryCases = (name: string, extra: Partial<Case> = {}) => [
  elementwise(name, [[2, 3], [2, 3]], extra),
  elementwise(name, [[3, 1], [4]], extra),
  elementwise(name, [[4], [3, 1]], extra),
  elementwise(name, [[], [2, 3]], extra),
  elementwise(name, [[2, 1, 3], [4, 1]], extra),
];

/** Reductions over every kind of axis set: single, leading, interior, trailing, several, all. */
const AXES: [number[], number[]][] = [
  [[5], [0]],
  [[2, 3, 4], [0]], [[2, 3, 4], [1]], [[2, 3, 4], [2]],
  [[2, 3, 4], [0, 1]], [[2, 3, 4], [1, 2]], [[2, 3, 4], [0, 2]], [[2, 3, 4], [0, 1, 2]],
  [[2, 3, 2, 3], [1, 2]], [[2, 3, 2, 3], [0, 3]],
];
const reductionCases = (op: string, sample: (shape: number[]) => Input, extra: Partial<Case> = {}) =>
  AXES.map(([shape, axes]) => direct(op, [sample(shape)], { axes }, extra));

/** Convolutions over the attribute space: per-axis stride and padding, dilation, groups
 *  (depthwise with a channel multiplier), 1-d and 2-d. */
interface ConvGeometry { x: number[]; w: number[]; stride: number[]; padding: number[]; dilation: number[]; groups: number }
const conv2 = (n: number, c: number, o: number, h: number, w: number, kh: number, kw: number, stride: number, padding: number): ConvGeometry =>
  ({ x: [n, c, h, w], w: [o, c, kh, kw], stride: [stride, stride], padding: [padding, padding], dilation: [1, 1], groups: 1 });
const GEOMETRIES: ConvGeometry[] = [
  conv2(2, 3, 4, 5, 5, 3, 3, 1, 0),
  conv2(1, 2, 3, 6, 5, 3, 3, 2, 1),
  conv2(2, 2, 2, 4, 5, 3, 2, 1, 1),
  conv2(1, 2, 2, 7, 6, 3, 3, 2, 0),
  conv2(1, 3, 2, 3, 3, 1, 1, 2, 1),
  { x: [1, 2, 7, 6], w: [2, 2, 2, 3], stride: [2, 1], padding: [1, 2], dilation: [2, 1], groups: 1 },
  { x: [2, 4, 5, 5], w: [6, 2, 3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 2 },
  { x: [1, 3, 6, 6], w: [6, 1, 3, 3], stride: [2, 2], padding: [1, 1], dilation: [1, 1], groups: 3 },
  { x: [2, 3, 9], w: [2, 3, 3], stride: [1], padding: [0], dilation: [1], groups: 1 },
  { x: [1, 4, 11], w: [4, 2, 3], stride: [2], padding: [2], dilation: [2], groups: 2 },
];
const geometryName = (g: ConvGeometry) =>
  `x=${fmt(g.x)} w=${fmt(g.w)} stride=${fmt(g.stride)} padding=${fmt(g.padding)} dilation=${fmt(g.dilation)} groups=${g.groups}`;
const convAttrs = (g: ConvGeometry) => ({ stride: g.stride, padding: g.padding, dilation: g.dilation, groups: g.groups });
const convShapes = (g: ConvGeometry) => {
  const out = g.x.slice(2).map((size, e) => convOutSize(size, g.w[e + 2]!, g.stride[e]!, g.padding[e]!, g.dilation[e]!));
  // what conv's vjp passes its input gradient: how far the input reaches past the last window
  const outputPadding = g.x.slice(2).map((size, e) =>
    size - ((out[e]! - 1) * g.stride[e]! - 2 * g.padding[e]! + g.dilation[e]! * (g.w[e + 2]! - 1) + 1));
  return { x: g.x, w: g.w, y: [g.x[0]!, g.w[0]!, ...out], outputPadding, kernel: g.w.slice(2) };
};

interface PoolGeometry { shape: number[]; size: number; stride: number }
const POOLS: PoolGeometry[] = [
  { shape: [2, 2, 4, 4], size: 2, stride: 2 },
  { shape: [1, 2, 7, 7], size: 3, stride: 2 },
  { shape: [1, 1, 4, 5], size: 2, stride: 1 },
  { shape: [1, 1, 6, 8], size: 3, stride: 2 },
];
const pooled = (p: PoolGeometry) =>
  [p.shape[0]!, p.shape[1]!, convOutSize(p.shape[2]!, p.size, p.stride, 0), convOutSize(p.shape[3]!, p.size, p.stride, 0)];

const comparison = { noGrad: [0, 1] };

/** take / scatter_add with constant ids (a `tensor` literal, repeats included): the ids
 *  are not an input, so they get no gradient to check. */
const GATHERS: { x: number[]; ids: number | number[] | number[][]; axis: number }[] = [
  { x: [5, 3], ids: [0, 4, 2, 4], axis: 0 },
  { x: [2, 5, 3], ids: [[1, 0], [4, 1]], axis: 1 },
  { x: [4, 3], ids: 2, axis: 1 },
  { x: [6], ids: [[5, 0], [3, 3], [1, 2]], axis: 0 },
  { x: [2, 3, 4], ids: [3, 0, 3], axis: 2 },
];
const idsShape = (ids: number | number[] | number[][]): number[] =>
  typeof ids === "number" ? [] : Array.isArray(ids[0]) ? [ids.length, (ids[0] as number[]).length] : [ids.length];
const gathered = (g: (typeof GATHERS)[number]) => [...g.x.slice(0, g.axis), ...idsShape(g.ids), ...g.x.slice(g.axis + 1)];

const table: Record<string, Case[]> = {
  // elementwise
  neg: unaryCases("neg"), exp: unaryCases("exp"), log: unaryCases("log"), log1p: unaryCases("log1p"),
  expm1: unaryCases("expm1"), sqrt: unaryCases("sqrt"), abs: unaryCases("abs"), sin: unaryCases("sin"),
  cos: unaryCases("cos"), tan: unaryCases("tan"), asin: unaryCases("asin"), acos: unaryCases("acos"),
  atan: unaryCases("atan"), tanh: unaryCases("tanh"), sinh: unaryCases("sinh"), cosh: unaryCases("cosh"),
  sigmoid: unaryCases("sigmoid"), relu: unaryCases("relu"), softplus: unaryCases("softplus"),
  sign: unaryCases("sign", { noGrad: [0] }), floor: unaryCases("floor", { noGrad: [0] }),
  ceil: unaryCases("ceil", { noGrad: [0] }), trunc: unaryCases("trunc", { noGrad: [0] }),
  round: unaryCases("round", { noGrad: [0] }), erf: unaryCases("erf"),
  mod: binaryCases("mod"),
  stop_gradient: unaryCases("stop_gradient", { noGrad: [0], blocked: true }),
  add: binaryCases("add", { linear: [0, 1] }), sub: binaryCases("sub", { linear: [0, 1] }),
  mul: binaryCases("mul", { linear: [0, 1] }), div: binaryCases("div", { linear: [0] }),
  pow: [
    ...binaryCases("pow"),
    // a constant exponent: broadcast (a tensor base) and bare (a scalar base, no d/de)
    { ...elementwise("pow", [[2, 3]]), name: "[2, 3] ^ 3", build: (b, [a]) => b.binary("pow", a!, b.constant(3)) },
    { ...elementwise("pow", [[]]), name: "[] ^ 2.5", build: (b, [a]) => b.op("pow", [a!, b.constant(2.5)]) },
    // every path of the rule's constant-exponent resolution (0: none, 1: g, 2: 2 a, else
    // c a^(c-1)), and a constant base (no mask at a nonzero base)
    ...[0, 1, 2, 0.5, -1].map((c) => ({ ...elementwise("pow", [[2, 3]]), name: `[2, 3] ^ ${c}`, build: (b: Builder, [a]: Node[]) => b.binary("pow", a!, b.constant(c)) })),
    { ...elementwise("pow", [[3]]), name: "2 ^ [3]", build: (b, [e]) => b.binary("pow", b.constant(2), e!) },
  ],
  maximum: binaryCases("maximum"), minimum: binaryCases("minimum"),
  lt: binaryCases("lt", comparison), le: binaryCases("le", comparison), gt: binaryCases("gt", comparison),
  ge: binaryCases("ge", comparison), eq: binaryCases("eq", comparison), ne: binaryCases("ne", comparison),
  where: [
    elementwise("where", [[2, 3], [2, 3], [2, 3]], { noGrad: [0], linear: [1, 2] }),
    elementwise("where", [[3, 1], [4], [3, 4]], { noGrad: [0], linear: [1, 2] }),
    elementwise("where", [[4], [], [3, 1]], { noGrad: [0], linear: [1, 2] }),
  ],

  // movement
  broadcast: [
    { x: [3], shape: [2, 3], dims: [1] },
    { x: [3], shape: [3, 4], dims: [0] },
    { x: [3, 1], shape: [3, 4], dims: [0, 1] },
    { x: [2, 1, 3], shape: [2, 4, 3], dims: [0, 1, 2] },
    { x: [3, 1], shape: [3, 4, 5], dims: [0, 2] },
    { x: [1], shape: [5], dims: [0] },
    { x: [], shape: [2, 3], dims: [] },
    { x: [1, 3], shape: [2, 1, 3], dims: [1, 2] },
  ].map(({ x, shape, dims }) => direct("broadcast", [input(x)], { shape, dims }, { linear: [0] })),
  reshape: [
    { x: [2, 3, 4], shape: [6, 4] }, { x: [2, 3, 4], shape: [4, 6] }, { x: [2, 3, 4], shape: [24] },
    { x: [2, 3, 4], shape: [1, 24, 1] }, { x: [6], shape: [3, 2] }, { x: [1], shape: [] }, { x: [], shape: [1, 1] },
  ].map(({ x, shape }) => direct("reshape", [input(x)], { shape }, { linear: [0] })),
  transpose: [
    { x: [3, 4], perm: [1, 0] }, { x: [2, 3, 4], perm: [0, 2, 1] }, { x: [2, 3, 4], perm: [2, 0, 1] },
    { x: [2, 3, 4], perm: [1, 2, 0] }, { x: [2, 3, 4], perm: [2, 1, 0] }, { x: [2, 3, 2, 3], perm: [0, 3, 1, 2] },
  ].map(({ x, perm }) => direct("transpose", [input(x)], { perm }, { linear: [0] })),
  slice: [
    { x: [6], begin: [1], step: [2], shape: [3] },
    { x: [6], begin: [5], step: [-1], shape: [6] },
    { x: [7], begin: [6], step: [-3], shape: [3] },
    { x: [5, 4], begin: [1, 0], step: [1, 1], shape: [3, 4] },
    { x: [5, 4], begin: [4, 0], step: [-2, 1], shape: [3, 4] },
    { x: [5, 6], begin: [1, 5], step: [2, -3], shape: [2, 2] },
    { x: [2, 5, 3], begin: [1, 0, 2], step: [1, 2, -1], shape: [1, 3, 3] },
  ].map(({ x, ...attrs }) => direct("slice", [input(x)], attrs, { linear: [0] })),
  pad: [
    { x: [3], pad_width: [[1, 3]], value: 0 },
    { x: [3], pad_width: [[0, 2]], value: -1.5 },
    { x: [2, 3], pad_width: [[1, 1], [0, 2]], value: 0 },
    { x: [2, 2], pad_width: [[0, 0], [3, 0]], value: 2 },
    { x: [1, 3, 3], pad_width: [[1, 0], [0, 2], [1, 1]], value: 0 },
  ].map(({ x, ...attrs }) => direct("pad", [input(x)], attrs, { linear: attrs.value === 0 ? [0] : [] })),
  flip: [
    { x: [5], axis: [0] }, { x: [2, 3], axis: [1] }, { x: [2, 3], axis: [0, 1] }, { x: [2, 3, 4], axis: [0, 2] },
  ].map(({ x, axis }) => direct("flip", [input(x)], { axis }, { linear: [0] })),
  concat: [
    { xs: [[2], [3]], axis: 0 },
    { xs: [[2, 3], [1, 3], [3, 3]], axis: 0 },
    { xs: [[2, 3], [2, 1], [2, 2]], axis: 1 },
    { xs: [[2, 1, 3], [2, 2, 3]], axis: 1 },
    { xs: [[2, 3, 1], [2, 3, 2], [2, 3, 1]], axis: 2 },
    { xs: [[2, 3]], axis: 1 },
  ].map(({ xs, axis }) => direct("concat", xs.map((s) => input(s)), { axis }, { linear: all(xs.length) })),

  // gathering by constant ids
  take: GATHERS.map((g) => ({
    name: `${fmt(g.x)} ids=${JSON.stringify(g.ids)} axis=${g.axis}`, inputs: [input(g.x)], linear: [0],
    build: (b: Builder, [x]: Node[]) => b.op("take", [x!, b.op("tensor", [], { values: g.ids })], { axis: g.axis }),
  })),
  scatter_add: GATHERS.map((g) => ({
    name: `${fmt(gathered(g))} ids=${JSON.stringify(g.ids)} size=${g.x[g.axis]} axis=${g.axis}`, inputs: [input(gathered(g))], linear: [0],
    build: (b: Builder, [x]: Node[]) => b.op("scatter_add", [x!, b.op("tensor", [], { values: g.ids })], { size: g.x[g.axis]!, axis: g.axis }),
  })),

  // reductions
  sum: reductionCases("sum", (s) => input(s), { linear: [0] }),
  prod: reductionCases("prod", (s) => input(s, { lo: -1.5, hi: 1.5, avoid: notZero })),
  max: reductionCases("max", distinct),
  min: reductionCases("min", distinct),
  argmax: reductionCases("argmax", distinct, { noGrad: [0] }),
  argmin: reductionCases("argmin", distinct, { noGrad: [0] }),
  cumsum: [
    { x: [5], axis: 0 }, { x: [2, 3], axis: 0 }, { x: [2, 3], axis: 1 }, { x: [2, 3, 4], axis: 1 }, { x: [2, 3, 4], axis: 2 },
  ].map(({ x, axis }) => direct("cumsum", [input(x)], { axis }, { linear: [0] })),

  // linear algebra
  matmul: [
    [[3, 4], [4, 2]], [[1, 3], [3, 1]], [[4, 1], [1, 3]], [[2, 3, 4], [2, 4, 5]], [[1, 2, 2], [1, 2, 3]],
    // any rank: batch dims (equal in the primitive; lowering broadcasts them)
    [[2, 2, 3, 4], [2, 2, 4, 3]], [[2, 1, 2, 2, 3], [2, 1, 2, 3, 2]],
  ].map(([a, c]) => direct("matmul", [input(a!), input(c!)], {}, { linear: [0, 1] })),

  // convolution and pooling
  conv: GEOMETRIES.map((g) => later(geometryName(g), () => {
    const s = convShapes(g);
    return direct("conv", [input(s.x), input(s.w)], convAttrs(g), { linear: [0, 1] });
  })),
  conv_input_grad: GEOMETRIES.map((g) => later(geometryName(g), () => {
    const s = convShapes(g);
    return direct("conv_input_grad", [input(s.y), input(s.w)], { ...convAttrs(g), output_padding: s.outputPadding }, { linear: [0, 1] });
  })),
  conv_weight_grad: GEOMETRIES.map((g) => later(geometryName(g), () => {
    const s = convShapes(g);
    return direct("conv_weight_grad", [input(s.x), input(s.y)], { ...convAttrs(g), kernel_size: s.kernel }, { linear: [0, 1] });
  })),
  maxpool2d: POOLS.map((p) => direct("maxpool2d", [distinct(p.shape)], { size: p.size, stride: p.stride })),
  maxpool2d_grad: POOLS.map((p) => later(`${fmt(p.shape)} size=${p.size} stride=${p.stride}`, () =>
    direct("maxpool2d_grad", [distinct(p.shape), input(pooled(p))], { size: p.size, stride: p.stride }, { noGrad: [0], linear: [1] }))),
  maxpool2d_select: POOLS.map((p) =>
    direct("maxpool2d_select", [distinct(p.shape), input(p.shape)], { size: p.size, stride: p.stride }, { noGrad: [0], linear: [1] })),
  avgpool2d: POOLS.map((p) => direct("avgpool2d", [input(p.shape)], { size: p.size, stride: p.stride }, { linear: [0] })),
  avgpool2d_grad: POOLS.map((p) => later(`${fmt(p.shape)} size=${p.size} stride=${p.stride}`, () =>
    direct("avgpool2d_grad", [input(pooled(p))], { size: p.size, stride: p.stride, height: p.shape[2]!, width: p.shape[3]! }, { linear: [0] }))),
  // a loop: inputs are init, xs, then a captured weight (matmul, elementwise, a reduction)
  scan: [
    { name: "rnn cell, T = 3", steps: 3, reverse: false },
    { name: "rnn cell, T = 1", steps: 1, reverse: false },
    { name: "rnn cell run backwards, T = 4", steps: 4, reverse: true },
  ].map(({ name, steps, reverse }): Case => ({
    name,
    inputs: [input([2, 3], { lo: -1, hi: 1 }), input([steps, 2, 3], { lo: -1, hi: 1 }), input([3, 3], { lo: -1, hi: 1 })],
    build: (b, [h, xs, w]) => stackedScan(b, h!, [xs!], (c, [x]) => {
      const pre = b.add(b.add(b.op("matmul", [c, w!]), x!), b.broadcastTo(b.reshape(b.sum(b.mul(c, c), [1]), [2, 1]), [2, 3]));
      return b.unary("tanh", b.mul(pre, b.constant(0.5)));
    }, { reverse }),
  })),
  // a loop's outputs: two carries (the final ones read) and a y that is not a carry (so
  // its gradient saves the carries), forwards and backwards
  scan_out: [false, true].map((reverse): Case => ({
    name: `two carries and a y, ${reverse ? "run backwards" : "forwards"}`,
    inputs: [input([2, 3], { lo: -1, hi: 1 }), input([3], { lo: -1, hi: 1 }), input([4, 2, 3], { lo: -1, hi: 1 }), input([3, 3], { lo: -1, hi: 1 })],
    build: (b, [h, c, xs, w]) => {
      const loop = buildScan(b, [h!, c!], [xs!], ([hh, cc], [x]) => {
        const nh = b.unary("tanh", b.add(b.op("matmul", [hh!, w!]), b.mul(x!, b.broadcastTo(cc!, [2, 3]))));
        const nc = b.add(b.mul(cc!, b.constant(0.9, [3])), b.mul(b.sum(nh, [0]), b.constant(0.1, [3])));
        return [nh, nc, b.mul(b.unary("sin", nh), hh!)];
      }, { reverse });
      const ys = scanOutput(b, loop, 2);
      return b.add(b.add(ys, b.broadcastTo(scanOutput(b, loop, 0), [4, 2, 3])), b.broadcastTo(scanOutput(b, loop, 1), [4, 2, 3]));
    },
  })),
};

// ---- sampling ----


/** A seed per case from its label, so one case reproduces alone. */
function seedOf(label: string): number {
  let h = (Number(process.env.GRADCHECK_SEED ?? 0) ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 16777619) >>> 0;
  return h;
}

const uniform = (n: number, lo: number, hi: number, rand: () => number) =>
  Float64Array.from({ length: n }, () => lo + (hi - lo) * rand());

/** n values in [lo, hi], each in its own slot of width (hi - lo) / n, shuffled: any two
 *  differ by at least 0.2 of a slot. */
function distinctValues(n: number, lo: number, hi: number, rand: () => number): Float64Array {
  const slot = (hi - lo) / n;
  const out = Float64Array.from({ length: n }, (_, i) => lo + slot * (i + 0.1 + 0.8 * rand()));
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The flat offset in a tensor of `shape` read by element `idx` of its NumPy broadcast. */
function broadcastOffset(shape: readonly number[], idx: readonly number[]): number {
  const strides = stridesOf(shape);
  const skip = idx.length - shape.length;
  let o = 0;
  for (let k = 0; k < shape.length; k++) if (shape[k] !== 1) o += idx[k + skip]! * strides[k]!;
  return o;
}

/** A random point in the case's domain, resampling elements until every `avoid` holds. */
function samplePoint(c: Case, rand: () => number): Float64Array[] {
  const values = c.inputs.map((x) =>
    (x.distinct ? distinctValues : uniform)(numel(x.shape), x.domain.lo, x.domain.hi, rand));
  const checks: Avoid[] = [
    ...(c.avoid ?? []),
    ...c.inputs.flatMap((x, i) => (x.domain.avoid ? [{ inputs: [i], ok: x.domain.avoid }] : [])),
  ];
  for (let round = 0; ; round++) {
    if (round > 1000) throw new Error(`${c.name}: cannot sample a point avoiding the domain's kinks`);
    let clean = true;
    for (const check of checks) {
      const shapes = check.inputs.map((i) => c.inputs[i]!.shape);
      forEachIndex(broadcastShapes(shapes, undefined) as number[], (idx) => {
        const at = shapes.map((s) => broadcastOffset(s, idx));
        if (check.ok(check.inputs.map((i, k) => values[i]![at[k]!]!))) return;
        clean = false;
        check.inputs.forEach((i, k) => {
          const d = c.inputs[i]!.domain;
          values[i]![at[k]!] = d.lo + (d.hi - d.lo) * rand();
        });
      });
    }
    if (clean) return values;
  }
}

// ---- checks ----

const H = 1e-6;
const RTOL = 1e-5;
const ATOL = 1e-7;

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const close = (a: number, b: number, rtol: number, atol: number) =>
  Math.abs(a - b) <= atol + rtol * Math.max(Math.abs(a), Math.abs(b));

type Point = Map<string, Float64Array>;

function run(roots: Node[], point: Point): Float64Array[] {
  const results = evaluate(roots, { values: point });
  return roots.map((r) => results.get(r)!.data);
}

/** `point` with input `name` moved by t * v. */
function shifted(point: Point, name: string, v: Float64Array, t: number): Point {
  const moved = new Map(point);
  moved.set(name, point.get(name)!.map((x, k) => x + t * v[k]!));
  return moved;
}

/** d scalar / d xs against central differences along a random direction, input by input. */
function checkGradients(
  label: string, b: Builder, y: Node, xs: Node[], point: Point, rand: () => number, noGrad: number[], blocked: boolean,
): void {
  const grads = gradients(b, y, xs);
  const values = run(grads, point);
  xs.forEach((x, i) => {
    const name = x.attrs.name as string;
    const g = values[i]!;
    expect(g.every(Number.isFinite), `${label}: d/d${name} is not finite: ${fmt([...g])}`).toBe(true);
    if (noGrad.includes(i)) {
      expect(g.every((e) => e === 0), `${label}: d/d${name} should be zero: ${fmt([...g])}`).toBe(true);
      if (blocked) return;
    }
    const v = uniform(g.length, -1, 1, rand);
    const analytic = dot(g, v);
    const [plus] = run([y], shifted(point, name, v, H));
    const [minus] = run([y], shifted(point, name, v, -H));
    const numeric = (plus![0]! - minus![0]!) / (2 * H);
    expect(close(analytic, numeric, RTOL, ATOL),
      `${label}: d/d${name}: <grad, v> = ${analytic}, central difference = ${numeric}`).toBe(true);
  });
}

const total = (b: Builder, t: Node) => b.sum(t, t.shape.map((_, k) => k));

function checkCase(op: string, lazy: Case): void {
  const c = lazy.make ? { ...lazy.make(), name: lazy.name } : lazy;
  const label = `${op} ${c.name}`;
  const seed = seedOf(label);
  const where = `${label} (seed ${seed})`;
  const rand = mulberry32(seed);
  const b = new Builder(new Graph(), undefined);
  const xs = c.inputs.map((x, i) => b.input(`x${i}`, "param", x.shape));
  const out = c.build(b, xs);
  expect(topOps(out), `${where}: the graph does not use ${op}`).toContain(op);
  const r = b.input("r", "param", out.shape);
  const y = total(b, b.mul(out, r));
  const point: Point = new Map(samplePoint(c, rand).map((v, i) => [`x${i}`, v]));
  point.set("r", uniform(numel(out.shape as number[]), -1, 1, rand));
  const noGrad = c.noGrad ?? [];

  // first derivatives
  checkGradients(`${where} first order`, b, y, xs, point, rand, noGrad, c.blocked ?? false);

  // second derivatives: y2 = sum_i sum(dy/dx_i * s_i)
  const g1 = gradients(b, y, xs);
  const y2 = g1.map((g, i) => {
    const s = b.input(`s${i}`, "param", g.shape);
    point.set(`s${i}`, uniform(numel(g.shape as number[]), -1, 1, rand));
    return total(b, b.mul(g, s));
  }).reduce((a, t) => b.add(a, t));
  checkGradients(`${where} second order`, b, y2, xs, point, rand, noGrad, c.blocked ?? false);

  // dot-product identity <v, vjp(u)> = <jvp(v), u>, u = r, jvp by central difference with
  // a unit step (exact up to rounding for a function affine in x_i)
  for (const i of c.linear ?? []) {
    const name = `x${i}`;
    const [vjp] = run([g1[i]!], point);
    const v = uniform(vjp!.length, -1, 1, rand);
    const [plus] = run([out], shifted(point, name, v, 1));
    const [minus] = run([out], shifted(point, name, v, -1));
    const jvp = plus!.map((p, k) => (p - minus![k]!) / 2);
    const lhs = dot(v, vjp!);
    const rhs = dot(jvp, point.get("r")!);
    expect(close(lhs, rhs, 1e-10, 1e-12), `${where} dot product in ${name}: <v, vjp(u)> = ${lhs}, <jvp(v), u> = ${rhs}`).toBe(true);
  }
}

/** The ops in the graph of `n` (the case's op may sit under a builder broadcast). */
function topOps(n: Node): string[] {
  const seen = new Set<string>();
  const walk = (m: Node) => {
    seen.add(m.op.name);
    m.inputs.forEach(walk);
  };
  walk(n);
  return [...seen];
}

// ---- the tests ----

describe("gradcheck table", () => {
  it("has cases for every registered op", () => {
    const missing = allOps().map((o) => o.name).filter((n) => !SOURCES.has(n) && !(table[n]?.length));
    expect(missing).toEqual([]);
  });
  it("names only registered ops", () => {
    const known = new Set(allOps().map((o) => o.name));
    expect(Object.keys(table).filter((n) => !known.has(n))).toEqual([]);
  });
});

for (const [op, cases] of Object.entries(table)) {
  describe(op, () => {
    for (const c of cases) it(c.name, () => checkCase(op, c));
  });
}
