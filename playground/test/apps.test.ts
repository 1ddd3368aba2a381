// The bundler example apps (examples/bundler/): built with their own build commands as in
// test/plugins/examples.test.ts (a temp copy, with the tools linked from this repository),
// then run in Chromium from a static server: each trains XOR in the browser. The gradc
// they install is a copy of the package (dist/ included), so a concurrent rebuild of
// dist/ cannot pull the plugins away mid-build.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser } from "puppeteer-core";
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { launch, openPage, outputDir } from "./browser";
import { repo } from "./cli";
import { serve } from "./serve";
import { ensureFreshDist } from "../../test/helpers/build-dist";

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), "gradc-browser-apps-"));
const examples = join(work, "examples/bundler");
let browser: Browser;

beforeAll(async () => {
  await ensureFreshDist(); // gradc/esbuild and gradc/vite come from dist/
  cpSync(join(repo, "examples/xor/xor.grad"), join(work, "examples/xor/xor.grad"));
  for (const name of ["tsup", "vite"]) {
    cpSync(join(repo, "examples/bundler", name), join(examples, name), { recursive: true, filter: (src) => !/[\\/](dist|node_modules)$/.test(src) });
  }
  mkdirSync(join(examples, "node_modules"));
  await packageSnapshot(join(examples, "node_modules/gradc"));
  for (const tool of ["tsup", "vite"]) symlinkSync(join(repo, "node_modules", tool), join(examples, "node_modules", tool), "dir");
  const env = { ...process.env, NODE_ENV: "production", PATH: `${join(repo, "node_modules/.bin")}${delimiter}${process.env.PATH ?? ""}` };
  await Promise.all(["tsup", "vite"].map((name) => run("npm", ["run", "--silent", "build"], { cwd: join(examples, name), env })));
  browser = await launch();
}, 180_000);
afterAll(async () => { await browser?.close(); });

/** What `npm install` of gradc would unpack (package.json, grad-module.d.ts, dist/), its
 *  dependencies linked from the repository's node_modules. */
async function packageSnapshot(to: string): Promise<void> {
  const needed = ["index.js", "index.d.ts", "esbuild.js", "vite.js"];
  for (let attempt = 0; ; attempt++) {
    rmSync(to, { recursive: true, force: true });
    mkdirSync(to, { recursive: true });
    for (const f of ["package.json", "grad-module.d.ts"]) cpSync(join(repo, f), join(to, f));
    try {
      cpSync(join(repo, "dist"), join(to, "dist"), { recursive: true });
      if (needed.every((f) => existsSync(join(to, "dist", f)))) break;
    } catch {
      // a rebuild removed a file while it was being copied
    }
    if (attempt === 20) throw new Error("dist/ stayed incomplete (a rebuild in progress?)");
    await new Promise((r) => setTimeout(r, 1000));
    await ensureFreshDist();
  }
  symlinkSync(join(repo, "node_modules"), join(to, "node_modules"), "dir");
}

describe("the bundler example apps in the browser", () => {
  it("the Vite app's page trains XOR and fits its inline model", async () => {
    const site = await serve(join(examples, "vite/dist"));
    try {
      const { page, errors } = await openPage(browser, site.url);
      await page.waitForFunction(() => document.querySelector("#out")!.textContent !== "training...");
      const text = await page.$eval("#out", (e) => e.textContent!);
      expect(text).toMatch(/^XOR loss \d\.\d{4} -> 0\.0\d{3}, predictions 0 1 1 0\nfit y = 2\.000 x \+ 1\.000$/);
      await page.screenshot({ path: `${outputDir}/app-vite.png` });
      expect(errors).toEqual([]);
    } finally {
      await site.close();
    }
  });

  it("the tsup bundle runs in a page as a module and trains XOR", async () => {
    writeFileSync(join(examples, "tsup/dist/index.html"), `<!doctype html><meta charset="utf-8"><script type="module" src="./main.js"></script>`);
    const site = await serve(join(examples, "tsup/dist"));
    try {
      const { page, errors } = await openPage(browser, "about:blank");
      const logged: string[] = [];
      page.on("console", (m) => logged.push(m.text()));
      await page.goto(site.url, { waitUntil: "load" });
      for (let t = 0; !logged.some((l) => l.startsWith("{")) && t < 200; t++) await new Promise((r) => setTimeout(r, 50));
      const result = JSON.parse(logged.find((l) => l.startsWith("{"))!);
      expect(result.rounded).toEqual([0, 1, 1, 0]);
      expect(result.last).toBeLessThan(result.first / 10);
      expect(errors).toEqual([]);
    } finally {
      await site.close();
    }
  });
});
