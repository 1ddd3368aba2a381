export * from "./shape";
export { Graph, topoSort, useCounts, attrKey, type Node, type Attrs, type AttrValue } from "./graph";
export type { OpDef, OpKind, OpProps, PrintForm, ScalarFn, Tensor, EvalEnv, GraphBuilder } from "./op";
export { printIR } from "./print";
