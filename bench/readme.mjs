// Puts the committed bench/results.md (written by a full `npm run bench`) into README.md's
// Performance section, between <!-- bench:start --> and <!-- bench:end -->, so the README's
// table is always one run's output, never edited by hand. `npm run bench:readme` runs this
// after a bench run; `node bench/run.mjs --update-readme` calls updateReadme itself.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const README = new URL("../README.md", import.meta.url);
const START = "<!-- bench:start -->";
const END = "<!-- bench:end -->";

export function updateReadme(md) {
  const text = readFileSync(README, "utf8");
  const a = text.indexOf(START), b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error("README.md has no <!-- bench:start --> ... <!-- bench:end --> markers");
  writeFileSync(README, text.slice(0, a + START.length) + "\n" + md + text.slice(b));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  updateReadme(readFileSync(new URL("./results.md", import.meta.url), "utf8"));
  process.stderr.write("README.md: Performance section replaced by bench/results.md\n");
}
