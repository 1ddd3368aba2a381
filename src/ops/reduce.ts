// Reductions over a set of axes (sorted, distinct, non-negative at IR level; `keepdims`
// is a reshape added by lowering). Each is a kernel that fuses its elementwise input:
// every input element is computed once, inside the reduction loop.

import { fail } from "../diagnostics";
import * as js from "../codegen/estree";
import { numel, stridesOf, type Node, type OpDef, type Shape, type GraphBuilder } from "../ir";
import type { KernelContext, KernelEmit } from "./define";
import { nest } from "./movement";
import { forEachIndex, offset } from "./tensor";

type KernelDef = OpDef & { readonly emit: KernelEmit };

interface Reducer {
  name: string;
  init: number;
  combine: (acc: number, v: number) => number;
  emitCombine: (acc: js.Expression, v: js.Expression) => js.Expression;
  vjp: (b: GraphBuilder, g: Node, node: Node) => (Node | null)[];
}

function reduceShape([x]: readonly Shape[], axes: number[], span: Parameters<OpDef["shape"]>[2]): Shape {
  for (const a of axes) if (a < 0 || a >= x!.length) fail("E0203", span, a, x!.length);
  return x!.filter((_, k) => !axes.includes(k));
}

/** The reduced value broadcast back over the input's shape. */
function spread(b: GraphBuilder, y: Node, node: Node): Node {
  const axes = node.attrs.axes as number[];
  const x = node.inputs[0]!;
  const kept = x.shape.map((_, k) => k).filter((k) => !axes.includes(k));
  return b.broadcastTo(y, x.shape, kept);
}

function reduction(r: Reducer): KernelDef {
  return {
    name: r.name, kind: "kernel", arity: 1,
    shape: (inputs, attrs, span) => reduceShape(inputs, attrs.axes as number[], span),
    evaluate: ([x], attrs, out) => {
      const axes = attrs.axes as number[];
      const data = new Float64Array(numel(out)).fill(r.init);
      const strides = stridesOf(out);
      forEachIndex(x!.shape, (idx, flat) => {
        const o = offset(strides, idx.filter((_, k) => !axes.includes(k)));
        data[o] = r.combine(data[o]!, x!.data[flat]!);
      });
      return data;
    },
    vjp: r.vjp,
    emit: {
      fusesInputs: true,
      // The last-axis form stores each output once; the other accumulates in place.
      storesOnce: (node) => (node.attrs.axes as number[]).includes(node.inputs[0]!.shape.length - 1),
      kernel: (ctx) => emitReduction(ctx, r),
    },
  };
}

function emitReduction(ctx: KernelContext, r: Reducer): js.Statement[] {
  const node = ctx.node;
  const x = node.inputs[0]!;
  const axes = node.attrs.axes as number[];
  const rank = x.shape.length;
  const vars = x.shape.map(() => ctx.fresh("i"));
  const outIdx = vars.filter((_, k) => !axes.includes(k)).map(js.id);
  if (axes.includes(rank - 1)) {
    // The last axis is reduced, so the innermost loop walks memory contiguously with the
    // kept axes outside it: an accumulator in a local for each output element.
    const acc = ctx.fresh("acc");
    const inner: js.Statement[] = [];
    const value = ctx.read(x, vars.map(js.id), inner);
    inner.push(js.stmt(js.assign(js.id(acc), r.emitCombine(js.id(acc), value))));
    const kept = x.shape.map((_, k) => k).filter((k) => !axes.includes(k));
    const reduceLoop = nest(axes.map((k) => vars[k]!), axes.map((k) => x.shape[k]!), ctx, inner);
    const perOutput = [js.declare("let", acc, js.num(r.init)), reduceLoop, ctx.store(outIdx, js.id(acc))];
    return [nest(kept.map((k) => vars[k]!), kept.map((k) => x.shape[k]!), ctx, perOutput)];
  }
  // Leading or interior axes: walk the input in memory order, accumulating in place.
  const ovars = node.shape.map(() => ctx.fresh("i"));
  const init = nest(ovars, node.shape, ctx, [ctx.store(ovars.map(js.id), js.num(r.init))]);
  const body: js.Statement[] = [];
  const value = ctx.read(x, vars.map(js.id), body);
  const current = ctx.fresh("v");
  body.push(js.declare("const", current, value));
  body.push(ctx.store(outIdx, r.emitCombine(ctx.load(outIdx), js.id(current))));
  return [init, nest(vars, x.shape, ctx, body)];
}

export const reduceSum = reduction({
  name: "sum", init: 0,
  combine: (a, v) => a + v,
  emitCombine: (a, v) => js.binary("+", a, v),
  vjp: (b, g, node) => [spread(b, g, node)],
});

export const reduceProd = reduction({
  name: "prod", init: 1,
  combine: (a, v) => a * v,
  emitCombine: (a, v) => js.binary("*", a, v),
  // d prod / d x_i is the product of the other elements: prod / x_i when no element is
  // zero; the product of the nonzero ones at the only zero; 0 otherwise.
  vjp: (b, g, node) => {
    const x = node.inputs[0]!;
    const axes = node.attrs.axes as number[];
    const zero = b.binary("eq", x, b.constant(0));
    const nonzero = b.op("prod", [b.where(zero, b.constant(1), x)], { axes });
    const zeros = spread(b, b.sum(zero, axes), node);
    const others = spread(b, nonzero, node);
    const atZero = b.where(b.binary("eq", zeros, b.constant(1)), others, b.constant(0));
    const elsewhere = b.where(b.binary("eq", zeros, b.constant(0)), b.div(others, x), b.constant(0));
    return [b.mul(spread(b, g, node), b.where(zero, atZero, elsewhere))];
  },
});

/** max/min: the gradient is split evenly among tied extreme elements. */
function extremeVjp(b: GraphBuilder, g: Node, node: Node): (Node | null)[] {
  const x = node.inputs[0]!;
  const mask = b.binary("eq", x, spread(b, node, node));
  const count = b.sum(mask, node.attrs.axes as number[]);
  return [b.mul(mask, spread(b, b.div(g, count), node))];
}

export const reduceMax = reduction({
  name: "max", init: -Infinity,
  combine: (a, v) => Math.max(a, v),
  emitCombine: (a, v) => js.math("max", a, v),
  vjp: extremeVjp,
});

export const reduceMin = reduction({
  name: "min", init: Infinity,
  combine: (a, v) => Math.min(a, v),
  emitCombine: (a, v) => js.math("min", a, v),
  vjp: extremeVjp,
});

export const reduceOps: OpDef[] = [reduceSum, reduceProd, reduceMax, reduceMin];
