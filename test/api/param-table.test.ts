// Models with many inputs and params take their params through a table (codegen/
// param-table.ts): one loop checks them and the run functions read them from module
// state, so the API functions do not grow with the number of params. The same misuse
// gives the same GradcError, word for word, as the inline checks of a small model; values
// agree with the interpreter; params initialise in the same order from the seed.

import { describe, expect, it } from "vitest";
import { compile, GradcError, gradcheck, type CompiledModel } from "../../src/index";
import { inlineCheckLimit } from "../../src/codegen/param-table";
import { interpret, put, type Values } from "../hardening/helpers";

const f32 = (...xs: number[]) => Float32Array.from(xs);

/** `count` more params, used by the objective (so each has a gradient). */
function filler(count: number): { decls: string; use: string } {
  const names = Array.from({ length: count }, (_, i) => `f${i + 1}`);
  return {
    decls: names.map((n) => `param ${n}: [2] = uniform(-1, 1)`).join("\n"),
    use: names.map((n) => ` + sum(${n} * ${n})`).join(""),
  };
}

const base = "input x: [2]\ninput t\nparam w: [2] = ones\nparam s = constant(2)\ny = x * w * t * s\noutput y\n";
const fill = filler(inlineCheckLimit);
const inline = compile(`${base}minimize sum(y)`);
const table = compile(`${base}${fill.decls}\nminimize sum(y)${fill.use}`);
const good = { x: f32(1, 2), t: 3 };

/** The GradcError a call throws, as code and message (or "no error"). */
function errorOf(call: () => unknown): string {
  try {
    call();
  } catch (e) {
    if (!(e instanceof GradcError)) throw e;
    return `${e.code}: ${e.message}`;
  }
  return "no error";
}

/** A function of the emitted module, as text. */
function functionText(model: CompiledModel, name: string): string {
  const start = model.source.indexOf(`\nfunction ${name}(`);
  return model.source.slice(start, model.source.indexOf("\n}\n", start) + 3);
}

/** A deep MLP of `layers` layers of 3 units over a batch `batch` (a size, or a free dim). */
function deepMlp(layers: number, batch: number | "n", activation: string, biasInit = "zeros"): string {
  const s = batch === "n" ? ["dim n", "input x: [n, 3]", "input y: [n, 3]"] : [`input x: [${batch}, 3]`, `input y: [${batch}, 3]`];
  for (let i = 1; i <= layers; i++) s.push(`param w${i}: [3, 3] = glorot_uniform`, `param b${i}: [3] = ${biasInit}`);
  s.push("h0 = x");
  for (let i = 1; i <= layers; i++) s.push(`h${i} = ${activation}(h${i - 1} @ w${i} + b${i})`);
  s.push(`loss = mse(h${layers}, y)`, `output h${layers}`, "minimize loss with sgd(lr = 0.1)");
  return s.join("\n");
}

/** Equal within f32 rounding (the targets may sum in another order). */
const near = (got: ArrayLike<number>, want: ArrayLike<number>, what: string) =>
  expect(Array.from(got), what).toEqual(Array.from(want).map((v) => expect.closeTo(v, 6)));

