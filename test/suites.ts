// Which vitest suite runs which test file. `npm test` (vitest.config.ts) runs every file
// under test/ except those listed here, the TensorFlow.js cross-checks (test/crosscheck/,
// `npm run test:crosscheck`) and the playground's (`npm run test:browser`); .ci/run runs
// every suite, so every test runs in CI.

/** `npm run test:limits` (vitest.limits.config.ts): the tests that carry time budgets
 *  (test/helpers/limits.ts), run with the budgets asserted, alone on an idle machine.
 *  Their checks other than time (a huge model compiles and its gradient is right, garbage
 *  gives a located error) run there too; `npm test` does not repeat them. */
export const limitsTests = ["test/hardening/limits.test.ts", "test/property/robustness.test.ts"];

/** `npm run test:slow` (vitest.slow.config.ts): tests slow by nature, each a few seconds
 *  to half a minute on a quiet 2-core machine, which would double `npm test`'s time. */
export const slowTests = [
  // V8 warming every example model up in a child process until TurboFan optimizes it
  "test/codegen/optimized.test.ts",
  // zero allocation, counted as scavenges over tens of thousands of calls in a child process
  "test/codegen/allocation.test.ts",
  "test/conv/allocation.test.ts",
  "test/gather/allocation.test.ts",
  "test/random/allocation.test.ts",
  "test/scan/allocation.test.ts",
  // the whole-pipeline fuzzer's fixed-seed CI run
  "test/hardening/fuzz.test.ts",
  // byte-identical code and training across child processes
  "test/hardening/determinism.test.ts",
  // the examples' training scripts, run end to end on slices of their data
  "test/examples/mnist.test.ts",
  "test/examples/names.test.ts",
  // the bundler example projects built with tsup and Vite
  "test/plugins/examples.test.ts",
];

/** In `npm test`, the files that need a module graph of their own: they mock a module
 *  (vi.mock) that other files import. Every other file of `npm test` shares its worker's
 *  modules with the files before it (isolate: false), which halves the suite's CPU time:
 *  src/ is loaded and warmed up once per worker, not once per file. */
export const isolatedTests = ["test/cli/internal-error.test.ts", "test/examples/iris.test.ts", "test/wasm/free.test.ts", "test/wasm/batched.test.ts"];
