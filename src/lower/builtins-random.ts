// Built-ins that draw from the model's generator: rand, randn and dropout. Each call site
// gets its own stream (numbered 1, 2, ... in the order calls are lowered), so two calls
// draw different values; `stream = k` names one, which is how printed programs (gradc grad)
// draw exactly the values the model drew. dropout switches on the training flag.

import { fail } from "../diagnostics";
import { dimProduct, type Dim, type Graph, type Node, type Shape } from "../ir";
import type { Expr } from "../syntax";
import type { Builtin, BuiltinContext } from "./builtins";
import { constNumber } from "./arguments";
import { shapeList } from "./shape-expr";

/** The last stream number used in each graph (one graph per compile). */
const lastStream = new WeakMap<Graph, number>();

function streamOf(ctx: BuiltinContext, fn: string, e: Expr | undefined): number {
  if (e) {
    const v = constNumber(e);
    // The generator mixes a stream as 32 bits: below 2^31, every stream is its own.
    if (v === undefined || !Number.isInteger(v) || v < 0 || v >= 2 ** 31) {
      fail("E0253", e.span, fn, "stream", "an integer in [0, 2^31)", e.kind === "number" ? e.text : "an expression");
    }
    return v;
  }
  const next = (lastStream.get(ctx.b.graph) ?? 0) + 1;
  lastStream.set(ctx.b.graph, next);
  return next;
}

/** A draw of `shape`: one rank-1 source of all its elements, reshaped, so any view of it
 *  (a reshape back, a slice) reads the flat sequence the generator defines. */
function draw(ctx: BuiltinContext, op: "rand" | "randn", shape: Shape, stream: number): Node {
  if (shape.length === 0) return ctx.b.op(op, [], { shape: [], stream });
  const flat = ctx.b.op(op, [], { shape: [dimProduct(shape)], stream });
  return shape.length === 1 ? flat : ctx.b.reshape(flat, shape);
}

function drawBuiltin(op: "rand" | "randn", summary: string, counterpart: string): Builtin {
  return {
    params: ["shape", "stream"], required: 1,
    doc: {
      group: "random",
      signature: `${op}([shape], stream = auto)`,
      summary,
      shape: "`shape` (entries are integers, dims or size expressions)",
      grad: "none (a draw is not a function of anything differentiable)",
      counterpart,
    },
    lower: ([shape, stream], ctx) => draw(ctx, op, shapeList(ctx, shape!, false) as Dim[], streamOf(ctx, op, stream)),
  };
}

export const randomBuiltins: Record<string, Builtin> = {
  rand: drawBuiltin("rand",
    "Uniform draws in [0, 1) from the model's generator, new at every call of the compiled functions.",
    "`np.random.rand`, `torch.rand`"),
  randn: drawBuiltin("randn",
    "Standard normal draws (mean 0, variance 1) from the model's generator, new at every call.",
    "`np.random.randn`, `torch.randn`"),
  dropout: {
    params: ["x", "p"], required: 2,
    doc: {
      group: "random",
      signature: "dropout(x, p)",
      summary: "In `valueAndGrad` and `step`: zeroes each element with probability `p` (a constant in [0, 1)) and " +
        "scales the rest by `1 / (1 - p)`; in `forward` and `predict`, and when `p` is 0: `x` unchanged.",
      shape: "`x.shape`",
      grad: "`g * mask / (1 - p)` with the mask of the same call's forward pass",
      counterpart: "`torch.nn.functional.dropout(x, p, training)`",
    },
    lower: ([x, pArg], ctx) => {
      const v = ctx.tensor(x!);
      const p = constNumber(pArg!);
      if (p === undefined || !(p >= 0 && p < 1)) {
        fail("E0253", pArg!.span, "dropout", "p", "a constant number in [0, 1)", pArg!.kind === "number" ? pArg!.text : "an expression");
      }
      if (p === 0) return v;
      const b = ctx.b;
      // keep where u >= p (probability 1 - p); the kept values are scaled by 1 / (1 - p)
      const u = draw(ctx, "rand", v.shape, streamOf(ctx, "dropout", undefined));
      const scale = b.where(b.binary("ge", u, b.constant(p)), b.constant(1 / (1 - p)), b.constant(0));
      return b.where(b.op("training", []), b.mul(v, scale), v);
    },
  },
};
