// Which max-pools run inside their conv's loop (fusePools in src/schedule/plan.ts): a
// max-pool whose windows tile the plane (stride = size), over a conv kernel's value read by
// the pool alone or also by maxpool2d_grad over the same windows. Each refusal below is a
// case where fusing computes wrong numbers (an overlapping window missing its taps, a conv
// output another reader needs in full, a gradient reading other windows' maxima), so each
// checks the plan and that the emitted forward agrees with the interpreter.
import { describe, expect, it } from "vitest";
import type { Node } from "../../src/ir";
import { buildModel, compile, compileToSource } from "../../src/index";
import { evaluate } from "../../src/interpret";
import { lowerSource } from "../../src/lower";
import { rng } from "../helpers/random";
import { expectValuesAgree, kernelOps, planOf } from "./helpers";

const ops = (nodes: Iterable<Node>) => [...nodes].map((n) => n.op.name);
/** The plan of `body` after a conv c = conv2d(x, k) of shape [1, 2, 6, 6] (or `conv`). */
const model = (body: string, conv = "conv2d(x, k)", x = "[1, 1, 8, 8]", k = "[2, 1, 3, 3]") => `input x: ${x}
param k: ${k} = glorot_uniform
c = ${conv}
${body}`;

function expectFused(source: string, dims: Record<string, number> = {}): void {
  const { plan } = planOf(source);
  expect(ops(plan.pooledConvs.values())).toEqual(["conv"]);
  expect(kernelOps(plan)).not.toContain("conv");
  expect(ops(plan.materialized)).not.toContain("conv");
  expectValuesAgree(source, dims);
}

function expectNotFused(source: string, inputs: Record<string, number[]> = {}): void {
  const { plan } = planOf(source);
  expect(plan.pooledConvs.size).toBe(0);
  expect(plan.firstMaxTaps.size).toBe(0);
  expect(kernelOps(plan)).toContain("conv");
  expectValuesAgree(source, {}, inputs);
}

describe("pools fused into their conv's loop", () => {
  it("a tiling max-pool, with padding, a plane the windows do not cover whole, a free batch", () => {
    expectFused(model("p = maxpool2d(c, size = 2)\noutput p"));
    expectFused(model("p = maxpool2d(c, size = 2)\noutput p", "conv2d(x, k, padding = 1)"));
    // c is [1, 2, 7, 7]: the last row and column belong to no window.
    expectFused(model("p = maxpool2d(c, size = 2)\noutput p", "conv2d(x, k)", "[1, 1, 9, 9]"));
    expectFused(model("p = maxpool2d(c, size = 3, stride = 3)\noutput p", "conv2d(x, k, dilation = 2)", "[1, 1, 10, 10]"));
    expectFused(model("p = maxpool2d(c, size = 2)\noutput p", "conv2d(x, k, groups = 2)", "[1, 2, 8, 8]", "[4, 1, 3, 3]"));
    expectFused(`dim n\n${model("p = maxpool2d(c, size = 2)\noutput p", "conv2d(x, k)", "[n, 1, 8, 8]")}`, { n: 2 });
  });

  it("with maxpool2d_grad over the same windows, c keeps each window's first-maximum tap", () => {
    const source = model("p = maxpool2d(c, size = 2)\ng = maxpool2d_grad(c, p * p, size = 2)\noutput p, g");
    const { plan } = planOf(source);
    expect(ops(plan.pooledConvs.values())).toEqual(["conv"]);
    const [c] = [...plan.firstMaxTaps.keys()];
    expect(c?.op.name).toBe("conv");
    expect(plan.kernels.includes(c!)).toBe(false);
    expect(plan.slots[plan.slotOf.get(c!)!]!.coef).toBe(2 * 3 * 3);
    expectValuesAgree(source);
  });
});

describe("pools fused into their conv's loop: ties, zeros' signs, NaN and infinities", () => {
  // A 1x1 conv by 1 and -1 passes x's special values through unchanged (x * 1 is x, -0
  // included), so windows hold ties, -0 beside 0, NaN first or later, and infinities: the
  // window maximum (Math.max: NaN wins, +0 beats -0) and its first-maximum tap (the first
  // NaN, else the first of equal maxima), which the routed gradient shows, must agree
  // exactly (Object.is) with the interpreter, with and without a relu between.
  const specials = [0, -0, 1, 1, NaN, 2, Infinity, -Infinity, NaN, -1, 0, 0, 3, 3, -0, 0.5, -0, -0];
  const source = (conv: string) => `input x: [2, 1, 6, 6]
input k: [2, 1, 1, 1]
input h: [2, 2, 3, 3]
c = ${conv}
p = maxpool2d(c, size = 2)
g = maxpool2d_grad(c, h, size = 2)
output p, g`;
  for (const conv of ["conv2d(x, k)", "relu(conv2d(x, k))", "tanh(conv2d(x, k))"]) {
    it(`${conv}: f64 emitted code agrees exactly with the interpreter`, () => {
      const text = source(conv);
      const { plan } = planOf(text);
      expect(plan.pooledConvs.size).toBe(1);
      expect(plan.firstMaxTaps.size).toBe(1);
      const r = rng(5);
      // the first rows: every window two ties, -0 before 0, a NaN first or last, ...
      const x = Float64Array.from({ length: 72 }, (_, i) => (i < 36 ? specials[i % specials.length]! : specials[Math.floor(r() * specials.length)]!));
      const k = Float64Array.of(1, -1);
      const h = Float64Array.from({ length: 36 }, (_, i) => i + 1);
      const program = lowerSource(text, { filename: "pool-specials.grad" });
      const model = buildModel(program);
      const want = evaluate(model.outputs, { values: new Map([["x", x], ["k", k], ["h", h]]) });
      const got = compile(text, { dtype: "f64" }).forward({ x, k, h });
      const show = (v: number) => (Object.is(v, -0) ? "-0" : String(v));
      program.outputs.forEach((o, j) => {
        const w = want.get(model.outputs[j]!)!.data;
        const e = got[o.name] as Float64Array;
        for (let i = 0; i < w.length; i++) expect(Object.is(e[i], w[i]), `${o.name}[${i}]: emitted ${show(e[i]!)}, interpreter ${show(w[i]!)}`).toBe(true);
      });
    });
  }
});

