// einsum: NumPy subscripts (explicit and implicit output, `...`, diagonals, summed
// labels) lowered to transposes, reshapes, matmul and sums. Values against a naive
// reference einsum, emitted code against the interpreter, gradients against central
// differences, and every mistake in the subscripts located in the string.

import { describe, expect, it } from "vitest";
import { check, compile } from "../../src/index";
import { lowerSource } from "../../src/lower";
import { topoSort } from "../../src/ir";
import { rng } from "../helpers/random";
import { referenceEinsum } from "./einsum-reference";
import { errorOf, expectEmittedMatchesInterpreter, expectGradientsMatchDifferences, randomValues } from "./helpers";

interface Form {
  name: string;
  spec: string;
  shapes: number[][];
  /** The same contraction without `...`, for the reference. */
  explicit?: string;
}

const forms: Form[] = [
  { name: "matmul", spec: "ij,jk->ik", shapes: [[3, 4], [4, 5]] },
  { name: "batched matmul", spec: "bij,bjk->bik", shapes: [[2, 3, 4], [2, 4, 5]] },
  { name: "attention scores", spec: "bhqd,bhkd->bhqk", shapes: [[2, 2, 3, 4], [2, 2, 5, 4]] },
  { name: "attention weighted sum", spec: "bhqk,bhkd->bhqd", shapes: [[2, 2, 3, 5], [2, 2, 5, 4]] },
  { name: "outer", spec: "i,j->ij", shapes: [[3], [4]] },
  { name: "batched outer", spec: "bi,bj->bij", shapes: [[2, 3], [2, 4]] },
  { name: "trace", spec: "ii->", shapes: [[4, 4]] },
  { name: "diagonal", spec: "ii->i", shapes: [[4, 4]] },
  { name: "diagonal of a batch", spec: "bii->bi", shapes: [[2, 3, 3]] },
  { name: "diagonal with another axis", spec: "iij->ji", shapes: [[3, 3, 2]] },
  { name: "transpose", spec: "ij->ji", shapes: [[3, 4]] },
  { name: "permutation", spec: "abc->cab", shapes: [[2, 3, 4]] },
  { name: "sum", spec: "ij->", shapes: [[3, 4]] },
  { name: "row sums", spec: "ij->i", shapes: [[3, 4]] },
  { name: "elementwise product", spec: "ij,ij->ij", shapes: [[3, 4], [3, 4]] },
  { name: "dot", spec: "i,i->", shapes: [[5], [5]] },
  { name: "bilinear (3 operands)", spec: "i,ij,j->", shapes: [[3], [3, 4], [4]] },
  { name: "bilinear batch (3 operands)", spec: "bi,ij,bj->b", shapes: [[2, 3], [3, 4], [2, 4]] },
  { name: "chain of 3", spec: "ij,jk,kl->il", shapes: [[2, 3], [3, 4], [4, 2]] },
  { name: "matrix-vector chain (cheapest pair first)", spec: "ij,jk,k->i", shapes: [[2, 5], [5, 6], [6]] },
  { name: "implicit matmul", spec: "ij,jk", shapes: [[3, 4], [4, 5]] },
  { name: "implicit transpose", spec: "ba", shapes: [[3, 4]] },
  { name: "implicit trace", spec: "ii", shapes: [[3, 3]] },
  { name: "a label in three operands", spec: "i,i,i->", shapes: [[4], [4], [4]] },
  { name: "batch label in three operands", spec: "ij,ij,kj->j", shapes: [[2, 3], [2, 3], [4, 3]] },
  { name: "contraction over two labels", spec: "ijk,jkl->il", shapes: [[2, 3, 4], [3, 4, 2]] },
  { name: "ellipsis batch", spec: "...ij,...jk->...ik", shapes: [[2, 3, 4], [2, 4, 5]], explicit: "bij,bjk->bik" },
  { name: "ellipsis broadcast", spec: "...ij,jk->...ik", shapes: [[2, 2, 3, 4], [4, 5]], explicit: "abij,jk->abik" },
  { name: "ellipsis sum", spec: "i...->...", shapes: [[3, 2, 4]], explicit: "iab->ab" },
  { name: "implicit ellipsis", spec: "...ij", shapes: [[2, 3, 4]], explicit: "aij->aij" },
];

function sourceOf(f: Form, loss: boolean): string {
  const decls = f.shapes.map((s, i) => `param x${i}: [${s.join(", ")}] = uniform(-1, 1)`).join("\n");
  const call = `einsum("${f.spec}", ${f.shapes.map((_, i) => `x${i}`).join(", ")})`;
  return loss ? `${decls}\ny = ${call}\nloss = sum(sin(y) * y)\noutput y\nminimize loss\n` : `${decls}\ny = ${call}\noutput y\n`;
}

