// The reduction records (src/ops/reduce.ts) over every kind of axis set, in one compiled
// program: the emitted kernels (the last-axis form with a local accumulator, the in-place
// form for leading and interior axes) and the interpreter against a reference written
// here, with ties, zeros, NaN and infinities; the derivatives at zeros and ties, where
// gradcheck does not sample; the axis diagnostics at the IR.

import { describe, expect, it } from "vitest";
import { gradients } from "../../src/autodiff";
import { GradcError } from "../../src/diagnostics";
import { evaluate } from "../../src/interpret";
import { Graph, stridesOf, type Attrs, type Node } from "../../src/ir";
import { Builder } from "../../src/ops";
import { expectMatchesInterpreter, outputs } from "../builtins/helpers";
import { kernelOps, planOf } from "../schedule/helpers";

const SHAPE = [2, 3, 4];
// ties along every axis, a zero, negative values, one -Infinity
const X = [3, 1, 3, -2, 0, 5, 5, 1, -2, -2, 4, 4, 1, 7, -1, 7, 2, 2, 2, 2, -Infinity, 6, 0.5, 6];

/** A reduction of a [2, 3, 4] tensor over `axes` computed by brute force. */
function reduceRef(x: number[], axes: number[], init: number, combine: (a: number, v: number) => number): number[] {
  const kept = SHAPE.map((_, k) => k).filter((k) => !axes.includes(k));
  const outShape = kept.map((k) => SHAPE[k]!);
  const strides = stridesOf(outShape);
  const out = new Array<number>(outShape.reduce((a, b) => a * b, 1)).fill(init);
  x.forEach((v, flat) => {
    const idx = [Math.floor(flat / 12), Math.floor(flat / 4) % 3, flat % 4];
    const o = kept.reduce((s, k, j) => s + idx[k]! * strides[j]!, 0);
    out[o] = combine(out[o]!, v);
  });
  return out;
}

/** argmax/argmin over one axis (or all): the first extreme position, NaN first. */
function argRef(x: number[], axis: number | undefined, better: (v: number, best: number) => boolean): number[] {
  const axes = axis === undefined ? [0, 1, 2] : [axis];
  const kept = SHAPE.map((_, k) => k).filter((k) => !axes.includes(k));
  const outShape = kept.map((k) => SHAPE[k]!);
  const strides = stridesOf(outShape);
  const n = outShape.reduce((a, b) => a * b, 1);
  const best = new Array<number>(n).fill(NaN), at = new Array<number>(n).fill(0), seen = new Array<number>(n).fill(0);
  x.forEach((v, flat) => {
    const idx = [Math.floor(flat / 12), Math.floor(flat / 4) % 3, flat % 4];
    const o = kept.reduce((s, k, j) => s + idx[k]! * strides[j]!, 0);
    const first = seen[o] === 0;
    if (first || (!Number.isNaN(best[o]!) && (Number.isNaN(v) || better(v, best[o]!)))) { best[o] = v; at[o] = seen[o]!; }
    seen[o]!++;
  });
  return at;
}

const AXES = [[0], [1], [2], [0, 1], [1, 2], [0, 2], [0, 1, 2]];
const REDUCERS: [string, number, (a: number, v: number) => number][] = [
  ["sum", 0, (a, v) => a + v], ["prod", 1, (a, v) => a * v], ["max", -Infinity, Math.max], ["min", Infinity, Math.min],
];
const list = (axes: number[]) => `[${axes.join(", ")}]`;

describe("reductions in emitted code and the interpreter", () => {
  it("sum, prod, max, min over single, leading, interior, trailing, several and all axes", () => {
    const lines = REDUCERS.flatMap(([op]) => AXES.map((axes) => `${op}_${axes.join("")} = ${op}(x, axis = ${list(axes)})`));
    const names = lines.map((l) => l.split(" ")[0]!);
    const src = `input x: [2, 3, 4]\n${lines.join("\n")}\noutput ${names.join(", ")}`;
    for (const data of [X, X.map((v, i) => (i === 7 ? NaN : v === -Infinity ? 1.5 : v))]) {
      const out = outputs(src, { x: Float64Array.from(data) });
      for (const [op, init, combine] of REDUCERS) {
        for (const axes of AXES) {
          const got = out[`${op}_${axes.join("")}`]!;
          expect(typeof got === "number" ? [got] : got, `${op} over ${list(axes)}`).toEqual(reduceRef(data, axes, init, combine));
        }
      }
      expectMatchesInterpreter(src, { x: Float64Array.from(data) });
    }
  });

  it("argmax and argmin along each axis and over all: the first extreme, NaN first", () => {
    const axes = [0, 1, 2, undefined];
    const lines = ["argmax", "argmin"].flatMap((op) => axes.map((a) => `${op}_${a ?? "all"} = ${op}(x${a === undefined ? "" : `, axis = ${a}`})`));
    const names = lines.map((l) => l.split(" ")[0]!);
    const src = `input x: [2, 3, 4]\n${lines.join("\n")}\noutput ${names.join(", ")}`;
    for (const data of [X, X.map((v, i) => (i === 9 || i === 13 ? NaN : v))]) {
      const out = outputs(src, { x: Float64Array.from(data) });
      for (const [op, better] of [["argmax", (v: number, b: number) => v > b], ["argmin", (v: number, b: number) => v < b]] as const) {
        for (const a of axes) {
          const got = out[`${op}_${a ?? "all"}`]!;
          expect(typeof got === "number" ? [got] : got, `${op} axis ${a}`).toEqual(argRef(data, a, better));
        }
      }
      expectMatchesInterpreter(src, { x: Float64Array.from(data) });
    }
  });

  it("cumsum along each axis, values and gradients", () => {
    const src = "param x: [2, 3, 4]\ninput r: [2, 3, 4]\na = cumsum(x, axis = 0)\nb = cumsum(x, axis = 1)\nc = cumsum(x, axis = 2)\noutput a, b, c\nminimize sum((a + 2 * b + 3 * c) * r)";
    const x = Float64Array.from(X.map((v) => (v === -Infinity ? -3 : v)));
    const r = Float64Array.from(X.map((_, i) => ((i * 7) % 5) - 2));
    const out = outputs(src, { x, r });
    const ref = (axis: number) => [...x].map((_, flat) => {
      const idx = [Math.floor(flat / 12), Math.floor(flat / 4) % 3, flat % 4];
      let s = 0;
      for (let j = 0; j <= idx[axis]!; j++) s += x[flat + (j - idx[axis]!) * stridesOf(SHAPE)[axis]!]!;
      return s;
    });
    expect(out.a).toEqual(ref(0));
    expect(out.b).toEqual(ref(1));
    expect(out.c).toEqual(ref(2));
    expectMatchesInterpreter(src, { x, r });
  });
});

