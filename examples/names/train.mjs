// Trains a character-level language model of first names (makemore's task) and samples
// new names from it. Four models, one .grad file each: bigram.grad (a table of next-
// character logits), mlp.grad (the previous 3 characters' embeddings through a tanh layer),
// gru.grad (a GRU over the name, by `scan`) and transformer.grad (2 causal self-attention
// layers of 4 heads, AdamW with a warm-up and cosine learning-rate schedule fed through
// the run-time input `lr`).
//   npm run example:names -- --model bigram|mlp|gru|transformer
//     [--epochs N --batch-size N --seed N --out DIR --load FILE]
// It prints a progress bar per epoch (loss, validation loss), saves the params
// (<out>/<model>.safetensors) and the curves (<out>/<model>.svg), samples 20 names through
// `predict` from a seeded generator, and ends with the evaluation, whose last line is
// `test loss: 2.123 nats/char`: the mean negative log-likelihood of each character of the
// test names and of each name's end, in nats.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { compile, createRandom, encodeParams, formatDuration, loadParams, plotPanels, ProgressBar, shuffleInPlace } from "gradc";
import { batchBuffers, BLOCK, decodeName, gatherRows, loadSplits, VOCAB } from "./data.mjs";

/** Each model's file and training defaults; `lr` (a schedule) only for models with an `lr` input. */
export const MODELS = {
  bigram: { file: "bigram.grad", epochs: 10, batchSize: 32 },
  mlp: { file: "mlp.grad", epochs: 15, batchSize: 32 },
  gru: { file: "gru.grad", epochs: 6, batchSize: 64 },
  transformer: { file: "transformer.grad", epochs: 10, batchSize: 64, lr: { peak: 5e-3, final: 3e-4, warmup: 100 } },
};

const SAMPLES = 20;

