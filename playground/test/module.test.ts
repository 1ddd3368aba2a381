// The downloaded module: the page's Download button writes what `gradc compile -o` writes
// (the same bytes), and that ES module imports and trains in the page and in a Web Worker.

import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Browser, Page } from "puppeteer-core";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launch, openPage, outputDir } from "./browser";
import { compileFiles, xorSource } from "./cli";

let browser: Browser;
const url = inject("url");
let page: Page;
let errors: string[];
let downloaded: { js: string; dts: string };

beforeAll(async () => {
  browser = await launch();
  ({ page, errors } = await openPage(browser, url));
  await page.waitForSelector("#graph svg");
  const folder = mkdtempSync(join(tmpdir(), "gradc-download-"));
  const cdp = await page.createCDPSession();
  await cdp.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: folder });
  await page.click("#download");
  const files = ["xor.mjs", "xor.d.mts"].map((f) => join(folder, f));
  for (let t = 0; !files.every(existsSync) && t < 200; t++) await new Promise((r) => setTimeout(r, 50));
  downloaded = { js: readFileSync(files[0]!, "utf8"), dts: readFileSync(files[1]!, "utf8") };
});
afterAll(async () => { await browser?.close(); });

/** Trains the module (its text, imported from a blob URL) on XOR: in the page or a worker. */
const trainScript = `
  const x = Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]);
  const y = Float32Array.from([0, 1, 1, 0]);
  const first = model.step({ x, y });
  for (let i = 1; i < 1000; i++) model.step({ x, y });
  const out = model.predict({ x }).y_out;
  return { first, last: model.forward({ x, y }).loss, rounded: Array.from(out, Math.round), type: out.constructor.name };`;

describe("the downloaded module", () => {
  it("is the ES module and .d.mts that gradc compile xor.grad -o xor.mjs writes", () => {
    const cli = compileFiles("xor.grad", xorSource, "xor.mjs", "xor.d.mts");
    expect(downloaded.js).toBe(cli.js);
    expect(downloaded.dts).toBe(cli.dts);
    expect(downloaded.js).toMatch(/^export default /m);
  });

  it("imports and trains in the page", async () => {
    // Written as text: the test runner would rewrite an import() in a function it sees.
    const result = await page.evaluate(`(async () => {
      const href = URL.createObjectURL(new Blob([${JSON.stringify(downloaded.js)}], { type: "text/javascript" }));
      const model = (await import(href)).default;
      ${trainScript}
    })()`) as { rounded: number[]; type: string; first: number; last: number };
    expect(result.rounded).toEqual([0, 1, 1, 0]);
    expect(result.type).toBe("Float32Array");
    expect(result.last).toBeLessThan(result.first / 10);
    expect(errors).toEqual([]);
  });

  it("runs in a Web Worker (a module worker importing it)", async () => {
    const result = await page.evaluate(async (js: string, body: string) => {
      const href = URL.createObjectURL(new Blob([js], { type: "text/javascript" }));
      const worker = `import model from ${JSON.stringify(href)};\nconst train = () => {${body}};\npostMessage({ ...train(), inWorker: typeof document === "undefined" });`;
      const w = new Worker(URL.createObjectURL(new Blob([worker], { type: "text/javascript" })), { type: "module" });
      return new Promise<any>((resolve, reject) => { w.onmessage = (e) => resolve(e.data); w.onerror = (e) => reject(new Error(e.message)); });
    }, downloaded.js, trainScript);
    expect(result.inWorker).toBe(true);
    expect(result.rounded).toEqual([0, 1, 1, 0]);
    expect(result.last).toBeLessThan(result.first / 10);
    await page.screenshot({ path: `${outputDir}/download.png` });
    expect(errors).toEqual([]);
  });
});
