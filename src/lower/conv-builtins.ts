// The convolution and pooling built-ins: conv1d, conv2d, conv_transpose1d/2d, pooling, and
// the derivative records as built-ins of their own (conv1d/2d_weight_grad, maxpool2d_grad,
// maxpool2d_select, avgpool2d_grad), so that printed gradients are programs. Arguments are
// checked here, where their spans are; shapes by the op records (src/ops/conv-geometry.ts).

import { fail } from "../diagnostics";
import type { Attrs } from "../ir";
import type { Expr } from "../syntax";
import type { Builtin, BuiltinContext, BuiltinDoc } from "./builtins";
import { constNumber } from "./arguments";
import { boundSizeArgument, type DimLookup } from "./shape-expr";

/** An integer argument `>= min`. */
function integer(fn: string, arg: string, e: Expr | undefined, dflt: number, min: number): number {
  if (!e) return dflt;
  const v = constNumber(e);
  if (v === undefined || e.kind === "list") fail("E0116", e.span, fn, arg);
  if (!Number.isInteger(v) || v < min) fail("E0253", e.span, fn, arg, min === 0 ? "a non-negative integer" : "a positive integer", String(v));
  return v;
}

/** An integer for every spatial axis, or a list of one per axis (`padding = [1, 2]`); a
 *  bound dim may stand for an entry (lowering substitutes whole arguments, not items). */
function perAxis(fn: string, arg: string, e: Expr | undefined, dflt: number, rank: number, min: number, dims: DimLookup): number[] {
  if (!e) return new Array<number>(rank).fill(dflt);
  if (e.kind !== "list") return new Array<number>(rank).fill(integer(fn, arg, e, dflt, min));
  if (e.items.length !== rank) fail("E0253", e.span, fn, arg, `an integer or a list of ${rank} integers`, `a list of ${e.items.length}`);
  return e.items.map((item) => integer(fn, arg, boundSizeArgument(dims, item) ?? item, dflt, min));
}

/** stride, padding and dilation per axis, and groups: the attributes of every conv record. */
function convArgs(fn: string, rank: number, [stride, padding, dilation, groups]: (Expr | undefined)[], dims: DimLookup): Attrs {
  return {
    stride: perAxis(fn, "stride", stride, 1, rank, 1, dims),
    padding: perAxis(fn, "padding", padding, 0, rank, 0, dims),
    dilation: perAxis(fn, "dilation", dilation, 1, rank, 1, dims),
    groups: integer(fn, "groups", groups, 1, 1),
  };
}

const layouts = ["", "[N, C, L]", "[N, C, H, W]"];
const kernels = ["", "[O, C / groups, K]", "[O, C / groups, KH, KW]"];
const outSize = (rank: number) => (rank === 1 ? "L" : "H");

function convBuiltin(rank: number): Builtin {
  const fn = `conv${rank}d`;
  const doc: BuiltinDoc = {
    group: "convolution", signature: `${fn}(x, w, stride = 1, padding = 0, dilation = 1, groups = 1)`,
    summary: `${rank}-d cross-correlation (no kernel flip) of \`x\` ${layouts[rank]} with weights \`w\` ${kernels[rank]}: zero \`padding\` on both sides, ` +
      "taps `dilation` apart, windows `stride` apart; `groups` splits the channels into independent convolutions (depthwise when `groups` = C)" +
      (rank > 1 ? "; `stride`, `padding` and `dilation` may be pairs `[h, w]`." : "."),
    shape: `\`[N, O, ...]\`, each spatial size \`floor((${outSize(rank)} + 2 padding - dilation (K - 1) - 1) / stride) + 1\``,
    grad: `to \`x\`: \`conv_transpose${rank}d(g, w, ...)\`; to \`w\`: \`conv${rank}d_weight_grad(x, g, ...)\` (both bilinear, so they differentiate again)`,
    counterpart: `\`torch.nn.functional.conv${rank}d(x, w, stride=, padding=, dilation=, groups=)\``,
  };
  return {
    params: ["x", "w", "stride", "padding", "dilation", "groups"], required: 2, doc,
    lower: ([x, w, ...rest], ctx) => ctx.b.op("conv", [ctx.tensor(x!), ctx.tensor(w!)], convArgs(fn, rank, rest, ctx)),
  };
}

