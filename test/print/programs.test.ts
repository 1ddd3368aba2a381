// `gradc grad`'s output is a program: for every example model (every .grad file under
// examples/) and one small program per op of the op table that has a derivative rule, the
// printed gradient (src/print, as the CLI prints it) compiles as a program of its own, and
// evaluated at the same param and input values (f64) it gives valueAndGrad's gradients.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { buildModel, compile } from "../../src/index";
import { topoSort, type Node } from "../../src/ir";
import { findIdInputs } from "../../src/gradcheck";
import { lowerSource } from "../../src/lower";
import { allOps } from "../../src/ops";
import { expectClose, gradientProgram, randomValues, type Values } from "../conv/helpers";

const root = new URL("../../", import.meta.url).pathname;

function gradFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "node_modules" || name === "out" ? [] : gradFiles(path);
    return name.endsWith(".grad") ? [path] : [];
  });
}

/** Compiles the source and its printed gradient program (f64), evaluates both at seeded
 *  values (`ids` inputs drawn as valid ids), and compares every param's gradient. */
function expectPrintedGradientAgrees(source: string, dims: Record<string, number> = {}, ids: Record<string, number> = {}): void {
  const model = compile(source, { dtype: "f64", filename: "model.grad" });
  const printed = gradientProgram(source, model.meta);
  let gradient: ReturnType<typeof compile>;
  try {
    gradient = compile(printed, { dtype: "f64", filename: "gradient.grad" });
  } catch (e) {
    throw new Error(`the printed gradient does not compile:\n${printed}\n${(e as Error).message}`);
  }
  const values: Values = randomValues(model.meta, 17, dims);
  for (const [name, bound] of Object.entries(ids)) values[name] = values[name]!.map((_, i) => (i * 7 + 3) % bound);
  const inputs: Values = {};
  for (const d of model.meta.inputs) inputs[d.name] = values[d.name]!;
  const params: Values = {};
  for (const d of model.meta.params) params[d.name] = values[d.name]!;
  const want = model.valueAndGrad({ ...inputs, ...params }).grads;
  const got = gradient.forward({ ...inputs, ...params });
  for (const p of model.meta.params) {
    const g = got[`d_${p.name}`];
    expect(g, `d_${p.name} in\n${printed}`).toBeDefined();
    expectClose(g as Float64Array, want[p.name]!, 1e-11, `d_${p.name} of\n${printed}`);
  }
}

/** Ops whose printed form is not yet a program: each row is expected to fail (it.fails)
 *  and starts failing the suite once the print form is fixed, so it then moves out (and
 *  so do the example models that use it). None at present. */
const notYetPrograms = new Set<string>([]);

describe("the printed gradient of every example model compiles and equals valueAndGrad's", () => {
  const files = gradFiles(join(root, "examples"));
  it("finds the example models", () => {
    expect(files.map((f) => relative(root, f))).toEqual(expect.arrayContaining([
      "examples/xor/xor.grad", "examples/mnist/cnn.grad", "examples/embedding/embedding.grad", "examples/attention/attention.grad",
    ]));
  });
  for (const file of files) {
    // a model using an op whose printed gradient is not yet a program (below) fails too
    const notYet = [...notYetPrograms].some((op) => new RegExp(`\\b${op}\\(`).test(readFileSync(file, "utf8")));
    (notYet ? it.fails : it)(relative(root, file), () => {
      const source = readFileSync(file, "utf8");
      const free = lowerSource(source, { filename: file }).inputs.flatMap((d) => d.shape.filter((s): s is string => typeof s === "string"));
      const dims = Object.fromEntries(free.map((name) => [name, 2]));
      // the inputs a take or one_hot reads as ids: valid ids below the smallest size they index
      const model = buildModel(lowerSource(source, { filename: file }));
      const ids: Record<string, number> = {};
      for (const [name, bounds] of findIdInputs([...model.outputs, ...(model.objective ? [model.objective] : [])])) {
        ids[name] = Math.min(...bounds.map((b) => (typeof b === "number" ? b : 2)));
      }
      expectPrintedGradientAgrees(source, dims, ids);
    }, 60_000);
  }
});

