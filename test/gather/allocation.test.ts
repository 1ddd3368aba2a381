// The id checks and gathers keep the zero-allocation contract: steady-state calls of a
// model with take, one_hot and computed ids cause no young-generation collection (counted
// in a separate process with a 1 MB nursery, as test/codegen/allocation.test.ts does).

import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileToSource } from "../../src/index";

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
    const dir = mkdtempSync(join(tmpdir(), "gradc-take-gc-"));
    writeFileSync(join(dir, "model.mjs"), compileToSource(model, { format: "esm" }).text);
    writeFileSync(join(dir, "run.mjs"), `
import * as model from "./model.mjs";
import { PerformanceObserver, constants } from "node:perf_hooks";
const values = { ids: Float32Array.from([1, 49, 7, 1, 0, 3]), labels: Float32Array.from([0, 3, 2, 1, 1, 0]) };
function measure(rounds) {
  let s = 0;
  for (let i = 0; i < rounds; i++) { s += model.step(values); s += model.forward(values).objective; s += model.valueAndGrad(values).value; }
  return s;
}
// Warm up (the measured loop's own optimisation included), then collect what that left.
measure(20000);
measure(20000);
globalThis.gc();
globalThis.gc();
let gcs = 0;
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) gcs++;
});
obs.observe({ entryTypes: ["gc"] });
const result = measure(50000);
await new Promise((r) => setTimeout(r, 50));
obs.disconnect();
console.log(JSON.stringify({ gcs, result }));
`);
    const out = execFileSync(process.execPath, ["--expose-gc", "--max-semi-space-size=1", "run.mjs"], { cwd: dir, encoding: "utf8" });
    const { gcs, result } = JSON.parse(out.trim().split("\n").pop()!) as { gcs: number; result: number };
    expect(Number.isFinite(result)).toBe(true);
    expect(gcs).toBe(0);
  });
});
