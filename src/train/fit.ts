// The training loop for classifiers compiled by gradc: seeded shuffling each epoch,
// mini-batches over the model's free batch dim (the last one may be smaller), the model's
// own optimizer via `step`, a progress bar, evaluation on a test split after every epoch,
// and a history that `plotHistory` draws. Deterministic: the same model, data and seed
// give the same params and numbers on every run.
//
// The model takes features as input `x` [n, ...] and one-hot targets as `y` [n, classes]
// (names configurable), outputs per-class scores (`logits`, or its first output), and
// minimizes a loss that is a mean over the batch (so batch losses average by size).

import { gatherBatch, type Dataset } from "./data";
import { accuracy, argmaxRows } from "./metrics";
import { plotPanels, type Series } from "./plot";
import { ProgressBar, type Metrics, type ProgressOptions } from "./progress";
import { createRandom, shuffleInPlace } from "./random";

type TypedArray = Float32Array | Float64Array;
type Values = Record<string, TypedArray | number>;

/** What fit and evaluate need of a compiled model. */
export interface TrainableModel {
  meta: { outputs: { name: string }[] };
  params: Record<string, TypedArray>;
  forward(values: Values): Record<string, TypedArray | number>;
  step(values: Values): number;
}

export interface EvaluateOptions {
  /** rows per forward call (default 500) */
  batchSize?: number;
  /** input names (default "x" and "y") and the scores output (default the first output) */
  input?: string;
  target?: string;
  output?: string;
}

export interface FitOptions extends Omit<EvaluateOptions, "batchSize"> {
  epochs: number;
  batchSize: number;
  /** shuffling seed (default 1) */
  seed?: number;
  /** evaluated after every epoch */
  test?: Dataset;
  /** rows per forward call when evaluating (default 500) */
  evalBatchSize?: number;
  /** measure training accuracy with a forward pass on each batch before its step (Keras'
   *  convention: metrics at the params before the update); default true. It costs about
   *  one forward pass per step. */
  trainAccuracy?: boolean;
  /** changes each training batch in place before it is used (data augmentation): `x`
   *  holds `rows` examples; `random` is the loop's seeded generator, so runs repeat */
  augment?: (x: TypedArray, rows: number, random: () => number) => void;
  /** where the progress bar goes, or false for none */
  progress?: ProgressOptions | false;
  /** on a terminal, keep the finished bar of every k-th epoch (and the last); the others are
   *  drawn over by the next epoch's bar. Piped output (a log) always has one line per
   *  epoch. Default 1. */
  progressEvery?: number;
  onEpoch?: (record: EpochRecord, history: History) => void;
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  /** NaN when trainAccuracy is false */
  accuracy: number;
  testLoss?: number;
  testAccuracy?: number;
  /** training time of the epoch, evaluation excluded */
  seconds: number;
  samplesPerSecond: number;
}

export interface History {
  epochs: EpochRecord[];
  /** [epoch + fraction done, batch loss] for every step */
  batches: [number, number][];
}

export interface Evaluation {
  loss: number;
  accuracy: number;
  /** the predicted class of each example */
  predictions: Int32Array;
}

