// The pooling records (src/ops/pool.ts) as emitted kernels: every pool op compiled on its
// own over windows that tile the plane (with rows and columns left over), overlap, leave
// gaps, hold one tap, 16 taps (the most written out) or 25 (a loop), on a non-square plane
// with two batch elements and two channels, checked bit for bit against the interpreter
// with ties, -0, NaN and infinities (which tap a gradient goes to, and the sign of a
// zero, are where the kernels differ); the max-pools fused into a conv's loop with their
// first-maximum taps stored (a window width that is a power of two and one that is not);
// a fused epilogue; gradients of every record against the interpreter.

import { describe, expect, it } from "vitest";
import { GradcError } from "../../src/diagnostics";
import { compile } from "../../src/index";
import { evaluate } from "../../src/interpret";
import type { Attrs, Node, Shape } from "../../src/ir";
import { lowerSource } from "../../src/lower";
import { avgpool2dGrad, maxpool2d } from "../../src/ops/pool";
import { expectMatchesInterpreter, randomValues } from "../builtins/helpers";
import { expectClose, gradientProgram, randomValues as convValues } from "../conv/helpers";
import { compileError } from "../helpers/errors";
import { rng } from "../helpers/random";
import { expectValuesAgree, kernelOps, planOf } from "../schedule/helpers";

/** The emitted forward (f64) against the interpreter at each set of inputs, element by
 *  element with Object.is (NaN equals NaN, -0 differs from +0). */
function expectSameValues(source: string, sets: Record<string, Float64Array>[]): void {
  const program = lowerSource(source, { filename: "pool.grad" });
  const model = compile(source, { dtype: "f64", filename: "pool.grad" });
  for (const inputs of sets) {
    // the emitted code declares every local it assigns (the model is not strict code:
    // an undeclared one would become a global)
    const globals = new Set(Object.keys(globalThis));
    const got = model.forward(inputs);
    expect(Object.keys(globalThis).filter((k) => !globals.has(k)), "globals the model created").toEqual([]);
    expectSame(program, got, inputs);
  }
}

function expectSame(program: ReturnType<typeof lowerSource>, got: Record<string, ArrayLike<number> | number>, inputs: Record<string, Float64Array>): void {
  const want = evaluate(program.outputs.map((o) => o.node), { dims: new Map(), values: new Map(Object.entries(inputs)) });
  for (const o of program.outputs) {
    const w = want.get(o.node)!.data;
    const g = got[o.name] as ArrayLike<number>;
    expect(g.length, `${o.name}: length`).toBe(w.length);
    for (let i = 0; i < w.length; i++) {
      if (!Object.is(g[i], w[i])) expect.fail(`${o.name}[${i}]: emitted ${Object.is(g[i], -0) ? "-0" : g[i]}, interpreter ${Object.is(w[i], -0) ? "-0" : w[i]}`);
    }
  }
}

/** Values drawn from `pool` (ties and zeros of both signs), or uniform in (-2, 2). */
function values(n: number, seed: number, pool?: number[]): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: n }, () => (pool ? pool[Math.floor(r() * pool.length)]! : 4 * r() - 2));
}

const outSize = (n: number, size: number, stride: number) => Math.floor((n - size) / stride) + 1;

// [height, width, size, stride, what]
const GEOMETRIES: [number, number, number, number, string][] = [
  [6, 4, 2, 2, "tiling"],
  [7, 5, 2, 2, "tiling, a row and a column left over"],
  [5, 8, 2, 2, "tiling, a row left over"],
  [6, 7, 3, 3, "tiling 3x3, a column left over"],
  [8, 9, 4, 4, "tiling 4x4: 16 taps, the most written out"],
  [5, 7, 3, 1, "overlapping"],
  [7, 8, 2, 3, "with gaps"],
  [6, 7, 5, 1, "25 taps, overlapping: the taps in a loop"],
  [10, 11, 5, 5, "25 taps, tiling"],
  [3, 4, 1, 1, "one tap"],
];

