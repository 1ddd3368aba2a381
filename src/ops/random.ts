// Random draws (rand, randn) and the training flag (dropout's switch). A draw is a pure
// function of (call key, stream, flat index): counter-based, so a kernel computes it in
// place wherever it is read, and the forward and backward kernels of one call read the
// same values without a buffer. The call key comes from the model's generator state (seed,
// calls), advanced once per API call by the emitted module (src/codegen/module.ts).

import { InternalError } from "../diagnostics";
import * as js from "../codegen/estree";
import { numel, type Dim, type EvalEnv, type Node, type OpDef, type Shape } from "../ir";
import type { SourceEmit } from "./define";

/**
 * The generator, as JS source shared by emitted modules and the interpreter. `drawMix` is
 * Chris Wellons' lowbias32 (a 32-bit bijection with full avalanche). `drawKey` mixes the
 * seed and the call count (each a safe integer: low and high words); `drawBits` keys two
 * rounds by the stream, so streams never repeat one another's values shifted. A draw is 24
 * bits: uniforms are exact in f32 and lie in [0, 1); normals are Box-Muller on draws 2i and
 * 2i + 1 (so |z| < 5.8). Emitted kernels inline drawUniform and drawNormal as expressions
 * around drawBits (drawExpression): a call returning a double that V8 does not inline
 * allocates a heap number per element, while drawBits returns a small integer.
 */
export const generatorSource = `function drawMix(x) {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  return x ^ (x >>> 16);
}
function drawKey(seed, calls) {
  let h = drawMix((seed | 0) ^ 0x243f6a88);
  h = drawMix(h ^ (Math.floor(seed / 4294967296) | 0));
  h = drawMix(h ^ (calls | 0));
  return drawMix(h ^ (Math.floor(calls / 4294967296) | 0));
}
function drawBits(key, stream, i) {
  const k1 = drawMix(key ^ Math.imul(stream, 0x9e3779b9));
  const k2 = drawMix(k1 ^ 0x5bd1e995);
  return drawMix(drawMix((i + k1) | 0) ^ k2) >>> 8;
}
function drawUniform(key, stream, i) {
  return drawBits(key, stream, i) * 5.9604644775390625e-8;
}
function drawNormal(key, stream, i) {
  return Math.sqrt(-2 * Math.log((drawBits(key, stream, 2 * i) + 1) * 5.9604644775390625e-8)) *
    Math.cos(6.283185307179586 * (drawBits(key, stream, 2 * i + 1) * 5.9604644775390625e-8));
}`;

/** Every function the generator source declares (codegen reserves these names). */
export const generatorNames = ["drawMix", "drawKey", "drawBits", "drawUniform", "drawNormal"] as const;

/** The module-level Float64Array [seed, calls, key] of emitted code (src/codegen/random.ts):
 *  kernels read the current call's key from it. */
export const randomStateName = "generatorState";

const generator = new Function(`"use strict";\n${generatorSource}\nreturn { ${generatorNames.join(", ")} };`)() as {
  drawKey(seed: number, calls: number): number;
  drawUniform(key: number, stream: number, i: number): number;
  drawNormal(key: number, stream: number, i: number): number;
};

/** The key of one call: what every draw of that call is a function of. */
export function randomKey(seed: number, calls: number): number {
  return generator.drawKey(seed, calls);
}

/** The values a draw op gives at one call (the interpreter; tests read masks with it). */
export function drawValues(dist: "uniform" | "normal", key: number, stream: number, count: number): Float64Array {
  const f = dist === "uniform" ? generator.drawUniform : generator.drawNormal;
  return Float64Array.from({ length: count }, (_, i) => f(key, stream, i));
}

function keyOf(env: EvalEnv, op: string): number {
  if (!env.random) throw new InternalError(`${op}: the interpreter needs the generator state (\`random: { seed, calls }\`)`);
  return randomKey(env.random.seed, env.random.calls);
}

/** The flat (row-major) index of a multi-index of `shape`, as a JS expression. */
function flatIndex(idx: js.Expression[], shape: Shape, dim: (d: Dim) => js.Expression): js.Expression {
  if (idx.length === 0) return js.num(0);
  let e = idx[0]!;
  for (let k = 1; k < idx.length; k++) e = js.binary("+", js.mul(e, dim(shape[k]!)), idx[k]!);
  return e;
}

type DrawDef = OpDef & { readonly emit: SourceEmit };

const unit = js.num(5.9604644775390625e-8);

/** drawUniform / drawNormal of the generator source, as one JS expression (the same
 *  operations in the same order, so emitted values equal the interpreter's). */
function drawExpression(dist: "uniform" | "normal", key: js.Expression, stream: js.Expression, i: js.Expression): js.Expression {
  const bits = (index: js.Expression) => js.call("drawBits", key, stream, index);
  if (dist === "uniform") return js.mul(bits(i), unit);
  const twice = js.mul(js.num(2), i);
  const radius = js.call(js.member("Math", "sqrt"), js.mul(js.num(-2), js.call(js.member("Math", "log"), js.mul(js.binary("+", bits(twice), js.num(1)), unit))));
  const angle = js.call(js.member("Math", "cos"), js.mul(js.num(6.283185307179586), js.mul(bits(js.binary("+", twice, js.num(1))), unit)));
  return js.mul(radius, angle);
}

function drawOp(name: "rand" | "randn", dist: "uniform" | "normal"): DrawDef {
  return {
    name, kind: "source", arity: 0, wasm: true,
    shape: (_i, attrs) => attrs.shape as Shape,
    evaluate: (_i, attrs, out, env) => drawValues(dist, keyOf(env, name), attrs.stream as number, numel(out)),
    // `rand([6], stream = 2)`: the stream prints, so a printed program draws the same values.
    print: { kind: "call", fn: name, positional: ["shape"] },
    emit: {
      value: (idx: js.Expression[], node: Node, dim: (d: Dim) => js.Expression) =>
        drawExpression(dist, js.index(randomStateName, js.num(2)), js.num(node.attrs.stream as number), flatIndex(idx, node.shape, dim)),
    },
  };
}

/** Uniform in [0, 1): attrs `shape` and `stream` (which of the call's sequences). */
export const rand = drawOp("rand", "uniform");
/** Standard normal: attrs `shape` and `stream`. */
// Stryker disable next-line StringLiteral: only "uniform" is asked for; any other word draws normals
export const randn = drawOp("randn", "normal");

/** 1 while training (valueAndGrad, step), 0 otherwise (forward, predict): a scalar that each
 *  compiled function replaces by its constant before scheduling (specialiseTraining). */
export const training: OpDef & { readonly emit: SourceEmit } = {
  name: "training", kind: "source", arity: 0,
  shape: () => [],
  evaluate: (_i, _attrs, _out, env) => Float64Array.of(env.training ? 1 : 0),
  // Stryker disable next-line ObjectLiteral,StringLiteral: the printer spells a call by the op's name without it, the same word
  print: { kind: "call", fn: "training" },
  emit: {
    value: () => { throw new InternalError("the training flag reached codegen unspecialised"); },
  },
};

export const randomOps: OpDef[] = [rand, randn, training];
