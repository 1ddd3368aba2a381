// Constants: arange (NumPy lengths, negative and fractional steps), zeros, ones, full,
// eye, tensor literals, tril and triu, against hand-computed NumPy values; free and bound
// dims as sizes; gradients (full's value, the tril/triu mask on the cotangent, second
// derivatives), emitted code against the interpreter, printed gradients that compile,
// index patterns computed in the kernel rather than stored, and located errors.

import { describe, expect, it } from "vitest";
import { buildModel, compile, gradcheck, GradcError } from "../../src/index";
import { lowerSource } from "../../src/lower";
import { printDefinitions } from "../../src/print";
import { expectMatchesInterpreter, outputs, randomValues } from "../builtins/helpers";

const vec = (xs: number[]) => Float64Array.from(xs);
const out = (expr: string, pre = "") => outputs(`${pre}y = ${expr}\noutput y`).y;

function errorOf(f: () => unknown): GradcError {
  try { f(); } catch (e) { if (e instanceof GradcError) return e; throw e; }
  throw new Error("expected a GradcError");
}

describe("arange", () => {
  const cases: [string, number[]][] = [
    ["arange(5)", [0, 1, 2, 3, 4]],
    ["arange(2, 5)", [2, 3, 4]],
    ["arange(0, 10, 3)", [0, 3, 6, 9]], // ceil(10 / 3) = 4
    ["arange(0, 1, 0.25)", [0, 0.25, 0.5, 0.75]],
    ["arange(-1.5, 1)", [-1.5, -0.5, 0.5]],
    ["arange(5, 0, -2)", [5, 3, 1]],
    ["arange(1, -2, -1)", [1, 0, -1]],
    ["arange(stop = 3)", [0, 1, 2]],
    ["arange(start = 1, stop = 6, step = 2)", [1, 3, 5]],
    ["arange(1, 6, step = 2) * 2", [2, 6, 10]],
  ];
  for (const [expr, want] of cases) it(`${expr} is np.${expr.replace(/ = /g, "=")}`, () => expect(out(expr)).toEqual(want));

  it("is empty when the range is (np.arange(3, 3), np.arange(1, 0))", () => {
    expect(compile(`y = arange(3, 3)\noutput y`).meta.outputs[0]!.shape).toEqual([0]);
    expect(compile(`y = arange(1, 0)\noutput y`).meta.outputs[0]!.shape).toEqual([0]);
  });

  it("takes a free dim (sized at call time) or a bound one", () => {
    const src = `dim t\ninput x: [t]\ny = x + arange(t)\noutput y`;
    const m = compile(src, { dtype: "f64" });
    expect([...(m.forward({ x: vec([10, 10, 10]) }).y as Float64Array)]).toEqual([10, 11, 12]);
    expect([...(m.forward({ x: vec([0, 0, 0, 0, 0]) }).y as Float64Array)]).toEqual([0, 1, 2, 3, 4]);
    expect(compile(src, { sizes: { t: 4 } }).meta.outputs[0]!.shape).toEqual([4]);
  });

  it("is computed in the kernel that reads it, not stored", () => {
    const source = compile(`input x: [100]\ny = x * arange(100) + arange(1, 201, 2)\noutput y`).source;
    // the output's buffer only, in forward (and likewise in predict)
    expect(source.match(/forward_b\d+ = new F\(100\)/g)?.length).toBe(1);
    expect(source.match(/predict_b\d+ = new F\(100\)/g)?.length).toBe(1);
  });

  const errors: [string, RegExp][] = [
    ["arange(0, 5, 0)", /arange: `step` must not be 0/],
    ["arange()", /`arange` is missing its argument `stop`/],
    ["arange(0, n, 2)", /arange: with a dim as `stop`, `start` must be 0 and `step` 1/],
    ["arange(x, 3)", /`arange`: `start` must be a constant number, found an expression/],
  ];
  for (const [expr, message] of errors) {
    it(`reports ${expr} at its line`, () => {
      const e = errorOf(() => compile(`dim n\ninput x\ny = ${expr}\noutput y`, { filename: "a.grad" }));
      expect(e.message).toMatch(message);
      expect([e.file, e.line]).toEqual(["a.grad", 3]);
      expect(e.rendered).toContain("^");
    });
  }
});

