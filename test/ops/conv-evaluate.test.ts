// Reference semantics of the conv and pool records: `evaluate` against independent
// brute-force formulas (explicitly padded input, dilated taps, groups as separate channel
// slices; conv1d as a conv2d of height 1; transposes taken column by column from basis
// vectors), the adjoint identities between each op and its derivative ops, the vjp rules
// (built through a minimal builder) against central differences, and the shape rules.

import { describe, expect, it } from "vitest";
import { GradcError } from "../../src/diagnostics";
import { Graph, numel, type Attrs, type Node, type OpDef, type Shape, type Tensor } from "../../src/ir";
import { conv, convInputGrad, convOps, convWeightGrad } from "../../src/ops/conv";
import { avgpool2d, avgpool2dGrad, maxpool2d, maxpool2dGrad, maxpool2dSelect } from "../../src/ops/pool";
import { rng } from "../helpers/random";

const env = { dims: new Map<string, number>(), values: new Map<string, Tensor>() };


const tensor = (shape: number[], data: Float64Array): Tensor => ({ shape, data });
const random = (shape: number[], r: () => number): Tensor =>
  tensor(shape, Float64Array.from({ length: numel(shape) }, () => r() * 2 - 1));
/** Small integers, so windows have ties. */
const ties = (shape: number[], r: () => number): Tensor =>
  tensor(shape, Float64Array.from({ length: numel(shape) }, () => Math.floor(r() * 3)));
const basis = (shape: number[], k: number): Tensor => {
  const data = new Float64Array(numel(shape));
  data[k] = 1;
  return tensor(shape, data);
};

function run(op: OpDef, inputs: Tensor[], attrs: Attrs): Tensor {
  const out = op.shape(inputs.map((t) => t.shape), attrs, undefined, []) as number[];
  return tensor(out, op.evaluate!(inputs, attrs, out, env));
}

const dot = (a: Tensor, b: Tensor): number => {
  expect(a.shape).toEqual(b.shape);
  let s = 0;
  for (let k = 0; k < a.data.length; k++) s += a.data[k]! * b.data[k]!;
  return s;
};

function expectClose(actual: Tensor, expected: Tensor, tol = 1e-12): void {
  expect(actual.shape).toEqual(expected.shape);
  for (let k = 0; k < expected.data.length; k++) {
    expect(Math.abs(actual.data[k]! - expected.data[k]!)).toBeLessThanOrEqual(tol * (1 + Math.abs(expected.data[k]!)));
  }
}

const idx4 = (s: readonly number[], a: number, b: number, c: number, d: number) => ((a * s[1]! + b) * s[2]! + c) * s[3]! + d;

// ---- brute-force references ----

interface Geo { stride: number[]; padding: number[]; dilation: number[]; groups: number }

/** 2-d grouped, dilated cross-correlation by its definition, on an explicitly padded copy. */
function bruteConv2d(x: Tensor, w: Tensor, geo: Geo): Tensor {
  const [N, C, H, W] = x.shape as number[];
  const [O, Cg, KH, KW] = w.shape as number[];
  const [sh, sw] = geo.stride as [number, number];
  const [ph, pw] = geo.padding as [number, number];
  const [dh, dw] = geo.dilation as [number, number];
  const ps = [N!, C!, H! + 2 * ph, W! + 2 * pw];
  const xp = new Float64Array(numel(ps));
  for (let n = 0; n < N!; n++) for (let c = 0; c < C!; c++) for (let h = 0; h < H!; h++) for (let v = 0; v < W!; v++) {
    xp[idx4(ps, n, c, h + ph, v + pw)] = x.data[idx4(x.shape, n, c, h, v)]!;
  }
  const OH = Math.floor((ps[2]! - dh * (KH! - 1) - 1) / sh) + 1;
  const OW = Math.floor((ps[3]! - dw * (KW! - 1) - 1) / sw) + 1;
  const os = [N!, O!, OH, OW];
  const y = new Float64Array(numel(os));
  const filtersPerGroup = O! / geo.groups;
  for (let n = 0; n < N!; n++) for (let o = 0; o < O!; o++) for (let i = 0; i < OH; i++) for (let j = 0; j < OW; j++) {
    const group = Math.floor(o / filtersPerGroup);
    let acc = 0;
    for (let c = 0; c < Cg!; c++) for (let a = 0; a < KH!; a++) for (let b = 0; b < KW!; b++) {
      acc += xp[idx4(ps, n, group * Cg! + c, i * sh + a * dh, j * sw + b * dw)]! * w.data[idx4(w.shape, o, c, a, b)]!;
    }
    y[idx4(os, n, o, i, j)] = acc;
  }
  return tensor(os, y);
}

