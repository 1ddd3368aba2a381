// The pooling records (src/ops/pool.ts) as emitted kernels: every pool op compiled on its
// own over windows that tile the plane (with rows and columns left over), overlap, leave
// gaps, hold one tap, 16 taps (the most written out) or 25 (a loop), on a non-square plane
// with two batch elements and two channels, checked bit for bit against the interpreter
// with ties, -0, NaN and infinities (which tap a gradient goes to, and the sign of a
// zero, are where the kernels differ); the max-pools fused into a conv's loop with their
// first-maximum taps stored (a window width that is a power of two and one that is not);
// a fused epilogue; gradients of every record against the interpreter.

import { describe, expect, it } from "vitest";
import { compile } from "../../src/index";
import { evaluate } from "../../src/interpret";
import { lowerSource } from "../../src/lower";
import { expectMatchesInterpreter, randomValues } from "../builtins/helpers";
import { rng } from "../helpers/random";
import { expectValuesAgree, planOf } from "../schedule/helpers";

/** The emitted forward (f64) against the interpreter at each set of inputs, element by
 *  element with Object.is (NaN equals NaN, -0 differs from +0). */
function expectSameValues(source: string, sets: Record<string, Float64Array>[]): void {
  const program = lowerSource(source, { filename: "pool.grad" });
  const model = compile(source, { dtype: "f64", filename: "pool.grad" });
  for (const inputs of sets) expectSame(program, model.forward(inputs), inputs);
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
      expectValuesAgree(source);
      // a constant input: every window a tie, each gradient at its first tap
      expectValuesAgree(source, {}, { x: Array.from({ length: 338 }, () => 1) });
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
