// rand and randn: the statistics of the draws (bounds computed from the distribution's
// moments, at five standard errors; the seed is fixed, so each test is deterministic), the
// generator's state (a new draw every call, reproducible from seed and call count, untouched
// by createParams), shapes with free dims and size expressions, and the interpreter drawing
// exactly what the emitted code draws.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { compile, compileToSource, derivative, GradcError, type CompiledModel } from "../../src/index";
import { evaluate } from "../../src/interpret";
import { drawValues, randomKey } from "../../src/ops";
import { emitDeclarations } from "../../src/codegen";
import { lowerSource } from "../../src/lower";

const N = 200_000;

function moments(xs: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  const mean = s / xs.length;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += (xs[i]! - mean) ** 2;
  return { mean, variance: v / xs.length };
}

function array(r: Record<string, unknown>, key: string): Float32Array | Float64Array {
  const v = r[key];
  if (!(v instanceof Float32Array || v instanceof Float64Array)) throw new Error(`${key} is not an array`);
  return v;
}

function state(m: CompiledModel): { seed: number; calls: number } {
  if (!m.randomState) throw new Error("the model has no generator");
  return m.randomState();
}

describe("rand", () => {
  const m = compile(`u = rand([${N}])\noutput u`, { seed: 7 });
  const u = Float64Array.from(array(m.forward({}), "u"));

  it("draws in [0, 1)", () => {
    expect(u.reduce((a, b) => Math.min(a, b))).toBeGreaterThanOrEqual(0);
    expect(u.reduce((a, b) => Math.max(a, b))).toBeLessThan(1);
  });

  it("has mean 1/2 and variance 1/12 within sampling error", () => {
    const { mean, variance } = moments(u);
    // Standard errors: sqrt(var / N) for the mean; sqrt((mu4 - var^2) / N) for the
    // variance, with mu4 = 1/80 for a uniform on [0, 1).
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(5 * Math.sqrt((1 / 80 - 1 / 144) / N));
  });

  it("fills every tenth of [0, 1) evenly (chi-square over 10 bins)", () => {
    const bins = new Array<number>(10).fill(0);
    for (const x of u) bins[Math.floor(x * 10)]!++;
    const expected = N / 10;
    const chi2 = bins.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // 9 degrees of freedom: P(chi2 > 27.9) = 0.001.
    expect(chi2).toBeLessThan(27.9);
  });

  it("neighbouring draws are uncorrelated", () => {
    let c = 0;
    for (let i = 1; i < N; i++) c += (u[i]! - 0.5) * (u[i - 1]! - 0.5);
    const r = c / (N - 1) / (1 / 12);
    expect(Math.abs(r)).toBeLessThan(5 / Math.sqrt(N));
  });
});

describe("randn", () => {
  const m = compile(`z = randn([${N}])\noutput z`, { seed: 3, dtype: "f64" });
  const z = array(m.forward({}), "z");

  it("has mean 0 and variance 1 within sampling error", () => {
    const { mean, variance } = moments(z);
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(N));
    // The sample variance of a normal has standard error sqrt(2 / N).
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / N));
  });

  it("has normal tails: P(|z| > 2) and P(|z| > 3), and every draw finite", () => {
    const tail = (t: number) => z.filter((x) => Math.abs(x) > t).length / N;
    for (const [t, p] of [[2, 0.0455003], [3, 0.0026998]] as const) {
      expect(Math.abs(tail(t) - p)).toBeLessThan(5 * Math.sqrt(p * (1 - p) / N));
    }
    expect(z.every(Number.isFinite)).toBe(true);
    // Box-Muller from 24-bit uniforms reaches at most sqrt(2 ln 2^24) = 5.77.
    expect(Float64Array.from(z).reduce((a, b) => Math.max(a, Math.abs(b)), 0)).toBeLessThan(5.8);
  });

  it("is symmetric: as many draws below 0 as above, within sampling error", () => {
    const below = z.filter((x) => x < 0).length;
    expect(Math.abs(below / N - 0.5)).toBeLessThan(5 * Math.sqrt(0.25 / N));
  });
});

