// Differential tests: the emitted code (f64) computes what the reference interpreter says
// the lowered program computes — outputs, objective and gradients — for models covering
// every built-in, evaluated both on the simplified roots codegen receives and on the raw
// (unsimplified) gradient graph. The f32 build agrees with the f64 one within float
// tolerance.

import { describe, expect, it } from "vitest";
import { gradients } from "../../src/autodiff";
import { buildModel, compile, compileToSource, type CompiledModel } from "../../src/index";
import { evaluate } from "../../src/interpret";
import { bindShape, numel, type Node } from "../../src/ir";
import { lowerSource, type LoweredProgram } from "../../src/lower";
import { Builder } from "../../src/ops";
import { modelCases, type ModelCase } from "../helpers/model-cases";
import { rng } from "../helpers/random";
import { sampleValues, type ValueMode } from "../helpers/values";

type Case = ModelCase;
const cases = modelCases;

interface Evaluated {
  outputs: Float64Array[];
  objective?: number;
  grads: Float64Array[];
}

/** The lowered program, the simplified roots codegen receives, and the raw gradients. */
function prepare(c: Case): { program: LoweredProgram; simplified: Node[]; raw: Node[] } {
  const program = lowerSource(c.source, { filename: `${c.name}.grad`, sizes: c.sizes });
  const model = buildModel(program);
  const simplified = [...model.outputs, ...(model.objective ? [model.objective] : []), ...(model.grads ?? [])];
  const objective = program.objective?.node;
  const rawGrads = objective ? gradients(new Builder(program.graph, undefined), objective, program.params.map((p) => p.node)) : [];
  const raw = [...program.outputs.map((o) => o.node), ...(objective ? [objective] : []), ...rawGrads];
  return { program, simplified, raw };
}

function randomValues(c: Case, program: LoweredProgram, dims: Map<string, number>, seed: number, mode: ValueMode = "random"): Map<string, Float64Array> {
  const r = rng(seed);
  const values = new Map<string, Float64Array>();
  for (const d of [...program.inputs, ...program.params]) {
    const length = numel(bindShape(d.shape, dims));
    const gen = c.values?.[d.name] ?? ((n: number, rr: () => number) => sampleValues(n, rr, mode, { extremes: mode === "adversarial" && seed % 2 === 0 }));
    // Values a Float32Array holds exactly, so the f32 build sees the same inputs.
    values.set(d.name, Float64Array.from(gen(length, r), Math.fround));
  }
  return values;
}

function interpret(program: LoweredProgram, roots: Node[], dims: Map<string, number>, values: Map<string, Float64Array>): Evaluated {
  const results = evaluate(roots, { dims, values });
  const data = roots.map((n) => results.get(n)!.data);
  const k = program.outputs.length;
  if (!program.objective) return { outputs: data, grads: [] };
  return { outputs: data.slice(0, k), objective: data[k]![0]!, grads: data.slice(k + 1) };
}

/** forward and valueAndGrad of the emitted model, copied out of the model's own buffers. */
function run(program: LoweredProgram, model: CompiledModel, values: Map<string, Float64Array>, dtype: "f32" | "f64"): Evaluated {
  const Arr = dtype === "f64" ? Float64Array : Float32Array;
  const args: Record<string, Float32Array | Float64Array | number> = {};
  for (const d of [...program.inputs, ...program.params]) {
    const v = values.get(d.name)!;
    // Scalars go in as plain numbers (inputs) or length-1 arrays (params): both are allowed.
    args[d.name] = d.shape.length === 0 && program.inputs.includes(d) ? v[0]! : Arr.from(v);
  }
  const copy = (x: Float32Array | Float64Array | number | undefined): Float64Array => {
    if (x === undefined) throw new Error("missing result");
    return typeof x === "number" ? Float64Array.of(x) : Float64Array.from(x);
  };
  const fwd = model.forward(args);
  const outputs = program.outputs.map((o) => copy(fwd[o.name]));
  if (!program.objective) return { outputs, grads: [] };
  const objectiveKey = program.objective.name ?? "objective";
  const forwardObjective = copy(fwd[objectiveKey])[0]!;
  const vg = model.valueAndGrad(args);
  // The same objective from both functions: exactly in f64 up to rounding; in f32 the two
  // functions may materialise (round to f32) different intermediates.
  expectClose(Float64Array.of(vg.value), Float64Array.of(forwardObjective), dtype === "f64" ? 1e-12 : 1e-5, "forward vs valueAndGrad objective");
  const grads = program.params.map((p) => copy(vg.grads[p.name]));
  return { outputs, objective: vg.value, grads };
}

