// A transformer block end to end (examples/attention): multi-head causal self-attention on
// [b, h, t, d] tensors with a free batch dim, token embeddings via take plus position
// embeddings via arange, a tril causal mask, layer_norm and a residual gelu MLP. It
// compiles, agrees with the reference interpreter, passes the library's gradcheck (ids
// drawn in range), is causal, runs at two batch sizes, and trains with adam.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile, gradcheck } from "../../src/index";
import { expectClose, interpret } from "../conv/helpers";
import { rng } from "../helpers/random";

const source = readFileSync(new URL("../../examples/attention/attention.grad", import.meta.url), "utf8");
const T = 8;
const V = 24;

/** `b` random sequences; the target at every position is the sequence's first token, so
 *  each position must attend back to position 0 (allowed by the mask). */
function batch(b: number, seed: number): { ids: Float32Array; target: Float32Array } {
  const r = rng(seed);
  const ids = Float32Array.from({ length: b * T }, () => Math.floor(r() * V));
  const target = new Float32Array(b * T * V);
  for (let n = 0; n < b; n++) for (let i = 0; i < T; i++) target[(n * T + i) * V + ids[n * T]!] = 1;
  return { ids, target };
}

const f64 = (x: Float32Array) => Float64Array.from(x);

describe("multi-head causal self-attention block", () => {
  it("compiles with a free batch dim; forward and gradients equal the interpreter's", () => {
    const m = compile(source, { dtype: "f64", filename: "attention.grad" });
    expect(m.meta.inputs).toEqual([{ name: "ids", shape: ["b", T] }, { name: "target", shape: ["b", T, V] }]);
    const d = batch(3, 7);
    const values = { ids: f64(d.ids), target: f64(d.target), ...m.params };
    const want = interpret(source, values as Record<string, Float64Array>, { b: 3 });
    const got = m.valueAndGrad({ ids: values.ids, target: values.target });
    expect(Math.abs(got.value - want.objective!)).toBeLessThan(1e-12);
    for (const p of m.meta.params) expectClose(got.grads[p.name]!, want.grads[p.name]!, 1e-12, p.name);
    expectClose(m.forward({ ids: values.ids, target: values.target }).logits as Float64Array, want.outputs.logits!, 1e-12, "logits");
  });

  it("passes the library's gradcheck (f64, ids drawn in [0, 24))", () => {
    const result = gradcheck(source, { points: 2, seed: 3, dims: { b: 2 } });
    expect(result.params.map((p) => p.name)).toEqual(["E", "P", "wq", "wk", "wv", "wo", "g1", "g2", "w1", "b1", "w2", "b2", "wout"]);
    for (const p of result.params) {
      expect(p.ok, JSON.stringify(p)).toBe(true);
      expect(p.checked, p.name).toBeGreaterThan(0);
    }
    expect(result.ok).toBe(true);
  });

  it("is causal: a later token changes no earlier position's logits", () => {
    const m = compile(source, { dtype: "f64" });
    const d = batch(2, 11);
    const ids = f64(d.ids);
    const changed = Float64Array.from(ids);
    changed[5] = (changed[5]! + 1) % V; // sequence 0, position 5
    // outputs live in the model's buffers until the next call: copy them
    const a = Float64Array.from(m.forward({ ids, target: f64(d.target) }).logits as Float64Array);
    const b = Float64Array.from(m.forward({ ids: changed, target: f64(d.target) }).logits as Float64Array);
    for (let i = 0; i < T; i++) {
      const row = (x: Float64Array) => x.subarray(i * V, (i + 1) * V);
      if (i < 5) expect(row(b)).toEqual(row(a));
      else expect(expectDifferent(row(a), row(b)), `position ${i}`).toBe(true);
    }
    // the other sequence is untouched
    expect(b.subarray(T * V)).toEqual(a.subarray(T * V));
  });

  it("runs at two batch sizes: each sequence's logits do not depend on the batch", () => {
    const m = compile(source, { dtype: "f64" });
    const big = batch(5, 13);
    const small = { ids: f64(big.ids.subarray(0, 3 * T)), target: f64(big.target.subarray(0, 3 * T * V)) };
    const l5 = Float64Array.from(m.forward({ ids: f64(big.ids), target: f64(big.target) }).logits as Float64Array);
    const l3 = m.forward(small).logits as Float64Array;
    expect(l5.length).toBe(5 * T * V);
    expect(l3.length).toBe(3 * T * V);
    expectClose(l3, l5.subarray(0, 3 * T * V), 1e-14, "first three sequences");
    // gradients at either size are finite and differ (the loss averages different batches)
    const g3 = Float64Array.from(m.valueAndGrad(small).grads.E!);
    const g5 = m.valueAndGrad({ ids: f64(big.ids), target: f64(big.target) }).grads.E!;
    expect(g3.every(Number.isFinite) && g5.every(Number.isFinite)).toBe(true);
    expect(expectDifferent(g3, g5)).toBe(true);
  });

  it("trains with adam, alternating batch sizes 16 and 4: the loss falls", () => {
    const m = compile(source, { filename: "attention.grad" });
    const data = [batch(16, 1), batch(4, 2), batch(16, 3), batch(4, 4)];
    const loss = () => data.reduce((s, d) => s + d.ids.length * (m.forward(d).loss as number), 0) / (40 * T);
    const before = loss();
    expect(before).toBeGreaterThan(Math.log(V) * 0.7);
    for (let epoch = 0; epoch < 60; epoch++) for (const d of data) m.step(d);
    const after = loss();
    if (process.env.MODEL_TRAIN_REPORT) console.log(`attention loss ${before} -> ${after}`);
    expect(after).toBeLessThan(0.05 * before);
  });
});

function expectDifferent(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i]! - b[i]!) > 1e-9) return true;
  return false;
}
