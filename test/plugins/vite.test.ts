import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build, createServer } from "vite";
import { describe, expect, it } from "vitest";
import gradc from "../../src/plugins/vite";
import { originalPosition } from "../../src/plugins/source-map";
import { compilerMarkers, expectTrained, inlineXor, lineOf, makeApp, runNode, trainLoop, trainXor, waitFor, xorSource } from "./helpers";

const viteBuild = (dir: string, entry: string) => build({
  root: dir, configFile: false, logLevel: "silent", plugins: [gradc({ root: dir })],
  build: { outDir: join(dir, "out"), minify: false, sourcemap: true, lib: { entry: join(dir, entry), formats: ["es"], fileName: () => "main.mjs" } },
});

describe("vite plugin", () => {
  it("bundles an imported model (options by query) that trains, without the compiler", async () => {
    const main = trainXor("./xor.grad?dtype=f64").replaceAll("Float32Array", "Float64Array");
    const dir = makeApp({ "xor.grad": xorSource, "main.js": main });
    const t = performance.now();
    await viteBuild(dir, "main.js");
    const ms = performance.now() - t;
    const text = readFileSync(join(dir, "out/main.mjs"), "utf8");
    console.log(`vite: ${text.length} bytes in ${ms.toFixed(0)} ms`);
    expect(text).not.toMatch(compilerMarkers);
    const result = runNode(join(dir, "out/main.mjs"));
    expectTrained(result);
    expect(result.type).toBe("Float64Array");
  });

  it("fails the build on a model error at file:line:col", async () => {
    const broken = xorSource.replace("param m1: [2, 3]", "param m1: [3, 3]");
    const dir = makeApp({ "xor.grad": broken, "main.js": trainXor("./xor.grad") });
    const error = await viteBuild(dir, "main.js").then(() => { throw new Error("expected the build to fail"); }, (e) => e);
    expect(error.message).toContain(`[plugin gradc] ${join(dir, "xor.grad")}:10:16`);
    expect(error.message).toContain("cannot matmul [4, 2] by [3, 3]: inner sizes 2 and 3 differ\n  h1    = sigmoid(x @ m1 + b1)\n                  ^^^^^^");
  });

  it("replaces grad`...` at build time; the kernels map to the host file's lines", async () => {
    const dir = makeApp({ "main.js": `import { grad } from "gradc";\n${inlineXor("grad")}${trainLoop()}` });
    await viteBuild(dir, "main.js");
    const text = readFileSync(join(dir, "out/main.mjs"), "utf8");
    expect(text).not.toMatch(compilerMarkers);
    expectTrained(runNode(join(dir, "out/main.mjs")));
    const map = JSON.parse(readFileSync(join(dir, "out/main.mjs.map"), "utf8"));
    const line = lineOf(text, "Math.exp(-");
    const original = originalPosition(map, line, text.split("\n")[line]!.search(/\S/));
    // The model starts on line 3 of main.js, so its line 10 (h1 = sigmoid(...)) is line 12.
    expect(original?.source).toMatch(/(^|\/)main\.js$/);
    expect(original!.line + 1).toBe(12);
  });

  it("recompiles in the dev server when the model changes", async () => {
    const dir = makeApp({ "xor.grad": xorSource, "main.js": trainXor("./xor.grad") });
    const server = await createServer({ root: dir, configFile: false, logLevel: "silent", plugins: [gradc({ root: dir, dts: true })], server: { middlewareMode: true, hmr: false } });
    try {
      const first = await server.transformRequest("/xor.grad");
      expect(first?.code).toContain("function run_forward");
      expect(first?.code).not.toContain('"h1"');
      expect(readFileSync(join(dir, "xor.grad.d.ts"), "utf8")).toContain(`"y_out": Float32Array;`); // dts: true
      const model = await server.ssrLoadModule("/xor.grad");
      expect(model.meta.outputs.map((o: { name: string }) => o.name)).toEqual(["y_out"]);
      // Written again every 2 s until seen, in case the watcher was not armed yet.
      let code = "";
      let written = 0;
      await waitFor(() => code.includes('"h1"'), 15_000, async () => {
        if (Date.now() - written >= 2000) {
          writeFileSync(join(dir, "xor.grad"), xorSource.replace("output y_out", "output y_out, h1"));
          written = Date.now();
        }
        code = (await server.transformRequest("/xor.grad"))?.code ?? "";
      });
      const changed = await server.ssrLoadModule("/xor.grad");
      expect(changed.meta.outputs.map((o: { name: string }) => o.name)).toEqual(["y_out", "h1"]);
      expect(readFileSync(join(dir, "xor.grad.d.ts"), "utf8")).toContain(`"h1": Float32Array;`);
    } finally {
      await server.close();
    }
  });
});
