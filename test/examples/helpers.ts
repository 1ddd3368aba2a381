// Shared by the example tests: load an example's modules (plain .mjs, so through a
// runtime URL rather than a typed import), and collect what the examples print.

import type { ProgressStream } from "../../src/train";

/** An example module, typed by the caller. */
export async function importExample<T>(path: string): Promise<T> {
  const url = new URL(`../../examples/${path}`, import.meta.url).href;
  return (await import(/* @vite-ignore */ url)) as T;
}

/** A non-terminal stream that keeps what is written. */
export function captureStream(tty = false): ProgressStream & { text: string } {
  const stream = { text: "", isTTY: tty, columns: 100, write: (s: string) => { stream.text += s; return true; } };
  return stream;
}
