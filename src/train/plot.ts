// Line plots as hand-written SVG: one or more panels side by side, each with axes, "nice"
// ticks (1, 2 or 5 times a power of ten), grid lines, a legend, and one polyline per series
// (broken where a value is not finite; single points drawn as dots). Axes fit the data: x
// ends at the last point; y is log when values span orders of magnitude (if asked), else
// linear from robust quantiles, with the few values outside clipped to the edge and marked.
// No dependency, and the text is deterministic for the same data.

export interface Series {
  name: string;
  points: [number, number][];
  color?: string;
  /** thin and faint, for noisy per-batch values under the per-epoch lines */
  faint?: boolean;
  /** mark each point with a dot */
  dots?: boolean;
}

export interface Panel {
  title: string;
  xLabel?: string;
  yLabel?: string;
  series: Series[];
  /** fixed x range ends; otherwise the data's own, so the axis ends at the last point */
  xMin?: number;
  xMax?: number;
  /** fixed y range ends of a linear scale; otherwise taken from the data (robustly: a few
   *  extreme values are clipped to the edge and marked, not allowed to squash the rest) */
  yMin?: number;
  yMax?: number;
  /** "linear" (default), "log", or "auto": log when every value is positive and they span
   *  more than a factor of 20 */
  yScale?: "linear" | "log" | "auto";
  /** the legend's corner: where the curves are not (default "top-right") */
  legend?: "top-right" | "bottom-right";
}

const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];
const PANEL_W = 440;
const PANEL_H = 300;
const M = { left: 58, right: 16, top: 34, bottom: 46 };

/** The panels as one SVG document. */
export function plotPanels(panels: Panel[], title?: string): string {
  const top = title ? 28 : 0;
  const width = PANEL_W * Math.max(panels.length, 1);
  const height = PANEL_H + top;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (title) out.push(`<text x="${width / 2}" y="19" text-anchor="middle" font-size="14" font-weight="bold">${escape(title)}</text>`);
  panels.forEach((p, i) => out.push(...drawPanel(p, i * PANEL_W, top)));
  out.push("</svg>", "");
  return out.join("\n");
}

