// The live loss curve (log scale) and, for classifiers, accuracy (0..1, dashed), on a canvas.

export class LossChart {
  private losses: number[] = [];
  private accuracy: { step: number; value: number }[] = [];

  constructor(private readonly canvas: HTMLCanvasElement) { this.draw(); }

  clear(): void { this.losses = []; this.accuracy = []; this.draw(); }

  add(losses: number[], accuracy?: number): void {
    this.losses.push(...losses);
    if (accuracy !== undefined) this.accuracy.push({ step: this.losses.length, value: accuracy });
    this.draw();
  }

  private draw(): void {
    const c = this.canvas, ratio = window.devicePixelRatio || 1;
    const w = c.clientWidth || 400, h = c.clientHeight || 160;
    c.width = w * ratio; c.height = h * ratio;
    const g = c.getContext("2d")!;
    g.scale(ratio, ratio);
    g.clearRect(0, 0, w, h);
    g.strokeStyle = "#ddd"; g.strokeRect(0.5, 0.5, w - 1, h - 1);
    const n = this.losses.length;
    if (n === 0) return;
    const logs = this.losses.map((l) => Math.log10(Math.max(l, 1e-12)));
    const lo = Math.min(...logs), hi = Math.max(...logs);
    const x = (i: number) => 4 + (i / Math.max(n - 1, 1)) * (w - 8);
    const y = (v: number) => 4 + (1 - (v - lo) / (hi - lo || 1)) * (h - 8);
    g.strokeStyle = "#8a3ffc"; g.lineWidth = 1.5; g.beginPath();
    logs.forEach((v, i) => (i ? g.lineTo(x(i), y(v)) : g.moveTo(x(i), y(v))));
    g.stroke();
    if (this.accuracy.length > 0) {
      g.strokeStyle = "#0f7b6c"; g.setLineDash([4, 3]); g.beginPath();
      this.accuracy.forEach((a, i) => {
        const px = x(a.step - 1), py = 4 + (1 - a.value) * (h - 8);
        if (i) g.lineTo(px, py); else g.moveTo(px, py);
      });
      g.stroke(); g.setLineDash([]);
    }
    g.fillStyle = "#555"; g.font = "11px sans-serif";
    g.fillText(`loss ${this.losses[n - 1]!.toPrecision(4)} (log scale)`, 8, 14);
    if (this.accuracy.length > 0) g.fillText(`accuracy ${(this.accuracy.at(-1)!.value * 100).toFixed(1)}% (dashed)`, 8, 28);
  }
}
