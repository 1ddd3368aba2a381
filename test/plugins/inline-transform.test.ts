import { describe, expect, it } from "vitest";
import { GradcError } from "../../src/index";
import { parseHost, transformInlineModels } from "../../src/plugins/inline-transform";

const rewrite = (code: string) => transformInlineModels(parseHost(code)!, code, "/app/main.js");

describe("finding grad`...` in JavaScript", () => {
  it("replaces tagged models, drops the import and keeps the host's lines", () => {
    const code = `import { compile, grad as g } from "gradc";\nconst a = g\`input x\nout = x\noutput out\`;\nconst b = g\`input x\nout = x\noutput out\`;\nexport { a, b, compile };\n`;
    const out = rewrite(code)!;
    expect(out.models).toHaveLength(1); // the same text in one file is one model
    expect(out.code).toBe(`import {compile} from "gradc"; import __gradc_model_0 from "${out.models[0]!.specifier}";\nconst a = __gradc_model_0\n\n;\nconst b = __gradc_model_0\n\n;\nexport { a, b, compile };\n`);
    expect(out.keptImport).toBe(false);
    // The model is padded to its place: its first line is line 2, after `const a = g\``.
    expect(out.models[0]!.source.split("\n")[1]).toBe(`${" ".repeat(12)}input x`);
  });

  it("leaves code alone that does not tag with gradc's grad", () => {
    expect(rewrite(`import { grad } from "other";\nconst m = grad\`input x\`;`)).toBeUndefined();
    expect(rewrite(`const grad = (s) => s;\nconst m = grad\`input x\`;`)).toBeUndefined();
  });

  it("keeps the import when grad is used as a value", () => {
    const out = rewrite(`import { grad } from "gradc";\nconst m = grad\`input x\nout = x\noutput out\`;\nexport const tag = grad;\n`)!;
    expect(out.keptImport).toBe(true);
    expect(out.code.startsWith(`import {grad} from "gradc"; import __gradc_model_0`)).toBe(true);
  });

  it("splices literal ${} values and rejects others at their position", () => {
    const out = rewrite(`import { grad } from "gradc";\nconst m = grad\`input x: [\${3}]\nout = sum(x)\noutput out\`;\n`)!;
    expect(out.models[0]!.source).toContain("input x: [3]");
    try {
      rewrite(`import { grad } from "gradc";\nconst n = 3;\nconst m = grad\`input x: [\${n}]\`;\n`);
      throw new Error("expected a GradcError");
    } catch (e) {
      expect(e).toBeInstanceOf(GradcError);
      expect((e as GradcError).rendered).toMatch(/^\/app\/main\.js:3:28: error: bad option: an inline grad`...` model compiles at build time/);
    }
  });
});
