// The op table: every primitive, by family, registered once.

import { registerOps } from "./registry";
import { elementwiseOps } from "./elementwise";
import { sourceOps } from "./source";
import { movementOps } from "./movement";
import { reduceOps } from "./reduce";
import { linalgOps } from "./linalg";
import { convOps } from "./conv";
import { gatherOps } from "./gather";
import { constantOps } from "./constant";
import { randomOps } from "./random";
import { scanOps } from "./scan";

registerOps([...sourceOps, ...elementwiseOps, ...movementOps, ...reduceOps, ...linalgOps, ...convOps, ...gatherOps, ...constantOps, ...randomOps, ...scanOps]);

export { getOp, allOps } from "./registry";
export { Builder, broadcastShapes } from "./builder";
export { inferReshapeDim, unitReshape, nest } from "./movement";
export { swapLast } from "./linalg";
export { buildScan, mergeLoops, stackedScan, scanOutput, layoutOf, type Cell } from "./scan";
export type { ElementwiseDef, GradDomain, KernelContext, KernelEmit, ViewEmit, SourceEmit, IndexInputs, PoolEpilogue } from "./define";
export type { RuntimeHelper } from "./special";
export { drawValues, generatorNames, generatorSource, randomKey, randomStateName } from "./random";
