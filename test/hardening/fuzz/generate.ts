// A generator of valid gradc models, driven by a tape of choices (so fast-check shrinks a
// failing model by shrinking its tape): free or bound dims, inputs and params (some with
// names that are JS keywords, globals or the emitted code's own identifiers), user `fn`s,
// elementwise ops with broadcasting, reductions with axes and keepdims, matmul, reshape,
// transpose, slicing, softmax / log_softmax / cross_entropy, the stable forms, NaN-safe
// `where`, in-language `grad(...)` and a `minimize` with an optimizer. Value bounds are
// tracked so exp never overflows and every objective is finite at inputs in [-1, 1].

import { createRandom } from "../../../src/train/random";

export class Tape {
  private pos = 0;
  private readonly rest: () => number;
  constructor(private readonly values: readonly number[]) {
    this.rest = createRandom(values.reduce((h, v) => Math.imul(h ^ v, 0x9e3779b1), values.length));
  }

  /** An integer in [0, n): the next choice on the tape, then from a PRNG seeded by it. */
  int(n: number): number {
    if (n <= 1) return 0;
    const v = this.values[this.pos++];
    return v === undefined ? Math.floor(this.rest() * n) : v % n;
  }

  choose<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  chance(percent: number): boolean {
    return this.int(100) < percent;
  }
}

type Dim = number | "n";

interface Tensor {
  name: string;
  shape: Dim[];
  /** An upper bound of |value| at inputs and params in [-1.1, 1.1]. */
  bound: number;
  /** Params it depends on. */
  params: Set<string>;
}

export interface GeneratedModel {
  source: string;
  /** Compile-time sizes (when the dim is bound). */
  sizes?: Record<string, number>;
  /** Free dims' values at run time. */
  runtimeDims: Record<string, number>;
}

/** Names that must survive as model names: JS keywords, globals, builtins and names like
 *  the emitted code's own identifiers. */
export const hostileNames = [
  "constructor", "__proto__", "toString", "valueOf", "hasOwnProperty", "Math", "Float32Array", "Float64Array",
  "Object", "arguments", "eval", "this", "undefined", "NaN", "Infinity", "hasOwn", "fail", "record", "params",
  "F", "values", "known", "run_step", "step_b0", "grad_b1", "p_w", "in_x", "s_loss", "t_12", "i", "acc", "view",
  "let", "new", "return", "function", "class", "delete", "typeof", "null", "void", "yield", "await", "prototype",
];

const N = 3;

export function generateModel(tape: Tape): GeneratedModel {
  return new ModelGenerator(tape).generate();
}

class ModelGenerator {
  private readonly header: string[] = [];
  private readonly paramLines: string[] = [];
  private readonly fnLines: string[] = [];
  private readonly lines: string[] = [];
  private readonly tensors: Tensor[] = [];
  private readonly used = new Set<string>();
  private readonly names = new Set<string>();
  private readonly fns: { name: string; arity: number; body: string; scale: number }[] = [];
  private hasDim = false;
  private dimBound = false;
  private count = 0;

  constructor(private readonly t: Tape) {}

  private fresh(prefix: string): string {
    if (this.t.chance(12)) {
      const h = this.t.choose(hostileNames);
      if (!this.names.has(h)) { this.names.add(h); return h; }
    }
    let name = `${prefix}${this.count++}`;
    while (this.names.has(name)) name = `${prefix}${this.count++}`;
    this.names.add(name);
    return name;
  }

  private size(): Dim {
    if (this.hasDim && this.t.chance(30)) return "n";
    return this.t.choose([1, 2, 3, 4]);
  }

  private shape(maxRank: number): Dim[] {
    return Array.from({ length: this.t.int(maxRank + 1) }, () => this.size());
  }

