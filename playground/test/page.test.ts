// The playground page in headless Chromium: it loads clean, trains the examples in its
// worker, underlines mistakes as the CLI reports them, draws `gradc graph --grad` with
// Graphviz, keeps the model in the URL, and works offline once loaded.

import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Browser, Page } from "puppeteer-core";
import { launch, openPage, outputDir } from "./browser";
import { gradc, xorSource } from "./cli";
import { compile } from "../../src/index";

let browser: Browser;
const url = inject("url");

beforeAll(async () => { browser = await launch(); });
afterAll(async () => { await browser?.close(); });

/** Press Train and wait for the run to finish; the worker's status line and predictions. */
async function train(page: Page): Promise<{ status: string; ms: number; predictions: number[] }> {
  await page.click("#train");
  await page.waitForFunction(() => document.querySelector<HTMLElement>("#status")!.dataset.predictions !== undefined, { timeout: 90_000 });
  return page.$eval("#status", (e) => ({ status: e.textContent!, ms: Number((e as HTMLElement).dataset.ms), predictions: JSON.parse((e as HTMLElement).dataset.predictions!) as number[] }));
}

describe("the playground page", () => {
  it("loads with no console errors, showing the XOR seed and its gradient as gradc grad prints it", async () => {
    const t0 = Date.now();
    const { page, errors } = await openPage(browser, url);
    await page.waitForSelector("#graph svg");
    const ready = Date.now() - t0;
    expect(await page.$eval(".cm-content", (e) => e.textContent)).toContain("minimize loss with sgd(lr = 1.0)");
    expect(await page.$eval("#grad", (e) => e.textContent)).toBe(gradc("xor.grad", xorSource, ["grad", "xor.grad"]).stdout);
    // Highlighting: keywords one colour, built-ins, initialisers and optimizers another.
    const colours = new Map(await page.$$eval(".cm-line span", (spans) => spans.map((e) => [e.textContent!, getComputedStyle(e).color] as [string, string])));
    expect(colours.get("minimize")).toBe(colours.get("param"));
    expect(colours.get("sigmoid")).toBeDefined();
    expect(colours.get("sigmoid")).not.toBe(colours.get("param"));
    for (const word of ["sum", "uniform", "sgd"]) expect(colours.get(word)).toBe(colours.get("sigmoid"));
    await page.screenshot({ path: `${outputDir}/page-xor.png` });
    expect(errors).toEqual([]);
    console.log(`page ready (graph drawn) ${ready} ms after navigation`);
  });

  it("trains XOR in the worker to the right predictions, the same as Node's", async () => {
    const { page, errors } = await openPage(browser, url);
    const { status, predictions } = await train(page);
    expect(predictions.map(Math.round)).toEqual([0, 1, 1, 0]);
    expect(status).toMatch(/^step 1000, loss \d\.\d+, accuracy 100\.0% \(done in \d+ ms\)$/);
    expect(await page.$eval("#train", (b) => (b as HTMLButtonElement).disabled)).toBe(false);
    await page.screenshot({ path: `${outputDir}/train-xor.png` });
    expect(errors).toEqual([]);
    // The same 1000 steps in Node, from the same source and seed: the same predictions.
    const model = compile(xorSource, { filename: "xor.grad", seed: 1 });
    const x = Float32Array.from([0, 0, 0, 1, 1, 0, 1, 1]), y = Float32Array.from([0, 1, 1, 0]);
    for (let i = 0; i < 1000; i++) model.step({ x, y });
    const nodePredictions = Array.from(model.predict({ x }).y_out as Float32Array);
    for (let i = 0; i < 4; i++) expect(predictions[i]).toBeCloseTo(nodePredictions[i]!, 4);
  });

  it("trains the iris MLP and the glyph CNN with a rising accuracy; stop and reset work", async () => {
    const { page, errors } = await openPage(browser, url);
    for (const id of ["iris", "glyphs"]) {
      await page.select("#example", id);
      await page.waitForFunction((name) => document.querySelector(".cm-content")!.textContent!.includes(name), {}, id === "iris" ? "species" : "glyph");
      const { status } = await train(page);
      const accuracy = Number(/accuracy ([\d.]+)%/.exec(status)![1]);
      expect(accuracy).toBeGreaterThan(90);
      await page.screenshot({ path: `${outputDir}/train-${id}.png` });
    }
    // Stop mid-run: the status says so and Train is enabled again; Reset clears it.
    await page.click("#train");
    await page.waitForFunction(() => document.querySelector("#status")!.textContent!.startsWith("step"));
    await page.click("#stop");
    await page.waitForFunction(() => document.querySelector("#status")!.textContent!.endsWith("(stopped)"));
    expect(await page.$eval("#train", (b) => (b as HTMLButtonElement).disabled)).toBe(false);
    await page.click("#reset");
    expect(await page.$eval("#status", (e) => e.textContent)).toBe("");
    expect(errors).toEqual([]);
  });

  it("underlines a mistake typed into the editor, with the CLI's message on hover and in the problems list", async () => {
    const { page, errors } = await openPage(browser, url);
    await page.click(".cm-content");
    await page.keyboard.down("Control"); await page.keyboard.press("End"); await page.keyboard.up("Control");
    await page.keyboard.type("z = q + 1");
    await page.waitForSelector(".cm-lintRange-error");
    const text = `${xorSource}z = q + 1`;
    const cli = gradc("xor.grad", text, ["check", "xor.grad"]);
    expect(cli.status).toBe(1);
    const [, line, column] = /^xor\.grad:(\d+):(\d+): error/.exec(cli.stderr)!;
    // The underline covers the undefined name, on the line and column the CLI reports.
    const underline = await page.$eval(".cm-lintRange-error", (e) => ({ text: e.textContent, line: e.closest(".cm-line")!.textContent }));
    expect(underline.text).toBe("q");
    expect(Number(line)).toBe(text.split("\n").length);
    expect(underline.line!.indexOf("q") + 1).toBe(Number(column));
    // The problems list is the CLI's output, character for character.
    const problems = await page.$$eval(".problem", (list) => list.map((e) => e.textContent).join("\n"));
    expect(`${problems}\n`).toBe(cli.stderr);
    // Hovering the underline shows the same rendering.
    await page.hover(".cm-lintRange-error");
    await page.waitForSelector(".cm-tooltip .cm-gradc-rendered");
    expect(await page.$eval(".cm-tooltip .cm-gradc-rendered", (e) => e.textContent)).toBe(cli.stderr.split("\n\n")[0]!.trimEnd());
    expect(await page.$eval("#train", (b) => (b as HTMLButtonElement).disabled)).toBe(true);
    await page.screenshot({ path: `${outputDir}/error.png` });
    // Fixing it clears the underline and the list.
    await page.keyboard.press("Backspace"); await page.keyboard.press("Backspace"); await page.keyboard.press("Backspace");
    await page.keyboard.press("Backspace"); await page.keyboard.press("Backspace");
    await page.keyboard.type("y_out");
    await page.waitForFunction(() => document.querySelectorAll(".cm-lintRange-error").length === 0 && document.querySelectorAll(".problem").length === 0);
    expect(errors).toEqual([]);
  });

  it("draws the forward and gradient graph of gradc graph --grad as an SVG with its nodes", async () => {
    const { page, errors } = await openPage(browser, url);
    await page.waitForSelector("#graph svg");
    const dot = gradc("xor.grad", xorSource, ["graph", "--grad", "xor.grad"]).stdout;
    // Each DOT node n<i> [label="first line\n..."]: Graphviz titles its SVG group n<i> and
    // writes the label's lines as text.
    const nodes = [...dot.matchAll(/^\s*(n\d+) \[label="([^"\\]*)/gm)].map((m) => ({ id: m[1]!, name: m[2]! }));
    expect(nodes.length).toBeGreaterThan(20);
    const drawn = await page.$$eval("#graph svg g.node", (gs) => gs.map((g) => ({ id: g.querySelector("title")!.textContent!, name: g.querySelector("text")!.textContent! })));
    expect(drawn.sort((a, b) => a.id.localeCompare(b.id))).toEqual(nodes.sort((a, b) => a.id.localeCompare(b.id)));
    for (const name of ["x", "y", "m1", "b1", "m2", "b2", "h1", "y_out"]) expect(drawn.map((d) => d.name)).toContain(name);
    expect(await page.$eval("#graph svg", (s) => s.textContent)).toContain("gradient");
    await (await page.$("#graph"))!.screenshot({ path: `${outputDir}/graph.png` });
    expect(errors).toEqual([]);
  });

  it("keeps the model in the URL: the link opens the edited text", async () => {
    const { page } = await openPage(browser, url);
    await page.select("#example", "iris");
    await page.click(".cm-content");
    await page.keyboard.down("Control"); await page.keyboard.press("End"); await page.keyboard.up("Control");
    await page.keyboard.type("# shared\n");
    await page.waitForFunction(() => location.hash.startsWith("#iris:"));
    await new Promise((r) => setTimeout(r, 400));
    const link = page.url();
    const other = await openPage(browser, link);
    await other.page.waitForSelector("#graph svg");
    const editorText = await other.page.$eval(".cm-content", (e) => [...e.querySelectorAll(".cm-line")].map((l) => l.textContent).join("\n"));
    expect(editorText.endsWith("# shared\n")).toBe(true);
    expect(await other.page.$eval("#example", (s) => (s as HTMLSelectElement).value)).toBe("iris");
    expect(other.errors).toEqual([]);
  });

  it("works offline once loaded: a reload without network shows the page and trains", async () => {
    const { page } = await openPage(browser, url);
    await page.waitForSelector("#graph svg");
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.reload({ waitUntil: "load" }); // now under the service worker, which keeps what loads
    await page.waitForSelector("#graph svg");
    await page.setOfflineMode(true);
    await page.reload({ waitUntil: "load" });
    await page.waitForSelector("#graph svg");
    const { predictions } = await train(page);
    expect(predictions.map(Math.round)).toEqual([0, 1, 1, 0]);
    await page.setOfflineMode(false);
  });
});