describe("pool kernels against the interpreter, bit for bit", () => {
  for (const [H, W, size, stride, what] of GEOMETRIES) {
    it(`${H}x${W} plane, size ${size}, stride ${stride} (${what})`, () => {
      const [OH, OW] = [outSize(H, size, stride), outSize(W, size, stride)];
      const win = `size = ${size}, stride = ${stride}`;
      const source = `input x: [2, 2, ${H}, ${W}]
input g: [2, 2, ${OH}, ${OW}]
input h: [2, 2, ${H}, ${W}]
mp = maxpool2d(x, ${win})
ap = avgpool2d(x, ${win})
mg = maxpool2d_grad(x, g, ${win})
ms = maxpool2d_select(x, h, ${win})
ag = avgpool2d_grad(g, ${H}, ${W}, ${win})
output mp, ap, mg, ms, ag`;
      const nx = 4 * H * W, ng = 4 * OH * OW;
      // distinct values; ties among few values with zeros of both signs; then NaN and
      // infinities among the ties
      const special = [-1, 0, -0, 1, 1, 2, NaN, Infinity, -Infinity];
      const sets = [
        { x: values(nx, 1), g: values(ng, 2), h: values(nx, 3) },
        { x: values(nx, 4, [-1, 0, -0, 1, 2]), g: values(ng, 5, [-0, 1, -2, 3]), h: values(nx, 6) },
        { x: values(nx, 7, special), g: values(ng, 8, [-0, 0.5, -3]), h: values(nx, 9, [-0, 1, 2, 3]) },
        { x: Float64Array.from({ length: nx }, () => -0), g: values(ng, 10, [-0, -1]), h: values(nx, 11, [-0, 0, 5]) },
      ];
      expectSameValues(source, sets);
    });
  }

  it("a fused elementwise consumer of maxpool2d_grad sees each element's final value", () => {
    for (const [size, stride] of [[2, 2], [3, 1], [2, 3], [3, 3]]) {
      const OH = outSize(7, size!, stride!), OW = outSize(6, size!, stride!);
      const source = `input x: [1, 2, 7, 6]
input g: [1, 2, ${OH}, ${OW}]
y = maxpool2d_grad(x, g, size = ${size}, stride = ${stride}) * 2 + 1
output y`;
      expectSameValues(source, [{ x: values(84, 12, [0, 1, 2, 3]), g: values(2 * OH * OW, 13) }]);
    }
  });
});

describe("max-pools fused into a conv's loop, the first-maximum tap stored", () => {
  // The gradient reads each window's tap (row and column from a * size + b): by a shift
  // and a mask for sizes 1, 2 and 4, by a division otherwise.
  for (const size of [1, 2, 3, 4]) {
    it(`windows of ${size}x${size}`, () => {
      const source = `input x: [1, 2, 13, 13]
param k: [3, 2, 2, 2] = glorot_uniform
c = conv2d(x, k)
p = maxpool2d(c, size = ${size})
g = maxpool2d_grad(c, p * p + 1, size = ${size})
output p, g`;
      const { plan } = planOf(source);
      expect([...plan.firstMaxTaps.keys()].map((n) => n.op.name)).toEqual(["conv"]);
      const globals = new Set(Object.keys(globalThis));
      expectValuesAgree(source);
      // a constant input: every window a tie, each gradient at its first tap
      expectValuesAgree(source, {}, { x: Array.from({ length: 338 }, () => 1) });
      expect(Object.keys(globalThis).filter((k) => !globals.has(k)), "globals the model created").toEqual([]);
    });
  }
});

describe("the conv weight gradient computing maxpool2d_grad itself", () => {
  // (the conv's first-maximum search comes from emitPoolGradTarget)
  for (const size of [2, 3]) {
    it(`windows of ${size}x${size}`, () => {
      const source = `input x: [2, 2, 9, 9]
param k: [3, 2, 2, 2]
c = conv2d(x, k)
p = maxpool2d(c, size = ${size})
minimize sum(p * p)`;
      const values = randomValues(source, 8);
      expectMatchesInterpreter(source, values);
      expectMatchesInterpreter(source, { ...values, x: (values.x as Float64Array).map(() => 0.5) });
    });
  }
});