describe("zeros, ones, full, eye", () => {
  it("give NumPy's values and shapes", () => {
    expect(out("zeros([2, 3])")).toEqual([0, 0, 0, 0, 0, 0]);
    expect(out("ones([3])")).toEqual([1, 1, 1]);
    expect(out("full([2, 2], -2.5)")).toEqual([-2.5, -2.5, -2.5, -2.5]);
    expect(out("eye(3)")).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(out("eye(2, 3)")).toEqual([1, 0, 0, 0, 1, 0]);
    expect(out("eye(3, 2)")).toEqual([1, 0, 0, 1, 0, 0]);
    expect(compile(`y = zeros([0, 2])\noutput y`).meta.outputs[0]!.shape).toEqual([0, 2]);
  });

  it("take dims as sizes, free or bound", () => {
    const src = `dim t\ninput x: [t]\ny = full([t, t], 0) + eye(t) * x\nz = ones([2, t]) + zeros([t])\noutput y, z`;
    const r = compile(src, { dtype: "f64" }).forward({ x: vec([1, 2]) });
    expect([...(r.y as Float64Array)]).toEqual([1, 0, 0, 2]);
    expect([...(r.z as Float64Array)]).toEqual([1, 1, 1, 1]);
    expect(compile(src, { sizes: { t: 3 } }).meta.outputs.map((o) => o.shape)).toEqual([[3, 3], [2, 3]]);
  });

  it("full's value may be any scalar expression, and gets the sum of the cotangent", () => {
    const m = compile(`param s\ninput c: [2, 3]\nminimize sum(full([2, 3], s * s) * c)`, { dtype: "f64" });
    const { grads } = m.valueAndGrad({ s: vec([1.5]), c: vec([1, 2, 3, 4, 5, 6]) });
    expect(grads.s![0]).toBe(2 * 1.5 * 21);
  });

  it("report bad arguments at their line", () => {
    const bad: [string, RegExp][] = [
      ["eye(2.5)", /`eye`: `n` must be an integer or a dim name/],
      ["zeros(3)", /argument `shape` must be a list/],
      ["full([2], x)", /the value of `full` must be a scalar, but this is \[3\]/],
      ["ones([2, -1])", /bad size/],
    ];
    for (const [expr, message] of bad) {
      const e = errorOf(() => compile(`input x: [3]\ny = ${expr}\noutput y`, { filename: "z.grad" }));
      expect(e.message, expr).toMatch(message);
      expect(e.line, expr).toBe(2);
    }
  });
});

describe("iota", () => {
  it("is the index along an axis (np.indices(shape)[axis]), dims allowed, and prints as itself", () => {
    expect(out("iota([2, 3], 1)")).toEqual([0, 1, 2, 0, 1, 2]);
    expect(out("iota(shape = [2, 3], axis = 0)")).toEqual([0, 0, 0, 1, 1, 1]);
    expect(out("iota([2, 2], -1) * 10")).toEqual([0, 10, 0, 10]);
    const m = compile(`dim t\ninput x: [t]\ny = x + iota([t], 0)\noutput y`, { dtype: "f64" });
    expect([...(m.forward({ x: vec([5, 5, 5]) }).y as Float64Array)]).toEqual([5, 6, 7]);
    const program = lowerSource(`input x: [2, 3]\ny = x * iota([2, 3], 1)\noutput y`, { filename: "i.grad" });
    expect(printDefinitions([{ name: "y", node: program.outputs[0]!.node }])).toBe("y = x * iota(shape = [2, 3], axis = 1)\n");
    expect(errorOf(() => compile(`y = iota([2, 3], 2)\noutput y`)).message).toMatch(/axis 2 is out of range for a tensor of rank 2/);
  });
});

