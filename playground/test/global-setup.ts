// Before the browser tests: build the site (as `npm run build:playground` does) and serve
// dist/ with Vite's preview server; the tests read its address from `inject("url")`.

import { build, preview } from "vite";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";

const root = fileURLToPath(new URL("..", import.meta.url));

declare module "vitest" {
  export interface ProvidedContext { url: string }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await build({ root, logLevel: "warn", configFile: `${root}/vite.config.ts` });
  const server = await preview({ root, configFile: `${root}/vite.config.ts`, preview: { port: 0, host: "127.0.0.1" }, logLevel: "warn" });
  project.provide("url", server.resolvedUrls!.local[0]!);
  return async () => { await new Promise<void>((done) => server.httpServer.close(() => done())); };
}