/** |got - want| <= rtol * (|want| + max |want| over the tensor): relative, with a floor at
 *  the tensor's scale so entries that cancel to near zero are judged fairly. */
function expectClose(got: Float64Array, want: Float64Array, rtol: number, label: string): void {
  expect(got.length, `${label}: length`).toBe(want.length);
  let scale = 0;
  for (const w of want) if (Number.isFinite(w)) scale = Math.max(scale, Math.abs(w));
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (g === w) continue;
    const ok = Math.abs(g - w) <= rtol * (Math.abs(w) + scale) + 1e-300;
    if (!ok) {
      expect.fail(`${label}[${i}]: got ${g}, want ${w} (rtol ${rtol}); got ${Array.from(got).slice(0, 12).join(", ")}; want ${Array.from(want).slice(0, 12).join(", ")}`);
    }
  }
}

function compareAll(program: LoweredProgram, got: Evaluated, want: Evaluated, rtol: number, what: string): void {
  program.outputs.forEach((o, i) => expectClose(got.outputs[i]!, want.outputs[i]!, rtol, `${what}: output ${o.name}`));
  if (!program.objective) return;
  expectClose(Float64Array.of(got.objective!), Float64Array.of(want.objective!), rtol, `${what}: objective`);
  program.params.forEach((p, i) => expectClose(got.grads[i]!, want.grads[i]!, rtol, `${what}: d_${p.name}`));
}

const seeds = [1, 2, 3];
/** Ties, integers, zeros of both signs; even seeds add huge and tiny magnitudes. */
const adversarialSeeds = [11, 12, 13, 14, 15, 16];

describe.each(cases)("emitted vs interpreter: $name", (c) => {
  const runs = c.runs ?? [{}];

  it.each(["random", "adversarial"] as const)("f64 emitted code agrees with the interpreter on simplified and raw roots (%s values)", (mode) => {
    const { program, simplified, raw } = prepare(c);
    const model = compile(c.source, { dtype: "f64", sizes: c.sizes, filename: `${c.name}.grad` });
    for (const seed of mode === "random" ? seeds : adversarialSeeds) {
      for (const dimValues of runs) {
        const dims = new Map(Object.entries(dimValues));
        const values = randomValues(c, program, dims, seed, mode);
        const tag = `${mode} values, seed ${seed}${dimValues && Object.keys(dimValues).length ? ` ${JSON.stringify(dimValues)}` : ""}`;
        const emitted = run(program, model, values, "f64");
        const simple = interpret(program, simplified, dims, values);
        const unsimplified = interpret(program, raw, dims, values);
        if (c.finite && mode === "random") {
          for (const t of [...emitted.outputs, Float64Array.of(emitted.objective ?? 0), ...emitted.grads]) {
            expect(t.every(Number.isFinite), `${tag}: not finite: ${Array.from(t).join(", ")}`).toBe(true);
          }
        }
        compareAll(program, emitted, simple, 1e-9, `${tag}, emitted vs simplified`);
        compareAll(program, emitted, unsimplified, 1e-9, `${tag}, emitted vs unsimplified`);
        compareAll(program, simple, unsimplified, 1e-9, `${tag}, simplified vs unsimplified`);
      }
    }
  });

  it("f32 emitted code agrees with f64 within float tolerance", () => {
    const { program } = prepare(c);
    const m64 = compile(c.source, { dtype: "f64", sizes: c.sizes });
    const m32 = compile(c.source, { dtype: "f32", sizes: c.sizes });
    for (const seed of seeds) {
      for (const dimValues of runs) {
        const dims = new Map(Object.entries(dimValues));
        const values = randomValues(c, program, dims, seed);
        compareAll(program, run(program, m32, values, "f32"), run(program, m64, values, "f64"), 1e-4, `seed ${seed}, f32 vs f64`);
      }
    }
  });
});

