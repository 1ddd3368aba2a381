// The MNIST examples end to end on a small slice of the data (the first images of each
// digit), as `npm run example:mnist` / `example:cnn` run them but shorter: both models
// learn (loss falls, accuracy well above the 10% of guessing), the accuracy line comes
// last, runs repeat exactly, and the split and the shift augmentation behave.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { createRandom, type Dataset, type Evaluation, type History } from "../../src/index";
import { captureStream, importExample } from "./helpers";

// The examples import "gradc"; here that is the source tree, so no build is needed.
vi.mock("gradc", async () => await import("../../src/index"));

type Run = { history?: History; result: Evaluation; model: { params: Record<string, Float32Array> } };
type Main = (argv: string[], io: object) => Run;
type Data = {
  loadMnist: (o?: { perDigit?: number }) => { train: Dataset; test: Dataset };
  randomShift: (x: Float32Array, rows: number, random: () => number, most?: number) => void;
};

function runExample(main: Main, argv: string[], perDigit: number) {
  const lines: string[] = [];
  const stream = captureStream(false);
  const out = mkdtempSync(join(tmpdir(), "gradc-mnist-"));
  const run = main([...argv, "--out", out], { log: (l: string) => lines.push(...l.split("\n")), progress: { stream }, perDigit });
  return { run, lines, progress: stream.text };
}

describe("examples/mnist", () => {
  it("splits the first 80% of each digit for training, in order", async () => {
    const { loadMnist } = await importExample<Data>("mnist/data.mjs");
    const { train, test } = loadMnist({ perDigit: 10 });
    expect([train.size, test.size, train.features, train.classes]).toEqual([80, 20, 784, 10]);
    expect(Array.from(test.labels)).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]);
    const max = train.inputs.reduce((a, b) => Math.max(a, b), 0);
    expect(max).toBe(1);
    const full = loadMnist();
    expect([full.train.size, full.test.size]).toEqual([8000, 2000]);
    // the small slice is a prefix of each digit's training images
    expect(Array.from(full.train.inputs.subarray(0, 784 * 8))).toEqual(Array.from(train.inputs.subarray(0, 784 * 8)));
  });

  it("shifts images by whole pixels, deterministically", async () => {
    const { randomShift } = await importExample<Data>("mnist/data.mjs");
    const image = () => {
      const x = new Float32Array(2 * 784);
      for (const r of [0, 1]) for (let i = 10; i < 18; i++) for (let j = 10; j < 18; j++) x[r * 784 + i * 28 + j] = 1;
      return x;
    };
    const a = image();
    const b = image();
    randomShift(a, 2, createRandom(5));
    randomShift(b, 2, createRandom(5));
    expect(Array.from(a)).toEqual(Array.from(b));
    // a centred blob moved by at most 2 pixels keeps all its ink
    expect(a.subarray(0, 784).reduce((s, v) => s + v, 0)).toBe(64);
    expect(a.subarray(784).reduce((s, v) => s + v, 0)).toBe(64);
  });

  it("the MLP learns on a slice and prints the accuracy last", async () => {
    const { main } = await importExample<{ main: Main }>("mnist/train.mjs");
    const { run, lines, progress } = runExample(main, ["mlp", "--epochs", "3"], 50);
    const epochs = run.history!.epochs;
    expect(epochs.at(-1)!.loss).toBeLessThan(epochs[0]!.loss);
    expect(run.result.accuracy).toBeGreaterThan(0.5);
    expect(lines[0]).toBe("mlp: 101770 params; 400 training and 100 test examples");
    expect(lines.at(-1)).toBe(`test accuracy: ${run.result.accuracy.toFixed(3)}`);
    expect(progress.trimEnd().split("\n")).toHaveLength(3);
    // the same run again gives the same params
    const again = runExample(main, ["mlp", "--epochs", "3"], 50);
    expect(Array.from(again.run.model.params.w2!)).toEqual(Array.from(run.model.params.w2!));
  });

  it("the CNN learns on a slice and prints the accuracy last", async () => {
    const { main } = await importExample<{ main: Main }>("mnist/train.mjs");
    const { run, lines } = runExample(main, ["cnn", "--epochs", "3", "--batch-size", "16"], 20);
    const epochs = run.history!.epochs;
    expect(epochs.at(-1)!.loss).toBeLessThan(epochs[0]!.loss);
    expect(epochs.at(-1)!.accuracy).toBeGreaterThan(0.3);
    expect(run.result.accuracy).toBeGreaterThan(0.3);
    expect(lines[0]).toMatch(/^cnn: \d+ params; 160 training and 40 test examples$/);
    expect(lines.at(-1)).toMatch(/^test accuracy: \d\.\d{3}$/);
  });
});
