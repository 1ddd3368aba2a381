// Every mistake in a convolution or pooling call is a located GradcError from the catalog:
// code, line, column, the message in plain words and a caret under the call or argument.

import { describe, expect, it } from "vitest";
import { compile } from "../../src/index";
import { compileError } from "../helpers/errors";

const cases: [title: string, source: string, code: string, line: number, column: number, message: RegExp][] = [
  ["conv2d input rank", "input x: [3, 8, 8]\nparam w: [4, 3, 3, 3]\ny = conv2d(x, w)", "E0250", 3, 5,
    /conv2d: the input must be \[batch, channels, height, width\], but this is \[3, 8, 8\]/],
  ["conv1d weight rank", "input x: [2, 3, 8]\nparam w: [4, 3, 3, 3]\ny = conv1d(x, w)", "E0250", 3, 5,
    /conv1d: the weights must be \[out_channels, in_channels, kl\], but this is \[4, 3, 3, 3\]/],
  ["conv2d channels", "input x: [1, 2, 5, 5]\nparam w: [4, 3, 3, 3]\ny = conv2d(x, w)", "E0213", 3, 5,
    /conv2d: the weights \[4, 3, 3, 3\] expect 3 input channels, but the input \[1, 2, 5, 5\] has 2/],
  ["grouped channels per group", "input x: [1, 4, 5, 5]\nparam w: [4, 1, 3, 3]\ny = conv2d(x, w, groups = 2)", "E0213", 3, 5,
    /expect 1 per group \(2 in 2 groups\) input channels, but the input \[1, 4, 5, 5\] has 4/],
  ["channels not divisible by groups", "input x: [1, 3, 5, 5]\nparam w: [4, 1, 3, 3]\ny = conv2d(x, w, groups = 2)", "E0251", 3, 5,
    /conv2d: the input channels must be divisible by groups = 2, but there are 3/],
  ["filters not divisible by groups", "input x: [1, 4, 9]\nparam w: [3, 2, 3]\ny = conv1d(x, w, groups = 2)", "E0251", 3, 5,
    /conv1d: the output channels \(filters\) must be divisible by groups = 2, but there are 3/],
  ["empty output", "input x: [1, 1, 4, 9]\nparam w: [1, 1, 3, 3]\ny = conv2d(x, w, dilation = 2)", "E0252", 3, 5,
    /conv2d: the output would be empty: the 5x5 kernel \(spread by its dilation\) is larger than the 4x9 padded input/],
  ["free spatial size", "dim h\ninput x: [1, 1, h, 9]\nparam w: [1, 1, 3, 3]\ny = conv2d(x, w)", "E0254", 4, 5,
    /conv2d: the input's spatial sizes must be known sizes/],
  ["padding pair of the wrong length", "input x: [1, 1, 8, 8]\nparam w: [1, 1, 3, 3]\ny = conv2d(x, w, padding = [1, 1, 1])", "E0253", 3, 28,
    /conv2d: `padding` must be an integer or a list of 2 integers, found a list of 3/],
  ["negative padding", "input x: [1, 1, 8, 8]\nparam w: [1, 1, 3, 3]\ny = conv2d(x, w, padding = [1, -1])", "E0253", 3, 32,
    /`padding` must be a non-negative integer, found -1/],
  ["zero stride", "input x: [1, 1, 8]\nparam w: [1, 1, 3]\ny = conv1d(x, w, stride = 0)", "E0253", 3, 27, /`stride` must be a positive integer, found 0/],
  ["zero groups", "input x: [1, 1, 8]\nparam w: [1, 1, 3]\ny = conv1d(x, w, groups = 0)", "E0253", 3, 27, /`groups` must be a positive integer, found 0/],
  ["non-constant dilation", "input x: [1, 1, 8]\ninput d\nparam w: [1, 1, 3]\ny = conv1d(x, w, dilation = d)", "E0116", 4, 29,
    /`conv1d`: `dilation` must be a constant number/],
  ["conv_transpose2d channels", "input x: [1, 3, 4, 4]\nparam w: [4, 2, 3, 3]\ny = conv_transpose2d(x, w)", "E0213", 3, 5,
    /conv_transpose2d: the weights \[4, 2, 3, 3\] expect 4 input channels, but the input \[1, 3, 4, 4\] has 3/],
  ["conv_transpose2d output_padding", "input x: [1, 2, 4, 4]\nparam w: [2, 2, 3, 3]\ny = conv_transpose2d(x, w, stride = 2, output_padding = 2)", "E0253", 3, 57,
    /`output_padding` must be smaller than stride, found 2/],
  ["conv_transpose1d output_padding past the stride", "input x: [1, 2, 9]\nparam w: [2, 2, 3]\ny = conv_transpose1d(x, w, dilation = 2, output_padding = 1)", "E0253", 3, 59,
    /`output_padding` must be smaller than stride, found 1/],
  ["conv_transpose2d empty output", "input x: [1, 2, 1, 1]\nparam w: [2, 2, 1, 1]\ny = conv_transpose2d(x, w, padding = 1)", "E0256", 3, 5,
    /conv_transpose2d: the output would be empty: .* gives -1x-1/],
  ["conv2d_weight_grad gradient shape", "input x: [1, 3, 8, 8]\ninput g: [1, 4, 5, 5]\ny = conv2d_weight_grad(x, g, 3)", "E0255", 3, 5,
    /conv2d_weight_grad: the output gradient is \[1, 4, 5, 5\], but must be the convolution's output shape \[1, 4, 6, 6\]/],
  ["maxpool2d_grad gradient shape", "input x: [1, 3, 8, 8]\ninput g: [1, 3, 3, 3]\ny = maxpool2d_grad(x, g)", "E0255", 3, 5,
    /maxpool2d_grad: the output gradient `g` is \[1, 3, 3, 3\], but must be \[1, 3, 4, 4\]/],
  ["maxpool2d_select selected shape", "input x: [1, 3, 8, 8]\ninput h: [1, 3, 8, 7]\ny = maxpool2d_select(x, h)", "E0255", 3, 5,
    /maxpool2d_select: the selected tensor `h` is \[1, 3, 8, 7\], but must be \[1, 3, 8, 8\]/],
  ["conv1d_weight_grad kernel_size", "input x: [1, 2, 9]\ninput g: [1, 4, 7]\ny = conv1d_weight_grad(x, g, [3, 3])", "E0253", 3, 30,
    /conv1d_weight_grad: `kernel_size` must be an integer or a list of 1 integers, found a list of 2/],
  ["conv_transpose2d weight rank", "input x: [1, 2, 4, 4]\nparam w: [2, 2, 3]\ny = conv_transpose2d(x, w)", "E0250", 3, 5,
    /conv_transpose2d: the weights must be \[in_channels, out_channels \/ groups, kh, kw\], but this is \[2, 2, 3\]/],
  ["conv_transpose2d channels not divisible by groups", "input x: [1, 3, 4, 4]\nparam w: [3, 2, 3, 3]\ny = conv_transpose2d(x, w, groups = 2)", "E0251", 3, 5,
    /conv_transpose2d: the input channels must be divisible by groups = 2, but there are 3/],
  ["conv2d_weight_grad input rank", "input x: [1, 3, 8]\ninput g: [1, 4, 6, 6]\ny = conv2d_weight_grad(x, g, 3)", "E0250", 3, 5,
    /conv2d_weight_grad: the input must be \[batch, channels, height, width\], but this is \[1, 3, 8\]/],
  ["conv2d_weight_grad gradient rank", "input x: [1, 3, 8, 8]\ninput g: [1, 4, 6]\ny = conv2d_weight_grad(x, g, 3)", "E0250", 3, 5,
    /conv2d_weight_grad: the output gradient must be \[batch, out_channels, height, width\], but this is \[1, 4, 6\]/],
  ["conv2d_weight_grad input channels not divisible by groups", "input x: [1, 3, 8, 8]\ninput g: [1, 4, 6, 6]\ny = conv2d_weight_grad(x, g, 3, groups = 2)", "E0251", 3, 5,
    /conv2d_weight_grad: the input channels must be divisible by groups = 2, but there are 3/],
  ["conv2d_weight_grad filters not divisible by groups", "input x: [1, 4, 8, 8]\ninput g: [1, 3, 6, 6]\ny = conv2d_weight_grad(x, g, 3, groups = 2)", "E0251", 3, 5,
    /conv2d_weight_grad: the output channels \(filters\) must be divisible by groups = 2, but there are 3/],
  ["zero kernel size", "input x: [1, 1, 8, 8]\nparam w: [1, 1, 0, 3]\ny = conv2d(x, w)", "E0254", 3, 5,
    /conv2d: the weights' spatial sizes must be known sizes, but this is \[1, 1, 0, 3\]/],
  ["conv1d empty output", "input x: [1, 1, 4]\nparam w: [1, 1, 5]\ny = conv1d(x, w, padding = 0)", "E0252", 3, 5,
    /conv1d: the output would be empty: the 5 kernel \(spread by its dilation\) is larger than the 4 padded input/],
  ["empty output past the padding", "input x: [1, 1, 4, 9]\nparam w: [1, 1, 7, 3]\ny = conv2d(x, w, padding = 1)", "E0252", 3, 5,
    /conv2d: the output would be empty: the 7x3 kernel \(spread by its dilation\) is larger than the 6x11 padded input/],
  ["avgpool2d_grad plane", "input g: [1, 3, 3, 3]\ny = avgpool2d_grad(g, 8, 8)", "E0255", 2, 5,
    /avgpool2d_grad: the output gradient `g` is \[1, 3, 3, 3\], but must be \[1, 3, 4, 4\]/],
];

describe("convolution diagnostics at their exact position", () => {
  for (const [title, source, code, line, column, message] of cases) {
    it(title, () => {
      const g = compileError(source, "conv.grad");
      expect({ code: g.code, line: g.line, column: g.column }).toEqual({ code, line, column });
      expect(g.message).toMatch(message);
      expect(g.rendered).toContain(`conv.grad:${line}:${column}: error:`);
      expect(g.rendered).toMatch(/\n\s*\^+/);
    });
  }
});

describe("the smallest outputs are not errors", () => {
  it("a kernel as large as the input gives one position; a 1x1 transposed convolution gives 1x1", () => {
    expect(compile("input x: [1, 1, 3]\nparam w: [1, 1, 3]\ny = conv1d(x, w)\noutput y").meta.outputs[0]!.shape).toEqual([1, 1, 1]);
    expect(compile("input x: [1, 2, 1, 1]\nparam w: [2, 3, 1, 1]\ny = conv_transpose2d(x, w)\noutput y").meta.outputs[0]!.shape).toEqual([1, 3, 1, 1]);
  });
});
