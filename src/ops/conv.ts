// Convolution as one parameterised N-d record (XLA ConvGeneralDilated, PyTorch
// `convolution`): cross-correlation of x [N, C, ...] with w [O, C/groups, ...k], per-axis
// stride, zero padding and dilation, and groups. conv1d, conv2d (depthwise when groups =
// channels) are this record; conv_transpose1d/2d is its input gradient; its weight
// gradient is the third record. The set is closed under differentiation (conv is bilinear
// and the two gradients are its transposes), so gradients of gradients stay in the table.

import { numel, type AttrValue, type Node, type OpDef } from "../ir";
import { emitConv, emitConvInputGrad, emitConvPooled, emitConvWeightGrad, fusesPoolGrad, poolsInLoop } from "./conv-emit";
import {
  baseAttrs, convAttrs, convInputGradShape, convName, convShape, convTriples, convWeightGradShape, transposeName,
  type ConvAttrs,
} from "./conv-geometry";
import type { KernelEmit } from "./define";
import { poolOps } from "./pool";

export { convOutSize } from "./conv-geometry";

type KernelDef = OpDef & { readonly emit: KernelEmit };

/** The sizes of one flattened convolution: batch, channels, filters, groups, planes. */
interface Flat {
  n: number;
  c: number;
  o: number;
  cg: number;
  og: number;
  /** elements of one input plane, one kernel, one output plane */
  plane: number;
  kernel: number;
  out: number;
  /** (out, tap, in) triples, and where each output position's triples start */
  triples: Int32Array;
  starts: Int32Array;
}

/** x [N, C, ...input], w [O, C/groups, ...kernel], y [N, O, ...out], all known. */
function flatten(x: readonly number[], w: readonly number[], y: readonly number[], a: ConvAttrs): Flat {
  const input = x.slice(2), kernel = w.slice(2), out = y.slice(2);
  const triples = convTriples(input, kernel, out, a);
  const starts = new Int32Array(numel(out) + 1);
  // Stryker disable next-line EqualityOperator: one step too many (<=) adds to starts[NaN], which an Int32Array ignores
  for (let t = 0; t < triples.length; t += 3) starts[triples[t]! + 1]! += 3;
  // Stryker disable next-line EqualityOperator: one step too many (<=) adds to an index past the end, ignored
  for (let p = 0; p < numel(out); p++) starts[p + 1]! += starts[p]!;
  return {
    n: x[0]!, c: x[1]!, o: w[0]!, cg: w[1]!, og: w[0]! / a.groups,
    plane: numel(input), kernel: numel(kernel), out: numel(out), triples, starts,
  };
}

/** Calls `visit(xBase, wBase, yAt, p)` for each batch element, filter and output
 *  position: the flat offsets of the group's first input plane and the filter's first
 *  kernel (channel c adds c * plane and c * kernel), and of the output element; the
 *  (tap, input) pairs of position p are triples[starts[p]..starts[p+1]]. */
function forEachOutput(f: Flat, visit: (xBase: number, wBase: number, yAt: number, p: number) => void): void {
  for (let n = 0; n < f.n; n++) {
    for (let o = 0; o < f.o; o++) {
      const xBase = (n * f.c + Math.floor(o / f.og) * f.cg) * f.plane;
      // Stryker disable next-line EqualityOperator: a position too many (<=) has no triples: it stores 0 on the next filter's first output, stored again after, or past the end
      for (let p = 0; p < f.out; p++) visit(xBase, o * f.cg * f.kernel, (n * f.o + o) * f.out + p, p);
    }
  }
}

/** A tuple attribute as written in a call: one number when every axis agrees. */
// Stryker disable next-line ConditionalExpression,EqualityOperator,ArrowFunction: a list of equal numbers means what the one number means
const tuple = (v: readonly number[]): AttrValue => (v.every((e) => e === v[0]) ? v[0]! : [...v]);

