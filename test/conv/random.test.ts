// Seeded random geometries over the whole attribute space (rank, stride, padding,
// dilation, groups, output_padding, kernel and input sizes, per axis): each program
// compiles, its emitted code agrees with the interpreter, and its printed gradient is a
// program with the same values. A geometry whose output would be empty must be a
// GradcError (E0252 / E0256), never anything else. Set CONV_SEED to vary the draw.

import { describe, expect, it } from "vitest";
import { compile, GradcError } from "../../src/index";
import { rng } from "../helpers/random";
import { expectClose, gradientProgram, interpret, randomValues } from "./helpers";

const base = Number(process.env.CONV_SEED ?? 0);

/** One random conv or conv_transpose program, as source. */
function draw(seed: number): string {
  const r = rng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const rank = int(1, 2);
  const transpose = r() < 0.4;
  const groups = [1, 1, 2, 3][int(0, 3)]!;
  const perGroupIn = int(1, 3), perGroupOut = int(1, 2);
  const axes = Array.from({ length: rank }, () => {
    const stride = int(1, 3);
    return { size: int(2, 9), k: int(1, 4), stride, padding: int(0, 2), dilation: int(1, 3), outputPadding: int(0, stride - 1) };
  });
  const pairs = (f: (a: (typeof axes)[number]) => number) => (rank === 1 ? String(f(axes[0]!)) : `[${axes.map(f).join(", ")}]`);
  const n = int(1, 2);
  const cin = groups * perGroupIn;
  const x = `[${[n, cin, ...axes.map((a) => a.size)].join(", ")}]`;
  const w = transpose
    ? `[${[cin, perGroupOut, ...axes.map((a) => a.k)].join(", ")}]`
    : `[${[groups * perGroupOut, perGroupIn, ...axes.map((a) => a.k)].join(", ")}]`;
  const args = [`stride = ${pairs((a) => a.stride)}`, `padding = ${pairs((a) => a.padding)}`, `dilation = ${pairs((a) => a.dilation)}`, `groups = ${groups}`];
  if (transpose) args.push(`output_padding = ${pairs((a) => a.outputPadding)}`);
  const fn = transpose ? `conv_transpose${rank}d` : `conv${rank}d`;
  return `input x: ${x}\nparam w: ${w} = he_normal\ny = ${fn}(x, w, ${args.join(", ")})\nloss = sum(tanh(y) * y)\noutput y\nminimize loss\n`;
}

describe(`random convolution geometries (CONV_SEED=${base})`, () => {
  it("compile, agree with the interpreter and print as programs, or fail with an empty-output error", () => {
    let built = 0;
    for (let k = 0; k < 60; k++) {
      const source = draw(base * 1000 + k);
      let model;
      try {
        model = compile(source, { dtype: "f64", seed: k });
      } catch (e) {
        expect(e, source).toBeInstanceOf(GradcError);
        expect(["E0252", "E0256"], `${source}${(e as Error).message}`).toContain((e as GradcError).code);
        continue;
      }
      built++;
      const values = randomValues(model.meta, k);
      const want = interpret(source, values);
      const { value, grads } = model.valueAndGrad(values);
      expectClose(model.forward(values).y as Float64Array, want.outputs.y!, 1e-12, `${source}y`);
      expectClose([value], [want.objective!], 1e-12, `${source}loss`);
      expectClose(grads.w!, want.grads.w!, 1e-12, `${source}d/dw`);
      const printed = compile(gradientProgram(source, model.meta), { dtype: "f64" }).forward(values);
      expectClose(printed.d_w as Float64Array, grads.w!, 1e-12, `${source}printed d_w`);
    }
    expect(built).toBeGreaterThanOrEqual(30);
  });
});
