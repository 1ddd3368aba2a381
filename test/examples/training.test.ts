// The training utilities the examples share: seeded shuffles, class-stratified splits,
// the progress bar (plain lines off a terminal, a redrawn bar on one), the SVG plot (a
// well-formed document), confusion matrices, and fit's determinism on a toy problem.

import { describe, expect, it } from "vitest";
import {
  compile, confusionMatrix, createDataset, evaluate, fit, formatConfusionMatrix, permutation, plotHistory, plotPanels,
  ProgressBar, splitByClass, type History,
} from "../../src/index";
import { captureStream } from "./helpers";

/** A small XML well-formedness check: balanced tags, one root, quoted unique attributes,
 *  only known entities. Throws on the first problem. */
function checkXml(text: string): { root: string; elements: number } {
  const stack: string[] = [];
  let root = "";
  let elements = 0;
  let i = 0;
  const name = /^[A-Za-z_][\w.-]*(:[\w.-]+)?/;
  const checkText = (t: string) => {
    const bad = t.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, "");
    if (/[&<]/.test(bad)) throw new Error(`bad character data: ${JSON.stringify(t.slice(0, 40))}`);
  };
  while (i < text.length) {
    const open = text.indexOf("<", i);
    const chunk = text.slice(i, open < 0 ? text.length : open);
    checkText(chunk);
    if (chunk.trim() && stack.length === 0) throw new Error("text outside the root element");
    if (open < 0) break;
    const close = text.indexOf(">", open);
    if (close < 0) throw new Error("unclosed tag");
    const tag = text.slice(open + 1, close);
    i = close + 1;
    if (tag.startsWith("/")) {
      const n = tag.slice(1).trim();
      if (stack.pop() !== n) throw new Error(`mismatched </${n}>`);
      continue;
    }
    const selfClosing = tag.endsWith("/");
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const m = name.exec(body);
    if (!m) throw new Error(`bad tag <${tag}>`);
    if (stack.length === 0) {
      if (root) throw new Error("two root elements");
      root = m[0];
    }
    elements++;
    const seen = new Set<string>();
    let rest = body.slice(m[0].length);
    const attr = /^\s+([A-Za-z_][\w.:-]*)="([^"<]*)"/;
    while (rest.trim()) {
      const a = attr.exec(rest);
      if (!a) throw new Error(`bad attributes in <${tag}>`);
      if (seen.has(a[1]!)) throw new Error(`duplicate attribute ${a[1]}`);
      seen.add(a[1]!);
      checkText(a[2]!);
      rest = rest.slice(a[0].length);
    }
    if (!selfClosing) stack.push(m[0]);
  }
  if (stack.length) throw new Error(`unclosed <${stack.join("> <")}>`);
  return { root, elements };
}

