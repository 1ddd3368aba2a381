// gradc as users get it: the built package (dist/), compiled models from bench/models, and
// `gradc compile --stats` (ops, flops, kernels, arena bytes) through the built CLI.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
export const gradc = await import(join(root, "dist/index.js"));

export function modelPath(name) {
  return fileURLToPath(new URL(`../models/${name}.grad`, import.meta.url));
}

export function modelSource(name) {
  return readFileSync(modelPath(name), "utf8");
}

export function compileModel(name, options = {}) {
  return gradc.compile(modelSource(name), { filename: `${name}.grad`, seed: 1, ...options });
}

/** Parse `gradc compile --stats` output (written to stderr by the CLI), with the size of
 *  the module it wrote. */
export function modelStats(name, args = []) {
  const dir = mkdtempSync(join(tmpdir(), "gradc-bench-"));
  try {
    const r = spawnSync(process.execPath, [join(root, "dist/cli.js"), "compile", modelPath(name), "--stats", "-o", join(dir, "m.mjs"), ...args], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`gradc compile --stats ${name} failed: ${r.stderr}`);
    const text = r.stderr;
    const num = (re) => {
      const m = text.match(re);
      return m ? Number(m[1]) : undefined;
    };
    return {
      forwardOps: num(/ops:\s+forward (\d+)/),
      gradientOps: num(/ops:.*forward\+gradient (\d+)/),
      forwardFlops: num(/flops:\s+forward (\d+)/),
      gradientFlops: num(/flops:.*forward\+gradient (\d+)/),
      forwardKernels: num(/forward: (\d+) kernels/),
      forwardArenaBytes: num(/forward: .*arena (\d+) bytes/),
      stepKernels: num(/step:\s+(\d+) kernels/),
      stepArenaBytes: num(/step:\s+.*arena (\d+) bytes/),
      emittedBytes: statSync(join(dir, "m.mjs")).size,
      text: text.trim(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
