// Optimizers, as data: their hyperparameters, per-param state, and the update statements
// fused into `step` after the gradient kernels. Updates run in f64 arithmetic on the
// model's arrays. A hyperparameter is a constant or a scalar input read at every step
// (learning-rate schedules); `clip_norm` scales the whole gradient first.

import type { Hyper, OptimizerSpec } from "../lower";
import * as js from "./estree";

/** What every step shares: the step counter, hyperparameter reads, fresh names. */
export interface StepContext {
  /** Module-level step counter name (adam's bias correction). */
  counter: string;
  /** A hyperparameter as an expression: a literal, or the scalar input's boxed value. */
  hyper(h: Hyper): js.Expression;
  fresh(prefix: string): string;
}

export interface UpdateContext extends StepContext {
  /** The param array, per-param state arrays, the element count. */
  param: string;
  state: string[];
  length: js.Expression;
  /** The gradient at element `i` (already scaled when clipping is on). */
  grad(i: js.Expression): js.Expression;
}

export interface OptimizerDef {
  /** How many state arrays (of the param's size) each param needs. */
  stateArrays: number;
  /** Statements run once per step before the per-param updates. */
  prologue(spec: OptimizerSpec, ctx: StepContext): js.Statement[];
  update(spec: OptimizerSpec, ctx: UpdateContext): js.Statement[];
}

const elementLoop = (ctx: UpdateContext, body: (i: js.Expression) => js.Statement[]): js.Statement => {
  const i = ctx.fresh("i");
  return js.loop(i, js.num(0), ctx.length, body(js.id(i)));
};

const sub = (a: js.Expression, b: js.Expression) => js.binary("-", a, b);
const mul = (a: js.Expression, b: js.Expression) => js.binary("*", a, b);
const one = js.num(1);
/** 1 - h, folded for a constant (the emitted text of a constant rate is unchanged). */
const oneMinus = (h: Hyper, ctx: StepContext) => (typeof h === "number" ? js.num(1 - h) : sub(one, ctx.hyper(h)));
type AdamSpec = Extract<OptimizerSpec, { kind: "adam" | "adamw" }>;

// c1 = 1 - b1^t, c2 = 1 - b2^t (bias corrections), after counting this step
const adamPrologue = (spec: OptimizerSpec, ctx: StepContext): js.Statement[] => {
  const s = spec as AdamSpec;
  return [
    js.stmt(js.assign(js.id(ctx.counter), js.num(1), "+=")),
    js.declare("const", "c1", sub(one, js.math("pow", ctx.hyper(s.beta1), js.id(ctx.counter)))),
    js.declare("const", "c2", sub(one, js.math("pow", ctx.hyper(s.beta2), js.id(ctx.counter)))),
  ];
};

// m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= lr m^ / (sqrt(v^) + eps), bias-corrected.
// AdamW first decays the param, decoupled from the gradient: p -= lr * wd * p.
const adamUpdate = (spec: OptimizerSpec, ctx: UpdateContext): js.Statement[] => {
  const s = spec as AdamSpec;
  const g = ctx.fresh("g"), m = ctx.fresh("m"), v = ctx.fresh("v");
  const [ms, vs] = ctx.state as [string, string];
  const lr = ctx.hyper(s.lr), b1 = ctx.hyper(s.beta1), b2 = ctx.hyper(s.beta2);
  return [elementLoop(ctx, (i) => {
    const p = js.index(ctx.param, i);
    const decayed = s.kind === "adamw" ? sub(p, mul(mul(lr, ctx.hyper(s.weight_decay)), p)) : p;
    const step = js.binary("/", mul(lr, js.binary("/", js.id(m), js.id("c1"))),
      js.binary("+", js.math("sqrt", js.binary("/", js.id(v), js.id("c2"))), ctx.hyper(s.eps)));
    return [
      js.declare("const", g, ctx.grad(i)),
      js.declare("const", m, js.binary("+", mul(b1, js.index(ms, i)), mul(oneMinus(s.beta1, ctx), js.id(g)))),
      js.declare("const", v, js.binary("+", mul(b2, js.index(vs, i)), mul(mul(oneMinus(s.beta2, ctx), js.id(g)), js.id(g)))),
      js.stmt(js.assign(js.index(ms, i), js.id(m))),
      js.stmt(js.assign(js.index(vs, i), js.id(v))),
      // One store: the decay and the step round once into the param's type.
      s.kind === "adamw" ? js.stmt(js.assign(p, sub(decayed, step))) : js.stmt(js.assign(p, step, "-=")),
    ];
  })];
};

export const optimizers: Record<OptimizerSpec["kind"], OptimizerDef> = {
  // p -= lr * g
  sgd: {
    stateArrays: 0,
    prologue: () => [],
    update: (spec, ctx) => [elementLoop(ctx, (i) => [
      js.stmt(js.assign(js.index(ctx.param, i), mul(ctx.hyper(spec.lr), ctx.grad(i)), "-=")),
    ])],
  },
  // v = beta * v + g; p -= lr * v   (PyTorch's formulation)
  momentum: {
    stateArrays: 1,
    prologue: () => [],
    update: (spec, ctx) => {
      const beta = (spec as Extract<OptimizerSpec, { kind: "momentum" }>).beta;
      const v = ctx.fresh("v");
      return [elementLoop(ctx, (i) => [
        js.declare("const", v, js.binary("+", mul(ctx.hyper(beta), js.index(ctx.state[0]!, i)), ctx.grad(i))),
        js.stmt(js.assign(js.index(ctx.state[0]!, i), js.id(v))),
        js.stmt(js.assign(js.index(ctx.param, i), mul(ctx.hyper(spec.lr), js.id(v)), "-=")),
      ])];
    },
  },
  adam: { stateArrays: 2, prologue: adamPrologue, update: adamUpdate },
  adamw: { stateArrays: 2, prologue: adamPrologue, update: adamUpdate },
};

/**
 * Clipping by the global L2 norm over every trained param's gradient, as PyTorch's
 * `clip_grad_norm_`: scale = c / (norm + 1e-6), applied only when below 1. Returns the
 * statements computing the scale and the name holding it. The sum of squares gathers in
 * `sum` (a module-level Float64Array(1)), each gradient's part in a block of its own, and
 * the scale is a const of `sum` alone: no local lives across the per-param statements, so
 * a long `step` can be split between any two of them (budget.ts).
 */
export function clipStatements(clipNorm: js.Expression, grads: { buffer: string; length: js.Expression }[], sum: string, fresh: (prefix: string) => string): { statements: js.Statement[]; scale: string } {
  const scale = fresh("clip");
  const total = js.index(sum, js.num(0));
  const statements: js.Statement[] = [js.stmt(js.assign(total, js.num(0)))];
  for (const g of grads) {
    const i = fresh("i"), sq = fresh("sumsq");
    statements.push(js.block([
      js.declare("let", sq, js.num(0)),
      js.loop(i, js.num(0), g.length, [
        js.stmt(js.assign(js.id(sq), mul(js.index(g.buffer, js.id(i)), js.index(g.buffer, js.id(i))), "+=")),
      ]),
      js.stmt(js.assign(total, js.id(sq), "+=")),
    ]));
  }
  const coef = js.binary("/", clipNorm, js.binary("+", js.math("sqrt", total), js.num(1e-6)));
  statements.push(js.declare("const", scale, js.math("min", one, coef)));
  return { statements, scale };
}
