import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";
import { slowTests } from "./test/suites.ts";

// `npm run test:slow`: the tests slow by nature (V8 optimization, allocation counted in
// child processes, the fuzzer's CI run, the examples' training runs; test/suites.ts), which
// `npm test` leaves out to stay near a minute. .ci/run runs them.
export default defineConfig({
  test: {
    include: slowTests,
    testTimeout: 120_000,
    maxWorkers: availableParallelism(),
  },
});
