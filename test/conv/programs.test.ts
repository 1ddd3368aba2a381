// Convolution models end to end through the compiler: the emitted code (f64, and f32
// within float tolerance) computes what the reference interpreter says, at a free batch
// size too; and the printed gradient (`gradc grad`) is a program: it uses only documented
// built-ins, compiles, and computes the same gradients as valueAndGrad.

import { describe, expect, it } from "vitest";
import { buildModel, compile } from "../../src/index";
import { builtins, lowerSource } from "../../src/lower";
import { printDot } from "../../src/print";
import { expectClose, gradientProgram, gradientText, interpret, randomValues } from "./helpers";
import { models } from "./models";

describe("emitted code agrees with the interpreter", () => {
  for (const m of models) {
    it(m.name, () => {
      const model = compile(m.source, { dtype: "f64", seed: 3 });
      const values = randomValues(model.meta, 11, m.dims);
      const want = interpret(m.source, values, m.dims);
      const out = model.forward(values);
      for (const o of model.meta.outputs) expectClose(out[o.name] as Float64Array, want.outputs[o.name]!, 1e-12, `output ${o.name}`);
      const { value, grads } = model.valueAndGrad(values);
      expectClose([value], [want.objective!], 1e-12, "objective");
      for (const p of model.meta.params) expectClose(grads[p.name]!, want.grads[p.name]!, 1e-12, `d/d${p.name}`);

      const f32 = compile(m.source, { seed: 3 });
      const single = f32.valueAndGrad(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Float32Array.from(v)])));
      expectClose([single.value], [value], 1e-4, "f32 objective");
      for (const p of model.meta.params) expectClose(single.grads[p.name]!, grads[p.name]!, 1e-3, `f32 d/d${p.name}`);
    });
  }

  it("runs a free batch dim at several sizes, re-planning each", () => {
    const m = models.find((x) => x.dims)!;
    const model = compile(m.source, { dtype: "f64", seed: 3 });
    for (const n of [1, 4, 2]) {
      const values = randomValues(model.meta, 20 + n, { n });
      const want = interpret(m.source, values, { n });
      const { value, grads } = model.valueAndGrad(values);
      expectClose([value], [want.objective!], 1e-12, `objective at n = ${n}`);
      for (const p of model.meta.params) expectClose(grads[p.name]!, want.grads[p.name]!, 1e-12, `d/d${p.name} at n = ${n}`);
    }
  });
});

describe("printed gradients are programs", () => {
  for (const m of models) {
    it(m.name, () => {
      const model = compile(m.source, { dtype: "f64", seed: 5 });
      const text = gradientText(m.source);
      const called = new Set([...text.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\(/g)].map((c) => c[1]!));
      for (const fn of m.printsAs) expect(called, `${fn} in:\n${text}`).toContain(fn);
      // every call is a documented built-in: no internal record names leak
      for (const fn of called) expect(builtins[fn]?.doc, `${fn} is not a documented built-in:\n${text}`).toBeDefined();

      const program = compile(gradientProgram(m.source, model.meta), { dtype: "f64", filename: "printed.grad" });
      for (const seed of [1, 2]) {
        const values = randomValues(model.meta, seed, m.dims);
        const { grads } = model.valueAndGrad(values);
        const printed = program.forward(values);
        for (const p of model.meta.params) expectClose(printed[`d_${p.name}`] as Float64Array, grads[p.name]!, 1e-12, `d_${p.name}`);
      }
    });
  }
});

describe("the graph view (gradc graph) labels convolutions by their built-ins", () => {
  it("conv2d, conv_transpose2d and conv2d_weight_grad with their non-default arguments", () => {
    const m = models.find((x) => x.dims)!;
    const program = lowerSource(m.source, { filename: "test.grad" });
    const model = buildModel(program);
    const dot = printDot(
      program.outputs.map((o, k) => ({ name: o.name, node: model.outputs[k]! })),
      program.params.map((p, k) => ({ name: `d_${p.name}`, node: model.grads![k]! })),
    );
    expect(dot).toContain('label="conv2d stride=2 padding=1\\n[n, 4, 4, 4]"');
    expect(dot).toContain('label="u\\nconv_transpose2d stride=2 groups=2\\n[n, 2, 8, 8]"');
    expect(dot).toMatch(/label="d_kt\\nconv2d_weight_grad kernel_size=2 stride=2 groups=2\\n\[4, 1, 2, 2\]"/);
    expect(dot).not.toMatch(/conv_input_grad|conv_weight_grad|label="conv /);
  });
});

describe("convolution arguments", () => {
  it("a bound dim, or an expression of bound dims, stands for an argument or a list entry", () => {
    const source = (args: string) => `dim p\ninput x: [1, 2, 8, 8]\nparam w: [2, 2, 3, 3]\ny = conv2d(x, w, ${args})\noutput y`;
    const viaDims = compile(source("padding = [p, 1], stride = p + 1, dilation = [1, p]"), { sizes: { p: 1 }, dtype: "f64" });
    const literal = compile(source("padding = [1, 1], stride = 2, dilation = [1, 1]"), { dtype: "f64" });
    expect(viaDims.meta.outputs[0]!.shape).toEqual([1, 2, 4, 4]);
    const values = { x: Float64Array.from({ length: 128 }, (_, i) => Math.sin(i)), w: Float64Array.from({ length: 36 }, (_, i) => Math.cos(i)) };
    expect(Array.from(viaDims.forward(values).y as Float64Array)).toEqual(Array.from(literal.forward(values).y as Float64Array));
  });
});
