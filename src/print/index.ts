// IR -> text for people and tools: gradc definitions and expressions (`gradc grad`,
// `derivative`) and Graphviz DOT (`gradc graph`).

export { printDefinitions, printExpression, type NamedNode } from "./text";
export { printDot } from "./dot";