describe("emitted vs interpreter: max-pool routing at ties and special values", () => {
  // Windows full of ties, -0 beside 0, NaN and infinities: every window's gradient goes to
  // its first maximum (NaN first), in the tiled kernel (each tap stored 0, then the first
  // maximum stored the gradient), with a fused consumer that is not 0 at 0, and in the
  // overlapping (size 3, stride 1) and select kernels.
  const specials = [0, -0, 1, 1, NaN, 2, Infinity, -Infinity, NaN, -1, 0, 0, 3, 3, -0, 0.5];
  const source = `input a: [2, 2, 4, 4]
input g: [2, 2, 2, 2]
input g3: [2, 2, 2, 2]
routed = maxpool2d_grad(a, g)
shifted = maxpool2d_grad(a, g) * exp(-abs(a)) + 1
overlap = maxpool2d_grad(a, g3, size = 3, stride = 1)
picked = maxpool2d_select(a, a * 2 + 1)
output routed, shifted, overlap, picked
`;
  it("f64 emitted code agrees exactly (Object.is) with the interpreter", () => {
    const r = rng(7);
    const a = Float64Array.from({ length: 64 }, (_, i) => (i < 32 ? specials[i % specials.length]! : specials[Math.floor(r() * specials.length)]!));
    const g = Float64Array.from({ length: 16 }, (_, i) => [1, -2, NaN, Infinity, 0.25, -0][i % 6]!);
    const g3 = Float64Array.from({ length: 16 }, (_, i) => i + 1);
    const program = lowerSource(source, { filename: "pool-routing.grad" });
    const model = buildModel(program);
    const want = evaluate(model.outputs, { values: new Map([["a", a], ["g", g], ["g3", g3]]) });
    const got = compile(source, { dtype: "f64" }).forward({ a, g, g3 });
    program.outputs.forEach((o, k) => {
      const w = want.get(model.outputs[k]!)!.data;
      const e = got[o.name] as Float64Array;
      for (let i = 0; i < w.length; i++) expect(Object.is(e[i], w[i]), `${o.name}[${i}]: emitted ${e[i]}, interpreter ${w[i]}`).toBe(true);
    });
  });
});

