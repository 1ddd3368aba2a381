// Trains an MNIST digit classifier, the MLP (mlp.grad) or the CNN (cnn.grad), and prints
// its confusion matrix and test accuracy.
//   npm run example:mnist [-- --epochs 12 --batch-size 32 --seed 1 --out DIR]
//   npm run example:cnn   [-- --load examples/mnist/out/cnn.safetensors]
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DIGITS, loadMnist, randomShift } from "./data.mjs";
import { parseOptions, runClassifier } from "../shared/run.mjs";

const MODELS = {
  mlp: { file: "mlp.grad", epochs: 12, batchSize: 32 },
  // trained on images moved by up to 2 pixels (a fresh seeded shift each time)
  cnn: { file: "cnn.grad", epochs: 10, batchSize: 32, augment: (x, rows, random) => randomShift(x, rows, random, 2) },
};

export function main(argv = process.argv.slice(2), io = {}) {
  const name = argv[0] && !argv[0].startsWith("-") ? argv[0] : "mlp";
  const spec = MODELS[name];
  if (!spec) throw new Error(`unknown model ${JSON.stringify(name)}: use ${Object.keys(MODELS).join(" or ")}`);
  const options = parseOptions(argv, { ...spec, out: fileURLToPath(new URL("./out", import.meta.url)) });
  const { perDigit, ...rest } = io; // perDigit: a small slice, for tests
  const { train, test } = loadMnist({ perDigit });
  return runClassifier({
    name,
    source: readFileSync(new URL(`./${spec.file}`, import.meta.url), "utf8"),
    filename: spec.file,
    train, test, classNames: DIGITS,
    augment: spec.augment,
    ...options,
    ...rest,
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
