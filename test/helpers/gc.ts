// Counting allocation: a compiled module runs alone in a child process (so the test
// runner's own allocations do not count), and only young-generation collections
// (scavenges) are counted, with a 1 MB nursery: they happen when new objects fill it, so a
// per-call allocation of even 16 bytes causes several over a measured loop, while the
// idle-time and memory-reducing full collections a loaded machine may run do not count.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Runs `script` beside `moduleText` (imported as `model`), with `files` (name to text) in
 *  the same folder for the script to import: the script defines
 *  `measure()`, returning a number; it runs four times to warm up (its own optimisation
 *  included: on a busy machine V8's optimizing compiler, running beside the loop, can
 *  finish after two runs, and until then the loop's own numbers are heap numbers), then
 *  once counted. */
export function scavengesDuring(moduleText: string, script: string, files: Record<string, string> = {}): { gcs: number; result: unknown } {
  const dir = mkdtempSync(join(tmpdir(), "gradc-gc-"));
  try {
    writeFileSync(join(dir, "model.mjs"), moduleText);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    writeFileSync(join(dir, "run.mjs"), `
import * as model from "./model.mjs";
import { PerformanceObserver, constants } from "node:perf_hooks";
${script}
for (let run = 0; run < 4; run++) measure();
// Collect what warming up left behind, so a later collection of it is not counted.
globalThis.gc();
globalThis.gc();
let gcs = 0;
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail.kind === constants.NODE_PERFORMANCE_GC_MINOR) gcs++;
});
obs.observe({ entryTypes: ["gc"] });
const result = measure();
await new Promise((r) => setTimeout(r, 50));
obs.disconnect();
console.log(JSON.stringify({ gcs, result }));
`);
    const out = execFileSync(process.execPath, ["--expose-gc", "--max-semi-space-size=1", "run.mjs"], { cwd: dir, encoding: "utf8" });
    return JSON.parse(out.trim().split("\n").pop()!) as { gcs: number; result: unknown };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
