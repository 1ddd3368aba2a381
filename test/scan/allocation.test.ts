// scan's emitted loop allocates nothing at run time: a steady-state step, forward and
// valueAndGrad cause no young-generation collection (counted in a separate process with a
// 1 MB nursery, as test/codegen/allocation.test.ts does), free T too (the body's buffers
// live in the module).

import { describe, expect, it } from "vitest";
import { compileToSource } from "../../src/index";
import { scavengesDuring } from "../helpers/gc";
import { gru } from "./models";

describe("scan allocates nothing per call", () => {
  for (const t of ["6", "t"]) {
    it(`a steady-state step, forward and valueAndGrad allocate nothing (T ${t === "t" ? "free, 6 then 9" : "= 6"})`, () => {
      const { gcs, result } = scavengesDuring(compileToSource(gru(t), { format: "esm" }).text, `
const a = { xs: new Float32Array(6 * 12).fill(0.3), h0: new Float32Array(32).fill(0.1) };
const b = { xs: new Float32Array(${t === "t" ? 9 : 6} * 12).fill(0.2), h0: new Float32Array(32).fill(0.1) };
function measure() {
  let s = 0;
  for (let i = 0; i < 3000; i++) {
    const v = i % 2 === 0 ? a : b;
    s += model.step(v);
    s += model.forward(v).hs[0];
    s += model.valueAndGrad(v).value;
  }
  return s;
}`) as { gcs: number; result: number };
      expect(Number.isFinite(result)).toBe(true);
      expect(gcs).toBe(0);
    });
  }
});
