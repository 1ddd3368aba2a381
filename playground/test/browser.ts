// Headless Chromium for the browser tests: the Debian package (`.ci/run` installs it),
// driven by puppeteer-core, which downloads no browser. CHROMIUM overrides the path.

import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const outputDir = fileURLToPath(new URL("../test-output/", import.meta.url));
mkdirSync(outputDir, { recursive: true });

export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
  const found = candidates.find((p): p is string => !!p && existsSync(p));
  if (!found) throw new Error("no Chromium found: install the Debian package (apt-get install chromium) or set CHROMIUM");
  return found;
}

export function launch(): Promise<Browser> {
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return puppeteer.launch({ executablePath: chromiumPath(), headless: true, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
}

/** A new page that records console errors and uncaught exceptions into `errors`. */
export async function openPage(browser: Browser, url: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  const errors: string[] = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url, { waitUntil: "load" });
  return { page, errors };
}
