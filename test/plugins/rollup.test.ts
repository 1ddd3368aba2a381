import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { rollup, watch, type RollupError } from "rollup";
import { describe, expect, it } from "vitest";
import { compile } from "../../src/index";
import gradc from "../../src/plugins/rollup";
import { compilerMarkers, expectTrained, makeApp, runNode, trainXor, waitFor, xorSource } from "./helpers";

async function bundle(dir: string, entry = "main.js"): Promise<string> {
  const b = await rollup({ input: join(dir, entry), plugins: [gradc({ root: dir })] });
  await b.write({ file: join(dir, "out/main.mjs"), format: "es", sourcemap: true });
  await b.close();
  return join(dir, "out/main.mjs");
}

const f64 = (text: string) => text.replaceAll("Float32Array", "Float64Array");

describe("rollup plugin", () => {
  it("bundles a model with per-import options (query) that trains, without the compiler", async () => {
    const dir = makeApp({ "xor.grad": xorSource, "main.js": f64(trainXor("./xor.grad?dtype=f64")) });
    const t = performance.now();
    const out = await bundle(dir);
    const ms = performance.now() - t;
    const text = readFileSync(out, "utf8");
    console.log(`rollup: ${text.length} bytes in ${ms.toFixed(0)} ms`);
    expect(text).not.toMatch(compilerMarkers);
    const result = runNode(out);
    expectTrained(result);
    expect(result.type).toBe("Float64Array");
    expect(result.params).toEqual(["m1", "b1", "m2", "b2"]);
  });

  it("applies the model's pragma, and the query over it", async () => {
    const model = `# gradc: dtype=f64 seed=3 size.n=2\ndim n\nparam w: [n] = uniform(-1, 1)\nout = sum(w)\noutput out\n`;
    const main = `import a from "./m.grad"; import b from "./m.grad?seed=4&dtype=f32";
console.log(JSON.stringify({ a: Array.from(a.params.w), b: Array.from(b.params.w), ta: a.params.w.constructor.name, tb: b.params.w.constructor.name }));`;
    const dir = makeApp({ "m.grad": model, "main.js": main });
    const result = runNode(await bundle(dir));
    const bare = "dim n\nparam w: [n] = uniform(-1, 1)\nout = sum(w)\noutput out\n";
    expect(result.ta).toBe("Float64Array");
    expect(result.tb).toBe("Float32Array");
    expect(result.a).toEqual(Array.from(compile(bare, { dtype: "f64", seed: 3, sizes: { n: 2 } }).params.w!));
    expect(result.b).toEqual(Array.from(compile(bare, { dtype: "f32", seed: 4, sizes: { n: 2 } }).params.w!));
  });

  it("fails the build on a model error with rollup's loc and frame", async () => {
    const broken = xorSource.replace("param m1: [2, 3]", "param m1: [3, 3]");
    const dir = makeApp({ "xor.grad": broken, "main.js": trainXor("./xor.grad") });
    const error: RollupError = await bundle(dir).then(() => { throw new Error("expected the build to fail"); }, (e) => e);
    expect(error.plugin).toBe("gradc");
    expect(error.loc).toEqual({ file: join(dir, "xor.grad"), line: 10, column: 16 }); // rollup columns are 0-based
    expect(error.message).toContain("xor.grad (10:16): cannot matmul [4, 2] by [3, 3]: inner sizes 2 and 3 differ");
    expect(error.frame).toContain("  h1    = sigmoid(x @ m1 + b1)\n                  ^^^^^^");
  });

  it("shows a diagnostic's related locations in rollup's frame", async () => {
    const dir = makeApp({ "m.grad": "input x: [2]\ny = x * 2\ny = x + 1\noutput y\n", "main.js": trainXor("./m.grad") });
    const error: RollupError = await bundle(dir).then(() => { throw new Error("expected the build to fail"); }, (e) => e);
    expect(error.loc).toEqual({ file: join(dir, "m.grad"), line: 3, column: 0 });
    expect(error.frame).toBe(["  y = x + 1", "  ^", "m.grad:2:1: note: `y` is first defined here", "  y = x * 2", "  ^"].join("\n"));
  });

  it("reports a bad pragma where it is", async () => {
    const dir = makeApp({ "xor.grad": `# gradc: dtype=f16\n${xorSource}`, "main.js": trainXor("./xor.grad") });
    const error: RollupError = await bundle(dir).then(() => { throw new Error("expected the build to fail"); }, (e) => e);
    expect(error.loc).toMatchObject({ line: 1, column: 9 });
    expect(error.message).toContain("dtype must be f32 or f64, found `f16`");
  });

  it("rebuilds in watch mode when the model changes", async () => {
    const dir = makeApp({ "xor.grad": xorSource, "main.js": trainXor("./xor.grad") });
    const out = join(dir, "out/main.mjs");
    const watcher = watch({ input: join(dir, "main.js"), plugins: [gradc({ root: dir })], output: { file: out, format: "es" }, watch: { buildDelay: 0 } });
    let builds = 0;
    watcher.on("event", (e) => {
      if (e.code === "BUNDLE_END") { builds++; void e.result.close(); }
      if (e.code === "ERROR") void e.result?.close();
    });
    try {
      await waitFor(() => builds >= 1);
      expect(readFileSync(out, "utf8")).not.toContain('"h1"');
      // Written again every 2 s until seen, in case the watcher was not armed yet.
      let written = 0;
      await waitFor(() => builds >= 2 && readFileSync(out, "utf8").includes('"h1"'), 15_000, async () => {
        if (Date.now() - written < 2000) return;
        writeFileSync(join(dir, "xor.grad"), xorSource.replace("output y_out", "output y_out, h1"));
        written = Date.now();
      });
      expect(runNode(out).rounded).toEqual([0, 1, 1, 0]);
    } finally {
      await watcher.close();
    }
  });
});
