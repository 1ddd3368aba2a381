// Property test over random well-shaped programs: a seeded generator writes gradc source
// (random chains of elementwise, broadcasting, reduction, matmul, transpose, slice, reshape,
// concat and in-language grad ops over small shapes); the f64 build's valueAndGrad must
// agree with the interpreter and with central finite differences of its own forward
// objective, and simplification must preserve every value. A failure prints the seed and
// the program. For a longer hunt: GRADC_RUNS=2000 GRADC_SEED=7 npx vitest run test/differential

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { gradients } from "../../src/autodiff";
import { buildModel, compile, type CompiledModel } from "../../src/index";
import { evaluate } from "../../src/interpret";
import { numel, type Node } from "../../src/ir";
import { lowerSource, type LoweredProgram } from "../../src/lower";
import { Builder } from "../../src/ops";
import { rng } from "../helpers/random";
import { propertySeed } from "../helpers/seed";
import { sampleValues, type ValueMode } from "../helpers/values";


// ---- the generator ----

interface Var {
  name: string;
  shape: number[];
}

class ProgramGenerator {
  private readonly r: () => number;
  private readonly lines: string[] = [];
  private readonly vars: Var[] = [];
  private readonly used = new Set<string>();
  private count = 0;

  constructor(seed: number) {
    this.r = rng(seed);
  }

