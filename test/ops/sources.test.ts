// The ops without inputs (src/ops/source.ts, constant.ts) and the index helpers of the
// reference semantics (src/ops/tensor.ts), at the IR: their shapes and errors, what the
// interpreter computes, what the emitted code computes for the same nodes, and the
// attributes that make equal ranges one node.

import { describe, expect, it } from "vitest";
import { evaluate } from "../../src/interpret";
import { Graph, type Attrs, type Node } from "../../src/ir";
import { Builder, getOp } from "../../src/ops";
import { arangeAttrs, arangeLength, literalShape } from "../../src/ops/constant";
import { at, forEachIndex, offset, zeros } from "../../src/ops/tensor";
import { compile } from "../../src/index";
import { outputs } from "../builtins/helpers";
import { errorOf } from "../helpers/errors";

const fresh = () => new Builder(new Graph(), undefined);
const run = (n: Node, dims: Record<string, number> = {}, values: Record<string, number[]> = {}) => [...evaluate([n], {
  dims: new Map(Object.entries(dims)),
  values: new Map(Object.entries(values).map(([k, v]) => [k, Float64Array.from(v)])),
}).get(n)!.data];

describe("arange", () => {
  it("NumPy's length: ceil((stop - start) / step), at least 0", () => {
    expect(arangeLength(0, 5, 1)).toBe(5);
    expect(arangeLength(0, 10, 3)).toBe(4);
    expect(arangeLength(5, 0, -2)).toBe(3);
    expect(arangeLength(5, 0, 1)).toBe(0);
    expect(arangeLength(0, 1, 0.3)).toBe(4);
  });

  it("leaves the default start and step out of the attributes, so equal ranges are one node", () => {
    expect(arangeAttrs(0, 5, 1)).toEqual({ stop: 5 });
    expect(arangeAttrs(2, 5, 1)).toEqual({ start: 2, stop: 5 });
    expect(arangeAttrs(0, 5, 2)).toEqual({ stop: 5, step: 2 });
    expect(arangeAttrs(1, "n", -1)).toEqual({ start: 1, stop: "n", step: -1 });
    const b = fresh();
    expect(b.op("arange", [], arangeAttrs(0, 4, 1))).toBe(b.op("arange", [], { stop: 4 }));
  });

  it("the shape rule: a non-zero finite step; a free stop only from 0 by 1", () => {
    const of = (attrs: Attrs) => { try { return fresh().op("arange", [], attrs).shape; } catch (e) { return errorOf(() => { throw e; }); } };
    expect(of({ stop: 5 })).toEqual([5]);
    expect(of({ start: 1, stop: 5, step: 2 })).toEqual([2]);
    expect(of({ stop: "n" })).toEqual(["n"]);
    expect(of({ stop: 5, step: 0 })).toBe("E0243: arange: `step` must be a non-zero number");
    expect(of({ stop: 5, step: Infinity })).toMatch(/^E0243: .*`step` must be a non-zero number/);
    expect(of({ stop: 5, step: NaN })).toMatch(/^E0243: .*`step` must be a non-zero number/);
    expect(of({ start: 1, stop: "n" })).toMatch(/^E0243: .*with the dim `n` as `stop`, `start` must be 0 and `step` 1/);
    expect(of({ stop: "n", step: 2 })).toMatch(/^E0243: .*with the dim `n` as `stop`, `start` must be 0 and `step` 1/);
  });

  it("the interpreter and the emitted code: start + i * step, and a free length", () => {
    const b = fresh();
    expect(run(b.op("arange", [], { start: 1.5, stop: -1, step: -0.5 }))).toEqual([1.5, 1, 0.5, 0, -0.5]);
    expect(run(b.op("arange", [], { stop: "n" }), { n: 3 })).toEqual([0, 1, 2]);
    const out = outputs("dim n\ninput x: [n]\ny = arange(1.5, -1, -0.5)\nz = x + arange(n)\noutput y, z", { x: Float64Array.from([10, 20, 30]) });
    expect(out.y).toEqual([1.5, 1, 0.5, 0, -0.5]);
    expect(out.z).toEqual([10, 21, 32]);
  });
});

