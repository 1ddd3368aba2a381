// The geometry of an N-d grouped, dilated convolution (XLA ConvGeneralDilated, PyTorch
// `convolution`): attributes, the three shape rules (the convolution, its input gradient,
// which is the transposed convolution, and its weight gradient) with their located
// errors, and the (output position, tap, input position) triples the reference
// semantics walk. Inputs are [N, C, ...spatial]; weights [O, C / groups, ...kernel].

import { fail, type Span } from "../diagnostics";
import { formatShape, sameShape, type Attrs, type Dim, type Shape } from "../ir";

/** The attributes every convolution record carries, one entry per spatial axis. */
export interface ConvAttrs {
  stride: number[];
  padding: number[];
  dilation: number[];
  groups: number;
}

/** floor((size + 2*padding - dilation*(k - 1) - 1) / stride) + 1 */
export function convOutSize(size: number, k: number, stride: number, padding: number, dilation = 1): number {
  return Math.floor((size + 2 * padding - dilation * (k - 1) - 1) / stride) + 1;
}

/** The input size a transposed convolution restores (PyTorch's conv_transpose output):
 *  (size - 1)*stride - 2*padding + dilation*(k - 1) + output_padding + 1. */
export function transposeOutSize(size: number, k: number, a: ConvAttrs, axis: number, outputPadding: number): number {
  return (size - 1) * a.stride[axis]! - 2 * a.padding[axis]! + a.dilation[axis]! * (k - 1) + outputPadding + 1;
}

export function convAttrs(attrs: Attrs): ConvAttrs {
  return {
    stride: attrs.stride as number[], padding: attrs.padding as number[],
    dilation: attrs.dilation as number[], groups: attrs.groups as number,
  };
}

/** The attributes the three records share, as a fresh record (vjp rules add their own). */
export const baseAttrs = (a: ConvAttrs): Attrs => ({ stride: a.stride, padding: a.padding, dilation: a.dilation, groups: a.groups });

/** The built-in a record is written as, by spatial rank: conv1d, conv2d... */
export const convName = (rank: number, suffix = ""): string => `conv${rank}d${suffix}`;
export const transposeName = (rank: number): string => `conv_transpose${rank}d`;

const spatialNames = (rank: number) => (rank === 1 ? ["length"] : rank === 2 ? ["height", "width"] : Array.from({ length: rank }, (_, k) => `d${k}`));
const layout = (first: string, second: string, rank: number, kernel: boolean) =>
  `[${[first, second, ...spatialNames(rank).map((s) => (kernel ? `k${s[0]}` : s))].join(", ")}]`;
const times = (sizes: readonly number[]) => sizes.join("x");

/** Checks the ranks of an activation-like and a weight-like operand. */
function checkRanks(fn: string, rank: number, x: Shape, w: Shape, wLayout: [string, string], span: Span | undefined): void {
  if (x.length !== rank + 2) fail("E0250", span, fn, "input", layout("batch", "channels", rank, false), formatShape(x));
  if (w.length !== rank + 2) fail("E0250", span, fn, "weights", layout(wLayout[0], wLayout[1], rank, true), formatShape(w));
}

/** Known spatial sizes of `s` (from axis 2), or a located error. */
function spatial(fn: string, what: string, s: Shape, span: Span | undefined): number[] {
  const sizes = s.slice(2);
  if (!sizes.every((d): d is number => typeof d === "number" && d >= 1)) fail("E0254", span, fn, `${what}${what.endsWith("s") ? "'" : "'s"} spatial sizes`, formatShape(s));
  return sizes as number[];
}

/** A channel count that must split into `groups`: a known size when groups > 1. */
function divisible(fn: string, what: string, count: Dim, groups: number, span: Span | undefined): void {
  if (groups === 1) return;
  if (typeof count !== "number" || count % groups !== 0) fail("E0251", span, fn, what, String(count), groups);
}

const perGroup = (count: Dim, groups: number): Dim => (groups === 1 ? count : (count as number) / groups);

/** The spatial output sizes of the convolution of `input` sizes by `kernel` sizes. */
function outputSizes(fn: string, input: number[], kernel: number[], a: ConvAttrs, span: Span | undefined): number[] {
  const out = input.map((size, k) => convOutSize(size, kernel[k]!, a.stride[k]!, a.padding[k]!, a.dilation[k]!));
  if (out.some((o) => o < 1)) {
    const spread = kernel.map((k, e) => a.dilation[e]! * (k - 1) + 1);
    fail("E0252", span, fn, times(spread), times(input.map((s, e) => s + 2 * a.padding[e]!)));
  }
  return out;
}

