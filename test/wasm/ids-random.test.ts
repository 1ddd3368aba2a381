// Ids and random draws on the wasm target. A bad id, given or computed, throws the JS
// target's GradcError (same code, same message) and leaves the params as they were; the
// sparse SGD update of an embedding table matches the JS target's step for step; and a
// seed gives the same draws on both targets (uniforms and dropout masks exactly, normals
// within f32 rounding), replayable with reseed and randomState as on the JS target.

import { describe, expect, it } from "vitest";
import { compile, type CompiledModel } from "../../src/index";
import { rng } from "../helpers/random";
import { expectClose } from "../helpers/targets";

function thrown(f: () => unknown): { code?: string; message?: string } {
  try { f(); } catch (e) { return e as { code?: string; message?: string }; }
  return {};
}

const idsSource = `
input tokens: [3]
input x: [3]
param table: [5, 2]
param w: [2]
e = take(table, tokens) @ w
computed = take(table, floor(x * 2))
loss = sum(e * x) + sum(computed * computed)
output e
minimize loss with sgd(lr = 0.5)
`;

describe("ids on wasm", () => {
  const targets = () => [compile(idsSource, { target: "wasm", filename: "ids.grad" }), compile(idsSource, { filename: "ids.grad" })] as const;

  it.each([
    ["an input id out of range", { tokens: [0, 5, 1], x: [0.1, 0.2, 0.3] }, "E0420"],
    ["a fractional input id", { tokens: [0, 1.5, 1], x: [0.1, 0.2, 0.3] }, "E0420"],
    ["a NaN input id", { tokens: [NaN, 1, 1], x: [0.1, 0.2, 0.3] }, "E0420"],
    ["a computed id out of range", { tokens: [0, 1, 2], x: [0.1, 2.7, 0.3] }, "E0421"],
    ["a negative computed id", { tokens: [0, 1, 2], x: [0.1, 0.2, -0.3] }, "E0421"],
    ["a NaN computed id", { tokens: [0, 1, 2], x: [NaN, 0.2, 0.3] }, "E0421"],
  ] as const)("%s: the JS target's error, in every function; step leaves the params", (_, v, code) => {
    const [wasm, js] = targets();
    const args = { tokens: Float32Array.from(v.tokens), x: Float32Array.from(v.x) };
    for (const fn of ["forward", "predict", "valueAndGrad", "step"] as const) {
      if (fn === "predict" && code === "E0421") continue; // predict does not read the computed ids' output
      const before = Float32Array.from(wasm.params.table!);
      const ew = thrown(() => wasm[fn](args)), ej = thrown(() => js[fn](args));
      expect(ej.code, fn).toBe(code);
      expect(ew.code, fn).toBe(ej.code);
      expect(ew.message, fn).toBe(ej.message);
      expect([...wasm.params.table!], fn).toEqual([...before]);
    }
    // and the next good call runs as on the JS target
    const good = { tokens: Float32Array.of(0, 4, 2), x: Float32Array.of(0.1, 0.2, 0.3) };
    expect(wasm.forward(good).e).toEqual(js.forward(good).e);
  });

  it("an embedding trains with the sparse update as on the JS target (repeated ids)", () => {
    const [wasm, js] = targets();
    const r = rng(4);
    for (let i = 0; i < 20; i++) {
      const args = { tokens: Float32Array.from({ length: 3 }, () => Math.floor(r() * 5)), x: Float32Array.from({ length: 3 }, () => r() * 2.4) };
      if (i % 5 === 0) args.tokens[1] = args.tokens[0]!;
      const lw = wasm.step(args), lj = js.step(args);
      expect(Math.abs(lw - lj)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(lj)));
    }
    expectClose(wasm.params.table!, js.params.table!, 1e-5, "table");
    expectClose(wasm.params.w!, js.params.w!, 1e-5, "w");
  });
});

const drawSource = `
input x: [64]
param w: [64]
u = rand([64])
z = randn([8, 8], stream = 3)
d = dropout(x * w, 0.4)
output u, z, d
minimize sum(d * d) + sum(reshape(z, [64]) * w)
`;

