// Trains the iris classifier (iris.grad) and prints its confusion matrix and test accuracy.
//   npm run example:iris [-- --epochs 50 --load examples/iris/out/iris.safetensors]
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadIris, SPECIES } from "./data.mjs";
import { parseOptions, runClassifier } from "../shared/run.mjs";

export function main(argv = process.argv.slice(2), io = {}) {
  const options = parseOptions(argv, { epochs: 50, batchSize: 16, out: fileURLToPath(new URL("./out", import.meta.url)) });
  const { train, test, stats } = loadIris();
  return runClassifier({
    name: "iris",
    source: readFileSync(new URL("./iris.grad", import.meta.url), "utf8"),
    filename: "iris.grad",
    train, test, classNames: SPECIES,
    ...options,
    progressEvery: 10, // a terminal keeps every 10th epoch's bar; a log gets a line per epoch
    metadata: { standardize_mean: JSON.stringify([...stats.mean]), standardize_std: JSON.stringify([...stats.std]) },
    ...io,
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
