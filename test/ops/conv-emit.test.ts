// The convolution kernels (src/ops/conv-emit.ts) against the interpreter: models whose
// values and gradients run conv, conv_input_grad and conv_weight_grad in both their forms
// (the generic nest, and the register-tiled kernels for small known sizes) with per-axis
// stride, padding on one axis or both, dilation, groups, 1-d and 2-d, a free batch; the
// weight gradient computing a max-pool's gradient itself (a prologue: the pooled walk, the
// dense walk when x holds Infinity or NaN, windows that do not cover the plane, x read
// through a view); the conv run window by window under a max-pool with padding, stride,
// dilation, groups and NaN.

import { describe, expect, it } from "vitest";
import { compile, compileToSource } from "../../src/index";
import { evaluate } from "../../src/interpret";
import { lowerSource } from "../../src/lower";
import { expectClose, expectMatchesInterpreter as matches, randomValues } from "../builtins/helpers";
import { planOf } from "../schedule/helpers";

/** `f`, then that the compiled code it ran created no global: the emitted code declares
 *  every local it assigns (a model is not strict code, so an undeclared one would become a
 *  global). */
function noGlobals(f: () => void): void {
  const before = new Set(Object.keys(globalThis));
  f();
  expect(Object.keys(globalThis).filter((k) => !before.has(k)), "globals the model created").toEqual([]);
}

const expectMatchesInterpreter = (...args: Parameters<typeof matches>) => noGlobals(() => matches(...args));

/** The emitted forward (f64) against the interpreter, NaN where it has NaN; the params
 *  hold their initial values, x `x`. */
function expectForwardAgrees(source: string, x: Float64Array): void {
  const program = lowerSource(source, { filename: "conv.grad" });
  const model = compile(source, { dtype: "f64", filename: "conv.grad" });
  const values = new Map<string, Float64Array>([["x", x]]);
  for (const p of program.params) values.set(p.name, Float64Array.from(model.params[p.name] as Float64Array));
  let got: ReturnType<typeof model.forward> = {};
  noGlobals(() => { got = model.forward({ x }); });
  const want = evaluate(program.outputs.map((o) => o.node), { dims: new Map(), values });
  for (const o of program.outputs) expectClose(got[o.name] as Float64Array, want.get(o.node)!.data, 1e-12, o.name);
}

const loss = (terms: string[]) => `loss = ${terms.map((t) => `sum(sin(${t}))`).join(" + ")}\nminimize loss`;

