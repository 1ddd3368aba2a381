// GradcError: the one error type users see. It carries every diagnostic of a failed
// phase (the first is the headline) and renders them clang-style with a code frame.

import { lineColumn, type Span } from "./span";
import { messages, type MessageCode } from "./messages";

export interface Label {
  span: Span;
  message: string;
}

export interface Diagnostic {
  code: MessageCode;
  message: string;
  span?: Span;
  /** Secondary spans ("this is [4, 2]"). */
  labels?: Label[];
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
    this.rendered = errors.map(renderDiagnostic).join("\n");
  }

  override toString(): string {
    return this.rendered;
  }
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
  if (!d.span) return `error: ${d.message}` + (d.hint ? `\n  hint: ${d.hint}` : "");
  const { text, file } = d.span.source;
  const lc = lineColumn(text, d.span.start);
  const out = [`${file}:${lc.line}:${lc.column}: error: ${d.message}`];
  out.push(...codeFrame(text, d.span.start, d.span.end));
  for (const label of d.labels ?? []) {
    const l = lineColumn(label.span.source.text, label.span.start);
    out.push(`${label.span.source.file}:${l.line}:${l.column}: note: ${label.message}`);
    out.push(...codeFrame(label.span.source.text, label.span.start, label.span.end));
  }
  if (d.hint) out.push(`  hint: ${d.hint}`);
  return out.join("\n");
}

function codeFrame(text: string, start: number, end: number): string[] {
  const lc = lineColumn(text, start);
  const line = text.slice(lc.lineStart, lc.lineEnd).replace(/\t/g, " ");
  const from = start - lc.lineStart;
  const to = Math.max(from + 1, Math.min(end, lc.lineEnd) - lc.lineStart);
  return [`  ${line}`, `  ${" ".repeat(from)}${"^".repeat(to - from)}`];
}
