// Fuzzing the whole pipeline in CI (fixed seed, a fixed number of cases, so what it covers
// does not depend on the machine's speed): generated valid models and
// mutations of them, each compiled, run, gradient-checked against finite differences and
// stepped in f32 (test/hardening/fuzz/harness.ts says exactly what must hold). The counts
// covered are logged; a run that covers too few cases fails, so coverage cannot silently
// shrink. `npm run fuzz` runs the same properties for longer with a fresh seed.

import { describe, expect, it } from "vitest";
import { runFuzz } from "./fuzz/run";

describe("fuzzing the whole pipeline", () => {
  it("valid models and their mutations: compiled and gradient-checked, or a located GradcError", () => {
    const lines: string[] = [];
    const { valid, mutants } = runFuzz({ seed: 20261127, validRuns: 60, mutantRuns: 400 }, (l) => { lines.push(l); console.log(l); });
    expect(valid.cases).toBe(60);
    expect(valid.gradientElements).toBeGreaterThan(500);
    expect(mutants.cases).toBe(400);
    expect(mutants.compiled).toBeGreaterThan(20);
    expect(lines).toHaveLength(2);
  }, 600_000);
});
