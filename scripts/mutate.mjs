// `npm run mutate -- src/ops [src/autodiff ...]`: StrykerJS on the named folders or files
// of src/ (one folder at a time fits in under 30 minutes here), with the settings of
// stryker.config.mjs. With no argument it lists the folders the suite aims to hold at 85%.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";

const targets = process.argv.slice(2);
const goal = ["src/ops", "src/autodiff", "src/simplify", "src/schedule", "src/codegen/optimizers.ts"];
if (targets.length === 0) {
  console.log(`usage: npm run mutate -- <folder or file under src/> ...\nthe suite aims to kill 85% of mutants in each of: ${goal.join(", ")}`);
  process.exit(2);
}
const patterns = targets.map((t) => {
  if (!existsSync(t)) {
    console.error(`error: ${t}: no such file or folder`);
    process.exit(1);
  }
  return statSync(t).isDirectory() ? `${t.replace(/\/$/, "")}/**/*.ts` : t;
});
// The tests that exercise each folder (the rest of the suite cannot kill its mutants, and
// running it for every mutant would take hours); GRADC_MUTATE_TESTS overrides.
const testsFor = {
  "src/ops": ["test/gradcheck/**/*.test.ts", "test/ops/**/*.test.ts", "test/differential/**/*.test.ts", "test/builtins/**/*.test.ts", "test/conv/**/*.test.ts", "test/gather/**/*.test.ts", "test/shapes/**/*.test.ts", "test/constants/**/*.test.ts"],
  "src/autodiff": ["test/autodiff/**/*.test.ts", "test/gradcheck/**/*.test.ts", "test/differential/**/*.test.ts"],
  "src/simplify": ["test/simplify/**/*.test.ts", "test/differential/**/*.test.ts", "test/golden/**/*.test.ts"],
  "src/schedule": ["test/differential/**/*.test.ts", "test/golden/**/*.test.ts", "test/codegen/**/*.test.ts"],
  "src/codegen/optimizers.ts": ["test/optimizers/**/*.test.ts", "test/golden/**/*.test.ts"],
};
const tests = process.env.GRADC_MUTATE_TESTS ?? [...new Set(targets.flatMap((t) => testsFor[t.replace(/\/$/, "")] ?? []))].join(",");
const env = { ...process.env, ...(tests ? { GRADC_MUTATE_TESTS: tests } : {}) };
const r = spawnSync("npx", ["stryker", "run", "--mutate", patterns.join(",")], { stdio: "inherit", env });
process.exit(r.status ?? 1);
