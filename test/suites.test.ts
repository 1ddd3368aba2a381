// The suite lists of test/suites.ts name files that exist, each once: a renamed or moved
// file would otherwise drop out of its suite silently (and into `npm test`).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { limitsTests, slowTests } from "./suites";

const root = fileURLToPath(new URL("..", import.meta.url));

describe("test/suites.ts", () => {
  it("names existing test files, each in one suite", () => {
    const listed = [...limitsTests, ...slowTests];
    expect(listed.filter((f) => !f.endsWith(".test.ts") || !existsSync(root + f))).toEqual([]);
    expect(new Set(listed).size).toBe(listed.length);
  });
});
