// The gradc CLI, run from the repository's source (tsx), so the tests compare the page with
// exactly what `gradc` prints or writes for the same text, without needing a fresh dist/.

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repo = fileURLToPath(new URL("../..", import.meta.url));
const tsx = join(repo, "node_modules/.bin/tsx");
const main = join(repo, "src/cli/main.ts");

/** Runs `gradc ...args` in a fresh folder holding `file` with `text`. */
export function gradc(file: string, text: string, args: string[]): { status: number; stdout: string; stderr: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "gradc-browser-"));
  writeFileSync(join(dir, file), text);
  const r = spawnSync(tsx, [main, ...args], { cwd: dir, encoding: "utf8" });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, dir };
}

/** What `gradc compile file -o out` writes: the module and its declarations. */
export function compileFiles(file: string, text: string, out: string, declarations: string): { js: string; dts: string } {
  const r = gradc(file, text, ["compile", file, "-o", out]);
  if (r.status !== 0) throw new Error(r.stderr);
  return { js: readFileSync(join(r.dir, out), "utf8"), dts: readFileSync(join(r.dir, declarations), "utf8") };
}

export const xorSource = readFileSync(join(repo, "examples/xor/xor.grad"), "utf8");
export { execFileSync };
