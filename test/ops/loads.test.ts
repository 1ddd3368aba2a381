// The op modules load: imported inside a test, so a mutation that makes src/ops throw
// while it loads (an op record built wrong at module level) fails a test. Every other test
// file imports src/ops while it is collected, where such a failure leaves no failed test
// and StrykerJS would count the mutant as survived. First in the mutation lists of src/ops.

import { expect, it } from "vitest";

it("the op table loads, every op registered under its name", async () => {
  const ops = await import("../../src/ops");
  const all = ops.allOps();
  expect(all.length).toBeGreaterThan(60);
  for (const op of all) {
    expect(op.name, "an op without a name").toMatch(/^[a-z][a-z0-9_]*$/);
    expect(ops.getOp(op.name)).toBe(op);
  }
});
