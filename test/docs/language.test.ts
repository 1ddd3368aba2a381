// docs/language.md is generated (scripts/docs.ts): it must match what the generator
// produces from the template and the built-ins' docs, every built-in must have a complete
// doc, and every gradc program in it must compile (or fail exactly as the page says).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  collectBuiltins, docProblems, outputPath, preludeDocs, renderLanguageDoc, root, templateGroups, templatePath, type BuiltinEntry,
} from "../../scripts/docs";
import { check, compile, GradcError } from "../../src/index";
import { initSchemas, optimizerSchemas } from "../../src/lower/lower";

const template = readFileSync(join(root, templatePath), "utf8");
const committed = readFileSync(join(root, outputPath), "utf8");

describe("docs/language.md", () => {
  it("documents every built-in completely", () => {
    const problems = docProblems(collectBuiltins(), template);
    expect(problems.length, `built-ins whose reference entry is missing or incomplete:\n  ${problems.join("\n  ")}\n` +
      "fill them in, then run `npm run docs` to regenerate docs/language.md").toBe(0);
  });

  it("is what `npm run docs` generates", () => {
    const generated = renderLanguageDoc(template);
    if (generated !== committed) {
      const a = committed.split("\n"), b = generated.split("\n");
      let line = 0;
      while (line < a.length && a[line] === b[line]) line++;
      expect.fail(`docs/language.md is out of date: run \`npm run docs\` and commit the result.\n` +
        `first difference at line ${line + 1}:\n  committed: ${a[line] ?? "(end of file)"}\n  generated: ${b[line] ?? "(end of file)"}`);
    }
  });

  it("lists every documented built-in in a table, once", () => {
    const names = collectBuiltins().filter((e) => e.doc).map((e) => e.name);
    expect(names).toContain("sigmoid");
    expect(names).toContain("cross_entropy");
    for (const name of names) {
      const rows = committed.split("\n").filter((l) => l.startsWith(`| \`${name}(`));
      expect(rows.length, `table rows for \`${name}\``).toBe(1);
    }
  });

  it("documents every optimizer and initialiser with its arguments and defaults", () => {
    const call = (name: string, schema: [string, number | undefined][]) =>
      schema.length === 0 ? `\`${name}\`` : `\`${name}(${schema.map(([k, v]) => (v === undefined ? k : `${k} = ${v}`)).join(", ")})\``;
    const missing = [...Object.entries(optimizerSchemas), ...Object.entries(initSchemas)]
      .map(([name, schema]) => call(name, schema))
      .filter((text) => !committed.includes(text));
    expect(missing, `write these in ${templatePath} (Statements), then run \`npm run docs\``).toEqual([]);
  });

  // Each ```gradc block is a whole program that compiles; a ```gradc error block must fail,
  // and the ```text block right after it is the rendered error (file model.grad).
  const blocks = codeBlocks(committed);
  it("has example programs", () => {
    expect(blocks.filter((b) => b.info === "gradc").length).toBeGreaterThan(10);
    expect(blocks.filter((b) => b.info === "gradc error").length).toBeGreaterThan(0);
  });
  blocks.forEach((block, i) => {
    if (block.info === "gradc") {
      it(`compiles the program at line ${block.line}`, () => {
        expect(() => compile(block.text, { filename: "model.grad" })).not.toThrow();
      });
    } else if (block.info === "gradc error") {
      it(`rejects the program at line ${block.line} with the message shown`, () => {
        const shown = blocks[i + 1];
        expect(shown?.info, `a \`\`\`text block with the message must follow line ${block.line}`).toBe("text");
        let error: unknown;
        try {
          check(block.text, { filename: "model.grad" });
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(GradcError);
        expect((error as GradcError).rendered).toBe(shown!.text.replace(/\n$/, ""));
      });
    }
  });
});

describe("the project's own documents", () => {
  const pages = ["README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

  it("point at each other, never at files outside the repository", () => {
    for (const page of pages) {
      const text = readFileSync(join(root, page), "utf8");
      expect(text, page).not.toMatch(/\.\.\/shared\/|SPEC\.md/);
    }
    expect(readFileSync(join(root, "README.md"), "utf8")).toContain("[docs/language.md](docs/language.md)");
  });
});

describe("the generator", () => {
  const entry = (doc: BuiltinEntry["doc"], params = ["x", "alpha"], required = 1): BuiltinEntry =>
    ({ name: "f", origin: "record", params, required, errors: [], ...(doc ? { doc } : {}) });
  const full = { group: "elementwise", signature: "f(x, alpha = 1)", summary: "s", shape: "`x.shape`", grad: "g", counterpart: "c" };

  it("names a built-in without a doc and says where to add it", () => {
    expect(docProblems([entry(undefined)], template)).toEqual([
      "`f` has no doc: add `doc: { group, signature, summary, shape, grad, counterpart }` to its record (src/lower/builtins.ts or the file it comes from)",
    ]);
  });

  it("names missing fields, unknown groups and signatures that do not match the parameters", () => {
    expect(docProblems([entry(full)], template)).toEqual([]);
    expect(docProblems([entry({ ...full, grad: " ", counterpart: "" })], template)[0]).toMatch(/`f` .*missing grad, counterpart/);
    expect(docProblems([entry({ ...full, group: "misc" })], template)[0]).toMatch(/group `misc` has no `<!-- builtins: misc -->` table/);
    expect(docProblems([entry({ ...full, signature: "f(x, beta = 1)" })], template)[0]).toMatch(/shows `beta =`, but the parameters are \(x, alpha\)/);
    expect(docProblems([entry({ ...full, signature: "f(y, alpha = 1)" })], template)[0]).toMatch(/lists \(y, alpha\) but the parameters are \(x, alpha\)/);
    expect(docProblems([entry({ ...full, signature: "f(x, alpha)" })], template)[0]).toMatch(/default exactly for the optional parameters \(check alpha\)/);
    expect(docProblems([entry({ ...full, signature: "g(x, alpha = 1)" })], template)[0]).toMatch(/names `g`, not `f`/);
  });

  it("accepts a list parameter in brackets and several forms joined by `or`", () => {
    const ok = (signature: string, params: string[], required: number) => docProblems([entry({ ...full, signature }, params, required)], template);
    expect(ok("f([shape], value = 0)", ["shape", "value"], 1)).toEqual([]);
    expect(ok("f(stop) or f(start, stop, step = 1)", ["start", "stop", "step"], 1)).toEqual([]);
    expect(ok("f(stop) or f(start, end)", ["start", "stop", "step"], 1)[0]).toMatch(/lists \(start, end\)/);
    expect(ok("f(count) or f(start, stop, step)", ["start", "stop", "step"], 1)[0]).toMatch(/shows count, which is not a parameter/);
  });

  it("lets a signature elide with `...`, but checks the keywords it shows", () => {
    const ok = (signature: string, params: string[], required: number) => docProblems([entry({ ...full, signature }, params, required)], template);
    expect(ok("f([a, b, ...], axis = 0)", ["xs", "axis"], 1)).toEqual([]);
    expect(ok("f(s, x1, x2, ...)", ["s", "x1", "x2", "x3"], 2)).toEqual([]);
    expect(ok("f([a, b, ...], dim = 0)", ["xs", "axis"], 1)[0]).toMatch(/shows `dim =`, but the parameters are \(xs, axis\)/);
  });

  it("reads prelude doc comments: keys, continuation lines, plain comments before them", () => {
    const docs = preludeDocs([
      "# a plain comment",
      "# group: loss",
      "# summary: first part",
      "#   and the rest",
      "fn a(x) = x",
      "",
      "# group: loss",
      "# sumary: a typo",
      "fn b(x) = x",
      "fn c(x) = x",
    ].join("\n"));
    expect(docs.get("a")).toEqual({ doc: { group: "loss", summary: "first part and the rest" }, errors: [] });
    expect(docs.get("b")!.errors[0]).toMatch(/cannot read the doc line `# sumary: a typo`/);
    expect(docs.get("c")).toEqual({ doc: {}, errors: [] });
  });

  it("finds every prelude function, documented or not", () => {
    const entries = collectBuiltins("fn documented(x) = x\n# group: loss\nfn other(a, b) = a + b\n");
    const prelude = entries.filter((e) => e.origin === "prelude");
    expect(prelude.map((e) => [e.name, e.params.join(","), e.doc?.group])).toEqual([["documented", "x", undefined], ["other", "a,b", "loss"]]);
    expect(docProblems(prelude, template)[0]).toMatch(/`documented` has no doc: add `# key: value` comment lines above its `fn`/);
  });

  it("follows each error example with the error gradc renders for it", () => {
    const out = renderLanguageDoc("# T\n```gradc error\ny = q\n```\nafter\n", []);
    expect(out).toContain("```gradc error\ny = q\n```\n\n```text\nmodel.grad:1:5: error: unknown name `q`\n");
    expect(out).toMatch(/\^\n```\nafter\n$/);
    expect(() => renderLanguageDoc("```gradc error\ninput x\noutput x\n```\n", [])).toThrow(/compiles without an error/);
    expect(() => renderLanguageDoc("```gradc error\ny = q\n", [])).toThrow(/not closed/);
  });

  it("replaces each marker by its group's table and the index marker by links", () => {
    const t = "# T\n<!-- builtins: index -->\n## Odd | group\n<!-- builtins: elementwise -->\n## Empty\n<!-- builtins: constant -->\n";
    const out = renderLanguageDoc(t, [entry({ ...full, summary: "a | b" })]);
    expect(out).toContain("- [Odd | group](#odd--group): `f`\n- [Empty](#empty): none yet");
    expect(out).toContain("| `f(x, alpha = 1)` | a \\| b | `x.shape` | g | c |");
    expect(out).toContain("_No built-ins in this group yet._");
    expect(templateGroups(t)).toEqual([{ group: "elementwise", title: "Odd | group" }, { group: "constant", title: "Empty" }]);
  });
});

function codeBlocks(markdown: string): { info: string; text: string; line: number }[] {
  const out: { info: string; text: string; line: number }[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    while (++i < lines.length && lines[i] !== "```") body.push(lines[i]!);
    out.push({ info: open[1]!.trim(), text: body.join("\n") + "\n", line: start + 1 });
  }
  return out;
}