  private int(lo: number, hi: number): number {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)]!;
  }

  private shape(maxRank: number): number[] {
    // size-1 dims too: they broadcast, squeeze and reshape in ways larger ones do not
    return Array.from({ length: this.int(0, maxRank) }, () => this.int(1, 4));
  }

  private define(expr: string, shape: number[], operands: Var[]): void {
    const name = `v${this.count++}`;
    for (const o of operands) this.used.add(o.name);
    this.lines.push(`${name} = ${expr}`);
    this.vars.push({ name, shape });
  }

  generate(): string {
    const header: string[] = [];
    const nInputs = this.int(1, 2);
    const nParams = this.int(1, 3);
    for (let i = 0; i < nInputs; i++) {
      const v = { name: `x${i}`, shape: this.shape(3) };
      header.push(`input ${v.name}: [${v.shape.join(", ")}]`);
      this.vars.push(v);
    }
    for (let i = 0; i < nParams; i++) {
      const v = { name: `p${i}`, shape: this.shape(3) };
      header.push(`param ${v.name}: [${v.shape.join(", ")}]`);
      this.vars.push(v);
    }
    const steps = this.int(3, 10);
    for (let s = 0; s < steps; s++) this.step();
    // Every value nothing else used feeds the objective, through a bounded function.
    const terms = this.vars.filter((v) => !this.used.has(v.name)).map((v, i) => {
      const f = i % 2 === 0 ? `tanh(${v.name})` : `${v.name} * ${v.name} * 0.1`;
      return v.shape.length === 0 ? f : `sum(${f})`;
    });
    const last = this.vars[this.vars.length - 1]!;
    return [...header, ...this.lines, `loss = ${terms.join(" + ")}`, `output ${last.name}`, "minimize loss", ""].join("\n");
  }

  /** Mostly extend the latest value or start from a param, so chains get deep and params
   *  reach the objective through many ops. */
  private operand(): Var {
    const u = this.r();
    if (u < 0.5) return this.vars[this.vars.length - 1]!;
    if (u < 0.8) return this.pick(this.vars.filter((v) => v.name.startsWith("p")));
    return this.pick(this.vars);
  }

  private step(): void {
    const a = this.operand();
    const kind = this.pick(["unary", "unary", "binary", "binary", "binary", "reduce", "softmax", "matmul", "matmul", "transpose", "slice", "reshape", "concat", "broadcast", "grad"]);
    const rank = a.shape.length;
    switch (kind) {
      case "unary": {
        const f = this.pick([
          "sin(A)", "cos(A)", "tanh(A)", "sigmoid(A)", "softplus(A)", "square(A)", "atan(A)", "abs(A)",
          "relu(A)", "exp(tanh(A))", "log(1 + square(A))", "sqrt(1 + A * A)", "-A", "A ^ 3", "elu(A)",
          "gelu(A)", "leaky_relu(A, alpha = 0.1)", "0.5 * A + 1.25", "clip(A, -0.5, 0.75)", "log_softmax(A)",
        ]);
        if (f === "log_softmax(A)" && rank === 0) return this.define(`sin(${a.name})`, a.shape, [a]);
        return this.define(f.replace(/A/g, a.name), a.shape, [a]);
      }
      case "binary": {
        const partners = this.vars.filter((v) => broadcast(a.shape, v.shape) !== undefined);
        const b = this.pick(partners);
        const shape = broadcast(a.shape, b.shape)!;
        const f = this.pick(["A + B", "A - B", "A * B", "A / (1 + B ^ 2)", "maximum(A, B)", "minimum(A, B)", "where(A > B, A, B * 2)", "A * tanh(B)"]);
        return this.define(f.replace(/A/g, a.name).replace(/B/g, b.name), shape, [a, b]);
      }
      case "reduce": {
        if (rank === 0) return this.define(`${a.name} * 2`, a.shape, [a]);
        const op = this.pick(["sum", "mean", "max", "min", "logsumexp", "prod"]);
        const arg = op === "prod" ? `1 + 0.2 * tanh(${a.name})` : a.name;
        if (this.r() < 0.25) return this.define(`${op}(${arg})`, [], [a]);
        const axes = [...new Set(Array.from({ length: this.int(1, rank) }, () => this.int(0, rank - 1)))].sort();
        const keepdims = this.r() < 0.5;
        const written = axes.map((k) => (this.r() < 0.5 ? k - rank : k));
        const axisText = written.length === 1 ? `${written[0]}` : `[${written.join(", ")}]`;
        const shape = keepdims ? a.shape.map((d, k) => (axes.includes(k) ? 1 : d)) : a.shape.filter((_, k) => !axes.includes(k));
        return this.define(`${op}(${arg}, axis = ${axisText}${keepdims ? ", keepdims = true" : ""})`, shape, [a]);
      }
      case "softmax": {
        if (rank === 0) return this.define(`sigmoid(${a.name})`, a.shape, [a]);
        return this.define(`softmax(${a.name}, axis = ${this.int(0, rank - 1)})`, a.shape, [a]);
      }
      case "matmul": {
        if (rank === 0) return this.define(`${a.name} * ${a.name}`, a.shape, [a]);
        const k = a.shape[rank - 1]!;
        const partners = this.vars.filter((v) => matmulShape(a.shape, v.shape) !== undefined);
        if (partners.length > 0 && this.r() < 0.7) {
          const b = this.pick(partners);
          return this.define(`${a.name} @ ${b.name}`, matmulShape(a.shape, b.shape)!, [a, b]);
        }
        if (rank === 1) return this.define(`${a.name} @ ${a.name}`, [], [a]);
        if (rank === 2) return this.define(`${a.name} @ transpose(${a.name})`, [a.shape[0]!, a.shape[0]!], [a]);
        void k;
        return this.define(`${a.name} @ transpose(${a.name}, [0, 2, 1])`, [a.shape[0]!, a.shape[1]!, a.shape[1]!], [a]);
      }
      case "transpose": {
        if (rank < 2) return this.define(`cos(${a.name})`, a.shape, [a]);
        const perm = shuffle(Array.from({ length: rank }, (_, i) => i), this.r);
        if (this.r() < 0.3) return this.define(`transpose(${a.name})`, [...a.shape].reverse(), [a]);
        return this.define(`transpose(${a.name}, [${perm.join(", ")}])`, perm.map((p) => a.shape[p]!), [a]);
      }
      case "slice": {
        // Only axes of 2 or more, so no slice comes out empty.
        const wide = a.shape.flatMap((d, k) => (d >= 2 ? [k] : []));
        if (wide.length === 0) return this.define(`${a.name} - 0.5`, a.shape, [a]);
        const axis = this.pick(wide);
        const size = a.shape[axis]!;
        const forms: [string, number | null][] = [["1:", size - 1], [":-1", size - 1], ["::-1", size], ["0", null], ["-1", null], ["::2", Math.ceil(size / 2)], ["1:3", Math.min(size, 3) - 1]];
        const [text, kept] = this.pick(forms);
        const useEllipsis = axis === rank - 1 && rank > 1 && this.r() < 0.5;
        const index = useEllipsis ? ["...", text] : [...Array.from({ length: axis }, () => ":"), text];
        const shape = a.shape.flatMap((d, k) => (k !== axis ? [d] : kept === null ? [] : [kept]));
        return this.define(`${a.name}[${index.join(", ")}]`, shape, [a]);
      }
      case "reshape": {
        const n = numel(a.shape);
        if (n % 2 === 0 && this.r() < 0.5) return this.define(`reshape(${a.name}, [-1, 2])`, [n / 2, 2], [a]);
        return this.define(`reshape(${a.name}, [-1])`, [n], [a]);
      }
      case "concat": {
        if (rank === 0) return this.define(`${a.name} + 1`, a.shape, [a]);
        const partners = this.vars.filter((v) => v.shape.length === rank && v.shape.every((d, i) => d === a.shape[i]));
        const b = this.pick(partners);
        const axis = this.int(0, rank - 1);
        const shape = a.shape.map((d, i) => (i === axis ? d * 2 : d));
        return this.define(`concat([${a.name}, sin(${b.name})], axis = ${axis})`, shape, [a, b]);
      }
      case "grad": {
        // Second order: the gradient of a scalar of this value with respect to a param,
        // differentiated again by the objective.
        const p = this.pick(this.vars.filter((v) => v.name.startsWith("p")));
        const scalar = rank === 0 ? `sin(${a.name})` : `sum(sin(${a.name}) * ${a.name})`;
        return this.define(`grad(${scalar}, ${p.name})`, p.shape, [a]);
      }
      default: {
        if (rank >= 3) return this.define(`sum(${a.name}, axis = 0)`, a.shape.slice(1), [a]);
        const shape = [this.int(2, 3), ...a.shape];
        return this.define(`broadcast_to(${a.name}, [${shape.join(", ")}])`, shape, [a]);
      }
    }
  }
}