  generate(): GeneratedModel {
    this.hasDim = this.t.chance(40);
    this.dimBound = this.hasDim && this.t.chance(50);
    if (this.hasDim) this.header.push("dim n");
    const inputs = 1 + this.t.int(2);
    for (let k = 0; k < inputs; k++) {
      let shape = this.shape(3);
      // The first input carries the free dim exactly once, so it is read from its length.
      if (k === 0 && this.hasDim && !this.dimBound) shape = ["n" as Dim, ...shape.filter((d) => d !== "n")].slice(0, 3);
      const name = this.fresh("x");
      this.header.push(shape.length === 0 && this.t.chance(50) ? `input ${name}` : `input ${name}: [${shape.join(", ")}]`);
      this.tensors.push({ name, shape, bound: 1, params: new Set() });
    }
    const params = 1 + this.t.int(3);
    for (let k = 0; k < params; k++) this.newParam(this.shape(2).map((d) => (d === "n" && !this.dimBound ? 2 : d)));
    if (this.t.chance(40)) this.defineFn();
    // Now and then a long model: large bodies take other codegen paths (kernel functions
    // shared between identical groups, split run functions).
    const steps = this.t.chance(3) ? 150 + this.t.int(350) : 2 + this.t.int(9);
    for (let s = 0; s < steps; s++) this.step();

    const terms = this.tensors.filter((v) => !this.used.has(v.name) && v.params.size > 0)
      .map((v, i) => this.toScalar(v, i));
    for (const v of this.tensors) if (v.params.size > 0 && terms.length === 0) terms.push(this.toScalar(v, 0));
    const loss = this.fresh("loss");
    const opt = this.t.choose(["", " with sgd(lr = 0.1)", " with momentum(lr = 0.05, beta = 0.9)", " with adam(lr = 0.01)"]);
    const defs = this.tensors.filter((v) => !this.header.some((h) => h.startsWith(`input ${v.name}`)) && !this.paramLines.some((h) => h.startsWith(`param ${v.name}`)));
    const outputs = defs.filter(() => this.t.chance(30)).map((v) => v.name);
    const source = [
      ...this.header, ...this.paramLines, ...this.fnLines, ...this.lines,
      `${loss} = ${terms.join(" + ")}`,
      ...(outputs.length > 0 ? [`output ${outputs.join(", ")}`] : []),
      `minimize ${loss}${opt}`, "",
    ].join("\n");
    return {
      source,
      ...(this.dimBound ? { sizes: { n: N } } : {}),
      runtimeDims: this.hasDim && !this.dimBound ? { n: N } : {},
    };
  }

  /** A bounded scalar of a tensor for the objective. */
  private toScalar(v: Tensor, i: number): string {
    const inner = v.bound > 20 || i % 2 === 0 ? `tanh(${v.name})` : `${v.name} * ${v.name} * 0.05`;
    return v.shape.length === 0 ? inner : this.t.choose([`sum(${inner})`, `mean(${inner})`]);
  }

  private newParam(shape: Dim[]): Tensor {
    const name = this.fresh("w");
    const init = this.t.choose(["", " = uniform(-1, 1)", " = normal(0, 0.5)", " = glorot_uniform", " = uniform(0.2, 0.9)", " = constant(0.3)"]);
    this.paramLines.push(shape.length === 0 && this.t.chance(50) ? `param ${name}${init}` : `param ${name}: [${shape.join(", ")}]${init}`);
    const p: Tensor = { name, shape, bound: 1.1 * (1 + (init.includes("glorot") ? 1 : 0)), params: new Set([name]) };
    this.tensors.push(p);
    return p;
  }

  private defineFn(): void {
    const name = this.fresh("f");
    const [a, b] = [this.fresh("a"), this.fresh("b")];
    const body = this.t.choose([
      { text: `${a} * tanh(${b}) + 0.5 * ${a}`, arity: 2, scale: 1.5 },
      { text: `sigmoid(${a}) * ${b} - ${b} ^ 2 * 0.1`, arity: 2, scale: 1.5 },
      { text: `softplus(${a}) - log(sigmoid(${a}))`, arity: 1, scale: 3 },
      { text: `where(${a} > 0, sqrt(${a}), -${a} * 0.5)`, arity: 1, scale: 1 },
    ]);
    const params = body.arity === 2 ? `${a}, ${b}` : a;
    this.fnLines.push(`fn ${name}(${params}) = ${body.text}`);
    this.fns.push({ name, arity: body.arity, body: body.text, scale: body.scale });
  }

  private define(expr: string, shape: Dim[], bound: number, from: Tensor[]): void {
    const name = this.fresh("v");
    for (const f of from) this.used.add(f.name);
    this.lines.push(`${name} = ${expr}`);
    this.tensors.push({ name, shape, bound, params: new Set(from.flatMap((f) => [...f.params])) });
  }

  /** Mostly the latest value, so chains get deep; else a param or any value. */
  private operand(): Tensor {
    const u = this.t.int(10);
    if (u < 5) return this.tensors[this.tensors.length - 1]!;
    if (u < 8) {
      const ps = this.tensors.filter((v) => this.paramLines.some((l) => l.startsWith(`param ${v.name}`)));
      return this.t.choose(ps);
    }
    return this.t.choose(this.tensors);
  }

  /** `a`, squashed when its bound is large. */
  private small(a: Tensor): [string, number] {
    return a.bound > 4 ? [`tanh(${a.name})`, 1] : [a.name, a.bound];
  }

