// No input, however malformed, makes `compile` throw anything but a GradcError, hang, or
// overflow the stack (SPEC §1 "Errors"). Random strings, token soup and mutations of valid
// programs go through compile (f64); each error must carry a position inside the source and
// a rendered `file:line:col: error:` form; each model that compiles must run `forward` (and
// `valueAndGrad`) on random inputs of the declared shapes, failing only with GradcError.
// fast-check runs with fixed seeds; a failure report names the seed and the shrunk input.

import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compile, GradcError, type CompiledModel } from "../../src/index";
import { expectWithinBudget, limitsMode } from "../helpers/limits";

const filename = "case.grad";
/** Per-case compile budget, asserted only by `npm run test:limits` (test/helpers/limits.ts). */
const perCaseMs = 2000;

// ---- valid programs to mutate ----

const xor = readFileSync(new URL("../../examples/xor/xor.grad", import.meta.url), "utf8");

const mlp = `# a small classifier with a free batch dim
dim n
input x: [n, 4]
input t: [n, 3]
param w1: [4, 8] = glorot_uniform
param b1: [8] = zeros
param w2: [8, 3] = he_normal
param b2: [3]
fn dense(a, w, b) = a @ w + b
h = relu(dense(x, w1, b1))
logits = dense(h, w2, b2)
p = softmax(logits, axis = -1)
loss = cross_entropy(logits, t) + 0.01 * sum(w1 ^ 2)
output p, logits
minimize loss with adam(lr = 0.01)
`;

const shapes = `input x: [4, 6]
param s = constant(0.5)
param w: [6, 2] = normal(0, 0.1)
a = x[:, 1:5]
b = x[..., -1]
c = transpose(x)
d = reshape(x, [3, -1])
e = concat([a, a], axis = 1)
f = where(x > 0, x, -x ** 2)
g = clip(leaky_relu(x, alpha = 0.1), -1, 1)
m = max(x, axis = [0, 1], keepdims = true)
l = logsumexp(x @ w, axis = 1)
r = sum(broadcast_to(s, [2, 2])) + mean(e) + prod(x[0, :2]) + sum(log_softmax(x)) + min(c)
hv = grad(sum(grad(sum(tanh(x @ w) * s), w) ^ 2), w)
loss = mse(x @ w, one_hot(b * 0, 2)) + s * r + sum(l) + sum(hv); out2 = x[2:, ::2]
output a, b, c, d, f, g, m, out2
minimize loss with momentum(lr = 0.1, beta = 0.9)
`;

const conv = `input img: [2, 1, 6, 6]
param k: [2, 1, 3, 3] = glorot_uniform
y = conv2d(img, k, stride = 1, padding = 1)
z = maxpool2d(relu(y), size = 2)
v = avgpool2d(y, size = 3, stride = 3)
loss = mean(z) + sum(v ^ 2)
output z
minimize loss
`;

const scalars = `input t
param a = ones
param b
u = exp(-t) * sin(a * t) + log1p(abs(b)) - sqrt(square(a) + 1) / cosh(b) + expm1(tan(t)) * sinh(acos(sigmoid(t)))
v = gelu(u) + elu(u, alpha = 1) + softplus(u) + sign(u) + floor(u) + atan(u) + asin(sigmoid(u) - 0.5)
w = maximum(u, v) - minimum(u, 0) + pow(abs(u) + 1, 1.5) + (u >= v) * 2 + (u != 0) - (u < 1) / 2
output u, v, w
minimize w ^ 2 - log(sigmoid(u)) with sgd(lr = 0.01)
`;

const bases = { xor, mlp, shapes, conv, scalars };

// ---- the oracle ----

/** Compile `text`; a thrown error must be a well-formed GradcError, a model must run. */
function expectCleanCompile(text: string): "compiled" | "error" {
  const started = performance.now();
  let model: CompiledModel;
  try {
    model = compile(text, { dtype: "f64", filename });
  } catch (e) {
    expectWellFormed(e, text);
    return "error";
  } finally {
    const ms = performance.now() - started;
    if (limitsMode && ms > perCaseMs) throw new Error(`compile took ${ms.toFixed(0)} ms (limit ${perCaseMs}) on ${JSON.stringify(text)}`);
  }
  exercise(model, text);
  return "compiled";
}

