// File access for the gradc command. A file-system problem is the user's to fix (a
// misspelt path, a folder where a file should be, no permission), so it becomes a
// GradcError naming the path and the problem in words, never an internal error. Writing
// creates missing parent folders, as tsc and esbuild do for their output.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fail } from "../diagnostics";

/** The errno codes a user can meet, in words. Others fall back to Node's own text. */
const problems: Record<string, string> = {
  ENOENT: "no such file or folder",
  EISDIR: "it is a folder, not a file",
  ENOTDIR: "a part of the path is a file, not a folder",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "the file system is read-only",
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is exceeded",
  // mkdir's answer when a file stands where a folder of the path should be
  EEXIST: "a part of the path is a file, not a folder",
  ENAMETOOLONG: "the name is too long",
  ELOOP: "too many symbolic links (a link cycle?)",
  EMFILE: "too many open files",
  EBUSY: "the file is busy",
  ETXTBSY: "the file is busy",
};

/** A Node file-system error as words: "permission denied". */
export function describeFileProblem(e: unknown): string {
  const error = e as NodeJS.ErrnoException;
  const code = typeof error?.code === "string" ? error.code : undefined;
  if (code && Object.prototype.hasOwnProperty.call(problems, code)) return problems[code]!;
  // "EXDEV: cross-device link not permitted, open 'x'" -> "cross-device link not permitted"
  const text = e instanceof Error ? e.message : String(e);
  const words = /^[A-Z0-9]+: ([^,]+)/.exec(text)?.[1] ?? text;
  return code ? `${words} (${code})` : words;
}

export function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    return fail("E0502", undefined, path, describeFileProblem(e));
  }
}

/** Writes `text` to `path`, creating its folder first when it is missing. */
export function writeText(path: string, text: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  } catch (e) {
    fail("E0503", undefined, path, describeFileProblem(e));
  }
}
