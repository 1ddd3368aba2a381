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
    name: r.name, kind: "kernel", arity: 1, wasm: true,
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
  // from -0, the identity of +: a sum of -0s stays -0, and unrolled sums drop their
  // first addition (codegen/sum-starts.ts)
  name: "sum", init: -0,
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

/** argmax/argmin(x; axes): the row-major position, over the reduced axes, of the first
 *  extreme element (NumPy and PyTorch: first occurrence on ties, and NaN counts as the
 *  extreme, so its first position is returned). An integer-valued index: no gradient. */
function argExtreme(name: "argmax" | "argmin", better: "gt" | "lt"): KernelDef {
  const beats = (v: number, best: number) => (better === "gt" ? v > best : v < best) || (v !== v && best === best);
  return {
    name, kind: "kernel", arity: 1, wasm: true,
    shape: (inputs, attrs, span) => reduceShape(inputs, attrs.axes as number[], span),
    evaluate: ([x], attrs, out) => {
      const axes = attrs.axes as number[];
      const n = numel(out);
      const best = new Float64Array(n).fill(better === "gt" ? -Infinity : Infinity);
      const at = new Float64Array(n);
      const seen = new Float64Array(n);
      const strides = stridesOf(out);
      forEachIndex(x!.shape, (idx, flat) => {
        const o = offset(strides, idx.filter((_, k) => !axes.includes(k)));
        const v = x!.data[flat]!;
        if (beats(v, best[o]!)) { best[o] = v; at[o] = seen[o]!; }
        seen[o]!++;
      });
      return at;
    },
    vjp: () => [null],
    emit: {
      fusesInputs: true,
      storesOnce: () => true,
      kernel: (ctx) => {
        const node = ctx.node;
        const x = node.inputs[0]!;
        const axes = node.attrs.axes as number[];
        const vars = x.shape.map(() => ctx.fresh("i"));
        const kept = x.shape.map((_, k) => k).filter((k) => !axes.includes(k));
        const [best, at, count, v] = [ctx.fresh("best"), ctx.fresh("at"), ctx.fresh("n"), ctx.fresh("v")];
        const inner: js.Statement[] = [];
        inner.push(js.declare("const", v, ctx.read(x, vars.map(js.id), inner)));
        const nan = js.logical("&&", js.binary("!==", js.id(v), js.id(v)), js.binary("===", js.id(best), js.id(best)));
        const test = js.logical("||", js.binary(better === "gt" ? ">" : "<", js.id(v), js.id(best)), nan);
        inner.push(js.ifStmt(test, [js.stmt(js.assign(js.id(best), js.id(v))), js.stmt(js.assign(js.id(at), js.id(count)))]));
        inner.push(js.stmt(js.assign(js.id(count), js.num(1), "+=")));
        const perOutput = [
          js.declare("let", best, js.num(better === "gt" ? -Infinity : Infinity)),
          js.declare("let", at, js.num(0)),
          js.declare("let", count, js.num(0)),
          nest(axes.map((k) => vars[k]!), axes.map((k) => x.shape[k]!), ctx, inner),
          ctx.store(kept.map((k) => js.id(vars[k]!)), js.id(at)),
        ];
        return [nest(kept.map((k) => vars[k]!), kept.map((k) => x.shape[k]!), ctx, perOutput)];
      },
    },
  };
}

export const argmax = argExtreme("argmax", "gt");
export const argmin = argExtreme("argmin", "lt");

/** cumsum(x; axis): running sums along one axis (np.cumsum, torch.cumsum). The gradient
 *  is the running sum from the other end: flip, cumsum, flip. */
export const cumsum: KernelDef = {
  name: "cumsum", kind: "kernel", arity: 1, wasm: true,
  shape: ([x], attrs, span) => {
    const axis = attrs.axis as number;
    if (axis < 0 || axis >= x!.length) fail("E0203", span, axis, x!.length);
    return x!;
  },
  evaluate: ([x], attrs, out) => {
    const axis = attrs.axis as number;
    const step = stridesOf(out)[axis]!;
    const data = new Float64Array(numel(out));
    forEachIndex(out, (idx, flat) => {
      // (the first is x itself: sums start from -0, the identity of +)
      data[flat] = x!.data[flat]! + (idx[axis]! > 0 ? data[flat - step]! : -0);
    });
    return data;
  },
  vjp: (b, g, node) => {
    const reversed = { axis: [node.attrs.axis as number] };
    return [b.op("flip", [b.op("cumsum", [b.op("flip", [g], reversed)], node.attrs)], reversed)];
  },
  print: { kind: "call", fn: "cumsum" },
  emit: {
    fusesInputs: true,
    storesOnce: () => true,
    kernel: (ctx) => {
      const x = ctx.node.inputs[0]!;
      const axis = ctx.node.attrs.axis as number;
      const vars = x.shape.map(() => ctx.fresh("i"));
      const acc = ctx.fresh("acc");
      const inner: js.Statement[] = [];
      const value = ctx.read(x, vars.map(js.id), inner);
      inner.push(js.stmt(js.assign(js.id(acc), value, "+=")));
      inner.push(ctx.store(vars.map(js.id), js.id(acc)));
      const outer = x.shape.map((_, k) => k).filter((k) => k !== axis);
      const line = [js.declare("let", acc, js.num(-0)), js.loop(vars[axis]!, js.num(0), ctx.dim(x.shape[axis]!), inner)];
      return [nest(outer.map((k) => vars[k]!), outer.map((k) => x.shape[k]!), ctx, line)];
    },
  },
};

export const reduceOps: OpDef[] = [reduceSum, reduceProd, reduceMax, reduceMin, argmax, argmin, cumsum];
