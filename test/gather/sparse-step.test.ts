// Sparse SGD: a table whose gradient is one scatter_add (read only through take) is
// updated row by row in `step`, so a step costs O(ids * row), not O(vocabulary * row). The
// result is the dense update p - lr * valueAndGrad's gradient (up to rounding), for small
// and large models, repeated, computed and free-dim ids; other optimizers stay dense.

import { describe, expect, it } from "vitest";
import { compile } from "../../src/index";
import { expectClose } from "../builtins/helpers";

/** One step against the dense update from valueAndGrad, on copies of the same params. */
function expectStepIsDenseUpdate(source: string, values: Record<string, Float64Array>, lr: number): void {
  const m = compile(source, { dtype: "f64" });
  const before = Object.fromEntries(Object.entries(m.params).map(([k, v]) => [k, Float64Array.from(v)]));
  const { grads } = m.valueAndGrad(values);
  const want = Object.fromEntries(Object.entries(before).map(([k, v]) => [k, v.map((x, i) => x - lr * grads[k]![i]!)]));
  m.step(values);
  for (const name of Object.keys(want)) expectClose(m.params[name]!, want[name]!, 1e-14, name);
}

describe("sparse SGD for take", () => {
  it("matches the dense update, repeated ids included (small model)", () => {
    expectStepIsDenseUpdate(`input ids: [2, 3]\nparam E: [6, 4]\nparam w: [4]\nminimize sum(tanh(take(E, ids) * w))`, { ids: Float64Array.from([5, 0, 5, 2, 5, 0]) }, 0.01);
    expectStepIsDenseUpdate(`input ids: [2, 3]\nparam E: [6, 4]\nparam w: [4]\nminimize sum(tanh(take(E, ids) * w)) with sgd(lr = 0.3)`, { ids: Float64Array.from([5, 0, 5, 2, 5, 0]) }, 0.3);
  });

  it("matches the dense update for a large model, free-dim and computed ids", () => {
    const big = `dim n\ninput ids: [n]\nparam E: [5000, 16]\nparam W: [16, 8]\nminimize sum(logsumexp(take(E, ids * 2) @ W, axis = 1)) with sgd(lr = 0.1)`;
    for (const n of [3, 64]) {
      expectStepIsDenseUpdate(big, { ids: Float64Array.from({ length: n }, (_, i) => (i * 997) % 2500) }, 0.1);
    }
  });

  it("updates a table read at arange ids (position embeddings) densely, as the ids have no buffer", () => {
    const ids = { ids: Float64Array.from([5, 0, 5, 2, 1, 1, 3, 0]) };
    expectStepIsDenseUpdate(`input ids: [2, 4]\nparam E: [6, 3]\nparam P: [4, 3]\nminimize sum(tanh(take(E, ids) + take(P, arange(4))))`, ids, 0.01);
    expectStepIsDenseUpdate(`input ids: [2, 4]\nparam E: [6, 3]\nparam P: [4, 3]\nminimize sum(tanh(take(E, ids) + take(P, reshape(arange(4), [1, 4]))))`, ids, 0.01);
  });

  it("does not read or zero the dense gradient in step", () => {
    const source = compile(`input ids: [64]\nparam E: [10000, 32]\nminimize sum(take(E, ids) ^ 2) with sgd(lr = 0.1)`).source;
    const step = source.slice(source.indexOf("function run_step"));
    expect(step).toMatch(/p_E\[\w+ \* 32 \+ \w+\] -= 0\.1 \*/);
    expect(step).not.toMatch(/< 320000/);
    // valueAndGrad still returns the dense gradient
    expect(source.slice(source.indexOf("function run_grad"), source.indexOf("function run_step"))).toMatch(/kernel_scatter_add|< 320000/);
  });

  it("leaves momentum and Adam on their dense update: rows no id names stay put", () => {
    for (const opt of ["momentum(lr = 0.1)", "adam(lr = 0.1)"]) {
      const m = compile(`input ids: [2]\nparam E: [3, 2]\nminimize sum(take(E, ids) ^ 2) with ${opt}`, { dtype: "f64" });
      const ids = Float64Array.from([0, 0]);
      const untouched = Float64Array.from(m.params.E!.subarray(2));
      m.step({ ids });
      m.step({ ids });
      expect([...m.params.E!.subarray(2)]).toEqual([...untouched]);
      expect(m.params.E![0]).not.toBe(0);
    }
  });

  it("still checks the ids before updating anything", () => {
    const m = compile(`input ids: [2]\nparam E: [3, 2]\nminimize sum(take(E, ids) ^ 2) with sgd(lr = 0.1)`, { dtype: "f64" });
    const before = Float64Array.from(m.params.E!);
    expect(() => m.step({ ids: Float64Array.from([0, 3]) })).toThrow(/`ids` holds 3 at index \[1\]/);
    expect([...m.params.E!]).toEqual([...before]);
  });
});
