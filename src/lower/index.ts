export { lowerSource, lowerProgram, trainable, predictInputs, optimizerSchemas, clipNormArgument, type Hyper, type LoweredProgram, type LowerOptions, type InitSpec, type OptimizerSpec, type TensorDecl, type ParamDecl } from "./lower";
export { builtins } from "./builtins";
export { requireReadableDims, shapeChecks, solvableDims, type ShapeCheck } from "./dims";