describe("gradients through every pool record", () => {
  // A non-square plane (the average pool's gradient is given height and width), windows
  // that overlap and windows that tile, each record under a param.
  for (const [size, stride] of [[3, 2], [2, 2]]) {
    it(`size ${size}, stride ${stride}`, () => {
      const [OH, OW] = [outSize(7, size!, stride!), outSize(6, size!, stride!)];
      const win = `size = ${size}, stride = ${stride}`;
      const source = `input x: [2, 2, 7, 6]
param p: [2, 2, 7, 6] = glorot_uniform
param q: [2, 2, ${OH}, ${OW}] = glorot_uniform
a = maxpool2d(x * p, ${win})
b = avgpool2d(x * p, ${win})
c = maxpool2d_grad(x, q * q, ${win})
d = maxpool2d_select(x, p * p, ${win})
e = avgpool2d_grad(q * q, 7, 6, ${win})
loss = sum(a * a) + sum(b * b) + sum(c * c * x) + sum(d * d * d) + sum(e * e * x)
minimize loss`;
      expectMatchesInterpreter(source, randomValues(source, 21));
    });
  }
});

describe("what the plan stores around a pool", () => {
  const ops = (nodes: Iterable<Node>) => [...nodes].map((n) => n.op.name);

  it("each pool reads its operands stored (a window reads each element several times)", () => {
    for (const call of ["maxpool2d(exp(x), size = 3, stride = 1)", "avgpool2d(exp(x), size = 3, stride = 1)", "maxpool2d_select(exp(x), sin(x), size = 3, stride = 1)",
      "maxpool2d_grad(exp(x), sin(g), size = 3, stride = 1)", "avgpool2d_grad(exp(g), 6, 6, size = 3, stride = 1)"]) {
      const { plan } = planOf(`input x: [1, 2, 6, 6]\ninput g: [1, 2, 4, 4]\ny = ${call}\noutput y`);
      const stored = ops(plan.materialized);
      for (const op of ["exp", "sin"]) if (call.includes(op)) expect(stored, `${op} in ${call}`).toContain(op);
    }
  });

  it("an elementwise consumer joins maxpool2d, and maxpool2d_grad whose windows tile, not one whose windows overlap", () => {
    const joined = (call: string) => kernelOps(planOf(`input x: [1, 2, 6, 6]\ninput g: [1, 2, 3, 3]\ny = ${call} * 2 + 1\noutput y`).plan);
    // one kernel: the epilogue's, which computes the pool
    expect(joined("maxpool2d(x)")).toEqual(["add"]);
    expect(joined("maxpool2d_grad(x, g)")).toEqual(["add"]);
    expect(joined("maxpool2d_grad(x, g, size = 4, stride = 1)")).toEqual(["maxpool2d_grad", "add"]);
  });

  it("maxpool2d_grad zeroes the rows and columns past its last window, in a buffer used before", () => {
    // m's buffer can be the dead exp(x)'s, which holds no zeros
    const source = `input x: [1, 2, 7, 7]
input g: [1, 2, 3, 3]
e = exp(x)
b = avgpool2d(e, size = 1)
m = maxpool2d_grad(b, g, size = 2)
y = avgpool2d(m, size = 1)
output y`;
    expectSameValues(source, [{ x: values(98, 14), g: values(18, 15) }]);
  });
});

