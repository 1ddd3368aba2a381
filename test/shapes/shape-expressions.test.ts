// Shape entries as integer expressions of sizes and dims: `reshape(x, [b * t, d])`,
// `[n // 2, 2]`, `[t + 1]`, one -1 for the rest with free dims, merging and splitting free
// dims; what only dim values can settle is checked by the compiled wrappers; `//` is also
// floor division of values.

import { describe, expect, it } from "vitest";
import { buildModel, check, compile } from "../../src/index";
import { lowerSource } from "../../src/lower";
import { printDefinitions } from "../../src/print";
import { rng } from "../helpers/random";
import { parse, printExpr } from "../../src/syntax";
import { errorOf, expectEmittedMatchesInterpreter, expectGradientsMatchDifferences, randomValues } from "./helpers";

describe("merging and splitting free dims", () => {
  const source = `dim b
input x: [b, 5, 5]
param w: [5, 3] = uniform(-1, 1)
y = reshape(x, [-1, 5])
back = reshape(tanh(y @ w), [b, 5, 3])
flat = reshape(back, [b * 15])
loss = sum(flat * flat) + sum(reshape(y, [b, 5, 5]) * x)
output y, back, flat
minimize loss`;

  it("gives symbolic shapes that print as gradc", () => {
    expect(check(source).outputs.map((o) => o.shape)).toEqual([["b * 5", 5], ["b", 5, 3], ["b * 15"]]);
  });

  for (const b of [2, 3, 1]) {
    it(`runs, matches the interpreter and differentiates with b = ${b}`, () => {
      const values = randomValues(source, { b }, b);
      const model = expectEmittedMatchesInterpreter(source, values, { b });
      expect((model.forward(values).flat as Float64Array).length).toBe(15 * b);
      expectGradientsMatchDifferences(model, values);
    });
  }
});

describe("floor division, sums and differences of dims", () => {
  const source = `dim n
input z: [n]
param s = uniform(-1, 1)
pairs = reshape(z, [n // 2, 2])
again = reshape(z, [-1, 2])
longer = broadcast_to(s, [n + 1, 2])
loss = sum(pairs * again) + sum(longer) * s
output pairs, longer
minimize loss`;

  it("folds when the dims are bound", () => {
    expect(check(source, { sizes: { n: 6 } }).outputs.map((o) => o.shape)).toEqual([[3, 2], [7, 2]]);
    const odd = errorOf(() => check(source, { sizes: { n: 7 } }));
    expect(odd.message).toBe("cannot reshape [7] to [3, 2]: the sizes differ");
    expect([odd.line, odd.column]).toEqual([4, 9]);
  });

  it("keeps symbolic dims when free, and checks them at run time", () => {
    expect(check(source).outputs.map((o) => o.shape)).toEqual([["n // 2", 2], ["n + 1", 2]]);
    const values = randomValues(source, { n: 6 });
    const model = expectEmittedMatchesInterpreter(source, values, { n: 6 });
    expect((model.forward(values).longer as Float64Array).length).toBe(14);
    expectGradientsMatchDifferences(model, values);
    const bad = errorOf(() => model.forward({ ...values, z: new Float64Array(7) }));
    expect(bad.code).toBe("E0410");
    expect(bad.message).toBe("<input>:4:9: cannot reshape [n] to [n // 2, 2]: the sizes differ, with n = 7 (from the length of `z`)");
    // the model still works after the error
    expect((model.forward(values).pairs as Float64Array).length).toBe(6);
  });

  it("a size that subtracts must not be negative", () => {
    const model = compile("dim t\ninput x: [t]\ny = broadcast_to(1, [t - 2])\noutput x, y", { dtype: "f64" });
    expect(model.meta.outputs[1]!.shape).toEqual(["t - 2"]);
    expect((model.forward({ x: new Float64Array(5) }).y as Float64Array).length).toBe(3);
    const bad = errorOf(() => model.forward({ x: new Float64Array(1) }));
    expect(bad.message).toBe("<input>:3:5: the size t - 2 is negative, with t = 1 (from the length of `x`)");
  });

  it("a dim name stands where an integer is expected, bound or free", () => {
    const bound = check("dim t\ninput x: [t, 3]\ny = reshape(x, [t * 3])\noutput y", { sizes: { t: 4 } });
    expect(bound.outputs[0]!.shape).toEqual([12]);
    const free = check("dim t\ninput x: [t, 3]\ny = reshape(x, [t * 3])\noutput y");
    expect(free.outputs[0]!.shape).toEqual(["t * 3"]);
  });
});

