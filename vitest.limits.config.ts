import { defineConfig } from "vitest/config";
import { limitsTests } from "./test/suites.ts";

// `npm run test:limits`: the tests that carry time budgets, with the budgets asserted
// (test/helpers/limits.ts). Run alone, on an otherwise idle machine.
export default defineConfig({
  test: {
    // (the fuzz harness's per-case budget is for `npm run fuzz`'s long runs)
    include: limitsTests,
    env: { GRADC_LIMITS: "1" },
    testTimeout: 120_000,
    fileParallelism: false,
  },
});