describe("params through the table", () => {
  it("a model past the limit uses the table; a small one checks inline", () => {
    expect(table.source).toContain("takeParams(values, params, paramTable, paramArgs, paramBoxes, F);");
    expect(inline.source).not.toContain("takeParams");
  });

  it("the API functions and createParams are the same size for 20 or 400 params", () => {
    const mlp = (layers: number) => compile(deepMlp(layers, 4, "tanh"));
    const small = mlp(10), large = mlp(200);
    for (const name of ["forward", "predict", "valueAndGrad", "stepImpl", "createParams"]) {
      const a = functionText(small, name), b = functionText(large, name);
      expect(a.length, name).toBeGreaterThan(50);
      // Equal up to the names of run functions (numbered in emission order).
      expect(b.replace(/run_\w+/g, "run"), name).toBe(a.replace(/run_\w+/g, "run"));
    }
    // And it trains.
    const values = { x: f32(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.2), y: new Float32Array(12).fill(0.5) };
    const before = large.forward(values).loss as number;
    for (let i = 0; i < 20; i++) large.step(values);
    expect(large.forward(values).loss).toBeLessThan(before);
  });

  it("misuse gives the inline checks' errors, word for word", () => {
    const cases: [string, unknown][] = [
      ["x", Float64Array.of(1, 2)], ["x", [1, 2]], ["x", f32(1, 2, 3)], ["x", undefined], ["t", "3"], ["t", f32(1, 2)],
      ["w", [1, 1]], ["w", f32(1, 2, 3)], ["w", new Float64Array(2)], ["w", null], ["w", 1], ["w", new DataView(new ArrayBuffer(8))],
      ["s", "2"], ["s", f32(1, 2)], ["s", null], ["s", 3n], ["q", 1], ["__proto__", f32(1, 2)],
    ];
    for (const [name, value] of cases) {
      const values: Values = { ...good };
      put(values, name, value);
      const expected = errorOf(() => inline.forward(values));
      expect(expected, `${name}: ${String(value)}`).not.toBe("no error");
      for (const fn of ["forward", "predict", "valueAndGrad", "step"] as const) {
        expect(errorOf(() => table[fn](values)), `${fn} ${name}: ${String(value)}`).toBe(expected.replace("forward:", `${fn}:`));
      }
    }
    expect(errorOf(() => table.forward({ x: f32(1, 2) }))).toBe(errorOf(() => inline.forward({ x: f32(1, 2) })));
    expect(errorOf(() => table.forward(null as never))).toBe(errorOf(() => inline.forward(null as never)));
  });

  it("a held param replaced or deleted in model.params is checked like an argument", () => {
    for (const m of [inline, compile(`${base}${fill.decls}\nminimize sum(y)${fill.use}`)]) {
      const held = m.params.w!;
      m.params.w = [1, 1] as unknown as Float32Array;
      expect(errorOf(() => m.forward(good))).toBe("E0404: `w` must be a Float32Array, but is a plain Array");
      m.params.w = new Float32Array(3);
      expect(errorOf(() => m.forward(good))).toBe("E0403: `w` must have 2 elements, but has 3");
      delete (m.params as Record<string, unknown>).w;
      expect(errorOf(() => m.forward(good))).toBe("E0404: `w` must be a Float32Array, but is missing from the model's params");
      m.params.w = held;
      (m.params as Record<string, unknown>).s = 3;
      expect(Array.from(m.forward(good).y as Float32Array)).toEqual([9, 18]);
      (m.params as Record<string, unknown>).s = "3";
      expect(errorOf(() => m.forward(good))).toMatch(/^E0404: `s` must be a number or a Float32Array of length 1, but is string/);
      (m.params as Record<string, unknown>).s = f32(2);
    }
  });

  it("every call is checked, also with one values object whose contents change", () => {
    const values: Values = { ...good };
    expect(Array.from(table.forward(values).y as Float32Array)).toEqual([6, 12]);
    values.w = f32(1, 2, 3);
    expect(errorOf(() => table.forward(values))).toBe("E0403: `w` must have 2 elements, but has 3");
    values.w = f32(2, 2);
    values.s = 1;
    expect(Array.from(table.forward(values).y as Float32Array)).toEqual([6, 12]);
    (values as Record<string, unknown>).s = "1";
    expect(errorOf(() => table.forward(values))).toMatch(/^E0404: `s`/);
    delete values.s;
    (values as Record<string, unknown>).extra = 1;
    expect(errorOf(() => table.forward(values))).toMatch(/^E0402: unknown value `extra`/);
    delete (values as Record<string, unknown>).extra;
    delete values.w;
    expect(Array.from(table.forward(values).y as Float32Array)).toEqual([6, 12]);
    // Inherited and non-enumerable: a non-enumerable own param is given, an inherited one not.
    const inherited = Object.assign(Object.create({ w: f32(5, 5) }) as Values, good);
    expect(Array.from(table.forward(inherited).y as Float32Array)).toEqual([6, 12]);
    const hidden: Values = { ...good };
    Object.defineProperty(hidden, "w", { value: f32(5, 5), enumerable: false });
    expect(Array.from(table.forward(hidden).y as Float32Array)).toEqual([30, 60]);
    expect(Array.from(inline.forward(hidden).y as Float32Array)).toEqual([30, 60]);
  });

  it("values override params without touching the store; step updates the held params", () => {
    const m = compile(`${base}${fill.decls}\nminimize sum(y)${fill.use}`);
    const w = f32(10, 20), f1 = f32(1, 1);
    const held = Array.from(m.params.w!);
    expect(Array.from(m.forward({ ...good, w }).y as Float32Array)).toEqual([60, 240]);
    expect(Array.from(m.params.w!)).toEqual(held);
    const g = m.valueAndGrad({ ...good, f1 });
    expect(Array.from(g.grads.f1!)).toEqual([2, 2]);
    expect(Array.from(g.grads.w!)).toEqual([6, 12]);
    expect(g.grads.s![0]).toBe(9);
    m.step(good);
    expect(m.params.w![0]).toBeCloseTo(1 - 0.01 * 6, 6);
    // A param given to step is updated in place: the given array, not the held one.
    const given = f32(1, 1);
    const gw = Array.from(m.valueAndGrad({ ...good, w: given }).grads.w!);
    const heldNow = Array.from(m.params.w!);
    m.step({ ...good, w: given });
    expect(Array.from(given)).toEqual(gw.map((g) => Math.fround(1 - Math.fround(0.01 * g))).map((v) => expect.closeTo(v, 6)));
    expect(Array.from(m.params.w!)).toEqual(heldNow);
  });

  it("agrees with the interpreter, and gradchecks in f64", () => {
    const source = `${base}${fill.decls}\nminimize sum(y)${fill.use}`;
    const m = compile(source, { dtype: "f64" });
    const values = { x: Float64Array.of(0.5, -1.5), t: 0.25 };
    const want = interpret(source, values, m.params as Record<string, Float64Array>);
    const got = m.valueAndGrad(values);
    expect(got.value).toBeCloseTo(want.objective!, 12);
    for (const p of m.meta.params) expect(Array.from(got.grads[p.name]!), p.name).toEqual(want.grads[p.name]!.map((v: number) => expect.closeTo(v, 12)));
    expect(gradcheck(source, { seed: 3 }).ok).toBe(true);
  });

  it("initialises params in declaration order from the seed, like a small model", () => {
    const small = compile(`param a: [3, 2] = glorot_uniform\nparam b: [4] = normal(0, 2)\nparam c = uniform(1, 2)\nminimize sum(a) + sum(b) + c`);
    const large = compile(`param a: [3, 2] = glorot_uniform\nparam b: [4] = normal(0, 2)\nparam c = uniform(1, 2)\n${fill.decls}\nminimize sum(a) + sum(b) + c${fill.use}`);
    expect(large.source).toContain("takeParams");
    for (const seed of [1, 7]) {
      const p = small.createParams(seed), q = large.createParams(seed);
      for (const k of ["a", "b", "c"]) expect(Array.from(q[k]!), k).toEqual(Array.from(p[k]!));
    }
    expect(Object.keys(large.params)).toEqual(large.meta.params.map((p) => p.name));
    expect(errorOf(() => large.createParams(1.5))).toMatch(/^E0411/);
  });

  it("the wasm target takes params through the table too", () => {
    const source = `${base}${fill.decls}\nminimize sum(y)${fill.use}`;
    const js = compile(source), wasm = compile(source, { target: "wasm" });
    expect(wasm.source).toContain("takeParams");
    expect(Array.from(wasm.valueAndGrad(good).grads.f3!)).toEqual(Array.from(js.valueAndGrad(good).grads.f3!));
    for (let i = 0; i < 3; i++) { js.step(good); wasm.step(good); }
    for (const p of js.meta.params) expect(Array.from(wasm.params[p.name]!), p.name).toEqual(Array.from(js.params[p.name]!));
    const a = f32(1, 1), b = f32(1, 1);
    js.step({ ...good, w: a });
    wasm.step({ ...good, w: b });
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(errorOf(() => wasm.forward({ ...good, w: f32(1, 2, 3) }))).toBe("E0403: `w` must have 2 elements, but has 3");
  });

  it("the wasm target: a deep model's step shares valueAndGrad's kernels, params read through cells", () => {
    // (every param an argument of the wasm functions would pass WebAssembly's limit of
    // 1,000 parameters for a model of 500 layers: the run functions take the inputs only)
    const source = deepMlp(10, 4, "relu", "uniform(-0.5, 0.5)");
    const js = compile(source, { seed: 5 }), wasm = compile(source, { target: "wasm", seed: 5 });
    expect(wasm.source).toContain("takeParams");
    expect(wasm.source).toMatch(/wasm_run_step\(place\(in_x, \d+\), place\(in_y, \d+\)\)/);
    const values = { x: f32(0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 0.8, -0.9, 1, 1.1, 1.2), y: new Float32Array(12).fill(0.5) };
    const a = js.valueAndGrad(values), b = wasm.valueAndGrad(values);
    expect(b.value).toBeCloseTo(a.value, 6);
    expect(js.meta.params.filter((p) => a.grads[p.name]!.some((g) => g !== 0)).length).toBeGreaterThan(10);
    for (const p of js.meta.params) near(b.grads[p.name]!, a.grads[p.name]!, p.name);
    for (let i = 0; i < 3; i++) { js.step(values); wasm.step(values); }
    for (const p of js.meta.params) near(wasm.params[p.name]!, js.params[p.name]!, p.name);
    // a param given to step (not the model's view) is updated in place, the held one is not
    const name = js.meta.params.find((p) => p.name.startsWith("w") && a.grads[p.name]!.some((g) => g !== 0))!.name;
    const given = Float32Array.from(js.params[name]!), givenWasm = Float32Array.from(js.params[name]!);
    const heldJs = Array.from(js.params[name]!), heldWasm = Array.from(wasm.params[name]!);
    js.step({ ...values, [name]: given }); wasm.step({ ...values, [name]: givenWasm });
    near(givenWasm, given, `${name} given`);
    expect(Array.from(givenWasm)).not.toEqual(heldJs);
    expect(Array.from(wasm.params[name]!)).toEqual(heldWasm);
    near(wasm.forward(values).h10 as Float32Array, js.forward(values).h10 as Float32Array, "h10");
    expect(errorOf(() => wasm.step({ ...values, b3: f32(1, 2) }))).toBe(errorOf(() => js.step({ ...values, b3: f32(1, 2) })));
  });

  it("the wasm target with a free size: many params checked inline, read through cells", () => {
    // (a growing memory checks params inline: past 31 names there is no bit per name)
    const source = deepMlp(20, "n", "tanh", "uniform(-0.5, 0.5)");
    const js = compile(source, { seed: 2 }), wasm = compile(source, { target: "wasm", seed: 2 });
    expect(wasm.source).not.toContain("takeParams");
    expect(wasm.source).toMatch(/wasm_run_step\(place\(in_x, stage_x\.byteOffset\), place\(in_y, stage_y\.byteOffset\)\)/);
    for (const n of [2, 5, 1]) {
      const values = { x: Float32Array.from({ length: 3 * n }, (_, i) => Math.sin(i + 1)), y: new Float32Array(3 * n).fill(0.25) };
      near(wasm.forward(values).h20 as Float32Array, js.forward(values).h20 as Float32Array, `h20, n = ${n}`);
      // the 41st name (b20) given: read, not the held one
      const b20 = f32(1, -1, 0.5);
      near(wasm.forward({ ...values, b20 }).h20 as Float32Array, js.forward({ ...values, b20 }).h20 as Float32Array, `h20 with b20, n = ${n}`);
      js.step(values); wasm.step(values);
      for (const p of js.meta.params) near(wasm.params[p.name]!, js.params[p.name]!, `${p.name}, n = ${n}`);
    }
    const values = { x: f32(1, 2, 3), y: f32(0, 0, 0) };
    expect(errorOf(() => wasm.forward({ ...values, w17: f32(1) }))).toBe(errorOf(() => js.forward({ ...values, w17: f32(1) })));
    expect(errorOf(() => wasm.forward({ ...values, w21: f32(1) }))).toBe(errorOf(() => js.forward({ ...values, w21: f32(1) })));
  });

  it("a getter on values that calls the model again does not change the outer call", () => {
    const m = compile(`${base}${fill.decls}\nminimize sum(y)${fill.use}`, { dtype: "f64" });
    let inner: number[] = [];
    // w (read before s) is the held [1, 1] for the outer call; the inner call passes its own.
    const values = {
      x: Float64Array.of(1, 2), t: 10,
      get s() {
        inner = Array.from(m.forward({ t: 3, x: Float64Array.of(5, 5), w: Float64Array.of(1, 2), s: 1 }).y as Float64Array);
        return 2;
      },
    };
    expect(Array.from(m.forward(values).y as Float64Array)).toEqual([20, 40]);
    expect(inner).toEqual([15, 30]);
    // A step inside a getter runs to completion first; the outer call sees its update.
    const stepping = { x: Float64Array.of(1, 2), t: 10, get s() { m.step({ t: 1, x: Float64Array.of(5, 5) }); return 2; } };
    expect(Array.from(m.forward(stepping).y as Float64Array)).toEqual([18, 36]);
    expect(Array.from(m.params.w!)).toEqual([0.9, 0.9]);
    // A getter that throws propagates, and the model still works.
    const boom = new Error("from the user's getter");
    expect(() => m.forward({ x: Float64Array.of(1, 2), t: 1, get w(): Float64Array { throw boom; } })).toThrow(boom);
    // (the step left w = 0.9 and s = 2 - 0.01 * 10 = 1.9)
    expect(Array.from(m.forward({ x: Float64Array.of(1, 2), t: 1 }).y as Float64Array)).toEqual([expect.closeTo(1.71, 12), expect.closeTo(3.42, 12)]);
  });
});
