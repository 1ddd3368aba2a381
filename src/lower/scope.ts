// Names during lowering: dims, tensors (inputs, params, definitions), user functions.
// A function body sees its own parameters first, then the top-level names defined so far.

import type { Span } from "../diagnostics";
import type { Dim, Node } from "../ir";
import type { Expr, Ident, LocalDef } from "../syntax";

export type Binding =
  | { kind: "dim"; name: string; value: Dim; span: Span }
  | { kind: "tensor"; role: "input" | "param" | "def" | "fn-param"; node: Node; span: Span }
  /** `locals`: a block body's definitions, lowered in order before the value `body`. */
  | { kind: "fn"; name: string; params: Ident[]; defaults?: (Expr | undefined)[]; locals?: LocalDef[]; body: Expr; span: Span }
  /** A function parameter bound to a constant argument (a number, a list, true/false), kept
   *  as written so it can stand where a built-in needs a constant (`axis = axis`). */
  | { kind: "static"; expr: Expr; scope: Scope; span: Span }
  /** A name whose definition failed: uses of it are not reported again. */
  | { kind: "failed"; span: Span };

/** Thrown on use of a failed name; the statement is skipped without a new diagnostic. */
export class AlreadyReported extends Error {}

export class Scope {
  private readonly names = new Map<string, Binding>();
  constructor(readonly parent?: Scope) {}

  get(name: string): Binding | undefined {
    return this.names.get(name) ?? this.parent?.get(name);
  }

  own(name: string): Binding | undefined {
    return this.names.get(name);
  }

  set(name: string, binding: Binding): void {
    this.names.set(name, binding);
  }

  allNames(): string[] {
    return [...this.names.keys(), ...(this.parent?.allNames() ?? [])];
  }
}
