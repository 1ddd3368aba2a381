// Free dims at run time. The compiled wrappers read each free dim from the length of an
// input in which it is the only unknown and appears once, solving inputs in declaration
// order until nothing changes (src/codegen/module.ts). A free dim the program needs that
// no input determines would run with a wrong size, so compiling such a program is an
// error (lowering, printing and interpreting it with explicit dims are fine).

import { diagnostic, GradcError, messages, type Diagnostic, type Span } from "../diagnostics";
import { dimNames, dimProduct, dimSub, formatShape, mayBeNegative, sameSize, sizeOf, topoSort, type Dim, type Node, type Shape } from "../ir";
import type { LoweredProgram } from "./lower";

/** Throws the free-dim diagnostics of a program about to be compiled. */
export function requireReadableDims(program: LoweredProgram): void {
  const roots = [...program.outputs.map((o) => o.node), ...(program.objective ? [program.objective.node] : [])];
  const errors = checkFreeDims(program.dims, program.inputs, roots);
  if (errors.length > 0) throw new GradcError(errors);
}

interface Decl {
  name: string;
  shape: Shape;
  span: Span;
}

/** The free dims that the lengths of `inputs` determine, in the order they are solved. */
export function solvableDims(inputs: readonly Decl[]): Set<string> {
  const solved = new Set<string>();
  let progress = true;
  while (progress) {
    progress = false;
    for (const d of inputs) {
      const unknown = [...new Set(d.shape.filter((s): s is string => typeof s === "string" && !solved.has(s)))];
      if (unknown.length !== 1 || d.shape.filter((s) => s === unknown[0]).length !== 1) continue;
      // A zero-size axis makes the length 0 whatever the dim is.
      if (d.shape.some((s) => s === 0)) continue;
      solved.add(unknown[0]!);
      progress = true;
    }
  }
  return solved;
}

/** E0407 for each input whose length cannot be checked, E0126 for each free dim the
 *  computation uses that no input determines. */
export function checkFreeDims(
  dims: readonly { name: string; value: Dim; span: Span }[],
  inputs: readonly Decl[],
  roots: readonly Node[],
): Diagnostic[] {
  const solved = solvableDims(inputs);
  const out: Diagnostic[] = [];
  for (const d of inputs) {
    const open = [...new Set(d.shape.filter((s): s is string => typeof s === "string" && !solved.has(s)))];
    if (open.length > 0) out.push(diagnostic("E0407", d.span, d.name, `[${open.join(", ")}]`));
  }
  const inInputs = new Set(inputs.flatMap((d) => d.shape.filter((s): s is string => typeof s === "string")));
  const used = usedDims(roots);
  for (const d of dims) {
    if (typeof d.value === "string" && used.has(d.name) && !solved.has(d.name) && !inInputs.has(d.name)) {
      out.push(diagnostic("E0126", d.span, d.name));
    }
  }
  return out;
}

/** The dim names the computation of `roots` uses: in its shapes and in `size` nodes. */
export function usedDims(roots: readonly Node[]): Set<string> {
  const used = new Set<string>();
  for (const n of topoSort(roots)) {
    for (const s of n.shape) dimNames(s, used);
    const attrDims = n.attrs.dims;
    if (n.op.name === "size" && Array.isArray(attrDims)) for (const s of attrDims) if (typeof s === "string") dimNames(s, used);
  }
  return used;
}

/** A condition on free dims that only their values can settle, checked by the compiled
 *  wrappers once the dims are read from the inputs: `a === b`, or `a >= 0`. */
export interface ShapeCheck {
  kind: "equal" | "nonNegative";
  a: Dim;
  b: Dim;
  span: Span | undefined;
  /** What fails, in words, for the message. */
  detail: string;
}

/** The run-time shape checks of a program: reshapes whose element counts involve a floor
 *  division or a sum (`[n]` to `[n // 2, 2]`), and sizes that subtract (`t - 1`). */
export function shapeChecks(roots: readonly Node[]): ShapeCheck[] {
  const out: ShapeCheck[] = [];
  const seen = new Set<string>();
  const add = (c: ShapeCheck) => {
    const key = `${c.kind}:${c.a}:${c.b}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(c);
  };
  for (const n of topoSort(roots)) {
    for (const d of n.shape) {
      if (typeof d === "string" && mayBeNegative(d)) add({ kind: "nonNegative", a: d, b: 0, span: n.span, detail: messages.E0412(d) });
    }
    // take(x, arange(t)) into a fixed-size axis: t must not pass it (`take(P, arange(t))`)
    const range = n.op.name === "take" || n.op.name === "scatter_add" ? n.inputs[1]! : undefined;
    const axisSize = n.op.name === "take" ? n.inputs[0]!.shape[n.attrs.axis as number] : n.attrs.size;
    if (range?.op.name === "arange" && typeof range.shape[0] === "string" && typeof axisSize === "number") {
      add({ kind: "nonNegative", a: dimSub(axisSize, range.shape[0]), b: 0, span: n.span, detail: messages.E0247(range.shape[0], axisSize) });
    }
    if (n.op.name === "reshape") {
      const from = n.inputs[0]!.shape;
      if (!sameSize(sizeOf(from), sizeOf(n.shape))) {
        add({ kind: "equal", a: dimProduct(from), b: dimProduct(n.shape), span: n.span, detail: messages.E0205(formatShape(from), formatShape(n.shape)) });
      }
    }
  }
  return out;
}
