// scan's emitted loop at run time: draws inside the cell differ per step and replay from
// the seed, runtime helpers a cell calls (erf, mod) are declared in the module, and the
// gradient is one reverse loop. (A steady-state call allocates nothing: allocation.test.ts.)

import { describe, expect, it } from "vitest";
import { compile, compileToSource, gradcheck } from "../../src/index";
import { evaluate } from "../../src/interpret";
import { lowerSource } from "../../src/lower";
import { gru } from "./models";

describe("scan at run time", () => {
  it("the gradient of a scan is one loop running backwards (one forward, one reverse scan in valueAndGrad)", () => {
    const text = compileToSource(gru("t")).text;
    const run = text.slice(text.indexOf("function run_grad"), text.indexOf("function valueAndGrad"));
    const called = [...run.matchAll(/kernel_scan(_\d+)?\(/g)].map((m) => m[0]);
    expect(new Set(called).size).toBe(2);
  });

  it("rand, randn and dropout in a cell draw anew at each step, replayable from the seed, and gradcheck", () => {
    const src = `input xs: [5, 2, 3]
input h0: [2, 3]
param w: [3, 3]
fn cell(h, x) = dropout(tanh(h @ w + x), 0.5) + rand([2, 3]) + randn([3]) * 0.1
hs = scan(cell, h0, xs)
output hs
minimize sum(hs * hs)`;
    const model = compile(src, { dtype: "f64", seed: 7 });
    const xs = new Float64Array(30).fill(0), h0 = new Float64Array(6).fill(0);
    const params = model.createParams(2);
    // With zero inputs and carry, tanh(0) = 0: each row is rand + 0.1 * randn alone.
    const state = model.randomState!();
    const first = Float64Array.from(model.valueAndGrad({ xs, h0, ...params }) && model.forward({ xs, h0, ...params }).hs as Float64Array);
    const rows = Array.from({ length: 5 }, (_, t) => Array.from(first.slice(t * 6, t * 6 + 6)));
    for (let t = 1; t < 5; t++) expect(rows[t]).not.toEqual(rows[0]);
    // The interpreter, at the same generator state, agrees.
    const p = lowerSource(src);
    const hs = p.outputs[0]!.node;
    const ref = evaluate([hs], { values: new Map<string, ArrayLike<number>>([["xs", xs], ["h0", h0], ...Object.entries(params)]), random: { seed: state.seed, calls: state.calls + 1 }, training: false }).get(hs)!.data;
    Array.from(first).forEach((v, i) => expect(Math.abs(v - ref[i]!)).toBeLessThan(1e-12));
    // Replay: the same state gives the same draws.
    model.reseed!(state.seed, state.calls + 1);
    expect(Array.from(model.forward({ xs, h0, ...params }).hs as Float64Array)).toEqual(Array.from(first));
    // Dropout in training: the masks differ per step too, and the gradient uses the same masks.
    const r = gradcheck(src, { points: 2, seed: 3 });
    expect(r.ok, JSON.stringify(r).slice(0, 400)).toBe(true);
  });

  it("runtime helpers a cell calls (erf, mod, round) are declared in the module", () => {
    const src = `input xs: [4, 3]
input h0: [3]
param w: [3]
fn cell(h, x) = erf(h * w + x) + mod(x, 0.7) * 0.1 + round(x * 3) * 0.01
hs = scan(cell, h0, xs)
output hs
minimize sum(hs * hs)`;
    const model = compile(src, { dtype: "f64" });
    const xs = Float64Array.from({ length: 12 }, (_, i) => Math.sin(i)), h0 = Float64Array.of(0.1, -0.2, 0.3);
    const params = model.createParams(1);
    const out = model.forward({ xs, h0, ...params }).hs as Float64Array;
    const p = lowerSource(src);
    const hs = p.outputs[0]!.node;
    const ref = evaluate([hs], { values: new Map<string, ArrayLike<number>>([["xs", xs], ["h0", h0], ...Object.entries(params)]) }).get(hs)!.data;
    Array.from(out).forEach((v, i) => expect(Math.abs(v - ref[i]!)).toBeLessThan(1e-12));
    const text = compileToSource(src, { format: "esm" }).text;
    expect(text).toMatch(/function erf\w*\(/);
    expect(gradcheck(src, { points: 2 }).ok).toBe(true);
  });

  it("a Hessian-vector product through a scan, differentiated once more, compiles and gradchecks (scans of scans' gradients)", () => {
    const src = `input xs: [4, 2, 3]
input h0: [2, 3]
input v: [3, 3]
param w: [3, 3]
fn cell(h, x) = tanh(h @ w + x)
hs = scan(cell, h0, xs)
loss = sum(hs * hs)
hvp = grad(sum(grad(loss, w) * v), w)
output hvp
minimize loss + sum(hvp * hvp) * 0.01`;
    const r = gradcheck(src, { points: 2 });
    expect(r.ok, JSON.stringify(r).slice(0, 400)).toBe(true);
  });
});
