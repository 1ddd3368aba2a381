// Line plots as hand-written SVG: one or more panels side by side, each with axes, "nice"
// ticks (1, 2 or 5 times a power of ten), grid lines, a legend, and one polyline per series
// (broken where a value is not finite; single points drawn as dots). No dependency, and
// the text is deterministic for the same data.

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
  /** fixed y range ends; otherwise taken from the data */
  yMin?: number;
  yMax?: number;
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
  const xs = ticks(finite.map((p) => p[0]));
  const ys = ticks(finite.map((p) => p[1]), panel.yMin, panel.yMax);
  const w = PANEL_W - M.left - M.right;
  const h = PANEL_H - M.top - M.bottom;
  const sx = (x: number) => M.left + ((x - xs.lo) / (xs.hi - xs.lo)) * w;
  const sy = (y: number) => M.top + h - ((y - ys.lo) / (ys.hi - ys.lo)) * h;
  out.push(`<text x="${M.left + w / 2}" y="20" text-anchor="middle" font-size="13">${escape(panel.title)}</text>`);
  for (const t of ys.values) {
    out.push(`<line x1="${M.left}" y1="${r(sy(t))}" x2="${M.left + w}" y2="${r(sy(t))}" stroke="#e6e6e6"/>`);
    out.push(`<text x="${M.left - 6}" y="${r(sy(t) + 4)}" text-anchor="end">${label(t, ys.step)}</text>`);
  }
  for (const t of xs.values) {
    out.push(`<line x1="${r(sx(t))}" y1="${M.top}" x2="${r(sx(t))}" y2="${M.top + h}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${r(sx(t))}" y="${M.top + h + 16}" text-anchor="middle">${label(t, xs.step)}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${w}" height="${h}" fill="none" stroke="#444444"/>`);
  if (panel.xLabel) out.push(`<text x="${M.left + w / 2}" y="${PANEL_H - 10}" text-anchor="middle">${escape(panel.xLabel)}</text>`);
  if (panel.yLabel) {
    out.push(`<text x="14" y="${M.top + h / 2}" text-anchor="middle" transform="rotate(-90 14 ${M.top + h / 2})">${escape(panel.yLabel)}</text>`);
  }
  const legend: string[] = [];
  const count = panel.series.length;
  const legendTop = panel.legend === "bottom-right" ? M.top + h - 8 - count * 16 : M.top + 6;
  if (count > 0) {
    legend.push(`<rect x="${M.left + w - 124}" y="${legendTop}" width="118" height="${count * 16 + 4}" fill="#ffffff" fill-opacity="0.85" stroke="#cccccc"/>`);
  }
  panel.series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length]!;
    const stroke = s.faint ? `stroke="${color}" stroke-width="1" stroke-opacity="0.35"` : `stroke="${color}" stroke-width="2"`;
    for (const run of segments(s.points)) {
      if (run.length === 1) {
        out.push(`<circle cx="${r(sx(run[0]![0]))}" cy="${r(sy(run[0]![1]))}" r="3" fill="${color}"/>`);
        continue;
      }
      const pts = run.map(([x, y]) => `${r(sx(x))},${r(sy(y))}`).join(" ");
      out.push(`<polyline fill="none" ${stroke} stroke-linejoin="round" points="${pts}"/>`);
      if (s.dots) for (const [x, y] of run) out.push(`<circle cx="${r(sx(x))}" cy="${r(sy(y))}" r="2.5" fill="${color}"/>`);
    }
    const ly = legendTop + 15 + k * 16;
    const lx = M.left + w - 118;
    legend.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 18}" y2="${ly - 4}" ${stroke}/>`);
    legend.push(`<text x="${lx + 24}" y="${ly}">${escape(s.name)}</text>`);
  });
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

/** A range covering the values, widened to nice tick steps. */
function ticks(values: number[], fixedLo?: number, fixedHi?: number): { lo: number; hi: number; step: number; values: number[] } {
  let lo = fixedLo ?? Math.min(...values);
  let hi = fixedHi ?? Math.max(...values);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (hi - lo < 1e-12) [lo, hi] = [lo - 0.5, hi + 0.5];
  const raw = (hi - lo) / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  if (fixedLo === undefined) lo = Math.floor(lo / step + 1e-9) * step;
  if (fixedHi === undefined) hi = Math.ceil(hi / step - 1e-9) * step;
  const list: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) list.push(t);
  return { lo, hi, step, values: list };
}

function label(t: number, step: number): string {
  const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return (Math.abs(t) < step * 1e-9 ? 0 : t).toFixed(digits);
}

const r = (v: number) => String(Math.round(v * 10) / 10);

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
