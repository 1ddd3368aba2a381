// take and scatter_add's records (src/ops/gather.ts): the compile-time id checks (constant,
// broadcast and arange ids, a free axis), the shape rules at their bounds, the interpreter
// on ids of rank 2 along an inner axis and its E0422 position, the emitted run-time bounds
// (the axis taken, scatter_add's size), scatter_add's output zeroed at every call, its cost,
// and the wasm target.

import { describe, expect, it } from "vitest";
import { GradcError } from "../../src/diagnostics";
import { compile, compileToSource } from "../../src/index";
import { evaluate } from "../../src/interpret";
import { Graph, nodesWithBodies, type Node } from "../../src/ir";
import { lowerSource } from "../../src/lower";
import { Builder, getOp } from "../../src/ops";
import { expectClose } from "../builtins/helpers";

const vec = (xs: number[]) => Float64Array.from(xs);

/** The GradcError `f` throws. */
function errorOf(f: () => unknown): GradcError {
  try { f(); } catch (e) { if (e instanceof GradcError) return e; throw e; }
  throw new Error("expected a GradcError");
}

/** take(x, ids) by the definition: ids of any rank along `axis` of x. */
function taken(x: number[], xShape: number[], ids: number[], idsShape: number[], axis: number): number[] {
  const before = xShape.slice(0, axis).reduce((a, b) => a * b, 1);
  const after = xShape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let p = 0; p < before; p++) {
    for (const id of ids) for (let q = 0; q < after; q++) out.push(x[(p * xShape[axis]! + id) * after + q]!);
  }
  expect(idsShape.reduce((a, b) => a * b, 1)).toBe(ids.length);
  return out;
}

describe("compile-time id checks", () => {
  it("a constant broadcast id is checked (E0242 at the op), an in-range one taken", () => {
    const g = new Builder(new Graph(), undefined);
    const x = g.input("x", "input", [4, 2]);
    const e = errorOf(() => g.op("take", [x, g.constant(4, [3])], { axis: 0 }));
    expect(e.code).toBe("E0242");
    expect(e.message).toMatch(/the id 4 at index \[\] is not an integer in \[0, 4\)/);
    expect(g.op("take", [x, g.constant(3, [3])], { axis: 0 }).shape).toEqual([3, 2]);
    // a broadcast of a value that is not a constant is checked when the model runs
    expect(g.op("take", [x, g.broadcastTo(g.input("i", "input", []), [3])], { axis: 0 }).shape).toEqual([3, 2]);
  });

  it("a bad id of a rank-2 tensor literal is named by its multi-index", () => {
    const src = "input x: [4, 2]\ny = take(x, tensor([[0, 1], [2, 9]]))\noutput y";
    const e = errorOf(() => compile(src, { filename: "ids.grad" }));
    expect(e.code).toBe("E0242");
    expect(e.message).toMatch(/the id 9 at index \[1, 1\] is not an integer in \[0, 4\)/);
    expect([e.line, e.column]).toEqual([2, 5]);
  });

  it("ids written in the program into an axis of a free size are checked when the model runs", () => {
    const m = compile("dim m\ninput x: [m]\ny = take(x, tensor([0, 2]))\noutput y", { dtype: "f64" });
    expect([...(m.forward({ x: vec([5, 6, 7]) }).y as Float64Array)]).toEqual([5, 7]);
  });

  it("arange ids: an empty range, a fixed range into a free axis (only arange(1)), a shifted range", () => {
    const empty = compile("input x: [3]\ny = take(x, arange(0))\noutput y", { dtype: "f64" });
    expect([...(empty.forward({ x: vec([1, 2, 3]) }).y as Float64Array)]).toEqual([]);
    const one = compile("dim m\ninput x: [m]\ny = take(x, arange(1))\noutput y", { dtype: "f64" });
    expect([...(one.forward({ x: vec([4, 5]) }).y as Float64Array)]).toEqual([4]);
    const wide = "dim m\ninput x: [m]\ny = take(x, arange(1, 3))\noutput y";
    const e = errorOf(() => compile(wide, { filename: "r.grad" }));
    expect(e.code).toBe("E0246");
    expect(e.message).toMatch(/arange\(1, 3, 1\)/);
    expect(e.message).toMatch(/\bm\b/);
    expect([e.line, e.column]).toEqual([3, 5]);
    const even = errorOf(() => compile("dim m\ninput x: [m]\ny = take(x, arange(0, 4, 2))\noutput y"));
    expect(even.code).toBe("E0246");
    expect(even.message).toMatch(/arange\(0, 4, 2\)/);
    const shifted = compile("input x: [5]\ny = take(x, arange(2, 5))\noutput y", { dtype: "f64" });
    expect([...(shifted.forward({ x: vec([1, 2, 3, 4, 5]) }).y as Float64Array)]).toEqual([3, 4, 5]);
    const past = errorOf(() => compile("input x: [5]\ny = take(x, arange(3, 6))\noutput y"));
    expect(past.code).toBe("E0242");
    expect(past.message).toMatch(/the id 5 at index \[2\] is not an integer in \[0, 5\)/);
    const fraction = errorOf(() => compile("input x: [5]\ny = take(x, arange(0, 4, 0.5))\noutput y"));
    expect(fraction.message).toMatch(/the id 0.5 at index \[1\] is not an integer in \[0, 5\)/);
    // one fractional step: the only id is the start
    const half = compile("input x: [5]\ny = take(x, arange(2, 2.5, 0.5))\noutput y", { dtype: "f64" });
    expect([...(half.forward({ x: vec([1, 2, 3, 4, 5]) }).y as Float64Array)]).toEqual([3]);
    // the first id bad
    const first = errorOf(() => compile("input x: [5]\ny = take(x, arange(5, 7))\noutput y"));
    expect(first.message).toMatch(/the id 5 at index \[0\] is not an integer in \[0, 5\)/);
  });

  it("a dim-sized range into an axis of the same dim compiles", () => {
    const m = compile("dim n\ninput x: [n]\ny = take(x, arange(n))\noutput y", { dtype: "f64" });
    expect([...(m.forward({ x: vec([3, 1, 2]) }).y as Float64Array)]).toEqual([3, 1, 2]);
  });
});