function expectWellFormed(e: unknown, text: string): void {
  if (!(e instanceof GradcError)) {
    throw new Error(`not a GradcError on ${JSON.stringify(text)}:\n${e instanceof Error ? e.stack : String(e)}`);
  }
  expect(e.rendered.length).toBeGreaterThan(0);
  if (e.line === 0) return; // no source position (an option error): nothing to point at
  expect(e.line).toBeGreaterThanOrEqual(1);
  expect(e.column).toBeGreaterThanOrEqual(1);
  expect(e.rendered.startsWith(`${e.file}:${e.line}:${e.column}: error: `), e.rendered).toBe(true);
  if (e.file === filename) {
    // The position is inside the source (the column may sit just past a line's end, at EOF).
    const lines = text.split("\n");
    expect(e.line).toBeLessThanOrEqual(lines.length);
    expect(e.column).toBeLessThanOrEqual(lines[e.line - 1]!.length + 1);
    // An unclosed bracket is reported at a bracket that the message names.
    // (Columns on line 1 do not count a byte-order mark.)
    const lineText = (n: number) => (n === 1 ? lines[0]!.replace(/^\uFEFF/, "") : lines[n - 1]!);
    if (e.code === "E0010") expect(e.message).toBe(`unclosed \`${lineText(e.line)[e.column - 1]}\``);
    // Related locations (notes) point inside the source too, and are rendered.
    for (const note of e.notes) {
      if (note.file !== filename) continue;
      expect(note.line).toBeGreaterThanOrEqual(1);
      expect(note.line).toBeLessThanOrEqual(lines.length);
      expect(note.column).toBeGreaterThanOrEqual(1);
      expect(note.column).toBeLessThanOrEqual(lines[note.line - 1]!.length + 1);
      expect(e.rendered).toContain(`${note.file}:${note.line}:${note.column}: note: ${note.message}`);
    }
  }
}

/** forward / valueAndGrad on random inputs of the declared shapes (free dims = 3). */
function exercise(model: CompiledModel, text: string): void {
  const values: Record<string, Float64Array | number> = {};
  let seed = 1;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 4 - 2;
  for (const input of model.meta.inputs) {
    const dims = input.shape.map((d) => (typeof d === "number" ? d : 3));
    const count = dims.reduce((a, b) => a * b, 1);
    if (count > 1_000_000) return; // a mutated shape this large is legal, but not worth filling
    values[input.name] = dims.length === 0 ? random() : Float64Array.from({ length: count }, random);
  }
  for (const call of [() => model.forward(values), () => model.valueAndGrad(values)]) {
    try {
      call();
    } catch (e) {
      if (!(e instanceof GradcError)) {
        throw new Error(`model threw a non-GradcError on ${JSON.stringify(text)}:\n${e instanceof Error ? e.stack : String(e)}`);
      }
    }
  }
}

// ---- generators ----

const tokens = [
  "dim", "input", "param", "fn", "output", "minimize", "with", "true", "false",
  "x", "y", "w", "n", "loss", "h1", "m1", "b1", "y_out", "a", "b",
  "sum", "mean", "exp", "log", "sigmoid", "relu", "softmax", "grad", "mse", "cross_entropy", "transpose",
  "reshape", "concat", "where", "one_hot", "conv2d", "maxpool2d", "uniform", "zeros", "sgd", "adam", "axis", "keepdims", "lr",
  "0", "1", "2", "3", "4", "-1", "0.5", ".5", "1e-3", "2.5E+4", "1e", "3x",
  "(", ")", "[", "]", ",", ":", "=", "+", "-", "*", "/", "@", "^", "**", "<", "<=", ">", ">=", "==", "!=", "...",
  "\n", ";", "#", " ", "$", "\t", "\r\n",
  // what the lexer names or merges: a BOM, invisible spaces, Unicode names, 1.2.3
  "\uFEFF", "\u00A0", "\u2028", "café", "λ", "1.2.3",
];

/** Statement-shaped token soup: more of it gets past the parser than uniform soup does. */
const tokenSoup = fc.array(fc.tuple(fc.constantFrom(...tokens), fc.constantFrom("", " ", " ", "\n")), { maxLength: 40 })
  .map((parts) => parts.map(([t, sep]) => t + sep).join(""));

