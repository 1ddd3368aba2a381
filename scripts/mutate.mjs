// `npm run mutate -- src/ops [src/autodiff ...] [stryker options]`: StrykerJS on the named
// folders or files of src/ (one folder at a time), with the settings of stryker.config.mjs,
// incrementally: the results of the last run of the same targets are kept in
// reports/mutation/, so a re-run after adding tests re-tests only the mutants whose code or
// covering tests changed (`--force` re-tests all). Options such as `--concurrency 1` pass
// through to Stryker. With no argument it lists the folders the suite aims to hold at 85%.
// docs/mutation.md has the timings and the latest scores.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";

const args = process.argv.slice(2);
// A target may name lines of a file (src/simplify/rules.ts:1-135), Stryker's syntax.
const targets = args.filter((a) => a.startsWith("src/"));
const passThrough = args.filter((a) => !a.startsWith("src/"));
const goal = ["src/ops", "src/autodiff", "src/simplify", "src/schedule", "src/codegen/optimizers.ts"];
if (targets.length === 0) {
  console.log(`usage: npm run mutate -- <folder or file under src/> ... [stryker options, e.g. --concurrency 1, --force]\nthe suite aims to kill 85% of mutants in each of: ${goal.join(", ")}`);
  process.exit(2);
}
const patterns = targets.map((t) => {
  const path = t.replace(/:\d+-\d+$/, "");
  if (!existsSync(path)) {
    console.error(`error: ${t}: no such file or folder`);
    process.exit(1);
  }
  return statSync(path).isDirectory() ? `${t.replace(/\/$/, "")}/**/*.ts` : t;
});
// The tests that exercise each folder, narrowly: a mutant of a function every compile calls
// (the gradient driver, the simplifier) is covered by nearly every test, and each surviving
// mutant runs all the tests that cover it, so the list is what sets the run time. The rest
// of the suite can kill a mutant these miss, but it would take hours. GRADC_MUTATE_TESTS
// overrides (a comma-separated list of globs; `!glob` leaves files out).
const testsFor = {
  // Diagnostics first (fast, and the only tests that kill a mutated message); not the
  // CLI tests (they run dist/, which never holds the mutant) nor the allocation ones (V8
  // child processes). gradcheck/ops.test.ts builds its conv and pool cases inside their
  // tests (their shapes call convOutSize), so mutants there are not static.
  "src/ops/conv-geometry.ts": ["test/conv/errors.test.ts", "test/ops/**/*.test.ts", "test/conv/programs.test.ts", "test/gradcheck/ops.test.ts"],
  // Per file of src/ops: test/ops/loads.test.ts first (it imports the op table inside a
  // test: a mutant that makes src/ops throw while loading fails no test in a file that
  // imports it while collected, and would count as survived), then the narrow tests.
  // elementwise.ts: the op records are built when the module loads, so every mutant of a
  // name, print form, sampling domain or property is static and runs the whole list: only
  // the two fast files that check each op (gradcheck over the op table in the interpreter,
  // each record's scalar, emitted code and print form): about 10 s per static mutant here
  // instead of 2 minutes.
  "src/ops/elementwise.ts": ["test/ops/loads.test.ts", "test/gradcheck/ops.test.ts", "test/ops/elementwise.test.ts"],
  "src/ops/reduce.ts": ["test/ops/loads.test.ts", "test/gradcheck/ops.test.ts", "test/builtins/reductions.test.ts", "test/diagnostics/errors.test.ts", "test/ops/reduce.test.ts"],
  // linalg.ts: golden last, for what only the emitted code shows (which kernel, which tiles,
  // the fresh names, the print form of the gradient program; the mlp case is tiled).
  "src/ops/linalg.ts": ["test/ops/loads.test.ts", "test/gradcheck/ops.test.ts", "test/shapes/matmul.test.ts", "test/diagnostics/errors.test.ts", "test/ops/linalg.test.ts", "test/golden/golden.test.ts"],
  // gather.ts: the take tests (shapes, diagnostics, values, gradients, emitted id checks),
  // then the ids and embedding ones; not sparse-step (11 s: the optimizers' row updates).
  "src/ops/gather.ts": ["test/ops/loads.test.ts", "test/gather/ids.test.ts", "test/gather/take.test.ts", "test/gather/embedding.test.ts", "test/ops/gather.test.ts"],
  // scan.ts: the interpreter tests first (fast), then emitted code and the printed forms.
  "src/ops/scan.ts": ["test/ops/loads.test.ts", "test/scan/block.test.ts", "test/scan/interpret.test.ts", "test/scan/runtime.test.ts", "test/scan/residuals.test.ts", "test/scan/emitted.test.ts", "test/scan/printed.test.ts", "test/ops/scan.test.ts"],
  "src/ops/scan-layout.ts": ["test/ops/loads.test.ts", "test/scan/block.test.ts", "test/scan/interpret.test.ts", "test/scan/runtime.test.ts", "test/scan/emitted.test.ts", "test/ops/scan.test.ts"],
  "src/ops/random.ts": ["test/ops/loads.test.ts", "test/random/draws.test.ts", "test/random/printed.test.ts", "test/random/dropout.test.ts", "test/ops/random.test.ts"],
  // movement.ts: the gradient checks (the interpreter), the shape built-ins (emitted code
  // against the interpreter), the located errors, reshapes and slices over free dims.
  "src/ops/movement.ts": ["test/ops/loads.test.ts", "test/gradcheck/ops.test.ts", "test/builtins/shape.test.ts", "test/diagnostics/errors.test.ts", "test/shapes/shape-expressions.test.ts", "test/ops/movement.test.ts"],
  // The small files, run together (the lists are joined). The builder makes every node:
  // broadcasting in the gradient checks, unbroadcasting in the reverse sweep, E0201.
  "src/ops/builder.ts": ["test/ops/loads.test.ts", "test/gradcheck/ops.test.ts", "test/autodiff/reverse.test.ts", "test/diagnostics/errors.test.ts", "test/ops/builder.test.ts"],
  "src/ops/constant.ts": ["test/ops/loads.test.ts", "test/constants/constants.test.ts", "test/ops/sources.test.ts"],
  "src/ops/source.ts": ["test/ops/loads.test.ts", "test/gradcheck/ops.test.ts", "test/shapes/shape-expressions.test.ts", "test/constants/constants.test.ts", "test/ops/sources.test.ts"],
  "src/ops/tensor.ts": ["test/ops/loads.test.ts", "test/gradcheck/ops.test.ts"],
  "src/ops/registry.ts": ["test/ops/loads.test.ts", "test/ops/builder.test.ts"],
  "src/ops/index.ts": ["test/ops/loads.test.ts"],
  "src/ops/define.ts": ["test/ops/loads.test.ts", "test/gradcheck/ops.test.ts", "test/ops/builder.test.ts"],
  "src/ops/special.ts": ["test/ops/loads.test.ts", "test/ops/elementwise.test.ts"],
  // pool.ts: its shape rules (conv-evaluate, the diagnostics), the interpreter and
  // gradients (gradcheck), the emitted kernels fused and not (pool-fusion), then its own.
  "src/ops/pool.ts": ["test/ops/loads.test.ts", "test/ops/conv-evaluate.test.ts", "test/conv/errors.test.ts", "test/gradcheck/ops.test.ts", "test/schedule/pool-fusion.test.ts", "test/ops/pool.test.ts"],
  // conv.ts: the reference semantics, vjp rules and shapes (conv-evaluate), the
  // diagnostics, gradcheck, then its own (printed gradients, flops).
  "src/ops/conv.ts": ["test/ops/loads.test.ts", "test/ops/conv-evaluate.test.ts", "test/conv/errors.test.ts", "test/gradcheck/ops.test.ts", "test/ops/conv.test.ts"],
  // conv-emit.ts: the emitted kernels. Not test/conv/programs.test.ts (9 s of tests per
  // surviving mutant here): pool-fusion, then its own (every kernel form, the prologue).
  "src/ops/conv-emit.ts": ["test/ops/loads.test.ts", "test/schedule/pool-fusion.test.ts", "test/ops/conv-emit.test.ts"],
  "src/ops": ["test/ops/loads.test.ts", "test/conv/errors.test.ts", "test/shapes/**/*.test.ts", "!test/conv/cli.test.ts", "!test/gather/cli.test.ts", "!test/**/allocation.test.ts", "test/gradcheck/**/*.test.ts", "test/ops/**/*.test.ts", "test/builtins/**/*.test.ts", "test/conv/**/*.test.ts", "test/gather/**/*.test.ts", "test/constants/**/*.test.ts"],
  "src/autodiff": ["test/autodiff/**/*.test.ts", "test/gradcheck/**/*.test.ts", "test/hardening/where.test.ts", "test/hardening/stability.test.ts"],
  "src/simplify": ["test/simplify/simplify.test.ts", "test/simplify/driver.test.ts", "test/simplify/training.test.ts"],
  // Not test/codegen: its files check speed and allocation in V8 child processes (tens of
  // seconds per mutant). Not the differential suite either (35 s per surviving mutant here):
  // golden compares the emitted code, test/schedule what the plan costs and its values.
  "src/schedule": ["test/golden/golden.test.ts", "test/schedule/**/*.test.ts"],
  "src/codegen/optimizers.ts": ["test/optimizers/**/*.test.ts", "test/golden/**/*.test.ts"],
};
const listFor = (t) => {
  const path = t.replace(/:\d+-\d+$/, "").replace(/\/$/, "");
  return testsFor[path] ?? testsFor[path.replace(/\/[^/]*$/, "")] ?? [];
};
const tests = process.env.GRADC_MUTATE_TESTS ?? [...new Set(targets.flatMap(listFor))].join(",");
// The simplifier's fast-check property runs 100 cases per mutant instead of 1,000.
const env = { GRADC_PROPERTY_RUNS: "100", ...process.env, ...(tests ? { GRADC_MUTATE_TESTS: tests } : {}) };
const incrementalFile = `reports/mutation/${targets.map((t) => t.replace(/^src\//, "").replace(/[/.:]+/g, "-")).join("+")}.incremental.json`;
const r = spawnSync("npx", ["stryker", "run", "--mutate", patterns.join(","), "--incremental", "--incrementalFile", incrementalFile, ...passThrough], { stdio: "inherit", env });
process.exit(r.status ?? 1);
