// Where a loop node's outputs live in its one packed buffer: every final carry, then every
// y stacked over the steps, back to back (src/ops/scan.ts; read by codegen too).

import { dimAdd, dimProduct, type Dim, type Node, type Shape } from "../ir";

/** Where each output of a loop node lives in its packed buffer. */
export interface ScanOutput {
  offset: Dim;
  shape: Shape;
}

/** The outputs of a loop with `carries` carry shapes and per-step `ys` shapes over `steps`:
 *  the final carries, then the stacked ys, back to back. */
export function scanLayout(carries: readonly Shape[], ys: readonly Shape[], steps: Dim): ScanOutput[] {
  const out: ScanOutput[] = [];
  let offset: Dim = 0;
  for (const shape of [...carries, ...ys.map((y) => [steps, ...y])]) {
    out.push({ offset, shape });
    offset = dimAdd(offset, dimProduct(shape));
  }
  return out;
}

/** The layout of a loop node. */
export function layoutOf(loop: Node): ScanOutput[] {
  const m = loop.attrs.carries as number;
  return scanLayout(loop.inputs.slice(0, m).map((i) => i.shape), loop.attrs.ys as unknown as Shape[], stepsOf(loop));
}

export function stepsOf(loop: Node): Dim {
  const m = loop.attrs.carries as number;
  return loop.inputs[m]!.shape[0]!;
}