describe("conv kernels, generic and tiled, values and gradients", () => {
  it("2-d: per-axis stride, padding and dilation, groups", () => {
    // taps per filter (channels per group x kernel): wa 36 and wb 50 take the generic
    // forward; wc, wd the tiled one; we (100) and wf (72) the generic weight gradient
    const source = `param x: [2, 4, 7, 6]
param wa: [3, 4, 3, 3]
param wb: [4, 2, 5, 5]
param wc: [4, 2, 2, 2]
param wd: [2, 4, 2, 3]
param we: [2, 4, 5, 5]
param wf: [2, 2, 6, 6]
${loss([
  "conv2d(x, wa, stride = [2, 1], padding = [1, 0], dilation = [1, 2])",
  "conv2d(x, wb, padding = 2, groups = 2)",
  "conv2d(x, wc, stride = [1, 2], padding = [0, 1], dilation = [2, 1], groups = 2)",
  "conv2d(x, wd, padding = 1)",
  "conv2d(x, we, stride = [1, 2], padding = [2, 1])",
  "conv2d(x, wf, padding = 3, groups = 2, dilation = [1, 1])",
])}`;
    expectMatchesInterpreter(source, randomValues(source, 1));
  });

  it("1-d: generic and tiled, depthwise, strided and dilated", () => {
    const source = `param x: [2, 3, 24]
param wa: [2, 3, 23]
param wb: [4, 3, 3]
param wc: [3, 1, 4]
${loss([
  "conv1d(x, wa, padding = 1)",
  "conv1d(x, wb, stride = 2, padding = 1, dilation = 2)",
  "conv1d(x, wc, stride = 3, padding = 2, groups = 3)",
])}`;
    expectMatchesInterpreter(source, randomValues(source, 2));
  });

  it("conv_transpose2d and conv2d_weight_grad as built-ins, with output padding and groups", () => {
    const source = `param g: [2, 4, 4, 3]
param w: [4, 3, 3, 2]
param v: [4, 1, 2, 3]
param x: [2, 6, 9, 8]
param gw: [2, 4, 5, 2]
${loss([
  "conv_transpose2d(g, w, stride = [2, 3], padding = [1, 0], output_padding = [1, 2], dilation = [1, 2])",
  "conv_transpose2d(g, v, stride = 2, padding = 1, groups = 2)",
  "conv2d_weight_grad(x, gw, [3, 2], stride = [2, 3], padding = [1, 0], dilation = [1, 2], groups = 2)",
])}`;
    expectMatchesInterpreter(source, randomValues(source, 3));
  });

  it("four filters at a time, then the rest together: convs with too many taps for the tiled kernel", () => {
    // wa (45 taps, 4 filters), wb (45 taps, 8 filters: two blocks), the 1-d wc (69 taps),
    // wd (6 filters: a block and 2 more), we (3: only the rest) and wf (grouped: the
    // generic nest) beside them
    const source = `param x: [2, 5, 9, 8]
param y: [2, 3, 24]
param z: [2, 6, 7, 7]
param wa: [4, 5, 3, 3]
param wb: [8, 5, 3, 3]
param wc: [4, 3, 23]
param wd: [6, 5, 3, 3]
param we: [3, 5, 3, 3]
param wf: [4, 3, 4, 4]
${loss([
  "conv2d(x, wa, stride = [2, 1], padding = [1, 2], dilation = [1, 2])",
  "relu(conv2d(x, wb, padding = 1) + 0.1)",
  "conv1d(y, wc, padding = 2, stride = 2)",
  "conv2d(x, wd)",
  "conv2d(x, we, stride = 2, padding = 1)",
  "conv2d(z, wf, groups = 2, padding = 1)",
])}`;
    expectMatchesInterpreter(source, randomValues(source, 5), {}, 0);
    const free = `dim n
input x: [n, 2, 6, 5]
param wa: [4, 2, 5, 5]
param wb: [5, 2, 5, 5]
${loss(["conv2d(x, wa, padding = [2, 1])", "conv2d(x, wb, padding = 1)"])}`;
    for (const n of [1, 3]) expectMatchesInterpreter(free, randomValues(free, 6 + n, { n }), { n }, 0);
  });

  it("four filters at a time: ungrouped convs, the filters past the last block together", () => {
    // (a block past the last filter would read and write out of range)
    const text = (w: string, groups = 1) => compileToSource(
      `param x: [2, 4, 9, 8]\nparam w: ${w}\nminimize sum(sin(conv2d(x, w, groups = ${groups})))`, { format: "esm" }).text;
    // the filter loops' bounds, in the conv and its weight gradient
    const blocks = (w: string, groups = 1) => [...new Set((text(w, groups).match(/for \(let o\w* = 0; o\w* < (\d+); o\w* \+= 4\)/g) ?? []).map((l) => Number(/< (\d+)/.exec(l)![1])))];
    expect(blocks("[4, 4, 3, 3]")).toEqual([4]);
    expect(blocks("[8, 4, 3, 3]")).toEqual([8]);
    expect(blocks("[6, 4, 3, 3]")).toEqual([4]);
    expect(blocks("[3, 4, 3, 3]")).toEqual([]);
    expect(blocks("[4, 2, 5, 5]", 2)).toEqual([]);
    // the last 2 of 6 filters together: sums stored at filters 4 and 5 (planes of 7 x 6)
    expect(text("[6, 4, 3, 3]")).toMatch(/out\[i\w* \* 252 \+ 168 \+ i\w* \* 6 \+ i\w*\] = acc\w*;\n\s*out\[i\w* \* 252 \+ 210 \+/);
  });

  it("four filters at a time: each sum starts at -0, as the interpreter's", () => {
    // zeros times negative weights are -0s, and a sum of -0s from -0 stays -0
    const source = "input x: [1, 4, 4, 4]\nparam w: [4, 4, 3, 3] = normal(-3, 0.1)\ny = conv2d(x, w)\noutput y";
    const y = compile(source, { dtype: "f64" }).forward({ x: new Float64Array(64) }).y as Float64Array;
    expect(y.length).toBe(16);
    for (const v of y) expect(Object.is(v, -0), String(v)).toBe(true);
  });

  it("the input gradient, gathered 4 channels at a time: the scatter's sums exactly", () => {
    // stride 1: x's gradient is gathered (two blocks for xa, 1-d for xb, no interior
    // position at all for xc: its kernel covers the whole input; 6 channels for xe: a
    // block and 2 more, 3 for xf: only the rest)
    const source = `param xe: [2, 6, 6, 5]
param we: [3, 6, 3, 3]
param xf: [1, 3, 5, 5]
param wf: [2, 3, 2, 2]
param xa: [2, 8, 7, 6]
param wa: [3, 8, 3, 2]
param xb: [2, 4, 11]
param wb: [5, 4, 4]
param xc: [1, 4, 3, 3]
param wc: [2, 4, 3, 3]
param wd: [2, 8, 5, 5]
${loss([
  "conv2d(xa, wa, padding = [1, 0], dilation = [2, 1])",
  "conv1d(xb, wb, padding = 2, dilation = 2)",
  "conv2d(xc, wc)",
  "conv2d(xa, wd, padding = 2)",
  "conv2d(xe, we, padding = 1)",
  "conv2d(xf, wf, dilation = 2)",
])}`;
    expectMatchesInterpreter(source, randomValues(source, 11), {}, 0);
    const free = `dim n
input x: [n, 4, 6, 5]
param x0: [4, 6, 5]
param w: [3, 4, 3, 3]
${loss(["conv2d(x * x0, w, padding = 1)"])}`;
    for (const n of [1, 3]) expectMatchesInterpreter(free, randomValues(free, 12 + n, { n }), { n }, 0);
  });

  it("the gathered input gradient with strides: the taps a multiple of the stride away", () => {
    // strided on both axes (with padding and dilation), on one, 1-d; conv_transpose2d with
    // output padding (input rows no tap reaches); a free batch
    const source = `param xa: [2, 8, 9, 8]
param wa: [3, 8, 3, 3]
param xb: [2, 6, 11, 7]
param wb: [5, 6, 3, 2]
param xc: [2, 4, 17]
param wc: [3, 4, 5]
param g: [2, 4, 4, 3]
param wt: [4, 5, 3, 2]
${loss([
  "conv2d(xa, wa, stride = 2, padding = 1)",
  "conv2d(xb, wb, stride = [3, 1], padding = [2, 1], dilation = [2, 1])",
  "conv1d(xc, wc, stride = 3, padding = 2, dilation = 2)",
  "conv_transpose2d(g, wt, stride = [2, 3], padding = [1, 0], output_padding = [1, 2], dilation = [1, 2])",
])}`;
    expectMatchesInterpreter(source, randomValues(source, 21), {}, 0);
    const free = `dim n
input x: [n, 4, 7, 6]
param x0: [4, 7, 6]
param w: [3, 4, 3, 3]
${loss(["conv2d(x * x0, w, stride = 2, padding = 1)"])}`;
    for (const n of [1, 3]) expectMatchesInterpreter(free, randomValues(free, 22 + n, { n }), { n }, 0);
  });

  it("the input gradient is gathered, grouped or not", () => {
    const gathered = (x: string, w: string, args = "") => /const q\w* = /.test(compileToSource(
      `param x: ${x}\nparam w: ${w}\nminimize sum(sin(conv2d(x, w${args})))`, { format: "esm" }).text);
    expect(gathered("[2, 4, 9, 8]", "[3, 4, 3, 3]")).toBe(true);
    expect(gathered("[2, 8, 9, 8]", "[3, 8, 3, 3]", ", padding = 1, dilation = 2")).toBe(true);
    expect(gathered("[2, 6, 9, 8]", "[3, 6, 3, 3]")).toBe(true);
    expect(gathered("[2, 4, 9, 8]", "[3, 4, 3, 3]", ", stride = [1, 2]")).toBe(true);
    expect(gathered("[2, 8, 9, 8]", "[4, 4, 3, 3]", ", groups = 2")).toBe(true);
    expect(gathered("[2, 8, 9, 8]", "[8, 1, 3, 3]", ", groups = 8, padding = 1")).toBe(true);
  });

  it("the input gradient scattered: weights with a free filter or channel count", () => {
    const filters = `dim m
input w: [m, 2, 3, 3]
param x: [2, 2, 6, 5]
${loss(["conv2d(x, w, padding = 1)"])}`;
    expectMatchesInterpreter(filters, randomValues(filters, 41, { m: 3 }), { m: 3 }, 0);
    const channels = `dim c
input w: [4, c, 3, 3]
input x: [2, c, 6, 5]
param s: [1]
${loss(["conv2d(x * s, w, stride = 2)"])}`;
    expectMatchesInterpreter(channels, randomValues(channels, 42, { c: 3 }), { c: 3 }, 0);
  });

  it("the gathered input gradient with groups: each channel's group's filters", () => {
    // 4 channels a group (blocks of 4 inside a group), 3 (one at a time), depthwise with
    // a multiplier of 2, strided; against the scatter's sums exactly
    const source = `param xa: [2, 8, 7, 6]
param wa: [6, 4, 3, 3]
param xb: [2, 6, 7, 6]
param wb: [4, 3, 3, 2]
param xc: [2, 4, 9, 8]
param wc: [8, 1, 3, 3]
${loss([
  "conv2d(xa, wa, groups = 2, padding = 1)",
  "conv2d(xb, wb, groups = 2, padding = [1, 0], dilation = [2, 1])",
  "conv2d(xc, wc, groups = 4, stride = 2, padding = 1)",
])}`;
    expectMatchesInterpreter(source, randomValues(source, 31), {}, 0);
  });

  it("the gathered input gradient starts from +0, as the scatter's zeroed array", () => {
    // products 0 * w with w < 0 are -0; the scatter adds them to +0
    const source = "param x: [1, 4, 4, 4]\nparam w: [4, 4, 3, 3] = normal(-3, 0.1)\nminimize sum(conv2d(x, w) * 0)";
    const m = compile(source, { dtype: "f64" });
    const gx = m.valueAndGrad({}).grads.x!;
    expect(gx.length).toBe(64);
    for (const v of gx) expect(Object.is(v, 0), String(v)).toBe(true);
  });

  it("a free batch size", () => {
    const source = `dim n
input x: [n, 2, 6, 5]
param wa: [3, 2, 3, 3]
param wb: [2, 2, 5, 4]
${loss(["conv2d(x, wa, padding = 1)", "conv2d(x, wb, padding = [2, 1], stride = 2)"])}`;
    for (const n of [1, 3]) expectMatchesInterpreter(source, randomValues(source, 4 + n, { n }), { n });
  });
});

describe("the weight gradient computing a max-pool's gradient itself", () => {
  /** sum(p^2) of maxpool2d(conv2d(x, k)): dk reads maxpool2d_grad(c, 2p) and nothing else
   *  does, so conv_weight_grad computes it. */
  const model = (x: string, conv: string, size: number, k = "[3, 2, 2, 2]", read = "x") => `input x: ${x}
param k: ${k}
c = conv2d(${read}, k${conv})
p = maxpool2d(c, size = ${size})
minimize sum(p * p)`;

  const CASES: [string, string][] = [
    ["windows covering the plane", model("[2, 2, 9, 9]", "", 2)],
    ["a row and a column past the last window", model("[2, 2, 9, 9]", "", 3)],
    ["rows past the last window only", model("[2, 2, 9, 7]", "", 3)],
    ["columns past the last window only", model("[1, 2, 7, 9]", "", 3)],
    ["padding, stride and dilation", model("[2, 2, 9, 8]", ", stride = 2, padding = [1, 0], dilation = [1, 2]", 2)],
    ["groups", model("[2, 4, 8, 8]", ", groups = 2", 2, "[4, 2, 2, 2]")],
    ["x read through a view", model("[2, 162]", "", 3, "[3, 2, 2, 2]", "reshape(x, [2, 2, 9, 9])")],
    // unpadded: x addressed from one offset per window, each tap at its dilated offset
    ["dilation without padding", model("[2, 2, 9, 10]", ", dilation = [2, 3]", 2)],
    // a slice is no array of its own: the Infinity/NaN scan reads it element by element
    ["x a slice of an input", model("[2, 3, 9, 9]", "", 2, "[3, 2, 2, 2]", "x[:, 1:3]")],
  ];

  for (const [what, source] of CASES) {
    it(what, () => {
      const values = randomValues(source, 7);
      // distinct values: the pooled walk; Infinity or NaN in x: the dense walk; a
      // constant x: every window a tie
      expectMatchesInterpreter(source, values);
      const x = values.x as Float64Array;
      for (const special of [Infinity, -Infinity, NaN]) {
        const spiked = Float64Array.from(x);
        spiked[x.length - 1] = special;
        expectMatchesInterpreter(source, { ...values, x: spiked });
      }
      expectMatchesInterpreter(source, { ...values, x: x.map(() => 0.5) });
    });
  }
});

describe("the conv run window by window under a max-pool", () => {
  const model = (conv: string, size: number, x = "[1, 2, 9, 9]", k = "[3, 2, 2, 2]") => `input x: ${x}
param k: ${k}
c = conv2d(x, k${conv})
p = maxpool2d(c, size = ${size})
g = maxpool2d_grad(c, p * p + 1, size = ${size})
output p, g`;

  const CASES: [string, string][] = [
    ["padding on one axis, stride", model(", stride = [2, 1], padding = [0, 1]", 2, "[1, 2, 11, 8]")],
    ["dilation and groups", model(", dilation = 2, groups = 2", 2, "[2, 4, 10, 10]", "[4, 2, 2, 2]")],
    ["3x3 windows, padding", model(", padding = 1", 3)],
    ["a 1x1 kernel, one channel", model("", 4, "[1, 1, 8, 8]", "[2, 1, 1, 1]")],
  ];

  for (const [what, source] of CASES) {
    it(what, () => {
      const { plan } = planOf(source);
      expect([...plan.pooledConvs.values()].map((n) => n.op.name)).toEqual(["conv"]);
      const n = source.match(/input x: \[([\d, ]+)\]/)![1]!.split(", ").reduce((a, d) => a * Number(d), 1);
      expectForwardAgrees(source, Float64Array.from({ length: n }, (_, i) => Math.sin(1.3 * i + 0.5)));
      // NaN in x: the windows it reaches have NaN as their maximum, the first NaN's tap
      expectForwardAgrees(source, Float64Array.from({ length: n }, (_, i) => (i % 7 === 3 ? NaN : Math.sin(i))));
      // ties everywhere
      expectForwardAgrees(source, Float64Array.from({ length: n }, () => 1));
    });
  }
});
