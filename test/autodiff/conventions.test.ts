// Derivative conventions at kinks and special points (SPEC: follow PyTorch).
import { describe, expect, it } from "vitest";
import { compile } from "../../src/index";

function grad(source: string, x: number[]): number[] {
  const m = compile(source, { dtype: "f64" });
  return Array.from(m.valueAndGrad({ x: Float64Array.from(x) }).grads.x!);
}

describe("derivative conventions", () => {
  it("prod: the product of the other elements, also at zeros", () => {
    expect(grad("param x: [4]\nminimize prod(x)", [0, 2, 3, 4])).toEqual([24, 0, 0, 0]);
    expect(grad("param x: [4]\nminimize prod(x)", [1, 2, 3, 4])).toEqual([24, 12, 8, 6]);
    expect(grad("param x: [4]\nminimize prod(x)", [0, 0, 3, 4])).toEqual([0, 0, 0, 0]);
    expect(grad("param x: [2, 2]\nminimize sum(prod(x, axis = 1))", [0, 5, 2, 3])).toEqual([5, 0, 3, 2]);
  });

  it("clip passes the whole gradient at its bounds, like torch.clamp", () => {
    expect(grad("param x: [5]\nminimize sum(clip(x, -1, 1))", [-2, -1, 0, 1, 2])).toEqual([0, 1, 1, 1, 0]);
  });

  it("relu'(0) = abs'(0) = 0, sign' = floor' = 0", () => {
    expect(grad("param x: [3]\nminimize sum(relu(x))", [-1, 0, 1])).toEqual([0, 0, 1]);
    expect(grad("param x: [3]\nminimize sum(abs(x))", [-1, 0, 1])).toEqual([-1, 0, 1]);
    expect(grad("param x: [2]\nminimize sum(sign(x) + floor(x))", [-1.5, 2.5])).toEqual([0, 0]);
  });

  it("max splits the gradient evenly among ties", () => {
    expect(grad("param x: [4]\nminimize max(x)", [1, 3, 3, 2])).toEqual([0, 0.5, 0.5, 0]);
    expect(grad("param x: [3]\nminimize sum(maximum(x, 1))", [0, 1, 2])).toEqual([0, 0.5, 1]);
  });
});
