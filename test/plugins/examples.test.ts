// The two example projects in examples/bundler/, built with their own build commands.
// They depend on gradc through `file:../../..`. Without installing (no network), the test
// lays them out in a temp folder as in the repo, with the links `npm install` would make:
// node_modules/gradc -> the repository (its dist/), and tsup and vite from the
// repository's node_modules. (A link back to the repository inside it would make a cycle
// for anything that walks the tree.)

import { execFile, execFileSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { compilerMarkers, expectTrained, makeApp, runNode } from "./helpers";
import { ensureFreshDist } from "../helpers/build-dist";

const run = promisify(execFile);
const root = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const work = mkdtempSync(join(tmpdir(), "gradc-examples-"));
const examples = join(work, "examples/bundler");

beforeAll(async () => {
  await ensureFreshDist(); // the package's own build, rebuilt when src/ is newer
  cpSync(join(root, "examples/xor/xor.grad"), join(work, "examples/xor/xor.grad"));
  for (const name of ["tsup", "vite"]) {
    cpSync(join(root, "examples/bundler", name), join(examples, name), { recursive: true, filter: (src) => !/[\\/](dist|node_modules)$/.test(src) });
  }
  mkdirSync(join(examples, "node_modules"));
  symlinkSync(root, join(examples, "node_modules/gradc"), "dir");
  for (const tool of ["tsup", "vite"]) symlinkSync(join(root, "node_modules", tool), join(examples, "node_modules", tool), "dir");
}, 120_000);

const build = (name: string) => {
  const t = performance.now();
  const env = { ...process.env, PATH: `${join(root, "node_modules/.bin")}${delimiter}${process.env.PATH ?? ""}` };
  return run("npm", ["run", "--silent", "build"], { cwd: join(examples, name), encoding: "utf8", env }).then(() => performance.now() - t);
};

describe("examples/bundler", () => {
  it("builds the tsup and Vite projects; both bundles train XOR without the compiler", async () => {
    const [tsupMs, viteMs] = await Promise.all([build("tsup"), build("vite")]);

    const tsupOut = join(examples, "tsup/dist/main.js");
    const tsupText = readFileSync(tsupOut, "utf8");
    expect(tsupText).not.toMatch(compilerMarkers);
    expectTrained(runNode(tsupOut));

    const assets = join(examples, "vite/dist/assets");
    const script = readdirSync(assets).find((f) => f.endsWith(".js"))!;
    const viteText = readFileSync(join(assets, script), "utf8");
    expect(viteText).not.toMatch(compilerMarkers);
    // The page's script runs in node too (it only touches `document` when there is one).
    const copy = join(makeApp({}), "page.mjs");
    copyFileSync(join(assets, script), copy);
    const result = runNode(copy);
    expectTrained(result);
    expect(result.fit.a).toBeCloseTo(2, 3);
    expect(result.fit.b).toBeCloseTo(1, 3);
    console.log(`examples: tsup ${tsupText.length} bytes in ${tsupMs.toFixed(0)} ms; vite ${viteText.length} bytes (minified) in ${viteMs.toFixed(0)} ms`);
  });
});