describe("diagnostics of the pool built-ins", () => {
  const cases: [string, string, string, number, number, RegExp][] = [
    ["an input of rank 5", "input x: [1, 1, 3, 8, 8]\ny = maxpool2d(x)", "E0214", 2, 5, /^maxpool2d: the input must be \[batch, channels, height, width\], but this is \[1, 1, 3, 8, 8\]/],
    ["a free height", "dim h\ninput x: [1, 1, h, 8]\ny = avgpool2d(x)", "E0214", 3, 5, /^avgpool2d: the input's height and width must be known sizes, but this is \[1, 1, h, 8\]/],
    ["a free width", "dim w\ninput x: [1, 1, 8, w]\ny = maxpool2d(x)", "E0214", 3, 5, /^maxpool2d: the input's height and width must be known sizes/],
    ["a window taller than the input", "input x: [1, 1, 3, 8]\ny = avgpool2d(x, size = 4)", "E0214", 2, 5, /^avgpool2d: the 4x4 window is larger than the 3x8 input/],
    ["a window wider than the input", "input x: [1, 1, 8, 3]\ny = maxpool2d(x, size = 4)", "E0214", 2, 5, /^maxpool2d: the 4x4 window is larger than the 8x3 input/],
    ["maxpool2d_grad's x", "input x: [2, 8, 8]\ninput g: [1, 2, 4, 4]\ny = maxpool2d_grad(x, g)", "E0214", 3, 5, /^maxpool2d_grad: the input must be/],
    ["maxpool2d_select's x", "input x: [2, 8, 8]\ny = maxpool2d_select(x, x)", "E0214", 2, 5, /^maxpool2d_select: the input must be/],
    ["avgpool2d_grad's plane", "input g: [1, 1, 2, 2]\ny = avgpool2d_grad(g, 1, 8)", "E0214", 2, 5, /^avgpool2d_grad: the 2x2 window is larger than the 1x8 input/],
    ["avgpool2d_grad's g", "input g: [1, 2, 2]\ny = avgpool2d_grad(g, 4, 4)", "E0214", 2, 5, /^avgpool2d_grad: the output gradient must be \[batch, channels, height, width\], but this is \[1, 2, 2\]/],
  ];
  for (const [what, source, code, line, column, message] of cases) {
    it(what, () => {
      const g = compileError(source, "pool.grad");
      expect({ code: g.code, line: g.line, column: g.column }).toEqual({ code, line, column });
      expect(g.message).toMatch(message);
    });
  }

  it("attributes the built-ins cannot pass: a window or stride that is not a positive integer, a plane of 0", () => {
    const message = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(GradcError);
        return `${(e as GradcError).code} ${(e as GradcError).message}`;
      }
      return "no error";
    };
    const pool = (attrs: Attrs) => () => maxpool2d.shape([[1, 1, 8, 8]], attrs, undefined, []);
    expect(message(pool({ size: 2.5, stride: 1 }))).toMatch(/^E0214 maxpool2d: the window size must be a positive integer, found 2.5/);
    expect(message(pool({ size: "2", stride: 1 }))).toMatch(/^E0214 maxpool2d: the window size must be a positive integer, found 2/);
    expect(message(pool({ size: 2, stride: 1.5 }))).toMatch(/^E0214 maxpool2d: stride must be a positive integer, found 1.5/);
    expect(pool({ size: 2, stride: 1 })()).toEqual([1, 1, 7, 7]);
    const grad = (height: unknown, width: unknown) => () =>
      avgpool2dGrad.shape([[1, 1, 2, 2] as Shape], { size: 2, stride: 2, height, width } as Attrs, undefined, []);
    for (const [h, w] of [[0, 4], [4, 0], [4.5, 4], [4, "4"]]) {
      expect(message(grad(h, w)), `${h} x ${w}`).toMatch(/^E0214 avgpool2d_grad: `height` and `width` must be positive integers/);
    }
    expect(grad(4, 4)()).toEqual([1, 1, 4, 4]);
  });
});

describe("printed gradients through pools are programs", () => {
  it("every pool record, and the records of their gradients", () => {
    const source = `param x: [1, 2, 7, 6]
param q: [1, 2, 3, 2]
a = maxpool2d(x, size = 3, stride = 2)
b = avgpool2d(x, size = 3, stride = 2)
c = maxpool2d_grad(x, q, size = 3, stride = 2)
d = maxpool2d_select(x, x * x, size = 3, stride = 2)
e = avgpool2d_grad(q, 7, 6, size = 3, stride = 2)
minimize sum(a * a) + sum(b * b) + sum(c * c) + sum(d * d) + sum(e * e)`;
    const model = compile(source, { dtype: "f64", filename: "pool.grad" });
    const printed = compile(gradientProgram(source, model.meta), { dtype: "f64", filename: "printed.grad" });
    const values = convValues(model.meta, 5);
    const { grads } = model.valueAndGrad(values);
    const got = printed.forward(values);
    for (const p of model.meta.params) expectClose(got[`d_${p.name}`] as Float64Array, grads[p.name]!, 1e-12, `d_${p.name}`);
  });
});

describe("on the wasm target", () => {
  it("every pool record has a kernel", () => {
    const source = `input x: [1, 2, 6, 6]
input g: [1, 2, 3, 3]
y = maxpool2d(x) + avgpool2d(x) + maxpool2d_select(x, x * 2)
z = maxpool2d_grad(x, g) + avgpool2d_grad(g, 6, 6)
output y, z`;
    const inputs = { x: Float32Array.from(values(72, 16)), g: Float32Array.from(values(18, 17)) };
    const js = compile(source, { filename: "pool.grad" }).forward(inputs);
    const wasm = compile(source, { filename: "pool.grad", target: "wasm" }).forward(inputs);
    for (const o of ["y", "z"]) expect(Array.from(wasm[o] as Float32Array), o).toEqual(Array.from(js[o] as Float32Array));
  });
});
