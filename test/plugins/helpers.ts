// Shared pieces of the bundler tests: temp apps outside the repo (so nothing can resolve
// the compiler by accident), running a bundle in a child node, and what a bundle with the
// compiler in it would contain.

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export const xorSource = readFileSync(new URL("../../examples/xor/xor.grad", import.meta.url), "utf8");

/** Trains `model` (in scope) on XOR and prints the result as JSON. */
export const trainLoop = (forward = "model.forward") => `
const x = Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]);
const y = Float32Array.from([0, 1, 1, 0]);
const first = model.step({ x, y });
let last = first;
for (let i = 0; i < 500; i++) last = model.step({ x, y });
const out = ${forward}({ x, y });
console.log(JSON.stringify({ first, last, rounded: Array.from(out.y_out, Math.round), params: model.meta.params.map((p) => p.name), type: out.y_out.constructor.name }));
`;

/** The XOR training loop, importing the model (default and named) from `from`. */
export const trainXor = (from: string) => `import model, { forward } from ${JSON.stringify(from)};\n${trainLoop("forward")}`;

/** `const model = TAG\`<the XOR model>\`;` */
export const inlineXor = (tag: string) => `const model = ${tag}\`\n${xorSource}\`;\n`;

export function lineOf(text: string, needle: string): number {
  const at = text.indexOf(needle);
  if (at < 0) throw new Error(`${JSON.stringify(needle)} is not in the text`);
  return text.slice(0, at).split("\n").length - 1;
}

/** Poll until `condition` holds, running `refresh` (if any) before each look. */
export async function waitFor(condition: () => boolean, timeout = 10_000, refresh?: () => Promise<void>): Promise<void> {
  const start = Date.now();
  for (;;) {
    if (refresh) await refresh();
    if (condition()) return;
    if (Date.now() - start > timeout) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function makeApp(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "gradc-plugin-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

export function runNode(file: string): any {
  const out = execFileSync(process.execPath, ["--enable-source-maps", file], { encoding: "utf8" });
  return JSON.parse(out.trim().split("\n").pop()!);
}

/** Text only the compiler has: its parser and printer, its messages, `new Function`. */
export const compilerMarkers = /acorn|astring|cannot matmul|internal compiler error|new Function|tokenizer/i;

export function expectTrained(result: { first: number; last: number; rounded: number[] }): void {
  if (!(result.last < result.first / 10) || result.rounded.join() !== "0,1,1,0") {
    throw new Error(`XOR did not train: ${JSON.stringify(result)}`);
  }
}