describe("shape rules at their bounds", () => {
  const attempt = (f: (g: Builder) => unknown) => {
    const g = new Builder(new Graph(), undefined);
    try { return f(g); } catch (e) { if (e instanceof GradcError) return `${e.code}: ${e.message}`; throw e; }
  };

  it("take: an axis past the last (E0203)", () => {
    expect(attempt((g) => g.op("take", [g.input("x", "input", [4, 2]), g.input("ids", "input", [3])], { axis: 2 }))).toBe("E0203: axis 2 is out of range for a tensor of rank 2");
  });

  it("scatter_add: ids ending at the last axis, past it (E0203), a negative axis", () => {
    expect(attempt((g) => g.op("scatter_add", [g.input("v", "input", [2, 3]), g.input("ids", "input", [3])], { size: 5, axis: 2 }))).toBe("E0203: axis 2 is out of range for a tensor of rank 2");
    const ok = attempt((g) => g.op("scatter_add", [g.input("v", "input", [2, 3]), g.input("ids", "input", [3])], { size: 5, axis: 1 })) as { shape: unknown };
    expect(ok.shape).toEqual([2, 5]);
    expect(attempt((g) => g.op("scatter_add", [g.input("v", "input", [2, 3]), g.input("ids", "input", [3])], { size: 5, axis: 2 }))).toMatch(/^E0203/);
    expect(attempt((g) => g.op("scatter_add", [g.input("v", "input", [2, 3]), g.input("ids", "input", [2, 3])], { size: 5, axis: 1 }))).toMatch(/^E0203/);
    expect(attempt((g) => g.op("scatter_add", [g.input("v", "input", [2, 3]), g.input("ids", "input", [2])], { size: 5, axis: -1 }))).toMatch(/^E0203/);
    expect(attempt((g) => g.op("scatter_add", [g.input("v", "input", [2, 3]), g.input("ids", "input", [2])], { size: 5, axis: 0.5 }))).toMatch(/^E0203/);
  });

  it("ids of rank 2 along an inner axis: the result's shape", () => {
    const y = attempt((g) => g.op("take", [g.input("x", "input", [2, 3, 4]), g.input("ids", "input", [5, 6])], { axis: 1 })) as { shape: unknown };
    expect(y.shape).toEqual([2, 5, 6, 4]);
    const s = attempt((g) => g.op("scatter_add", [g.input("v", "input", [2, 5, 6, 4]), g.input("ids", "input", [5, 6])], { size: 3, axis: 1 })) as { shape: unknown };
    expect(s.shape).toEqual([2, 3, 4]);
  });
});

describe("the interpreter", () => {
  it("take and scatter_add with ids of rank 2 along an inner axis; E0422 names the multi-index", () => {
    const program = lowerSource("input x: [2, 3, 2]\ninput ids: [2, 2]\ny = take(x, ids, axis = 1)\nz = scatter_add(y, ids, 3, axis = 1)\noutput y, z", { filename: "i.grad" });
    const [y, z] = program.outputs.map((o) => o.node);
    const x = Array.from({ length: 12 }, (_, i) => i + 1);
    const ids = [2, 0, 2, 1];
    const got = evaluate([y!, z!], { values: new Map([["x", x], ["ids", ids]]) });
    expect([...got.get(y!)!.data]).toEqual(taken(x, [2, 3, 2], ids, [2, 2], 1));
    // z[i, r, k] = the sum of x[i, r, k] over the ids equal to r
    expect([...got.get(z!)!.data]).toEqual([1, 2, 3, 4, 10, 12, 7, 8, 9, 10, 22, 24]);
    const e = errorOf(() => evaluate([y!], { values: new Map([["x", x], ["ids", [0, 1, 3, 0]]]) }));
    expect(e.code).toBe("E0422");
    expect(e.message).toBe("the ids hold 3 at index [1, 0] (flat index 2), but an id must be an integer in [0, 3)");
  });
});

