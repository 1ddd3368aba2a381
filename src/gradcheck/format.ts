// The CLI's table of a gradcheck result: one line per param. A worst error below the
// finite differences' own resolution is said to be so, never printed as a bare 0.

import type { GradcheckResult, ParamReport } from "./index";

const approx = (x: number) => `~${x.toExponential(0)}`;

/** The worst-error cell: a measured error, or what the check could not resolve. */
function worstCell(r: ParamReport): string {
  if (r.checked === 0) return r.size === 0 ? "nothing to check" : "nothing checked: finite differences cannot settle any element";
  if (r.worst <= r.resolution) return `below the finite-difference resolution ${approx(r.resolution)}`;
  return r.worst.toExponential(2);
}

/** A one-line-per-param table of a result, for the CLI. */
export function formatGradcheck(result: GradcheckResult, label: string): string {
  const rows = result.params.map((r) => [r.name, String(r.size), String(r.checked), String(r.skipped), worstCell(r), r.ok ? "ok" : "FAIL"]);
  const header = ["param", "size", "checked", "skipped", "worst rel. error", ""];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => cells.map((s, c) => s.padEnd(widths[c]!)).join("  ").trimEnd();
  const out = [
    `gradcheck ${label}: ${result.points} point${result.points === 1 ? "" : "s"}, f64 central differences (Richardson-extrapolated)`,
    line(header), ...rows.map(line),
  ];
  out.push(result.params.length === 0
    ? "no params: nothing to check"
    : result.ok
      ? `ok: every param within ${result.tolerance} (relative error beyond the finite-difference resolution)`
      : `FAILED: over the tolerance ${result.tolerance}`);
  return `${out.join("\n")}\n`;
}
