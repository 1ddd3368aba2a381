// ESTree builders (`b.*`), after Svelte's compiler/utils/builders. Codegen builds JS only
// through these; astring prints the result. Identifiers come from the codegen's own name
// table, never from user text, and numbers are always literals.

export type Expression =
  | { type: "Identifier"; name: string }
  | { type: "Literal"; value: number | string | boolean | null; raw?: string }
  | { type: "BinaryExpression"; operator: string; left: Expression; right: Expression }
  | { type: "LogicalExpression"; operator: "&&" | "||" | "??"; left: Expression; right: Expression }
  | { type: "UnaryExpression"; operator: string; prefix: true; argument: Expression }
  | { type: "UpdateExpression"; operator: "++" | "--"; prefix: boolean; argument: Expression }
  | { type: "AssignmentExpression"; operator: string; left: Expression; right: Expression }
  | { type: "ConditionalExpression"; test: Expression; consequent: Expression; alternate: Expression }
  | { type: "CallExpression"; callee: Expression; arguments: Expression[]; optional: false }
  | { type: "NewExpression"; callee: Expression; arguments: Expression[] }
  | { type: "MemberExpression"; object: Expression; property: Expression; computed: boolean; optional: false }
  | { type: "ArrayExpression"; elements: Expression[] }
  | { type: "ObjectExpression"; properties: Property[] }
  | { type: "ArrowFunctionExpression"; params: Expression[]; body: BlockStatement | Expression; expression: boolean; async: false; generator: false }
  | { type: "FunctionExpression"; id: null; params: Expression[]; body: BlockStatement; async: false; generator: false };

export interface Property {
  type: "Property";
  key: Expression;
  value: Expression;
  kind: "init";
  computed: boolean;
  method: false;
  shorthand: boolean;
}

export interface BlockStatement {
  type: "BlockStatement";
  body: Statement[];
}

export interface Comment {
  type: "Line";
  value: string;
}

export type Statement = (
  | { type: "ExpressionStatement"; expression: Expression }
  | { type: "VariableDeclaration"; kind: "const" | "let" | "var"; declarations: { type: "VariableDeclarator"; id: Expression; init: Expression | null }[] }
  | { type: "ForStatement"; init: Statement | Expression | null; test: Expression | null; update: Expression | null; body: Statement }
  | { type: "IfStatement"; test: Expression; consequent: Statement; alternate: Statement | null }
  | { type: "ForInStatement"; left: Statement; right: Expression; body: Statement }
  | { type: "SwitchStatement"; discriminant: Expression; cases: { type: "SwitchCase"; test: Expression | null; consequent: Statement[] }[] }
  | { type: "BreakStatement"; label: null }
  | { type: "ReturnStatement"; argument: Expression | null }
  | { type: "ThrowStatement"; argument: Expression }
  | { type: "FunctionDeclaration"; id: Expression; params: Expression[]; body: BlockStatement; async: false; generator: false }
  | { type: "ExportNamedDeclaration"; declaration: Statement | null; specifiers: { type: "ExportSpecifier"; local: Expression; exported: Expression }[]; source: null }
  | { type: "ExportDefaultDeclaration"; declaration: Expression }
  | BlockStatement
) & { comments?: Comment[] };

export interface Program {
  type: "Program";
  sourceType: "module" | "script";
  body: Statement[];
}

export const id = (name: string): Expression => ({ type: "Identifier", name });

export function num(value: number): Expression {
  if (Number.isNaN(value)) return id("NaN");
  if (value === Infinity) return id("Infinity");
  if (value === -Infinity) return unary("-", id("Infinity"));
  if (value < 0 || Object.is(value, -0)) return unary("-", { type: "Literal", value: -value, raw: String(-value) });
  return { type: "Literal", value, raw: String(value) };
}

export const str = (value: string): Expression => ({ type: "Literal", value, raw: JSON.stringify(value) });
export const bool = (value: boolean): Expression => ({ type: "Literal", value, raw: String(value) });
export const nil = (): Expression => ({ type: "Literal", value: null, raw: "null" });

export const binary = (operator: string, left: Expression, right: Expression): Expression =>
  ({ type: "BinaryExpression", operator, left, right });
export const logical = (operator: "&&" | "||" | "??", left: Expression, right: Expression): Expression =>
  ({ type: "LogicalExpression", operator, left, right });
export const unary = (operator: string, argument: Expression): Expression =>
  ({ type: "UnaryExpression", operator, prefix: true, argument });
export const conditional = (test: Expression, consequent: Expression, alternate: Expression): Expression =>
  ({ type: "ConditionalExpression", test, consequent, alternate });
export const call = (callee: Expression | string, ...args: Expression[]): Expression =>
  ({ type: "CallExpression", callee: typeof callee === "string" ? id(callee) : callee, arguments: args, optional: false });
export const newExpr = (callee: string, ...args: Expression[]): Expression =>
  ({ type: "NewExpression", callee: id(callee), arguments: args });
export const member = (object: Expression | string, property: string): Expression =>
  ({ type: "MemberExpression", object: typeof object === "string" ? id(object) : object, property: id(property), computed: false, optional: false });
export const index = (object: Expression | string, property: Expression): Expression =>
  ({ type: "MemberExpression", object: typeof object === "string" ? id(object) : object, property, computed: true, optional: false });
export const math = (fn: string, ...args: Expression[]): Expression => call(member("Math", fn), ...args);
export const assign = (left: Expression, right: Expression, operator = "="): Expression =>
  ({ type: "AssignmentExpression", operator, left, right });
