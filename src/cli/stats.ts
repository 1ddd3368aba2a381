// `gradc compile --stats`: what the compiled model costs. Counts primitive operations and
// flops of the forward graph and of forward + gradient, kernels and arena bytes per function.

import type { ModelIR } from "../codegen";
import { numel, topoSort, type Node, type Shape } from "../ir";
import { planFunction } from "../schedule";

export interface FunctionStats {
  kernels: number;
  arenaBytes: number;
}

export interface ModelStats {
  forwardOps: number;
  gradientOps: number;
  forwardFlops: number;
  gradientFlops: number;
  forward: FunctionStats;
  step?: FunctionStats;
}

/** Flops of one node, from its op record's `cost` or the kind's default. */
export function flopsOf(n: Node, numel: (shape: Shape) => number): number {
  if (n.op.cost) return n.op.cost(n, numel);
  switch (n.op.kind) {
    case "elementwise": return numel(n.shape);
    case "kernel": return n.inputs.reduce((s, i) => s + numel(i.shape), 0);
    default: return 0;
  }
}

export function modelStats(model: ModelIR, dtype: "f32" | "f64"): ModelStats {
  const bytes = dtype === "f64" ? 8 : 4;
  const size = (shape: Shape) => numel(shape.map((d) => (typeof d === "number" ? d : 1)));
  const count = (roots: Node[]) => {
    const nodes = topoSort(roots).filter((n) => n.op.kind === "elementwise" || n.op.kind === "kernel");
    return { ops: nodes.length, flops: nodes.reduce((s, n) => s + flopsOf(n, size), 0) };
  };
  const fwdRoots = [...model.outputs, ...(model.objective ? [model.objective] : [])];
  const fwd = count(fwdRoots);
  const all = count([...fwdRoots, ...(model.grads ?? [])]);
  const fnStats = (roots: Node[]): FunctionStats => {
    const plan = planFunction({ returned: roots });
    return {
      kernels: plan.kernels.length,
      arenaBytes: plan.slots.reduce((s, sz) => s + sz.coef * bytes, 0),
    };
  };
  return {
    forwardOps: fwd.ops, gradientOps: all.ops, forwardFlops: fwd.flops, gradientFlops: all.flops,
    forward: fnStats(fwdRoots),
    step: model.grads && model.objective ? fnStats([model.objective, ...model.grads]) : undefined,
  };
}

export function formatStats(s: ModelStats): string {
  const ratio = (a: number, b: number) => (b === 0 ? "-" : (a / b).toFixed(2));
  const lines = [
    `ops:     forward ${s.forwardOps}, forward+gradient ${s.gradientOps} (x${ratio(s.gradientOps, s.forwardOps)})`,
    `flops:   forward ${s.forwardFlops}, forward+gradient ${s.gradientFlops} (x${ratio(s.gradientFlops, s.forwardFlops)})`,
    `forward: ${s.forward.kernels} kernels, arena ${s.forward.arenaBytes} bytes`,
  ];
  if (s.step) lines.push(`step:    ${s.step.kernels} kernels, arena ${s.step.arenaBytes} bytes`);
  return lines.join("\n") + "\n";
}
