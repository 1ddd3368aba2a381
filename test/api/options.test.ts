// Bad options and values are GradcErrors (issue 12, point 5): every option of compile,
// check, gradcheck and derivative is checked for its type and value, unknown names are
// rejected with a suggestion, createParams takes only an integer seed, and meta is frozen
// all the way down.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { check, compile, derivative, GradcError, gradcheck } from "../../src/index";
import esbuildPlugin from "../../src/plugins/esbuild";
import rollupPlugin from "../../src/plugins/rollup";

const xorSource = readFileSync(new URL("../../examples/xor/xor.grad", import.meta.url), "utf8");
const dimmed = "dim n\ninput x: [n, 2]\nparam w: [2, 1] = ones\nloss = sum(x @ w)\nminimize loss\n";

function expectGradcError(f: () => unknown, code: string, message: RegExp | string, hint?: string): GradcError {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(GradcError);
  const err = thrown as GradcError;
  expect(err.code).toBe(code);
  if (typeof message === "string") expect(err.message).toBe(message);
  else expect(err.message).toMatch(message);
  if (hint !== undefined) expect(err.errors[0]!.hint).toBe(hint);
  return err;
}

describe("compile and check options", () => {
  it("filename must be a string", () => {
    for (const filename of [42, null, {}, ["a"]]) {
      expectGradcError(() => compile(xorSource, { filename } as never), "E0304", /^bad option: filename must be a string, but is /);
      expectGradcError(() => check(xorSource, { filename } as never), "E0304", /^bad option: filename must be a string/);
    }
    expectGradcError(() => compile(xorSource, { filename: 42 } as never), "E0304", "bad option: filename must be a string, but is 42");
  });

  it("the options themselves must be an object", () => {
    for (const options of [null, 42, "xor.grad", [1]]) {
      expectGradcError(() => compile(xorSource, options as never), "E0304", /^bad option: the options must be an object like \{ filename: "model\.grad" \}, but are /);
    }
    expectGradcError(() => check(xorSource, "xor.grad" as never), "E0304", /but are "xor\.grad"$/);
  });

  it("an unknown option name is an error with a suggestion", () => {
    const e = expectGradcError(() => compile(xorSource, { sizez: { n: 2 } } as never), "E0305",
      "unknown option `sizez`; the options are `filename`, `sizes`, `dtype`, `seed`, `target`", "did you mean `sizes`?");
    expect(e.rendered).toBe("error: unknown option `sizez`; the options are `filename`, `sizes`, `dtype`, `seed`, `target`\n  hint: did you mean `sizes`?");
    expectGradcError(() => compile(xorSource, { dtpye: "f64" } as never), "E0305", /`dtpye`/, "did you mean `dtype`?");
    // `format` belongs to the CLI and the bundler plugins, not to compile; nothing is near it
    expect(expectGradcError(() => compile(xorSource, { format: "esm" } as never), "E0305", /`format`/).errors[0]!.hint).toBeUndefined();
    expectGradcError(() => check(xorSource, { verbose: true } as never), "E0305", /unknown option `verbose`/);
    // check accepts compile's options, so one options object serves both
    expect(check(xorSource, { filename: "xor.grad", dtype: "f64", seed: 3 })).toEqual(compile(xorSource).meta);
  });

  it("dtype is \"f32\" or \"f64\"", () => {
    expectGradcError(() => compile(xorSource, { dtype: "f16" } as never), "E0303", 'unknown dtype "f16": use "f32" or "f64"');
    expectGradcError(() => compile(xorSource, { dtype: 64 } as never), "E0303", 'unknown dtype 64: use "f32" or "f64"');
    expectGradcError(() => check(xorSource, { dtype: "F64" } as never), "E0303", /"F64"/);
  });

  it("seed is an integer", () => {
    for (const [seed, shown] of [[1.5, "1.5"], ["1", '"1"'], [Number.NaN, "NaN"], [null, "null"], [2 ** 60, String(2 ** 60)]] as const) {
      expectGradcError(() => compile(xorSource, { seed } as never), "E0304", `bad option: seed must be an integer, but is ${shown}`);
    }
    expect(compile(xorSource, { seed: -3 }).params.m1).toEqual(compile(xorSource, { seed: -3 }).params.m1);
  });

  it("sizes is a record of positive integers naming dims", () => {
    for (const sizes of [null, 5, [4], "n=4"]) {
      expectGradcError(() => compile(dimmed, { sizes } as never), "E0304", /^bad option: sizes must be an object like \{ n: 64 \}, but is /);
    }
    // A bad value is reported at the dim it binds.
    for (const [value, shown] of [[0, "0"], [2.5, "2.5"], ["4", "4"], [-1, "-1"]] as const) {
      const e = expectGradcError(() => compile(dimmed, { sizes: { n: value } } as never), "E0302", `size \`n\` must be a positive integer, found ${shown}`);
      expect([e.line, e.column]).toEqual([1, 5]);
    }
    // An unknown name is an error that names the dims the program has.
    expectGradcError(() => compile(dimmed, { sizes: { q: 3 } }), "E0301", "unknown size `q`: the program declares no `dim q`", "its dims are `n`");
    expectGradcError(() => compile(dimmed, { sizes: { nn: 3 } }), "E0301", /`nn`/, "did you mean `n`? (its dims are `n`)");
    expectGradcError(() => check(xorSource, { sizes: { n: 3 } }), "E0301", /`n`/, "it declares no dims");
  });

  it("derivative takes exactly two strings", () => {
    expectGradcError(() => (derivative as (...a: unknown[]) => string)("x^2", "x", { simplify: false }), "E0304",
      "bad option: derivative(expr, wrt) takes two arguments, but 3 were given");
    expectGradcError(() => derivative(42 as never, "x"), "E0304", /two strings/);
    expect(derivative("x^2", "x")).toBe("2 * x");
  });
});