describe("emitted code", () => {
  it("checks ids against the size of the axis taken, and scatter_add's against its size", () => {
    const m = compile("input x: [2, 5]\ninput ids: [2]\ny = take(x, ids, axis = 1)\noutput y", { dtype: "f64" });
    const x = vec([0, 1, 2, 3, 4, 10, 11, 12, 13, 14]);
    expect([...(m.forward({ x, ids: vec([4, 2]) }).y as Float64Array)]).toEqual([4, 2, 14, 12]);
    expect(errorOf(() => m.forward({ x, ids: vec([5, 0]) })).message).toMatch(/in \[0, 5\)/);
    const s = compile("input g: [2]\ninput ids: [2]\ny = scatter_add(g, ids, 3)\noutput y", { dtype: "f64" });
    expect([...(s.forward({ g: vec([1, 2]), ids: vec([2, 2]) }).y as Float64Array)]).toEqual([0, 0, 3]);
    expect(errorOf(() => s.forward({ g: vec([1, 2]), ids: vec([3, 0]) })).message).toMatch(/in \[0, 3\)/);
  });

  it("scatter_add starts from zeros at every call, over every element of its output", () => {
    const src = "input g: [2, 3, 2]\ninput ids: [3]\ny = scatter_add(g * 2, ids, 4, axis = 1)\noutput y";
    const m = compile(src, { dtype: "f64" });
    const g = vec(Array.from({ length: 12 }, (_, i) => i + 1));
    const want = (ids: number[]) => {
      const out = new Array<number>(16).fill(0);
      for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 2; k++) out[(i * 4 + ids[j]!) * 2 + k] += 2 * g[(i * 3 + j) * 2 + k]!;
      return out;
    };
    for (const ids of [[0, 1, 3], [3, 2, 3], [1, 1, 1], [0, 1, 3]]) {
      expect([...(m.forward({ g, ids: vec(ids) }).y as Float64Array)], `ids ${ids.join(", ")}`).toEqual(want(ids));
    }
  });

  it("runs on the wasm target (take and scatter_add have wasm kernels)", () => {
    const src = "input ids: [3]\nparam E: [4, 2]\nminimize sum(take(E, ids) * take(E, ids))";
    const m = compile(src, { target: "wasm" });
    const E = Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    const { value, grads } = m.valueAndGrad({ ids: Float32Array.of(1, 3, 1), E });
    expect(value).toBeCloseTo(2 * (9 + 16) + 49 + 64, 4);
    expectClose(grads.E!, [0, 0, 12, 16, 0, 0, 14, 16], 1e-6, "d_E");
  });
});

describe("in a scan cell", () => {
  it("a take is recomputed by the gradient loop (a cheap view), not saved by the forward loop", () => {
    const src = "input ids: [5, 3]\ninput xs: [5, 3, 2]\nparam E: [4, 2]\nfn cell(h, i, x) {\n  [h * take(E, i) + x]\n}\nhs = scan(cell, [xs[0]], [ids, xs], out = 0)\nminimize sum(hs * hs)";
    const { model } = compileToSource(src, { dtype: "f64" });
    const loops = nodesWithBodies([model.objective!, ...model.grads!]).filter((n) => n.body !== undefined);
    const isGrad = (n: Node) => String(n.attrs.cell ?? "").endsWith("_grad");
    const ops = (loop: Node) => {
      const seen = new Set<Node>();
      const work = [...loop.body!.results];
      for (let n = work.pop(); n; n = work.pop()) if (!seen.has(n)) { seen.add(n); work.push(...n.inputs); }
      return [...seen].map((n) => n.op.name);
    };
    const backward = loops.filter(isGrad);
    expect(backward).toHaveLength(1);
    expect(ops(backward[0]!)).toContain("take");
    expect(ops(backward[0]!)).toContain("scatter_add");
    const m = compile(src, { dtype: "f64" });
    const ids = vec([0, 1, 2, 3, 3, 0, 1, 1, 2, 2, 0, 3, 1, 0, 2]);
    const xs = vec(Array.from({ length: 30 }, (_, i) => Math.sin(i)));
    const E = vec([0.5, -0.25, 1, 0.75, -0.5, 0.3, 0.2, -1]);
    // d(loss)/dE by central differences
    const loss = (e: Float64Array) => m.forward({ ids, xs, E: e }).objective as number;
    const grad = m.valueAndGrad({ ids, xs, E }).grads.E!;
    for (let i = 0; i < 8; i++) {
      const up = Float64Array.from(E), down = Float64Array.from(E);
      up[i]! += 1e-6; down[i]! -= 1e-6;
      expect(grad[i]).toBeCloseTo((loss(up) - loss(down)) / 2e-6, 5);
    }
  });
});

describe("scatter_add's cost", () => {
  it("is one add per value scattered", () => {
    const g = new Builder(new Graph(), undefined);
    const y = g.op("scatter_add", [g.input("v", "input", [2, 3, 4]), g.input("ids", "input", [3])], { size: 7, axis: 1 });
    const numel = (s: readonly unknown[]) => (s as number[]).reduce((x, d) => x * d, 1);
    expect(getOp("scatter_add").cost!(y, numel as never)).toBe(24);
  });
});
