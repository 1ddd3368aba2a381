// The id checks and gathers keep the zero-allocation contract: steady-state calls of a
// model with take, one_hot and computed ids cause no young-generation collection (counted
// in a separate process with a 1 MB nursery, as test/codegen/allocation.test.ts does).

import { describe, expect, it } from "vitest";
import { compileToSource } from "../../src/index";
import { scavengesDuring } from "../helpers/gc";

const model = [
  "dim n",
  "input ids: [n]",
  "input labels: [n]",
  "param E: [50, 8]",
  "param W: [8, 4]",
  "h = take(E, ids) + take(E, ids * 0 + 3)",
  "logits = tanh(h @ W) + tril(ones([n, n])) @ one_hot(labels, 4)",
  "minimize cross_entropy(logits, one_hot(labels, 4)) with adam(lr = 0.01)",
].join("\n");

describe("allocation with take and id checks", () => {
  it("50,000 rounds of step, forward and valueAndGrad cause no GC", () => {
    const { gcs, result } = scavengesDuring(compileToSource(model, { format: "esm" }).text, `
const values = { ids: Float32Array.from([1, 49, 7, 1, 0, 3]), labels: Float32Array.from([0, 3, 2, 1, 1, 0]) };
function measure() {
  let s = 0;
  for (let i = 0; i < 50000; i++) { s += model.step(values); s += model.forward(values).objective; s += model.valueAndGrad(values).value; }
  return s;
}`);
    expect(Number.isFinite(result as number)).toBe(true);
    expect(gcs).toBe(0);
  });
});
