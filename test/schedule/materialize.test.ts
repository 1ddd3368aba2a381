// Which values the schedule stores (materialises) and which it recomputes where they are
// read: each rule shows in the kernels a model runs (passes over memory, buffers), and a
// wrong decision in the values (a view reading a fused input by the wrong index).
import { describe, expect, it } from "vitest";
import { buildModel } from "../../src/index";
import { lowerSource } from "../../src/lower";
import { planFunction } from "../../src/schedule";
import { expectValuesAgree, kernelOps, planOf } from "./helpers";

describe("views", () => {
  it("a reshape that regroups elements reads its computed input from a buffer", () => {
    const source = "input x: [2, 3]\ny = reshape(exp(x), [3, 2])\noutput y";
    expect(kernelOps(planOf(source).plan)).toEqual(["exp", "reshape"]);
    expectValuesAgree(source);
  });

  it("a reshape that only inserts unit axes re-indexes its input in place (one kernel)", () => {
    const source = "input x: [2, 3]\ny = reshape(exp(x), [2, 1, 3])\noutput y";
    expect(kernelOps(planOf(source).plan)).toEqual(["reshape"]);
    expectValuesAgree(source);
  });

  it("a regrouping reshape of a constant reads it where it is made (a constant has no buffer to fill)", () => {
    const source = "input x: [2, 3]\ny = x * reshape(arange(6), [2, 3])\noutput y";
    expect(kernelOps(planOf(source).plan)).toEqual(["mul"]);
    expectValuesAgree(source);
  });

  it("a regrouping reshape of a transpose stores the transpose, not the value under it", () => {
    const source = "input x: [2, 3]\ny = reshape(transpose(exp(x)), [6])\noutput y";
    const { plan } = planOf(source);
    expect(kernelOps(plan)).toEqual(["transpose", "reshape"]);
    expectValuesAgree(source);
  });
});

describe("kernels that read their inputs many times (matmul, conv)", () => {
  it("a matmul's computed operand is stored once, not recomputed per product", () => {
    const source = "input x: [2, 3]\nparam w: [3, 4]\ny = exp(x) @ w\noutput y";
    expect(kernelOps(planOf(source).plan)).toEqual(["exp", "matmul"]);
    expectValuesAgree(source);
  });

  it("under a transpose, the computed value is stored and the transpose read in place", () => {
    const source = "input x: [3, 2]\nparam w: [3, 4]\ny = transpose(exp(x)) @ w\noutput y";
    expect(kernelOps(planOf(source).plan)).toEqual(["exp", "matmul"]);
    expectValuesAgree(source);
  });

  it("views of a graph input are read in place: nothing but the matmul runs", () => {
    const source = "input x: [3, 2]\nparam w: [2, 4]\ny = transpose(transpose(x, [1, 0])) @ w\noutput y";
    expect(kernelOps(planOf(source).plan)).toEqual(["matmul"]);
    expectValuesAgree(source);
  });

  it("a reduction computes its elementwise input as it reads it (one kernel)", () => {
    const source = "input x: [2, 3]\ny = sum(exp(x) * 2)\noutput y";
    expect(kernelOps(planOf(source).plan)).toEqual(["sum"]);
    expectValuesAgree(source);
  });
});

describe("gathers", () => {
  const ids = { ids: [3, 0, 2, 2, 1, 0] };

  it("computed ids are stored (they are checked once, before the gather)", () => {
    const source = "input x: [4, 3]\ninput ids: [6]\ny = take(x, abs(ids))\noutput y";
    expect(kernelOps(planOf(source).plan)).toEqual(["abs", "take"]);
    expectValuesAgree(source, {}, ids);
  });

  it("gathering more elements than a computed value has stores the value first", () => {
    const source = "input x: [4]\ninput ids: [6]\ny = take(exp(x), ids)\noutput y";
    expect(kernelOps(planOf(source).plan)).toEqual(["exp", "take"]);
    expectValuesAgree(source, {}, ids);
  });

  it("gathering no more elements than it has recomputes the value at each id", () => {
    const source = "input x: [4]\ninput ids: [3]\ny = take(exp(x), ids)\noutput y";
    expect(kernelOps(planOf(source).plan)).toEqual(["take"]);
    expectValuesAgree(source, {}, { ids: [3, 0, 3] });
  });

  it("an index pattern (an arange expression) is recomputed however many ids read it", () => {
    const source = "input ids: [6]\ny = take(arange(4) * 2, ids)\noutput y";
    expect(kernelOps(planOf(source).plan)).toEqual(["take"]);
    expectValuesAgree(source, {}, ids);
  });

  it("a matmul over one_hot stores the one-hot rows (the smaller buffer), not the identity", () => {
    const source = "input l: [5]\nparam w: [3, 4]\ny = one_hot(l, 3) @ w\noutput y";
    expect(kernelOps(planOf(source).plan)).toEqual(["take", "matmul"]);
    expectValuesAgree(source, {}, { l: [2, 0, 1, 1, 2] });
  });

  it("a matmul over rows gathered from a graph input reads them in place", () => {
    const source = "input x: [3, 3]\ninput l: [5]\nparam w: [3, 4]\ny = take(x, l) @ w\noutput y";
    expect(kernelOps(planOf(source).plan)).toEqual(["matmul"]);
    expectValuesAgree(source, {}, { l: [2, 0, 1, 1, 2] });
  });
});