describe("reduction derivatives where gradcheck does not sample", () => {
  function grad(op: string, axes: number[], data: number[], shape: number[]): number[] {
    const b = new Builder(new Graph(), undefined);
    const x = b.input("x", "param", shape);
    const y = b.op(op, [x], { axes });
    const out = y.shape.length ? b.sum(y, y.shape.map((_, k) => k)) : y;
    const [g] = gradients(b, out, [x]);
    return [...evaluate([g!], { values: new Map([["x", data]]) }).get(g!)!.data];
  }

  it("prod: the product of the others at a single zero, 0 with two zeros", () => {
    // rows: no zero, one zero, two zeros
    expect(grad("prod", [1], [2, 3, 4, 2, 0, 5, 0, 3, 0], [3, 3])).toEqual([12, 8, 6, 0, 10, 0, 0, 0, 0]);
    expect(grad("prod", [0], [2, 0, 0, 3, 5, 0], [2, 3])).toEqual([3, 5, 0, 2, 0, 0]);
  });

  it("max and min split the gradient evenly among tied extremes", () => {
    expect(grad("max", [1], [1, 3, 3, 2, 2, 2, 5, 4, -1, 0, 0, 0], [3, 4])).toEqual([0, 0.5, 0.5, 0, 0, 0, 1, 0, 0, 1 / 3, 1 / 3, 1 / 3]);
    expect(grad("min", [0], [1, 3, 1, 2, 1, 5], [3, 2])).toEqual([1 / 3, 0, 1 / 3, 1, 1 / 3, 0]);
  });

  it("argmax, argmin: no gradient", () => {
    for (const op of ["argmax", "argmin"]) {
      const b = new Builder(new Graph(), undefined);
      const x = b.input("x", "param", [3]);
      const [g] = gradients(b, b.mul(b.op(op, [x], { axes: [0] }), b.constant(2)), [x]);
      expect([...evaluate([g!], { values: new Map([["x", [1, 3, 2]]]) }).get(g!)!.data]).toEqual([0, 0, 0]);
    }
  });
});

describe("reduction axes out of range (E0203, at the IR)", () => {
  const codeOf = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      if (e instanceof GradcError) return [e.code, e.message];
      throw e;
    }
    return undefined;
  };
  for (const op of ["sum", "prod", "max", "min", "argmax", "argmin", "cumsum"]) {
    it(op, () => {
      for (const axis of [3, -1, 7]) {
        const b = new Builder(new Graph(), undefined);
        const x: Node = b.input("x", "input", [2, 3, 4]);
        const attrs: Attrs = op === "cumsum" ? { axis } : { axes: [0, axis] };
        const [code, message] = codeOf(() => b.op(op, [x], attrs)) ?? [];
        expect(code, `${op} axis ${axis}`).toBe("E0203");
        expect(message).toContain(`axis ${axis} is out of range for a tensor of rank 3`);
      }
      // the last axis is in range
      const b = new Builder(new Graph(), undefined);
      const x = b.input("x", "input", [2, 3, 4]);
      expect(b.op(op, [x], op === "cumsum" ? { axis: 2 } : { axes: [2] }).shape).toEqual(op === "cumsum" ? [2, 3, 4] : [2, 3]);
    });
  }
});

describe("reductions fuse their elementwise input", () => {
  it("one kernel for a reduction of exp(x) * 2: the input is computed inside the reduction loop", () => {
    for (const call of ["sum(u, axis = 1)", "prod(u, axis = 0)", "max(u, axis = 1)", "min(u)", "argmax(u, axis = 1)", "argmin(u, axis = 0)", "cumsum(u, axis = 1)"]) {
      const { plan } = planOf(`input x: [3, 4]\nu = exp(x) * 2\ny = ${call}\noutput y`);
      expect(kernelOps(plan), call).toEqual([call.split("(")[0]]);
    }
  });

  it("an elementwise consumer joins a reduction that stores each output once (last axis reduced, argmax, cumsum)", () => {
    const ops = (call: string) => kernelOps(planOf(`input x: [3, 4]\ny = exp(${call})\noutput y`).plan);
    for (const call of ["sum(x, axis = 1)", "max(x, axis = 1)", "argmax(x, axis = 0)", "argmin(x, axis = 1)", "cumsum(x, axis = 0)"]) {
      expect(ops(call), call).toHaveLength(1);
    }
    // over a leading axis the sum accumulates in place: exp is a kernel of its own
    expect(ops("sum(x, axis = 0)")).toHaveLength(2);
  });
});