describe("the generator", () => {
  const source = "input x: [3]\nu = rand([4])\nz = randn([2, 3]) + x\noutput u, z";
  const x = Float32Array.of(1, 2, 3);
  const run = (m: CompiledModel) => {
    const r = m.forward({ x });
    return [...array(r, "u"), ...array(r, "z")];
  };

  it("advances on every call: calls draw anew, and count themselves", () => {
    const m = compile(source);
    expect(state(m)).toEqual({ seed: 1, calls: 0 });
    const a = run(m);
    const b = run(m);
    expect(state(m)).toEqual({ seed: 1, calls: 2 });
    expect(a).not.toEqual(b);
  });

  it("two models with the same seed, called the same way, draw the same values", () => {
    const m1 = compile(source, { seed: 11 });
    const m2 = compile(source, { seed: 11 });
    const m3 = compile(source, { seed: 12 });
    for (let k = 0; k < 3; k++) {
      const a = run(m1);
      expect(run(m2)).toEqual(a);
      expect(run(m3)).not.toEqual(a);
    }
  });

  it("createParams does not disturb it, and it does not disturb the params", () => {
    const p = "input x: [3]\nparam w: [3] = normal(0, 1)\nu = rand([3]) * w + x\noutput u";
    const m1 = compile(p, { seed: 5 });
    const m2 = compile(p, { seed: 5 });
    expect([...m1.params.w!]).toEqual([...m2.params.w!]);
    m1.createParams(99);
    m1.createParams();
    expect([...array(m1.forward({ x }), "u")]).toEqual([...array(m2.forward({ x }), "u")]);
    // The initialiser's stream is its own: a fresh record equals the compiled params.
    expect([...m1.createParams(5).w!]).toEqual([...m2.params.w!]);
  });

  it("reseed(seed, calls) restores a state read with randomState()", () => {
    const m = compile(source, { seed: 4 });
    run(m);
    const saved = state(m);
    const a = run(m);
    run(m);
    m.reseed!(saved.seed, saved.calls);
    expect(run(m)).toEqual(a);
    // reseed(n) is a model compiled with seed n, not yet called.
    const fresh = compile(source, { seed: 9 });
    m.reseed!(9);
    expect(run(m)).toEqual(run(fresh));
  });

  it("reseed checks its arguments (E0413)", () => {
    const m = compile(source);
    for (const [seed, calls] of [[1.5, 0], ["1", 0], [1, -1], [1, 0.5], [2 ** 53, 0]] as const) {
      let err: unknown;
      try { m.reseed!(seed as never, calls as never); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(GradcError);
      expect((err as GradcError).code).toBe("E0413");
    }
    expect(state(m)).toEqual({ seed: 1, calls: 0 });
    m.reseed!(-3, 2 ** 40);
    expect(state(m)).toEqual({ seed: -3, calls: 2 ** 40 });
    expect(run(m).every(Number.isFinite)).toBe(true);
  });

  it("a model that draws nothing has no generator members", () => {
    const m = compile("input x: [3]\ny = x * 2\noutput y");
    expect(m.reseed).toBeUndefined();
    expect(m.randomState).toBeUndefined();
    const d = emitDeclarations(lowerSource("input x: [3]\ny = x * 2\noutput y", { filename: "a.grad" }), "f32");
    expect(d).not.toContain("reseed");
    const r = emitDeclarations(lowerSource(source, { filename: "a.grad" }), "f32");
    expect(r).toContain("export declare function reseed(seed: number, calls?: number): void;");
    expect(r).toContain("export declare function randomState(): { seed: number; calls: number };");
  });

  it("the emitted ES module draws what the library model draws", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gradc-random-"));
    const file = join(dir, "model.mjs");
    writeFileSync(file, compileToSource(source, { seed: 21, format: "esm" }).text);
    const mod = await import(pathToFileURL(file).href) as CompiledModel & { default: CompiledModel };
    const lib = compile(source, { seed: 21 });
    expect(run(mod)).toEqual(run(lib));
    expect(run(mod.default)).toEqual(run(lib));
    expect(mod.randomState!()).toEqual({ seed: 21, calls: 2 });
    mod.reseed!(21, 0);
    lib.reseed!(21, 0);
    expect(run(mod)).toEqual(run(lib));
  });
});

