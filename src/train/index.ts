// Training utilities for models compiled by gradc: datasets and class-stratified splits,
// a seeded shuffling training loop with a progress bar, evaluation and confusion matrices,
// loss/accuracy curves as SVG, and the versioned params file. Plain TypeScript over typed
// arrays and strings: no node-only imports, so it bundles for browsers too.

export { createRandom, permutation, shuffleInPlace } from "./random";
export { createDataset, featureStats, gatherBatch, splitByClass, standardize, subset, type ClassSplitOptions, type Dataset } from "./data";
export { accuracy, argmaxRows, confusionMatrix, formatConfusionMatrix } from "./metrics";
export { ProgressBar, formatDuration, formatMetrics, type Metrics, type ProgressOptions, type ProgressStream } from "./progress";
export { plotPanels, type Panel, type Series } from "./plot";
export {
  evaluate, fit, plotHistory, type EpochRecord, type Evaluation, type EvaluateOptions, type FitOptions, type History, type TrainableModel,
} from "./fit";
export { decodeParams, encodeParams, loadParams, PARAMS_FORMAT, PARAMS_VERSION, type DecodedParams, type ParamsSource } from "./params-file";
