import { defineConfig } from "vitest/config";

// `npm run test:browser`: the playground and the emitted code in headless Chromium. It
// needs playground/'s packages and a Chromium, so `npm test` never runs it.
export default defineConfig({
  test: {
    include: ["playground/test/**/*.test.ts"],
    globalSetup: ["playground/test/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
