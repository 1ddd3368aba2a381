// `npm run fuzz`: the whole-pipeline fuzzer for longer than CI allows. Options:
//   --seconds 600   time bound per property (valid models, then mutants)
//   --runs 20000    cases per property
//   --seed N        fast-check seed (default: the time, printed so a failure replays)
// A failure prints the shrunk model and the seed; replay it with --seed.

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
runFuzz({ seed, validRuns: runs, mutantRuns: runs, timeLimitMs: seconds * 1000 });