  private step(): void {
    const a = this.operand();
    const rank = a.shape.length;
    const [A, B] = this.small(a);
    switch (this.t.choose(["unary", "unary", "binary", "binary", "reduce", "matmul", "matmul", "movement", "softmax", "loss", "fn", "grad", "where", "stable", "concat"])) {
      case "unary": {
        const f = this.t.choose<[string, (b: number) => number]>([
          [`sin(${A})`, () => 1], [`cos(${A})`, () => 1], [`tanh(${A})`, () => 1], [`sigmoid(${A})`, () => 1],
          [`softplus(${A})`, (b) => b + 1], [`atan(${A})`, () => 1.6], [`exp(${A})`, (b) => Math.exp(b)],
          [`square(${A})`, (b) => b * b], [`log(1 + ${A} ^ 2)`, (b) => Math.log(1 + b * b)], [`sqrt(${A} * ${A} + 1)`, (b) => b + 1],
          [`-${A}`, (b) => b], [`relu(${A})`, (b) => b], [`abs(${A})`, (b) => b], [`gelu(${A})`, (b) => b + 1],
          [`elu(${A})`, (b) => b + 1], [`leaky_relu(${A}, alpha = 0.2)`, (b) => b], [`clip(${A}, -0.5, 0.7)`, () => 0.7],
          [`${A} ^ 3`, (b) => b ** 3], [`log1p(${A} * ${A})`, (b) => Math.log1p(b * b)], [`expm1(${A})`, (b) => Math.exp(b)],
        ]);
        return this.define(f[0], a.shape, f[1](B), [a]);
      }
      case "binary": {
        const partners = this.tensors.filter((v) => broadcast(a.shape, v.shape) !== undefined);
        if (partners.length === 0 || this.t.chance(20)) {
          const c = this.t.choose(["0.5", "2", "-1.5", "3"]);
          return this.define(`${A} * ${c} + ${c}`, a.shape, B * 3 + 3, [a]);
        }
        const b = this.t.choose(partners);
        const [Bn, Bb] = this.small(b);
        const shape = broadcast(a.shape, b.shape)!;
        const f = this.t.choose<[string, number]>([
          [`${A} + ${Bn}`, B + Bb], [`${A} - ${Bn}`, B + Bb], [`${A} * ${Bn}`, B * Bb], [`${A} / (1 + ${Bn} ^ 2)`, B],
          [`maximum(${A}, ${Bn})`, Math.max(B, Bb)], [`minimum(${A}, ${Bn})`, Math.max(B, Bb)], [`pow(1.5 + sin(${A}), ${Bn})`, 2.5 ** Bb],
        ]);
        return this.define(f[0], shape, f[1], [a, b]);
      }
      case "reduce": {
        if (rank === 0) return this.define(`${A} * 2`, a.shape, 2 * B, [a]);
        const op = this.t.choose(["sum", "mean", "max", "min", "logsumexp", "prod"]);
        const arg = op === "prod" ? `(1 + 0.2 * tanh(${A}))` : A;
        const count = (axes: number[]) => axes.reduce((c, k) => c * (a.shape[k] === "n" ? N : (a.shape[k] as number)), 1);
        const bound = (axes: number[]) => (op === "sum" ? B * count(axes) : op === "prod" ? 1.2 ** count(axes) : op === "logsumexp" ? B + Math.log(count(axes)) : B);
        if (this.t.chance(25)) return this.define(`${op}(${arg})`, [], bound(a.shape.map((_, k) => k)), [a]);
        const axes = [...new Set(Array.from({ length: 1 + this.t.int(rank) }, () => this.t.int(rank)))].sort();
        const keep = this.t.chance(50);
        const written = axes.map((k) => (this.t.chance(50) ? k - rank : k));
        const axisText = written.length === 1 ? `${written[0]}` : `[${written.join(", ")}]`;
        const shape = keep ? a.shape.map((d, k) => (axes.includes(k) ? 1 : d)) : a.shape.filter((_, k) => !axes.includes(k));
        return this.define(`${op}(${arg}, axis = ${axisText}${keep ? ", keepdims = true" : ""})`, shape, bound(axes), [a]);
      }
      case "matmul": {
        if (rank === 0 || rank > 3) return this.define(`${A} * ${A}`, a.shape, B * B, [a]);
        const k = a.shape[rank - 1]!;
        const partner = this.tensors.find((v) => v !== a && v.shape.length === 2 && v.shape[0] === k && this.t.chance(50));
        // A param cannot have a free dim: contract over n only with another tensor.
        if (!partner && k === "n" && !this.dimBound) return this.define(`${A} * ${A}`, a.shape, B * B, [a]);
        const b = partner ?? this.newParam([k, this.t.choose([2, 3])]);
        const [Bn, Bb] = this.small(b);
        const kv = k === "n" ? N : k;
        return this.define(`${A} @ ${Bn}`, [...a.shape.slice(0, -1), b.shape[1]!], B * Bb * kv, [a, b]);
      }
      case "movement": {
        if (rank === 0) return this.define(`broadcast_to(${A}, [2, 3])`, [2, 3], B, [a]);
        const form = this.t.int(5);
        if (form === 0 && rank >= 2) return this.define(`transpose(${A})`, [...a.shape].reverse(), B, [a]);
        if (form === 1 && rank >= 2) {
          const perm = a.shape.map((_, i) => i).reverse();
          if (rank === 3) [perm[0], perm[1]] = [perm[1]!, perm[0]!];
          return this.define(`transpose(${A}, [${perm.join(", ")}])`, perm.map((p) => a.shape[p]!), B, [a]);
        }
        if (form === 2 && a.shape.every((d) => d !== "n")) {
          const n = a.shape.reduce<number>((c, d) => c * (d as number), 1);
          return this.define(`reshape(${A}, [-1])`, [n], B, [a]);
        }
        const axis = this.t.int(rank);
        const d = a.shape[axis]!;
        const pre = Array.from({ length: axis }, () => ":");
        // A free dim can only be indexed with `:`.
        if (d === "n") return this.define(`${A}[${[...pre, ":"].join(", ")}] * 0.5`, a.shape, B, [a]);
        if (d === 1 || this.t.chance(40)) return this.define(`${A}[${[...pre, this.t.choose(["0", "-1"])].join(", ")}]`, a.shape.filter((_, k) => k !== axis), B, [a]);
        const [text, kept] = this.t.choose<[string, Dim]>([["1:", d - 1], ["::-1", d], [":-1", d - 1]]);
        return this.define(`${A}[${[...pre, text].join(", ")}]`, a.shape.map((x, k) => (k === axis ? kept : x)), B, [a]);
      }
      case "softmax": {
        if (rank === 0) return this.define(`sigmoid(${A})`, a.shape, 1, [a]);
        const axis = this.t.int(rank) - (this.t.chance(50) ? rank : 0);
        const f = this.t.choose(["softmax", "log_softmax"]);
        return this.define(`${f}(${A}, axis = ${axis})`, a.shape, f === "softmax" ? 1 : 2 * B + 3, [a]);
      }
      case "loss": {
        if (rank === 0) return this.define(`mse(${A}, 0.5)`, [], (B + 1) ** 2, [a]);
        const partners = this.tensors.filter((v) => v !== a && v.shape.length === rank && v.shape.every((d, i) => d === a.shape[i]));
        const target = partners.length > 0 ? `softmax(${this.small(this.t.choose(partners))[0]})` : `softmax(${A} * 0.5)`;
        const from = partners.length > 0 ? [a] : [a];
        return this.define(`cross_entropy(${A}, ${target})`, [], 2 * B + 3, from);
      }
      case "fn": {
        if (this.fns.length === 0) this.defineFn();
        const f = this.t.choose(this.fns);
        if (f.arity === 1) return this.define(`${f.name}(${A})`, a.shape, (B + 1) * f.scale + 1, [a]);
        const partners = this.tensors.filter((v) => broadcast(a.shape, v.shape) !== undefined);
        const b = this.t.choose(partners);
        const [Bn, Bb] = this.small(b);
        return this.define(`${f.name}(${A}, ${Bn})`, broadcast(a.shape, b.shape)!, (B + 1) * (Bb + 1) * f.scale, [a, b]);
      }
      case "grad": {
        const ps = [...a.params];
        if (ps.length === 0) return this.define(`cos(${A})`, a.shape, 1, [a]);
        const chosen = this.t.choose(ps);
        const p = this.tensors.find((v) => v.name === chosen)!;
        const scalar = rank === 0 ? `sin(${A})` : `sum(sin(${A}) * ${A})`;
        const count = a.shape.reduce<number>((c, d) => c * (d === "n" ? N : d), 1);
        return this.define(`grad(${scalar}, ${p.name})`, p.shape, 50 * count, [a, p]);
      }
      case "where": {
        // NaN-safe selection: the branch not taken may be NaN or infinite there.
        const f = this.t.choose<[string, number]>([
          [`where(${A} > 0, sqrt(${A}), 0)`, Math.sqrt(B)], [`where(${A} > 0.1, log(${A}), 0)`, Math.abs(Math.log(0.1)) + B],
          [`where(${A} < 0.6, ${A} * 2, 1 / (${A} - 0.5))`, Math.max(2 * B, 10)], [`where(${A} > 0, ${A}, exp(${A}) - 1)`, B],
        ]);
        return this.define(f[0], a.shape, f[1] + 1, [a]);
      }
      case "stable": {
        const f = this.t.choose<[string, number]>([
          [`log(sigmoid(${A}))`, B + 1], [`log(1 - sigmoid(${A}))`, B + 1], [`log(1 + exp(${A}))`, B + 1],
          [`logsumexp(${A})`, B + 3], [`log1p(exp(${A}))`, B + 1],
        ]);
        const shape = f[0].startsWith("logsumexp") ? [] : a.shape;
        if (rank === 0 && shape.length === 0 && f[0].startsWith("logsumexp")) return this.define(`log(sigmoid(${A}))`, a.shape, B + 1, [a]);
        return this.define(f[0], shape, f[1], [a]);
      }
      default: {
        if (rank === 0) return this.define(`${A} + 1`, a.shape, B + 1, [a]);
        const partners = this.tensors.filter((v) => v.shape.length === rank && v.shape.every((d, i) => d === a.shape[i]));
        const b = this.t.choose(partners);
        const axis = this.t.int(rank);
        if (a.shape[axis] === "n") return this.define(`${A} * 0.5`, a.shape, B, [a]);
        const shape = a.shape.map((d, i) => (i === axis ? (d as number) * 2 : d));
        return this.define(`concat([${A}, sin(${this.small(b)[0]})], axis = ${axis})`, shape, Math.max(B, 1), [a, b]);
      }
    }
  }
}

