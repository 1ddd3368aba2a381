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

  it("fit prints one line per epoch when the stream is not a terminal, whatever progressEvery says", () => {
    const model = compile(toy, { seed: 1 });
    const stream = captureStream(false);
    fit(model, toyData(), { epochs: 4, batchSize: 8, test: toyData(), progress: { stream }, progressEvery: 3 });
    const lines = stream.text.trimEnd().split("\n");
    expect(lines).toHaveLength(4);
    lines.forEach((line, i) => {
      expect(line).toMatch(new RegExp(`^epoch ${i + 1}/4  40/40  loss \\d\\.\\d{4}  acc \\d\\.\\d{4}  test_loss \\d\\.\\d{4}  test_acc \\d\\.\\d{4}  [\\d.]+ samples/s  [\\d.]+s$`));
    });
    expect(stream.text).not.toMatch(/[\r\x1b]/);
  });

  it("on a terminal, progressEvery keeps every k-th epoch's bar (and the last); the next bar draws over the others", () => {
    const model = compile(toy, { seed: 1 });
    const stream = captureStream(true);
    fit(model, toyData(), { epochs: 4, batchSize: 8, progress: { stream }, progressEvery: 3 });
    // What stays on screen: each line break ends a kept bar; a \r starts a redraw of the line.
    const screen = stream.text.split("\n").map((line) => line.split("\r").filter(Boolean).pop() ?? "").filter(Boolean);
    expect(screen).toHaveLength(2);
    expect(screen[0]).toMatch(/^epoch 3\/4 █{30} 40\/40  loss \d\.\d{4}  acc \d\.\d{4} /);
    expect(screen[1]).toMatch(/^epoch 4\/4 █{30} 40\/40 /);
    // Epochs 1 and 2 were drawn, finished, and drawn over.
    for (const epoch of [1, 2]) expect(stream.text).toMatch(new RegExp(`\\repoch ${epoch}/4 █{30} 40/40 [^\\n]*\\x1b\\[K\\repoch ${epoch + 1}/4 `));
    expect(stream.text.endsWith("\x1b[K\n")).toBe(true);
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

describe("plot axes fit the data", () => {
  // The loss panel's plot area (plot.ts: 440 x 300 panels, margins 58/16/34/46).
  const area = { left: 58, right: 424, top: 34, bottom: 254 };
  /** Each polyline's points in the first panel, as [x, y] pixels. */
  const lines = (svg: string) => {
    const first = svg.slice(0, svg.indexOf("</g>"));
    return [...first.matchAll(/<polyline [^>]*points="([^"]*)"/g)].map((m) => m[1]!.split(" ").map((p) => p.split(",").map(Number) as [number, number]));
  };
  // A loss that falls by three orders of magnitude in 12 epochs, from 2.3 in the first batches.
  const perEpoch = 50;
  const falling = (t: number) => 2.3 * Math.exp(-0.6 * t) + 0.002;
  const history: History = {
    epochs: Array.from({ length: 12 }, (_, k) => ({
      epoch: k + 1, loss: falling(k + 0.5), accuracy: 0.9, testLoss: falling(k + 1) * 1.1, testAccuracy: 0.85, seconds: 1, samplesPerSecond: 1,
    })),
    batches: Array.from({ length: 12 * perEpoch }, (_, i) => [(i + 1) / perEpoch, falling((i + 1) / perEpoch) * (1 + 0.2 * Math.sin(i))] as [number, number]),
  };

  it("the x axis ends at the last epoch", () => {
    const [batches, train, test] = lines(plotHistory(history));
    for (const line of [batches!, train!, test!]) expect(line.at(-1)![0]).toBe(area.right);
    expect(batches![0]![0]).toBeLessThan(area.left + 2); // and starts at epoch 0
  });

  it("a loss spanning orders of magnitude is drawn on a log scale that the curves fill", () => {
    const svg = plotHistory(history);
    expect(svg).toContain(">loss (log scale)</text>");
    const [, train] = lines(svg);
    const heights = train!.map(([, y]) => (area.bottom - y) / (area.bottom - area.top)).sort((a, b) => a - b);
    // The epoch curve spreads over the panel instead of lying in its bottom fifth.
    expect(heights[Math.floor(heights.length / 2)]!).toBeGreaterThan(0.3);
    expect(heights[0]!).toBeLessThan(0.2);
    expect(heights.at(-1)!).toBeGreaterThan(0.8);
  });

  it("a loss within a factor of 20 stays linear from 0", () => {
    const mild: History = { ...history, batches: history.batches.map(([x]) => [x, 1 + 1 / (1 + x)]), epochs: history.epochs.map((e) => ({ ...e, loss: 1 + 1 / (1 + e.epoch), testLoss: undefined })) };
    const svg = plotHistory(mild);
    expect(svg).not.toContain("log scale");
    expect(svg).toMatch(/text-anchor="end">0\.0<\/text>/);
  });

  it("a few extreme values are clipped to the edge and marked, not allowed to squash the rest", () => {
    const points = Array.from({ length: 100 }, (_, i) => [i, Math.sin(i / 5)] as [number, number]);
    points[3] = [3, 80];
    points[60] = [60, -40];
    const svg = plotPanels([{ title: "noisy", yLabel: "value", series: [{ name: "signal", points }] }]);
    const markers = svg.match(/<path class="outlier" [^>]*>/g)!;
    expect(markers).toHaveLength(2);
    expect(markers[0]).toContain(`M${Math.round((area.left + (3 / 99) * (area.right - area.left)) * 10) / 10},${area.top} `);
    expect(svg).toContain(">\u25b2 1 above the range (up to 80), \u25bc 1 below the range (down to -40)</text>");
    const [line] = lines(svg);
    const ys = line!.map(([, y]) => y);
    expect(Math.min(...ys)).toBe(area.top);
    expect(Math.max(...ys)).toBe(area.bottom);
    // The sine wave itself spans most of the height: the range is about [-1, 1], not [-40, 80].
    const body = ys.filter((_, i) => i !== 3 && i !== 60);
    expect(Math.max(...body) - Math.min(...body)).toBeGreaterThan(0.7 * (area.bottom - area.top));
    checkXml(svg);
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
