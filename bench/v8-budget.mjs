// How big a function V8 optimizes: straight-line typed-array code (like unrolled, fused
// kernels) of n statements is run in a child process until warm, and its bytecode length
// (`--print-bytecode`), register count, `%GetOptimizationStatus` and time per statement are
// printed. src/codegen/budget.ts records what this found on Node 20 (V8 11.3): nothing
// over 61,440 bytes of bytecode (`--max-optimized-bytecode-size`) is ever optimized.
// `node bench/v8-budget.mjs` (a minute or two); `NS=100,400,500 node bench/v8-budget.mjs`.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** n statements: `blocks` keeps each value in a block of its own, `locals` in one local
 *  each (as scalarised code does). */
function source(n, style) {
  const lines = [];
  if (style === "locals") {
    for (let k = 0; k < n; k++) lines.push(`let s_${k} = a[${k % 97}] * b[${(k * 7) % 89}] + Math.exp(-a[${(k * 3) % 97}]);`);
    for (let k = 0; k < n; k++) lines.push(`out[${k % 128}] += s_${k} * s_${(k * 5) % n};`);
  } else {
    for (let k = 0; k < n; k++) lines.push(`{ const t = a[${k % 97}] * b[${(k * 7) % 89}] + 1 / (1 + Math.exp(-a[${(k * 3) % 97}])); out[${k % 128}] = t * t + out[${(k * 11) % 128}]; }`);
  }
  return `function f(out, a, b) {\n${lines.join("\n")}\n}\nreturn f;`;
}

const [mode, nArg, style, once] = process.argv.slice(2);
if (mode === "child") {
  const n = Number(nArg);
  const f = new Function(source(n, style))();
  const a = new Float32Array(128).fill(0.5), b = new Float32Array(128).fill(0.25), out = new Float32Array(128);
  const calls = once ? 1 : Math.max(500, Math.round(3e6 / n));
  for (let c = 0; c < calls; c++) f(out, a, b);
  const status = eval("%GetOptimizationStatus(f)");
  const t0 = performance.now();
  let timed = 0;
  while (performance.now() - t0 < 200) { f(out, a, b); timed++; }
  console.log(JSON.stringify({ status, turbofan: (status & 64) !== 0, nsPerStatement: Number(((performance.now() - t0) * 1e6 / timed / n).toFixed(1)), calls }));
} else {
  const self = fileURLToPath(import.meta.url);
  const sizes = (process.env.NS ?? "50,200,300,400,500,600,800,1000,1500").split(",").map(Number);
  console.log("style   statements  bytecode  registers  optimized  ns/statement  (status after warm-up calls)");
  for (const st of ["blocks", "locals"]) {
    for (const n of sizes) {
      const printed = execFileSync(process.execPath, ["--allow-natives-syntax", "--print-bytecode", "--print-bytecode-filter=f", self, "child", String(n), st, "once"], { encoding: "utf8", maxBuffer: 2 ** 30 });
      const run = JSON.parse(execFileSync(process.execPath, ["--allow-natives-syntax", self, "child", String(n), st], { encoding: "utf8" }).trim().split("\n").pop());
      const bytecode = printed.match(/Bytecode length: (\d+)/)?.[1];
      const registers = printed.match(/Register count (\d+)/)?.[1];
      console.log(`${st.padEnd(7)} ${String(n).padStart(10)}  ${String(bytecode).padStart(8)}  ${String(registers).padStart(9)}  ${String(run.turbofan).padStart(9)}  ${String(run.nsPerStatement).padStart(12)}  (${run.status} after ${run.calls})`);
    }
  }
}