function transposeBuiltin(rank: number): Builtin {
  const fn = `conv_transpose${rank}d`;
  const doc: BuiltinDoc = {
    group: "convolution", signature: `${fn}(x, w, stride = 1, padding = 0, output_padding = 0, groups = 1, dilation = 1)`,
    summary: `The transposed ${rank}-d convolution (the gradient of \`conv${rank}d\` with respect to its input) of \`x\` ${layouts[rank]} with weights \`w\` ` +
      `${rank === 1 ? "[C, O / groups, K]" : "[C, O / groups, KH, KW]"} (PyTorch's layout): each input element scatters through the kernel into an up-sampled output; \`padding\` crops it, \`output_padding\` (< stride) adds to one side.`,
    shape: `\`[N, O, ...]\`, each spatial size \`(${outSize(rank)} - 1) stride - 2 padding + dilation (K - 1) + output_padding + 1\``,
    grad: `to \`x\`: \`conv${rank}d(g, w, ...)\`; to \`w\`: \`conv${rank}d_weight_grad(g, x, ...)\``,
    counterpart: `\`torch.nn.functional.conv_transpose${rank}d(x, w, stride=, padding=, output_padding=, groups=, dilation=)\``,
  };
  return {
    params: ["x", "w", "stride", "padding", "output_padding", "groups", "dilation"], required: 2, doc,
    lower: ([x, w, stride, padding, outputPadding, groups, dilation], ctx) => {
      const attrs = convArgs(fn, rank, [stride, padding, dilation, groups], ctx);
      const extra = perAxis(fn, "output_padding", outputPadding, 0, rank, 0, ctx);
      // PyTorch also allows output_padding up to the dilation; past the stride, though, the
      // output is not one that a conv's input gradient fills (its adjoint would crop)
      const strides = attrs.stride as number[];
      extra.forEach((p, e) => {
        if (p >= strides[e]!) fail("E0253", outputPadding!.span, fn, "output_padding", "smaller than stride", String(p));
      });
      return ctx.b.op("conv_input_grad", [ctx.tensor(x!), ctx.tensor(w!)], { ...attrs, output_padding: extra });
    },
  };
}

function weightGradBuiltin(rank: number): Builtin {
  const fn = `conv${rank}d_weight_grad`;
  const doc: BuiltinDoc = {
    group: "convolution", signature: `${fn}(x, g, kernel_size, stride = 1, padding = 0, dilation = 1, groups = 1)`,
    summary: `The gradient of \`sum(conv${rank}d(x, w, ...) * g)\` with respect to \`w\`: the correlation of the input \`x\` with the output gradient \`g\`, for a kernel of \`kernel_size\`; what \`gradc grad\` prints for a convolution's weights.`,
    shape: `\`[O, C / groups, ...kernel_size]\` for \`x\` [N, C, ...] and \`g\` [N, O, ...] (\`g\` must have the shape of \`conv${rank}d\`'s output)`,
    grad: `to \`x\`: \`conv_transpose${rank}d(g, k, ...)\`; to \`g\`: \`conv${rank}d(x, k, ...)\``,
    counterpart: `\`torch.nn.grad.conv${rank}d_weight(x, w.shape, g, stride, padding, dilation, groups)\``,
  };
  return {
    params: ["x", "g", "kernel_size", "stride", "padding", "dilation", "groups"], required: 3, doc,
    lower: ([x, g, kernelSize, ...rest], ctx) => ctx.b.op("conv_weight_grad", [ctx.tensor(x!), ctx.tensor(g!)], {
      ...convArgs(fn, rank, rest, ctx), kernel_size: perAxis(fn, "kernel_size", kernelSize, 1, rank, 1, ctx),
    }),
  };
}

/** size and stride (default: size) of a pooling call. */
function window(fn: string, size: Expr | undefined, stride: Expr | undefined): { size: number; stride: number } {
  const s = integer(fn, "size", size, 2, 1);
  return { size: s, stride: integer(fn, "stride", stride, s, 1) };
}

const poolShape = "`[N, C, floor((H - size) / stride) + 1, floor((W - size) / stride) + 1]`";

function pool(op: string, summary: string, grad: string, counterpart: string): Builtin {
  return {
    params: ["x", "size", "stride"], required: 1,
    doc: { group: "convolution", signature: `${op}(x, size = 2, stride = size)`, summary, shape: poolShape, grad, counterpart },
    lower: ([x, size, stride], ctx: BuiltinContext) => ctx.b.op(op, [ctx.tensor(x!)], window(op, size, stride)),
  };
}

