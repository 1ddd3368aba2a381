// The draw ops and the training flag (src/ops/random.ts): emitted draws of every rank
// (a scalar, 3-D, a free dim) equal the interpreter's and drawValues at the model's key,
// uniforms in [0, 1); the interpreter without a generator state refuses; the training
// flag's value; the wasm target.

import { describe, expect, it } from "vitest";
import { InternalError } from "../../src/diagnostics";
import { compile } from "../../src/index";
import { evaluate } from "../../src/interpret";
import { Graph } from "../../src/ir";
import { lowerSource } from "../../src/lower";
import * as js from "../../src/codegen/estree";
import { Builder, drawValues, randomKey } from "../../src/ops";
import { training } from "../../src/ops/random";

const source = "dim n\ninput x: [n, 3]\nu = rand([2, 3, 4])\nz = randn([2, 3, 4])\ns = rand([])\nt = randn([])\nf = rand([n, 3]) + x\noutput u, z, s, t, f";
const array = (v: ArrayLike<number> | number | undefined) => (typeof v === "number" ? [v] : Array.from(v!));

describe("draws", () => {
  it("emitted draws of every rank equal the interpreter's and drawValues at the model's key", () => {
    const m = compile(source, { dtype: "f64", seed: 9 });
    m.reseed!(9, 4);
    const x = new Float64Array(6);
    const out = m.forward({ x });
    const program = lowerSource(source, { filename: "d.grad" });
    const nodes = program.outputs.map((o) => o.node);
    const interpreted = evaluate(nodes, { values: new Map([["x", x]]), dims: new Map([["n", 2]]), random: { seed: 9, calls: 4 } });
    const key = randomKey(9, 4);
    // streams are numbered in the order of the calls
    const draws: Record<string, ["uniform" | "normal", number, number]> = { u: ["uniform", 1, 24], z: ["normal", 2, 24], s: ["uniform", 3, 1], t: ["normal", 4, 1], f: ["uniform", 5, 6] };
    program.outputs.forEach((o, i) => {
      const [dist, stream, count] = draws[o.name]!;
      const want = [...drawValues(dist, key, stream, count)];
      expect([...interpreted.get(nodes[i]!)!.data], `${o.name} interpreted`).toEqual(want);
      expect(array(out[o.name]), `${o.name} emitted`).toEqual(want);
    });
    const u = array(out.u);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(new Set(u).size).toBe(24);
  });

  it("the interpreter needs the generator state, and gives the training flag", () => {
    const g = new Builder(new Graph(), undefined);
    const u = g.op("rand", [], { shape: [2], stream: 1 });
    expect(() => evaluate([u], { values: new Map() })).toThrow(InternalError);
    expect(() => evaluate([u], { values: new Map() })).toThrow(/rand: the interpreter needs the generator state/);
    const flag = g.op("training", [], {});
    expect([...evaluate([flag], { values: new Map(), training: true }).get(flag)!.data]).toEqual([1]);
    expect([...evaluate([flag], { values: new Map(), training: false }).get(flag)!.data]).toEqual([0]);
    expect(flag.shape).toEqual([]);
    // (each compiled function replaces the flag by its constant before codegen)
    expect(() => training.emit.value!([], flag, () => js.num(0))).toThrow(/unspecialised/);
  });

  it("run on the wasm target (rand and randn have wasm kernels): uniforms as drawValues in f32", () => {
    const m = compile("u = rand([5])\nz = randn([4])\noutput u, z", { target: "wasm", seed: 3 });
    const out = m.forward({});
    const key = randomKey(3, 0);
    expect([...(out.u as Float32Array)]).toEqual([...Float32Array.from(drawValues("uniform", key, 1, 5))]);
    [...drawValues("normal", key, 2, 4)].forEach((v, i) => expect((out.z as Float32Array)[i]).toBeCloseTo(v, 4));
  });
});
