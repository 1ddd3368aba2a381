// Runtime misuse of a compiled model: wrong lengths, wrong array types, NaN and Infinity
// in inputs, free dims that inputs disagree on or cannot determine, runaway sizes, a
// replaced or deleted held param, and re-entrant calls from getters on `values`. Each is
// a GradcError or the documented result (docs/runtime.md); no call reads out of bounds.

import { describe, expect, it } from "vitest";
import { check, compile, GradcError } from "../../src/index";
import { expectGradcError, put, type Values } from "./helpers";

const f32 = (...xs: number[]) => Float32Array.from(xs);

describe("wrong lengths and free dims", () => {
  const model = compile("dim n\ndim k\ninput x: [n, 3]\ninput y: [n]\ninput z: [k, n]\nparam w: [3]\nr = x @ w - y\nq = sum(z, axis = 0) * r\noutput q\nminimize sum(q ^ 2)");
  const ok = { x: new Float32Array(6), y: new Float32Array(2), z: new Float32Array(8) };

  it("runs with consistent lengths (n = 2, k = 4)", () => {
    expect((model.forward(ok).q as Float32Array).length).toBe(2);
  });

  it("every input's length is checked against the dims solved from the others", () => {
    // x solves n, z solves k given n; y and z are checked against them.
    expectGradcError(() => model.forward({ ...ok, y: new Float32Array(3) }), "E0403", /`y` must have n elements, but has 3/);
    expectGradcError(() => model.forward({ ...ok, y: new Float32Array(1) }), "E0403");
    expectGradcError(() => model.forward({ ...ok, z: new Float32Array(7) }), "E0405", /`z`: cannot infer dim `k`: its length 7/);
    expectGradcError(() => model.forward({ ...ok, x: new Float32Array(7) }), "E0405", /`x`: cannot infer dim `n`/);
    expectGradcError(() => model.forward({ ...ok, x: new Float32Array(0) }), "E0405");
    // A free dim that two inputs disagree on: x says n = 3, y says 2.
    expectGradcError(() => model.forward({ ...ok, x: new Float32Array(9), z: new Float32Array(12) }), "E0403", /`y` must have n elements, but has 2/);
    expectGradcError(() => model.forward({ ...ok, w: new Float32Array(4) }), "E0403", /`w` must have 3 elements, but has 4/);
  });

  it("random models: lengths no dims can explain are always a GradcError", () => {
    const shapes = [["n", 2], ["n"], [3, "n"], ["m", "n"], [2, "m"], ["m"]];
    const numel = (s: (string | number)[], d: Record<string, number>) => s.reduce<number>((c, x) => c * (typeof x === "number" ? x : d[x]!), 1);
    for (let trial = 0; trial < 18; trial++) {
      const chosen = [shapes[trial % 6]!, shapes[(trial * 5 + 1) % 6]!, shapes[(trial * 7 + 2) % 6]!];
      const dims = [...new Set(chosen.flat().filter((d): d is string => typeof d === "string"))];
      const source = [...dims.map((d) => `dim ${d}`), ...chosen.map((s, i) => `input a${i}: [${s.join(", ")}]`), "param w",
        `loss = ${chosen.map((_, i) => `sum(a${i}) * w`).join(" + ")}`, "minimize loss"].join("\n");
      let model;
      try {
        model = compile(source);
      } catch (e) {
        // Some dim no input determines on its own (m only in [m, n] ...).
        expect((e as GradcError).code).toMatch(/E0407|E0126/);
        continue;
      }
      const good = chosen.map((s) => numel(s, { n: 3, m: 4 }));
      for (let i = 0; i < chosen.length; i++) {
        for (const delta of [-3, -1, 1, 2, good[i]!, 2 * good[i]!]) {
          const lengths = good.map((l, j) => (j === i ? l + delta : l));
          // Is there any assignment of the dims that gives these lengths?
          let explained = false;
          for (let n = 1; n <= 40 && !explained; n++) for (let m = 1; m <= 40 && !explained; m++) {
            explained = chosen.every((s, j) => numel(s, { n, m }) === lengths[j]);
          }
          const values: Values = {};
          lengths.forEach((l, j) => { values[`a${j}`] = new Float32Array(Math.max(l, 0)); });
          let error: unknown;
          try { model.forward(values); } catch (e) { error = e; }
          const label = `${source}\n lengths ${lengths.join(", ")}`;
          if (explained) expect(error, label).toBeUndefined();
          else {
            expect(error, label).toBeInstanceOf(GradcError);
            expect((error as GradcError).code, label).toMatch(/E0403|E0405/);
          }
        }
      }
    }
  });

  it("a free dim no input can determine is a compile-time error, located", () => {
    const square = "dim n\ninput x: [n, n]\ny = sum(x)\noutput y";
    const e = expectGradcError(() => compile(square), "E0407", /`x` has free dims \[n\]/);
    expect([e.line, e.column]).toEqual([2, 7]);
    expectGradcError(() => check(square), "E0407");
    expect(compile(square, { sizes: { n: 3 } }).forward({ x: new Float32Array(9).fill(1) }).y).toBe(9);
    const unread = "dim n\ninput x: [4]\ny = broadcast_to(x, [n, 4])\noutput y";
    const u = expectGradcError(() => compile(unread), "E0126", /dim `n` is free, but no input's length determines it/);
    expect([u.line, u.column]).toEqual([1, 5]);
    // A zero-size axis hides the dim (length 0 for every n) ...
    expectGradcError(() => compile("dim n\ninput x: [n, 0]\ny = sum(x)\noutput y"), "E0407");
    // ... unless another input determines it.
    const zero = compile("dim n\ninput x: [0, n]\ninput y: [n]\nr = sum(x) + sum(y)\noutput r");
    expect(zero.forward({ x: new Float32Array(0), y: f32(1, 2, 3) }).r).toBe(6);
  });

  it("a runtime size past 2^31 - 1 elements is a GradcError, not a RangeError", () => {
    const outer = compile("dim n\ninput a: [n]\ny = reshape(a, [n, 1]) * reshape(a, [1, n])\noutput y");
    expect((outer.forward({ a: f32(1, 2) }).y as Float32Array).length).toBe(4);
    expectGradcError(() => outer.forward({ a: new Float32Array(50_000) }), "E0408", /2500000000 elements, more than the limit of 2147483647/);
  });
});

describe("wrong array types", () => {
  const model = compile("input x: [2]\ninput t\nparam w: [2] = ones\nparam s = constant(2)\ny = x * w * t * s\noutput y\nminimize sum(y)");
  const good = { x: f32(1, 2), t: 3 };

  it("the right types work; a scalar takes a number or a length-1 array", () => {
    expect(Array.from(model.forward(good).y as Float32Array)).toEqual([6, 12]);
    expect(Array.from(model.forward({ ...good, t: f32(3) }).y as Float32Array)).toEqual([6, 12]);
    expect(Array.from(model.forward({ ...good, s: 1 }).y as Float32Array)).toEqual([3, 6]);
  });

  it("anything else is E0404 naming the expected and the given type", () => {
    const cases: [string, unknown, RegExp][] = [
      ["x", Float64Array.of(1, 2), /`x` must be a Float32Array, but is Float64Array/],
      ["x", [1, 2], /but is a plain Array/],
      ["x", new Int32Array(2), /but is Int32Array/],
      ["x", new DataView(new ArrayBuffer(8)), /but is DataView/],
      ["x", 1, /but is number/],
      ["x", "1,2", /but is string/],
      ["x", null, /but is null/],
      ["x", undefined, /but is undefined/],
      ["x", { length: 2, 0: 1, 1: 2 }, /but is Object/],
      ["t", "3", /`t` must be a number or a Float32Array of length 1, but is string/],
      ["t", f32(1, 2), /`t` must be a number or a Float32Array of length 1/],
      ["t", null, /but is null/],
      ["t", 3n, /but is bigint/],
      ["w", [1, 1], /`w` must be a Float32Array, but is a plain Array/],
      ["s", "2", /`s` must be a number or a Float32Array of length 1/],
    ];
    for (const [name, value, pattern] of cases) {
      const values: Values = { ...good };
      put(values, name, value);
      expectGradcError(() => model.forward(values), "E0404", pattern);
    }
    const f64 = compile("input x: [2]\ny = x * 2\noutput y", { dtype: "f64" });
    expectGradcError(() => f64.forward({ x: f32(1, 2) }), "E0404", /`x` must be a Float64Array, but is Float32Array/);
  });

  it("the values record itself: not an object, missing and unknown names", () => {
    for (const v of [null, undefined, 3, "x", true]) expectGradcError(() => model.forward(v as unknown as Values), "E0404", /the values must be an object/);
    expectGradcError(() => model.forward({ x: f32(1, 2) }), "E0401", /missing input `t`/);
    expectGradcError(() => model.forward({ ...good, q: 1 }), "E0402", /unknown value `q`/);
    expectGradcError(() => compile("input x\ny = x\noutput y").valueAndGrad({ x: 1 }), "E0406");
    expectGradcError(() => compile("input x\ny = x\noutput y").step({ x: 1 }), "E0406");
  });

  it("a held param replaced or deleted in model.params is checked like an argument", () => {
    const m = compile("param w: [2] = ones\nparam s = constant(2)\nminimize sum(w) * s");
    m.params.w = [1, 1] as unknown as Float32Array;
    expectGradcError(() => m.forward({}), "E0404", /`w` must be a Float32Array, but is a plain Array/);
    m.params.w = new Float32Array(3);
    expectGradcError(() => m.forward({}), "E0403", /`w` must have 2 elements, but has 3/);
    delete (m.params as Record<string, unknown>).w;
    expectGradcError(() => m.forward({}), "E0404", /`w` must be a Float32Array, but is missing from the model's params/);
    m.params.w = f32(1, 2);
    expect(m.forward({}).objective).toBe(6);
    // A scalar param may be held as a number too.
    (m.params as Record<string, unknown>).s = 3;
    expect(m.forward({}).objective).toBe(9);
    (m.params as Record<string, unknown>).s = "3";
    expectGradcError(() => m.forward({}), "E0404");
  });
});

describe("NaN and Infinity in inputs propagate as IEEE arithmetic says (documented)", () => {
  const model = compile("input x: [3]\nparam w: [3] = ones\ny = sigmoid(x * w)\nz = x * w\noutput y, z\nminimize sum(z)", { dtype: "f64" });

  it("only the elements that depend on a NaN are NaN; Infinity saturates where the math does", () => {
    const r = model.forward({ x: Float64Array.of(NaN, Infinity, -Infinity) });
    expect(Array.from(r.y as Float64Array)).toEqual([NaN, 1, 0]);
    expect(Array.from(r.z as Float64Array)).toEqual([NaN, Infinity, -Infinity]);
    expect(r.objective).toBeNaN();
  });

  it("the gradient is NaN only where the math is, and step writes it into the params", () => {
    const g = model.valueAndGrad({ x: Float64Array.of(NaN, 2, 3) });
    expect(g.value).toBeNaN();
    expect(Array.from(g.grads.w!)).toEqual([NaN, 2, 3]);
    model.step({ x: Float64Array.of(NaN, 2, 3) });
    expect(Number.isNaN(model.params.w![0]!)).toBe(true);
    expect(model.params.w![1]).toBeCloseTo(1 - 0.01 * 2, 12);
  });
});

describe("re-entrant calls", () => {
  it("a getter on `values` that calls the model again does not change the outer call's result", () => {
    const m = compile("input t\ninput x: [2]\nparam w: [2] = ones\ny = x * w * t\noutput y\nminimize sum(y)", { dtype: "f64" });
    let inner: number[] = [];
    const values = {
      t: 10,
      get x() {
        inner = Array.from(m.forward({ t: 3, x: Float64Array.of(5, 5) }).y as Float64Array);
        return Float64Array.of(1, 2);
      },
    };
    expect(Array.from(m.forward(values).y as Float64Array)).toEqual([10, 20]);
    expect(inner).toEqual([15, 15]);
    // A step inside a getter runs to completion first; the outer call sees its update.
    const stepping = { t: 10, get x() { m.step({ t: 1, x: Float64Array.of(5, 5) }); return Float64Array.of(1, 2); } };
    expect(Array.from(m.forward(stepping).y as Float64Array)).toEqual([9.5, 19]);
    expect(Array.from(m.params.w!)).toEqual([0.95, 0.95]);
  });

  it("a getter that throws propagates its own exception, and the model still works", () => {
    const m = compile("input x: [2]\ny = x * 2\noutput y");
    const boom = new Error("from the user's getter");
    expect(() => m.forward({ get x(): Float32Array { throw boom; } })).toThrow(boom);
    expect(Array.from(m.forward({ x: f32(1, 2) }).y as Float32Array)).toEqual([2, 4]);
  });
});
