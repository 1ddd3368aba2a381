// Classification metrics: predicted classes from score rows (argmax, first maximum wins),
// accuracy, and the confusion matrix with a plain-text rendering.

/** For each of the `rows` rows of `classes` scores in `scores`, the index of its first
 *  maximum (NaN scores never win), written to `into` from `offset` on. */
export function argmaxRows(scores: ArrayLike<number>, rows: number, classes: number, into: Int32Array, offset = 0): void {
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let top = -Infinity;
    for (let c = 0; c < classes; c++) {
      const v = scores[r * classes + c]!;
      if (v > top) {
        top = v;
        best = c;
      }
    }
    into[offset + r] = best;
  }
}

/** The share of positions where `predictions` equals `labels`. */
export function accuracy(labels: ArrayLike<number>, predictions: ArrayLike<number>): number {
  if (labels.length !== predictions.length) throw new RangeError(`accuracy: ${labels.length} labels but ${predictions.length} predictions`);
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === predictions[i]) right++;
  return labels.length === 0 ? 0 : right / labels.length;
}

/** matrix[actual][predicted] counts. */
export function confusionMatrix(labels: ArrayLike<number>, predictions: ArrayLike<number>, classes: number): number[][] {
  if (labels.length !== predictions.length) throw new RangeError(`confusionMatrix: ${labels.length} labels but ${predictions.length} predictions`);
  const matrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < labels.length; i++) matrix[labels[i]!]![predictions[i]!]! += 1;
  return matrix;
}

/** The matrix as an aligned table: one row per actual class, one column per predicted
 *  class, with each row's recall at its end. */
export function formatConfusionMatrix(matrix: number[][], names?: string[]): string {
  const k = matrix.length;
  const label = (i: number) => names?.[i] ?? String(i);
  const cellWidth = Math.max(...matrix.flat().map((v) => String(v).length), ...Array.from({ length: k }, (_, i) => label(i).length)) + 1;
  const rowWidth = Math.max("actual \\ predicted".length, ...Array.from({ length: k }, (_, i) => label(i).length));
  const pad = (s: string, w: number) => s.padStart(w);
  const lines = [pad("actual \\ predicted", rowWidth) + " " + matrix.map((_, j) => pad(label(j), cellWidth)).join("") + "  recall"];
  for (let i = 0; i < k; i++) {
    const row = matrix[i]!;
    const total = row.reduce((a, b) => a + b, 0);
    const recall = total === 0 ? "-" : (row[i]! / total).toFixed(3);
    lines.push(pad(label(i), rowWidth) + " " + row.map((v) => pad(String(v), cellWidth)).join("") + "  " + recall);
  }
  return lines.join("\n");
}
