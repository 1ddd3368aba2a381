// Training off the page's thread: compile the model text, run `step` on the example's data
// in slices (so a stop message gets through between them), post the loss and accuracy.

import { compile, GradcError } from "../../src/index";
import { dataFor, exampleById } from "./examples";
import type { FromWorker, ToWorker } from "./protocol";

let running = 0; // the id of the run in progress; a stop or a new run changes it

const post = (m: FromWorker) => (self as unknown as Worker).postMessage(m);

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const m = event.data;
  if (m.type === "stop") { running = 0; return; }
  running = m.run;
  try {
    train(m.run, m.source, m.filename, m.example);
  } catch (e) {
    running = 0;
    post({ type: "error", run: m.run, message: e instanceof GradcError ? e.rendered : String(e) });
  }
};

function train(run: number, source: string, filename: string, exampleId: string): void {
  const example = exampleById(exampleId)!;
  const data = dataFor(exampleId);
  const model = compile(source, { filename, seed: 1 });
  const { output, label, kind } = example.accuracy;
  // Classes: the output's last dim (a number in every example: [n, 3], [4, 1]).
  const width = Number(model.meta.outputs.find((o) => o.name === output)?.shape.at(-1) ?? 1);
  const accuracy = (): number | undefined => {
    const out = model.predict(data)[output];
    const labels = data[label];
    if (!(out instanceof Float32Array) || !labels || out.length !== labels.length) return undefined;
    return kind === "round" ? roundAccuracy(out, labels) : argmaxAccuracy(out, labels, width);
  };
  let step = 0;
  let ms = 0;
  const slice = () => {
    if (running !== run) { post({ type: "stopped", run, step }); return; }
    const t0 = performance.now();
    const losses: number[] = [];
    const end = Math.min(example.steps, step + 25);
    for (; step < end; step++) losses.push(model.step(data));
    ms += performance.now() - t0;
    post({ type: "progress", run, step, losses, accuracy: accuracy() });
    if (step < example.steps) setTimeout(slice, 0);
    else {
      running = 0;
      const predictions = Array.from(model.predict(data)[output] as Float32Array);
      post({ type: "done", run, step, ms, predictions });
    }
  };
  slice();
}

function roundAccuracy(out: Float32Array, labels: Float32Array): number {
  let right = 0;
  for (let i = 0; i < out.length; i++) if (Math.round(out[i]!) === labels[i]) right++;
  return right / out.length;
}

function argmaxAccuracy(out: Float32Array, labels: Float32Array, k: number): number {
  const n = out.length / k;
  let right = 0;
  for (let i = 0; i < n; i++) {
    let best = 0, truth = 0;
    for (let j = 1; j < k; j++) {
      if (out[i * k + j]! > out[i * k + best]!) best = j;
      if (labels[i * k + j]! > labels[i * k + truth]!) truth = j;
    }
    if (best === truth) right++;
  }
  return right / n;
}
