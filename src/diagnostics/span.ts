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
  const end = Math.min(offset, text.length);
  // Binary search in the text's line starts (computed once per text), so that labelling
  // every kernel or diagnostic of a long program stays linear overall.
  const starts = lineStarts(text);
  let lo = 0, hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= end) lo = mid; else hi = mid - 1;
  }
  const line = lo + 1;
  // A byte-order mark is not a column: line 1 starts after it.
  const lineStart = lo === 0 && text.charCodeAt(0) === 0xfeff ? 1 : starts[lo]!;
  let lineEnd = lo + 1 < starts.length ? starts[lo + 1]! - 1 : text.length;
  if (lineEnd > lineStart && text.charCodeAt(lineEnd - 1) === 13) lineEnd--;
  return { line, column: Math.max(end, lineStart) - lineStart + 1, lineStart, lineEnd };
}

const lineStartCache = new Map<string, number[]>();

function lineStarts(text: string): number[] {
  let starts = lineStartCache.get(text);
  if (!starts) {
    starts = [0];
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
    if (lineStartCache.size >= 16) lineStartCache.clear();
    lineStartCache.set(text, starts);
  }
  return starts;
}