describe("draws in the interpreter and in emitted code", () => {
  it("are the same values (f64): rand exactly, randn to rounding", () => {
    const src = "dim n\ninput x: [n, 2]\nu = rand([n, 2]) + x\nz = randn([n * 2, 3])\noutput u, z";
    const m = compile(src, { dtype: "f64", seed: 8 });
    m.forward({ x: new Float64Array(10) });
    const s = state(m);
    const x = Float64Array.from({ length: 10 }, (_, i) => i / 4);
    const r = m.forward({ x });
    const { model } = compileToSource(src, { dtype: "f64", seed: 8 });
    const values = evaluate(model.outputs, { dims: new Map([["n", 5]]), values: new Map([["x", x]]), random: s });
    expect([...array(r, "u")]).toEqual([...values.get(model.outputs[0]!)!.data]);
    const z = array(r, "z");
    expect(z.length).toBe(30);
    const ref = values.get(model.outputs[1]!)!.data;
    ref.forEach((v, i) => expect(z[i]).toBeCloseTo(v, 12));
  });

  it("a draw is the flat sequence of its stream, whatever its shape", () => {
    const m = compile("a = rand([2, 3], stream = 5)\nb = rand([6], stream = 5)\nc = rand([3, 2])\noutput a, b, c", { dtype: "f64" });
    const r = m.forward({});
    expect([...array(r, "a")]).toEqual([...array(r, "b")]);
    expect([...array(r, "a")]).not.toEqual([...array(r, "c")]);
    const key = randomKey(1, 0);
    expect([...array(r, "a")]).toEqual([...drawValues("uniform", key, 5, 6)]);
  });

  it("each call site is its own stream; a user fn draws once per distinct arguments", () => {
    const m = compile("fn noise(x) = x + rand([4])\na = noise(zeros([4]))\nb = noise(ones([4])) - 1\nc = noise(zeros([4]))\nd = rand([4])\ne = rand([4])\noutput a, b, c, d, e");
    const r = m.forward({});
    const [a, b, c, d, e] = ["a", "b", "c", "d", "e"].map((k) => [...array(r, k)]);
    expect(a).not.toEqual(b);
    expect(d).not.toEqual(e);
    // A user fn is a function: the same arguments give the same value, draws included.
    expect(c).toEqual(a);
  });

  it("shapes take dims and size expressions, free or bound", () => {
    const src = "dim b\ndim t\ndim d\ninput x: [b, d]\ninput y: [t]\nr = rand([b * t, d])\ns = randn([t // 2, 2]) * 0 + 1\nk = rand([])\noutput r, s, k";
    const m = compile(src, { sizes: { d: 3 } });
    const r = m.forward({ x: new Float32Array(2 * 3), y: new Float32Array(4) });
    expect(array(r, "r").length).toBe(24);
    expect(array(r, "s").length).toBe(4);
    expect(typeof r.k).toBe("number");
    expect(m.meta.outputs.map((o) => o.shape)).toEqual([["b * t", 3], ["t // 2", 2], []]);
  });

  it("draws have no gradient: a loss over one is constant in the params", () => {
    const m = compile("param w: [3] = ones\nminimize sum(w * 0 + randn([3]))", { dtype: "f64" });
    expect([...m.valueAndGrad({}).grads.w!]).toEqual([0, 0, 0]);
    expect(derivative("x * 2", "x")).toBe("2");
  });

  it("bad arguments are located errors", () => {
    const bad = (src: string, code: string, line: number, column: number) => {
      let err: unknown;
      try { compile(src); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(GradcError);
      expect([(err as GradcError).code, (err as GradcError).line, (err as GradcError).column]).toEqual([code, line, column]);
    };
    bad("u = rand([2], stream = -1)\noutput u", "E0253", 1, 24);
    bad("u = rand([2], stream = 2147483648)\noutput u", "E0253", 1, 24);
    bad("u = rand([2], stream = 0.5)\noutput u", "E0253", 1, 24);
    bad("input s\nu = rand([2], stream = s)\noutput u", "E0253", 2, 24);
    bad("u = rand([2.5])\noutput u", "E0224", 1, 11);
    bad("u = randn()\noutput u", "E0107", 1, 5);
  });
});
