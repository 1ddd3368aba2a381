// A progress bar for one epoch of training. On a terminal it redraws one line in place
// (at most ten times a second) with the bar, the running metrics, samples per second and
// the time left; elsewhere (a pipe, a log file, CI) it prints nothing until the epoch
// ends and then one plain line, so logs stay readable and diffable. A log gets that line
// for every epoch: `keep: false` only lets the next bar on a terminal draw over this one.

/** Where progress goes: process.stdout fits. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** defaults to process.stdout */
  stream?: ProgressStream;
  /** draw the live bar; defaults to stream.isTTY */
  tty?: boolean;
  /** milliseconds clock; defaults to performance.now */
  now?: () => number;
  /** on a terminal, leave the finished bar on its own line (default true), or let the next
   *  bar draw over it (fit's `progressEvery`). Without a terminal every bar prints its
   *  plain line when it finishes, whatever this says. */
  keep?: boolean;
}

/** Named metrics in display order; accuracies and losses print with 4 decimals. */
export type Metrics = Record<string, number>;

const REDRAW_MS = 100;

export class ProgressBar {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly keep: boolean;
  private readonly started: number;
  private lastDraw = -Infinity;

  /** `label` starts every line (e.g. "epoch 3/10"); `total` is the number of samples. */
  constructor(private readonly label: string, private readonly total: number, options: ProgressOptions = {}) {
    this.stream = options.stream ?? defaultStream();
    this.tty = options.tty ?? this.stream.isTTY === true;
    this.now = options.now ?? (() => performance.now());
    this.keep = options.keep ?? true;
    this.started = this.now();
  }

  /** `done` samples so far; redraws on a terminal, does nothing otherwise. */
  update(done: number, metrics: Metrics): void {
    if (!this.tty) return;
    const t = this.now();
    if (t - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = t;
    const seconds = (t - this.started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const left = rate > 0 ? (this.total - done) / rate : NaN;
    const text = `${formatMetrics(metrics)}  ${formatRate(rate)}  ETA ${formatDuration(left)}`;
    this.stream.write(`\r${this.line(done, text)}\x1b[K`);
  }

  /** Ends the epoch: the full bar (terminal; without a line break when not kept, so the
   *  next bar replaces it) or one plain line, with the final metrics. Returns the plain line. */
  finish(done: number, metrics: Metrics, samplesPerSecond?: number): string {
    const seconds = (this.now() - this.started) / 1000;
    const rate = samplesPerSecond ?? (seconds > 0 ? done / seconds : 0);
    const text = `${formatMetrics(metrics)}  ${formatRate(rate)}  ${formatDuration(seconds)}`;
    const plain = `${this.label}  ${done}/${this.total}  ${text}`;
    if (!this.tty) this.stream.write(`${plain}\n`);
    else this.stream.write(`\r${this.line(done, text)}\x1b[K${this.keep ? "\n" : ""}`);
    return plain;
  }

  private line(done: number, text: string): string {
    const count = `${String(done).padStart(String(this.total).length)}/${this.total}`;
    const columns = this.stream.columns ?? 100;
    const width = Math.max(10, Math.min(30, columns - this.label.length - count.length - text.length - 6));
    const filled = this.total > 0 ? Math.round((width * Math.min(done, this.total)) / this.total) : width;
    return `${this.label} ${"█".repeat(filled)}${"░".repeat(width - filled)} ${count}  ${text}`;
  }
}

export function formatMetrics(metrics: Metrics): string {
  return Object.entries(metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join("  ");
}

function formatRate(rate: number): string {
  return `${rate >= 100 ? Math.round(rate) : rate.toFixed(1)} samples/s`;
}

/** 4.2s, 1m05s, -- when unknown */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--";
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const m = Math.floor(seconds / 60);
  return `${m}m${String(Math.floor(seconds - m * 60)).padStart(2, "0")}s`;
}

function defaultStream(): ProgressStream {
  const proc = (globalThis as { process?: { stdout?: ProgressStream } }).process;
  if (proc?.stdout) return proc.stdout;
  return { write: (text: string) => console.log(text.replace(/\n$/, "")) };
}
