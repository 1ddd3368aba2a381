// The lexer: source text to tokens. Comments run from `#` to the end of the line; a
// newline or `;` ends a statement, except inside ( ) and [ ], where newlines are ignored.
// Malformed characters become diagnostics and the lexer goes on.

import { diagnostic, span, type Diagnostic, type Source } from "../diagnostics";
import { keywords, punctuation, type Token } from "./tokens";

const identStart = /[A-Za-z_]/;
const identPart = /[A-Za-z0-9_]/;
const numberPattern = /(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/y;

export function tokenize(source: Source, errors: Diagnostic[]): Token[] {
  const text = source.text;
  const tokens: Token[] = [];
  let depth = 0;
  let i = 0;
  const push = (kind: Token["kind"], t: string, start: number, end: number, value?: number) => {
    tokens.push(value === undefined ? { kind, text: t, start, end } : { kind, text: t, start, end, value });
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === " " || c === "\t" || c === "\r") { i++; continue; }
    if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    if (c === "\n" || c === ";") {
      if (depth === 0 || c === ";") push("newline", "\n", i, i + 1);
      i++;
      continue;
    }
    if (identStart.test(c)) {
      const start = i;
      while (i < text.length && identPart.test(text[i]!)) i++;
      const word = text.slice(start, i);
      push(keywords.has(word) ? "keyword" : "ident", word, start, i);
      continue;
    }
    if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(text[i + 1] ?? ""))) {
      numberPattern.lastIndex = i;
      const m = numberPattern.exec(text)!;
      const start = i;
      i += m[0].length;
      // `1e` or `2.5E+` followed by junk, or a number running into a name: `3x`.
      if (i < text.length && identPart.test(text[i]!)) {
        while (i < text.length && (identPart.test(text[i]!) || text[i] === ".")) i++;
        errors.push(diagnostic("E0003", span(source, start, i), text.slice(start, i)));
        push("number", text.slice(start, i), start, i, NaN);
        continue;
      }
      push("number", m[0], start, i, Number(m[0]));
      continue;
    }
    const p = punctuation.find((q) => text.startsWith(q, i));
    if (p) {
      if (p === "(" || p === "[") depth++;
      if ((p === ")" || p === "]") && depth > 0) depth--;
      push("punct", p === "**" ? "^" : p, i, i + p.length);
      i += p.length;
      continue;
    }
    const cp = text.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    errors.push(diagnostic("E0001", span(source, i, i + ch.length), describeChar(ch)));
    i += ch.length;
  }
  push("eof", "", text.length, text.length);
  return tokens;
}

function describeChar(ch: string): string {
  const cp = ch.codePointAt(0)!;
  if (cp < 32 || cp === 127) return `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
  return `\`${ch}\``;
}

export function describeToken(t: Token): string {
  switch (t.kind) {
    if (c === "\"") {
      // A string literal (einsum subscripts): no escapes, on one line.
      const start = i++;
      while (i < text.length && text[i] !== "\"" && text[i] !== "\n") i++;
      if (text[i] !== "\"") {
        errors.push(diagnostic("E0002", span(source, start, i), "`\"` to close the string", "end of line"));
        push("string", text.slice(start + 1, i), start, i);
        continue;
      }
      i++;
      push("string", text.slice(start + 1, i - 1), start, i);
      continue;
    }
    case "eof": return "end of input";
    case "newline": return "end of line";
    case "number": return `number \`${t.text}\``;
    case "ident": return `name \`${t.text}\``;
    case "keyword": return `\`${t.text}\``;
    case "punct": return `\`${t.text}\``;
  }
}
    case "string": return `string "${t.text}"`;