describe("tensor literals", () => {
  it("hold their values in row-major order with the nesting as shape", () => {
    const m = compile(`y = tensor([[1, 2, 3], [4, 5, -6.5]])\nz = tensor([[[1], [2]]])\ns = tensor(3)\noutput y, z, s`, { dtype: "f64" });
    expect(m.meta.outputs.map((o) => o.shape)).toEqual([[2, 3], [1, 2, 1], []]);
    const r = m.forward({});
    expect([...(r.y as Float64Array)]).toEqual([1, 2, 3, 4, 5, -6.5]);
    expect([...(r.z as Float64Array)]).toEqual([1, 2]);
    expect(r.s).toBe(3);
  });

  it("combine with tensors and carry no gradient of their own", () => {
    const src = `param w: [2, 2]\ny = w @ tensor([[1, 2], [3, 4]])\noutput y\nminimize sum(y * y)`;
    expectMatchesInterpreter(src, randomValues(src, 7));
  });

  it("report ragged rows and non-numbers at the offending entry", () => {
    const e = errorOf(() => compile(`y = tensor([[1, 2], [3]])\noutput y`, { filename: "t.grad" }));
    expect(e.message).toBe("tensor: ragged literal: this entry has shape [1], but the first has [2]");
    expect([e.line, e.column]).toEqual([1, 21]);
    const deep = errorOf(() => compile(`y = tensor([1, [2]])\noutput y`, { filename: "t.grad" }));
    expect(deep.message).toMatch(/ragged literal: this entry has shape \[1\], but the first has \[\]/);
    const name = errorOf(() => compile(`input x\ny = tensor([x, 2])\noutput y`, { filename: "t.grad" }));
    expect(name.message).toMatch(/`tensor`: `values` must be a constant number/);
    expect([name.line, name.column]).toEqual([2, 13]);
  });
});

