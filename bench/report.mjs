// The Markdown report of a bench run (bench/results.md, README.md's Performance section),
// rendered from the results record alone, so `node bench/report.mjs` can re-render
// results.md from the committed results.json without re-running anything.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fixedShapesMarkdown } from "./fixed-shapes.mjs";

export const sig = (v, d = 3) => (v === undefined || v === null || !Number.isFinite(v) ? "-" : v >= 10 ** d ? v.toFixed(0) : v.toPrecision(d));

/** Whether other work loaded the machine, from the load averages at start and end. */
function loadSentence(results) {
  const machine = results.machineInfo;
  const peak = Math.max(machine.loadAverage[0], results.loadAverageAtEnd[0]);
  const said = `load average ${machine.loadAverage[0]} at start, ${results.loadAverageAtEnd[0]} at end`;
  return peak > machine.cores * 0.75
    ? ` The machine was loaded by other work during this run (${said} on ${machine.cores} cores): wall-clock times are noisy and inflated, the CPU-time column is the steadier.`
    : ` The machine was quiet (${said}).`;
}
export function markdown(results) {
  const { timing, targets, note } = results;
  const machineLine = results.machine;
  const lines = [];
  lines.push(`Machine: ${machineLine}. Medians of ${timing.rounds} interleaved rounds (fewer where a workload says so below), min–max in brackets; ratios are medians against the hand-written reference (its row shows ×1).${loadSentence(results)}${note ? ` ${note}` : ""}`, "");
  lines.push("| workload | implementation | median (min–max) | × hand-written | × hand-written, CPU time |", "|---|---|---|---|---|");
  for (const [id, w] of Object.entries(results.workloads)) {
    if (id === "W5") continue;
    w.rows.forEach((r, i) => {
      const cell = r.status === "ok" ? `${sig(r.median)} ${w.unit} (${sig(r.min)}–${sig(r.max)})${r.gflops ? `, ${sig(r.gflops)} GFLOP/s` : ""}` : r.status === "fails" ? `fails: ${r.error}` : `**${r.status}**: ${r.error}`;
      lines.push(`| ${i === 0 ? `**${id}** ${w.title}` : ""} | ${r.name} | ${cell} | ${r.status === "ok" ? `×${sig(r.ratio)}` : ""} | ${r.status === "ok" ? `×${sig(r.cpuRatio)}` : ""} |`);
    });
  }
  // Workloads whose reference is not hand-written code say what their ratios compare.
  const notes = Object.entries(results.workloads).filter(([, w]) => typeof w.notes === "string").map(([id, w]) => `${id}: ${w.notes}.`);
  const counted = Object.entries(results.workloads).filter(([, w]) => w.flops).map(([id]) => id);
  if (counted.length) notes.push(`GFLOP/s (${counted.join(", ")}): the step's matmul and convolution flops over its median time.`);
  for (const [id, w] of Object.entries(results.workloads)) if (w.rounds && w.rounds < timing.rounds) notes.push(`${id}: ${w.rounds} rounds (its steps are slow; the workload keeps to a time budget).`);
  if (notes.length) lines.push("", notes.join(" "));
  if (results.workloads.W5) {
    const w = results.workloads.W5;
    lines.push("", `W5, compile time of a deep MLP (width ${w.width}, batch ${w.batch}, relu, mse, sgd) with \`compile()\`:`, "");
    lines.push("| layers | compile | per layer | growth per layer | emitted code | wasm target: compile (× the JS target's), code |", "|---|---|---|---|---|---|");
    const wasmCell = (r) => r.wasmError ? `fails: ${r.wasmError}` : r.wasmMs === undefined ? "" : `${sig(r.wasmMs)} ms (×${sig(r.wasmRatio)}), ${sig(r.wasmBytes / 1024)} KB`;
    for (const r of w.rows) lines.push(r.error ? `| ${r.layers} | fails: ${r.error} | | | | |` : `| ${r.layers} | ${sig(r.ms)} ms | ${sig(r.msPerLayer)} ms | ${r.growthMsPerLayer === undefined ? "" : `${sig(r.growthMsPerLayer)} ms`} | ${sig(r.bytes / 1024)} KB (${sig(r.bytesPerLayer / 1024)} KB/layer) | ${wasmCell(r)} |`);
  }
  if (results.fixedShapes) {
    lines.push("", "Fixed shapes against free dims (`bench/fixed-shapes.mjs`): each model compiled with its batch a free dim and bound by `sizes`, `step` timed interleaved at the same batch:", "");
    lines.push(...fixedShapesMarkdown(results.fixedShapes, sig));
  }
  if (Object.keys(results.stats).length) {
    lines.push("", "From `gradc compile --stats`:", "");
    lines.push("| model | ops fwd / fwd+grad | flops fwd / fwd+grad (ratio) | forward: kernels, arena | step: kernels, arena | emitted code |", "|---|---|---|---|---|---|");
    for (const [id, s] of Object.entries(results.stats)) {
      const ratio = `×${sig(s.flopsRatio)}`;
      lines.push(`| ${id} | ${s.forwardOps} / ${s.gradientOps} | ${s.forwardFlops} / ${s.gradientFlops} (${ratio}) | ${s.forwardKernels}, ${s.forwardArenaBytes} B | ${s.stepKernels === undefined ? "-" : `${s.stepKernels}, ${s.stepArenaBytes} B`} | ${sig(s.emittedBytes / 1024)} KB |`);
    }
  }
  if (results.allocation) {
    lines.push("", "Allocation (gc events counted with a PerformanceObserver, after warm-up): " + Object.entries(results.allocation).map(([k, v]) => `${k} ×${v.steps.toLocaleString("en")}: ${v.gcEvents}`).join("; ") + ".");
  }
  lines.push("", "| target | result | met |", "|---|---|---|");
  for (const t of targets) lines.push(`| ${t.id}: ${t.target} | ${t.detail} | ${t.met ? "yes" : "**no**"} |`);
  return lines.join("\n") + "\n";
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const results = JSON.parse(readFileSync(new URL("./results.json", import.meta.url), "utf8"));
  writeFileSync(new URL("./results.md", import.meta.url), markdown(results));
  process.stderr.write("bench/results.md re-rendered from bench/results.json\n");
}
