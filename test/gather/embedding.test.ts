// The embedding model end to end (examples/embedding): a 10,000-word table, 32-d rows,
// 64 ids per step. It compiles, its gradient passes gradcheck, training lowers the loss,
// and it agrees with the same model written with one_hot(ids, V) @ E.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile, gradcheck } from "../../src/index";
import { rng } from "../helpers/random";

const source = readFileSync(new URL("../../examples/embedding/embedding.grad", import.meta.url), "utf8");
const V = 10000;
const B = 64;

/** 64 ids and one-hot targets: the class of an id is id mod 10, a rule the model can learn. */
function batch(seed: number): { ids: Float32Array; target: Float32Array } {
  const r = rng(seed);
  const ids = Float32Array.from({ length: B }, () => Math.floor(r() * 200) * 37 % V);
  const target = new Float32Array(B * 10);
  ids.forEach((id, i) => { target[i * 10 + (id % 10)] = 1; });
  return { ids, target };
}

describe("embedding model (vocabulary 10,000, dim 32, 64 ids)", () => {
  it("compiles, and its step trains: the loss falls", () => {
    const m = compile(source, { filename: "embedding.grad" });
    expect(m.meta.params.map((p) => p.shape)).toEqual([[V, 32], [32, 10]]);
    const data = [1, 2, 3, 4].map(batch);
    const before = data.reduce((s, d) => s + (m.forward(d).loss as number), 0);
    for (let epoch = 0; epoch < 30; epoch++) for (const d of data) m.step(d);
    const after = data.reduce((s, d) => s + (m.forward(d).loss as number), 0);
    expect(before / 4).toBeGreaterThan(2);
    expect(after / 4).toBeLessThan(0.5 * (before / 4));
  });

  it("passes gradcheck (f64, the table's touched rows and the readout)", () => {
    const small = source.replace("[10000, 32]", "[50, 8]").replace("[32, 10]", "[8, 10]");
    const m = compile(small, { dtype: "f64", filename: "embedding.grad" });
    const r = rng(5);
    const ids = Float64Array.from({ length: 6 }, () => Math.floor(r() * 50));
    const target = new Float64Array(60).map((_, i) => (i % 10 === 3 ? 1 : 0));
    const { grads } = m.valueAndGrad({ ids, target });
    // central differences of the loss at the rows the ids touch
    const h = 1e-6;
    for (const id of ids) {
      for (let k = 0; k < 8; k++) {
        const E = Float64Array.from(m.params.E!);
        E[id * 8 + k]! += h;
        const plus = m.forward({ ids, target, E }).loss as number;
        E[id * 8 + k]! -= 2 * h;
        const minus = m.forward({ ids, target, E }).loss as number;
        expect(Math.abs((plus - minus) / (2 * h) - grads.E![id * 8 + k]!)).toBeLessThan(1e-8);
      }
    }
    // untouched rows get exactly zero
    const touched = new Set(ids);
    for (let row = 0; row < 50; row++) if (!touched.has(row)) expect(grads.E!.subarray(row * 8, row * 8 + 8).every((g) => g === 0)).toBe(true);
    // the library's gradcheck, with the ids written into the program
    const lib = gradcheck([
      "input target: [6, 10]", "param E: [50, 8]", "param W: [8, 10]",
      "minimize cross_entropy(take(E, tensor([3, 17, 3, 49, 0, 8])) @ W, target)",
    ].join("\n"));
    expect(lib.ok, JSON.stringify(lib.params)).toBe(true);
  });

  it("computes what one_hot(ids, V) @ E computes", () => {
    const viaOneHot = source.replace("take(E, ids) @ W", "(one_hot(ids, 10000) @ E) @ W");
    const a = compile(source, { dtype: "f64" });
    const b = compile(viaOneHot, { dtype: "f64" });
    const d = batch(9);
    const values = { ids: Float64Array.from(d.ids), target: Float64Array.from(d.target) };
    const ga = a.valueAndGrad(values);
    const gb = b.valueAndGrad(values);
    expect(Math.abs(ga.value - gb.value)).toBeLessThan(1e-12);
    for (const p of ["E", "W"]) {
      const x = ga.grads[p]!, y = gb.grads[p]!;
      let worst = 0;
      for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
      expect(worst, p).toBeLessThan(1e-12);
    }
  });
});
