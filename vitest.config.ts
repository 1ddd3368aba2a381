import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import { limitsTests, slowTests } from "./test/suites";

// `npm test`: everything that needs nothing beyond the root package and runs in about a
// minute. The TensorFlow.js cross-checks need bench/'s packages (`npm run test:crosscheck`);
// the time budgets and the tests slow by nature have their own suites (test/suites.ts).
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/crosscheck/**", "**/node_modules/**", "playground/**", ...limitsTests, ...slowTests],
    testTimeout: 60_000,
    // vitest's default is one worker fewer than the cores: one worker on 2 cores
    maxWorkers: availableParallelism(),
  },
});
