// The suite lists of test/suites.ts name files that exist, each once: a renamed or moved
// file would otherwise drop out of its suite silently (and into `npm test`); and every
// file of `npm test` that mocks a module runs in a module graph of its own.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isolatedTests, limitsTests, slowTests } from "./suites";

const root = fileURLToPath(new URL("..", import.meta.url));

describe("test/suites.ts", () => {
  it("names existing test files, each in one suite", () => {
    const listed = [...limitsTests, ...slowTests, ...isolatedTests];
    expect(listed.filter((f) => !f.endsWith(".test.ts") || !existsSync(root + f))).toEqual([]);
    expect(new Set(listed).size).toBe(listed.length);
  });

  it("isolates every file of npm test that mocks a module", () => {
    const unit = readdirSync(join(root, "test"), { recursive: true, encoding: "utf8" })
      .map((f) => `test/${f}`).filter((f) => f.endsWith(".test.ts") && !f.startsWith("test/crosscheck/"))
      .filter((f) => !limitsTests.includes(f) && !slowTests.includes(f));
    const mocking = unit.filter((f) => /\bvi\.(mock|doMock|stubGlobal|stubEnv)\(/.test(readFileSync(join(root, f), "utf8")));
    expect(mocking.sort()).toEqual([...isolatedTests].sort());
  });
});
