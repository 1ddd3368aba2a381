// Source positions. Spans are byte offsets into one source text (acorn's convention);
// line and column are computed only when a diagnostic is rendered.

export interface Source {
  readonly file: string;
  readonly text: string;
}

export interface Span {
  readonly source: Source;
  readonly start: number;
  readonly end: number;
}

export function span(source: Source, start: number, end: number): Span {
  return { source, start, end };
}

/** The smallest span that covers both. Spans from different sources keep the first. */
export function joinSpans(a: Span, b: Span): Span {
  if (a.source !== b.source) return a;
  return { source: a.source, start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
}

export interface LineColumn {
  /** 1-based line. */
  line: number;
  /** 1-based column, counted in UTF-16 code units. */
  column: number;
  lineStart: number;
  lineEnd: number;
}

export function lineColumn(text: string, offset: number): LineColumn {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  let lineEnd = text.indexOf("\n", lineStart);
  if (lineEnd < 0) lineEnd = text.length;
  if (lineEnd > lineStart && text.charCodeAt(lineEnd - 1) === 13) lineEnd--;
  return { line, column: end - lineStart + 1, lineStart, lineEnd };
}