export const array = (elements: Expression[]): Expression => ({ type: "ArrayExpression", elements });
export const object = (props: [string, Expression][]): Expression => ({
  type: "ObjectExpression",
  properties: props.map(([k, v]) => ({
    type: "Property", key: /^[A-Za-z_$][\w$]*$/.test(k) ? id(k) : str(k), value: v, kind: "init",
    computed: false, method: false, shorthand: false,
  })),
});
/** An object literal keyed by arbitrary strings. Keys are computed (`["__proto__"]: v`),
 *  so no key can set the prototype; `nullPrototype` adds `__proto__: null`. */
export function record(entries: [string, Expression][], nullPrototype = false): Expression {
  const properties: Property[] = entries.map(([k, v]) => ({
    type: "Property", key: str(k), value: v, kind: "init", computed: true, method: false, shorthand: false,
  }));
  if (nullPrototype) {
    properties.unshift({ type: "Property", key: id("__proto__"), value: nil(), kind: "init", computed: false, method: false, shorthand: false });
  }
  return { type: "ObjectExpression", properties };
}

export const arrow = (params: string[], body: Statement[] | Expression): Expression => ({
  type: "ArrowFunctionExpression", params: params.map(id),
  body: Array.isArray(body) ? block(body) : body, expression: !Array.isArray(body), async: false, generator: false,
});
export const fn = (params: string[], body: Statement[]): Expression => ({
  type: "FunctionExpression", id: null, params: params.map(id), body: block(body), async: false, generator: false,
});

export const block = (body: Statement[]): BlockStatement => ({ type: "BlockStatement", body });
export const stmt = (expression: Expression): Statement => ({ type: "ExpressionStatement", expression });
export const declare = (kind: "const" | "let", name: string, init?: Expression): Statement =>
  ({ type: "VariableDeclaration", kind, declarations: [{ type: "VariableDeclarator", id: id(name), init: init ?? null }] });
export const declareMany = (kind: "const" | "let", pairs: [string, Expression | undefined][]): Statement =>
  ({ type: "VariableDeclaration", kind, declarations: pairs.map(([n, init]) => ({ type: "VariableDeclarator", id: id(n), init: init ?? null })) });
export const ret = (argument?: Expression): Statement => ({ type: "ReturnStatement", argument: argument ?? null });
export const throwStmt = (argument: Expression): Statement => ({ type: "ThrowStatement", argument });
export const ifStmt = (test: Expression, consequent: Statement[], alternate?: Statement[]): Statement =>
  ({ type: "IfStatement", test, consequent: block(consequent), alternate: alternate ? block(alternate) : null });
export const func = (name: string, params: string[], body: Statement[]): Statement =>
  ({ type: "FunctionDeclaration", id: id(name), params: params.map(id), body: block(body), async: false, generator: false });

/** `for (let v = from; v < to; v++) body` */
export function loop(v: string, from: Expression, to: Expression, body: Statement[], step = 1): Statement {
  return {
    type: "ForStatement",
    init: declare("let", v, from),
    test: binary("<", id(v), to),
    update: step === 1 ? { type: "UpdateExpression", operator: "++", prefix: false, argument: id(v) } : assign(id(v), num(step), "+="),
    body: block(body),
  };
}

/** `for (const v in object) body` */
export function forIn(v: string, object: Expression, body: Statement[]): Statement {
  return { type: "ForInStatement", left: declare("const", v), right: object, body: block(body) };
}

/** `switch (d) { case a: case b: ...; default: ... }`: consecutive cases with empty
 *  bodies fall through to the next non-empty one; `end` closes the matched cases. */
export function switchStmt(d: Expression, cases: { test: Expression | null; body: Statement[] }[], end: Statement[]): Statement {
  const out = cases.map((c, i) => ({
    type: "SwitchCase" as const, test: c.test,
    consequent: c.body.length > 0 ? c.body : i === cases.length - 1 || cases[i + 1]!.test === null ? end : [],
  }));
  return { type: "SwitchStatement", discriminant: d, cases: out };
}

export const breakStmt = (): Statement => ({ type: "BreakStatement", label: null });

/** `a instanceof B` */
export const instanceOf = (a: Expression, b: Expression): Expression => binary("instanceof", a, b);

export function withComment<S extends Statement>(s: S, text: string): S {
  // astring prints `comments` on statements when its `comments` option is on.
  return { ...s, comments: [{ type: "Line", value: ` ${text.replace(/[\r\n\u2028\u2029]/g, " ")}` }] };
}

// ---- arithmetic helpers that keep generated index arithmetic short ----

export function isNum(e: Expression, v?: number): boolean {
  return e.type === "Literal" && typeof e.value === "number" && (v === undefined || e.value === v);
}

export function add(a: Expression, b: Expression): Expression {
  if (isNum(a, 0)) return b;
  if (isNum(b, 0)) return a;
  if (isNum(a) && isNum(b)) return num((a as { value: number }).value + (b as { value: number }).value);
  return binary("+", a, b);
}

export function mul(a: Expression, b: Expression): Expression {
  if (isNum(a, 0) || isNum(b, 0)) return num(0);
  if (isNum(a, 1)) return b;
  if (isNum(b, 1)) return a;
  if (isNum(a) && isNum(b)) return num((a as { value: number }).value * (b as { value: number }).value);
  return binary("*", a, b);
}
