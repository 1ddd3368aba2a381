// Mutation testing (StrykerJS with its vitest runner): `npm run mutate -- src/ops` makes
// small deliberate bugs in the named folders or files, one at a time, and runs the tests
// that cover each; a mutant no test kills marks a gap in the suite. Not part of CI: a
// folder takes 10-30 minutes here. Reports go to reports/mutation/.
/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  vitest: { configFile: "vitest.mutate.config.ts" },
  coverageAnalysis: "perTest",
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/index.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  // only the mutated sources get `// @ts-nocheck` (the golden files are compared byte for byte)
  disableTypeChecks: "src/**/*.ts",
  concurrency: 2,
  timeoutMS: 60_000,
  // the suites that run dist/ or a bundler do not see a mutant in src/: leave them out
  ignorePatterns: ["dist", "bench", "examples/bundler", "playground", "reports"],
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