type Drawing = CompiledModel & { reseed(seed: number, calls?: number): void; randomState(): { seed: number; calls: number } };

describe("random draws on wasm", () => {
  const x = Float32Array.from({ length: 64 }, (_, i) => 1 + i / 64);

  function compare(wasm: Drawing, js: Drawing, label: string): void {
    const fw = wasm.forward({ x }), fj = js.forward({ x });
    expect([...(fw.u as Float32Array)], `${label}: rand`).toEqual([...(fj.u as Float32Array)]);
    expectClose(fw.z as Float32Array, fj.z as Float32Array, 1e-6, `${label}: randn`);
    const gw = wasm.valueAndGrad({ x }), gj = js.valueAndGrad({ x });
    // dropout is on while training: the same mask (the same zeros), the same gradient
    expect([...gw.grads.w!].map((g) => g === 0), `${label}: dropout mask`).toEqual([...gj.grads.w!].map((g) => g === 0));
    expectClose(gw.grads.w!, gj.grads.w!, 1e-5, `${label}: d_w`);
    expect(wasm.randomState()).toEqual(js.randomState());
  }

  it("a seed gives the same draws on both targets, call after call", () => {
    for (const seed of [0, 7, -3, 2 ** 40 + 5]) {
      const wasm = compile(drawSource, { target: "wasm", seed }) as Drawing, js = compile(drawSource, { seed }) as Drawing;
      for (let call = 0; call < 3; call++) compare(wasm, js, `seed ${seed}, call ${call}`);
    }
  });

  it("reseed replays a call, and randomState reads the state, as on the JS target", () => {
    const wasm = compile(drawSource, { target: "wasm" }) as Drawing, js = compile(drawSource) as Drawing;
    wasm.forward({ x });
    const state = wasm.randomState();
    const first = Float32Array.from(wasm.forward({ x }).z as Float32Array);
    wasm.forward({ x });
    wasm.reseed(state.seed, state.calls);
    expect([...(wasm.forward({ x }).z as Float32Array)]).toEqual([...first]);
    wasm.reseed(11, 5);
    js.reseed(11, 5);
    compare(wasm, js, "after reseed(11, 5)");
    // the uniforms are the generator's own 24-bit values: in [0, 1), not all equal
    const u = wasm.forward({ x }).u as Float32Array;
    expect(u.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(new Set(u).size).toBeGreaterThan(60);
  });
});

describe("ids and draws at free sizes (the memory grows between calls)", () => {
  const source = `
dim n
input tokens: [n]
input x: [n]
param table: [7, 3]
e = take(table, tokens)
computed = take(table, floor(x * 3))
d = dropout(e, 0.5)
z = randn([n, 3]) + rand([n, 3])
output d, z
minimize sum(d * d) + sum(computed * z)
`;
  it("the same draws, values, gradients and id errors as the JS target, size after size", () => {
    const wasm = compile(source, { target: "wasm" }) as Drawing, js = compile(source) as Drawing;
    const r = rng(6);
    [2, 40, 3, 2000, 1, 2000].forEach((n, k) => {
      const args = { tokens: Float32Array.from({ length: n }, () => Math.floor(r() * 7)), x: Float32Array.from({ length: n }, () => r() * 2.3) };
      const fw = wasm.forward(args), fj = js.forward(args);
      expect([...(fw.d as Float32Array)], `call ${k}: d`).toEqual([...(fj.d as Float32Array)]);
      expectClose(fw.z as Float32Array, fj.z as Float32Array, 1e-6, `call ${k}: z`);
      const gw = wasm.valueAndGrad(args), gj = js.valueAndGrad(args);
      expectClose(gw.grads.table!, gj.grads.table!, 1e-5, `call ${k}: d_table`);
      args.x[n - 1] = 2.5; // floor(7.5) = 7: out of range
      const ew = thrown(() => wasm.valueAndGrad(args)), ej = thrown(() => js.valueAndGrad(args));
      expect(ej.code).toBe("E0421");
      expect(ew.message).toBe(ej.message);
      expect(wasm.randomState()).toEqual(js.randomState());
    });
  });
});
