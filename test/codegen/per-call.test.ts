// What a call of a small model runs besides its arithmetic (docs/semantics.md, Codegen):
// input and param elements read once, scalar inputs read from their box by the run
// function, scalar results written into the result record, loop elements read once per
// iteration. The values must be exactly those of the plain emission.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile, GradcError } from "../../src/index";

const xorSource = readFileSync(new URL("../../examples/xor/xor.grad", import.meta.url), "utf8");
const x = Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]);
const y = Float32Array.from([0, 1, 1, 0]);

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(GradcError);
    return (e as GradcError).code;
  }
  throw new Error("expected a GradcError");
}

/** The text of one emitted function. */
function functionText(source: string, name: string): string {
  const start = source.indexOf(`function ${name}(`);
  expect(start).toBeGreaterThanOrEqual(0);
  return source.slice(start, source.indexOf("\n}\n", start));
}

describe("scalar inputs and params", () => {
  const m32 = compile("input t\ninput u\nb = t * 3 + u\noutput b");
  const m64 = compile("input t\ninput u\nb = t * 3 + u\noutput b", { dtype: "f64" });

  it("are rounded to the dtype, as numbers or as length-1 arrays", () => {
    const want = Math.fround(0.1) * 3 + Math.fround(0.7);
    expect(m32.forward({ t: 0.1, u: 0.7 }).b).toBe(want);
    expect(m32.forward({ t: Float32Array.of(0.1), u: 0.7 }).b).toBe(want);
    expect(m64.forward({ t: 0.1, u: Float64Array.of(0.7) }).b).toBe(0.1 * 3 + 0.7);
  });

  it("are read from their box by the run function, not passed as numbers", () => {
    const run = functionText(m32.source, "run_forward");
    expect(run).toMatch(/^function run_forward\(\) \{\n {2}const in_t = box_t\[0\], in_u = box_u\[0\];/);
  });

  it("keep their checks", () => {
    expect(codeOf(() => m32.forward({ t: 1 }))).toBe("E0401");
    expect(codeOf(() => m32.forward({ t: 1, u: Float32Array.of(1, 2) }))).toBe("E0404");
    expect(codeOf(() => m32.forward({ t: 1, u: Float64Array.of(1) }))).toBe("E0404");
    expect(codeOf(() => m32.forward({ t: 1, u: 2, v: 3 }))).toBe("E0402");
  });

  it("of a re-entrant call do not overwrite the outer call's", () => {
    let inner = NaN;
    const values = { t: 1, get u() { inner = m32.forward({ t: 5, u: 7 }).b as number; return 2; } };
    expect(m32.forward(values).b).toBe(5);
    expect(inner).toBe(22);
  });

  it("used as ids are checked as the dtype rounds them", () => {
    const m = compile("input i\ninput E: [3, 2]\nr = take(E, i)\noutput r");
    const E = Float32Array.from([1, 2, 3, 4, 5, 6]);
    expect(Array.from(m.forward({ i: 2, E }).r as Float32Array)).toEqual([5, 6]);
    expect(Array.from(m.forward({ i: Float32Array.of(1), E }).r as Float32Array)).toEqual([3, 4]);
    expect(codeOf(() => m.forward({ i: 3, E }))).toBe("E0420");
    expect(codeOf(() => m.forward({ i: 0.5, E }))).toBe("E0420");
  });

  it("a scalar param that step updates stays an array, updated in place", () => {
    const m = compile("param s = constant(2)\ninput t\nminimize (s * t - 1) ^ 2 with sgd(lr = 0.01)", { dtype: "f64" });
    expect(m.step({ t: 3 })).toBe(25);
    expect(m.params.s![0]).toBeCloseTo(2 - 0.01 * 2 * 5 * 3, 12);
    const own = Float64Array.of(1);
    expect(m.step({ t: 3, s: own })).toBe(4);
    expect(own[0]).toBeCloseTo(1 - 0.01 * 2 * 2 * 3, 12);
  });
});

describe("small models' run functions", () => {
  it("read each input and param element once", () => {
    const m = compile(xorSource);
    const run = functionText(m.source, "run_step");
    for (const [name, n] of [["in_x", 8], ["p_m1", 6], ["p_b1", 3]] as const) {
      for (let k = 0; k < n; k++) {
        // once into a local, and a param once more for its update
        const reads = run.split(`${name}[${k}]`).length - 1;
        expect(reads, `${name}[${k}]`).toBe(name === "in_x" ? 1 : 2);
      }
    }
  });

  it("step with a param given in values updates that array, as valueAndGrad says", () => {
    const m = compile(xorSource, { dtype: "f64" });
    const m1 = Float64Array.from(m.params.m1!, (v) => v + 0.25);
    const before = Float64Array.from(m1);
    const values = { x: Float64Array.from(x), y: Float64Array.from(y), m1 };
    const { value, grads } = m.valueAndGrad(values);
    const g = Float64Array.from(grads.m1!);
    const held = Float64Array.from(m.params.m1!);
    expect(m.step(values)).toBeCloseTo(value, 12);
    for (let i = 0; i < 6; i++) expect(m1[i]).toBeCloseTo(before[i]! - g[i]!, 12);
    expect(Array.from(m.params.m1!)).toEqual(Array.from(held));
  });

  it("write scalar results into the result record", () => {
    const m = compile("input a: [2]\nparam w: [2] = ones\nloss = sum(a * w)\nz = loss * 2\noutput z, loss\nminimize loss", { dtype: "f64" });
    const r = m.forward({ a: Float64Array.of(1, 2) });
    expect(r).toEqual({ z: 6, loss: 3 });
    expect(m.forward({ a: Float64Array.of(3, 4) })).toBe(r);
    expect(r.loss).toBe(7);
    expect(functionText(m.source, "forward")).not.toMatch(/forward_scratch/);
  });
});

describe("kernel loops", () => {
  it("read each element once per iteration, with free dims", () => {
    const source = "dim n\ninput a: [n]\ninput b: [n]\nc = a * b + sin(a) * b + a / (1 + b * b)\noutput c";
    const m = compile(source, { dtype: "f64" });
    const kernel = m.source.slice(m.source.indexOf("function kernel_"));
    expect(kernel).toMatch(/const a0_i = a0\[i\], a1_i = a1\[i\];/);
    for (const n of [3, 700, 5]) {
      const a = Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 2);
      const b = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 0.7));
      const c = m.forward({ a, b }).c as Float64Array;
      expect(c.length).toBe(n);
      for (let i = 0; i < n; i++) expect(c[i]).toBe(a[i]! * b[i]! + Math.sin(a[i]!) * b[i]! + a[i]! / (1 + b[i]! * b[i]!));
    }
  });
});
