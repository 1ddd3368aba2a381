import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build, context, formatMessages, type Message, type Plugin } from "esbuild";
import { describe, expect, it } from "vitest";
import gradc from "../../src/plugins/esbuild";
import { originalPosition } from "../../src/plugins/source-map";
import { compilerMarkers, expectTrained, inlineXor, trainLoop, lineOf, makeApp, runNode, trainXor, waitFor, xorSource } from "./helpers";

const bundle = (dir: string, entry: string, extra: Parameters<typeof build>[0] = {}) => build({
  entryPoints: [join(dir, entry)], bundle: true, outfile: join(dir, "out/main.mjs"), format: "esm", platform: "node",
  sourcemap: true, plugins: [gradc({ root: dir })], logLevel: "silent", absWorkingDir: dir, ...extra,
});

async function buildError(dir: string, entry: string): Promise<{ message: Message; text: string }> {
  const failure = await bundle(dir, entry, { write: false }).then(() => undefined, (e) => e);
  if (!failure?.errors?.length) throw new Error("expected the build to fail");
  const text = (await formatMessages(failure.errors, { kind: "error", color: false })).join("\n");
  return { message: failure.errors[0], text };
}

describe("esbuild plugin", () => {
  it("bundles an imported model that trains, without the compiler", async () => {
    const dir = makeApp({ "xor.grad": xorSource, "main.js": trainXor("./xor.grad") });
    const t = performance.now();
    await bundle(dir, "main.js");
    const ms = performance.now() - t;
    const text = readFileSync(join(dir, "out/main.mjs"), "utf8");
    await bundle(dir, "main.js", { minify: true, sourcemap: false, outfile: join(dir, "out/min.mjs") });
    const minified = readFileSync(join(dir, "out/min.mjs"), "utf8");
    console.log(`esbuild: ${text.length} bytes (${minified.length} minified) in ${ms.toFixed(0)} ms`);
    expect(text).not.toMatch(compilerMarkers);
    expect(text.length).toBeLessThan(60_000); // the compiler alone is over 400 kB
    expectTrained(runNode(join(dir, "out/main.mjs")));
    expectTrained(runNode(join(dir, "out/min.mjs")));
  });

  it("compiles one model once per set of options (pragma, then query)", async () => {
    const model = "# gradc: seed=3\nparam w: [2] = uniform(-1, 1)\nout = sum(w)\noutput out\n";
    const main = `import a from "./m.grad"; import b from "./m.grad?seed=4&dtype=f64"; import c from "./m.grad?seed=3";
console.log(JSON.stringify({ a: Array.from(a.params.w), b: Array.from(b.params.w), c: Array.from(c.params.w), tb: b.params.w.constructor.name }));`;
    const dir = makeApp({ "m.grad": model, "main.js": main });
    await bundle(dir, "main.js");
    const result = runNode(join(dir, "out/main.mjs"));
    expect(result.tb).toBe("Float64Array");
    expect(result.a).toEqual(result.c);
    expect(result.b).not.toEqual(result.a);
  });

  it("fails the build on a model error, at file:line:col in esbuild's format", async () => {
    const broken = xorSource.replace("param m1: [2, 3]", "param m1: [3, 3]");
    const dir = makeApp({ "xor.grad": broken, "main.js": trainXor("./xor.grad") });
    const { message, text } = await buildError(dir, "main.js");
    expect(message.location).toMatchObject({ file: "xor.grad", line: 10, column: 16 }); // esbuild columns are 0-based
    expect(message.text).toContain("cannot matmul [4, 2] by [3, 3]: inner sizes 2 and 3 differ");
    expect(text).toContain("[ERROR] cannot matmul [4, 2] by [3, 3]: inner sizes 2 and 3 differ [plugin gradc]");
    expect(text).toContain("xor.grad:10:16:");
    expect(text).toContain("10 │ h1    = sigmoid(x @ m1 + b1)");
    expect(text).toMatch(/\n\s+╵ {17}~{6}\n/);
  });

  it("passes a diagnostic's related locations through as esbuild notes", async () => {
    const model = "input x: [2]\ny = x * 2\ny = x + 1\noutput y\n";
    const dir = makeApp({ "m.grad": model, "main.js": trainXor("./m.grad") });
    const { message, text } = await buildError(dir, "main.js");
    expect(message.text).toBe("`y` is already defined");
    expect(message.location).toMatchObject({ file: "m.grad", line: 3, column: 0, length: 1, lineText: "y = x + 1" });
    // esbuild adds its own note after ours: the import that triggered the plugin.
    expect(message.notes.map((n) => [n.text, n.location?.file, n.location?.line, n.location?.column, n.location?.lineText])).toEqual([
      ["`y` is first defined here", "m.grad", 2, 0, "y = x * 2"],
      ["The plugin \"gradc\" was triggered by this import", "main.js", 1, 31, "import model, { forward } from \"./m.grad\";"],
    ]);
    expect(text).toContain("  `y` is first defined here\n\n    m.grad:2:0:\n      2 │ y = x * 2\n        ╵ ^\n");
  });

  it("maps a kernel line of the bundle back to its .grad line", async () => {
    const dir = makeApp({ "xor.grad": xorSource, "main.js": trainXor("./xor.grad") });
    await bundle(dir, "main.js");
    const text = readFileSync(join(dir, "out/main.mjs"), "utf8");
    const map = JSON.parse(readFileSync(join(dir, "out/main.mjs.map"), "utf8"));
    // The first sigmoid of the forward pass is `h1 = sigmoid(x @ m1 + b1)`, line 10.
    const line = lineOf(text, "Math.exp(-");
    const original = originalPosition(map, line, text.split("\n")[line]!.search(/\S/));
    expect(original?.source).toMatch(/xor\.grad$/);
    expect(original!.line + 1).toBe(10);
    // Outside kernels, lines map to the emitted module itself.
    const check = lineOf(text, "function badArgument(");
    expect(originalPosition(map, check, 0)?.source).toMatch(/xor\.grad\.js$/);
  });

  it("rebuilds in watch mode when the model changes", async () => {
    const dir = makeApp({ "xor.grad": xorSource, "main.js": trainXor("./xor.grad") });
    let builds = 0;
    const counter: Plugin = { name: "count", setup: (b) => b.onEnd(() => { builds++; }) };
    const ctx = await context({
      entryPoints: [join(dir, "main.js")], bundle: true, outfile: join(dir, "out/main.mjs"), format: "esm", platform: "node",
      plugins: [gradc({ root: dir }), counter], logLevel: "silent", absWorkingDir: dir,
    });
    try {
      await ctx.watch();
      await waitFor(() => builds >= 1);
      expect(readFileSync(join(dir, "out/main.mjs"), "utf8")).not.toContain('"h1"');
      writeFileSync(join(dir, "xor.grad"), xorSource.replace("output y_out", "output y_out, h1"));
      await waitFor(() => builds >= 2 && readFileSync(join(dir, "out/main.mjs"), "utf8").includes('"h1"'), 15_000);
      expect(runNode(join(dir, "out/main.mjs")).rounded).toEqual([0, 1, 1, 0]);
    } finally {
      await ctx.dispose();
    }
  });

  it("compiles grad`...` in TypeScript at build time, leaving no compiler", async () => {
    const main = `import { grad } from "gradc";\ninterface Point { x: number }\nconst origin: Point = { x: 0 };\n${inlineXor("grad")}${trainLoop()}`;
    const dir = makeApp({ "main.ts": main });
    await bundle(dir, "main.ts");
    const text = readFileSync(join(dir, "out/main.mjs"), "utf8");
    expect(text).not.toMatch(compilerMarkers);
    expect(text).not.toContain("gradc\"");
    expectTrained(runNode(join(dir, "out/main.mjs")));
    // Through esbuild's type stripping and our rewrite, a kernel maps to main.ts: the model
    // opens on line 4, so its line 10 (h1 = sigmoid(...)) is line 14.
    const map = JSON.parse(readFileSync(join(dir, "out/main.mjs.map"), "utf8"));
    const line = lineOf(text, "Math.exp(-");
    const original = originalPosition(map, line, text.split("\n")[line]!.search(/\S/));
    expect(original?.source).toMatch(/(^|\/)main\.ts$/);
    expect(original!.line + 1).toBe(14);
  });

  it("emits the same bytes for the same input, wherever the project is", async () => {
    const files = { "xor.grad": xorSource, "main.js": `import { grad } from "gradc";\nimport other from "./xor.grad";\n${inlineXor("grad")}${trainLoop()}` };
    const once = (dir: string) => bundle(dir, "main.js", { write: false, sourcemap: false }).then((r) => r.outputFiles![0]!.text);
    const [a, b] = await Promise.all([once(makeApp(files)), once(makeApp(files))]);
    expect(a).toBe(b);
    expect(a).not.toMatch(/gradc-plugin-/); // no temp folder name in the bundle
  });

  it("reports an inline model's error at its line in the host file", async () => {
    const main = `import { grad } from "gradc";\nexport const model = grad\`\n  input x: [4, 2]\n  out = x @ x\n  output out\n\`;\n`;
    const dir = makeApp({ "main.ts": main });
    const { message } = await buildError(dir, "main.ts");
    expect(message.location).toMatchObject({ file: "main.ts", line: 4, column: 8 });
    expect(message.text).toContain("cannot matmul [4, 2] by [4, 2]");
  });
});