/** One small program per op: params a, b (and inputs where an op needs them); the
 *  objective weights the op's result by sin so its cotangent is not constant. */
const programs: Record<string, string> = {
  neg: "param a: [3]\nminimize sum(sin(-a))",
  exp: "param a: [3]\nminimize sum(exp(a) * a)",
  log: "param a: [3]\nminimize sum(log(a * a + 0.5) * a)",
  log1p: "param a: [3]\nminimize sum(log1p(a * a) * a)",
  expm1: "param a: [3]\nminimize sum(expm1(a) * a)",
  sqrt: "param a: [3]\nminimize sum(sqrt(a * a + 0.1) * a)",
  abs: "param a: [3]\nminimize sum(abs(a) * a)",
  sin: "param a: [3]\nminimize sum(sin(a) * a)",
  cos: "param a: [3]\nminimize sum(cos(a) * a)",
  tan: "param a: [3]\nminimize sum(tan(a) * a)",
  asin: "param a: [3]\nminimize sum(asin(0.5 * a) * a)",
  acos: "param a: [3]\nminimize sum(acos(0.5 * a) * a)",
  atan: "param a: [3]\nminimize sum(atan(a) * a)",
  tanh: "param a: [3]\nminimize sum(tanh(a) * a)",
  sinh: "param a: [3]\nminimize sum(sinh(a) * a)",
  cosh: "param a: [3]\nminimize sum(cosh(a) * a)",
  sigmoid: "param a: [3]\nminimize sum(sigmoid(a) * a)",
  relu: "param a: [3]\nminimize sum(relu(a) * a)",
  softplus: "param a: [3]\nminimize sum(softplus(a) * a)",
  sign: "param a: [3]\nminimize sum(sign(a) * a * a)",
  floor: "param a: [3]\nminimize sum(floor(3 * a) * a)",
  ceil: "param a: [3]\nminimize sum(ceil(3 * a) * a)",
  trunc: "param a: [3]\nminimize sum(trunc(3 * a) * a)",
  round: "param a: [3]\nminimize sum(round(3 * a) * a)",
  erf: "param a: [3]\nminimize sum(erf(a) * a)",
  stop_gradient: "param a: [3]\nminimize sum(stop_gradient(a) * a)",
  add: "param a: [2, 3]\nparam b: [3]\nminimize sum(sin(a + b))",
  sub: "param a: [2, 3]\nparam b: [3]\nminimize sum(sin(a - b))",
  mul: "param a: [2, 3]\nparam b: [3]\nminimize sum(sin(a * b))",
  div: "param a: [2, 3]\nparam b: [3]\nminimize sum(sin(a / (b * b + 1)))",
  pow: "param a: [3]\nparam b: [3]\nminimize sum((a * a + 0.5) ^ b)",
  mod: "param a: [3]\nparam b: [3]\nminimize sum(mod(3 * a, b * b + 0.5) * a)",
  maximum: "param a: [3]\nparam b: [3]\nminimize sum(sin(maximum(a, b)))",
  minimum: "param a: [3]\nparam b: [3]\nminimize sum(sin(minimum(a, b)))",
  lt: "param a: [3]\nparam b: [3]\nminimize sum((a < b) * a * b)",
  le: "param a: [3]\nparam b: [3]\nminimize sum((a <= b) * a * b)",
  gt: "param a: [3]\nparam b: [3]\nminimize sum((a > b) * a * b)",
  ge: "param a: [3]\nparam b: [3]\nminimize sum((a >= b) * a * b)",
  eq: "param a: [3]\nparam b: [3]\nminimize sum((a == a) * a * b)",
  ne: "param a: [3]\nparam b: [3]\nminimize sum((a != b) * a * b)",
  where: "param a: [3]\nparam b: [3]\nminimize sum(sin(where(a > 0, a * b, b)))",
  broadcast: "param a: [3]\nminimize sum(sin(broadcast_to(a, [2, 3]) * tensor([[1], [2]])))",
  reshape: "param a: [2, 3]\nminimize sum(sin(reshape(a, [3, 2]) * tensor([1, 2])))",
  transpose: "param a: [2, 3]\nminimize sum(sin(transpose(a) * tensor([1, 2])))",
  slice: "param a: [4, 3]\nminimize sum(sin(a[1:3, ::2]))",
  pad: "param a: [2, 3]\nminimize sum(sin(pad(a, [[1, 0], [0, 2]], value = 0.5) + arange(5)))",
  flip: "param a: [2, 3]\nminimize sum(sin(flip(a, 1) * arange(3)))",
  concat: "param a: [2, 3]\nparam b: [1, 3]\nminimize sum(sin(concat([a, b], axis = 0) * arange(3)))",
  sum: "param a: [2, 3]\nminimize sum(sin(sum(a, axis = 1)))",
  prod: "param a: [2, 3]\nminimize sum(sin(prod(a, axis = 0)))",
  max: "param a: [2, 3]\nminimize sum(sin(max(a, axis = 1)))",
  min: "param a: [2, 3]\nminimize sum(sin(min(a, axis = 0)))",
  argmax: "param a: [2, 3]\nminimize sum(argmax(a, axis = 1) * sum(a, axis = 1))",
  argmin: "param a: [2, 3]\nminimize sum(argmin(a, axis = 1) * sum(a, axis = 1))",
  cumsum: "param a: [2, 3]\nminimize sum(sin(cumsum(a, axis = 1)))",
  matmul: "param a: [2, 2, 3]\nparam b: [3, 4]\nminimize sum(sin(a @ b))",
  conv: "param x: [1, 2, 5, 5]\nparam w: [4, 1, 3, 3]\nminimize sum(sin(conv2d(x, w, stride = 2, padding = 1, groups = 2)))",
  conv_input_grad: "param x: [1, 2, 3, 3]\nparam w: [2, 3, 3, 3]\nminimize sum(sin(conv_transpose2d(x, w, stride = 2, padding = 1)))",
  conv_weight_grad: "param x: [1, 2, 5, 5]\nparam g: [1, 3, 3, 3]\nminimize sum(sin(conv2d_weight_grad(x, g, [3, 3])))",
  maxpool2d: "param x: [1, 1, 4, 4]\nminimize sum(sin(maxpool2d(x)))",
  maxpool2d_grad: "param x: [1, 1, 4, 4]\nparam g: [1, 1, 2, 2]\nminimize sum(sin(maxpool2d_grad(x, g)))",
  maxpool2d_select: "param x: [1, 1, 4, 4]\nparam h: [1, 1, 4, 4]\nminimize sum(sin(maxpool2d_select(x, h)))",
  avgpool2d: "param x: [1, 1, 4, 4]\nminimize sum(sin(avgpool2d(x)))",
  avgpool2d_grad: "param g: [1, 1, 2, 2]\nminimize sum(sin(avgpool2d_grad(g, 4, 4)))",
  take: "param a: [5, 3]\nminimize sum(sin(take(a, tensor([[4, 0], [4, 2]]))))",
  scatter_add: "param g: [2, 2, 3]\nminimize sum(sin(scatter_add(g, tensor([[4, 0], [4, 2]]), 5)))",
  scan: "param a: [3]\nparam xs: [4, 3]\nfn cell(c, x) = tanh(c * a + x)\nminimize sum(sin(scan(cell, a, xs)))",
};

describe("the printed gradient of one program per op compiles and equals valueAndGrad's", () => {
  it("covers every op of the op table that has a derivative rule", () => {
    const withRule = allOps().filter((op) => op.vjp || op.vjpOutputs).map((op) => op.name).sort();
    const used = new Set<string>();
    for (const [op, source] of Object.entries(programs)) {
      const program = lowerSource(source, { filename: `${op}.grad` });
      const names = topoSort([program.objective!.node]).map((n: Node) => n.op.name);
      expect(names, `the ${op} program`).toContain(op);
      names.forEach((n) => used.add(n));
    }
    expect(withRule.filter((op) => !used.has(op))).toEqual([]);
    expect(Object.keys(programs).sort()).toEqual(withRule);
  });
  for (const [op, source] of Object.entries(programs)) {
    (notYetPrograms.has(op) ? it.fails : it)(op, () => {
      // the model itself must have a gradient graph
      expect(buildModel(lowerSource(source, { filename: `${op}.grad` })).grads).toBeDefined();
      expectPrintedGradientAgrees(source);
    });
  }
});
