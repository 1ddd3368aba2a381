export * from "./shape";
export {
  dimAdd, dimSub, dimMul, dimScale, dimFloorDiv, dimDivExact, dimProduct, dimNames, evalDim, foldDim, isDimName, isCompoundDim,
  isMonomial, mayBeNegative, type DimAlgebra,
} from "./dim";
export { Graph, topoSort, nodesWithBodies, useCounts, attrKey, bodyKey, type Node, type Attrs, type AttrValue, type Body } from "./graph";
export type { OpDef, OpKind, OpProps, PrintForm, ScalarFn, Tensor, EvalEnv, GraphBuilder } from "./op";
export { printIR } from "./print";
