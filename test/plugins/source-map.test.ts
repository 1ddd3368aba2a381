import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileToSource } from "../../src/index";
import { composeMaps, decodeMappings, encodeMappings, kernelSourceMap, originalPosition, type Segment } from "../../src/plugins/source-map";
import { xorSource } from "./helpers";
import { propertySeed } from "../helpers/seed";

describe("source maps", () => {
  it("VLQ mappings round-trip", () => {
    const segment = fc.tuple(fc.nat(500), fc.nat(3), fc.nat(5000), fc.nat(200));
    const lines = fc.array(fc.array(segment, { maxLength: 6 }).map((l) => [...l].sort((a, b) => a[0] - b[0])), { minLength: 1, maxLength: 20 }); // "" is one empty line
    fc.assert(fc.property(lines, (ls) => {
      expect(decodeMappings(encodeMappings(ls as Segment[][]))).toEqual(ls);
    }), { seed: propertySeed(11) });
  });

  it("maps every kernel line to the model line in its comment, the rest to the module", () => {
    const { text } = compileToSource(xorSource, { filename: "xor.grad", format: "esm" });
    const map = kernelSourceMap(text, { filename: "xor.grad", source: "/m/xor.grad", sourceContent: xorSource, generated: "/m/xor.grad.js" });
    expect(map.sources).toEqual(["/m/xor.grad", "/m/xor.grad.js"]);
    const lines = text.split("\n");
    let checked = 0;
    lines.forEach((line, i) => {
      const comment = /\/\/ .*\(xor\.grad:(\d+): /.exec(line);
      if (!comment) return;
      const next = lines[i + 1]!;
      expect(originalPosition(map, i + 1, next.search(/\S/))).toMatchObject({ source: "/m/xor.grad", line: Number(comment[1]) - 1 });
      checked++;
    });
    expect(checked).toBeGreaterThan(5);
    const header = lines.findIndex((l) => l.startsWith("function fail("));
    expect(originalPosition(map, header, 0)).toEqual({ source: "/m/xor.grad.js", line: header, column: 0 });
  });

  it("chains maps", () => {
    const inner = { version: 3 as const, sources: ["a.ts"], sourcesContent: [""], names: [], mappings: encodeMappings([[[0, 0, 4, 2]], [[2, 0, 7, 0]]]) };
    const outer = { version: 3 as const, sources: ["b.js"], sourcesContent: [""], names: [], mappings: encodeMappings([[[0, 0, 1, 3]]]) };
    expect(originalPosition(composeMaps(outer, inner), 0, 0)).toEqual({ source: "a.ts", line: 7, column: 0 });
  });
});
