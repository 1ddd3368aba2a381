export type { Expr, Ident, IndexItem, KeywordArg, LocalDef, Program, Stmt } from "./ast";
export { parse, parseExpression, maxNesting } from "./parser";
export { tokenize, describeToken } from "./lexer";
export { printProgram, printStatement, printExpr, formatNumber } from "./printer";
export { preludeSource, preludeFile } from "./prelude";
export { binaryPrecedence, unaryPrecedence, comparisonOps, keywords, type BinaryOp } from "./tokens";
