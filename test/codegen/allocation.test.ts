// A steady-state forward / valueAndGrad / step allocates nothing: counted as young-generation
// collections (scavenges) in a separate process (so the test runner's own allocations do not
// count), with the emitted module copied alone into an empty folder. Only scavenges count:
// they happen when new objects fill the nursery, which a 1 MB semi-space makes small, so a
// per-call allocation of even 16 bytes causes several over these loops, while the idle-time
// and memory-reducing full collections a loaded machine may run do not count.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileToSource } from "../../src/index";

const xor = readFileSync(new URL("../../examples/xor/xor.grad", import.meta.url), "utf8");

function gcEvents(source: string, options: object, script: string): { gcs: number; result: unknown } {
  const dir = mkdtempSync(join(tmpdir(), "gradc-gc-"));
  writeFileSync(join(dir, "model.mjs"), compileToSource(source, { ...options, format: "esm" }).text);
  writeFileSync(join(dir, "run.mjs"), `
import * as model from "./model.mjs";
import { PerformanceObserver, constants } from "node:perf_hooks";
${script}
// Warm the measured loop itself too, so its own optimisation is not counted.
warm();
measure();
measure();
// Collect what warming up left behind, so an idle-time collection of it is not counted.
globalThis.gc();
globalThis.gc();
let gcs = 0;
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) gcs++;
});
obs.observe({ entryTypes: ["gc"] });
const result = measure();
await new Promise((r) => setTimeout(r, 50));
obs.disconnect();
console.log(JSON.stringify({ gcs, result }));
`);
  const out = execFileSync(process.execPath, ["--expose-gc", "--max-semi-space-size=1", "run.mjs"], { cwd: dir, encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").pop()!) as { gcs: number; result: unknown };
}

describe("allocation", () => {
  it("100,000 XOR steps, forwards and valueAndGrads cause no GC", () => {
    const { gcs, result } = gcEvents(xor, {}, `
const values = { x: Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]), y: Float32Array.from([0, 1, 1, 0]) };
function warm() { for (let i = 0; i < 20000; i++) { model.step(values); model.forward(values); model.valueAndGrad(values); } }
function measure() {
  let s = 0;
  for (let i = 0; i < 100000; i++) { s += model.step(values); s += model.forward(values).loss; s += model.valueAndGrad(values).value; }
  return s;
}`);
    expect(typeof result).toBe("number");
    expect(gcs).toBe(0);
  });

  it("calls with free dims already seen allocate nothing", () => {
    const { gcs } = gcEvents("dim n\ninput a: [n, 3]\nparam w: [3, 2]\ny = tanh(a @ w)\noutput y\nminimize mean(y ^ 2) with adam(lr = 0.01)", {}, `
const a4 = new Float32Array(12).fill(0.5), a8 = new Float32Array(24).fill(0.25);
function warm() { for (let i = 0; i < 20000; i++) { model.step({ a: a4 }); model.step({ a: a8 }); model.forward({ a: i % 2 ? a4 : a8 }); } }
const v4 = { a: a4 }, v8 = { a: a8 };
function measure() { let s = 0; for (let i = 0; i < 20000; i++) { s += model.step(v4); s += model.step(v8); s += model.forward(i % 2 ? v4 : v8).y[0]; } return s; }`);
    expect(gcs).toBe(0);
  });

  it("predict, and steps with a run-time rate and clipping, allocate nothing", () => {
    // An MLP whose labels `predict` does not need; the rate changes every step.
    const source = `input x: [4, 2]
input y: [4, 1]
input lr
frozen param m1: [2, 8] = normal(0, 1)
param m2: [8, 1] = normal(0, 1)
h = tanh(x @ m1)
score = sum(h, axis = 1, keepdims = true) @ ones([1, 1])
out = sigmoid(h @ m2)
output out, score
minimize mean((out - y) ^ 2) with adamw(lr = lr, clip_norm = 0.5)`;
    const { gcs, result } = gcEvents(source, {}, `
const x = Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]), y = Float32Array.from([0, 1, 1, 0]);
const inference = { x }, training = { x, y, lr: 0.01 };
function warm() { for (let i = 0; i < 20000; i++) { model.predict(inference); training.lr = 0.01 / (1 + i); model.step(training); } }
function measure() {
  let s = 0;
  for (let i = 0; i < 100000; i++) { s += model.predict(inference).out[0]; training.lr = 0.01 / (1 + i); s += model.step(training); }
  return s;
}`);
    expect(typeof result).toBe("number");
    expect(gcs).toBe(0);
  });
});
