// The playground page: editor on the left; on the right the problems, the gradient program
// (`gradc grad`), the graph (`gradc graph --grad`, drawn by Graphviz in wasm) and training
// in a Web Worker. The model text lives in the URL's hash, so a link shares it.

import type { EditorView } from "@codemirror/view";
import { setDiagnostics, type Diagnostic } from "@codemirror/lint";
import { instance as vizInstance, type Viz } from "@viz-js/viz";
import { createEditor } from "./editor";
import { analyse, moduleFiles, type Analysis } from "./gradc";
import { exampleById, examples, type Example } from "./examples";
import { LossChart } from "./chart";
import { decodeModel, encodeModel } from "./share";
import type { FromWorker, ToWorker } from "./protocol";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const picker = $<HTMLSelectElement>("example");
const problemsBox = $("problems");
const gradBox = $("grad");
const graphBox = $("graph");
const status = $("status");
const trainButton = $<HTMLButtonElement>("train");
const stopButton = $<HTMLButtonElement>("stop");
const resetButton = $<HTMLButtonElement>("reset");
const downloadButton = $<HTMLButtonElement>("download");
const chart = new LossChart($<HTMLCanvasElement>("chart"));

for (const e of examples) picker.add(new Option(e.title, e.id));

// The hash holds the example (for its data and file name) and the text.
const shared = decodeModel(location.hash);
let example: Example = exampleById(shared?.example ?? "") ?? examples[0]!;
picker.value = example.id;

let analysis: Analysis | undefined;
let timer: ReturnType<typeof setTimeout> | undefined;
const view: EditorView = createEditor($("editor"), shared?.text ?? example.source, () => {
  clearTimeout(timer);
  timer = setTimeout(refresh, 150);
});

let viz: Viz | undefined;
const vizReady = vizInstance().then((v) => { viz = v; });

function text(): string { return view.state.doc.toString(); }

/** Re-check the text: underline its problems, redraw the gradient and graph. */
function refresh(): void {
  const source = text();
  history.replaceState(null, "", encodeModel(example.id, source));
  analysis = analyse(source, example.filename);
  const diagnostics: Diagnostic[] = analysis.ok ? [] : analysis.problems.map((p) => ({
    from: p.from, to: p.to, severity: "error", source: p.code, message: p.message,
    renderMessage: () => pre(p.rendered, "cm-gradc-rendered"),
  }));
  view.dispatch(setDiagnostics(view.state, diagnostics));
  problemsBox.replaceChildren(...(analysis.ok ? [] : analysis.problems.map((p) => {
    const item = pre(p.rendered, "problem");
    item.dataset.code = p.code;
    item.onclick = () => { view.dispatch({ selection: { anchor: p.from, head: p.to }, scrollIntoView: true }); view.focus(); };
    return item;
  })));
  problemsBox.classList.toggle("empty", analysis.ok);
  document.body.dataset.state = analysis.ok ? "ok" : "error";
  trainButton.disabled = !analysis.ok || training;
  downloadButton.disabled = !analysis.ok;
  if (analysis.ok) {
    gradBox.textContent = analysis.gradText;
    void drawGraph(analysis.dot);
  }
}

async function drawGraph(dot: string): Promise<void> {
  await vizReady;
  if (!analysis?.ok || analysis.dot !== dot) return; // a newer text is being drawn
  const svg = viz!.renderSVGElement(dot);
  graphBox.replaceChildren(svg);
}

function pre(content: string, className: string): HTMLPreElement {
  const el = document.createElement("pre");
  el.className = className;
  el.textContent = content;
  return el;
}

// Training: one worker for the page's life, so it is loaded (and cached) before it is needed.
const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
let run = 0;
let training = false;
const send = (m: ToWorker) => worker.postMessage(m);

function setTraining(on: boolean): void {
  training = on;
  trainButton.disabled = on || !analysis?.ok;
  stopButton.disabled = !on;
  document.body.dataset.training = on ? "yes" : "no";
}

trainButton.onclick = () => {
  chart.clear();
  run++;
  setTraining(true);
  status.textContent = "compiling...";
  delete status.dataset.ms;
  delete status.dataset.predictions;
  send({ type: "train", run, source: text(), filename: example.filename, example: example.id });
};
stopButton.onclick = () => send({ type: "stop" });
resetButton.onclick = () => {
  send({ type: "stop" });
  run++;
  setTraining(false);
  chart.clear();
  status.textContent = "";
};

worker.onmessage = (event: MessageEvent<FromWorker>) => {
  const m = event.data;
  if (m.run !== run) return; // a run that was reset
  const acc = (a: number | undefined) => a === undefined ? "" : `, accuracy ${(a * 100).toFixed(1)}%`;
  switch (m.type) {
    case "progress":
      chart.add(m.losses, m.accuracy);
      status.textContent = `step ${m.step}, loss ${m.losses.at(-1)!.toFixed(5)}${acc(m.accuracy)}`;
      break;
    case "done":
      setTraining(false);
      status.textContent += ` (done in ${m.ms.toFixed(0)} ms)`;
      status.dataset.ms = String(m.ms);
      status.dataset.predictions = JSON.stringify(m.predictions);
      break;
    case "stopped":
      setTraining(false);
      status.textContent += " (stopped)";
      break;
    case "error":
      setTraining(false);
      status.textContent = m.message;
      break;
  }
};

picker.onchange = () => {
  example = exampleById(picker.value)!;
  resetButton.click();
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: example.source } });
  refresh();
};

// What `gradc compile model.grad -o model.mjs` writes: model.mjs and model.d.mts.
downloadButton.onclick = () => {
  const { js, dts } = moduleFiles(text(), example.filename);
  const base = example.filename.replace(/\.grad$/, "");
  save(`${base}.mjs`, js);
  save(`${base}.d.mts`, dts);
};

function save(name: string, content: string): void {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([content], { type: "text/javascript" }));
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

setTraining(false);
refresh();

// Offline: the service worker keeps every file the page has loaded.
if (import.meta.env.PROD && "serviceWorker" in navigator) {
  void navigator.serviceWorker.register(new URL("sw.js", document.baseURI));
}