function shuffle(xs: number[], r: () => number): number[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

function broadcast(a: number[], b: number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let k = 0; k < rank; k++) {
    const x = a[a.length - rank + k] ?? 1;
    const y = b[b.length - rank + k] ?? 1;
    if (x !== y && x !== 1 && y !== 1) return undefined;
    out.push(Math.max(x, y));
  }
  return out;
}

/** NumPy matmul for ranks 1 to 3 (rank 3 a batch, broadcast against rank 2). */
function matmulShape(a: number[], b: number[]): number[] | undefined {
  if (a.length === 0 || b.length === 0) return undefined;
  const k = a[a.length - 1]!;
  const kb = b.length === 1 ? b[0]! : b[b.length - 2]!;
  if (k !== kb) return undefined;
  const rows = a.length === 1 ? [] : [a[a.length - 2]!];
  const cols = b.length === 1 ? [] : [b[b.length - 1]!];
  const batchA = a.length === 3 ? [a[0]!] : [];
  const batchB = b.length === 3 ? [b[0]!] : [];
  if (batchA.length && batchB.length && batchA[0] !== batchB[0]) return undefined;
  const batch = batchA.length ? batchA : batchB;
  return [...batch, ...rows, ...cols];
}

// ---- the checks ----

function close(got: number, want: number, rtol: number, atol: number): boolean {
  if (got === want || (Number.isNaN(got) && Number.isNaN(want))) return true;
  if (!Number.isFinite(got) || !Number.isFinite(want)) return false; // Infinity or NaN on one side only
  return Math.abs(got - want) <= rtol * Math.abs(want) + atol;
}

function maxAbs(xs: ArrayLike<number>): number {
  let m = 0;
  // the scale of the finite entries: an infinite one must not make every tolerance infinite
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i]!)) m = Math.max(m, Math.abs(xs[i]!));
  return m;
}

function compareArrays(got: ArrayLike<number>, want: ArrayLike<number>, rtol: number, label: string, noise = 0): void {
  if (got.length !== want.length) throw new Error(`${label}: length ${got.length}, want ${want.length}`);
  const atol = rtol * Math.max(1, maxAbs(want)) + noise;
  for (let i = 0; i < want.length; i++) {
    if (!close(got[i]!, want[i]!, rtol, atol)) throw new Error(`${label}[${i}]: got ${got[i]}, want ${want[i]}`);
  }
}

function randomValues(program: LoweredProgram, seed: number, mode: ValueMode = "random"): Record<string, Float64Array> {
  const r = rng(seed ^ 0x9e3779b9);
  const values: Record<string, Float64Array> = {};
  for (const d of [...program.inputs, ...program.params]) {
    values[d.name] = Float64Array.from(sampleValues(numel(d.shape as number[]), r, mode, { extremes: seed % 2 === 0 }));
  }
  return values;
}

function interpret(roots: Node[], values: Record<string, Float64Array>): Float64Array[] {
  const results = evaluate(roots, { values: new Map(Object.entries(values)) });
  return roots.map((n) => results.get(n)!.data);
}

