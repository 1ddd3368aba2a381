// Optimizers, as data: their hyperparameters, per-param state, and the update statements
// fused into `step` after the gradient kernels. Updates run in f64 arithmetic on the
// model's arrays.

import type { OptimizerSpec } from "../lower";
import * as js from "./estree";

export interface UpdateContext {
  /** The param array, the gradient array, per-param state arrays, the element count. */
  param: string;
  grad: string;
  state: string[];
  length: js.Expression;
  /** Module-level step counter name (adam's bias correction). */
  counter: string;
  fresh(prefix: string): string;
}

export interface OptimizerDef {
  /** How many state arrays (of the param's size) each param needs. */
  stateArrays: number;
  /** Statements run once per step before the per-param updates. */
  prologue(spec: OptimizerSpec, counter: string): js.Statement[];
  update(spec: OptimizerSpec, ctx: UpdateContext): js.Statement[];
}

const elementLoop = (ctx: UpdateContext, body: (i: js.Expression) => js.Statement[]): js.Statement => {
  const i = ctx.fresh("i");
  return js.loop(i, js.num(0), ctx.length, body(js.id(i)));
};

export const optimizers: Record<OptimizerSpec["kind"], OptimizerDef> = {
  // p -= lr * g
  sgd: {
    stateArrays: 0,
    prologue: () => [],
    update: (spec, ctx) => [elementLoop(ctx, (i) => [
      js.stmt(js.assign(js.index(ctx.param, i), js.binary("*", js.num(spec.lr), js.index(ctx.grad, i)), "-=")),
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
        js.declare("const", v, js.binary("+", js.binary("*", js.num(beta), js.index(ctx.state[0]!, i)), js.index(ctx.grad, i))),
        js.stmt(js.assign(js.index(ctx.state[0]!, i), js.id(v))),
        js.stmt(js.assign(js.index(ctx.param, i), js.binary("*", js.num(spec.lr), js.id(v)), "-=")),
      ])];
    },
  },
  // m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= lr m^ / (sqrt(v^) + eps), bias-corrected
  adam: {
    stateArrays: 2,
    prologue: (spec, counter) => {
      const s = spec as Extract<OptimizerSpec, { kind: "adam" }>;
      return [
        js.stmt(js.assign(js.id(counter), js.num(1), "+=")),
        js.declare("const", "c1", js.binary("-", js.num(1), js.math("pow", js.num(s.beta1), js.id(counter)))),
        js.declare("const", "c2", js.binary("-", js.num(1), js.math("pow", js.num(s.beta2), js.id(counter)))),
      ];
    },
    update: (spec, ctx) => {
      const s = spec as Extract<OptimizerSpec, { kind: "adam" }>;
      const g = ctx.fresh("g"), m = ctx.fresh("m"), v = ctx.fresh("v");
      const [ms, vs] = ctx.state as [string, string];
      return [elementLoop(ctx, (i) => [
        js.declare("const", g, js.index(ctx.grad, i)),
        js.declare("const", m, js.binary("+", js.binary("*", js.num(s.beta1), js.index(ms, i)), js.binary("*", js.num(1 - s.beta1), js.id(g)))),
        js.declare("const", v, js.binary("+", js.binary("*", js.num(s.beta2), js.index(vs, i)), js.binary("*", js.binary("*", js.num(1 - s.beta2), js.id(g)), js.id(g)))),
        js.stmt(js.assign(js.index(ms, i), js.id(m))),
        js.stmt(js.assign(js.index(vs, i), js.id(v))),
        js.stmt(js.assign(js.index(ctx.param, i),
          js.binary("/", js.binary("*", js.num(s.lr), js.binary("/", js.id(m), js.id("c1"))),
            js.binary("+", js.math("sqrt", js.binary("/", js.id(v), js.id("c2"))), js.num(s.eps))), "-=")),
      ])];
    },
  },
};