describe("gradcheck options", () => {
  it("unknown names, bad types and options that cannot apply are errors", () => {
    expectGradcError(() => gradcheck(xorSource, { point: 2 } as never), "E0305", /`point`/, "did you mean `points`?");
    expectGradcError(() => gradcheck(xorSource, { dims: [3] } as never), "E0304", "bad option: dims must be an object keyed by name, but is an array");
    expectGradcError(() => gradcheck(xorSource, { values: 1 } as never), "E0304", /values must be an object/);
    expectGradcError(() => gradcheck(xorSource, { seed: "1" } as never), "E0304", /seed must be an integer, but is "1"/);
    const model = compile(xorSource, { dtype: "f64" });
    expectGradcError(() => gradcheck(model, { sizes: { n: 2 } }), "E0304",
      "bad option: `sizes` applies only when gradcheck compiles a source string; this model is compiled already");
    expectGradcError(() => gradcheck(model, { filename: "xor.grad" }), "E0304", /`filename` applies only/);
  });

  it("dims names free dims of the model, with positive integer values", () => {
    expectGradcError(() => gradcheck(dimmed, { dims: { q: 3 } }), "E0306",
      "`dims` names `q`, which is not a free dim of the model (its free dims are `n`)");
    expectGradcError(() => gradcheck(dimmed, { dims: { nn: 3 } }), "E0306", /`nn`/, "did you mean `n`?");
    expectGradcError(() => gradcheck(xorSource, { dims: { n: 3 } }), "E0306", /\(it has none\)$/);
    // A dim bound at compile time is no longer free.
    expectGradcError(() => gradcheck(dimmed, { sizes: { n: 4 }, dims: { n: 3 } }), "E0306", /`n`.*\(it has none\)$/);
    expectGradcError(() => gradcheck(dimmed, { dims: { n: 0 } }), "E0304", "bad option: dims: `n` must be a positive integer, but is 0");
    expect(gradcheck(dimmed, { dims: { n: 5 } }).ok).toBe(true);
  });
});

describe("bundler plugin options", () => {
  it("are checked where the plugin is created, in the bundler's config", () => {
    for (const make of [esbuildPlugin, rollupPlugin] as ((o?: object) => unknown)[]) {
      expectGradcError(() => make({ sizez: { n: 2 } }), "E0305",
        "unknown option `sizez`; the options are `sizes`, `dtype`, `seed`, `target`, `inline`, `dts`, `root`", "did you mean `sizes`?");
      expectGradcError(() => make({ dts: "yes" }), "E0304", 'bad option: dts must be true or false, but is "yes"');
      expectGradcError(() => make({ root: 1 }), "E0304", "bad option: root must be a folder name, but is 1");
      expectGradcError(() => make({ dtype: "f16" }), "E0303", /"f16"/);
      expectGradcError(() => make({ seed: 0.5 }), "E0304", /seed must be an integer/);
      expect(() => make({ dtype: "f64", seed: 2, sizes: { n: 4 }, inline: false, dts: false, root: "." })).not.toThrow();
      expect(() => make()).not.toThrow();
    }
  });
});

describe("createParams and meta", () => {
  const model = compile(xorSource);

  it("createParams takes an integer seed or nothing", () => {
    for (const [seed, shown] of [["abc", '"abc"'], [null, "null"], [1.5, "1.5"], [Number.NaN, "NaN"], [{}, "Object"], [[1], "a plain Array"], [true, "true"]] as const) {
      expectGradcError(() => model.createParams(seed as never), "E0411", `createParams(seed): the seed must be an integer, but is ${shown}`);
    }
    expect(model.createParams(7).m1).toEqual(compile(xorSource, { seed: 7 }).params.m1);
    expect(model.createParams().m1).toEqual(compile(xorSource).params.m1);
    expect(model.createParams(undefined).m1).toEqual(model.params.m1);
  });

  it("meta is frozen all the way down", () => {
    const { meta } = model;
    const parts = [meta, meta.inputs, meta.params, meta.outputs, ...meta.inputs, ...meta.inputs.map((d) => d.shape), ...meta.params.map((d) => d.shape)];
    for (const part of parts) expect(Object.isFrozen(part)).toBe(true);
    expect(() => { meta.inputs[0]!.shape[0] = 5; }).toThrow(TypeError);
    expect(() => { meta.params.push({ name: "z", shape: [] }); }).toThrow(TypeError);
    expect(() => { (meta.outputs[0] as { name: string }).name = "other"; }).toThrow(TypeError);
    expect(meta.inputs[0]).toEqual({ name: "x", shape: [4, 2] });
  });
});
