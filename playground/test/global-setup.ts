// Before the browser tests: build the site (as `npm run build:playground` does) and serve
// dist/ with Vite's preview server; the tests read its address from `inject("url")`.

import { execFileSync } from "node:child_process";
import { preview } from "vite";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";

const root = fileURLToPath(new URL("..", import.meta.url));

declare module "vitest" {
  export interface ProvidedContext { url: string }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // A child process, as `npm run build:playground`: vitest's NODE_ENV=test would make
  // Vite build a development bundle (no service worker).
  execFileSync(process.execPath, [`${root}/node_modules/vite/bin/vite.js`, "build", "--logLevel", "warn"], { cwd: root, stdio: "inherit", env: { ...process.env, NODE_ENV: "production" } });
  const server = await preview({ root, configFile: `${root}/vite.config.ts`, preview: { port: 0, host: "127.0.0.1" }, logLevel: "warn" });
  project.provide("url", server.resolvedUrls!.local[0]!);
  return async () => { await new Promise<void>((done) => server.httpServer.close(() => done())); };
}
