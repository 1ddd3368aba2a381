// The AST: what the parser produces and the printer and lowering consume. Every node
// carries its span; names keep their own spans for precise diagnostics.

import type { Span } from "../diagnostics";
import type { BinaryOp } from "./tokens";

export interface Ident {
  name: string;
  span: Span;
}

export type Expr =
  | { kind: "number"; value: number; text: string; span: Span }
  | { kind: "bool"; value: boolean; span: Span }
  | { kind: "string"; value: string; span: Span }
  | { kind: "name"; name: string; span: Span }
  | { kind: "unary"; op: "-"; operand: Expr; span: Span }
  | { kind: "binary"; op: BinaryOp; left: Expr; right: Expr; opSpan: Span; span: Span }
  | {
      kind: "call"; callee: Ident; args: Expr[]; kwargs: KeywordArg[]; span: Span;
      /** The first positional argument written after a keyword one: lowering reports it
       *  (E0006), after checking whether the keyword's `=` was meant as `==` (E0011). */
      misplaced?: Expr;
    }
  | { kind: "index"; target: Expr; items: IndexItem[]; span: Span }
  | { kind: "list"; items: Expr[]; span: Span }
  | { kind: "paren"; inner: Expr; span: Span };

/** A definition inside a function's block body, local to it. */
export interface LocalDef {
  name: Ident;
  value: Expr;
  span: Span;
}

export interface KeywordArg {
  name: Ident;
  value: Expr;
  /** The `=` (a `==` may have been meant: E0011). */
  equalsSpan?: Span;
}

export type IndexItem =
  | { kind: "at"; index: Expr; span: Span }
  | { kind: "slice"; start?: Expr; stop?: Expr; step?: Expr; span: Span }
  | { kind: "ellipsis"; span: Span };

export type Stmt =
  | { kind: "dim"; names: Ident[]; span: Span }
  | { kind: "input"; name: Ident; shape?: Expr[]; span: Span }
  /** `frozen param ...`: not trainable (`frozen` is a word only in that position). */
  | { kind: "param"; name: Ident; shape?: Expr[]; init?: Expr; frozen?: boolean; span: Span }
  | { kind: "def"; name: Ident; value: Expr; span: Span }
  /** `defaults[i]` is parameter i's default (`fn f(x, axis = -1)`), when it has one. */
  /** A block body `{ z = ...; value }` keeps its definitions in `locals`, in order; `body`
   *  is always the value (the last line). */
  | { kind: "fn"; name: Ident; params: Ident[]; defaults?: (Expr | undefined)[]; locals?: LocalDef[]; body: Expr; span: Span }
  | { kind: "output"; names: Ident[]; span: Span }
  | { kind: "minimize"; objective: Expr; optimizer?: Expr; span: Span };

export interface Program {
  statements: Stmt[];
}
