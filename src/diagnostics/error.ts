// GradcError: the one error type users see. It carries every diagnostic of a failed
// phase (the first is the headline) and renders them clang-style with a code frame (cut
// to a window on long lines), then each related location (note) with its own frame.

import { lineColumn, type Span } from "./span";
import { messages, type MessageCode } from "./messages";

export interface Label {
  span: Span;
  message: string;
}

/** A secondary location, rendered after the main frame with its own (TypeScript's
 *  relatedInformation, rustc's notes): "first defined here", "in this call of `f`". */
export interface Note {
  message: string;
  span?: Span;
}

/** A note as the API reports it: resolved to file, line and column (0 without a span). */
export interface ResolvedNote {
  message: string;
  file: string;
  line: number;
  column: number;
}

export interface Diagnostic {
  code: MessageCode;
  message: string;
  span?: Span;
  /** Secondary spans ("this is [4, 2]"). */
  labels?: Label[];
  /** Related locations, after the labels. */
  notes?: Note[];
  hint?: string;
}

type Args<C extends MessageCode> = Parameters<(typeof messages)[C]>;

export function diagnostic<C extends MessageCode>(code: C, span: Span | undefined, ...args: Args<C>): Diagnostic {
  const make = messages[code] as (...a: unknown[]) => string;
  return { code, message: make(...args), span };
}

export class GradcError extends Error {
  readonly code: MessageCode;
  readonly file: string;
  /** 1-based; 0 when the error has no source position (runtime misuse). */
  readonly line: number;
  readonly column: number;
  readonly errors: Diagnostic[];
  /** The headline's labels and notes, with their positions. */
  readonly notes: ResolvedNote[];
  readonly rendered: string;

  constructor(errors: Diagnostic[]) {
    const first = errors[0]!;
    super(first.message);
    this.name = "GradcError";
    this.code = first.code;
    this.errors = errors;
    if (first.span) {
      const lc = lineColumn(first.span.source.text, first.span.start);
      this.file = first.span.source.file;
      this.line = lc.line;
      this.column = lc.column;
    } else {
      this.file = "";
      this.line = 0;
      this.column = 0;
    }
    this.notes = [...(first.labels ?? []), ...(first.notes ?? [])].map(resolveNote);
    this.rendered = errors.map(renderDiagnostic).join("\n");
  }

  override toString(): string {
    return this.rendered;
  }
}

function resolveNote(n: Note): ResolvedNote {
  if (!n.span) return { message: n.message, file: "", line: 0, column: 0 };
  const lc = lineColumn(n.span.source.text, n.span.start);
  return { message: n.message, file: n.span.source.file, line: lc.line, column: lc.column };
}

/** `d` with `notes` added after its own. */
export function withNotes(d: Diagnostic, ...notes: Note[]): Diagnostic {
  return { ...d, notes: [...(d.notes ?? []), ...notes] };
}

/** Throw a GradcError for one diagnostic. */
export function fail<C extends MessageCode>(code: C, span: Span | undefined, ...args: Args<C>): never {
  throw new GradcError([diagnostic(code, span, ...args)]);
}

export function failWith(d: Diagnostic): never {
  throw new GradcError([d]);
}

/** Where compiler bugs are reported (package.json's `bugs.url`, checked by a test). */
export const issueTracker = "https://github.com/gradc/gradc/issues";

/** A compiler bug: never dressed up as a user error. */
export class InternalError extends Error {
  constructor(message: string, detail?: string) {
    super(`internal compiler error: ${message}${detail ? `\n${detail}` : ""}\nplease report this at ${issueTracker}`);
    this.name = "InternalError";
  }
}

export function renderDiagnostic(d: Diagnostic): string {
  if (!d.span) {
    const notes = (d.notes ?? []).flatMap(renderNote);
    return [`error: ${d.message}`, ...notes, ...(d.hint ? [`  hint: ${d.hint}`] : [])].join("\n");
  }
  const { text, file } = d.span.source;
  const lc = lineColumn(text, d.span.start);
  const out = [`${file}:${lc.line}:${lc.column}: error: ${d.message}`];
  out.push(...codeFrame(text, d.span.start, d.span.end));
  for (const note of [...(d.labels ?? []), ...(d.notes ?? [])]) out.push(...renderNote(note));
  if (d.hint) out.push(`  hint: ${d.hint}`);
  return out.join("\n");
}

function renderNote(n: Note): string[] {
  if (!n.span) return [`  note: ${n.message}`];
  const l = lineColumn(n.span.source.text, n.span.start);
  return [`${n.span.source.file}:${l.line}:${l.column}: note: ${n.message}`, ...codeFrame(n.span.source.text, n.span.start, n.span.end)];
}

/** Past this many columns a frame shows a window around the span, cut with `...`. */
const frameWidth = 100;
/** Columns of context kept before the span in a cut line. */
const frameLead = 30;
/** Characters a terminal would not show as one plain column (controls, format
 *  characters such as U+FEFF, odd spaces, line and paragraph separators): a space in
 *  the frame, so the caret under them stays aligned. */
const invisible = /[\p{Cc}\p{Cf}\p{Zs}\p{Zl}\p{Zp}]/gu;

function codeFrame(text: string, start: number, end: number): string[] {
  const lc = lineColumn(text, start);
  const line = text.slice(lc.lineStart, lc.lineEnd);
  const from = Math.max(0, start - lc.lineStart);
  const to = Math.max(from + 1, Math.min(end, lc.lineEnd) - lc.lineStart);
  const { lo, hi } = lineWindow(line, from);
  const before = lo > 0 ? "..." : "";
  const after = hi < line.length ? "..." : "";
  const shown = before + line.slice(lo, hi).replace(/\t/g, " ").replace(invisible, (c) => " ".repeat(c.length)) + after;
  const caretFrom = before.length + from - lo;
  const caretTo = before.length + Math.max(from + 1, Math.min(to, hi)) - lo;
  return [`  ${shown}`, `  ${" ".repeat(caretFrom)}${"^".repeat(caretTo - caretFrom)}`];
}

/** The part of a long line shown around column offset `at`: all of a short line, else
 *  frameWidth columns starting a little before it (never splitting a surrogate pair).
 *  `line` is the text, and the line is [start, end) of it. */
function lineWindow(line: string, at: number, start = 0, end = line.length): { lo: number; hi: number } {
  const length = end - start;
  if (length <= frameWidth) return { lo: 0, hi: length };
  let lo = Math.max(0, Math.min(at - frameLead, length - frameWidth));
  if (isLowSurrogate(line.charCodeAt(start + lo))) lo++;
  let hi = Math.min(length, lo + frameWidth);
  if (hi < length && isLowSurrogate(line.charCodeAt(start + hi))) hi++;
  return { lo, hi };
}

/** The source line a span starts on, cut like a code frame when it is long (for kernel
 *  comments and runtime messages, which quote the line; a kernel per term of a 20,000-term
 *  line must not copy the line each time). */
export function sourceExcerpt(span: Span): string {
  const { text } = span.source;
  const lc = lineColumn(text, span.start);
  const { lo, hi } = lineWindow(text, span.start - lc.lineStart, lc.lineStart, lc.lineEnd);
  return `${lo > 0 ? "..." : ""}${text.slice(lc.lineStart + lo, lc.lineStart + hi)}${hi < lc.lineEnd - lc.lineStart ? "..." : ""}`;
}

/** `file:line: excerpt`, how kernel comments and runtime messages name a source line. */
export function sourceLine(span: Span): string {
  const lc = lineColumn(span.source.text, span.start);
  return `${span.source.file}:${lc.line}: ${sourceExcerpt(span).trim()}`;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}