function broadcast(a: readonly Dim[], b: readonly Dim[]): Dim[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let k = 0; k < rank; k++) {
    const x = a[a.length - rank + k] ?? 1;
    const y = b[b.length - rank + k] ?? 1;
    if (x === y || y === 1) out.push(x);
    else if (x === 1) out.push(y);
    else return undefined;
  }
  return out;
}

/** Mutations of a valid model's text: lines deleted, duplicated or swapped; a name, a
 *  number or a character replaced. Each is equally likely; `count` are applied. */
export function mutate(source: string, tape: Tape, count: number): string {
  let text = source;
  for (let k = 0; k < count; k++) {
    const lines = text.split("\n");
    const i = tape.int(lines.length);
    const j = tape.int(lines.length);
    switch (tape.int(8)) {
      case 0: lines.splice(i, 1); text = lines.join("\n"); break;
      case 1: lines.splice(i, 0, lines[i]!); text = lines.join("\n"); break;
      case 2: [lines[i], lines[j]] = [lines[j]!, lines[i]!]; text = lines.join("\n"); break;
      case 3: text = replaceToken(text, /[A-Za-z_][A-Za-z0-9_]*/g, tape, () => tape.choose([...namesIn(source), ...hostileNames.slice(0, 12), "sum", "sqrt", "log", "grad", "n", "dim", "x0"])); break;
      case 4: text = replaceToken(text, /\d+(\.\d+)?(e-?\d+)?/g, tape, () => tape.choose(["0", "1", "-1", "2", "3", "7", "64", "0.5", "1e12", "2147483648", "1e400", "-0"])); break;
      case 5: {
        const at = tape.int(text.length + 1);
        text = text.slice(0, at) + tape.choose(["(", ")", "[", "]", ",", ":", "=", "+", "-", "*", "/", "@", "^", "<", ">", "\n", "#", ";", "...", "\u00e9", "$"]) + text.slice(at);
        break;
      }
      case 6: { const at = tape.int(text.length); text = text.slice(0, at) + text.slice(at + 1 + tape.int(4)); break; }
      default: text = replaceToken(text, /axis = -?\d|\[[^\]]*\]/g, tape, () => tape.choose(["axis = 5", "axis = -4", "[]", "[0, 0]", "[n, n]", "[-1, -1]", "[1, 0, 2]", "[2147483647, 2]"])); break;
    }
  }
  return text;
}

function namesIn(source: string): string[] {
  return [...new Set(source.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? [])];
}

function replaceToken(text: string, re: RegExp, tape: Tape, replacement: () => string): string {
  const matches = [...text.matchAll(re)];
  if (matches.length === 0) return text;
  const m = matches[tape.int(matches.length)]!;
  return text.slice(0, m.index) + replacement() + text.slice(m.index! + m[0].length);
}
