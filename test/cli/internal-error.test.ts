// A compiler bug is the one thing gradc reports as its own: exit 2, "internal compiler
// error", and where to report it, the issue tracker named in package.json's `bugs`. The
// bug is simulated by a printer that throws.

import { readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import { run } from "../../src/cli/run";
import { InternalError, issueTracker } from "../../src/diagnostics";

vi.mock("../../src/print", async (original) => ({
  ...(await original<typeof import("../../src/print")>()),
  printDot: () => { throw new TypeError("cannot read properties of undefined (reading 'shape')"); },
  printDefinitions: () => { throw new InternalError("a gradient node has no rule", "%3: f32[4] = frob %1"); },
}));

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string; bugs: { url: string }; repository: { type: string; url: string };
};
const xorPath = new URL("../../examples/xor/xor.grad", import.meta.url).pathname;

function gradc(...argv: string[]) {
  let out = "";
  let err = "";
  const code = run(argv, (s) => (out += s), (s) => (err += s));
  return { code, out, err };
}

describe("internal compiler errors", () => {
  it("package.json names the repository and the issue tracker the messages point to", () => {
    expect(pkg.bugs.url).toBe(issueTracker);
    expect(issueTracker).toMatch(/^https:\/\/github\.com\/[\w-]+\/[\w-]+\/issues$/);
    expect(pkg.repository).toEqual({ type: "git", url: `git+${issueTracker.replace(/\/issues$/, ".git")}` });
  });

  it("an unexpected exception exits 2 and says where to report it, with its stack", () => {
    const r = gradc("graph", xorPath);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/^gradc: internal compiler error: cannot read properties of undefined \(reading 'shape'\)\n/);
    expect(r.err).toContain(`please report this at ${issueTracker} with the model and this output (gradc ${pkg.version})`);
    expect(r.err).toMatch(/^ {4}at /m);
  });

  it("an InternalError keeps its own detail and names the tracker", () => {
    const r = gradc("grad", xorPath);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`gradc: internal compiler error: a gradient node has no rule\n%3: f32[4] = frob %1\nplease report this at ${issueTracker}\n`);
  });
});