function objectiveOf(model: CompiledModel, values: Record<string, Float64Array>): number {
  return model.forward(values).loss as number;
}

/** All the checks for one seed; throws with a message naming what disagreed. */
function checkProgram(source: string, seed: number): void {
  const program = lowerSource(source, { filename: "random.grad" });
  const built = buildModel(program);
  const simplified = [...built.outputs, built.objective!, ...built.grads!];
  const rawGrads = gradients(new Builder(program.graph, undefined), program.objective!.node, program.params.map((p) => p.node));
  const raw = [...program.outputs.map((o) => o.node), program.objective!.node, ...rawGrads];
  const values = randomValues(program, seed);

  // simplify preserves values (interpreter on both graphs)
  const simple = interpret(simplified, values);
  const unsimplified = interpret(raw, values);
  const names = ["output", "objective", ...program.params.map((p) => `d_${p.name}`)];
  simple.forEach((v, i) => compareArrays(v, unsimplified[i]!, 1e-9, `simplified vs unsimplified ${names[i]}`));

  // emitted f64 vs the interpreter
  const model = compile(source, { dtype: "f64", filename: "random.grad" });
  const out = model.forward(values)[program.outputs[0]!.name]!;
  compareArrays(typeof out === "number" ? [out] : Float64Array.from(out), simple[0]!, 1e-9, "emitted forward output");
  const { value, grads } = model.valueAndGrad(values);
  compareArrays([value], simple[1]!, 1e-9, "emitted objective");
  const emittedGrads = program.params.map((p) => Float64Array.from(grads[p.name]!));
  emittedGrads.forEach((g, i) => compareArrays(g, simple[i + 2]!, 1e-9, `emitted d_${program.params[i]!.name}`));

  // emitted f64 vs the interpreter again, at adversarial values (ties, zeros, integers,
  // extremes), where kinks and tie rules decide the result; no finite differences there
  const adversarial = randomValues(program, seed, "adversarial");
  const want = interpret(simplified, adversarial);
  const got = model.valueAndGrad(adversarial);
  compareArrays([got.value], want[1]!, 1e-9, "emitted objective at adversarial values");
  program.params.forEach((p, i) => compareArrays(Float64Array.from(got.grads[p.name]!), want[i + 2]!, 1e-9, `emitted d_${p.name} at adversarial values`));

  // emitted gradients vs central differences of the emitted forward objective
  program.params.forEach((p, i) => {
    const w = values[p.name]!;
    const fd = new Float64Array(w.length);
    for (let k = 0; k < w.length; k++) {
      const x = w[k]!;
      const h = 1e-6 * Math.max(1, Math.abs(x));
      w[k] = x + h;
      const up = objectiveOf(model, values);
      w[k] = x - h;
      const down = objectiveOf(model, values);
      w[k] = x;
      fd[k] = (up - down) / (2 * h);
    }
    // Rounding in the objective, divided by 2h, bounds how well a difference can do.
    const noise = (1e-15 * Math.max(1, Math.abs(value))) / (1e-6 * Math.max(1, maxAbs(w)));
    compareArrays(emittedGrads[i]!, fd, 1e-4, `d_${p.name} vs central differences`, noise);
  });
}

describe("random programs", () => {
  it("valueAndGrad agrees with the interpreter and finite differences; simplify preserves values", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x7fffffff }), (seed) => {
        const source = new ProgramGenerator(seed).generate();
        try {
          checkProgram(source, seed);
        } catch (e) {
          throw new Error(`seed ${seed}: ${e instanceof Error ? e.message : String(e)}\n--- program ---\n${source}`);
        }
      }),
      { seed: process.env.GRADC_SEED ? Number(process.env.GRADC_SEED) : propertySeed(20240601), numRuns: Number(process.env.GRADC_RUNS ?? 100), endOnFailure: true },
    );
  }, 600_000);

  it("the generator is deterministic and writes well-shaped programs", () => {
    expect(new ProgramGenerator(7).generate()).toBe(new ProgramGenerator(7).generate());
    for (let seed = 0; seed < 50; seed++) {
      const program = lowerSource(new ProgramGenerator(seed).generate());
      expect(program.objective?.node.shape, `seed ${seed}: a scalar objective`).toEqual([]);
      expect(program.params.length, `seed ${seed}: params`).toBeGreaterThan(0);
    }
  });
});