const names = ["x", "y", "w", "v", "h", "s"];
const exprSoup = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { maxDepth: 4, depthIdentifier: "soup" },
    fc.constantFrom(...names, "1", "0.5", "2", "-1"),
    fc.tuple(tie("e"), fc.constantFrom("+", "-", "*", "/", "@", "^", "<", "=="), tie("e")).map(([a, op, b]) => `${a} ${op} ${b}`),
    fc.tuple(fc.constantFrom("exp", "log", "sigmoid", "relu", "sum", "mean", "softmax", "transpose", "abs", "tanh"), tie("e")).map(([f, a]) => `${f}(${a})`),
    fc.tuple(fc.constantFrom("sum", "max", "logsumexp", "mean"), tie("e"), fc.constantFrom("0", "1", "-1", "[0, 1]")).map(([f, a, ax]) => `${f}(${a}, axis = ${ax})`),
    fc.tuple(tie("e"), fc.constantFrom("0", "-1", ":", "1:", "::2", "..., 0", "0, 1")).map(([a, i]) => `(${a})[${i}]`),
    fc.tuple(tie("e"), fc.constantFrom("w", "v")).map(([a, w]) => `grad(sum(${a}), ${w})`),
    tie("e").map((a) => `-(${a})`),
  ),
})).e;

/** Well-formed-looking programs over a few declared names: many compile, some mis-shape. */
const programSoup = fc.tuple(
  fc.constantFrom("[3]", "[2, 3]", "[3, 3]", "[]", "[n, 3]"),
  fc.constantFrom("[3]", "[3, 2]", "[3, 3]", "[]"),
  fc.array(exprSoup, { minLength: 1, maxLength: 4 }),
  fc.boolean(),
).map(([xs, ws, defs, withMin]) => [
  "dim n",
  `input x: ${xs}`,
  "input y",
  `param w: ${ws} = uniform(-1, 1)`,
  "param v = constant(0.5)",
  ...defs.map((d, i) => `${i === 0 ? "h" : `h${i}`} = ${d}`),
  "output h",
  ...(withMin ? [`minimize sum(h ^ 2)`] : []),
].join("\n"));

// Mutations: character, token and line level, applied one after another.
type Mutation = { kind: number; at: number; other: number; pick: number };
const mutation = fc.record({ kind: fc.nat(11), at: fc.nat(), other: fc.nat(), pick: fc.nat() });
// Mutations that often keep a program valid, so that more mutants reach `forward`.
const smallNumbers = ["0", "1", "2", "3", "5", "0.5", "1e-3", "-1", "-2"];
const harmless = ["  ", " # comment", ";", "\n", "\t"];
const mutationChars = "()[],:=+-*/@^<>!.#;\n _ax019e";
const tokenPattern = /[A-Za-z_][A-Za-z0-9_]*|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?|\.\.\.|\*\*|[<>=!]=|\S/g;

function mutate(text: string, m: Mutation): string {
  const at = text.length === 0 ? 0 : m.at % (text.length + 1);
  const toks = [...text.matchAll(tokenPattern)].map((t) => ({ start: t.index, end: t.index + t[0].length }));
  const tok = toks.length > 0 ? toks[m.at % toks.length]! : { start: 0, end: 0 };
  const lines = text.split("\n");
  const li = m.at % lines.length;
  const lj = m.other % lines.length;
  switch (m.kind) {
    case 0: return text.slice(0, at) + mutationChars[m.pick % mutationChars.length] + text.slice(at);
    case 1: return text.slice(0, at) + text.slice(at + 1);
    case 2: return text.slice(0, at) + mutationChars[m.pick % mutationChars.length] + text.slice(at + 1);
    case 3: return text.slice(0, tok.start) + tokens[m.pick % tokens.length] + " " + text.slice(tok.start);
    case 4: return text.slice(0, tok.start) + text.slice(tok.end);
    case 5: return text.slice(0, tok.start) + tokens[m.pick % tokens.length] + text.slice(tok.end);
    case 6: return [...lines.slice(0, li + 1), lines[li]!, ...lines.slice(li + 1)].join("\n");
    case 7: { const l = [...lines]; [l[li], l[lj]] = [l[lj]!, l[li]!]; return l.join("\n"); }
    case 8: return lines.filter((_, i) => i !== li).join("\n");
    case 10: {
      const numbers = toks.filter((t) => /^[0-9.]/.test(text.slice(t.start, t.end)));
      if (numbers.length === 0) return text;
      const n = numbers[m.other % numbers.length]!;
      return text.slice(0, n.start) + smallNumbers[m.pick % smallNumbers.length] + text.slice(n.end);
    }
    case 11: return text.slice(0, tok.end) + harmless[m.pick % harmless.length] + text.slice(tok.end);
    default: {
      // Swap two tokens.
      const other = toks.length > 0 ? toks[m.other % toks.length]! : tok;
      const [p, q] = tok.start <= other.start ? [tok, other] : [other, tok];
      if (p === q || p.end > q.start) return text;
      return text.slice(0, p.start) + text.slice(q.start, q.end) + text.slice(p.end, q.start) + text.slice(p.start, p.end) + text.slice(q.end);
    }
  }
}