/** conv(x [N, C, ...], w [O, C/groups, ...k]) -> [N, O, ...out]. */
export function convShape([x, w]: readonly Shape[], attrs: Attrs, span: Span | undefined): Shape {
  const a = convAttrs(attrs);
  const rank = a.stride.length;
  const fn = convName(rank);
  checkRanks(fn, rank, x!, w!, ["out_channels", "in_channels"], span);
  divisible(fn, "input channels", x![1]!, a.groups, span);
  divisible(fn, "output channels (filters)", w![0]!, a.groups, span);
  const cg = perGroup(x![1]!, a.groups);
  if (w![1] !== cg) fail("E0213", span, fn, formatShape(w!), groupedCount(w![1]!, a.groups), formatShape(x!), String(x![1]));
  const input = spatial(fn, "input", x!, span);
  const kernel = spatial(fn, "weights", w!, span);
  return [x![0]!, w![0]!, ...outputSizes(fn, input, kernel, a, span)];
}

const groupedCount = (perGroupCount: Dim, groups: number): string =>
  groups === 1 ? String(perGroupCount) : `${perGroupCount} per group (${(perGroupCount as number) * groups} in ${groups} groups)`;

/** conv_input_grad(g [N, O, ...], w [O, C/groups, ...k]; output_padding) -> [N, C, ...]:
 *  the transposed convolution, written `conv_transposeNd(g, w, ...)` (PyTorch's weights
 *  are [in, out/groups, ...k], the same array). */
export function convInputGradShape([g, w]: readonly Shape[], attrs: Attrs, span: Span | undefined): Shape {
  const a = convAttrs(attrs);
  const rank = a.stride.length;
  const fn = transposeName(rank);
  checkRanks(fn, rank, g!, w!, ["in_channels", "out_channels / groups"], span);
  if (g![1] !== w![0]) fail("E0213", span, fn, formatShape(w!), String(w![0]), formatShape(g!), String(g![1]));
  divisible(fn, "input channels", g![1]!, a.groups, span);
  if (a.groups > 1 && typeof w![1] !== "number") fail("E0254", span, fn, "weights' channels per group", formatShape(w!));
  const input = spatial(fn, "input", g!, span);
  const kernel = spatial(fn, "weights", w!, span);
  const outputPadding = attrs.output_padding as number[];
  const out = input.map((size, k) => transposeOutSize(size, kernel[k]!, a, k, outputPadding[k]!));
  if (out.some((o) => o < 1)) fail("E0256", span, fn, times(out));
  return [g![0]!, a.groups === 1 ? w![1]! : (w![1] as number) * a.groups, ...out];
}

/** conv_weight_grad(x [N, C, ...], g [N, O, ...out]; kernel_size) -> [O, C/groups, ...k]. */
export function convWeightGradShape([x, g]: readonly Shape[], attrs: Attrs, span: Span | undefined): Shape {
  const a = convAttrs(attrs);
  const rank = a.stride.length;
  const fn = convName(rank, "_weight_grad");
  if (x!.length !== rank + 2) fail("E0250", span, fn, "input", layout("batch", "channels", rank, false), formatShape(x!));
  if (g!.length !== rank + 2) fail("E0250", span, fn, "output gradient", layout("batch", "out_channels", rank, false), formatShape(g!));
  divisible(fn, "input channels", x![1]!, a.groups, span);
  divisible(fn, "output channels (filters)", g![1]!, a.groups, span);
  const kernel = attrs.kernel_size as number[];
  const out = outputSizes(fn, spatial(fn, "input", x!, span), kernel, a, span);
  const expected = [x![0]!, g![1]!, ...out];
  if (!sameShape(g!, expected)) fail("E0255", span, fn, "the output gradient", formatShape(g!), `the convolution's output shape ${formatShape(expected)}`);
  return [g![1]!, perGroup(x![1]!, a.groups), ...kernel];
}

// ---- reference semantics ----

/** Every (output position, tap, input position) triple, as flat offsets within one
 *  spatial plane / kernel, for taps that land inside the input (not in the padding). */
export function convTriples(input: readonly number[], kernel: readonly number[], out: readonly number[], a: ConvAttrs): Int32Array {
  const triples: number[] = [];
  const rank = input.length;
  const o = new Array<number>(rank).fill(0);
  const walk = (axis: number, outFlat: number) => {
    if (axis === rank) {
      taps(0, outFlat, 0, 0);
      return;
    }
    for (o[axis] = 0; o[axis]! < out[axis]!; o[axis]!++) walk(axis + 1, outFlat * out[axis]! + o[axis]!);
  };
  const taps = (axis: number, outFlat: number, tapFlat: number, inFlat: number): void => {
    if (axis === rank) {
      triples.push(outFlat, tapFlat, inFlat);
      return;
    }
    for (let t = 0; t < kernel[axis]!; t++) {
      const pos = o[axis]! * a.stride[axis]! + t * a.dilation[axis]! - a.padding[axis]!;
      if (pos >= 0 && pos < input[axis]!) taps(axis + 1, outFlat, tapFlat * kernel[axis]! + t, inFlat * input[axis]! + pos);
    }
  };
  walk(0, 0);
  return Int32Array.from(triples);
}
