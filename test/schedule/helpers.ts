// Shared by the schedule tests: the plan of a model's forward function, and the emitted
// forward checked against the interpreter.
import { expect } from "vitest";
import { buildModel, compile } from "../../src/index";
import { evaluate } from "../../src/interpret";
import { bindShape, numel, type Node } from "../../src/ir";
import { lowerSource } from "../../src/lower";
import { planFunction, type Plan } from "../../src/schedule";

/** The plan of the forward function (the model's outputs) and the nodes by output name. */
export function planOf(source: string): { plan: Plan; out: Record<string, Node> } {
  const program = lowerSource(source, { filename: "plan.grad" });
  const model = buildModel(program);
  const out = Object.fromEntries(program.outputs.map((o, i) => [o.name, model.outputs[i]!]));
  return { plan: planFunction({ returned: model.outputs }), out };
}

/** The ops of a plan's kernels, in execution order. */
export const kernelOps = (plan: Plan): string[] => plan.kernels.map((k) => k.op.name);

/** The emitted forward (f64) against the interpreter on the lowered graph, every output.
 *  Inputs not given in `inputs` (ids, say) hold sin(1.3 i + k + 0.5). */
export function expectValuesAgree(source: string, dims: Record<string, number> = {}, inputs: Record<string, number[]> = {}): void {
  const program = lowerSource(source, { filename: "plan.grad" });
  const model = compile(source, { dtype: "f64", filename: "plan.grad" });
  const bound = new Map(Object.entries(dims));
  const values = new Map<string, Float64Array>();
  const args: Record<string, Float64Array> = {};
  program.inputs.forEach((d, k) => {
    const given = inputs[d.name];
    const v = given ? Float64Array.from(given) : Float64Array.from({ length: numel(bindShape(d.shape, bound)) }, (_, i) => Math.sin(1.3 * i + k + 0.5));
    values.set(d.name, v);
    args[d.name] = v;
  });
  for (const p of program.params) values.set(p.name, Float64Array.from(model.params[p.name] as Float64Array));
  const got = model.forward(args);
  const want = evaluate(program.outputs.map((o) => o.node), { dims: bound, values });
  for (const o of program.outputs) {
    const w = want.get(o.node)!.data;
    const r = got[o.name]!;
    const g = typeof r === "number" ? Float64Array.of(r) : r;
    expect(g.length, `${o.name}: length`).toBe(w.length);
    for (let i = 0; i < w.length; i++) expect(g[i], `${o.name}[${i}]`).toBeCloseTo(w[i]!, 12);
  }
}