/** conv1d as conv2d over a plane of height 1. */
function bruteConv(x: Tensor, w: Tensor, geo: Geo): Tensor {
  if (x.shape.length === 4) return bruteConv2d(x, w, geo);
  const up = (t: Tensor) => tensor([t.shape[0]!, t.shape[1]!, 1, t.shape[2]!], t.data);
  const y = bruteConv2d(up(x), up(w), { stride: [1, geo.stride[0]!], padding: [0, geo.padding[0]!], dilation: [1, geo.dilation[0]!], groups: geo.groups });
  return tensor([y.shape[0]!, y.shape[1]!, y.shape[3]!], y.data);
}

/** The windows of a pool: for each pooled element, the flat offsets of its taps in x, row-major. */
function windows(shape: readonly number[], size: number, stride: number): { out: number[]; taps: number[][] } {
  const [N, C, H, W] = shape as number[];
  const OH = Math.floor((H! - size) / stride) + 1;
  const OW = Math.floor((W! - size) / stride) + 1;
  const taps: number[][] = [];
  for (let n = 0; n < N!; n++) for (let c = 0; c < C!; c++) for (let i = 0; i < OH; i++) for (let j = 0; j < OW; j++) {
    const t: number[] = [];
    for (let a = 0; a < size; a++) for (let b = 0; b < size; b++) t.push(idx4(shape, n, c, i * stride + a, j * stride + b));
    taps.push(t);
  }
  return { out: [N!, C!, OH, OW], taps };
}

function bruteMaxArg(x: Tensor, size: number, stride: number): { out: number[]; arg: number[] } {
  const { out, taps } = windows(x.shape, size, stride);
  return {
    out,
    arg: taps.map((t) => {
      const vals = t.map((o) => x.data[o]!);
      return t[vals.indexOf(Math.max(...vals))]!;
    }),
  };
}

function bruteAvg(x: Tensor, size: number, stride: number): Tensor {
  const { out, taps } = windows(x.shape, size, stride);
  return tensor(out, Float64Array.from(taps, (t) => t.reduce((s, o) => s + x.data[o]!, 0) / (size * size)));
}

/** The transpose of a linear map f at g: column k is <g, f(e_k)>. */
function transposeAt(shape: number[], f: (e: Tensor) => Tensor, g: Tensor): Tensor {
  return tensor(shape, Float64Array.from({ length: numel(shape) }, (_, k) => dot(f(basis(shape, k)), g)));
}

// ---- cases ----

/** Geometries over the whole attribute space: 1-d and 2-d, per-axis stride and padding,
 *  dilation, groups (depthwise: groups = channels, with a channel multiplier). */
