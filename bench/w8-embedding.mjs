// W8 (W6 before the GRU took that name): an embedding lookup with a 10,000-token vocabulary (examples/embedding: 64 ids,
// 32-d rows, a readout to 10 classes; sgd). take reads and, under sgd, updates only the 64
// rows it names; one_hot(ids, 10000) @ E multiplies a [64, 10000] matrix forward and back
// and updates every row. Same weights; loss and applied gradients checked first.
import { readFileSync } from "node:fs";
import { appliedGradient, copyRecord, oneHot, relError, rng } from "./lib/data.mjs";
import { gradc } from "./lib/gradc.mjs";
import { ownLoop } from "./lib/harness.mjs";

const V = 10000;
const LR = 0.5; // the example's sgd(lr = 0.5)

export function w8Source() {
  return readFileSync(new URL("../examples/embedding/embedding.grad", import.meta.url), "utf8");
}

export function oneHotSource() {
  const text = w8Source();
  if (!text.includes("take(E, ids) @ W")) throw new Error("examples/embedding changed: update oneHotSource");
  return text.replace("take(E, ids) @ W", "(one_hot(ids, 10000) @ E) @ W");
}

export function w8Data() {
  const r = rng(61);
  return { ids: Float32Array.from({ length: 64 }, () => Math.floor(r() * V)), target: oneHot(64, 10, 62) };
}

export async function setupW8() {
  const values = w8Data();
  const take = gradc.compile(w8Source(), { filename: "embedding.grad", seed: 1 });
  const viaOneHot = gradc.compile(oneHotSource(), { filename: "embedding-one-hot.grad", seed: 1 });
  const init = copyRecord(take.params);
  for (const [k, v] of Object.entries(init)) viaOneHot.params[k].set(v);
  const ref = take.valueAndGrad(values);
  const want = { loss: ref.value, grads: Object.fromEntries(Object.entries(ref.grads).map(([k, g]) => [k, Float64Array.from(g)])) };

  const checks = [];
  const check = (name, model) => {
    const loss = model.step(values);
    const g = appliedGradient(init, model.params, LR);
    const gradErr = Math.max(...Object.keys(want.grads).map((k) => relError(g[k], want.grads[k])));
    checks.push({ name, loss, lossErr: Math.abs(loss - want.loss) / Math.abs(want.loss), gradErr });
  };
  check("gradc, take(E, ids)", take);
  check("gradc, one_hot(ids, 10000) @ E", viaOneHot);

  return {
    id: "W8",
    title: "embedding step, vocabulary 10,000, 64 ids, 32-d",
    unit: "µs",
    scale: 1e6,
    reference: "gradc, one_hot(ids, 10000) @ E",
    notes: "the reference is the one_hot @ E form: the take row's ratio is what a row lookup costs against the vocabulary-sized product",
    checks,
    impls: [
      { name: "gradc, take(E, ids)", loop: ownLoop(take.step, values, "gradc_take_w8") },
      { name: "gradc, one_hot(ids, 10000) @ E", loop: ownLoop(viaOneHot.step, values, "gradc_onehot_w8") },
    ],
  };
}