describe("shape expression mistakes are located", () => {
  const cases: [string, string, string, number][] = [
    ["y = reshape(x, [n / 2, 2])", "E0224", "bad shape expression: sizes are integers: use `//` for floor division", 19],
    ["y = reshape(x, [n // 0, 2])", "E0224", "bad shape expression: cannot floor-divide a size by 0", 22],
    ["y = reshape(x, [x, 2])", "E0215", "bad size: `x` is not a dim", 17],
    ["y = reshape(x, [2.5 * n])", "E0224", "bad shape expression: `2.5` is not an integer", 17],
    ["y = reshape(x, [-1, -1])", "E0206", "reshape allows at most one -1", 21],
    ["y = broadcast_to(x, [-2, n])", "E0215", "bad size: a shape entry cannot be negative, found -2", 22],
    ["y = reshape(x, [n ^ 2])", "E0224", "bad shape expression: `^` is not allowed in a size; use `+`, `-`, `*` and `//`", 19],
    ["y = reshape(x, [sum(x)])", "E0224", "bad shape expression: a size must be an integer expression of numbers and dim names", 17],
    ["y = reshape(x, [n // (n - 1)])", "E0224", "bad shape expression: a divisor must be a number or a product of dims", 22],
  ];
  for (const [line, code, message, column] of cases) {
    it(line, () => {
      const e = errorOf(() => check(`dim n\ninput x: [n]\n${line}\noutput y`));
      expect([e.code, e.message, e.line, e.column]).toEqual([code, message, 3, column]);
    });
  }
});

describe("// (floor division)", () => {
  it("binds like * and round-trips through the printer", () => {
    const program = parse({ file: "t.grad", text: "y = a + b // c * d\n" });
    const def = program.statements[0]!;
    expect(def.kind === "def" && printExpr(def.value)).toBe("a + b // c * d");
    const tree = def.kind === "def" ? def.value : undefined;
    expect(tree?.kind === "binary" && tree.op).toBe("+");
    expect(tree?.kind === "binary" && tree.right.kind === "binary" && tree.right.op).toBe("*");
  });

  it("floor-divides values elementwise, as Python, with a zero gradient", () => {
    const model = compile("input x: [4]\nparam w: [4] = uniform(1, 2)\ny = x // 2\nloss = sum((w // 0.5) * x)\noutput y\nminimize loss", { dtype: "f64" });
    expect(Array.from(model.forward({ x: Float64Array.of(-3.5, 7, 2, -0.5) }).y as Float64Array)).toEqual([-2, 3, 1, -1]);
    const { grads } = model.valueAndGrad({ x: Float64Array.of(1, 2, 3, 4) });
    expect(Array.from(grads.w!)).toEqual([0, 0, 0, 0]);
  });

  it("lowers to floor of a division", () => {
    const program = lowerSource("input x: [2]\ny = x // 3\noutput y");
    expect(program.outputs[0]!.node.op.name).toBe("floor");
  });
});

describe("printed gradients with symbolic dims are programs", () => {
  it("gradc grad's text compiles and computes valueAndGrad's gradients", () => {
    const decls = `dim b
input x: [b, 5, 5]
input z: [b, 6]
param w: [5, 3] = uniform(-1, 1)
param u: [3] = uniform(-1, 1)
`;
    const source = `${decls}y = reshape(x, [-1, 5])
back = reshape(tanh(y @ w), [b, 5, 3])
q = einsum("bij,j->bi", back, u)
loss = sum(back * back) + sum(q) + mean(reshape(z, [b * 3, 2])) * sum(u)
minimize loss`;
    const program = lowerSource(source);
    const ir = buildModel(program);
    const printed = printDefinitions(program.params.map((p, i) => ({ name: `d_${p.name}`, node: ir.grads![i]! })));
    expect(printed).toContain("reshape(x, [b * 5, 5])");
    const again = compile(`${decls}${printed}output d_w, d_u\n`, { dtype: "f64" });
    const model = compile(source, { dtype: "f64" });
    const values = randomValues(source, { b: 3 });
    const { grads } = model.valueAndGrad(values);
    const fwd = again.forward(values);
    for (const name of ["w", "u"]) {
      const want = Array.from(grads[name]!);
      Array.from(fwd[`d_${name}`] as Float64Array).forEach((g, i) => expect(g).toBeCloseTo(want[i]!, 12));
    }
  });
});