describe("tensor literals", () => {
  it("the shape of a nested list; ragged lists and non-numbers are compiler bugs", () => {
    expect(literalShape([[1, 2, 3], [4, 5, 6]])).toEqual([2, 3]);
    expect(literalShape(7)).toEqual([]);
    expect(literalShape([[[1], [2]]])).toEqual([1, 2, 1]);
    const b = fresh();
    expect(b.op("tensor", [], { values: [[1, 2], [3, 4], [5, 6]] }).shape).toEqual([3, 2]);
    expect(errorOf(() => b.op("tensor", [], { values: [[1, 2], [3]] }))).toMatch(/ragged tensor literal/);
    expect(errorOf(() => b.op("tensor", [], { values: [[1, 2], [3, "x"]] }))).toMatch(/tensor literal holds a non-number/);
  });

  it("the values, in the interpreter and stored by the emitted code; it costs nothing", () => {
    const b = fresh();
    const t = b.op("tensor", [], { values: [[[1], [2]], [[3], [-4.5]]] });
    expect(run(t)).toEqual([1, 2, 3, -4.5]);
    expect(getOp("tensor").cost!(t, () => 4)).toBe(0);
    const out = outputs("y = tensor([[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, -12.5]]])\nz = tensor(3)\noutput y, z");
    expect(out.y).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, -12.5]);
    expect(out.z).toBe(3);
  });

  it("an empty literal, alone and joined to a tensor", () => {
    const out = outputs("input x: [2]\ny = tensor([])\nz = concat([x, tensor([])])\noutput y, z", { x: Float64Array.from([1, 2]) });
    expect(out.y).toEqual([]);
    expect(out.z).toEqual([1, 2]);
  });
});

describe("sources", () => {
  it("an input's value comes from the caller", () => {
    const b = fresh();
    const x = b.input("x", "input", [2]);
    expect([x.op.name, x.shape, x.attrs.role]).toEqual(["input", [2], "input"]);
    expect(run(x, {}, { x: [4, 5] })).toEqual([4, 5]);
  });

  it("a constant is a scalar", () => {
    const c = fresh().constant(-2.5);
    expect(c.shape).toEqual([]);
    expect(run(c)).toEqual([-2.5]);
  });

  it("iota: the index along its axis", () => {
    const b = fresh();
    expect(run(b.op("iota", [], { shape: [2, 3], axis: 1 }))).toEqual([0, 1, 2, 0, 1, 2]);
    expect(run(b.op("iota", [], { shape: [2, 3], axis: 0 }))).toEqual([0, 0, 0, 1, 1, 1]);
    expect(outputs("input l: [3]\ny = one_hot(l, 3)\noutput y", { l: Float64Array.from([2, 0, 1]) }).y).toEqual([0, 0, 1, 1, 0, 0, 0, 1, 0]);
  });

  it("size: the product of free dims at run time", () => {
    const b = fresh();
    const s = b.op("size", [], { dims: ["m", "n"] });
    expect(s.shape).toEqual([]);
    expect(run(s, { m: 3, n: 5 })).toEqual([15]);
    const src = "dim m\ndim n\ninput u: [m]\ninput v: [n]\ninput x: [m, n]\ny = mean(x)\nz = sum(x) / m\noutput y, z";
    const out = outputs(src, { u: new Float64Array(2), v: new Float64Array(3), x: Float64Array.from([1, 2, 3, 4, 5, 6]) });
    expect(out.y).toBe(3.5);
    expect(out.z).toBe(10.5);
  });
});

describe("the index helpers", () => {
  it("walk every multi-index in row-major order; offsets by strides", () => {
    const seen: string[] = [];
    forEachIndex([2, 1, 3], (idx, flat) => seen.push(`${flat}:${idx.join("")}`));
    expect(seen).toEqual(["0:000", "1:001", "2:002", "3:100", "4:101", "5:102"]);
    const none: number[] = [];
    forEachIndex([2, 0], (_, flat) => none.push(flat));
    expect(none).toEqual([]);
    const scalar: number[][] = [];
    forEachIndex([], (idx) => scalar.push([...idx]));
    expect(scalar).toEqual([[]]);
    expect(offset([12, 4, 1], [1, 2, 3])).toBe(23);
    expect(at({ shape: [2, 3], data: Float64Array.from([0, 1, 2, 3, 4, 5]) }, [1, 2])).toBe(5);
    expect([...zeros([2, 2])]).toEqual([0, 0, 0, 0]);
  });
});

describe("on the wasm target", () => {
  it("inputs, constants, ranges, literals, iota and free sizes (a mean) all run", () => {
    const src = "dim n\ninput x: [n, 3]\ninput l: [n]\ny = x * arange(3) + tensor([1, 2, 3]) + one_hot(l, 3) + iota([n, 3], 1) + mean(x) + 2\noutput y";
    const out = compile(src, { target: "wasm" }).forward({ x: Float32Array.from([1, 1, 1, 3, 3, 3]), l: Float32Array.from([0, 2]) });
    // x * [0, 1, 2] + [1, 2, 3] + one_hot + [0, 1, 2] + 2 (the mean) + 2
    expect([...(out.y as Float32Array)]).toEqual([6, 8, 11, 5, 10, 16]);
  });
});