function drawPanel(panel: Panel, x0: number, y0: number): string[] {
  const out: string[] = [`<g transform="translate(${x0},${y0})">`];
  const finite = panel.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  // The x axis ends where the data ends; y is chosen so the curves fill the panel.
  const xs = linearAxis(finite.map((p) => p[0]), { lo: panel.xMin, hi: panel.xMax, tight: true, robust: false });
  const ys = yAxis(panel, finite.map((p) => p[1]));
  const w = PANEL_W - M.left - M.right;
  const h = PANEL_H - M.top - M.bottom;
  const sx = (x: number) => M.left + xs.at(x) * w;
  // Values outside the y range are drawn on its edge and marked (below).
  const sy = (y: number) => M.top + h - Math.min(1, Math.max(0, ys.at(y))) * h;
  out.push(`<text x="${M.left + w / 2}" y="20" text-anchor="middle" font-size="13">${escape(panel.title)}</text>`);
  for (const t of ys.ticks) {
    out.push(`<line x1="${M.left}" y1="${r(sy(t))}" x2="${M.left + w}" y2="${r(sy(t))}" stroke="#e6e6e6"/>`);
    out.push(`<text x="${M.left - 6}" y="${r(sy(t) + 4)}" text-anchor="end">${ys.label(t)}</text>`);
  }
  for (const t of xs.ticks) {
    out.push(`<line x1="${r(sx(t))}" y1="${M.top}" x2="${r(sx(t))}" y2="${M.top + h}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${r(sx(t))}" y="${M.top + h + 16}" text-anchor="middle">${xs.label(t)}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${w}" height="${h}" fill="none" stroke="#444444"/>`);
  if (panel.xLabel) out.push(`<text x="${M.left + w / 2}" y="${PANEL_H - 10}" text-anchor="middle">${escape(panel.xLabel)}</text>`);
  const yLabel = panel.yLabel === undefined ? undefined : `${panel.yLabel}${ys.log ? " (log scale)" : ""}`;
  if (yLabel) {
    out.push(`<text x="14" y="${M.top + h / 2}" text-anchor="middle" transform="rotate(-90 14 ${M.top + h / 2})">${escape(yLabel)}</text>`);
  }
  const legend: string[] = [];
  const count = panel.series.length;
  const legendTop = panel.legend === "bottom-right" ? M.top + h - 8 - count * 16 : M.top + 6;
  if (count > 0) {
    legend.push(`<rect x="${M.left + w - 124}" y="${legendTop}" width="118" height="${count * 16 + 4}" fill="#ffffff" fill-opacity="0.85" stroke="#cccccc"/>`);
  }
  const clipped = { above: 0, below: 0, most: -Infinity, least: Infinity };
  panel.series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length]!;
    const stroke = s.faint ? `stroke="${color}" stroke-width="1" stroke-opacity="0.35"` : `stroke="${color}" stroke-width="2"`;
    for (const run of segments(s.points)) {
      if (run.length === 1) {
        out.push(`<circle cx="${r(sx(run[0]![0]))}" cy="${r(sy(run[0]![1]))}" r="3" fill="${color}"/>`);
      } else {
        const pts = run.map(([x, y]) => `${r(sx(x))},${r(sy(y))}`).join(" ");
        out.push(`<polyline fill="none" ${stroke} stroke-linejoin="round" points="${pts}"/>`);
        if (s.dots) for (const [x, y] of run) if (ys.inside(y)) out.push(`<circle cx="${r(sx(x))}" cy="${r(sy(y))}" r="2.5" fill="${color}"/>`);
      }
      // An outlier: a small triangle on the edge, pointing the way the value lies.
      for (const [x, y] of run) {
        if (ys.inside(y)) continue;
        const up = ys.at(y) > 1;
        if (up) { clipped.above++; clipped.most = Math.max(clipped.most, y); } else { clipped.below++; clipped.least = Math.min(clipped.least, y); }
        const ey = up ? M.top : M.top + h;
        const d = up ? `M${r(sx(x))},${ey} l-3.5,6 h7 z` : `M${r(sx(x))},${ey} l-3.5,-6 h7 z`;
        out.push(`<path class="outlier" d="${d}" fill="${color}"${s.faint ? ` fill-opacity="0.5"` : ""}/>`);
      }
    }
    const ly = legendTop + 15 + k * 16;
    const lx = M.left + w - 118;
    legend.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 18}" y2="${ly - 4}" ${stroke}/>`);
    legend.push(`<text x="${lx + 24}" y="${ly}">${escape(s.name)}</text>`);
  });
  const notes: string[] = [];
  if (clipped.above > 0) notes.push(`\u25b2 ${clipped.above} above the range (up to ${ys.label(clipped.most, true)})`);
  if (clipped.below > 0) notes.push(`\u25bc ${clipped.below} below the range (down to ${ys.label(clipped.least, true)})`);
  if (notes.length > 0) out.push(`<text class="outliers" x="${M.left + 2}" y="${M.top - 3}" font-size="9" fill="#555555">${escape(notes.join(", "))}</text>`);
  out.push(...legend, "</g>");
  return out;
}

/** Runs of consecutive finite points. */
function segments(points: [number, number][]): [number, number][][] {
  const runs: [number, number][][] = [];
  let run: [number, number][] = [];
  for (const p of points) {
    if (Number.isFinite(p[0]) && Number.isFinite(p[1])) run.push(p);
    else if (run.length) {
      runs.push(run);
      run = [];
    }
  }
  if (run.length) runs.push(run);
  return runs;
}

/** An axis: where a value falls (0 at the low end, 1 at the high end), its ticks and labels. */
interface Axis {
  ticks: number[];
  log: boolean;
  at(v: number): number;
  inside(v: number): boolean;
  /** a tick label; `exact` for a data value rather than a tick */
  label(v: number, exact?: boolean): string;
}

/** The y axis: log when asked, or ("auto") when every value is positive and they span more
 *  than a factor of 20 (a loss falling by orders of magnitude); else linear, from robust
 *  quantiles when an end is not fixed, so a few early values cannot squash the rest. */
function yAxis(panel: Panel, values: number[]): Axis {
  const finite = values.filter(Number.isFinite);
  const positive = finite.length > 0 && finite.every((v) => v > 0);
  const span = positive ? largest(finite) / smallest(finite) : 1;
  const scale = panel.yScale ?? "linear";
  if (positive && (scale === "log" || (scale === "auto" && span > 20))) return logAxis(finite);
  return linearAxis(finite, { lo: panel.yMin, hi: panel.yMax, tight: false, robust: true });
}

