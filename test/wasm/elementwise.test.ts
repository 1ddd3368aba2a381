// Fused elementwise and column-sum kernels against the same expressions evaluated in JS
// with Math.fround after every step (f32 semantics), over lengths that exercise the vector
// loop, the scalar tail and both; NaN and signed zeros follow the JS target's conventions.

import { describe, expect, it } from "vitest";
import { ModuleBuilder } from "../../src/codegen/wasm/encode";
import { addColumnSum, addMap, type Expr } from "../../src/codegen/wasm/elementwise";
import { wasmApi, type WasmMemory } from "../../src/codegen/wasm/engine";

const WebAssembly = wasmApi!;
const fr = Math.fround;

/** f32 reference of an expression, as the JS target computes it (then rounded to f32). */
function reference(e: Expr, xs: number[]): number {
  if ("input" in e) return xs[e.input]!;
  if ("constant" in e) return fr(e.constant);
  const a = reference(e.a, xs);
  switch (e.op) {
    case "neg": return -a;
    case "abs": return Math.abs(a);
    case "sqrt": return fr(Math.sqrt(a));
    case "where_gt": return a > reference(e.b, xs) ? reference(e.then, xs) : reference(e.else, xs);
    default: {
      const b = reference(e.b, xs);
      return fr({ add: a + b, sub: a - b, mul: a * b, div: a / b, max: Math.max(a, b), min: Math.min(a, b) }[e.op]);
    }
  }
}

function instantiate(build: (m: ModuleBuilder) => void): { ex: Record<string, unknown>; f32: Float32Array } {
  const m = new ModuleBuilder().setMemory(2, undefined, "memory");
  build(m);
  const wasm = m.encode();
  expect(WebAssembly.validate(wasm)).toBe(true);
  const ex = new WebAssembly.Instance(new WebAssembly.Module(wasm)).exports;
  return { ex, f32: new Float32Array((ex.memory as WasmMemory).buffer) };
}

const specials = [NaN, 0, -0, 1, -1, 0.5, -2.5, Infinity, -Infinity, 3e-39];

function checkMap(body: Expr, inputs: number, n: number): void {
  const { ex, f32 } = instantiate((m) => addMap(m, n, inputs, body, "map"));
  const base = (t: number) => 16 + t * (n + 3); // element offsets, deliberately not 16-byte aligned
  for (let t = 0; t < inputs; t++) {
    for (let i = 0; i < n; i++) f32[base(t) + i] = i % 3 === 0 ? specials[(i + 5 * t) % specials.length]! : Math.sin(i * 1.7 + t) * 3;
  }
  const out = base(inputs);
  (ex.map as (...p: number[]) => void)(...Array.from({ length: inputs }, (_, t) => base(t) * 4), out * 4);
  for (let i = 0; i < n; i++) {
    const want = fr(reference(body, Array.from({ length: inputs }, (_, t) => f32[base(t) + i]!)));
    expect(Object.is(f32[out + i], want) || (Number.isNaN(want) && Number.isNaN(f32[out + i]!)), `element ${i}: ${f32[out + i]} vs ${want}`).toBe(true);
  }
}

const x0: Expr = { input: 0 }, x1: Expr = { input: 1 }, x2: Expr = { input: 2 };
const zero: Expr = { constant: 0 };

describe("map kernels", () => {
  const bodies: [string, Expr, number][] = [
    ["relu", { op: "where_gt", a: x0, b: zero, then: x0, else: zero }, 1],
    ["relu gradient: where(h > 0, g, 0)", { op: "where_gt", a: x0, b: zero, then: x1, else: zero }, 2],
    ["sgd update: w - 0.1 * g", { op: "sub", a: x0, b: { op: "mul", a: { constant: 0.1 }, b: x1 } }, 2],
    ["every binary op", { op: "div", a: { op: "max", a: { op: "add", a: x0, b: x1 }, b: { op: "min", a: x2, b: x0 } }, b: { op: "sub", a: x1, b: { op: "mul", a: x2, b: { constant: 3 } } } }, 3],
    ["every unary op", { op: "sqrt", a: { op: "abs", a: { op: "neg", a: x0 } } }, 1],
  ];
  for (const [name, body, inputs] of bodies) {
    it(name, () => {
      for (const n of [1, 3, 4, 7, 8, 130]) checkMap(body, inputs, n);
    });
  }

  it("updates in place when the output is an input", () => {
    const { ex, f32 } = instantiate((m) => addMap(m, 6, 2, { op: "sub", a: x0, b: x1 }, "map"));
    f32.set([1, 2, 3, 4, 5, 6], 0);
    f32.set([1, 1, 1, 1, 1, 1], 8);
    (ex.map as (a: number, b: number, o: number) => void)(0, 32, 0);
    expect([...f32.subarray(0, 6)]).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("refuses a body reading an input it does not have, and an empty length", () => {
    expect(() => addMap(new ModuleBuilder(), 4, 1, x1)).toThrow(/input 1 of 1/);
    expect(() => addMap(new ModuleBuilder(), 0, 1, x0)).toThrow(/positive/);
  });
});

describe("column sums (a bias gradient)", () => {
  for (const [m, n] of [[1, 1], [64, 10], [3, 8], [5, 13], [64, 128]] as const) {
    for (const accumulate of [false, true]) {
      it(`[${m}, ${n}]${accumulate ? " accumulated" : ""}`, () => {
        const { ex, f32 } = instantiate((mod) => addColumnSum(mod, m, n, accumulate, "colsum"));
        const x = 1, out = 1 + m * n;
        for (let i = 0; i < m * n; i++) f32[x + i] = Math.cos(i * 0.37);
        for (let j = 0; j < n; j++) f32[out + j] = j;
        (ex.colsum as (a: number, b: number) => void)(x * 4, out * 4);
        for (let j = 0; j < n; j++) {
          let s = accumulate ? j : 0;
          for (let i = 0; i < m; i++) s = fr(s + f32[x + i * n + j]!);
          expect(f32[out + j]).toBe(s);
        }
      });
    }
  }
});
