import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import { isolatedTests, limitsTests, slowTests } from "./test/suites.ts";

// `npm test`: everything that needs nothing beyond the root package and runs in about a
// minute. The TensorFlow.js cross-checks need bench/'s packages (`npm run test:crosscheck`);
// the time budgets and the tests slow by nature have their own suites (test/suites.ts).
const exclude = ["test/crosscheck/**", "**/node_modules/**", "playground/**", ...limitsTests, ...slowTests];
export default defineConfig({
  test: {
    testTimeout: 60_000,
    // vitest's default is one worker fewer than the cores: one worker on 2 cores
    maxWorkers: availableParallelism(),
    projects: [
      // A worker's test files share its modules (src/ is loaded and optimized by V8 once
      // per worker, not once per file): half the CPU time.
      { extends: true, test: { name: "unit", include: ["test/**/*.test.ts"], exclude: [...exclude, ...isolatedTests], isolate: false } },
      // The files that mock a module other files import.
      { extends: true, test: { name: "unit-isolated", include: isolatedTests } },
    ],
  },
});
