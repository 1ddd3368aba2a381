// Where a gradc workload's time goes: `node bench/profile.mjs W2 [seconds]` writes the
// model's emitted module (what `gradc compile` writes) to bench/.profile/, runs its
// steady-state call under `node --cpu-prof` in a child process, and summarises the
// profile: self time by function, and by line of the generated code (with the line's text
// and the kernel comment above it). Needs a build (dist/).
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gradc, modelSource } from "./lib/gradc.mjs";

const workloads = {
  W1: { model: "w1-xor", call: "step", data: `({ x: Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]), y: Float32Array.from([0, 1, 1, 0]) })` },
  W2: { model: "w2-mlp", call: "step", data: `(await import(${JSON.stringify(new URL("./w2-mlp.mjs", import.meta.url).href)})).w2Data()` },
  W3: { model: "w3-grad", call: "forward", data: `(await import(${JSON.stringify(new URL("./w3-grad.mjs", import.meta.url).href)})).w3Data()` },
  W4: { model: "w4-cnn", call: "step", data: `(await import(${JSON.stringify(new URL("./w4-cnn.mjs", import.meta.url).href)})).w4Data()` },
  W6: { model: "w6-gru", call: "step", data: `(await import(${JSON.stringify(new URL("./w6-gru.mjs", import.meta.url).href)})).w6Data()`, values: "{ ids: d.ids, target: d.target }" },
};

const id = (process.argv[2] ?? "").toUpperCase();
const seconds = Number(process.argv[3] ?? 4);
if (id === "W5") await profileCompiler(Number(process.argv[3] ?? 200));
const w = workloads[id];
if (!w) {
  console.error(`usage: node bench/profile.mjs ${Object.keys(workloads).join("|")} [seconds]`);
  process.exit(2);
}

const dir = fileURLToPath(new URL("./.profile/", import.meta.url));
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const modelFile = join(dir, `${w.model}.mjs`);
const { text } = gradc.compileToSource(modelSource(w.model), { filename: `${w.model}.grad`, format: "esm" });
writeFileSync(modelFile, text);
writeFileSync(join(dir, "target.mjs"), `
import * as model from "./${w.model}.mjs";
const d = ${w.data};
const values = ${w.values ?? "{ x: d.x, y: d.y }"};
let s = 0;
const run = (ms) => {
  const end = performance.now() + ms;
  while (performance.now() < end) for (let i = 0; i < 10; i++) { const r = model.${w.call}(values); s += typeof r === "number" ? r : 0; }
};
run(1000); // warm-up: samples before the mark below are left out of the summary
console.log("steady " + (process.hrtime.bigint() / 1000n));
run(${seconds * 1000});
console.log(s);
`);
const r = spawnSync(process.execPath, ["--cpu-prof", "--cpu-prof-interval=250", `--cpu-prof-dir=${dir}`, join(dir, "target.mjs")], { encoding: "utf8" });
if (r.status !== 0) throw new Error(r.stderr);

const profile = JSON.parse(readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith(".cpuprofile"))), "utf8"));
// Keep the samples taken after the warm-up mark (profile times are monotonic-clock µs, as
// process.hrtime).
const steadyFrom = Number(r.stdout.match(/steady (\d+)/)[1]);
const samples = [];
let t = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i];
  if (t >= steadyFrom) samples.push(profile.samples[i]);
}
const total = t - steadyFrom;
const counts = new Map();
for (const s of samples) counts.set(s, (counts.get(s) ?? 0) + 1);

