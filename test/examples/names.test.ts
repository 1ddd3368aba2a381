// The names example (a character-level language model of first names): the split is
// fixed, disjoint and covers every name; each of the four models compiles, matches finite
// differences on a tiny batch, lowers the loss of a fixed batch in one step, masks the
// padding out of its loss and samples names through `predict` without labels; and a short
// run of the bigram prints, saves and ends as `npm run example:names` does.

import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { compile, createRandom, gradcheck, type CompiledModel } from "../../src/index";
import { captureStream, importExample } from "./helpers";

// The example imports "gradc"; here that is the source tree, so no build is needed.
vi.mock("gradc", async () => await import("../../src/index"));

interface Split { names: string[]; size: number; ids: Float32Array; next: Float32Array; lengths: Float32Array; chars: number }
interface Data {
  VOCAB: string;
  BLOCK: number;
  loadNames(): string[];
  splitNames(names: string[], options?: { seed?: number }): { train: string[]; val: string[]; test: string[] };
  encodeSplit(names: string[]): Split;
  gatherRows(data: Split, order: Int32Array, from: number, to: number, buffers: object): { ids: Float32Array; next: Float32Array; lengths: Float32Array };
  batchBuffers(rows: number): object;
}
interface Train {
  MODELS: Record<string, { file: string }>;
  sampleNames(model: CompiledModel, count: number, random: () => number): string[];
  evaluateLoss(model: CompiledModel, data: Split, rows?: number): number;
  learningRate(schedule: { peak: number; final: number; warmup: number }, step: number, total: number): number;
  main(argv: string[], io: object): { losses: { test: number }; samples: string[]; history?: { epochs: { loss: number }[] } };
}

const data = await importExample<Data>("names/data.mjs");
const train = await importExample<Train>("names/train.mjs");
const source = (model: string) => readFileSync(new URL(`../../examples/names/${train.MODELS[model]!.file}`, import.meta.url), "utf8");
const MODELS = ["bigram", "mlp", "gru", "transformer"];

/** A batch of the given names, padded to the longest (as training makes them). */
function batchOf(names: string[]) {
  const split = data.encodeSplit(names);
  const order = Int32Array.from(names.keys());
  const b = data.gatherRows(split, order, 0, names.length, data.batchBuffers(names.length));
  return { ids: b.ids.slice(), next: b.next.slice(), lengths: b.lengths.slice(), chars: split.chars };
}

describe("examples/names: the data", () => {
  const names = data.loadNames();

  it("has the 8,422 distinct names of the two lists, lower-case, in a 28-token vocabulary", () => {
    expect(names.length).toBe(8422);
    expect(new Set(names).size).toBe(8422);
    expect(data.VOCAB).toHaveLength(28);
    for (const name of names) expect(name).toMatch(/^[a-z][a-z-]*$/);
    expect(Math.max(...names.map((n) => n.length))).toBe(data.BLOCK - 1);
  });

  it("splits by name 80/10/10, the same way every time, disjoint and covering every name", () => {
    const a = data.splitNames(names);
    const b = data.splitNames(data.loadNames());
    expect(b).toEqual(a);
    expect([a.train.length, a.val.length, a.test.length]).toEqual([6738, 842, 842]);
    const all = [...a.train, ...a.val, ...a.test];
    expect(new Set(all).size).toBe(8422);
    expect([...all].sort()).toEqual(names);
    expect(data.splitNames(names, { seed: 2 }).test).not.toEqual(a.test);
    // the split is the seeded permutation, not the alphabetical order
    expect(a.test.slice(0, 5)).not.toEqual([...a.test].sort().slice(0, 5));
  });

  it("encodes a name as its predictions: each character after the one before, then the end", () => {
    const s = data.encodeSplit(["ann", "jo-ann"]);
    const row = (a: Float32Array, r: number) => Array.from(a.subarray(r * data.BLOCK, r * data.BLOCK + 8));
    expect(row(s.ids, 0)).toEqual([0, 1, 14, 14, 0, 0, 0, 0]);      // . a n n
    expect(row(s.next, 0)).toEqual([1, 14, 14, 0, 0, 0, 0, 0]);     // a n n .
    expect(row(s.ids, 1)).toEqual([0, 10, 15, 27, 1, 14, 14, 0]);   // . j o - a n n
    expect(Array.from(s.lengths)).toEqual([4, 7]);
    expect(s.chars).toBe(11);
    // a batch is padded to its longest name only: [2, 7]
    const b = batchOf(["ann", "jo-ann"]);
    expect(b.ids.length).toBe(14);
    expect(Array.from(b.next.subarray(0, 7))).toEqual([1, 14, 14, 0, 0, 0, 0]);
  });
});