interface ConvCase extends Geo { name: string; x: number[]; w: number[] }
const convCases: ConvCase[] = [
  { name: "2-d plain", x: [2, 3, 6, 5], w: [4, 3, 3, 2], stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 1 },
  { name: "2-d stride 2 padding 1", x: [2, 3, 6, 5], w: [4, 3, 3, 2], stride: [2, 2], padding: [1, 1], dilation: [1, 1], groups: 1 },
  { name: "2-d stride [2, 1] padding [0, 2]", x: [1, 2, 7, 5], w: [3, 2, 3, 3], stride: [2, 1], padding: [0, 2], dilation: [1, 1], groups: 1 },
  { name: "2-d dilation 2 padding 2", x: [2, 2, 7, 6], w: [2, 2, 3, 3], stride: [1, 1], padding: [2, 2], dilation: [2, 2], groups: 1 },
  { name: "2-d dilation [1, 2] stride 2", x: [1, 2, 7, 9], w: [2, 2, 2, 3], stride: [2, 2], padding: [1, 0], dilation: [1, 2], groups: 1 },
  { name: "2-d groups 2", x: [2, 4, 5, 5], w: [6, 2, 3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 2 },
  { name: "2-d depthwise", x: [2, 3, 6, 6], w: [3, 1, 3, 3], stride: [2, 2], padding: [1, 1], dilation: [1, 1], groups: 3 },
  { name: "2-d depthwise x2, dilated", x: [1, 2, 7, 7], w: [4, 1, 2, 2], stride: [1, 1], padding: [0, 0], dilation: [3, 2], groups: 2 },
  { name: "1-d plain", x: [2, 3, 9], w: [4, 3, 3], stride: [1], padding: [0], dilation: [1], groups: 1 },
  { name: "1-d stride 2 padding 2 dilation 2", x: [2, 2, 11], w: [3, 2, 3], stride: [2], padding: [2], dilation: [2], groups: 1 },
  { name: "1-d groups 2 dilation 3", x: [1, 4, 12], w: [2, 2, 3], stride: [1], padding: [1], dilation: [3], groups: 2 },
];
const poolCases = [
  { size: 2, stride: 2 }, { size: 3, stride: 2 }, { size: 2, stride: 1 }, { size: 3, stride: 3 },
];

describe("conv", () => {
  for (const geo of convCases) {
    // Computed in each test, never while collected (src/ops code run then is "static"
    // to StrykerJS: every test runs against each of its mutants).
    const setup = () => {
      const attrs: Attrs = { stride: geo.stride, padding: geo.padding, dilation: geo.dilation, groups: geo.groups };
      const r = rng(17 + geo.name.length * 7 + geo.x.length);
      const x = random(geo.x, r);
      const w = random(geo.w, r);
      const y = run(conv, [x, w], attrs);
      const g = random(y.shape as number[], r);
      const spatial = geo.x.slice(2);
      const ops = y.shape.slice(2) as number[];
      // what the vjp passes: how far the input reaches past the last window
      const outputPadding = spatial.map((size, e) =>
        size - ((ops[e]! - 1) * geo.stride[e]! - 2 * geo.padding[e]! + geo.dilation[e]! * (geo.w[e + 2]! - 1) + 1));
      return { x, w, y, g, inputAttrs: { ...attrs, output_padding: outputPadding }, weightAttrs: { ...attrs, kernel_size: geo.w.slice(2) } };
    };

    it(`evaluates as cross-correlation (${geo.name})`, () => {
      const { x, w, y } = setup();
      expectClose(y, bruteConv(x, w, geo));
    });

    it(`input grad is the transpose in x and restores x's shape (${geo.name})`, () => {
      const { w, g, inputAttrs } = setup();
      const dx = run(convInputGrad, [g, w], inputAttrs);
      expect(dx.shape).toEqual(geo.x);
      expectClose(dx, transposeAt(geo.x, (e) => bruteConv(e, w, geo), g));
    });

    it(`weight grad is the transpose in w (${geo.name})`, () => {
      const { x, g, weightAttrs } = setup();
      const dw = run(convWeightGrad, [x, g], weightAttrs);
      expectClose(dw, transposeAt(geo.w, (e) => bruteConv(x, e, geo), g));
    });

    it(`satisfies the adjoint identities (${geo.name})`, () => {
      const { x, w, y, g, inputAttrs, weightAttrs } = setup();
      const lhs = dot(y, g);
      expect(dot(x, run(convInputGrad, [g, w], inputAttrs))).toBeCloseTo(lhs, 10);
      expect(dot(w, run(convWeightGrad, [x, g], weightAttrs))).toBeCloseTo(lhs, 10);
    });
  }

  it("with groups, each group sees only its own channels", () => {
    // depthwise: filter k reads channel k alone, so a basis input lights one output channel
    const x = basis([1, 3, 4, 4], 16 + 5); // channel 1, (1, 1)
    const w = tensor([3, 1, 2, 2], new Float64Array(12).fill(1));
    const y = run(conv, [x, w], { stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: 3 });
    const perChannel = [0, 1, 2].map((c) => y.data.slice(c * 9, (c + 1) * 9).reduce((a, v) => a + v, 0));
    expect(perChannel).toEqual([0, 4, 0]);
  });
});

describe("maxpool2d", () => {
  for (const attrs of poolCases) {
    const name = `size ${attrs.size}, stride ${attrs.stride}`;
    for (const [kind, make] of [["random", random], ["tied", ties]] as const) {
      const setup = () => {
        const r = rng(31 + attrs.size * 10 + attrs.stride);
        const x = make([2, 2, 7, 6], r);
        const { out, arg } = bruteMaxArg(x, attrs.size, attrs.stride);
        return { x, out, arg, g: random(out, r), h: random([2, 2, 7, 6], r) };
      };

      it(`takes each window's maximum (${name}, ${kind})`, () => {
        const { x, out, arg, g, h } = setup();
        expectClose(run(maxpool2d, [x], attrs), tensor(out, Float64Array.from(arg, (o) => x.data[o]!)), 0);
      });

      it(`routes the gradient to the first maximum (${name}, ${kind})`, () => {
        const { x, out, arg, g, h } = setup();
        const expected = new Float64Array(numel(x.shape));
        arg.forEach((o, k) => { expected[o] += g.data[k]!; });
        expectClose(run(maxpool2dGrad, [x, g], attrs), tensor(x.shape as number[], expected));
      });

      it(`selects at the first maximum (${name}, ${kind})`, () => {
        const { x, out, arg, g, h } = setup();
        expectClose(run(maxpool2dSelect, [x, h], attrs), tensor(out, Float64Array.from(arg, (o) => h.data[o]!)), 0);
      });

      it(`maxpool2d(x) = maxpool2d_select(x, x) and <select(x, h), g> = <h, grad(x, g)> (${name}, ${kind})`, () => {
        const { x, out, arg, g, h } = setup();
        expect(Array.from(run(maxpool2dSelect, [x, x], attrs).data)).toEqual(Array.from(run(maxpool2d, [x], attrs).data));
        expect(dot(h, run(maxpool2dGrad, [x, g], attrs))).toBeCloseTo(dot(run(maxpool2dSelect, [x, h], attrs), g), 10);
      });
    }
  }

  it("propagates NaN, routing to the first NaN", () => {
    const x = tensor([1, 1, 2, 2], Float64Array.of(1, NaN, 5, NaN));
    const attrs = { size: 2, stride: 2 };
    expect(Number.isNaN(run(maxpool2d, [x], attrs).data[0])).toBe(true);
    expect(Array.from(run(maxpool2dGrad, [x, tensor([1, 1, 1, 1], Float64Array.of(3))], attrs).data)).toEqual([0, 3, 0, 0]);
  });
});

describe("avgpool2d", () => {
  for (const attrs of poolCases) {
    const name = `size ${attrs.size}, stride ${attrs.stride}`;
    const setup = () => {
      const r = rng(53 + attrs.size * 10 + attrs.stride);
      const x = random([2, 2, 7, 6], r);
      const y = run(avgpool2d, [x], attrs);
      return { x, y, g: random(y.shape as number[], r) };
    };
    const gradAttrs = { ...attrs, height: 7, width: 6 };

    it(`takes each window's mean (${name})`, () => {
      const { x, y, g } = setup();
      expectClose(y, bruteAvg(x, attrs.size, attrs.stride));
    });

    it(`grad is the transpose, overlaps accumulating (${name})`, () => {
      const { x, y, g } = setup();
      const dx = run(avgpool2dGrad, [g], gradAttrs);
      expectClose(dx, transposeAt([2, 2, 7, 6], (e) => bruteAvg(e, attrs.size, attrs.stride), g));
      expect(dot(x, dx)).toBeCloseTo(dot(y, g), 10);
    });
  }
});

// ---- the vjp rules, built through a minimal builder and evaluated ----

const registry = new Map(convOps.map((op) => [op.name, op]));
const leaf: OpDef = { name: "input", kind: "source", arity: 0, shape: (_i, attrs) => attrs.shape as Shape };

/** Builds `op(inputs)`, applies its vjp with cotangent `g`, and evaluates every result. */
function vjpAt(op: OpDef, inputs: Tensor[], attrs: Attrs, g: Tensor): (Tensor | null)[] {
  const graph = new Graph();
  const values = new Map<Node, Tensor>();
  const leafOf = (t: Tensor, k: number) => {
    const n = graph.apply(leaf, [], { shape: t.shape as number[], name: `v${k}` }, undefined);
    values.set(n, t);
    return n;
  };
  const nodes = inputs.map(leafOf);
  const node = graph.apply(op, nodes, attrs, undefined);
  const gNode = leafOf(g, inputs.length);
  const b = {
    op: (name: string, ins: readonly Node[], a: Attrs = {}) => graph.apply(registry.get(name)!, ins, a, undefined),
  } as unknown as Parameters<NonNullable<OpDef["vjp"]>>[0];
  const evalNode = (n: Node): Tensor => {
    const found = values.get(n);
    if (found) return found;
    const t = run(n.op, n.inputs.map(evalNode), n.attrs);
    values.set(n, t);
    return t;
  };
  return op.vjp!(b, gNode, node).map((d, k) => {
    if (!d) return null;
    expect(d.shape).toEqual(nodes[k]!.shape);
    return evalNode(d);
  });
}

/** Central difference of <op(inputs), g> along input k in a random direction. */
function directional(op: OpDef, inputs: Tensor[], attrs: Attrs, g: Tensor, k: number, dir: Tensor): number {
  const eps = 1e-6;
  const at = (sign: number) => {
    const moved = inputs.map((t, m) => (m === k ? tensor(t.shape as number[], t.data.map((v, q) => v + sign * eps * dir.data[q]!)) : t));
    return dot(run(op, moved, attrs), g);
  };
  return (at(1) - at(-1)) / (2 * eps);
}

describe("vjp rules", () => {
  // Built in each test (see "conv" above); a case is named by its index while collected.
  const build = (r: () => number): [string, OpDef, Tensor[], Attrs][] => {
    const x = random([2, 4, 6, 5], r);
    const w = random([4, 2, 3, 2], r);
    const geo = { stride: [2, 1], padding: [1, 1], dilation: [1, 2], groups: 2 };
    const y = run(conv, [x, w], geo);
    const pooled = run(maxpool2d, [x], { size: 3, stride: 2 });
    const outputPadding = [6 - ((y.shape[2]! - 1) * 2 - 2 + 3), 5 - ((y.shape[3]! - 1) - 2 + 2 + 1)];
    const x1 = random([2, 2, 9], r);
    const w1 = random([3, 2, 3], r);
    const geo1 = { stride: [2], padding: [1], dilation: [2], groups: 1 };
    const y1 = run(conv, [x1, w1], geo1);
    const cases: [string, OpDef, Tensor[], Attrs][] = [
      ["2-d", conv, [x, w], geo],
      ["2-d", convInputGrad, [random(y.shape as number[], r), w], { ...geo, output_padding: outputPadding }],
      ["2-d", convWeightGrad, [x, random(y.shape as number[], r)], { ...geo, kernel_size: [3, 2] }],
      ["1-d", conv, [x1, w1], geo1],
      ["1-d", convInputGrad, [random(y1.shape as number[], r), w1], { ...geo1, output_padding: [0] }],
      ["1-d", convWeightGrad, [x1, random(y1.shape as number[], r)], { ...geo1, kernel_size: [3] }],
      ["", maxpool2d, [x], { size: 3, stride: 2 }],
      ["", maxpool2dGrad, [x, random(pooled.shape as number[], r)], { size: 3, stride: 2 }],
      ["", maxpool2dSelect, [x, random([2, 4, 6, 5], r)], { size: 3, stride: 2 }],
      ["", avgpool2d, [x], { size: 3, stride: 2 }],
      ["", avgpool2dGrad, [random(pooled.shape as number[], r)], { size: 3, stride: 2, height: 6, width: 5 }],
    ];
    return cases;
  };
  const names = ["conv 2-d", "conv_input_grad 2-d", "conv_weight_grad 2-d", "conv 1-d", "conv_input_grad 1-d", "conv_weight_grad 1-d",
    "maxpool2d", "maxpool2d_grad", "maxpool2d_select", "avgpool2d", "avgpool2d_grad"];
  names.forEach((name, k) => {
    it(`${name}: each cotangent matches central differences`, () => {
      const r = rng(99);
      const [, op, inputs, attrs] = build(r)[k]!;
      const g = random(run(op, inputs, attrs).shape as number[], r);
      const grads = vjpAt(op, inputs, attrs, g);
      expect(grads).toHaveLength(op.arity);
      grads.forEach((d, k) => {
        const dir = random(inputs[k]!.shape as number[], r);
        const fd = directional(op, inputs, attrs, g, k, dir);
        if (d === null) expect(fd).toBeCloseTo(0, 6);
        else expect(dot(d, dir)).toBeCloseTo(fd, 6);
      });
    });
  });
});

// ---- shape rules ----

describe("shape rules", () => {
  const code = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      if (e instanceof GradcError) return e.code;
      throw e;
    }
    return undefined;
  };
  const geo2 = (stride = 1, padding = 0, dilation = 1, groups = 1): Attrs =>
    ({ stride: [stride, stride], padding: [padding, padding], dilation: [dilation, dilation], groups });
  const convShape = (x: Shape, w: Shape, attrs: Attrs = geo2()) => () => conv.shape([x, w], attrs, undefined, []);
  const transposeShape = (x: Shape, w: Shape, attrs: Attrs) => () => convInputGrad.shape([x, w], attrs, undefined, []);
  const weightShape = (x: Shape, g: Shape, attrs: Attrs) => () => convWeightGrad.shape([x, g], attrs, undefined, []);
  const poolShape = (x: Shape, attrs: Attrs = { size: 2, stride: 2 }) => () => maxpool2d.shape([x], attrs, undefined, []);

  it("computes output sizes, with free batch and output channels", () => {
    expect(convShape(["n", 3, 28, 28], ["o", 3, 5, 5], geo2(2, 2))()).toEqual(["n", "o", 14, 14]);
    expect(convShape(["n", 4, 10], [6, 2, 3], { stride: [1], padding: [0], dilation: [4], groups: 2 })()).toEqual(["n", 6, 2]);
    expect(convShape([1, 2, 9, 9], [2, 2, 3, 3], { stride: [2, 1], padding: [1, 0], dilation: [1, 3], groups: 1 })()).toEqual([1, 2, 5, 3]);
    // PyTorch: (H - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1
    expect(transposeShape(["n", 4, 5, 5], [4, 3, 4, 4], { ...geo2(2, 1), output_padding: [0, 1] })()).toEqual(["n", 3, 10, 11]);
    expect(transposeShape([1, 4, 5], [4, 1, 3], { stride: [3], padding: [0], dilation: [2], groups: 4, output_padding: [2] })()).toEqual([1, 4, 19]);
    expect(weightShape([2, 4, 8, 8], [2, 6, 6, 6], { ...geo2(1, 0, 1, 2), kernel_size: [3, 3] })()).toEqual([6, 2, 3, 3]);
    expect(poolShape(["n", "c", 7, 6], { size: 3, stride: 2 })()).toEqual(["n", "c", 3, 2]);
  });

  it("rejects bad convolution shapes with located codes", () => {
    expect(code(convShape([3, 8, 8], [4, 3, 3, 3]))).toBe("E0250");
    expect(code(convShape([1, 3, 8, 8], [4, 3, 3]))).toBe("E0250");
    expect(code(convShape([1, 3, 8, 8], [4, 2, 3, 3]))).toBe("E0213");
    expect(code(convShape([1, 3, 8, 8], [4, 3, 3, 3], geo2(1, 0, 1, 2)))).toBe("E0251");
    expect(code(convShape([1, 4, 8, 8], [3, 2, 3, 3], geo2(1, 0, 1, 2)))).toBe("E0251");
    expect(code(convShape([1, 4, 8, 8], [4, 1, 3, 3], geo2(1, 0, 1, 2)))).toBe("E0213");
    expect(code(convShape([1, 3, "h", 8], [4, 3, 3, 3]))).toBe("E0254");
    expect(code(convShape([1, 3, 8, 8], [4, 3, "k", 3]))).toBe("E0254");
    expect(code(convShape([1, 3, 2, 8], [4, 3, 3, 3]))).toBe("E0252");
    expect(code(convShape([1, 3, 2, 8], [4, 3, 3, 3], geo2(1, 1)))).toBeUndefined();
    expect(code(convShape([1, 3, 4, 8], [4, 3, 3, 3], geo2(1, 0, 2)))).toBe("E0252");
    expect(code(transposeShape([1, 3, 2, 2], [4, 3, 3, 3], { ...geo2(), output_padding: [0, 0] }))).toBe("E0213");
    expect(code(transposeShape([1, 4, 1, 1], [4, 3, 1, 1], { ...geo2(1, 1), output_padding: [0, 0] }))).toBe("E0256");
    expect(code(weightShape([1, 3, 8, 8], [1, 4, 5, 5], { ...geo2(), kernel_size: [3, 3] }))).toBe("E0255");
    expect(code(weightShape([1, 3, 8, 8], [2, 4, 6, 6], { ...geo2(), kernel_size: [3, 3] }))).toBe("E0255");
  });

  it("rejects bad pool shapes and attributes with E0214", () => {
    expect(code(poolShape([3, 8, 8]))).toBe("E0214");
    expect(code(poolShape([1, 3, "h", 8]))).toBe("E0214");
    expect(code(poolShape([1, 3, 8, 8], { size: 9, stride: 9 }))).toBe("E0214");
    expect(code(poolShape([1, 3, 8, 8], { size: 2, stride: 0 }))).toBe("E0214");
    expect(code(poolShape([1, 3, 8, 8], { size: 0, stride: 1 }))).toBe("E0214");
    expect(code(() => maxpool2dGrad.shape([[1, 1, 4, 4], [1, 1, 3, 3]], { size: 2, stride: 2 }, undefined, []))).toBe("E0255");
  });
});