describe("einsum values", () => {
  for (const f of forms) {
    it(`${f.name}: ${f.spec}`, () => {
      const source = sourceOf(f, false);
      const values = randomValues(source);
      const model = expectEmittedMatchesInterpreter(source, values);
      const want = referenceEinsum(f.explicit ?? f.spec, f.shapes.map((shape, i) => ({ shape, data: values[`x${i}`]! })));
      expect(model.meta.outputs[0]!.shape).toEqual(want.shape);
      const got = model.forward(values).y!;
      const arr = typeof got === "number" ? [got] : Array.from(got);
      arr.forEach((g, i) => expect(Math.abs(g - want.data[i]!)).toBeLessThan(1e-12));
    });
  }
});

describe("einsum gradients", () => {
  for (const f of forms) {
    it(`${f.name}: ${f.spec}`, () => {
      const source = sourceOf(f, true);
      const values = randomValues(source, {}, 7);
      expectGradientsMatchDifferences(compile(source, { dtype: "f64" }), values);
    });
  }
});

describe("einsum lowering", () => {
  const opsOf = (source: string) => new Set(topoSort([lowerSource(source).outputs[0]!.node]).map((n) => n.op.name));

  it("contractions are one matmul, as `@` with a transpose would be", () => {
    const viaEinsum = lowerSource(`input q: [2, 2, 3, 4]\ninput k: [2, 2, 5, 4]\ny = einsum("bhqd,bhkd->bhqk", q, k)\noutput y`);
    const viaMatmul = lowerSource(`input q: [2, 2, 3, 4]\ninput k: [2, 2, 5, 4]\ny = q @ transpose(k, [0, 1, 3, 2])\noutput y`);
    const ops = (p: typeof viaEinsum) => topoSort([p.outputs[0]!.node]).map((n) => n.op.name);
    expect(ops(viaEinsum)).toEqual(ops(viaMatmul));
  });

  it("no contraction is a broadcast product; a summed label a sum", () => {
    expect(opsOf(`input a: [3]\ninput b: [4]\ny = einsum("i,j->ij", a, b)\noutput y`).has("matmul")).toBe(false);
    expect(opsOf(`input a: [3, 4]\ny = einsum("ij->i", a)\noutput y`).has("sum")).toBe(true);
  });

  it("contracts the cheapest pair first", () => {
    // (jk, k) first: a [50] vector, never the [2, 60] product of the first two operands
    const program = lowerSource(`input a: [2, 50]\ninput b: [50, 60]\ninput c: [60]\ny = einsum("ij,jk,k->i", a, b, c)\noutput y`);
    const shapes = topoSort([program.outputs[0]!.node]).map((n) => n.shape.join(","));
    expect(shapes).not.toContain("2,60");
    expect(shapes).toContain("50,1");
  });

  it("takes diagonals over free dims (masked, not sliced)", () => {
    const source = `dim n\ninput v: [n]\ninput x: [n, 2, n]\nparam w: [2] = uniform(-1, 1)\ny = einsum("iji->ij", x)\nt = einsum("iji->", x)\nloss = sum(y * w) + t * sum(w) + sum(v)\noutput y, t\nminimize loss`;
    expect(check(source).outputs.map((o) => o.shape)).toEqual([["n", 2], []]);
    const values = randomValues(source, { n: 3 });
    const model = expectEmittedMatchesInterpreter(source, values, { n: 3 });
    const want = referenceEinsum("iji->ij", [{ shape: [3, 2, 3], data: values.x! }]);
    expect(Array.from(model.forward(values).y as Float64Array)).toEqual(Array.from(want.data));
    expectGradientsMatchDifferences(model, values);
  });

  it("works with free dims", () => {
    const source = `dim t\ninput q: [t, 4]\ninput k: [t, 4]\ny = einsum("qd,kd->qk", q, k)\noutput y`;
    expect(check(source).outputs[0]!.shape).toEqual(["t", "t"]);
    const values = randomValues(source, { t: 3 });
    expectEmittedMatchesInterpreter(source, values, { t: 3 });
  });
});

