// Whether V8 optimizes an emitted module's hot functions: each module runs in one child
// process with `--allow-natives-syntax`, its API functions are called in rounds until every
// hot function is TurboFanned (or a cap is reached), and `%GetOptimizationStatus` of each
// is reported. The child runs with `--no-turbo-inlining`, so every hot function has to be
// optimized on its own: a kernel inlined into its caller would otherwise keep an
// unoptimized status of its own while running optimized code, or hide that it is too big.
// And with `--interrupt-budget=4096` (V8's default is 67,584 bytes of bytecode run between
// profiler ticks), so warming up takes ~1,000 rounds rather than ~5,000 (a tiny wrapper
// like `step` needs a whole budget's worth of calls per tick); the size limit that matters,
// `--max-optimized-bytecode-size`, is the same.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

/**
 * The bits of V8's `%GetOptimizationStatus` (`OptimizationStatus` in V8 11.3's
 * src/runtime/runtime.h, Node 20), as names: e.g. 81 = function | optimized | turbofanned,
 * 32769 = function | baseline (Sparkplug: not optimized), 129 = interpreted.
 */
const statusBits: [number, string][] = [
  [1 << 0, "function"], [1 << 1, "never optimize"], [1 << 2, "always optimize"], [1 << 3, "maybe deopted"],
  [1 << 4, "optimized"], [1 << 5, "maglev"], [1 << 6, "turbofan"], [1 << 7, "interpreted"],
  [1 << 8, "marked for optimization"], [1 << 9, "marked for concurrent optimization"],
  [1 << 10, "optimizing concurrently"], [1 << 11, "executing"], [1 << 12, "topmost frame turbofanned"],
  [1 << 13, "lite mode"], [1 << 14, "marked for deoptimization"], [1 << 15, "baseline"],
  [1 << 16, "topmost frame interpreted"], [1 << 17, "topmost frame baseline"], [1 << 18, "lazy (never compiled)"],
];
const turbofanBit = 1 << 6;

/** `%GetOptimizationStatus` bits as the names of those set. */
export function describeStatus(bits: number): string {
  return statusBits.filter(([bit]) => (bits & bit) !== 0).map(([, name]) => name).join(", ");
}

/** Optimized by TurboFan, V8's top tier (Node 20 does not enable Maglev). */
export function isTurboFanned(bits: number): boolean {
  return (bits & turbofanBit) !== 0;
}

/** The emitted functions that run on every call: the API functions and the run and kernel
 *  functions they call (runtime helpers, createParams and error paths are not hot). */
export function hotFunctionNames(moduleText: string): string[] {
  const names = [...moduleText.matchAll(/^function (\w+)\(/gm)].map((m) => m[1]!);
  return names.filter((n) => /^(forward|predict|valueAndGrad|step|stepImpl(_\d+)?|run_\w+|kernel_\w+)$/.test(n));
}

export interface OptimizationCase {
  name: string;
  /** An ES module as `gradc compile` writes it. */
  moduleText: string;
  /** Sizes of the model's free dims in the calls. */
  dims: Record<string, number>;
}

export interface OptimizationReport {
  name: string;
  rounds: number;
  /** Wall-clock time of the rounds. */
  ms: number;
  /** Status bits of each hot function after warm-up. */
  status: Record<string, number>;
}

/** Runs each case's module in one child process (one after another) and reports the
 *  status of its hot functions once all are TurboFanned, or `maxRounds` rounds (each a
 *  call of forward, predict, valueAndGrad and step) or `maxMs` have passed. A function too
 *  big for TurboFan stays in the baseline tier however long it runs; a loaded machine
 *  only delays the (concurrent) compiles of the others. */
export async function optimizationStatus(cases: readonly OptimizationCase[], maxRounds = 20_000, maxMs = 90_000): Promise<OptimizationReport[]> {
  const dir = mkdtempSync(join(tmpdir(), "gradc-opt-"));
  try {
    cases.forEach((c, i) => {
      const hot = hotFunctionNames(c.moduleText);
      // The probe reads the status of the module's own (unexported) functions.
      const probe = `\nexport const optimizationStatus = () => ({ ${hot.map((n) => `${n}: %GetOptimizationStatus(${n})`).join(", ")} });\n`;
      writeFileSync(join(dir, `m${i}.mjs`), c.moduleText + probe);
    });
    writeFileSync(join(dir, "run.mjs"), `
const cases = ${JSON.stringify(cases.map((c) => ({ name: c.name, dims: c.dims })))};
const maxRounds = ${maxRounds}, maxMs = ${maxMs};
const done = (status) => Object.values(status).every((bits) => (bits & ${turbofanBit}) !== 0);
const reports = [];
for (let i = 0; i < cases.length; i++) {
  const m = await import("./m" + i + ".mjs");
  // Small integers: valid ids for take and one_hot inputs, harmless elsewhere.
  const values = {};
  for (const input of m.meta.inputs) {
    const length = input.shape.reduce((n, d) => n * (typeof d === "number" ? d : cases[i].dims[d]), 1);
    values[input.name] = Float32Array.from({ length }, (_, k) => (k * 7) % 3);
  }
  const started = performance.now();
  let rounds = 0;
  while (rounds < maxRounds && performance.now() - started < maxMs) {
    m.forward(values);
    m.predict(values);
    m.valueAndGrad(values);
    m.step(values);
    rounds++;
    if (rounds % 10 === 0 && done(m.optimizationStatus())) break;
  }
  reports.push({ name: cases[i].name, rounds, ms: Math.round(performance.now() - started), status: m.optimizationStatus() });
}
console.log(JSON.stringify(reports));
`);
    const { stdout } = await promisify(execFile)(process.execPath, ["--allow-natives-syntax", "--no-turbo-inlining", "--interrupt-budget=4096", "run.mjs"], { cwd: dir, encoding: "utf8", maxBuffer: 1 << 26 });
    return JSON.parse(stdout.trim().split("\n").pop()!) as OptimizationReport[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
