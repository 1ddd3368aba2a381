// The lexer: source text to tokens. Comments run from `#` to the end of the line; a
// newline or `;` ends a statement, except inside ( ) and [ ], where newlines are ignored.
// An opener never closed (at the end of the file, or when a statement keyword starts a
// line inside it) is marked `unclosed` and does not swallow newlines, so the parser can
// name it and recover at the next line. Malformed characters become diagnostics.

import { diagnostic, span, type Diagnostic, type Source } from "../diagnostics";
import { keywords, punctuation, statementKeywords, type Token } from "./tokens";

// ASCII character classes as plain comparisons: they run once per character.
const identStart = { test: (c: string) => (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_" };
const identPart = { test: (c: string) => identStart.test(c) || (c >= "0" && c <= "9") };
const isDigit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";
/** Punctuation by its first character, longest first. */
const punctuationByFirst = new Map<string, string[]>();
for (const p of punctuation) punctuationByFirst.set(p[0]!, [...(punctuationByFirst.get(p[0]!) ?? []), p]);
/** What a user may have meant as part of a name: Unicode letters, marks, digits. */
const unicodeWordPart = /[\p{L}\p{M}\p{N}_]/u;
const numberPattern = /(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/y;
const byteOrderMark = 0xfeff;

export function tokenize(source: Source, errors: Diagnostic[]): Token[] {
  const text = source.text;
  const tokens: Token[] = [];
  // Every newline is kept at first; those inside closed brackets are dropped at the end.
  let lineStart = true;
  let i = text.charCodeAt(0) === byteOrderMark ? 1 : 0;
  const push = (kind: Token["kind"], t: string, start: number, end: number, value?: number) => {
    const token: Token = { kind, text: t, start, end };
    if (value !== undefined) token.value = value;
    if (lineStart && kind !== "newline") token.lineStart = true;
    lineStart = false;
    tokens.push(token);
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === " " || c === "\t" || c === "\r") { i++; continue; }
    if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++;
      continue;
    }
    if (c === "\n" || c === ";") {
      push("newline", "\n", i, i + 1);
      if (c === "\n") lineStart = true;
      i++;
      continue;
    }
    if (identStart.test(c) || (c > "\x7f" && unicodeWordPart.test(String.fromCodePoint(text.codePointAt(i)!)))) {
      const start = i;
      let foreign = -1;
      while (i < text.length) {
        if (identPart.test(text[i]!)) { i++; continue; }
        if (text[i]! <= "\x7f") break;
        const ch = String.fromCodePoint(text.codePointAt(i)!);
        if (!unicodeWordPart.test(ch)) break;
        if (foreign < 0) foreign = i;
        i += ch.length;
      }
      const word = text.slice(start, i);
      if (foreign >= 0) {
        // `café`, `λ`: one error naming the character; the word stays one name token,
        // so the rest of the statement parses without a cascade.
        const ch = String.fromCodePoint(text.codePointAt(foreign)!);
        errors.push({ ...diagnostic("E0001", span(source, foreign, foreign + ch.length), `${describeChar(ch)} in the name \`${word}\``), hint: "names use only ASCII letters, digits and `_`" });
      }
      push(keywords.has(word) ? "keyword" : "ident", word, start, i);
      continue;
    }
    if (isDigit(c) || (c === "." && isDigit(text[i + 1]))) {
      numberPattern.lastIndex = i;
      const m = numberPattern.exec(text)!;
      const start = i;
      i += m[0].length;
      // `1e` or `2.5E+` followed by junk, a number running into a name (`3x`), or a
      // second decimal point (`1.2.3`): one malformed number, up to the next blank.
      if (i < text.length && (identPart.test(text[i]!) || (text[i] === "." && (isDigit(text[i + 1]) || text[i + 1] === ".")))) {
        while (i < text.length && (identPart.test(text[i]!) || text[i] === ".")) i++;
        const bad = text.slice(start, i);
        // `2x` is a product written as in maths (an `e` could be an exponent: no guess).
        const name = bad.slice(m[0].length);
        const product = /^[A-DF-Za-df-z_][A-Za-z0-9_]*$/.test(name) && !m[0].endsWith(".");
        errors.push({ ...diagnostic("E0003", span(source, start, i), bad), ...(product ? { hint: `to multiply, write \`${m[0]} * ${name}\`` } : {}) });
        push("number", text.slice(start, i), start, i, NaN);
        continue;
      }
      push("number", m[0], start, i, Number(m[0]));
      continue;
    }
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
    const p = punctuationByFirst.get(c)?.find((q) => text.startsWith(q, i));
    if (p) {
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
  return dropBracketedNewlines(tokens, text);
}

/** Match brackets, mark the openers that are never closed, and drop the newlines inside
 *  a bracket pair that is closed. Openers close innermost first, so a newline sits inside
 *  some closed pair exactly when the innermost opener around it gets closed. */
function dropBracketedNewlines(tokens: Token[], text: string): Token[] {
  const open: Token[] = [];
  const innermost = new Map<Token, Token>();
  for (const t of tokens) {
    if (t.kind === "punct" && (t.text === "(" || t.text === "[")) {
      open.push(t);
    } else if (t.kind === "punct" && (t.text === ")" || t.text === "]")) {
      // A closer closes the innermost opener of its kind; the brackets opened inside
      // that one and still open were left open (`[x, (x]`). With no opener of its kind
      // it closes nothing.
      const want = t.text === ")" ? "(" : "[";
      let k = open.length - 1;
      while (k >= 0 && open[k]!.text !== want) k--;
      if (k >= 0) {
        for (let j = k + 1; j < open.length; j++) open[j]!.unclosed = true;
        open.length = k;
      }
    } else if (t.kind === "newline") {
      if (open.length > 0) innermost.set(t, open[open.length - 1]!);
    } else if (open.length > 0 && t.lineStart && t.kind === "keyword" && statementKeywords.has(t.text)) {
      // A statement cannot start inside brackets: whatever is open was left open.
      for (const o of open) o.unclosed = true;
      open.length = 0;
    }
  }
  for (const o of open) o.unclosed = true;
  if (innermost.size === 0) return tokens;
  // A `;` always ends a statement, even inside brackets (where it is then an error).
  return tokens.filter((t) => {
    const around = t.kind === "newline" ? innermost.get(t) : undefined;
    return !around || around.unclosed === true || text[t.start] === ";";
  });
}

/** A character as messages name it: invisible and control characters by code point. */
export function describeChar(ch: string): string {
  const cp = ch.codePointAt(0)!;
  const code = `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
  const name = charNames[cp];
  if (name) return `${code} (${name})`;
  if (/[\p{C}\p{Z}]/u.test(ch)) return code;
  if (cp > 127) return `\`${ch}\` (${code})`;
  return `\`${ch}\``;
}

const charNames: Record<number, string> = {
  0x00: "null", 0x0b: "vertical tab", 0x0c: "form feed", 0x1b: "escape", 0x7f: "delete",
  0xa0: "no-break space", 0xad: "soft hyphen", 0x200b: "zero-width space",
  0x200c: "zero-width non-joiner", 0x200d: "zero-width joiner", 0x200e: "left-to-right mark",
  0x200f: "right-to-left mark", 0x2028: "line separator", 0x2029: "paragraph separator",
  0x202f: "narrow no-break space", 0x2060: "word joiner", 0x3000: "ideographic space",
  0xfeff: "byte-order mark, zero-width no-break space",
};

export function describeToken(t: Token): string {
  switch (t.kind) {
    case "eof": return "end of input";
    case "newline": return "end of line";
    case "number": return `number \`${t.text}\``;
    case "string": return `string "${t.text}"`;
    case "ident": return `name \`${t.text}\``;
    case "keyword": return `\`${t.text}\``;
    case "punct": return `\`${t.text}\``;
  }
}