describe("a relu last in the pooled conv's epilogue", () => {
  // The window keeps the running maximum of relu's input from 0 (emitConvPooled): one
  // comparison per value, with no NaN test and no Math.max for a 0's sign. Other
  // epilogues keep the NaN-aware maximum (their values against the interpreter above).
  const text = (conv: string) => compileToSource(`input x: [2, 1, 6, 6]
input k: [2, 1, 1, 1]
c = ${conv}
p = maxpool2d(c, size = 2)
output p`, { format: "esm" }).text;
  it("relu(conv): one comparison per value", () => {
    const t = text("relu(conv2d(x, k))");
    expect(t).not.toContain("Math.max(");
    expect(t).not.toMatch(/if \((m\w*) === \1\)/);
    expect(t).toMatch(/if \(v\w* > m\w*\)/);
  });
  it("tanh(conv), a conv alone: the NaN-aware maximum", () => {
    for (const conv of ["tanh(conv2d(x, k))", "conv2d(x, k)", "relu(conv2d(x, k)) * 2"]) {
      const t = text(conv);
      expect(t, conv).toContain("Math.max(");
      expect(t, conv).toMatch(/if \((m\w*) === \1\)/);
    }
  });
});

describe("pools not fused", () => {
  it("windows that overlap (stride < size) or leave gaps (stride > size)", () => {
    expectNotFused(model("p = maxpool2d(c, size = 3, stride = 1)\noutput p"));
    expectNotFused(model("p = maxpool2d(c, size = 2, stride = 3)\noutput p"));
  });

  it("an average pool", () => {
    expectNotFused(model("p = avgpool2d(c, size = 2)\noutput p"));
  });

  it("windows of more than 16 taps", () => {
    expectNotFused(model("p = maxpool2d(c, size = 5)\noutput p", "conv2d(x, k)", "[1, 1, 12, 12]"));
  });

  it("a max-pool over a kernel other than a conv, or over an input", () => {
    const source = "input x: [1, 2, 8, 8]\nc = avgpool2d(x, size = 2)\np = maxpool2d(c, size = 2)\noutput p";
    const { plan } = planOf(source);
    expect(plan.pooledConvs.size).toBe(0);
    expect(kernelOps(plan)).toEqual(["avgpool2d", "maxpool2d"]);
    expectValuesAgree(source);
    const direct = "input x: [1, 2, 8, 8]\np = maxpool2d(x, size = 2)\noutput p";
    expect(planOf(direct).plan.pooledConvs.size).toBe(0);
    expectValuesAgree(direct);
  });

  it("the conv's value returned too", () => {
    expectNotFused(model("p = maxpool2d(c, size = 2)\noutput p, c"));
  });

  it("the conv's value read by another consumer", () => {
    expectNotFused(model("p = maxpool2d(c, size = 2)\ns = sum(c)\noutput p, s"));
    expectNotFused(model("p = maxpool2d(c, size = 2)\nq = maxpool2d(c, size = 3)\noutput p, q"));
    // Another reader over the same windows: an average pool, maxpool2d_select.
    expectNotFused(model("p = maxpool2d(c, size = 2)\nq = avgpool2d(c, size = 2)\noutput p, q"));
    expectNotFused(`input h: [1, 2, 6, 6]\n${model("p = maxpool2d(c, size = 2)\nq = maxpool2d_select(c, h, size = 2)\noutput p, q")}`);
  });

  it("maxpool2d_grad over other windows, or reading c as the cotangent (too)", () => {
    // c [1, 2, 6, 6]; h has the shape of the other pool's output, [1, 2, 2, 2].
    const h = { h: Array.from({ length: 8 }, (_, i) => 1 + i) };
    expectNotFused(`input h: [1, 2, 2, 2]\n${model("p = maxpool2d(c, size = 2)\ng = maxpool2d_grad(c, h, size = 3)\noutput p, g")}`, h);
    expectNotFused(`input h: [1, 2, 2, 2]\n${model("p = maxpool2d(c, size = 2)\ng = maxpool2d_grad(c, h, size = 2, stride = 3)\noutput p, g")}`, h);
    expectNotFused(`input h: [1, 2, 2, 2]\n${model("p = maxpool2d(c, size = 2)\ng = maxpool2d_grad(c, h, size = 3, stride = 2)\noutput p, g")}`, h);
    // y [1, 2, 12, 12] pooled by 2 has c's shape: c is the cotangent, read in full.
    expectNotFused(`input y: [1, 2, 12, 12]\n${model("p = maxpool2d(c, size = 2)\ng = maxpool2d_grad(y, c, size = 2)\noutput p, g")}`);
    // Windows of one element: c is both the pooled value and the cotangent.
    expectNotFused(model("p = maxpool2d(c, size = 1)\ng = maxpool2d_grad(c, c, size = 1)\noutput p, g"));
  });
});