export function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: "string", default: "bigram" },
      epochs: { type: "string" },
      "batch-size": { type: "string" },
      seed: { type: "string" },
      out: { type: "string" },
      load: { type: "string" },
    },
  });
  const spec = MODELS[values.model];
  if (!spec) throw new Error(`unknown model ${JSON.stringify(values.model)}: use ${Object.keys(MODELS).join(", ")}`);
  const int = (text, fallback, name) => {
    if (text === undefined) return fallback;
    const v = Number(text);
    if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a non-negative integer, found ${text}`);
    return v;
  };
  return {
    name: values.model,
    spec,
    epochs: int(values.epochs, spec.epochs, "epochs"),
    batchSize: Math.max(1, int(values["batch-size"], spec.batchSize, "batch-size")),
    seed: int(values.seed, 1, "seed"),
    out: values.out ?? fileURLToPath(new URL("./out", import.meta.url)),
    load: values.load,
  };
}

/** The learning rate at `step` of `total`: linear warm-up to `peak`, then cosine decay to `final`. */
export function learningRate(schedule, step, total) {
  const { peak, final, warmup } = schedule;
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const progress = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return final + 0.5 * (peak - final) * (1 + Math.cos(Math.PI * progress));
}

/** Mean nats per predicted character of `data` (forward passes of `rows` names, taken in
 *  order of length so each batch is padded little). */
export function evaluateLoss(model, data, rows = 500) {
  const order = Int32Array.from({ length: data.size }, (_, i) => i).sort((a, b) => data.lengths[a] - data.lengths[b] || a - b);
  const buffers = batchBuffers(Math.min(rows, data.size));
  const values = {};
  let nats = 0;
  for (let from = 0; from < data.size; from += rows) {
    const to = Math.min(from + rows, data.size);
    const batch = gatherRows(data, order, from, to, buffers);
    Object.assign(values, batch);
    if (model.meta.inputs.some((i) => i.name === "lr")) values.lr = 0;
    // loss is the batch's mean over its real characters; weighting it by their count sums nats
    nats += model.forward(values).loss * sum(batch.lengths);
  }
  return nats / data.chars;
}

/**
 * Samples `count` names, all at once: `predict` on the first t + 1 positions (it needs `ids`,
 * and `lengths` only because that is where the batch size is read) gives the logits of each
 * name's next character at position t; one is drawn from their softmax with `random`, until
 * every name has drawn its end token (or filled the 16 positions).
 */
export function sampleNames(model, count, random) {
  const names = Array.from({ length: count }, () => [0]); // each starts with "."
  const done = new Uint8Array(count);
  const probs = new Float64Array(VOCAB.length);
  for (let t = 0; t < BLOCK && !done.every(Boolean); t++) {
    const ids = new Float32Array(count * (t + 1));
    names.forEach((name, r) => ids.set(name.slice(0, t + 1), r * (t + 1)));
    const { logits } = model.predict({ ids, lengths: new Float32Array(count).fill(t + 1) });
    for (let r = 0; r < count; r++) {
      if (done[r]) continue;
      const at = (r * (t + 1) + t) * VOCAB.length;
      const id = t === BLOCK - 1 ? 0 : drawFromLogits(logits.subarray(at, at + VOCAB.length), probs, random);
      if (id === 0) done[r] = 1;
      else names[r].push(id);
    }
  }
  return names.map((name) => decodeName(name.slice(1)));
}

function drawFromLogits(logits, probs, random) {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  let total = 0;
  for (let k = 0; k < logits.length; k++) total += probs[k] = Math.exp(logits[k] - max);
  let u = random() * total;
  for (let k = 0; k < logits.length; k++) {
    u -= probs[k];
    if (u < 0) return k;
  }
  return logits.length - 1;
}

/**
 * Trains `model.params` in place on `train`, shuffling names each epoch with `seed`; after
 * every epoch the validation loss. Returns the history: per-epoch records and every batch's
 * loss (and learning rate, with a schedule).
 */
export function train(model, data, options) {
  const { epochs, batchSize, seed, schedule, progress, log } = options;
  const rows = Math.min(batchSize, data.train.size);
  const buffers = batchBuffers(rows);
  const order = Int32Array.from({ length: data.train.size }, (_, i) => i);
  const random = createRandom(seed);
  const stepsPerEpoch = Math.ceil(data.train.size / rows);
  const total = epochs * stepsPerEpoch;
  const history = { epochs: [], batches: [], rates: [] };
  const values = {};
  let step = 0;
  for (let epoch = 1; epoch <= epochs; epoch++) {
    shuffleInPlace(order, random);
    const bar = progress === false ? undefined : new ProgressBar(`epoch ${epoch}/${epochs}`, data.train.size, { ...progress });
    const started = performance.now();
    let nats = 0;
    let chars = 0;
    for (let from = 0; from < data.train.size; from += rows) {
      const to = Math.min(from + rows, data.train.size);
      const batch = gatherRows(data.train, order, from, to, buffers);
      Object.assign(values, batch);
      if (schedule) {
        values.lr = learningRate(schedule, step, total);
        history.rates.push([epoch - 1 + to / data.train.size, values.lr]);
      }
      const loss = model.step(values);
      const count = sum(batch.lengths);
      nats += loss * count;
      chars += count;
      step++;
      history.batches.push([epoch - 1 + to / data.train.size, loss]);
      bar?.update(to, { loss: nats / chars });
    }
    const seconds = (performance.now() - started) / 1000;
    const record = { epoch, loss: nats / chars, valLoss: evaluateLoss(model, data.val), seconds };
    bar?.finish(data.train.size, { loss: record.loss, val_loss: record.valLoss }, data.train.size / seconds);
    history.epochs.push(record);
    if (!Number.isFinite(record.loss)) log(`the loss is ${record.loss} at epoch ${epoch}`);
  }
  return history;
}

/** Training and validation loss per epoch (the batches faintly), and the schedule if any. */
export function plotCurves(history, title) {
  const epochs = history.epochs;
  const xMax = Math.max(1, epochs.length);
  const panels = [{
    title: "loss (nats/char)", xLabel: "epoch", yLabel: "nats per character", xMin: 0, xMax,
    series: [
      { name: "train (batches)", color: "#7f7f7f", faint: true, points: bucketMeans(history.batches, 400) },
      { name: "train", color: "#1f77b4", dots: true, points: epochs.map((e) => [e.epoch, e.loss]) },
      { name: "validation", color: "#d62728", dots: true, points: epochs.map((e) => [e.epoch, e.valLoss]) },
    ],
  }];
  if (history.rates.length > 0) {
    panels.push({ title: "learning rate", xLabel: "epoch", yLabel: "lr", xMin: 0, xMax, yMin: 0, series: [{ name: "lr", color: "#2ca02c", points: bucketMeans(history.rates, 400) }] });
  }
  return plotPanels(panels, title);
}

export function main(argv = process.argv.slice(2), io = {}) {
  const log = io.log ?? ((line) => console.log(line));
  const options = parseOptions(argv);
  const { name, spec } = options;
  const data = loadSplits({ seed: 1 });
  if (io.trainNames) data.train = { ...data.train, ...subsetRows(data.train, io.trainNames) };
  const source = readFileSync(new URL(`./${spec.file}`, import.meta.url), "utf8");
  const model = compile(source, { filename: spec.file, seed: options.seed });
  const count = model.meta.params.reduce((s, p) => s + model.params[p.name].length, 0);
  log(`${name}: ${count} params; ${data.train.size} training, ${data.val.size} validation and ${data.test.size} test names`);

  let history;
  let seconds;
  if (options.load) {
    const meta = loadParams(model, readFileSync(options.load));
    log(`loaded ${options.load} (${meta.model ?? "unnamed model"}, trained for ${meta.epochs ?? "?"} epochs)`);
  } else {
    const lr = spec.lr ? `, AdamW lr warm-up to ${spec.lr.peak} in ${spec.lr.warmup} steps then cosine to ${spec.lr.final}` : "";
    log(`training for ${options.epochs} epochs, batches of ${options.batchSize} names, shuffle seed ${options.seed}${lr}`);
    const started = performance.now();
    history = train(model, data, { ...options, schedule: spec.lr, progress: io.progress, log });
    seconds = (performance.now() - started) / 1000;
    log(`trained in ${formatDuration(seconds)}`);
  }

  const losses = { train: evaluateLoss(model, data.train), val: evaluateLoss(model, data.val), test: evaluateLoss(model, data.test) };
  if (history && options.out) {
    mkdirSync(options.out, { recursive: true });
    const params = join(options.out, `${name}.safetensors`);
    const curves = join(options.out, `${name}.svg`);
    const metadata = { model: name, epochs: String(options.epochs), test_loss: losses.test.toFixed(4), vocabulary: VOCAB };
    writeFileSync(params, encodeParams(model, metadata));
    writeFileSync(curves, plotCurves(history, `names, ${name}: loss per character`));
    log(`saved params to ${params} (use them again with --load ${params})`);
    log(`saved curves to ${curves}`);
  }

  const samples = sampleNames(model, SAMPLES, createRandom(options.seed));
  log("");
  log(`${SAMPLES} names sampled (seed ${options.seed}):`);
  log(samples.join(" "));
  log("");
  log(`train loss: ${losses.train.toFixed(3)} nats/char`);
  log(`validation loss: ${losses.val.toFixed(3)} nats/char`);
  log(`test loss: ${losses.test.toFixed(3)} nats/char`);
  return { model, history, seconds, losses, samples, params: count };
}

/** The first `n` names of an encoded split (for quick runs in tests). */
function subsetRows(data, n) {
  const size = Math.min(n, data.size);
  const lengths = data.lengths.slice(0, size);
  return { names: data.names.slice(0, size), size, ids: data.ids.slice(0, size * BLOCK), next: data.next.slice(0, size * BLOCK), lengths, chars: sum(lengths) };
}

function sum(values) {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

function bucketMeans(points, most) {
  if (points.length <= most) return points;
  const out = [];
  const size = Math.ceil(points.length / most);
  for (let i = 0; i < points.length; i += size) {
    const bucket = points.slice(i, i + size);
    out.push([bucket[bucket.length - 1][0], bucket.reduce((s, p) => s + p[1], 0) / bucket.length]);
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