/** Keyword arguments for the tuple attributes that differ from their defaults. */
function keywords(a: ConvAttrs, extra: [string, readonly number[], number][] = []): [string, AttrValue][] {
  const out: [string, AttrValue][] = [];
  // Stryker disable next-line ConditionalExpression: a default spelled out means the same
  const add = (name: string, v: readonly number[], dflt: number) => { if (v.some((e) => e !== dflt)) out.push([name, tuple(v)]); };
  add("stride", a.stride, 1);
  add("padding", a.padding, 0);
  for (const [name, v, dflt] of extra) add(name, v, dflt);
  add("dilation", a.dilation, 1);
  // Stryker disable next-line ConditionalExpression: groups = 1 spelled out means the same
  if (a.groups !== 1) out.push(["groups", a.groups]);
  return out;
}

const spatial = (node: Node, k: number) => node.inputs[k]!.shape.slice(2) as number[];

/** output_padding: how far the input size lies past the last window's reach, which
 *  conv_transpose needs to restore it (always < stride). */
function outputPadding(input: readonly number[], out: readonly number[], kernel: readonly number[], a: ConvAttrs): number[] {
  return input.map((size, e) => size - ((out[e]! - 1) * a.stride[e]! - 2 * a.padding[e]! + a.dilation[e]! * (kernel[e]! - 1) + 1));
}

/** conv(x, w; stride, padding, dilation, groups) -> [N, O, ...out]:
 *  y[n, o, i] = sum over c < C/groups and taps t of
 *  x[n, group(o) * C/groups + c, i*stride + t*dilation - padding] * w[o, c, t]. */
export const conv: KernelDef = {
  name: "conv", kind: "kernel", arity: 2, wasm: true,
  shape: (inputs, attrs, span) => convShape(inputs, attrs, span),
  evaluate: ([x, w], attrs, out) => {
    const f = flatten(x!.shape, w!.shape, out, convAttrs(attrs));
    const data = new Float64Array(numel(out));
    // one accumulator per output element, channels then taps: the emitted kernel's order;
    // from -0, the identity of +, so a sum of zeros keeps their sign as the emitted tiled
    // kernel's sum of products does (0 + -0 would be +0)
    forEachOutput(f, (xBase, wBase, yAt, p) => {
      let acc = -0;
      for (let c = 0; c < f.cg; c++) {
        const xc = xBase + c * f.plane, wc = wBase + c * f.kernel;
        for (let t = f.starts[p]!; t < f.starts[p + 1]!; t += 3) acc += x!.data[xc + f.triples[t + 2]!]! * w!.data[wc + f.triples[t + 1]!]!;
      }
      data[yAt] = acc;
    });
    return data;
  },
  vjp: (b, g, node) => {
    const [x, w] = node.inputs as [Node, Node];
    const a = convAttrs(node.attrs);
    return [
      b.op("conv_input_grad", [g, w], { ...baseAttrs(a), output_padding: outputPadding(spatial(node, 0), node.shape.slice(2) as number[], spatial(node, 1), a) }),
      b.op("conv_weight_grad", [x, g], { ...baseAttrs(a), kernel_size: spatial(node, 1) }),
    ];
  },
  print: {
    kind: "builtin", fns: [convName(1), convName(2)],
    spell: (n) => ({ fn: convName(n.shape.length - 2), kwargs: keywords(convAttrs(n.attrs)) }),
  },
  cost: (node, count) => 2 * count(node.shape) * count(node.inputs[1]!.shape.slice(1)),
  emit: { fusesInputs: false, storesOnce: () => true, poolsInLoop, pooledKernel: emitConvPooled, kernel: emitConv },
};

/** conv_input_grad(g [N, O, ...out], w [O, C/groups, ...k]; ..., output_padding)
 *  -> [N, C, ...input]: the transpose of conv in x, scattering g through w; as a built-in,
 *  conv_transpose1d/2d (PyTorch's weights [in, out/groups, ...k] are this w). */
