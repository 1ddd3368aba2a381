// The iris example end to end, as `npm run example:iris` runs it but shorter: it learns,
// prints the confusion matrix and the accuracy line last, writes the params file and the
// curves, and a later run that loads the params reproduces the predictions exactly.

import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import type { Evaluation, History } from "../../src/index";
import { captureStream, importExample } from "./helpers";

// The examples import "gradc"; here that is the source tree, so no build is needed.
vi.mock("gradc", async () => await import("../../src/index"));

type Run = { history?: History; result: Evaluation; model: { params: Record<string, Float32Array> } };
type Main = (argv: string[], io: object) => Run;

describe("examples/iris", () => {
  it("trains, reports and saves; the saved params give the same predictions", async () => {
    const { main } = await importExample<{ main: Main }>("iris/train.mjs");
    const { loadIris } = await importExample<{ loadIris: () => { train: { size: number; labels: Int32Array }; test: { size: number; labels: Int32Array } } }>("iris/data.mjs");
    const { train, test } = loadIris();
    expect([train.size, test.size]).toEqual([120, 30]);
    expect([0, 1, 2].map((c) => test.labels.filter((l) => l === c).length)).toEqual([10, 10, 10]);

    const out = mkdtempSync(join(tmpdir(), "gradc-iris-"));
    const lines: string[] = [];
    const stream = captureStream(false);
    const run = main(["--epochs", "12", "--out", out], { log: (l: string) => lines.push(...l.split("\n")), progress: { stream } });
    const epochs = run.history!.epochs;
    expect(epochs.at(-1)!.loss).toBeLessThan(epochs[0]!.loss);
    expect(run.result.accuracy).toBeGreaterThan(0.7); // chance is 1/3
    expect(lines.at(-1)).toMatch(/^test accuracy: \d\.\d{3}$/);
    expect(lines.at(-1)).toBe(`test accuracy: ${run.result.accuracy.toFixed(3)}`);
    expect(lines).toContain("confusion matrix (test split):");
    expect(lines.find((l) => l.trim().startsWith("setosa"))).toMatch(/setosa +\d+ +\d+ +\d+ +\d\.\d{3}$/);
    // Piped: a line for every epoch (the example's progressEvery: 10 only thins a terminal's bars).
    expect(stream.text.trimEnd().split("\n").map((l) => l.split("  ")[0])).toEqual(Array.from({ length: 12 }, (_, i) => `epoch ${i + 1}/12`));
    const params = join(out, "iris.safetensors");
    expect(existsSync(params) && existsSync(join(out, "iris.svg"))).toBe(true);
    expect(readFileSync(join(out, "iris.svg"), "utf8")).toMatch(/^<svg [^>]*>[\s\S]*<\/svg>\n$/);

    const again: string[] = [];
    const loaded = main(["--load", params], { log: (l: string) => again.push(...l.split("\n")) });
    expect(loaded.history).toBeUndefined();
    expect(Array.from(loaded.result.predictions)).toEqual(Array.from(run.result.predictions));
    expect(again.at(-1)).toBe(lines.at(-1));
    expect(again.some((l) => l.startsWith("loaded ") && l.includes("trained for 12 epochs"))).toBe(true);
  });
});