describe("examples/names: the models", () => {
  const tiny = ["ava", "jo-ann", "bo"];

  for (const name of MODELS) {
    it(`${name}.grad matches finite differences on a tiny batch (f64)`, () => {
      const b = batchOf(tiny);
      const values: Record<string, Float64Array | number> = { ids: Float64Array.from(b.ids), next: Float64Array.from(b.next), lengths: Float64Array.from(b.lengths) };
      if (name === "transformer") values.lr = 1e-3;
      const report = gradcheck(source(name), { values, points: 1, maxElements: name === "bigram" ? 64 : name === "transformer" ? 8 : 12, filename: `${name}.grad` });
      expect(report.ok, JSON.stringify(report.params.map((p) => [p.name, p.worst]))).toBe(true);
    });

    it(`${name}.grad: one step lowers the loss of a fixed batch; the loss is per real character`, () => {
      const model = compile(source(name), { filename: `${name}.grad`, seed: 3 });
      const b = batchOf(["emma", "olivia", "ava", "isabella", "sophia", "mia", "charlotte", "amelia"]);
      const values: Record<string, Float32Array | number> = { ids: b.ids, next: b.next, lengths: b.lengths };
      if (name === "transformer") values.lr = 3e-3;
      const before = model.forward(values).loss as number;
      model.step(values);
      const after = model.forward(values).loss as number;
      expect(after).toBeLessThan(before);
      // Padding is masked out: the same names padded to 16 positions give the same loss.
      const full = data.encodeSplit(["emma", "olivia", "ava", "isabella", "sophia", "mia", "charlotte", "amelia"]);
      const padded = { ...values, ids: full.ids.slice(0, 8 * 16), next: full.next.slice(0, 8 * 16), lengths: full.lengths };
      expect(model.forward(padded).loss as number).toBeCloseTo(after, 5);
    });

    it(`${name}.grad samples names through predict, without labels`, () => {
      const model = compile(source(name), { filename: `${name}.grad` });
      const inputs = model.meta.inputs.map((i) => i.name);
      expect(inputs.slice(0, 3)).toEqual(["ids", "next", "lengths"]);
      const b = batchOf(tiny);
      const predicted = model.predict({ ids: b.ids, lengths: b.lengths }).logits as Float32Array;
      const values: Record<string, Float32Array | number> = { ids: b.ids, next: b.next, lengths: b.lengths, lr: 0 };
      if (name !== "transformer") delete values.lr;
      expect(Array.from(predicted)).toEqual(Array.from(model.forward(values).logits as Float32Array));
      const names = train.sampleNames(model, 6, createRandom(7));
      expect(names).toHaveLength(6);
      for (const n of names) expect(n).toMatch(/^[a-z-]{0,15}$/);
      expect(train.sampleNames(model, 6, createRandom(7))).toEqual(names);
    });
  }

  it("the transformer's learning rate warms up, then decays by a cosine to its final value", () => {
    const s = { peak: 3e-3, final: 3e-4, warmup: 10 };
    expect(train.learningRate(s, 0, 100)).toBeCloseTo(3e-4, 12);
    expect(train.learningRate(s, 9, 100)).toBeCloseTo(3e-3, 12);
    expect(train.learningRate(s, 10, 100)).toBeCloseTo(3e-3, 12);
    expect(train.learningRate(s, 55, 100)).toBeCloseTo((3e-3 + 3e-4) / 2, 12);
    expect(train.learningRate(s, 100, 100)).toBeCloseTo(3e-4, 12);
  });
});

describe("examples/names: a run", () => {
  it("trains, saves params and curves, samples 20 names and ends with the test loss", () => {
    const out = mkdtempSync(join(tmpdir(), "gradc-names-"));
    const lines: string[] = [];
    const stream = captureStream(false);
    const run = train.main(["--model", "bigram", "--epochs", "2", "--out", out], { log: (l: string) => lines.push(...l.split("\n")), progress: { stream }, trainNames: 1000 });
    expect(run.history!.epochs[1]!.loss).toBeLessThan(run.history!.epochs[0]!.loss);
    expect(run.losses.test).toBeLessThan(Math.log(28)); // better than uniform over the vocabulary
    expect(lines.at(-1)).toMatch(/^test loss: \d\.\d{3} nats\/char$/);
    expect(lines.at(-1)).toBe(`test loss: ${run.losses.test.toFixed(3)} nats/char`);
    expect(lines).toContain("20 names sampled (seed 1):");
    expect(run.samples).toHaveLength(20);
    expect(stream.text.trimEnd().split("\n").map((l) => l.split("  ")[0])).toEqual(["epoch 1/2", "epoch 2/2"]);
    expect(existsSync(join(out, "bigram.safetensors"))).toBe(true);
    expect(readFileSync(join(out, "bigram.svg"), "utf8")).toMatch(/^<svg [^>]*>[\s\S]*<\/svg>\n$/);

    const again: string[] = [];
    const loaded = train.main(["--model", "bigram", "--load", join(out, "bigram.safetensors")], { log: (l: string) => again.push(...l.split("\n")) });
    expect(loaded.history).toBeUndefined();
    expect(again.at(-1)).toBe(lines.at(-1));
    expect(loaded.samples).toEqual(run.samples);
  });
});
