// Time budgets. `npm test` never asserts wall-clock times (a loaded machine would trip
// them); `npm run test:limits` runs the same tests with GRADC_LIMITS=1, where each budget
// is asserted. Times are always printed, so a slow case shows in either run.
import { expect } from "vitest";

export const limitsMode = process.env.GRADC_LIMITS === "1";

/** Asserts `ms` < `budgetMs` under `npm run test:limits`. */
export function expectWithinBudget(ms: number, budgetMs: number, what: string): void {
  if (limitsMode) expect(ms, `${what} took ${ms.toFixed(0)} ms; its budget is ${budgetMs} ms`).toBeLessThan(budgetMs);
}
