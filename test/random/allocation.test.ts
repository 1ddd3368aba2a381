// Drawing keeps the zero-allocation contract: steady-state step, forward, valueAndGrad and
// predict of models with rand, randn and dropout cause no young-generation collection
// (counted in a separate process with a 1 MB nursery, as test/codegen/allocation.test.ts
// does), for a small model (one function per call) and a large one (kernel functions).

import { describe, expect, it } from "vitest";
import { compileToSource } from "../../src/index";
import { scavengesDuring } from "../helpers/gc";

/** Scavenges over `rounds` of step, forward, valueAndGrad and predict. */
function minorGcs(source: string, values: string, rounds: number): { gcs: number; result: number } {
  return scavengesDuring(compileToSource(source, { format: "esm" }).text, `
const values = ${values};
function measure() {
  let s = 0;
  for (let i = 0; i < ${rounds}; i++) {
    s += model.step(values);
    s += model.forward(values).loss;
    s += model.valueAndGrad(values).value;
    s += model.predict(values).out[0];
  }
  return s;
}`) as { gcs: number; result: number };
}

describe("allocation with draws", () => {
  it("a small model: 20,000 rounds cause no GC", () => {
    const source = `input x: [4, 3]
input y: [4, 1]
param w1: [3, 8] = glorot_uniform
param w2: [8, 1] = glorot_uniform
h = dropout(tanh(x @ w1 + randn([4, 8]) * 0.01), 0.2)
out = sigmoid(h @ w2) + rand([4, 1]) * 0
loss = mean((out - y) ^ 2)
output out
minimize loss with adam(lr = 0.01)`;
    const { gcs, result } = minorGcs(source, "{ x: new Float32Array(12).fill(0.5), y: Float32Array.of(0, 1, 1, 0) }", 20_000);
    expect(Number.isFinite(result)).toBe(true);
    expect(gcs).toBe(0);
  });

  it("a large model (kernel functions): 500 rounds cause no GC", () => {
    const source = `input x: [64, 32]
input y: [64, 1]
param w1: [32, 64] = glorot_uniform
param w2: [64, 1] = glorot_uniform
h = dropout(relu(x @ w1 + randn([64, 64]) * 0.01), 0.5)
out = h @ w2 + rand([64, 1]) * 0
loss = mean((out - y) ^ 2)
output out
minimize loss with sgd(lr = 0.01)`;
    const { gcs, result } = minorGcs(source, "{ x: new Float32Array(2048).fill(0.1), y: new Float32Array(64).fill(1) }", 500);
    expect(Number.isFinite(result)).toBe(true);
    expect(gcs).toBe(0);
  });
});
