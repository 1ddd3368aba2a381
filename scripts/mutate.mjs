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
const r = spawnSync("npx", ["stryker", "run", "--mutate", patterns.join(",")], { stdio: "inherit" });
process.exit(r.status ?? 1);
