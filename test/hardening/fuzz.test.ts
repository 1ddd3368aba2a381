// Fuzzing the whole pipeline in CI (fixed seed, bounded time): generated valid models and
// mutations of them, each compiled, run, gradient-checked against finite differences and
// stepped in f32 (test/hardening/fuzz/harness.ts says exactly what must hold). The counts
// covered are logged; a run that covers too few cases fails, so coverage cannot silently
// shrink. `npm run fuzz` runs the same properties for longer with a fresh seed.

import { describe, expect, it } from "vitest";
import { runFuzz } from "./fuzz/run";

describe("fuzzing the whole pipeline", () => {
  it("valid models and their mutations: compiled and gradient-checked, or a located GradcError", () => {
    const lines: string[] = [];
    const { valid, mutants } = runFuzz({ seed: 20261127, validRuns: 120, mutantRuns: 1000, timeLimitMs: 40_000 }, (l) => { lines.push(l); console.log(l); });
    expect(valid.cases).toBeGreaterThanOrEqual(60);
    expect(valid.gradientElements).toBeGreaterThan(1000);
    expect(mutants.cases).toBeGreaterThanOrEqual(500);
    expect(mutants.compiled).toBeGreaterThan(30);
    expect(lines).toHaveLength(2);
  }, 120_000);
});
