// Determinism: the same model and options give byte-identical emitted code in separate
// processes (with different V8 hash and random seeds, time zones and locales) and in this
// one; `step` sequences are reproducible from the seed, bit for bit, across processes.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile, compileToSource, type SourceOptions } from "../../src/index";

const root = fileURLToPath(new URL("../..", import.meta.url));
const child = join(root, "test/hardening/fixtures/emit-child.ts");
const xorSource = readFileSync(join(root, "examples/xor/xor.grad"), "utf8");

const mlp = `dim n
input x: [n, 4]
input labels: [n, 3]
param w1: [4, 16] = he_normal
param b1: [16] = zeros
param w2: [16, 3] = glorot_uniform
fn act(v) = where(v > 0, v, 0.1 * v)
h = act(x @ w1 + b1)
logits = h @ w2
loss = cross_entropy(logits, labels) + 0.001 * sum(w1 ^ 2)
output logits, h
minimize loss with adam(lr = 0.01)
`;
const hostile = "input constructor: [2, 3]\nparam __proto__: [3, 2] = normal(0, 1)\nparam toString = constant(0.5)\nMath = tanh(constructor @ __proto__) * toString\noutput Math\nminimize sum(Math ^ 2) with momentum(lr = 0.1)";

interface Case { source: string; options: SourceOptions; values?: Record<string, number[]> }
const xorValues = { x: [0, 0, 0, 1, 1, 0, 1, 1], y: [0, 1, 1, 0] };
const cases: Case[] = [
  { source: xorSource, options: { format: "esm", seed: 1 }, values: xorValues },
  { source: xorSource, options: { format: "cjs", dtype: "f64", seed: 7 }, values: xorValues },
  { source: mlp, options: { format: "esm", sizes: { n: 8 }, seed: 3 } },
  { source: mlp, options: { format: "function", dtype: "f64", seed: 3 }, values: { x: Array.from({ length: 8 }, (_, i) => Math.sin(i)), labels: [1, 0, 0, 0, 0, 1] } },
  { source: hostile, options: { format: "esm", seed: 2 }, values: { constructor: [1, 2, 3, 4, 5, 6] } },
];

let tmp: string;
let casesPath: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "gradc-determinism-"));
  casesPath = join(tmp, "cases.json");
  writeFileSync(casesPath, JSON.stringify(cases));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function runChild(v8Flags: string[], env: Record<string, string>): { text: string; steps: string[] }[] {
  const r = spawnSync(process.execPath, [...v8Flags, "--import", "tsx", child, casesPath], {
    cwd: root, encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 64 << 20, timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { text: string; steps: string[] }[];
}

describe("the same model and options give byte-identical code", () => {
  it("in two processes with different hash seeds, random seeds, time zones and locales, and in this one", () => {
    const a = runChild(["--hash-seed=1", "--random-seed=1"], { TZ: "UTC", LANG: "C", LC_ALL: "C" });
    const b = runChild(["--hash-seed=987654321", "--random-seed=42"], { TZ: "Pacific/Kiritimati", LANG: "tr_TR.UTF-8", LC_ALL: "tr_TR.UTF-8" });
    expect(a.length).toBe(cases.length);
    cases.forEach((c, i) => {
      expect(a[i]!.text.length).toBeGreaterThan(1000);
      expect(b[i]!.text, `case ${i} across processes`).toBe(a[i]!.text);
      expect(compileToSource(c.source, c.options).text, `case ${i} in-process`).toBe(a[i]!.text);
      expect(b[i]!.steps, `case ${i}: steps across processes`).toEqual(a[i]!.steps);
    });
  }, 120_000);

  it("compiling again in one process, after other models, changes nothing", () => {
    const first = cases.map((c) => compileToSource(c.source, c.options).text);
    compile(mlp, { sizes: { n: 2 } });
    compile("dim k\ninput z: [k]\ny = sum(z)\noutput y");
    cases.forEach((c, i) => expect(compileToSource(c.source, c.options).text).toBe(first[i]));
  });
});

describe("training is reproducible from the seed", () => {
  const x = Float32Array.from(xorValues.x);
  const y = Float32Array.from(xorValues.y);
  const trajectory = (seed: number, steps: number) => {
    const m = compile(mlp.replace("adam(lr = 0.01)", "adam(lr = 0.05)"), { seed, sizes: { n: 4 } });
    const inputs = { x: Float32Array.from({ length: 16 }, (_, i) => Math.cos(i)), labels: Float32Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0]) };
    const losses = Array.from({ length: steps }, () => m.step(inputs));
    return { losses, params: Object.fromEntries(Object.entries(m.params).map(([k, v]) => [k, Array.from(v)])) };
  };

  it("the same seed gives the same params, the same step losses and the same trained params", () => {
    const a = trajectory(11, 50);
    const b = trajectory(11, 50);
    expect(b.losses).toEqual(a.losses);
    expect(b.params).toEqual(a.params);
    const c = trajectory(12, 50);
    expect(c.losses[0]).not.toBe(a.losses[0]);
  });

  it("createParams(seed) equals a fresh compile's params with that seed, and leaves the model alone", () => {
    const m = compile(xorSource, { seed: 1 });
    const before = Array.from(m.params.m1!);
    const fresh = m.createParams(5);
    expect(Array.from(m.params.m1!)).toEqual(before);
    const other = compile(xorSource, { seed: 5 });
    for (const k of Object.keys(fresh)) expect(Array.from(fresh[k]!)).toEqual(Array.from(other.params[k]!));
    // Restoring the params and the same steps give the same losses (optimizer state aside: sgd has none).
    const l1 = Array.from({ length: 5 }, () => m.step({ x, y }));
    const n = compile(xorSource, { seed: 1 });
    expect(Array.from({ length: 5 }, () => n.step({ x, y }))).toEqual(l1);
  });
});
