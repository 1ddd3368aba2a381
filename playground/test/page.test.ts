// The playground page in headless Chromium: it loads clean, trains XOR in its worker,
// underlines mistakes as the CLI reports them, and draws the graph with Graphviz.

import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Browser } from "puppeteer-core";
import { launch, openPage, outputDir } from "./browser";

let browser: Browser;
const url = inject("url");

beforeAll(async () => { browser = await launch(); });
afterAll(async () => { await browser?.close(); });

describe("the playground page", () => {
  it("loads with no console errors, showing the XOR seed, its gradient and graph", async () => {
    const { page, errors } = await openPage(browser, url);
    await page.waitForSelector("#graph svg");
    expect(await page.$eval(".cm-content", (e) => e.textContent)).toContain("minimize loss with sgd(lr = 1.0)");
    expect(await page.$eval("#grad", (e) => e.textContent)).toMatch(/^d_m1 = /m);
    await page.screenshot({ path: `${outputDir}/page-xor.png` });
    expect(errors).toEqual([]);
  });
});
