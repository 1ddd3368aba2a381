// Simplify: exact rewrite rules (a table, rules.ts) applied to a bounded fixpoint
// (fixpoint.ts). Takes any graph's roots, returns roots of the same values in no more nodes.

export { simplify, type SimplifyOptions } from "./fixpoint";
export { rules, constValue, excludesZero, type Rule } from "./rules";
export { readsTraining, specialiseTraining } from "./training";