describe("scalars", () => {
  it("a scalar computed from a reduction is computed once, not at every element that reads it", () => {
    const source = "input x: [4]\ns = sum(x)\nt = exp(s)\ny = x * t\noutput y";
    expect(kernelOps(planOf(source).plan)).toEqual(["sum", "exp", "mul"]);
    expectValuesAgree(source);
  });
});

describe("use counts", () => {
  it("a value read twice by one op counts as one reader: it is fused", () => {
    const source = "input x: [2, 3]\nt = exp(x)\ny = t * t\noutput y";
    expect(kernelOps(planOf(source).plan)).toEqual(["mul"]);
    expectValuesAgree(source);
  });

  it("readers through an unstored view count: a value read twice via a transpose is stored", () => {
    const source = "input x: [2, 3]\nt = exp(x)\nv = transpose(t)\np = sum(v)\nq = sum(v * 2)\noutput p, q";
    expect(kernelOps(planOf(source).plan)).toEqual(["exp", "sum", "sum"]);
    expectValuesAgree(source);
  });

  it("a stored view is the one reader of the value under it", () => {
    const source = "input x: [2, 3]\nt = exp(x)\nv = transpose(t)\np = sum(v)\nq = sum(v * 2)\noutput v, p, q";
    expect(kernelOps(planOf(source).plan)).toEqual(["transpose", "sum", "sum"]);
    expectValuesAgree(source);
  });
});

describe("fusion depth", () => {
  const sines = (n: number) => `input x: [3]\n${Array.from({ length: n }, (_, i) => `h${i + 1} = sin(${i === 0 ? "x" : `h${i}`})`).join("\n")}\noutput h${n}`;

  it("48 fused nodes under a kernel's own op are one kernel; one more cuts the chain", () => {
    expect(planOf(sines(49)).plan.kernels).toHaveLength(1);
    expect(planOf(sines(50)).plan.kernels).toHaveLength(2);
    expectValuesAgree(sines(50));
  });

  it("a constant at the bottom of the chain adds no depth (48 nodes over arange are fused)", () => {
    const source = sines(48).replace("sin(x)", "sin(arange(3))").replace("output h48", "y = x * h48\noutput y");
    expect(kernelOps(planOf(source).plan)).toEqual(["mul"]);
    expectValuesAgree(source);
  });
});

describe("prologues", () => {
  // The filter gradient of a conv under a tiling max-pool computes the pool's gradient
  // itself only when it is that gradient's one reader and nobody else needs it stored.
  const cnn = (layers: 1 | 2) => `input x: [2, 1, 8, 8]
param k1: [2, 1, 3, 3] = glorot_uniform
param k2: [2, 2, 3, 3] = glorot_uniform
h = ${layers === 1 ? "x" : "relu(conv2d(x, k1, padding = 1))"}
p = maxpool2d(${layers === 1 ? "relu(conv2d(h, k1, padding = 1))" : "conv2d(h, k2, padding = 1)"}, size = 2, stride = 2)
minimize sum(p * p)`;
  const roots = (source: string) => {
    const model = buildModel(lowerSource(source, { filename: "plan.grad" }));
    return [model.objective!, ...model.grads!];
  };
  const poolGrads = (nodes: Iterable<{ op: { name: string } }>) => [...nodes].filter((n) => n.op.name === "maxpool2d_grad");

  it("not when the pool gradient is also kept to the end of the function", () => {
    const returned = roots(cnn(1));
    const first = planFunction({ returned, gradients: true });
    const pool = [...first.prologues];
    expect(poolGrads(pool)).toHaveLength(1);
    const plan = planFunction({ returned, extra: pool, gradients: true });
    expect(plan.prologues.size).toBe(0);
    expect(plan.materialized.has(pool[0]!)).toBe(true);
  });

  it("not when the conv's input gradient reads the pool gradient too (a second conv layer)", () => {
    const plan = planFunction({ returned: roots(cnn(2)), gradients: true });
    expect(plan.prologues.size).toBe(0);
    expect(poolGrads(plan.materialized)).toHaveLength(1);
  });
});
