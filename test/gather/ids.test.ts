// Run-time id checks: a non-integer, negative, NaN or too-large id (take, embedding,
// one_hot labels) is a GradcError naming the input and the position (flat index and
// multi-index), in f32 and f64, from forward, valueAndGrad and step, in the library and
// in an ES module as `gradc compile` writes it; computed ids name their source line. The
// check is one pass per ids input per call, emitted once per API function.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { compile, compileToSource, GradcError, type CompiledModel } from "../../src/index";

const embed = `input ids: [2, 3]\nparam E: [5, 2]\nh = take(E, ids)\noutput h\nminimize sum(h * h)`;

function thrown(f: () => unknown): { name: string; code: string; message: string } {
  try { f(); } catch (e) { return e as { name: string; code: string; message: string }; }
  throw new Error("expected an error");
}

const arrays = { f32: Float32Array, f64: Float64Array } as const;

describe("ids given as an input", () => {
  for (const dtype of ["f32", "f64"] as const) {
    const Arr = arrays[dtype];
    // compiled by the first test that runs, not while the file is collected (docs/mutation.md)
    let compiled: CompiledModel | undefined;
    const model = () => (compiled ??= compile(embed, { dtype, filename: "embed.grad" }));
    const bad: [string, number[], string][] = [
      ["too large", [0, 1, 2, 3, 5, 4], "`ids` holds 5 at index [1, 1] (flat index 4), but an id must be an integer in [0, 5)"],
      ["negative", [0, -1, 2, 3, 4, 4], "`ids` holds -1 at index [0, 1] (flat index 1), but an id must be an integer in [0, 5)"],
      ["not an integer", [0, 1, 2, 3, 4, 2.5], "`ids` holds 2.5 at index [1, 2] (flat index 5), but an id must be an integer in [0, 5)"],
      ["NaN", [NaN, 1, 2, 3, 4, 4], "`ids` holds NaN at index [0, 0] (flat index 0), but an id must be an integer in [0, 5)"],
    ];
    for (const [what, ids, message] of bad) {
      it(`${dtype}: an id that is ${what} fails forward, valueAndGrad and step, naming the input and position`, () => {
        const m = model();
        for (const call of [() => m.forward({ ids: Arr.from(ids) }), () => m.valueAndGrad({ ids: Arr.from(ids) }), () => m.step({ ids: Arr.from(ids) })]) {
          const e = thrown(call);
          expect(e).toBeInstanceOf(GradcError);
          expect(e.code).toBe("E0420");
          expect(e.message).toBe(message);
        }
      });
    }
    it(`${dtype}: valid ids, the largest included, pass; a failed call leaves the params untouched`, () => {
      const m = model();
      const before = Float64Array.from(m.params.E!);
      thrown(() => m.step({ ids: Arr.from([0, 1, 2, 3, 4, 7]) }));
      expect([...m.params.E!]).toEqual([...before]);
      const h = m.forward({ ids: Arr.from([4, 4, 0, 1, 2, 3]) }).h as Float32Array | Float64Array;
      expect(h[0]).toBe(m.params.E![8]);
    });
  }

  it("one_hot labels out of range are an error, not a silent zero row", () => {
    const m = compile(`input labels: [4]\ninput logits: [4, 3]\nminimize cross_entropy(logits, one_hot(labels, 3))`, { filename: "ce.grad" });
    const logits = new Float32Array(12);
    expect(m.forward({ labels: Float32Array.from([0, 2, 1, 2]), logits }).objective ?? 0).toBeCloseTo(Math.log(3), 5);
    const e = thrown(() => m.valueAndGrad({ labels: Float32Array.from([0, 3, 1, 2]), logits }));
    expect(e.code).toBe("E0420");
    expect(e.message).toBe("`labels` holds 3 at index [1] (flat index 1), but an id must be an integer in [0, 3)");
    expect(thrown(() => m.forward({ labels: Float32Array.from([0, 0.5, 1, 2]), logits })).message).toMatch(/`labels` holds 0.5 at index \[1\]/);
  });

  it("checks against a free dim's run-time size", () => {
    const m = compile(`dim n\ninput x: [n, 2]\ninput ids: [3]\ny = take(x, ids)\noutput y`, { dtype: "f64" });
    const x = Float64Array.from([1, 2, 3, 4, 5, 6]);
    expect([...(m.forward({ x, ids: Float64Array.from([2, 0, 2]) }).y as Float64Array)]).toEqual([5, 6, 1, 2, 5, 6]);
    expect(thrown(() => m.forward({ x, ids: Float64Array.from([2, 3, 0]) })).message)
      .toBe("`ids` holds 3 at index [1] (flat index 1), but an id must be an integer in [0, 3)");
    expect(m.forward({ x: Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8]), ids: Float64Array.from([2, 3, 0]) }).y).toBeDefined();
  });

  it("a scalar ids input is checked too", () => {
    const m = compile(`input i\nparam E: [3, 2]\ny = take(E, i)\noutput y\nminimize sum(y)`);
    expect(m.forward({ i: 2 }).y).toBeDefined();
    expect(thrown(() => m.step({ i: 3 })).message).toBe("`i` holds 3 at index [] (flat index 0), but an id must be an integer in [0, 3)");
  });

  it("emits one check per ids input in each API function, a single pass over the ids", () => {
    const source = compile(`input ids: [8]\nparam E: [5, 2]\nparam F: [5, 2]\nh = take(E, ids) + take(F, ids) + one_hot(ids, 5) @ E\nminimize sum(h * h)`).source;
    // forward, valueAndGrad and step: three checks of `ids` against 5, none repeated
    expect(source.match(/checkIds\(in_ids, 8, 5\)/g)?.length).toBe(3);
    expect(source.match(/function checkIds\(/g)?.length).toBe(1);
    expect(compile(`param x: [3]\nminimize sum(x * x)`).source).not.toMatch(/checkIds/);
  });
});