// Without spreading into Math.min/max: a long run can have more points than the stack holds arguments.
const smallest = (values: number[]) => values.reduce((m, v) => Math.min(m, v), Infinity);
const largest = (values: number[]) => values.reduce((m, v) => Math.max(m, v), -Infinity);

/** Nice tick steps: 1, 2 or 5 times a power of ten, about five of them over the range. */
function niceStep(range: number): number {
  const raw = range / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
}

/** Quantile q of sorted values, interpolated. */
function quantile(sorted: number[], q: number): number {
  const i = (sorted.length - 1) * q;
  const a = Math.floor(i);
  return sorted[a]! + (sorted[Math.min(a + 1, sorted.length - 1)]! - sorted[a]!) * (i - a);
}

/** A linear axis over the values. `tight` ends exactly at the data (or the fixed ends);
 *  otherwise ends widen to whole tick steps. `robust` leaves out the top and bottom 2%
 *  when they would stretch the range by more than half: those values are clipped. */
function linearAxis(values: number[], o: { lo?: number; hi?: number; tight: boolean; robust: boolean }): Axis {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  let lo = o.lo ?? sorted[0] ?? 0;
  let hi = o.hi ?? sorted[sorted.length - 1] ?? 1;
  // A clipped end stays where the quantile put it: widening it to a whole step would
  // give back the room the clipping won.
  let [clipLo, clipHi] = [false, false];
  if (o.robust && sorted.length >= 20) {
    const qLo = Math.max(lo, quantile(sorted, 0.02));
    const qHi = Math.min(hi, quantile(sorted, 0.98));
    if (o.hi === undefined && hi - qHi > 0.5 * (qHi - qLo)) [hi, clipHi] = [qHi + 0.05 * (qHi - qLo), true];
    if (o.lo === undefined && qLo - lo > 0.5 * (qHi - qLo)) [lo, clipLo] = [qLo - 0.05 * (qHi - qLo), true];
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (hi - lo < 1e-12) [lo, hi] = [lo - 0.5, hi + 0.5];
  const step = niceStep(hi - lo);
  if (!o.tight && !clipLo && o.lo === undefined) lo = Math.floor(lo / step + 1e-9) * step;
  if (!o.tight && !clipHi && o.hi === undefined) hi = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) ticks.push(t);
  const margin = (hi - lo) * 1e-9;
  return {
    ticks, log: false,
    at: (v) => (v - lo) / (hi - lo),
    inside: (v) => v >= lo - margin && v <= hi + margin,
    label: (v, exact) => (exact ? formatValue(v) : label(v, step)),
  };
}

/** A log axis over positive values, ending close to the data; ticks at 1, 2 and 5 times
 *  powers of ten (only powers of ten past three decades, all nine below one). */
function logAxis(values: number[]): Axis {
  const a = Math.log10(smallest(values));
  const b = Math.log10(largest(values));
  const pad = Math.max((b - a) * 0.03, 0.01);
  const [lo, hi] = [a - pad, b + pad];
  const mantissas = hi - lo > 3 ? [1] : hi - lo > 1 ? [1, 2, 5] : [1, 2, 3, 4, 5, 6, 7, 8, 9];
  const ticks: number[] = [];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
    for (const m of mantissas) {
      const t = m * 10 ** e;
      const l = Math.log10(t);
      if (l >= lo && l <= hi) ticks.push(Number(t.toPrecision(6)));
    }
  }
  return {
    ticks, log: true,
    at: (v) => (v > 0 ? (Math.log10(v) - lo) / (hi - lo) : -Infinity),
    inside: (v) => v > 0 && Math.log10(v) >= lo && Math.log10(v) <= hi,
    label: (v) => formatValue(v),
  };
}

/** A data value in at most 4 significant digits: 12.3, 0.0042, 2e-7. */
function formatValue(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e-4 && a < 1e6) return String(Number(v.toPrecision(a >= 1 ? Math.max(4, Math.ceil(Math.log10(a + 1))) : 3)));
  return v.toExponential(2).replace(/\.?0+e/, "e").replace("e+", "e");
}

function label(t: number, step: number): string {
  const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return (Math.abs(t) < step * 1e-9 ? 0 : t).toFixed(digits);
}

const r = (v: number) => String(Math.round(v * 10) / 10);

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