export const convBuiltins: Record<string, Builtin> = {
  conv1d: convBuiltin(1),
  conv2d: convBuiltin(2),
  conv_transpose1d: transposeBuiltin(1),
  conv_transpose2d: transposeBuiltin(2),
  conv1d_weight_grad: weightGradBuiltin(1),
  conv2d_weight_grad: weightGradBuiltin(2),
  maxpool2d: pool("maxpool2d",
    "The maximum of each `size` x `size` window of `x` [N, C, H, W], windows `stride` apart, no padding.",
    "`maxpool2d_grad(x, g, size, stride)`: each window's `g` to its first maximal element (row-major); overlapping windows add up",
    "`torch.nn.functional.max_pool2d(x, size, stride)`"),
  avgpool2d: pool("avgpool2d",
    "The mean of each `size` x `size` window of `x` [N, C, H, W], windows `stride` apart, no padding.",
    "`avgpool2d_grad(g, H, W, size, stride)`: each window's `g / size^2` to every element of the window",
    "`torch.nn.functional.avg_pool2d(x, size, stride)`"),
  maxpool2d_grad: {
    params: ["x", "g", "size", "stride"], required: 2,
    doc: {
      group: "convolution", signature: "maxpool2d_grad(x, g, size = 2, stride = size)",
      summary: "The gradient of `sum(maxpool2d(x, size, stride) * g)` with respect to `x`: each element of `g` placed at its window's first maximum of `x` (windows that tile the plane, `stride = size`, store it as it is, -0 included; overlapping or spaced ones add up from 0); what `gradc grad` prints for a max-pool.",
      shape: "`x.shape` (`g` must have the shape of `maxpool2d(x, size, stride)`)",
      grad: "to `x`: none (piecewise constant); to `g`: `maxpool2d_select(x, h, size, stride)`",
      counterpart: "`torch.ops.aten.max_pool2d_with_indices_backward` (first maximum on ties)",
    },
    lower: ([x, g, size, stride], ctx) => ctx.b.op("maxpool2d_grad", [ctx.tensor(x!), ctx.tensor(g!)], window("maxpool2d_grad", size, stride)),
  },
  maxpool2d_select: {
    params: ["x", "h", "size", "stride"], required: 2,
    doc: {
      group: "convolution", signature: "maxpool2d_select(x, h, size = 2, stride = size)",
      summary: "`h` (of `x`'s shape) read at each window's first maximum of `x`: `maxpool2d(x)` is `maxpool2d_select(x, x)`; it appears in second derivatives of max-pools.",
      shape: "the shape of `maxpool2d(x, size, stride)`",
      grad: "to `x`: none; to `h`: `maxpool2d_grad(x, g, size, stride)`",
      counterpart: "`torch.gather` of `h` at the indices of `torch.nn.functional.max_pool2d(x, size, stride, return_indices=True)`",
    },
    lower: ([x, h, size, stride], ctx) => ctx.b.op("maxpool2d_select", [ctx.tensor(x!), ctx.tensor(h!)], window("maxpool2d_select", size, stride)),
  },
  avgpool2d_grad: {
    params: ["g", "height", "width", "size", "stride"], required: 3,
    doc: {
      group: "convolution", signature: "avgpool2d_grad(g, height, width, size = 2, stride = size)",
      summary: "The gradient of `sum(avgpool2d(x, size, stride) * g)` with respect to an `x` of plane `height` x `width`: each element of `g`, divided by `size^2`, spread over its window; what `gradc grad` prints for an average pool.",
      shape: "`[N, C, height, width]` (`g` must have the shape of the pooled output)",
      grad: "to `g`: `avgpool2d(h, size, stride)`",
      counterpart: "`torch.ops.aten.avg_pool2d_backward`",
    },
    lower: ([g, height, width, size, stride], ctx) => ctx.b.op("avgpool2d_grad", [ctx.tensor(g!)], {
      ...window("avgpool2d_grad", size, stride),
      height: integer("avgpool2d_grad", "height", height, 1, 1), width: integer("avgpool2d_grad", "width", width, 1, 1),
    }),
  },
};
