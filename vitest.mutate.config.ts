import { relative } from "node:path";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

// The tests StrykerJS runs for `npm run mutate` (scripts/mutate.mjs): the whole unit suite
// unless GRADC_MUTATE_TESTS narrows it to the folders that exercise the mutated code (a
// comma-separated list of globs; one starting with `!` leaves those files out), which keeps
// one folder's run under 30 minutes here.
const narrowed = process.env.GRADC_MUTATE_TESTS?.split(",").filter(Boolean);
const included = narrowed?.filter((g) => !g.startsWith("!"));
const excluded = narrowed?.filter((g) => g.startsWith("!")).map((g) => g.slice(1)) ?? [];

/** Test files in the order of the globs that name them (a list puts its cheapest, likeliest
 *  killers first, and tests added to kill survivors last, so a mutant's killing test says
 *  whether the older tests already caught it), then within a glob those that failed last
 *  first (they likely kill the next mutant too), then the fastest. Stryker stops a mutant's
 *  run at its first failing test; vitest's own order (slowest first) made every killed
 *  mutant wait for the slowest files. */
class ListOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const prefixes = (included ?? []).map((g) => g.split(/[*?{[]/)[0]!);
    const rank = (f: TestSpecification) => {
      const i = prefixes.findIndex((p) => relative(root, f.moduleId).startsWith(p));
      return i < 0 ? prefixes.length : i;
    };
    const state = (f: TestSpecification) => this.ctx.cache.getFileTestResults(`${f.project.name}:${relative(root, f.moduleId)}`);
    return [...files].sort((a, b) => {
      if (rank(a) !== rank(b)) return rank(a) - rank(b);
      const sa = state(a), sb = state(b);
      if (!sa || !sb) return !sa && sb ? -1 : sa && !sb ? 1 : 0;
      if (sa.failed !== sb.failed) return sa.failed ? -1 : 1;
      return sa.duration - sb.duration;
    });
  }
}

export default defineConfig({
  test: {
    sequence: { sequencer: ListOrder },
    include: included?.length ? included : ["test/**/*.test.ts"],
    exclude: ["test/crosscheck/**", "**/node_modules/**", "playground/**", ...excluded],
    testTimeout: 60_000,
  },
});
