// take (NumPy take), embedding and scatter_add: values against hand-computed NumPy
// results, gradients (repeated ids add up), emitted code (f64 and f32, small and large
// models, free dims) against the interpreter, gradcheck, printed gradients that compile,
// compile-time errors, and the fused gather (no buffer for `take(E, ids)` before a matmul).

import { describe, expect, it } from "vitest";
import { buildModel, compile, gradcheck, GradcError } from "../../src/index";
import { evaluate } from "../../src/interpret";
import { lowerSource } from "../../src/lower";
import { printDefinitions } from "../../src/print";
import { expectClose, expectMatchesInterpreter, model, outputs, randomValues } from "../builtins/helpers";

const vec = (xs: number[]) => Float64Array.from(xs);
const range = (n: number) => vec(Array.from({ length: n }, (_, i) => i));

/** The GradcError `f` throws. */
function errorOf(f: () => unknown): GradcError {
  try { f(); } catch (e) { if (e instanceof GradcError) return e; throw e; }
  throw new Error("expected a GradcError");
}

describe("take", () => {
  it("gathers rows along axis 0 (np.take(x, ids, 0)), repeats included", () => {
    // x = arange(12).reshape(4, 3); np.take(x, [2, 0, 2], 0)
    const out = outputs(`input x: [4, 3]\ninput ids: [3]\ny = take(x, ids)\noutput y`, { x: range(12), ids: vec([2, 0, 2]) });
    expect(out.y).toEqual([6, 7, 8, 0, 1, 2, 6, 7, 8]);
  });

  it("gathers along an inner axis with 2-d ids: shape x.shape[:axis] + ids.shape + x.shape[axis+1:]", () => {
    // x = arange(24).reshape(2, 3, 4); np.take(x, [[2, 0], [1, 1]], axis=1) has shape (2, 2, 2, 4)
    const src = `input x: [2, 3, 4]\ninput ids: [2, 2]\ny = take(x, ids, axis = 1)\noutput y`;
    expect(compile(src).meta.outputs[0]!.shape).toEqual([2, 2, 2, 4]);
    const y = outputs(src, { x: range(24), ids: vec([2, 0, 1, 1]) }).y as number[];
    const want: number[] = [];
    for (const i of [0, 1]) for (const id of [2, 0, 1, 1]) for (let k = 0; k < 4; k++) want.push(i * 12 + id * 4 + k);
    expect(y).toEqual(want);
  });

  it("takes arange ids (checked at compile time): a dim-sized range over an axis of that dim", () => {
    expect(outputs(`input x: [5]\ny = take(x, arange(4, -1, -2))\noutput y`, { x: range(5).map((v) => v * 10) }).y).toEqual([40, 20, 0]);
    const m = model(`dim n\ninput x: [n]\ny = take(x, arange(n)) + take(x, arange(1))\noutput y`);
    expect([...(m.forward({ x: vec([1, 2, 3]) }).y as Float64Array)]).toEqual([2, 3, 4]);
  });

  it("takes arange(t) of a free t over a fixed-size axis (position embeddings), t checked at each call", () => {
    const src = `dim b, t\ninput ids: [b, t]\ninput len: [b]\nparam E: [5, 3] = normal(0, 1)\nparam P: [4, 3] = normal(0, 1)\ny = take(E, ids) + take(P, arange(t))\noutput y\nminimize sum(tanh(y)) + sum(len)`;
    const m = model(src);
    const ids = vec([1, 2, 3, 4, 0, 1]);
    const y = m.forward({ ids, len: vec([0, 0]) }).y as Float64Array;
    const { E, P } = m.params as Record<string, Float64Array>;
    // y[r, j, k] = E[ids[r, j], k] + P[j, k]
    for (let r = 0; r < 2; r++) for (let j = 0; j < 3; j++) for (let k = 0; k < 3; k++) {
      expect(y[(r * 3 + j) * 3 + k]).toBe(E![ids[r * 3 + j]! * 3 + k]! + P![j * 3 + k]!);
    }
    expectMatchesInterpreter(src, { ids, len: vec([0, 0]), E: E!, P: P! }, { b: 2, t: 3 });
    expect(gradcheck(src, { values: { ids, len: vec([0, 0]) } }).ok).toBe(true);
    expect((m.forward({ ids: new Float64Array(8), len: vec([0, 0]) }).y as Float64Array).length).toBe(24);
    const tooLong = errorOf(() => m.forward({ ids: new Float64Array(10), len: vec([0, 0]) }));
    expect(tooLong.code).toBe("E0410");
    expect(tooLong.message).toContain("so t must be at most 4, with t = 5 (from the length of `ids`)");
    // A range sized by another free dim still cannot index a free axis (E0246).
    expect(errorOf(() => lowerSource("dim t, s\ninput x: [t]\ninput e: [s, 2]\ny = take(e, arange(t))\noutput y")).code).toBe("E0246");
  });

  it("takes along the last axis with a negative axis, and with scalar ids drops the axis", () => {
    // np.take(arange(6).reshape(2, 3), [2, 1], axis=-1) = [[2, 1], [5, 4]]; np.take(..., 1, axis=0) = [3, 4, 5]
    const src = `input x: [2, 3]\ninput ids: [2]\ninput one\na = take(x, ids, axis = -1)\nb = take(x, one)\noutput a, b`;
    const out = outputs(src, { x: range(6), ids: vec([2, 1]), one: 1 });
    expect(out.a).toEqual([2, 1, 5, 4]);
    expect(out.b).toEqual([3, 4, 5]);
  });

  it("embedding(table, ids) is take(table, ids, axis = 0)", () => {
    const values = { E: range(10), ids: vec([4, 0, 3, 4]) };
    const a = outputs(`input E: [5, 2]\ninput ids: [2, 2]\ny = embedding(E, ids)\noutput y`, values).y;
    const b = outputs(`input E: [5, 2]\ninput ids: [2, 2]\ny = take(E, ids, axis = 0)\noutput y`, values).y;
    expect(a).toEqual([8, 9, 0, 1, 6, 7, 8, 9]);
    expect(b).toEqual(a);
  });

  it("sends its gradient to the rows it read, adding for repeated ids; ids get none", () => {
    // loss = sum(take(E, ids) * c): dE[r] = sum of c's rows whose id is r
    const m = model(`input ids: [3]\ninput c: [3, 2]\nparam E: [4, 2]\nminimize sum(take(E, ids) * c)`);
    const { grads } = m.valueAndGrad({ ids: vec([1, 3, 1]), c: vec([1, 2, 10, 20, 100, 200]), E: new Float64Array(8) });
    expect([...grads.E!]).toEqual([0, 0, 101, 202, 0, 0, 10, 20]);
  });

  it("matches the interpreter in emitted code: small and large models, every axis, f32 near f64", () => {
    const cases: [string, Record<string, Float64Array>][] = [
      [`input ids: [3]\nparam E: [6, 4]\nparam w: [4, 2]\nlogits = take(E, ids) @ w\noutput logits\nminimize sum(tanh(logits))`, { ids: vec([5, 0, 5]) }],
      [`input ids: [2, 2]\nparam x: [3, 4, 2]\ny = take(x * x, ids, axis = 1)\noutput y\nminimize sum(sin(y))`, { ids: vec([3, 1, 0, 3]) }],
      [`input ids: [5]\nparam x: [2, 3, 4]\ny = exp(take(x, ids, axis = 2))\noutput y\nminimize sum(y * y)`, { ids: vec([3, 3, 0, 1, 2]) }],
      // large enough for kernel functions (more than 4096 elements)
      [`input ids: [64]\nparam E: [100, 32]\nparam w: [32, 10]\nlogits = take(E, ids) @ w\nminimize sum(logsumexp(logits, axis = 1))`,
        { ids: vec(Array.from({ length: 64 }, (_, i) => (i * 37) % 100)) }],
    ];
    cases.forEach(([src, ids], k) => {
      const values = { ...randomValues(src, k + 1), ...ids };
      expectMatchesInterpreter(src, values);
      const f64 = model(src).valueAndGrad(values);
      const f32Values = Object.fromEntries(Object.entries(values).map(([n, v]) => [n, typeof v === "number" ? v : Float32Array.from(v)]));
      const f32 = model(src, "f32").valueAndGrad(f32Values);
      expect(Math.abs(f32.value - f64.value)).toBeLessThan(1e-4 * Math.max(1, Math.abs(f64.value)));
      for (const name of Object.keys(f64.grads)) expectClose(f32.grads[name]!, f64.grads[name]!, 1e-4, `f32 d${name}`);
    });
  });

  it("works with free dims: ids [n] bound at call time, several n in a row", () => {
    const src = `dim n\ninput ids: [n]\nparam E: [7, 3]\ny = take(E, ids)\noutput y\nminimize sum(y * y)`;
    const m = model(src);
    const E = vec(Array.from({ length: 21 }, (_, i) => i / 10));
    for (const ids of [[6], [0, 6, 2], [1, 1, 1, 1, 5]]) {
      const y = m.forward({ ids: vec(ids), E }).y as Float64Array;
      expect([...y]).toEqual(ids.flatMap((r) => [0, 1, 2].map((k) => E[r * 3 + k]!)));
      expectMatchesInterpreter(src, { ids: vec(ids), E }, { n: ids.length });
    }
  });

  it("gradchecks (library gradcheck, f64 central differences)", () => {
    const src = `param E: [5, 4]\nparam w: [4, 3]\nh = embedding(E, tensor([[4, 0, 4], [2, 1, 4]]))\nminimize sum(tanh(h @ w) ^ 2)`;
    const result = gradcheck(src);
    expect(result.ok, JSON.stringify(result.params)).toBe(true);
    expect(result.params.find((p) => p.name === "E")!.checked).toBeGreaterThan(0);
  });

  it("gradchecks with ids given as an input (gradcheck draws valid ids) and for one_hot labels", () => {
    for (const src of [
      `input ids: [2, 3]\nparam E: [5, 4]\nparam w: [4, 3]\nh = embedding(E, ids)\nminimize sum(tanh(h @ w) ^ 2)`,
      `input labels: [4]\ninput x: [4, 3]\nparam w: [3, 3]\nminimize cross_entropy(x @ w, one_hot(labels, 3))`,
    ]) {
      const r = gradcheck(src);
      expect(r.ok, JSON.stringify(r.params)).toBe(true);
      expect(r.params.every((p) => p.checked > 0)).toBe(true);
    }
  });

  it("reads the table in place before a matmul: no buffer holds take(E, ids)", () => {
    const src = `input ids: [64]\nparam E: [1000, 32]\nparam w: [32, 10]\ny = take(E, ids) @ w\noutput y`;
    const text = model(src).source;
    // the gathered rows are read straight from E, indexed by the id: p_E[(t | 0) * 32 + k]
    expect(text).toMatch(/p_E\[\(\w+ \| 0\) \* 32/);
    // no arena buffer of 64 * 32 elements is allocated for the gather
    expect(text).not.toMatch(/new F\(2048\)/);
  });
});

describe("the interpreter", () => {
  it("rejects bad ids too (E0422), for take and scatter_add", () => {
    const program = lowerSource(`input ids: [2]\ninput E: [3, 2]\ny = take(E, ids)\nz = scatter_add(y, ids, 3)\noutput y, z`, { filename: "i.grad" });
    const [y, z] = program.outputs.map((o) => o.node);
    const values = (ids: number[]) => new Map([["ids", ids], ["E", [1, 2, 3, 4, 5, 6]]]);
    expect([...evaluate([z!], { values: values([2, 2]) }).get(z!)!.data]).toEqual([0, 0, 0, 0, 10, 12]);
    for (const [ids, shown] of [[[0, 3], "3 at index [1] (flat index 1)"], [[-1, 0], "-1 at index [0] (flat index 0)"], [[0, 0.5], "0.5 at index [1] (flat index 1)"]] as const) {
      const e = errorOf(() => evaluate([y!], { values: values([...ids]) }));
      expect(e.code).toBe("E0422");
      expect(e.message).toBe(`the ids hold ${shown}, but an id must be an integer in [0, 3)`);
    }
  });
});

describe("scatter_add", () => {
  it("adds slices of g into zeros at the ids (np.add.at)", () => {
    // np.add.at(zeros((4, 2)), [1, 3, 1], g) with g = arange(6).reshape(3, 2)
    const out = outputs(`input g: [3, 2]\ninput ids: [3]\ny = scatter_add(g, ids, 4)\noutput y`, { g: range(6), ids: vec([1, 3, 1]) });
    expect(out.y).toEqual([0, 0, 4, 6, 0, 0, 2, 3]);
  });

  it("scatters along an inner axis with a dim as the size", () => {
    // out[i, ids[j], k] += g[i, j, k]; g = arange(12).reshape(2, 3, 2), ids = [0, 2, 0], size 3
    const src = `dim s\ninput g: [2, 3, 2]\ninput ids: [3]\ny = scatter_add(g, ids, s, axis = 1)\noutput y`;
    const m = compile(src, { sizes: { s: 3 }, dtype: "f64" });
    const y = [...(m.forward({ g: range(12), ids: vec([0, 2, 0]) }).y as Float64Array)];
    expect(y).toEqual([0 + 4, 1 + 5, 0, 0, 2, 3, 6 + 10, 7 + 11, 0, 0, 8, 9]);
  });

  it("works with free dims: values and ids [n] bound at call time", () => {
    const src = `dim n\ninput ids: [n]\ninput x: [2, n, 3]\nparam p: [3]\ny = scatter_add(x * p, ids, 4, axis = 1)\noutput y\nminimize sum(y * y)`;
    for (const ids of [[3, 0, 3], [1, 1, 2, 0, 3]]) {
      const n = ids.length;
      expectMatchesInterpreter(src, { ...randomValues(src, n, { n }), ids: vec(ids) }, { n });
    }
    const m = model(`dim n\ninput ids: [n]\ninput g: [n]\ny = scatter_add(g, ids, 3)\noutput y`);
    expect([...(m.forward({ ids: vec([2, 2]), g: vec([1, 2]) }).y as Float64Array)]).toEqual([0, 0, 3]);
    expect([...(m.forward({ ids: vec([0, 1, 0, 2]), g: vec([1, 2, 3, 4]) }).y as Float64Array)]).toEqual([4, 2, 4]);
  });

  it("has take as its gradient, and matches the interpreter", () => {
    const src = `input ids: [2, 2]\nparam g: [3, 2, 2, 4]\ny = scatter_add(g, ids, 5, axis = 1)\noutput y\nminimize sum(y * y * y)`;
    expectMatchesInterpreter(src, { ...randomValues(src, 3), ids: vec([4, 0, 4, 2]) });
    expect(gradcheck(`param g: [3, 2, 2, 4]\ny = scatter_add(g, tensor([[4, 0], [4, 2]]), 5, axis = 1)\nminimize sum(y * y * y)`).ok).toBe(true);
  });
});

describe("printed gradients of take compile and compute the same values", () => {
  it("gradc grad prints scatter_add, and the printed program is accepted", () => {
    const src = `input ids: [3]\ninput c: [3, 2]\nparam E: [4, 2]\nminimize sum(take(E, ids) * c)`;
    const program = lowerSource(src, { filename: "m.grad" });
    const ir = buildModel(program);
    const text = printDefinitions([{ name: "d_E", node: ir.grads![0]! }]);
    expect(text).toContain("scatter_add(");
    // the printed gradient, as a program of its own, computes what valueAndGrad returns
    const again = `input ids: [3]\ninput c: [3, 2]\n${text}output d_E\n`;
    const values = { ids: vec([1, 3, 1]), c: vec([1, 2, 10, 20, 100, 200]) };
    const printed = [...(compile(again, { dtype: "f64" }).forward(values).d_E as Float64Array)];
    const direct = [...model(src).valueAndGrad({ ...values, E: new Float64Array(8) }).grads.E!];
    expect(printed).toEqual(direct);
  });

  it("one_hot's gradient program prints as take(eye pattern, labels) and compiles", () => {
    const src = `input labels: [3]\nparam w: [4]\nminimize sum(one_hot(labels, 4) * w * w)`;
    const program = lowerSource(src, { filename: "m.grad" });
    const text = printDefinitions([{ name: "d_w", node: buildModel(program).grads![0]! }]);
    expect(text).toContain("take(");
    const again = `input labels: [3]\nparam w: [4]\n${text}output d_w\n`;
    const values = { labels: vec([2, 0, 2]), w: vec([1, 2, 3, 4]) };
    const printed = [...(compile(again, { dtype: "f64" }).forward(values).d_w as Float64Array)];
    expect(printed).toEqual([2, 0, 12, 0]);
  });
});

describe("take: compile-time errors", () => {
  const cases: [string, string, RegExp][] = [
    ["an axis out of range", `param E: [4, 2]\ninput ids: [3]\ny = take(E, ids, axis = 2)\noutput y`, /axis 2 is out of range for a tensor of rank 2/],
    ["a non-integer axis", `param E: [4, 2]\ninput ids: [3]\ny = take(E, ids, axis = 0.5)\noutput y`, /`axis` must be a constant number/],
    ["constant ids out of range", `param E: [4, 2]\ny = take(E, tensor([0, 4]))\noutput y`, /the id 4 at index \[1\] is not an integer in \[0, 4\)/],
    ["a constant non-integer id", `param E: [4, 2]\ny = take(E, 1.5)\noutput y`, /the id 1.5 at index \[\] is not an integer in \[0, 4\)/],
    ["arange ids past the axis", `input x: [5]\ny = take(x, arange(7))\noutput y`, /the id 6 at index \[6\] is not an integer in \[0, 5\)/],
    ["fractional arange ids", `input x: [5]\ny = take(x, arange(0, 2, 0.5))\noutput y`, /the id 0.5 at index \[1\] is not an integer in \[0, 5\)/],
    // (into a fixed-size axis it compiles, and each call checks the dim: see above)
    ["a dim-sized range into an axis of another dim", `dim n, m\ninput x: [m]\ninput z: [n]\ny = take(x, arange(n))\noutput y`, /the ids arange\(stop = n\) may not fit an axis of size m/],
    ["scatter_add ids that do not match g", `input g: [3, 2]\ninput ids: [2]\ny = scatter_add(g, ids, 4)\noutput y`, /scatter_add: the ids \[2\] must match axes 0 to 0 of the values \[3, 2\]/],
    ["a scatter_add size that is not a size", `input g: [3, 2]\ninput ids: [3]\ny = scatter_add(g, ids, 2.5)\noutput y`, /`size` must be an integer or a dim name/],
  ];
  for (const [what, src, message] of cases) {
    it(`reports ${what} with a located caret`, () => {
      const e = errorOf(() => compile(src, { filename: "bad.grad" }));
      expect(e.message).toMatch(message);
      expect(e.file).toBe("bad.grad");
      expect(e.line).toBe(src.split("\n").findIndex((l) => l.startsWith("y =")) + 1);
      expect(e.column).toBeGreaterThan(0);
      expect(e.rendered).toMatch(/\n {2}.*\n {2}\s*\^+/);
    });
  }
});