const mutant = (base: string) =>
  fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => ms.reduce(mutate, base));

// ---- the properties ----

describe("compile never throws anything but GradcError", () => {
  it("compiles and runs the base programs", () => {
    for (const [name, text] of Object.entries(bases)) expect(expectCleanCompile(text), name).toBe("compiled");
  });

  it("on arbitrary strings", () => {
    fc.assert(fc.property(fc.string({ maxLength: 60 }), (s) => void expectCleanCompile(s)), { seed: 1, numRuns: 300 });
  });

  it("on arbitrary full-Unicode strings (fc.string with unit 'binary', v4's fullUnicodeString)", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 60 }), (s) => void expectCleanCompile(s)), { seed: 2, numRuns: 300 });
  });

  it("on strings built from the language's tokens", () => {
    fc.assert(fc.property(tokenSoup, (s) => void expectCleanCompile(s)), { seed: 3, numRuns: 600 });
  });

  it("on generated programs over declared names (and runs the ones that compile)", () => {
    let compiled = 0;
    fc.assert(fc.property(programSoup, (s) => void (expectCleanCompile(s) === "compiled" && compiled++)), { seed: 4, numRuns: 200 });
    // The generator is useful only if a fair share gets through to forward.
    expect(compiled).toBeGreaterThan(20);
  });

  for (const [name, base] of Object.entries(bases)) {
    it(`on mutations of ${name} (insert, delete, replace characters and tokens; duplicate, swap, delete lines)`, () => {
      fc.assert(fc.property(mutant(base), (s) => void expectCleanCompile(s)), { seed: 5, numRuns: name === "xor" ? 400 : 250 });
    });
  }
});

describe("pathological sizes give a GradcError, never a stack overflow or a hang", () => {
  const depth = 100_000;
  const deep: Record<string, string> = {
    "parentheses": "(".repeat(depth) + "x" + ")".repeat(depth),
    "unary minus": "-".repeat(depth) + "x",
    "^ chains": "x ^ ".repeat(depth) + "x",
    "nested calls exp(exp(...))": "exp(".repeat(depth) + "x" + ")".repeat(depth),
    "nested lists": "[".repeat(depth) + "x" + "]".repeat(depth),
    "index chains x[0][0]...": "x" + "[0]".repeat(depth),
    // A flat chain is not nesting (it is valid; test/diagnostics compiles 20,000 terms):
    // with a mistake at its end, that mistake is the error, found without recursion.
    "flat + chains ending in a mistake": "x" + " + x".repeat(depth) + " * * x",
  };
  for (const [what, expr] of Object.entries(deep)) {
    it(`${depth.toLocaleString("en")}-deep ${what}`, () => {
      const text = `input x\ny = ${expr}\noutput y\n`;
      const started = performance.now();
      let error: unknown;
      try {
        compile(text, { dtype: "f64", filename });
      } catch (e) {
        error = e;
      }
      const ms = performance.now() - started;
      console.log(`${depth}-deep ${what}: ${ms.toFixed(0)} ms`);
      expect(error).toBeInstanceOf(GradcError);
      expectWellFormed(error, text);
      expect((error as GradcError).line).toBe(2);
      expectWithinBudget(ms, perCaseMs, `${depth}-deep ${what}`);
    });
  }

  it("a 50,000-line chain of definitions a1 = a0 + 1 ... compiles (within 20 s under test:limits)", () => {
    const count = 50_000;
    const lines = ["input a0"];
    for (let i = 1; i <= count; i++) lines.push(`a${i} = a${i - 1} + 1`);
    lines.push(`output a${count}`);
    const started = performance.now();
    const model = compile(lines.join("\n"), { dtype: "f64", filename });
    const ms = performance.now() - started;
    console.log(`${count}-line chain: compiled in ${ms.toFixed(0)} ms`);
    expect(model.forward({ a0: 0.5 })[`a${count}`]).toBe(count + 0.5);
    expectWithinBudget(ms, 20_000, `the ${count}-line chain`);
  }, 60_000);
});
