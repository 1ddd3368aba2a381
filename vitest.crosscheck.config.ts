import { defineConfig } from "vitest/config";

// `npm run test:crosscheck`: gradients of real models against TensorFlow.js, which lives in
// bench/package.json (installed by the script first) so that a user's install stays small.
export default defineConfig({
  test: {
    include: ["test/crosscheck/**/*.test.ts"],
    testTimeout: 120_000,
  },
});
