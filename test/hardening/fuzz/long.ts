// `npm run fuzz`: the whole-pipeline fuzzer for longer than CI allows. Options:
//   --seconds 600   time bound per property (valid models, then mutants)
//   --runs 20000    cases per property
//   --seed N        fast-check seed (default: the time, printed so a failure replays)
//   --only valid    or `--only mutants`: one property only
// A failure prints the shrunk model and the seed; replay it with --seed.
// Then the property tests of `npm test` run once more with their seeds rotated by the same
// seed (GRADC_PROPERTY_SEED, test/helpers/seed.ts), so they explore beyond their fixed cases.

import { spawnSync } from "node:child_process";
import { runFuzz } from "./run";

function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!Number.isFinite(v)) throw new Error(`--${name} needs a number`);
  return v;
}

const seed = flag("seed", Date.now() % 1_000_000);
const seconds = flag("seconds", 300);
const runs = flag("runs", 100_000);
console.log(`gradc fuzz: seed ${seed}, up to ${runs} cases or ${seconds} s per property`);
const onlyAt = process.argv.indexOf("--only");
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
if (only !== undefined && only !== "valid" && only !== "mutants") throw new Error("--only takes valid or mutants");
runFuzz({ seed, validRuns: only === "mutants" ? 0 : runs, mutantRuns: only === "valid" ? 0 : runs, timeLimitMs: seconds * 1000 });

const properties = ["test/property", "test/simplify", "test/grammar", "test/differential/random-graphs.test.ts", "test/plugins/source-map.test.ts"];
if (only === undefined) {
  console.log(`gradc fuzz: property tests with GRADC_PROPERTY_SEED=${seed} (replay: GRADC_PROPERTY_SEED=${seed} npx vitest run ${properties.join(" ")})`);
  const r = spawnSync("npx", ["vitest", "run", ...properties], { stdio: "inherit", env: { ...process.env, GRADC_PROPERTY_SEED: String(seed) } });
  process.exitCode = r.status ?? 1;
}