describe("declared shapes", () => {
  it("may combine bound dims", () => {
    const source = "dim d, h\ninput x: [2, d]\nparam w: [d, h * 4] = uniform(-1, 1)\ny = x @ w\noutput y";
    expect(check(source, { sizes: { d: 3, h: 2 } }).outputs[0]!.shape).toEqual([2, 8]);
    expect(check("input x: [2 * 3, 4 // 2]\noutput x").outputs[0]!.shape).toEqual([6, 2]);
  });

  it("a free dim must stand alone (the wrappers read it from a length)", () => {
    const e = errorOf(() => check("dim n\ninput x: [n * 2]\noutput x"));
    expect([e.code, e.message, e.line, e.column]).toEqual(["E0224", "bad shape expression: a declared shape may combine dims only when they are bound (with `sizes`); `n * 2` has a free dim", 2, 11]);
    const negative = errorOf(() => check("input x: [2 - 3]\noutput x"));
    expect(negative.message).toBe("bad size: a shape entry cannot be negative, found -1");
  });
});

describe("shape expression robustness", () => {
  it("random reshape targets compile and keep every element, or give a GradcError (at compile or call time)", () => {
    const r = rng(1205);
    const atom = () => ["n", "2", "3", "6", "1", "(n + 1)", "(n - 1)"][Math.floor(r() * 7)]!;
    const expr = (depth: number): string =>
      depth === 0 || r() < 0.4 ? atom() : `${expr(depth - 1)} ${["+", "-", "*", "//", "/"][Math.floor(r() * 5)]} ${expr(depth - 1)}`;
    let ran = 0;
    for (let run = 0; run < 300; run++) {
      const entries = Array.from({ length: 1 + Math.floor(r() * 3) }, () => (r() < 0.2 ? "-1" : expr(2)));
      const source = `dim n\ninput x: [n, 6]\ny = reshape(x, [${entries.join(", ")}])\noutput y\n`;
      let model;
      try {
        model = compile(source, { dtype: "f64" });
      } catch (e) {
        expect((e as Error).name, `${entries}: ${String(e)}`).toBe("GradcError");
        expect((e as { line: number }).line).toBe(3);
        continue;
      }
      for (const n of [1, 2, 4]) {
        const x = Float64Array.from({ length: 6 * n }, (_, i) => i);
        try {
          const y = model.forward({ x }).y as Float64Array;
          expect(Array.from(y), `${entries} at n = ${n}`).toEqual(Array.from(x));
          ran++;
        } catch (e) {
          expect((e as Error).name, `${entries} at n = ${n}: ${String(e)}`).toBe("GradcError");
          expect((e as { code: string }).code).toBe("E0410");
        }
      }
    }
    expect(ran).toBeGreaterThan(10);
  });
});

describe("a bound dim stands where a built-in needs a constant integer", () => {
  it("one_hot's class count, a reduction axis, a pooling size", () => {
    const source = "dim k, n\ninput y: [n]\nh = one_hot(y, k)\ns = sum(h, axis = k - 3)\nm = maxpool2d(reshape(h, [1, 1, n, k]), size = k // 2)\noutput h, s, m";
    const meta = check(source, { sizes: { k: 4, n: 6 } });
    expect(meta.outputs.map((o) => o.shape)).toEqual([[6, 4], [6], [1, 1, 3, 2]]);
    const model = compile(source, { sizes: { k: 4, n: 6 }, dtype: "f64" });
    const h = model.forward({ y: Float64Array.of(0, 1, 2, 3, 2, 1) }).h as Float64Array;
    expect(Array.from(h.slice(0, 8))).toEqual([1, 0, 0, 0, 0, 1, 0, 0]);
  });

  it("a free dim there is still an error, at the argument", () => {
    const e = errorOf(() => check("dim k\ninput y: [3]\ninput z: [k]\nh = one_hot(y, k)\noutput h, z"));
    expect([e.code, e.line, e.column]).toEqual(["E0216", 4, 16]);
  });
});