describe("tril and triu", () => {
  // x = arange(1, 13).reshape(3, 4)
  const x = "reshape(arange(1, 13), [3, 4])";
  const cases: [string, number[]][] = [
    [`tril(${x})`, [1, 0, 0, 0, 5, 6, 0, 0, 9, 10, 11, 0]],
    [`tril(${x}, k = 1)`, [1, 2, 0, 0, 5, 6, 7, 0, 9, 10, 11, 12]],
    [`tril(${x}, -1)`, [0, 0, 0, 0, 5, 0, 0, 0, 9, 10, 0, 0]],
    [`triu(${x})`, [1, 2, 3, 4, 0, 6, 7, 8, 0, 0, 11, 12]],
    [`triu(${x}, k = 2)`, [0, 0, 3, 4, 0, 0, 0, 8, 0, 0, 0, 0]],
    [`triu(${x}, -1)`, [1, 2, 3, 4, 5, 6, 7, 8, 0, 10, 11, 12]],
  ];
  for (const [expr, want] of cases) it(`${expr} is np.${expr.split("(")[0]}`, () => expect(out(expr)).toEqual(want));

  it("apply to the last two axes of a batch", () => {
    const y = out("tril(ones([2, 2, 2]))") as number[];
    expect(y).toEqual([1, 0, 1, 1, 1, 0, 1, 1]);
  });

  it("make a causal mask over a free dim", () => {
    // scores s = q q^T over t positions; a position attends to itself and earlier ones
    const m = compile(`dim t\ninput q: [t]\ns = reshape(q, [t, 1]) * q\nmasked = where(tril(ones([t, t])) > 0, s, -1e9)\noutput masked`, { dtype: "f64" });
    expect([...(m.forward({ q: vec([1, 2]) }).masked as Float64Array)]).toEqual([1, -1e9, 2, 4]);
    expect([...(m.forward({ q: vec([1, 2, 3]) }).masked as Float64Array)]).toEqual([1, -1e9, -1e9, 2, 4, -1e9, 3, 6, 9]);
  });

  it("mask the cotangent: d sum(tril(x) * c) / dx = tril(c)", () => {
    const m = compile(`param x: [3, 3]\ninput c: [3, 3]\nminimize sum(triu(x, 1) * c) + sum(tril(x) * c)`, { dtype: "f64" });
    const c = vec([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...m.valueAndGrad({ c, x: new Float64Array(9) }).grads.x!]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const lower = compile(`param x: [3, 3]\ninput c: [3, 3]\nminimize sum(tril(x, -1) * c)`, { dtype: "f64" });
    expect([...lower.valueAndGrad({ c, x: new Float64Array(9) }).grads.x!]).toEqual([0, 0, 0, 4, 0, 0, 7, 8, 0]);
  });

  it("need at least two axes", () => {
    const e = errorOf(() => compile(`input v: [3]\ny = tril(v)\noutput y`, { filename: "m.grad" }));
    expect(e.message).toBe("tril: the input must have at least 2 axes, but this is [3]");
    expect(e.line).toBe(2);
  });

  it("are masks computed in the kernel: one buffer for tril(x) of [50, 50]", () => {
    const source = compile(`input x: [50, 50]\ny = tril(x) + triu(x, 3)\noutput y`).source;
    expect(source.match(/forward_b\d+ = new F\(2500\)/g)?.length).toBe(1);
    expect(source.match(/predict_b\d+ = new F\(2500\)/g)?.length).toBe(1);
  });
});

describe("gradients through constants", () => {
  it("gradcheck, first and second order (grad of grad)", () => {
    const models = [
      `param x: [3, 4]\nparam s\nminimize sum(tanh(tril(x, 1) + triu(x * x, -1)) ^ 2) + sum(full([3, 4], s) * x) + sum(eye(3, 4) * x * s)`,
      `param x: [3, 3]\ng = grad(sum(tril(x) ^ 3) + sum(triu(x, 1) * x * x), x)\nminimize sum(g * g)`,
      `param E: [5, 2]\ng = grad(sum(sin(take(E, tensor([4, 1, 4]))) ^ 3), E)\nminimize sum(g * g * arange(2))`,
      `param w: [4]\ng = grad(sum(one_hot(tensor([3, 0, 3]), 4) * w ^ 3), w)\nminimize sum(g * g)`,
    ];
    for (const src of models) {
      const r = gradcheck(src);
      expect(r.ok, `${src}: ${JSON.stringify(r.params)}`).toBe(true);
    }
  });

  it("emitted code matches the interpreter on a model using every constant", () => {
    const src = [
      "dim t",
      "input v: [t]",
      "param w: [3]",
      "param b",
      "x = reshape(v, [t, 1]) * v + reshape(arange(t), [t, 1]) - arange(t)",
      "m = tril(x) + triu(x * b, 1) * eye(t) + full([t, t], b) + tril(x, -1) * triu(x, 1)",
      "h = sum(m, axis = 1, keepdims = true) * w",
      "y = h * arange(3) + tensor([1, -2, 0.5]) + ones([t, 3]) - zeros([3])",
      "output y",
      "minimize sum(y * y)",
    ].join("\n");
    for (const t of [2, 4]) expectMatchesInterpreter(src, randomValues(src, t, { t }), { t });
  });

  it("printed gradients through tril, eye and arange compile and agree with valueAndGrad", () => {
    const src = `param x: [3, 3]\ninput c: [3, 3]\nminimize sum(tril(x * x, -1) * c * arange(3)) + sum(eye(3) * x)`;
    const program = lowerSource(src, { filename: "m.grad" });
    const text = printDefinitions([{ name: "d_x", node: buildModel(program).grads![0]! }]);
    expect(text).toMatch(/arange\(/);
    const values = { x: vec([1, 2, 3, 4, 5, 6, 7, 8, 9]), c: vec([9, 8, 7, 6, 5, 4, 3, 2, 1]) };
    const printed = [...(compile(`param x: [3, 3]\ninput c: [3, 3]\n${text}output d_x\n`, { dtype: "f64" }).forward(values).d_x as Float64Array)];
    const direct = [...compile(src, { dtype: "f64" }).valueAndGrad(values).grads.x!];
    expect(printed).toEqual(direct);
  });
});