export const convInputGrad: KernelDef = {
  name: "conv_input_grad", kind: "kernel", arity: 2, wasm: true,
  shape: (inputs, attrs, span) => convInputGradShape(inputs, attrs, span),
  evaluate: ([g, w], attrs, out) => {
    const f = flatten(out, w!.shape, g!.shape, convAttrs(attrs));
    const data = new Float64Array(numel(out));
    forEachOutput(f, (xBase, wBase, yAt, p) => {
      const gv = g!.data[yAt]!;
      for (let c = 0; c < f.cg; c++) {
        const xc = xBase + c * f.plane, wc = wBase + c * f.kernel;
        for (let t = f.starts[p]!; t < f.starts[p + 1]!; t += 3) data[xc + f.triples[t + 2]!] += gv * w!.data[wc + f.triples[t + 1]!]!;
      }
    });
    return data;
  },
  // <conv_input_grad(g, w), h> = <g, conv(h, w)> = <w, conv_weight_grad(h, g)>
  vjp: (b, h, node) => {
    const [g, w] = node.inputs as [Node, Node];
    const a = convAttrs(node.attrs);
    return [
      b.op("conv", [h, w], baseAttrs(a)),
      b.op("conv_weight_grad", [h, g], { ...baseAttrs(a), kernel_size: spatial(node, 1) }),
    ];
  },
  print: {
    kind: "builtin", fns: [transposeName(1), transposeName(2)],
    spell: (n) => ({
      fn: transposeName(n.shape.length - 2),
      kwargs: keywords(convAttrs(n.attrs), [["output_padding", n.attrs.output_padding as number[], 0]]),
    }),
  },
  cost: (node, count) => 2 * count(node.inputs[0]!.shape) * count(node.inputs[1]!.shape.slice(1)),
  emit: { fusesInputs: false, kernel: emitConvInputGrad },
};

/** conv_weight_grad(x [N, C, ...input], g [N, O, ...out]; ..., kernel_size)
 *  -> [O, C/groups, ...k]: the transpose of conv in w, correlating g with x. */
export const convWeightGrad: KernelDef = {
  name: "conv_weight_grad", kind: "kernel", arity: 2, wasm: true,
  shape: (inputs, attrs, span) => convWeightGradShape(inputs, attrs, span),
  evaluate: ([x, g], attrs, out) => {
    const f = flatten(x!.shape, out, g!.shape, convAttrs(attrs));
    const data = new Float64Array(numel(out));
    forEachOutput(f, (xBase, wBase, yAt, p) => {
      const gv = g!.data[yAt]!;
      for (let c = 0; c < f.cg; c++) {
        const xc = xBase + c * f.plane, wc = wBase + c * f.kernel;
        for (let t = f.starts[p]!; t < f.starts[p + 1]!; t += 3) data[wc + f.triples[t + 1]!] += gv * x!.data[xc + f.triples[t + 2]!]!;
      }
    });
    return data;
  },
  // <conv_weight_grad(x, g), k> = <x, conv_input_grad(g, k)> = <g, conv(x, k)>
  vjp: (b, k, node) => {
    const [x, g] = node.inputs as [Node, Node];
    const a = convAttrs(node.attrs);
    return [
      b.op("conv_input_grad", [g, k], { ...baseAttrs(a), output_padding: outputPadding(spatial(node, 0), spatial(node, 1), node.attrs.kernel_size as number[], a) }),
      b.op("conv", [x, k], baseAttrs(a)),
    ];
  },
  print: {
    kind: "builtin", fns: [convName(1, "_weight_grad"), convName(2, "_weight_grad")],
    spell: (n) => ({
      fn: convName(n.shape.length - 2, "_weight_grad"),
      kwargs: [["kernel_size", tuple(n.attrs.kernel_size as number[])], ...keywords(convAttrs(n.attrs))],
    }),
  },
  cost: (node, count) => 2 * count(node.inputs[1]!.shape) * count(node.shape.slice(1)),
  emit: { fusesInputs: false, fusesKernelInput: fusesPoolGrad, kernel: emitConvWeightGrad },
};

export const convOps: OpDef[] = [conv, convInputGrad, convWeightGrad, ...poolOps];