describe("einsum mistakes are located in the string", () => {
  // column of the offending character: `y = einsum("` is 12 characters
  const cases: [string, string, string, number][] = [
    [`einsum("ij,jk->ik", a)`, "a", "einsum: the subscripts name 2 operands, but 1 was given", 12],
    [`einsum("ij,jk->ik", a, a)`, "a b", "einsum: label `j` is 4 in operand 1 but 3 in operand 2", 16],
    [`einsum("ijk->ik", a)`, "a", "einsum: operand 1 has shape [3, 4], rank 2, but its subscripts `ijk` name 3 axes", 13],
    [`einsum("ij->iz", a)`, "a", "einsum: output label `z` is not in any operand", 18],
    [`einsum("ij->ii", a)`, "a", "einsum: output label `i` appears twice", 18],
    [`einsum("i2->i", a)`, "a", "einsum: `2` is not a subscript: use letters, `,`, `->` and `...`", 14],
    [`einsum("i\u2028j->ij", a)`, "a", "einsum: U+2028 is not a subscript: use letters, `,`, `->` and `...`", 14],
    [`einsum("i.j->ij", a)`, "a", "einsum: `.` must be part of `...`", 14],
    [`einsum("ij->i->j", a)`, "a", "einsum: `->` may appear only once", 18],
    [`einsum("ij,jk->i,k", a, b)`, "a b", "einsum: the output after `->` is one list of labels, without commas", 20],
    [`einsum("...ij->ij", a)`, "a3", "einsum: the operands have `...` axes, so the output must place them with `...`", 20],
    [`einsum("ii->i", a)`, "a", "einsum: label `i` is 3 and 4 in the same operand", 14],
    [`einsum(a, a)`, "a", "einsum: the first argument must be the subscripts string, like \"ij,jk->ik\"", 12],
  ];
  for (const [call, inputs, message, column] of cases) {
    it(call, () => {
      const decls: Record<string, string> = { a: "input a: [3, 4]", b: "input b: [3, 4]", a3: "input a: [2, 3, 4]" };
      const source = `${inputs.split(" ").map((n) => decls[n]).join("\n")}\ny = ${call}\noutput y`;
      const e = errorOf(() => check(source));
      expect([e.message, e.column]).toEqual([message, column]);
      expect(e.line).toBe(inputs.split(" ").length + 1);
    });
  }

  it("a string elsewhere is not a tensor", () => {
    const e = errorOf(() => check(`input a: [3]\ny = a + "ij"\noutput y`));
    expect([e.code, e.column]).toEqual(["E0127", 9]);
  });

  it("an unterminated string is a syntax error at the string", () => {
    let errors: { code: string; message: string; span?: { start: number } }[] = [];
    try {
      check(`input a: [3]\ny = einsum("i->i, a)\noutput y`);
    } catch (e) {
      errors = (e as { errors: typeof errors }).errors;
    }
    const unterminated = errors.find((d) => d.code === "E0002");
    expect(unterminated?.message).toBe("expected `\"` to close the string, found end of line");
    expect(unterminated?.span?.start).toBe(24);
  });
});

describe("einsum robustness", () => {
  it("any subscripts string over any operands compiles or gives a located GradcError", () => {
    const r = rng(20261205);
    const alphabet = ["i", "j", "k", "i", "j", ",", "->", "...", ".", " ", "-", ">", "A"];
    let compiled = 0;
    for (let run = 0; run < 400; run++) {
      const count = 1 + Math.floor(r() * 3);
      const shapes = Array.from({ length: count }, () => Array.from({ length: Math.floor(r() * 4) }, () => 1 + Math.floor(r() * 3)));
      // Half the runs: noise; half: plausible subscripts (one label per axis, maybe `...`, an output).
      const pick = (s: string) => s[Math.floor(r() * s.length)]!;
      const spec = r() < 0.5
        ? Array.from({ length: Math.floor(r() * 9) }, () => alphabet[Math.floor(r() * alphabet.length)]).join("")
        : shapes.map((s) => (r() < 0.3 ? "..." : "") + s.map(() => pick("ijk")).join("")).join(",") + (r() < 0.6 ? `->${r() < 0.3 ? "..." : ""}${["", "i", "j", "ij", "ki"][Math.floor(r() * 5)]}` : "");
      const source = `${shapes.map((s, i) => `input x${i}: [${s.join(", ")}]`).join("\n")}\ny = einsum("${spec}", ${shapes.map((_, i) => `x${i}`).join(", ")})\noutput y\n`;
      try {
        const model = compile(source, { dtype: "f64" });
        const values = Object.fromEntries(shapes.map((s, i) => [`x${i}`, new Float64Array(s.reduce((a, b) => a * b, 1)).fill(1)]));
        model.forward(values);
        compiled++;
      } catch (e) {
        const err = e as { name?: string; line?: number; rendered?: string };
        expect(err.name, `${spec}: ${String(e)}`).toBe("GradcError");
        expect(err.line, spec).toBeGreaterThan(0);
        expect(err.rendered, spec).toContain("^");
      }
    }
    expect(compiled).toBeGreaterThan(20);
  });
});
