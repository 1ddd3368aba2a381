// Labelled datasets for classifiers: flat row-major features plus integer class labels,
// splits by class (stratified, deterministic), feature standardisation, and the gather
// that copies a mini-batch (features and one-hot targets) into a model's input buffers.

import { shuffleInPlace, createRandom } from "./random";

/** `size` examples of `features` values each (row-major in `inputs`), labels in 0..classes-1. */
export interface Dataset {
  inputs: Float32Array;
  labels: Int32Array;
  size: number;
  features: number;
  classes: number;
}

export interface ClassSplitOptions {
  /** Share of each class that goes to the test split (0..1); the rest trains. */
  testFraction: number;
  /** Shuffle each class with this seed before cutting; without it each class keeps its
   *  original order, so its first examples train and its last ones test. */
  seed?: number;
}

/** A dataset from rows of features and their labels. */
export function createDataset(rows: ArrayLike<ArrayLike<number>>, labels: ArrayLike<number>, classes?: number): Dataset {
  if (rows.length !== labels.length) throw new RangeError(`createDataset: ${rows.length} rows but ${labels.length} labels`);
  const size = rows.length;
  const features = size > 0 ? rows[0]!.length : 0;
  const inputs = new Float32Array(size * features);
  const ints = new Int32Array(size);
  let k = classes ?? 0;
  for (let i = 0; i < size; i++) {
    const row = rows[i]!;
    if (row.length !== features) throw new RangeError(`createDataset: row ${i} has ${row.length} values, row 0 has ${features}`);
    for (let f = 0; f < features; f++) inputs[i * features + f] = row[f]!;
    const label = labels[i]!;
    if (!Number.isInteger(label) || label < 0) throw new RangeError(`createDataset: label ${i} is ${label}, not a class index`);
    ints[i] = label;
    if (classes === undefined) k = Math.max(k, label + 1);
    else if (label >= classes) throw new RangeError(`createDataset: label ${i} is ${label}, but there are ${classes} classes`);
  }
  return { inputs, labels: ints, size, features, classes: k };
}

/** The examples at `indices`, in that order, as a new dataset. */
export function subset(data: Dataset, indices: ArrayLike<number>): Dataset {
  const { features } = data;
  const inputs = new Float32Array(indices.length * features);
  const labels = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const k = indices[i]!;
    inputs.set(data.inputs.subarray(k * features, (k + 1) * features), i * features);
    labels[i] = data.labels[k]!;
  }
  return { inputs, labels, size: indices.length, features, classes: data.classes };
}

/** Splits every class separately, so both splits keep the class proportions. Each class
 *  of m examples gives round(m * testFraction) to the test split. Indices come out in
 *  class order; the training loop shuffles them anyway. */
export function splitByClass(data: Dataset, options: ClassSplitOptions): { train: Dataset; test: Dataset } {
  const { testFraction, seed } = options;
  if (!(testFraction >= 0 && testFraction <= 1)) throw new RangeError(`splitByClass: testFraction must be in [0, 1], found ${testFraction}`);
  const random = seed === undefined ? undefined : createRandom(seed);
  const train: number[] = [];
  const test: number[] = [];
  for (let c = 0; c < data.classes; c++) {
    const members: number[] = [];
    for (let i = 0; i < data.size; i++) if (data.labels[i] === c) members.push(i);
    if (random) shuffleInPlace(members, random);
    const cut = members.length - Math.round(members.length * testFraction);
    train.push(...members.slice(0, cut));
    test.push(...members.slice(cut));
  }
  return { train: subset(data, train), test: subset(data, test) };
}

/** Per-feature mean and standard deviation (population), for `standardize`. */
export function featureStats(data: Dataset): { mean: Float64Array; std: Float64Array } {
  const { features, size } = data;
  const mean = new Float64Array(features);
  const std = new Float64Array(features);
  for (let i = 0; i < size; i++) for (let f = 0; f < features; f++) mean[f] += data.inputs[i * features + f]!;
  for (let f = 0; f < features; f++) mean[f] /= Math.max(size, 1);
  for (let i = 0; i < size; i++) {
    for (let f = 0; f < features; f++) std[f] += (data.inputs[i * features + f]! - mean[f]!) ** 2;
  }
  for (let f = 0; f < features; f++) std[f] = Math.sqrt(std[f]! / Math.max(size, 1)) || 1;
  return { mean, std };
}

/** (x - mean) / std per feature, as a new dataset. Use the training split's stats for
 *  every split, so the test data tells the model nothing during training. */
export function standardize(data: Dataset, stats: { mean: ArrayLike<number>; std: ArrayLike<number> }): Dataset {
  const { features } = data;
  const inputs = new Float32Array(data.inputs.length);
  for (let i = 0; i < data.inputs.length; i++) {
    const f = i % features;
    inputs[i] = (data.inputs[i]! - stats.mean[f]!) / stats.std[f]!;
  }
  return { ...data, inputs, labels: data.labels.slice() };
}

/** Copies examples order[from..to) into `x` (features) and `y` (one-hot targets), which
 *  must hold at least (to - from) rows; returns views of exactly those rows. */
export function gatherBatch<A extends Float32Array | Float64Array>(
  data: Dataset, order: ArrayLike<number>, from: number, to: number, x: A, y: A,
): { x: A; y: A } {
  const { features, classes } = data;
  const rows = to - from;
  const xs = x.subarray(0, rows * features) as A;
  const ys = y.subarray(0, rows * classes) as A;
  ys.fill(0);
  for (let r = 0; r < rows; r++) {
    const k = order[from + r]!;
    xs.set(data.inputs.subarray(k * features, (k + 1) * features), r * features);
    ys[r * classes + data.labels[k]!] = 1;
  }
  return { x: xs, y: ys };
}
