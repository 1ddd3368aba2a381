export { lowerSource, lowerProgram, type LoweredProgram, type LowerOptions, type InitSpec, type OptimizerSpec, type TensorDecl, type ParamDecl } from "./lower";
export { builtins } from "./builtins";
export { requireReadableDims, shapeChecks, solvableDims, type ShapeCheck } from "./dims";