const byFunction = new Map();
const byLine = new Map();
for (const node of profile.nodes) {
  const hits = counts.get(node.id) ?? 0;
  if (!hits) continue;
  const f = node.callFrame;
  const file = f.url.split("/").pop() || "(native)";
  const key = `${f.functionName || "(anonymous)"}  ${file}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
  if (f.url.endsWith(`${w.model}.mjs`)) {
    // positionTicks cover the whole profile; scale this node's line ticks to its steady hits.
    const ticks = node.positionTicks ?? [{ line: f.lineNumber + 1, ticks: 1 }];
    const all = ticks.reduce((a, p) => a + p.ticks, 0);
    for (const p of ticks) byLine.set(p.line, (byLine.get(p.line) ?? 0) + (hits * p.ticks) / all);
  }
}
const n = samples.length;
const pct = (h) => `${((100 * h) / n).toFixed(1).padStart(5)}%`;
console.log(`${id} (${w.model}.grad, ${w.call}): ${n} samples over ${(total / 1e6).toFixed(1)} s; module ${modelFile}\n`);
console.log("self time by function:");
for (const [k, h] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`  ${pct(h)}  ${k}`);

const lines = text.split("\n");
const kernelOf = (line) => {
  for (let i = line - 1; i >= 0; i--) {
    const m = lines[i].match(/^\s*\/\/ (.*)$/);
    if (m) return m[1].replace(/\s+\(.*\)$/, "");
    if (/^function /.test(lines[i])) return lines[i].replace(/\(.*/, "");
  }
  return "";
};
console.log("\nself time by line of the generated code (kernel comment above it):");
const lineTotal = [...byLine.values()].reduce((a, b) => a + b, 0);
for (const [line, h] of [...byLine].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
  console.log(`  ${((100 * h) / lineTotal).toFixed(1).padStart(5)}%  ${String(line).padStart(5)}  ${lines[line - 1].trim().slice(0, 70).padEnd(70)}  [${kernelOf(line)}]`);
}
// Per kernel (the nearest kernel comment above each line).
const byKernel = new Map();
for (const [line, h] of byLine) {
  const k = kernelOf(line);
  byKernel.set(k, (byKernel.get(k) ?? 0) + h);
}
console.log("\nself time by kernel of the generated code:");
for (const [k, h] of [...byKernel].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${((100 * h) / lineTotal).toFixed(1).padStart(5)}%  ${k}`);

/** W5: the compiler itself, compiling a deep MLP of `layers` layers, by function and line
 *  of dist/index.js (total time, self time). */
async function profileCompiler(layers) {
  const dir = fileURLToPath(new URL("./.profile/", import.meta.url));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const w5 = new URL("./w5-compile.mjs", import.meta.url).href;
  const gradcUrl = new URL("./lib/gradc.mjs", import.meta.url).href;
  writeFileSync(join(dir, "target.mjs"), `
import { deepMlp } from ${JSON.stringify(w5)};
import { gradc } from ${JSON.stringify(gradcUrl)};
gradc.compile(deepMlp(3));
const t0 = performance.now();
const m = gradc.compile(deepMlp(${layers}));
console.log("compile ms " + (performance.now() - t0).toFixed(0) + ", bytes " + m.source.length);
`);
  const r = spawnSync(process.execPath, ["--cpu-prof", "--cpu-prof-interval=500", `--cpu-prof-dir=${dir}`, join(dir, "target.mjs")], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  const profile = JSON.parse(readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith(".cpuprofile"))), "utf8"));
  const counts = new Map();
  for (const s of profile.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // dist/ locations mapped back to src/ through the build's source maps.
  const maps = new Map();
  const mapOf = (url) => {
    if (!maps.has(url)) {
      let m = null;
      try {
        if (url.includes("/dist/")) m = new SourceMap(JSON.parse(readFileSync(fileURLToPath(url) + ".map", "utf8")));
      } catch {}
      maps.set(url, m);
    }
    return maps.get(url);
  };
  const name = (n) => {
    const f = n.callFrame;
    const m = mapOf(f.url);
    const e = m?.findEntry(f.lineNumber, f.columnNumber);
    const where = e && e.originalSource ? `${e.originalSource.replace(/^.*?\/src\//, "src/")}:${e.originalLine + 1}` : `${f.url.split("/").pop() || "(native)"}:${f.lineNumber + 1}`;
    return `${f.functionName || "(anonymous)"}  ${where}`;
  };
  const self = new Map(), total = new Map();
  for (const n of profile.nodes) {
    const hits = counts.get(n.id) ?? 0;
    if (!hits) continue;
    self.set(name(n), (self.get(name(n)) ?? 0) + hits);
    // Total time: each function once per stack.
    const seen = new Set();
    for (let id = n.id; id !== undefined; id = parent.get(id)) {
      const k = name(byId.get(id));
      if (!seen.has(k)) total.set(k, (total.get(k) ?? 0) + hits), seen.add(k);
    }
  }
  const n = profile.samples.length;
  const pct = (h) => `${((100 * h) / n).toFixed(1).padStart(5)}%`;
  console.log(`W5: compiling a ${layers}-layer MLP: ${r.stdout.trim()}; ${n} samples\n`);
  console.log("self time:");
  for (const [k, h] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${pct(h)}  ${k}`);
  console.log("\ntotal time (including callees), gradc's own functions:");
  for (const [k, h] of [...total].filter(([k]) => k.includes("src/")).sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${pct(h)}  ${k}`);
  process.exit(0);
}