/** Trains `model.params` in place; returns the history. */
export function fit(model: TrainableModel, train: Dataset, options: FitOptions): History {
  const { epochs, batchSize } = options;
  if (!Number.isInteger(epochs) || epochs < 0) throw new RangeError(`fit: epochs must be a non-negative integer, found ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`fit: batchSize must be a positive integer, found ${batchSize}`);
  const names = ioNames(model, options);
  const ArrayType = arrayType(model);
  const rows = Math.min(batchSize, train.size);
  const xb = new ArrayType(rows * train.features);
  const yb = new ArrayType(rows * train.classes);
  const predicted = new Int32Array(rows);
  const order = new Int32Array(train.size).map((_, i) => i);
  const random = createRandom(options.seed ?? 1);
  const now = options.progress ? (options.progress.now ?? (() => performance.now())) : () => performance.now();
  const trackAccuracy = options.trainAccuracy ?? true;
  const history: History = { epochs: [], batches: [] };
  const values: Values = {};
  for (let epoch = 1; epoch <= epochs; epoch++) {
    shuffleInPlace(order, random);
    const keep = epoch % (options.progressEvery ?? 1) === 0 || epoch === epochs;
    const bar = options.progress === false ? undefined : new ProgressBar(`epoch ${epoch}/${epochs}`, train.size, { ...options.progress, keep });
    const started = now();
    let lossSum = 0;
    let right = 0;
    let done = 0;
    for (let from = 0; from < train.size; from += rows) {
      const to = Math.min(from + rows, train.size);
      const n = to - from;
      const { x, y } = gatherBatch(train, order, from, to, xb, yb);
      options.augment?.(x, n, random);
      values[names.input] = x;
      values[names.target] = y;
      if (trackAccuracy) {
        const scores = model.forward(values)[names.output] as TypedArray;
        argmaxRows(scores, n, train.classes, predicted);
        for (let r = 0; r < n; r++) if (predicted[r] === train.labels[order[from + r]!]) right++;
      }
      const loss = model.step(values);
      lossSum += loss * n;
      done = to;
      history.batches.push([epoch - 1 + done / train.size, loss]);
      bar?.update(done, trackAccuracy ? { loss: lossSum / done, acc: right / done } : { loss: lossSum / done });
    }
    const seconds = (now() - started) / 1000;
    const record: EpochRecord = {
      epoch, loss: lossSum / Math.max(done, 1), accuracy: trackAccuracy ? right / Math.max(done, 1) : NaN,
      seconds, samplesPerSecond: seconds > 0 ? done / seconds : 0,
    };
    const shown: Metrics = { loss: record.loss };
    if (trackAccuracy) shown.acc = record.accuracy;
    if (options.test) {
      const e = evaluate(model, options.test, { ...names, batchSize: options.evalBatchSize });
      record.testLoss = e.loss;
      record.testAccuracy = e.accuracy;
      shown.test_loss = e.loss;
      shown.test_acc = e.accuracy;
    }
    bar?.finish(done, shown, record.samplesPerSecond);
    history.epochs.push(record);
    options.onEpoch?.(record, history);
  }
  return history;
}

/** The model's mean loss, accuracy and predictions on `data`, by forward passes. */
export function evaluate(model: TrainableModel, data: Dataset, options: EvaluateOptions = {}): Evaluation {
  const names = ioNames(model, options);
  const ArrayType = arrayType(model);
  const rows = Math.max(1, Math.min(options.batchSize ?? 500, data.size));
  const xb = new ArrayType(rows * data.features);
  const yb = new ArrayType(rows * data.classes);
  const order = new Int32Array(data.size).map((_, i) => i);
  const predictions = new Int32Array(data.size);
  const values: Values = {};
  let lossSum = 0;
  for (let from = 0; from < data.size; from += rows) {
    const to = Math.min(from + rows, data.size);
    const { x, y } = gatherBatch(data, order, from, to, xb, yb);
    values[names.input] = x;
    values[names.target] = y;
    const result = model.forward(values);
    argmaxRows(result[names.output] as TypedArray, to - from, data.classes, predictions, from);
    lossSum += objective(result, model) * (to - from);
  }
  return { loss: lossSum / Math.max(data.size, 1), accuracy: accuracy(data.labels, predictions), predictions };
}

/** Loss and accuracy curves (train and test, per epoch; the per-batch loss faintly) as SVG. */
export function plotHistory(history: History, title?: string): string {
  const epochs = history.epochs;
  const series = (name: string, pick: (e: EpochRecord) => number | undefined, color: string): Series => ({
    name, color, dots: true,
    points: epochs.filter((e) => pick(e) !== undefined).map((e) => [e.epoch, pick(e)!] as [number, number]),
  });
  const loss: Series[] = [
    { name: "train (batches)", color: "#7f7f7f", faint: true, points: bucketMeans(history.batches, 400) },
    series("train", (e) => e.loss, "#1f77b4"),
    series("test", (e) => e.testLoss, "#d62728"),
  ];
  const acc: Series[] = [
    series("train", (e) => (Number.isNaN(e.accuracy) ? undefined : e.accuracy), "#1f77b4"),
    series("test", (e) => e.testAccuracy, "#d62728"),
  ];
  // Epochs run from 0 (the first batch is at 1/batches) to the last; a loss falling by
  // orders of magnitude is drawn on a log scale, and early outliers are clipped and marked.
  const xMax = history.batches.reduce((m, [x]) => (Number.isFinite(x) ? Math.max(m, x) : m), Math.max(1, epochs[epochs.length - 1]?.epoch ?? 1));
  return plotPanels([
    { title: "loss", xLabel: "epoch", yLabel: "loss", series: loss.filter((s) => s.points.length > 0), xMin: 0, xMax, yMin: 0, yScale: "auto" },
    { title: "accuracy", xLabel: "epoch", yLabel: "accuracy", series: acc.filter((s) => s.points.length > 0), xMin: 0, xMax, yMax: 1, legend: "bottom-right" },
  ], title);
}

/** At most `most` points: consecutive points averaged in equal buckets. */
function bucketMeans(points: [number, number][], most: number): [number, number][] {
  if (points.length <= most) return points;
  const out: [number, number][] = [];
  const size = Math.ceil(points.length / most);
  for (let i = 0; i < points.length; i += size) {
    const bucket = points.slice(i, i + size);
    out.push([bucket[bucket.length - 1]![0], bucket.reduce((s, p) => s + p[1], 0) / bucket.length]);
  }
  return out;
}

function ioNames(model: TrainableModel, options: EvaluateOptions): Required<Omit<EvaluateOptions, "batchSize">> {
  const output = options.output ?? (model.meta.outputs.some((o) => o.name === "logits") ? "logits" : model.meta.outputs[0]?.name);
  if (output === undefined) throw new RangeError("fit: the model has no output to read scores from");
  return { input: options.input ?? "x", target: options.target ?? "y", output };
}

/** The array type the model was compiled for (f32 or f64). */
function arrayType(model: TrainableModel): typeof Float32Array | typeof Float64Array {
  return Object.values(model.params).some((p) => p instanceof Float64Array) ? Float64Array : Float32Array;
}

/** The objective in a forward result: its one number that is not a declared output. */
function objective(result: Record<string, TypedArray | number>, model: TrainableModel): number {
  for (const key in result) {
    const v = result[key];
    if (typeof v === "number" && !model.meta.outputs.some((o) => o.name === key)) return v;
  }
  return NaN;
}