describe("emitted vs interpreter: conv weight gradient over a max-pool gradient", () => {
  // conv2d_weight_grad(x, maxpool2d_grad(a, g)) visits only each window's first maximum
  // (the prologue), or every position when x holds Infinity or NaN (0 * Infinity is NaN);
  // a relu-style mask is read per window from maxpool2d(a) and the bias-style sum is over
  // g (the simplify rules pool-grad-mask and sum-pool-grad). Windows full of ties, -0
  // beside 0, NaN and infinities in a; integers, -0, NaN and infinities in g and x, so every
  // order of the additions gives the same sum and the comparison is exact (Object.is),
  // against the interpreter on both the simplified and the unsimplified graph.
  const specials = [0, -0, 1, 1, NaN, 2, Infinity, -Infinity, NaN, -1, 0, 0, 3, 3, -0, 0.5];
  const source = `input a: [2, 2, 6, 6]
input b: [2, 2, 6, 6]
input x: [2, 3, 8, 8]
input g: [2, 2, 3, 3]
input h: [2, 2, 3, 3]
input a7: [2, 2, 7, 7]
input x9: [2, 3, 9, 9]
pooled = maxpool2d(b, size = 2)
d7 = conv2d_weight_grad(x9, maxpool2d_grad(a7, g, size = 2, stride = 2), kernel_size = 3)
dk = conv2d_weight_grad(x, maxpool2d_grad(a, g, size = 2, stride = 2), kernel_size = 3, groups = 1)
masked = maxpool2d_grad(b, h, size = 2, stride = 2) * (b > 0)
dm = conv2d_weight_grad(x[:, 0:2], masked, kernel_size = 3)
db = sum(masked, axis = [0, 2, 3])
output pooled, dk, dm, db, d7
`;
  const program = lowerSource(source, { filename: "pool-conv.grad" });
  const model = buildModel(program);
  const emitted = compileToSource(source, { dtype: "f64", filename: "pool-conv.grad" }).text;

  it("takes the prologue and the rewrites", () => {
    expect(emitted.match(/probe(_\d+)? !== 0/g)?.length).toBe(3);
    expect(emitted).not.toMatch(/maxpool2d_grad \[/);
  });

  const ints = [1, -2, 3, 0, -0, 5, -1, 2];
  const cases: [string, (i: number, r: () => number) => number, (i: number, r: () => number) => number][] = [
    ["finite x, integer g", (i) => ints[(i * 7) % ints.length]!, (i) => ints[i % ints.length]!],
    ["finite x, g with NaN and infinities", (i) => ints[(i * 5) % ints.length]!, (i, r) => [1, -2, NaN, Infinity, -Infinity, -0][Math.floor(r() * 6)]!],
    ["x with Infinity (dense walk)", (i) => (i === 77 ? Infinity : ints[(i * 3) % ints.length]!), (i) => ints[i % ints.length]!],
    ["x with NaN and -Infinity (dense walk)", (i) => (i === 5 ? NaN : i === 300 ? -Infinity : ints[i % ints.length]!), (i) => ints[(i * 3) % ints.length]!],
    ["x with Infinity at the last row (dense walk)", (i) => (i === 80 || i === 76 ? Infinity : ints[(i * 3) % ints.length]!), (i) => ints[i % ints.length]!],
  ];
  cases.forEach(([what, xAt, gAt], k) => {
    it(`f64 emitted code agrees exactly (Object.is): ${what}`, () => {
      const r = rng(11 + k);
      const a = Float64Array.from({ length: 144 }, () => specials[Math.floor(r() * specials.length)]!);
      const b = Float64Array.from({ length: 144 }, () => specials[Math.floor(r() * specials.length)]!);
      const x = Float64Array.from({ length: 384 }, (_, i) => xAt(i, r));
      // a 7x7 plane: its last row and column are in no window
      const a7 = Float64Array.from({ length: 196 }, () => specials[Math.floor(r() * specials.length)]!);
      const x9 = Float64Array.from({ length: 486 }, (_, i) => xAt(i, r));
      const g = Float64Array.from({ length: 36 }, (_, i) => gAt(i, r));
      const h = Float64Array.from({ length: 36 }, (_, i) => gAt(i + 5, r));
      const values = new Map([["a", a], ["b", b], ["x", x], ["g", g], ["h", h], ["a7", a7], ["x9", x9]]);
      const simple = evaluate(model.outputs, { values });
      const raw = evaluate(program.outputs.map((o) => o.node), { values });
      const got = compile(source, { dtype: "f64" }).forward({ a, b, x, g, h, a7, x9 });
      const show = (v: number) => (Object.is(v, -0) ? "-0" : String(v));
      program.outputs.forEach((o, j) => {
        const want = simple.get(model.outputs[j]!)!.data;
        const unsimplified = raw.get(o.node)!.data;
        const e = got[o.name] as Float64Array;
        for (let i = 0; i < want.length; i++) {
          expect(Object.is(e[i], want[i]), `${o.name}[${i}]: emitted ${show(e[i]!)}, interpreter ${show(want[i]!)}`).toBe(true);
          expect(Object.is(want[i], unsimplified[i]), `${o.name}[${i}]: simplified ${show(want[i]!)}, unsimplified ${show(unsimplified[i]!)}`).toBe(true);
        }
      });
    });
  });
});

describe("emitted vs interpreter: special values", () => {
  // Every elementwise built-in, and reductions and matmuls over them, at -0, ±Infinity,
  // NaN, underflow and overflow edges: the emitted f64 code computes exactly what the
  // reference does (Object.is: -0 and NaN too), and so does the simplified graph.
  const special = [-0, 0, Infinity, -Infinity, NaN, 1, -1, 0.5, -0.5, 2, -2.5, 710, -710, 800, -800, 1e-310, -1e-310, 3];
  const unary = ["exp", "log", "log1p", "expm1", "sqrt", "abs", "sin", "cos", "tan", "asin", "acos", "atan", "tanh",
    "sinh", "cosh", "sigmoid", "relu", "softplus", "square", "sign", "floor", "gelu", "elu", "leaky_relu", "-"];
  const binary = ["a + b", "a - b", "a * b", "a / b", "pow(a, b)", "a ^ 2", "a ^ 3", "a ^ 0.5", "a ^ -1", "a ^ 0", "a ^ 1",
    "maximum(a, b)", "minimum(a, b)", "where(a > b, a, b)", "clip(a, -1, b)", "a < b", "a <= b", "a == b", "a != b",
    "log(sigmoid(a))", "a * 0", "a + 0", "a - 0", "0 - a", "a * 1", "a / 1", "--a", "a - a", "exp(log(a))",
    "sum(a, axis = 0)", "max(a, axis = 0)", "min(a, axis = 0)", "prod(a, axis = 0)", "mean(a, axis = 0)", "logsumexp(a, axis = 0)",
    "softmax(a, axis = 0)", "log_softmax(b)", "max(a * b, axis = 1)", "sum(a + b, axis = 1)", "a @ b", "b @ a", "transpose(a) @ a"];
  const n = special.length;
  const defs = [
    ...unary.map((f, i) => `u${i} = ${f === "-" ? "-a" : `${f}(a)`}`),
    ...binary.map((f, i) => `b${i} = ${f}`),
  ];
  const names = defs.map((d) => d.split(" = ")[0]!);
  const source = `input a: [${n}, 1]\ninput b: [1, ${n}]\n${defs.join("\n")}\noutput ${names.join(", ")}\n`;

  it("f64 emitted code, simplified and unsimplified roots agree exactly", () => {
    const program = lowerSource(source, { filename: "special.grad" });
    const model = buildModel(program);
    const values = new Map([["a", Float64Array.from(special)], ["b", Float64Array.from(special)]]);
    const simple = evaluate(model.outputs, { values });
    const raw = evaluate(program.outputs.map((o) => o.node), { values });
    const fwd = compile(source, { dtype: "f64" }).forward({ a: Float64Array.from(special), b: Float64Array.from(special) });
    program.outputs.forEach((o, k) => {
      const got = Float64Array.from(fwd[o.name] as Float64Array);
      const want = simple.get(model.outputs[k]!)!.data;
      const unsimplified = raw.get(o.node)!.data;
      for (let i = 0; i < want.length; i++) {
        // Elementwise results are [n, 1] (of a) or [n, n] (of a and b).
        const at = want.length === n ? `${defs[k]} at a = ${special[i]}` : want.length === n * n ? `${defs[k]} at a = ${special[Math.floor(i / n)]}, b = ${special[i % n]}` : `${defs[k]}[${i}]`;
        const show = (v: number) => (Object.is(v, -0) ? "-0" : String(v));
        expect(Object.is(got[i], want[i]), `${at}: emitted ${show(got[i]!)}, interpreter ${show(want[i]!)}`).toBe(true);
        expect(Object.is(want[i], unsimplified[i]), `${at}: simplified ${show(want[i]!)}, unsimplified ${show(unsimplified[i]!)}`).toBe(true);
      }
    });
  });
});

describe("emitted vs interpreter: a max-pool computed in its conv's loop", () => {
  // maxpool2d(conv) runs in the conv's loop window by window (never storing the conv's
  // output) and keeps each window's first-maximum tap for the filter gradient. Integer
  // weights and inputs make the conv's outputs tie (all of them with zero weights), and
  // NaN, infinities and -0 in x reach them: the pooled values, the objective and the
  // gradients are exactly (Object.is) the interpreter's, on the simplified and the raw graph.
  const source = `input x: [2, 2, 6, 6]
input q: [2, 3, 3, 3]
param k: [3, 2, 2, 2]
param kb: [3]
p = maxpool2d(conv2d(x, k, padding = 1) + reshape(kb, [3, 1, 1]), size = 2)
loss = sum(p * q)
output p
minimize loss
`;
  const program = lowerSource(source, { filename: "pooled-conv.grad" });
  const model = buildModel(program);
  const rawGrads = gradients(new Builder(program.graph, undefined), program.objective!.node, program.params.map((p) => p.node));
  const roots = (ir: Node[]) => [program.outputs[0]!.node, program.objective!.node, ...ir];
  const ints = [1, -2, 3, 0, -0, 2, -1, 1];
  const cases: [string, (i: number, r: () => number) => number, (i: number, r: () => number) => number][] = [
    ["zero weights: every window a tie", (i) => ints[i % ints.length]!, () => 0],
    ["integer weights and inputs", (i) => ints[(i * 5) % ints.length]!, (_i, r) => [1, 0, -1, 2][Math.floor(r() * 4)]!],
    ["x with NaN, infinities and -0", (i, r) => [NaN, Infinity, -Infinity, -0, 1, 0, 2, -1][Math.floor(r() * 8)]!, (_i, r) => [1, 0, -1][Math.floor(r() * 3)]!],
  ];
  cases.forEach(([what, xAt, kAt], c) => {
    it(`agrees exactly: ${what}`, () => {
      const r = rng(31 + c);
      const x = Float64Array.from({ length: 144 }, (_, i) => xAt(i, r));
      const q = Float64Array.from({ length: 54 }, (_, i) => ints[(i * 3) % ints.length]!);
      const k = Float64Array.from({ length: 24 }, (_, i) => kAt(i, r));
      const kb = Float64Array.from([0, 1, -0]);
      const values = new Map([["x", x], ["q", q], ["k", k], ["kb", kb]]);
      const want = evaluate(roots(model.grads!), { values });
      const raw = evaluate(roots(rawGrads), { values });
      const compiled = compile(source, { dtype: "f64", filename: "pooled-conv.grad" });
      const got = compiled.valueAndGrad({ x, q, k, kb });
      const fwd = compiled.forward({ x, q, k, kb });
      const results: [string, ArrayLike<number>, Float64Array, Float64Array][] = [
        ["p", fwd.p as Float64Array, want.get(roots(model.grads!)[0]!)!.data, raw.get(roots(rawGrads)[0]!)!.data],
        ["loss", [got.value], want.get(program.objective!.node)!.data, raw.get(program.objective!.node)!.data],
        ["d_k", got.grads.k!, want.get(model.grads![0]!)!.data, raw.get(rawGrads[0]!)!.data],
        ["d_kb", got.grads.kb!, want.get(model.grads![1]!)!.data, raw.get(rawGrads[1]!)!.data],
      ];
      for (const [name, e, w, u] of results) {
        for (let i = 0; i < w.length; i++) {
          expect(Object.is(e[i], w[i]), `${name}[${i}]: emitted ${e[i]}, interpreter ${w[i]}`).toBe(true);
          expect(Object.is(w[i], u[i]), `${name}[${i}]: simplified ${w[i]}, unsimplified ${u[i]}`).toBe(true);
        }
      }
    });
  });
  it("computes the pool in the conv's loop: no conv kernel, the taps stored", () => {
    const emitted = compileToSource(source, { dtype: "f64", filename: "pooled-conv.grad" }).text;
    expect(emitted).not.toMatch(/\/\/ conv \[/);
    expect(emitted).not.toMatch(/maxpool2d_grad \[/);
    expect(emitted).toMatch(/const t_?\d* = .*\| 0;/);
  });
});
