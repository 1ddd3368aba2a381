import { defineConfig } from "vitest/config";

// `npm test`: everything that needs nothing beyond the root package. The TensorFlow.js
// cross-checks need bench/'s packages and run as `npm run test:crosscheck`.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/crosscheck/**", "**/node_modules/**", "playground/**"],
    testTimeout: 60_000,
  },
});
