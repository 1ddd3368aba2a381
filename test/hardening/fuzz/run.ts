// The fuzz loop shared by the CI test (fuzz.test.ts) and the long run (`npm run fuzz`):
// fast-check properties over tapes of choices, with a fixed seed, a run count and a time
// bound. Returns what was covered, so each run records how many cases it checked.

import fc from "fast-check";
import { checkMutant, checkValidModel, formatStats, newStats } from "./harness";

export interface FuzzOptions {
  seed: number;
  validRuns: number;
  mutantRuns: number;
  /** Stop starting new cases after this long, per property (fast-check's interrupt); the
   *  long run only: CI runs a fixed number of cases. */
  timeLimitMs?: number;
}

const tape = fc.array(fc.noBias(fc.nat({ max: 1 << 30 })), { minLength: 8, maxLength: 160 });
const caseSeed = fc.noBias(fc.nat({ max: 1 << 20 }));

export function runFuzz(options: FuzzOptions, log: (line: string) => void = console.log) {
  const valid = newStats();
  const mutants = newStats();
  const settings = (numRuns: number) => ({
    seed: options.seed, numRuns, ...(options.timeLimitMs === undefined ? {} : { interruptAfterTimeLimit: options.timeLimitMs }), markInterruptAsFailure: false,
    endOnFailure: true,
  });
  let started = Date.now();
  fc.assert(fc.property(tape, caseSeed, (t, s) => void checkValidModel(t, s, valid)), settings(options.validRuns));
  log(formatStats(`valid models (seed ${options.seed})`, valid, Date.now() - started));
  started = Date.now();
  fc.assert(fc.property(tape, fc.array(fc.noBias(fc.nat({ max: 1 << 30 })), { minLength: 4, maxLength: 12 }), caseSeed,
    (t, m, s) => void checkMutant(t, m, s, mutants)), settings(options.mutantRuns));
  log(formatStats(`mutated models (seed ${options.seed})`, mutants, Date.now() - started));
  return { valid, mutants };
}
