// The schedule's fusion rules beyond the basic cases of plan.test.ts: when an elementwise
// kernel may be computed inside its producer's loop (an epilogue), which kernels share
// one flat loop (a group), and what is cheap enough to recompute. A wrong decision shows
// in the kernels a model runs, and most in the values (an epilogue that runs before a
// value it reads exists, a flat loop over a value read by another index).
import { describe, expect, it } from "vitest";
import { expectValuesAgree, kernelOps, planOf } from "./helpers";

describe("epilogues", () => {
  it("not into a kernel that stores an element more than once (scatter_add accumulates)", () => {
    const source = "input g: [6]\ninput ids: [6]\ny = exp(scatter_add(g, ids, 4))\noutput y";
    const { plan } = planOf(source);
    expect(plan.fusedProducer.size).toBe(0);
    expect(kernelOps(plan)).toEqual(["scatter_add", "exp"]);
    expectValuesAgree(source, {}, { ids: [3, 0, 3, 1, 0, 3] });
  });

  it("not when another kernel, later in order, also reads the producer", () => {
    const source = "input x: [4, 3]\nparam w: [3, 5]\nm = x @ w\ny = relu(m)\ns = sum(m, axis = 1)\noutput y, s";
    const { plan } = planOf(source);
    expect(plan.fusedProducer.size).toBe(0);
    expectValuesAgree(source);
  });

  it("not when it reads a kernel that runs after the producer and cannot move (a returned matmul)", () => {
    const source = "input x: [4, 3]\ninput z: [4, 3]\nparam w: [3, 5]\nm2 = z @ w\ny = tanh(x @ w) + m2\noutput y, m2";
    const { plan } = planOf(source);
    expect(plan.fusedProducer.size).toBe(0);
    expect(kernelOps(plan)).toEqual(["matmul", "matmul", "add"]);
    expectValuesAgree(source);
  });

  it("the latest eligible producer takes it, whichever operand it is", () => {
    const source = "input x: [4, 3]\ninput z: [4, 3]\nparam w: [3, 5]\ny = (z @ w) + tanh(x @ w)\noutput y";
    const { plan, out } = planOf(source);
    expect(plan.kernels).toHaveLength(2);
    expect(plan.kernels[1]).toBe(out.y);
    expect(plan.fusedProducer.size).toBe(1);
    expectValuesAgree(source);
  });

  it("the latest eligible producer takes it, whatever order the others are found in", () => {
    const source = "input x: [4, 3]\ninput z: [4, 3]\ninput v: [4, 3]\nparam w: [3, 5]\nma = x @ w\nmb = z @ w\nmc = v @ w\ny = (ma * mb) + (mc * ma)\noutput y";
    const { plan, out } = planOf(source);
    expect(kernelOps(plan)).toEqual(["matmul", "matmul", "add"]);
    expect(plan.fusedProducer.get(out.y!)?.op.name).toBe("matmul");
    expectValuesAgree(source);
  });

  it("a producer read twice by the same epilogue (tanh(m) + m) is still fused", () => {
    const source = "input x: [4, 3]\nparam w: [3, 5]\nm = x @ w\ny = tanh(m) + m\noutput y";
    const { plan, out } = planOf(source);
    expect(plan.kernels).toEqual([out.y]);
    expect(plan.fusedProducer.get(out.y!)?.op.name).toBe("matmul");
    expectValuesAgree(source);
  });

  it("not through a view: a transposed product is read at another index than it is stored", () => {
    const source = "input x: [4, 3]\nparam w: [3, 4]\ninput z: [4, 4]\ny = transpose(x @ w) + z\noutput y";
    const { plan } = planOf(source);
    expect(plan.fusedProducer.size).toBe(0);
    expect(kernelOps(plan)).toEqual(["matmul", "add"]);
    expectValuesAgree(source);
  });
});

describe("flat groups", () => {
  it("kernels reading a stored scalar are flat: they share one loop", () => {
    const source = "input x: [3, 3]\ns = sum(x)\na = exp(x) * s\nb = sin(x) * s\noutput a, b";
    const { plan, out } = planOf(source);
    expect([...plan.groups.values()]).toEqual([[out.a, out.b]]);
    expectValuesAgree(source);
  });

  it("scalar kernels form no group", () => {
    const source = "input x: [4]\ns = sum(x)\na = exp(s)\nb = sin(s)\noutput a, b";
    const { plan } = planOf(source);
    expect(plan.groups.size).toBe(0);
    expectValuesAgree(source);
  });

  it("a kernel reading a transpose, or a constant matrix, is not flat (no group, values by index)", () => {
    for (const source of [
      "input x: [3, 3]\ninput z: [3, 3]\na = exp(x) + transpose(z)\nb = sin(x)\noutput a, b",
      "input x: [3, 3]\na = exp(x) * eye(3)\nb = sin(x)\noutput a, b",
    ]) {
      const { plan } = planOf(source);
      expect(plan.groups.size, source).toBe(0);
      expectValuesAgree(source);
    }
  });

  it("a group holds at most 64 kernels (each one's buffers are arguments of one function)", () => {
    const names = Array.from({ length: 66 }, (_, i) => `y${i}`);
    const source = `input x: [5]\n${names.map((n, i) => `${n} = x * ${i + 2}`).join("\n")}\noutput ${names.join(", ")}`;
    const { plan } = planOf(source);
    expect([...plan.groups.values()].map((g) => g.length)).toEqual([64, 2]);
    expectValuesAgree(source);
  });
});

describe("what is recomputed", () => {
  it("a negation of a computed value read by two kernels is stored", () => {
    const source = "input x: [6]\nu = -exp(x)\np = sum(exp(u))\nq = sum(sin(u))\noutput p, q";
    expect(kernelOps(planOf(source).plan)).toEqual(["neg", "sum", "sum"]);
    expectValuesAgree(source);
  });

  it("a negation of an input is recomputed by each reader", () => {
    const source = "input x: [6]\nu = -x\np = sum(exp(u))\nq = sum(sin(u))\noutput p, q";
    expect(kernelOps(planOf(source).plan)).toEqual(["sum", "sum"]);
    expectValuesAgree(source);
  });

  it("a mask (tril) read by two kernels is recomputed by each", () => {
    const source = "input x: [4, 4]\nm = tril(ones([4, 4]))\np = sum(exp(x) * m)\nq = sum(sin(x) * m)\noutput p, q";
    expect(kernelOps(planOf(source).plan)).toEqual(["sum", "sum"]);
    expectValuesAgree(source);
  });

  it("an index pattern broadcast to a larger shape is stored once (the broadcast rule)", () => {
    const source = "input x: [6, 5]\ny = x * (arange(5) * 2)\noutput y";
    expect(kernelOps(planOf(source).plan)).toEqual(["mul", "mul"]);
    expectValuesAgree(source);
  });

  it("a gather reading exactly as many elements as a computed value has recomputes it", () => {
    const source = "input x: [4]\ninput ids: [4]\ny = take(exp(x), ids)\noutput y";
    expect(kernelOps(planOf(source).plan)).toEqual(["take"]);
    expectValuesAgree(source, {}, { ids: [3, 0, 3, 1] });
  });
});
