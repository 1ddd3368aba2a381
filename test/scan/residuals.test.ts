// A loop's gradient reads what its forward steps saved (src/ops/scan.ts: residualsOf,
// mergeLoops): the forward loop keeps its products and transcendental values as extra
// ys, the gradient loop recomputes only cheap arithmetic from them, and a step runs one
// forward loop, not one for the outputs and another saving for the gradient.

import { describe, expect, it } from "vitest";
import { compile, compileToSource, gradcheck } from "../../src/index";
import { nodesWithBodies, type Node } from "../../src/ir";

const gru = `input xs: [6, 2, 3]
input h0: [2, 4]
param wz: [3, 4]
param uz: [4, 4]
param wn: [3, 4]
param un: [4, 4]
fn cell(h, x) {
  z = sigmoid(x @ wz + h @ uz)
  n = tanh(x @ wn + (z * h) @ un)
  (1 - z) * n + z * h
}
hs = scan(cell, h0, xs)
output hs
minimize sum(hs * hs)`;

/** The loops of the step's roots: the forward ones, then the gradient ones. */
function loops(source: string): { forward: Node[]; backward: Node[] } {
  const { model } = compileToSource(source, { dtype: "f64" });
  const all = nodesWithBodies([model.objective!, ...model.grads!]).filter((n) => n.body !== undefined);
  const isGrad = (n: Node) => String(n.attrs.cell ?? "").endsWith("_grad");
  return { forward: all.filter((n) => !isGrad(n)), backward: all.filter(isGrad) };
}

/** The matmuls of a body (its own nodes, not a nested loop's). */
function matmuls(loop: Node): Node[] {
  const seen = new Set<Node>(), out: Node[] = [];
  const work = [...loop.body!.results];
  for (let n = work.pop(); n; n = work.pop()) {
    if (seen.has(n)) continue;
    seen.add(n);
    if (n.op.name === "matmul") out.push(n);
    work.push(...n.inputs);
  }
  return out;
}

describe("a loop's gradient reads saved steps", () => {
  it("the GRU's gradient loop runs only the products of the vjp: none of the forward cell's four", () => {
    const { forward, backward } = loops(gru);
    expect(forward).toHaveLength(1);
    expect(backward).toHaveLength(1);
    expect(matmuls(forward[0]!)).toHaveLength(4);
    // per product x @ W of the cell, one for x's cotangent (when needed) and one for W's:
    // h's two (uz, un) for h and W, x's two (wz, wn) for W only (xs is an input); no
    // recomputed x @ wz, h @ uz, x @ wn, (z * h) @ un
    expect(matmuls(backward[0]!)).toHaveLength(6);
    // the forward loop saves z and n (and z * h is recomputed from z and the saved h)
    expect((forward[0]!.attrs.ys as unknown[]).length).toBe(4);
  });

  it("the list form with carries its outputs omit: one forward loop in the step", () => {
    const source = `input xs: [5, 2, 3]
input h0: [2, 3]
input m0: [3]
param w: [3, 3]
fn step(h, m, x, ww) {
  nh = tanh(h @ ww + x * m)
  [nh, m * 0.8 + sum(nh, axis = 0) * 0.1, sin(nh) * m]
}
ys = scan(step, [h0, m0], [xs], [w], out = 2)
output ys
minimize sum(ys * ys)`;
    const { forward, backward } = loops(source);
    expect(forward).toHaveLength(1);
    expect(backward).toHaveLength(1);
    expect(gradcheck(source, { points: 2 }).ok).toBe(true);
  });

  it("gradients agree with finite differences, and forward with the same model's step (T = 1, 6, free)", () => {
    for (const t of ["1", "6"]) expect(gradcheck(gru.replace("[6, 2, 3]", `[${t}, 2, 3]`), { points: 2 }).ok).toBe(true);
    const free = `dim t\n${gru.replace("[6, 2, 3]", "[t, 2, 3]")}`;
    for (const t of [1, 9]) expect(gradcheck(free, { points: 1, dims: { t } }).ok).toBe(true);
    // forward and valueAndGrad compute the same outputs and objective from one loop
    const model = compile(gru, { dtype: "f64" });
    const values = {
      xs: Float64Array.from({ length: 36 }, (_, i) => Math.sin(i)),
      h0: Float64Array.from({ length: 8 }, (_, i) => Math.cos(i) * 0.5),
    };
    const f = model.forward(values);
    const g = model.valueAndGrad(values);
    expect(g.value).toBe(f.objective);
    const hs = f.hs as Float64Array;
    expect(g.value).toBeCloseTo(hs.reduce((a, x) => a + x * x, 0), 12);
  });

  it("a scan of a scan: the outer gradient saves the inner loop's outputs, not the loop", () => {
    const source = `input xs: [3, 4, 2]
input h0: [2]
param w: [2, 2]
fn inner(c, x) = tanh(c @ w + x)
fn outer(h, row) {
  hs = scan(inner, h, row)
  sum(hs, axis = 0) * 0.5
}
out = scan(outer, h0, xs)
minimize sum(out * out)`;
    expect(gradcheck(source, { points: 2 }).ok).toBe(true);
  });
});
