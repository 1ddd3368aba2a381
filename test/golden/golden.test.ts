// Golden files: for each case in test/golden/<case>/, the model (`model.grad`, the input),
// its IR after differentiation and simplification (`ir.txt`), its gradient program as
// `gradc grad` prints it (`grad.txt`) and the emitted ES module (`emitted.mjs`), compared
// as files so every change to lowering, autodiff, simplify or codegen is seen in review.
// `UPDATE_GOLDEN=1 npx vitest run test/golden` rewrites them. The emitted JS also
// round-trips through acorn + astring, is byte-identical across compiles, and, imported,
// behaves as the model compile() returns.

import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as acorn from "acorn";
import { generate } from "astring";
import { describe, expect, it } from "vitest";
import { buildModel, compile, compileToSource, type CompiledModel } from "../../src/index";
import { printIR } from "../../src/ir";
import { lowerSource } from "../../src/lower";
import { printDefinitions } from "../../src/print";

const root = fileURLToPath(new URL(".", import.meta.url));
const update = process.env.UPDATE_GOLDEN === "1";

/** Compile options per case (dims bound at compile time); cases not listed use none. */
const options: Record<string, { sizes?: Record<string, number> }> = {
  mlp: { sizes: { n: 8 } },
};

const cases = readdirSync(root).filter((d) => statSync(join(root, d)).isDirectory()).sort();

/** The golden outputs of one model, by file name. */
function render(source: string, sizes: Record<string, number> | undefined): Record<string, string> {
  const program = lowerSource(source, { filename: "model.grad", sizes });
  const model = buildModel(program);
  const roots = [...model.outputs, ...(model.objective ? [model.objective] : []), ...(model.grads ?? [])];
  const grads = model.grads ?? [];
  return {
    "ir.txt": printIR(roots),
    "grad.txt": printDefinitions(program.params.map((p, i) => ({ name: `d_${p.name}`, node: grads[i]! }))),
    "emitted.mjs": compileToSource(source, { filename: "model.grad", format: "esm", sizes }).text,
  };
}

/** An ESTree as data, without positions. */
function shapeOf(ast: unknown): string {
  return JSON.stringify(ast, (key, value: unknown) => (key === "start" || key === "end" || key === "loc" || key === "range" ? undefined : value));
}

function parseModule(text: string): acorn.Program {
  return acorn.parse(text, { ecmaVersion: 2022, sourceType: "module" });
}

describe("golden", () => {
  it("has cases", () => {
    expect(cases).toEqual(expect.arrayContaining(["mlp", "xor"]));
  });

  it("xor's model is the seed example", () => {
    const seed = readFileSync(new URL("../../examples/xor/xor.grad", import.meta.url), "utf8");
    expect(readFileSync(join(root, "xor", "model.grad"), "utf8")).toBe(seed);
  });

  describe.each(cases)("%s", (name) => {
    const dir = join(root, name);
    const source = readFileSync(join(dir, "model.grad"), "utf8");
    const sizes = options[name]?.sizes;
    // Rendered inside each test, not once while the tests are collected: a compile that
    // throws then fails a test, and mutation testing sees which tests ran the compiler.
    const rendered = () => render(source, sizes);

    for (const file of ["ir.txt", "grad.txt", "emitted.mjs"]) {
      it(file, () => {
        const path = join(dir, file);
        if (update) writeFileSync(path, rendered()[file]!);
        if (!existsSync(path)) expect.fail(`${path} is missing; run UPDATE_GOLDEN=1 npx vitest run test/golden`);
        expect(rendered()[file], `${name}/${file} differs from the golden file; if the change is intended, run UPDATE_GOLDEN=1 npx vitest run test/golden`).toBe(readFileSync(path, "utf8"));
      });
    }

    it("emitted JS round-trips through acorn + astring", () => {
      const text = rendered()["emitted.mjs"]!;
      const ast = parseModule(text);
      const again = parseModule(generate(ast as never));
      expect(shapeOf(again)).toBe(shapeOf(ast));
    });

    it("the emitted module, imported, is the model compile() returns", async () => {
      const live = compile(source, { sizes });
      const mod = (await import(pathToFileURL(join(dir, "emitted.mjs")).href)) as CompiledModel & { default: CompiledModel };
      expect(mod.meta).toEqual(live.meta);
      expect(Object.keys(mod.default).sort()).toEqual(["createParams", "forward", "meta", "params", "predict", "step", "valueAndGrad"]);
      const values: Record<string, Float32Array> = {};
      for (const d of live.meta.inputs) {
        const n = d.shape.reduce<number>((a, x) => a * (x as number), 1);
        values[d.name] = Float32Array.from({ length: n }, (_, i) => ((i * 7) % 5) / 4);
      }
      const want = live.valueAndGrad(values);
      const got = mod.valueAndGrad(values);
      expect(got.value).toBe(want.value);
      for (const p of live.meta.params) expect(got.grads[p.name]).toEqual(want.grads[p.name]);
      // predict gives forward's outputs (the objective left out).
      const predicted = mod.predict(values), outputs = live.forward(values);
      expect(Object.keys(predicted)).toEqual(live.meta.outputs.map((o) => o.name));
      for (const o of live.meta.outputs) expect(predicted[o.name]).toEqual(outputs[o.name]);
    });

    it("emits byte-identical code and text across compiles", () => {
      // Another model compiled in between must not change anything (no hidden global state).
      render(readFileSync(join(root, cases.find((c) => c !== name) ?? name, "model.grad"), "utf8"), options[cases.find((c) => c !== name) ?? name]?.sizes);
      expect(render(source, sizes)).toEqual(rendered());
    });
  });
});