describe("computed ids", () => {
  const src = [
    "input ids: [4]",
    "param E: [6, 2]",
    "shifted = ids + 2",
    "h = take(E, shifted)",
    "minimize sum(h * h)",
  ].join("\n");

  it("are checked at the kernel that computes them, naming the source line", () => {
    for (const dtype of ["f32", "f64"] as const) {
      const m = compile(src, { dtype, filename: "shift.grad" });
      expect(m.valueAndGrad({ ids: arrays[dtype].from([0, 3, 1, 2]) }).value).toBeGreaterThan(0);
      const e = thrown(() => m.valueAndGrad({ ids: arrays[dtype].from([0, 3, 4, 2]) }));
      expect(e.code).toBe("E0421");
      expect(e.message).toBe("the ids computed at shift.grad:3: shifted = ids + 2 hold 6 at index [2] (flat index 2), but an id must be an integer in [0, 6)");
    }
  });

  it("are checked in large models (kernel functions) and for scalar ids", () => {
    const big = `input ids: [64]\nparam E: [100, 32]\nrows = take(E, ids * 2)\nminimize sum(rows * rows)`;
    const m = compile(big, { filename: "big.grad" });
    const ids = Float32Array.from({ length: 64 }, (_, i) => i % 50);
    expect(m.step({ ids })).toBeGreaterThan(0);
    ids[63] = 50;
    expect(thrown(() => m.step({ ids })).message).toMatch(/^the ids computed at big.grad:3: rows = take\(E, ids \* 2\) hold 100 at index \[63\] \(flat index 63\)/);
    const scalar = compile(`input x: [3]\nparam E: [4, 2]\nh = take(E, sum(x))\nminimize sum(h)`, { filename: "s.grad" });
    expect(scalar.valueAndGrad({ x: Float32Array.from([1, 1, 1]) }).value).toBeDefined();
    expect(thrown(() => scalar.valueAndGrad({ x: Float32Array.from([1, 2, 1]) })).message)
      .toBe("the ids computed at s.grad:3: h = take(E, sum(x)) hold 4 at index [] (flat index 0), but an id must be an integer in [0, 4)");
  });
});

describe("the ES module gradc compile writes", () => {
  it("checks ids and throws its own GradcError with the same message", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gradc-ids-"));
    const file = join(dir, "embed.mjs");
    writeFileSync(file, compileToSource(embed, { filename: "embed.grad", format: "esm" }).text);
    const mod = await import(pathToFileURL(file).href);
    expect(mod.forward({ ids: Float32Array.from([0, 1, 2, 3, 4, 4]) }).h.length).toBe(12);
    const e = thrown(() => mod.valueAndGrad({ ids: Float32Array.from([0, 1, 2, 3, 4, 9]) }));
    expect(e.name).toBe("GradcError");
    expect(e.code).toBe("E0420");
    expect(e.message).toBe("`ids` holds 9 at index [1, 2] (flat index 5), but an id must be an integer in [0, 5)");
  });
});

describe("ids read inside a scan cell", () => {
  const model = (cell: string, scanned: string) =>
    `input ids: [5, 3]\ninput xs: [5, 3, 2]\ninput c: [3]\nparam E: [4, 2]\nfn cell(h, i, x) {\n${cell}\n}\nhs = scan(cell, [xs[0]], [ids, xs], out = 0)\nminimize sum(hs * hs)`.replace("[ids, xs]", scanned);
  const good = () => ({
    ids: Float32Array.from({ length: 15 }, (_, i) => i % 3),
    xs: Float32Array.from({ length: 30 }, (_, i) => (i % 7) / 7),
    c: Float32Array.of(0, 3, 1),
  });
  const cases = [
    { what: "a slice of the scanned ids", cell: "  [h * x + take(E, i)]", bad: { ids: 10 }, code: "E0421" },
    { what: "ids the cell computes", cell: "  j = i + 1\n  [h * x + take(E, j)]", bad: { ids: 10, value: 3 }, code: "E0421" },
    { what: "a captured ids input", cell: "  [h * x + take(E, c)]", bad: { c: 1 }, code: "E0420" },
  ];
  for (const { what, cell, bad, code } of cases) {
    it(`checks ${what} on every call, in forward, valueAndGrad and step`, () => {
      const m = compile(model(cell, "[ids, xs]"), { filename: "cell.grad" });
      const values = good();
      const before = m.valueAndGrad(values).value;
      expect(Number.isFinite(before)).toBe(true);
      const broken = good();
      const [name, at] = Object.entries(bad).find(([k]) => k !== "value")! as ["ids" | "c", number];
      broken[name][at] = bad.value ?? 4;
      for (const f of ["forward", "valueAndGrad", "step"] as const) {
        const e = thrown(() => m[f](broken));
        expect(e.code).toBe(code);
        expect(e.message).toMatch(/hold?s? 4 at index \[1\] \(flat index 1\), but an id must be an integer in \[0, 4\)$/);
      }
      // The failed step changed nothing.
      expect(m.valueAndGrad(values).value).toBe(before);
    });
  }
});