describe("randomness and splits", () => {
  it("permutations repeat for a seed and differ across seeds", () => {
    expect(Array.from(permutation(10, 1))).toEqual(Array.from(permutation(10, 1)));
    expect(Array.from(permutation(10, 1))).not.toEqual(Array.from(permutation(10, 2)));
    expect(Array.from(permutation(50, 3)).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it("splitByClass keeps each class's share, deterministically", () => {
    const rows = Array.from({ length: 30 }, (_, i) => [i, i * 2]);
    const labels = rows.map((_, i) => (i < 10 ? 0 : i < 25 ? 1 : 2));
    const data = createDataset(rows, labels);
    const { train, test } = splitByClass(data, { testFraction: 0.2 });
    expect(Array.from(test.labels)).toEqual([0, 0, 1, 1, 1, 2]);
    // without a seed each class keeps its order: the last ones test
    expect(Array.from(test.inputs.filter((_, k) => k % 2 === 0))).toEqual([8, 9, 22, 23, 24, 29]);
    expect(train.size + test.size).toBe(30);
    const a = splitByClass(data, { testFraction: 0.2, seed: 4 });
    const b = splitByClass(data, { testFraction: 0.2, seed: 4 });
    expect(Array.from(a.test.inputs)).toEqual(Array.from(b.test.inputs));
    expect(Array.from(a.test.labels)).toEqual([0, 0, 1, 1, 1, 2]);
  });
});

describe("progress", () => {
  it("prints one plain line per epoch off a terminal", () => {
    const stream = captureStream(false);
    let t = 0;
    const bar = new ProgressBar("epoch 2/5", 200, { stream, now: () => t });
    for (let done = 20; done <= 200; done += 20) {
      t += 50;
      bar.update(done, { loss: 0.5, acc: 0.75 });
    }
    expect(stream.text).toBe("");
    bar.finish(200, { loss: 0.25, acc: 0.875, test_acc: 0.8 });
    expect(stream.text).toBe("epoch 2/5  200/200  loss 0.2500  acc 0.8750  test_acc 0.8000  400 samples/s  0.5s\n");
  });

  it("redraws a bar in place on a terminal, at most ten times a second", () => {
    const stream = captureStream(true);
    let t = 0;
    const bar = new ProgressBar("epoch 1/1", 100, { stream, now: () => t });
    for (let done = 10; done <= 100; done += 10) {
      t += 40;
      bar.update(done, { loss: 1 });
    }
    const draws = stream.text.split("\r").filter(Boolean);
    expect(draws.length).toBeGreaterThanOrEqual(3);
    expect(draws.length).toBeLessThanOrEqual(5);
    expect(draws[0]).toMatch(/^epoch 1\/1 █+░+ +\d+\/100  loss 1\.0000  \d+ samples\/s  ETA [\d.]+s\x1b\[K$/);
    bar.finish(100, { loss: 0.5 });
    expect(stream.text.endsWith("\x1b[K\n")).toBe(true);
    expect(stream.text.split("\r").pop()).toMatch(/^epoch 1\/1 █{30} 100\/100  loss 0\.5000  250 samples\/s  0\.4s\x1b\[K\n$/);
  });

  it("fit prints one line per epoch (or every k-th) when the stream is not a terminal", () => {
    const model = compile(toy, { seed: 1 });
    const stream = captureStream(false);
    fit(model, toyData(), { epochs: 4, batchSize: 8, test: toyData(), progress: { stream }, progressEvery: 3 });
    const lines = stream.text.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^epoch 3\/4  40\/40  loss \d\.\d{4}  acc \d\.\d{4}  test_loss \d\.\d{4}  test_acc \d\.\d{4}  [\d.]+ samples\/s  [\d.]+s$/);
    expect(lines[1]).toMatch(/^epoch 4\/4  40\/40 /);
    expect(stream.text).not.toMatch(/[\r\x1b]/);
  });
});

const toy = `
dim n
input x: [n, 2]
input y: [n, 2]
param w: [2, 2] = glorot_uniform
param b: [2] = zeros
logits = x @ w + b
loss = cross_entropy(logits, y)
output logits
minimize loss with adam(lr = 0.05)
`;

/** 40 points, class 1 where x0 + x1 > 0. */
function toyData() {
  const rows = Array.from({ length: 40 }, (_, i) => [Math.sin(i * 1.7), Math.cos(i * 2.3)]);
  return createDataset(rows, rows.map(([a, b]) => (a! + b! > 0 ? 1 : 0)), 2);
}

describe("fit", () => {
  it("learns, and repeats exactly for a seed", () => {
    const run = (seed: number) => {
      const model = compile(toy, { seed: 1 });
      const history = fit(model, toyData(), { epochs: 30, batchSize: 8, seed, progress: false });
      return { history, params: Array.from(model.params.w!), result: evaluate(model, toyData()) };
    };
    const a = run(1);
    const b = run(1);
    expect(b.params).toEqual(a.params);
    expect(b.history.epochs.map((e) => e.loss)).toEqual(a.history.epochs.map((e) => e.loss));
    expect(a.history.epochs.at(-1)!.loss).toBeLessThan(a.history.epochs[0]!.loss);
    expect(a.result.accuracy).toBeGreaterThan(0.9);
    expect(a.history.batches).toHaveLength(30 * 5);
    expect(run(2).params).not.toEqual(a.params);
  });

  it("hands each training batch to augment with the seeded generator", () => {
    const model = compile(toy, { seed: 1 });
    const seen: number[] = [];
    fit(model, toyData(), {
      epochs: 1, batchSize: 16, progress: false, trainAccuracy: false,
      augment: (x, rows, random) => {
        seen.push(rows);
        expect(x.length).toBe(rows * 2);
        x.fill(0.5 * random());
      },
    });
    expect(seen).toEqual([16, 16, 8]);
  });
});

describe("plots", () => {
  const history: History = {
    epochs: [1, 2, 3].map((epoch) => ({
      epoch, loss: 1 / epoch, accuracy: 0.5 + epoch / 10, testLoss: 1.2 / epoch, testAccuracy: 0.45 + epoch / 10, seconds: 1, samplesPerSecond: 100,
    })),
    batches: Array.from({ length: 900 }, (_, i) => [(i + 1) / 300, 1 / (1 + i / 300)] as [number, number]),
  };

  it("writes a well-formed SVG with both panels and a legend", () => {
    const svg = plotHistory(history, "mlp: loss & <accuracy>");
    const { root, elements } = checkXml(svg);
    expect(root).toBe("svg");
    expect(elements).toBeGreaterThan(20);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toContain("mlp: loss &amp; &lt;accuracy&gt;");
    for (const label of ["loss", "accuracy", "train (batches)", "train", "test", "epoch"]) expect(svg).toContain(`>${label}</text>`);
    expect(svg.match(/<polyline /g)!.length).toBe(5);
    // per-batch losses are averaged down to at most 400 points
    const faint = /points="([^"]*)"/.exec(svg)![1]!.split(" ");
    expect(faint.length).toBeLessThanOrEqual(400);
    expect(plotHistory(history)).toBe(plotHistory(history));
  });

  it("copes with one epoch, missing test data and non-finite values", () => {
    const one: History = { epochs: [{ ...history.epochs[0]!, testLoss: undefined, testAccuracy: undefined }], batches: [[0.5, NaN], [1, 0.7]] };
    const svg = plotHistory(one);
    checkXml(svg);
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(svg).toContain("<circle");
    const empty = plotPanels([{ title: "nothing", series: [] }]);
    checkXml(empty);
    expect(empty).not.toMatch(/NaN|Infinity/);
  });
});

describe("confusion matrix", () => {
  it("counts actual against predicted and prints recall per class", () => {
    const m = confusionMatrix([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0], 3);
    expect(m).toEqual([[1, 1, 0], [0, 2, 0], [1, 0, 1]]);
    expect(formatConfusionMatrix(m, ["a", "b", "c"])).toBe([
      "actual \\ predicted  a b c  recall",
      "                 a  1 1 0  0.500",
      "                 b  0 2 0  1.000",
      "                 c  1 0 1  0.500",
    ].join("\n"));
  });
});
