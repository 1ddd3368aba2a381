// The driver the iris and MNIST examples share: compile the model, train it (or load
// params saved by an earlier run), evaluate it on the test split, print the confusion
// matrix, save the params file and the loss/accuracy curves, and print the test accuracy
// as the last line, `test accuracy: 0.xxx` with the number for the model.
//
// Options (all examples): --epochs N, --batch-size N, --seed N, --out DIR (where params
// and curves go; default <example>/out), --load FILE (skip training, use saved params).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  compile, confusionMatrix, encodeParams, evaluate, fit, formatConfusionMatrix, formatDuration, loadParams, plotHistory,
} from "gradc";

/** Command-line options over the example's defaults. */
export function parseOptions(argv, defaults) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      epochs: { type: "string" },
      "batch-size": { type: "string" },
      seed: { type: "string" },
      out: { type: "string" },
      load: { type: "string" },
    },
  });
  const int = (text, fallback, name) => {
    if (text === undefined) return fallback;
    const v = Number(text);
    if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a non-negative integer, found ${text}`);
    return v;
  };
  return {
    positionals,
    epochs: int(values.epochs, defaults.epochs, "epochs"),
    batchSize: int(values["batch-size"], defaults.batchSize, "batch-size"),
    seed: int(values.seed, defaults.seed ?? 1, "seed"),
    out: values.out ?? defaults.out,
    load: values.load,
  };
}

/**
 * Trains (or loads) and evaluates one classifier. `spec`: name, source and filename (the
 * .grad file), train and test datasets, classNames, epochs, batchSize, seed, out (a folder,
 * or undefined to write nothing), load (a params file), metadata (extra strings for the
 * params file), and fit's augment, progress and progressEvery; log prints a line
 * (default console.log).
 */
export function runClassifier(spec) {
  const log = spec.log ?? ((line) => console.log(line));
  const model = compile(spec.source, { filename: spec.filename, seed: spec.seed });
  const count = model.meta.params.reduce((s, p) => s + model.params[p.name].length, 0);
  log(`${spec.name}: ${count} params; ${spec.train.size} training and ${spec.test.size} test examples`);

  let history;
  if (spec.load) {
    const meta = loadParams(model, readFileSync(spec.load));
    log(`loaded ${spec.load} (${meta.model ?? "unnamed model"}, trained for ${meta.epochs ?? "?"} epochs)`);
  } else {
    log(`training for ${spec.epochs} epochs, batches of ${spec.batchSize}, shuffle seed ${spec.seed}`);
    const started = performance.now();
    history = fit(model, spec.train, {
      epochs: spec.epochs, batchSize: spec.batchSize, seed: spec.seed, test: spec.test, progress: spec.progress,
      progressEvery: spec.progressEvery, augment: spec.augment,
    });
    log(`trained in ${formatDuration((performance.now() - started) / 1000)}`);
  }

  const result = evaluate(model, spec.test);
  log("");
  log("confusion matrix (test split):");
  log(formatConfusionMatrix(confusionMatrix(spec.test.labels, result.predictions, spec.test.classes), spec.classNames));
  log("");

  if (history && spec.out) {
    mkdirSync(spec.out, { recursive: true });
    const params = join(spec.out, `${spec.name}.safetensors`);
    const curves = join(spec.out, `${spec.name}.svg`);
    const metadata = { ...spec.metadata, model: spec.name, epochs: String(spec.epochs), test_accuracy: result.accuracy.toFixed(4) };
    writeFileSync(params, encodeParams(model, metadata));
    writeFileSync(curves, plotHistory(history, `${spec.name}: loss and accuracy`));
    log(`saved params to ${params} (use them again with --load ${params})`);
    log(`saved curves to ${curves}`);
  }
  log(`test accuracy: ${result.accuracy.toFixed(3)}`);
  return { model, history, result };
}
