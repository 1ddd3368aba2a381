// The token table. Operator precedence lives here, beside the spellings, so the parser's
// precedence climbing and the printers read one table (grammar/gradc.ebnf: `expr`).

export type TokenKind =
  | "ident"
  | "number"
  | "string"
  | "keyword"
  | "punct"
  | "newline"
  | "eof";

export interface Token {
  kind: TokenKind;
  /** The spelling; `**` is normalised to `^`, newline and `;` both to "\n". */
  text: string;
  start: number;
  end: number;
  value?: number;
  /** The first token on its line (after a line feed, not after `;`). */
  lineStart?: boolean;
  /** On `(` and `[`: never closed (see lexer.ts); its newlines end statements. */
  unclosed?: boolean;
}

export const keywords = new Set([
  "dim", "input", "param", "fn", "output", "minimize", "with", "true", "false",
]);

/** The keywords that begin a statement: one at the start of a line cannot be inside
 *  brackets, so the brackets open there were left open. */
export const statementKeywords = new Set(["dim", "input", "param", "fn", "output", "minimize"]);

/** Punctuation, longest first so the lexer can match greedily. */
export const punctuation = [
  "...", "**", "//", "<=", ">=", "==", "!=",
  "(", ")", "[", "]", "{", "}", ",", ":", "=", "+", "-", "*", "/", "@", "^", "<", ">",
] as const;

export type BinaryOp = "+" | "-" | "*" | "/" | "//" | "@" | "^" | "<" | "<=" | ">" | ">=" | "==" | "!=";

/** Binding power of each binary operator; higher binds tighter. Unary minus sits between
 *  `*` (2) and `^` (4); calls and indexing bind tightest. `//` is floor division (of
 *  values, and of sizes in shape lists), binding like `*` as in Python. */
export const binaryPrecedence: Record<BinaryOp, number> = {
  "<": 0, "<=": 0, ">": 0, ">=": 0, "==": 0, "!=": 0,
  "+": 1, "-": 1,
  "*": 2, "/": 2, "//": 2, "@": 2,
  "^": 4,
};
export const unaryPrecedence = 3;
export const comparisonOps = new Set<string>(["<", "<=", ">", ">=", "==", "!="]);
export const rightAssociative = new Set<string>(["^"]);

export function isBinaryOp(text: string): text is BinaryOp {
  return Object.prototype.hasOwnProperty.call(binaryPrecedence, text);
}
