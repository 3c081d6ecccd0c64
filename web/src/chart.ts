// A small canvas line chart of instructions per second over the last minute:
// a filled area, a few gridlines, crisp on high-DPI screens.

const HISTORY = 60;
const GRID_LINES = 3;
const MIN_SPAN = 20;

export class RateChart {
  private readonly values: number[] = [];
  private readonly ctx: CanvasRenderingContext2D;

  constructor(private readonly canvas: HTMLCanvasElement, private readonly color = '#4cc2ff') {
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('canvas 2D context unavailable');
    this.ctx = ctx;
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  push(value: number): void {
    this.values.push(Math.max(0, value));
    if (this.values.length > HISTORY) this.values.shift();
    this.draw();
  }

  clear(): void {
    this.values.length = 0;
    this.draw();
  }

  /** The largest value shown (the chart's top is a rounded-up version of it). */
  get max(): number {
    return this.values.reduce((a, b) => Math.max(a, b), 0);
  }

  private draw(): void {
    const { canvas, ctx } = this;
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    if (w === 0 || h === 0) return;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);

    const top = niceCeiling(this.max);
    const pad = 2;
    const plotH = h - pad * 2;
    ctx.strokeStyle = '#222c38';
    ctx.lineWidth = 1;
    for (let i = 0; i <= GRID_LINES; i++) {
      const y = Math.round(pad + (plotH * i) / GRID_LINES) + 0.5;
      ctx.beginPath();
      ctx.moveTo(0, y);
      ctx.lineTo(w, y);
      ctx.stroke();
    }
    const n = this.values.length;
    if (n < 2) return;
    // Fills from the left (at least MIN_SPAN samples wide, so the first seconds are legible), then scrolls.
    const step = w / (Math.max(n, MIN_SPAN) - 1);
    const x0 = 0;
    const yOf = (v: number): number => pad + plotH - (top > 0 ? (v / top) * plotH : 0);

    ctx.beginPath();
    ctx.moveTo(x0, yOf(this.values[0]));
    for (let i = 1; i < n; i++) ctx.lineTo(x0 + i * step, yOf(this.values[i]));
    ctx.strokeStyle = this.color;
    ctx.lineWidth = 2;
    ctx.lineJoin = 'round';
    ctx.stroke();

    ctx.lineTo(x0 + (n - 1) * step, h);
    ctx.lineTo(x0, h);
    ctx.closePath();
    const fill = ctx.createLinearGradient(0, 0, 0, h);
    fill.addColorStop(0, 'rgba(76, 194, 255, 0.35)');
    fill.addColorStop(1, 'rgba(76, 194, 255, 0.02)');
    ctx.fillStyle = fill;
    ctx.fill();
  }
}

/** 1, 2 or 5 times a power of ten, at or above v. */
export function niceCeiling(v: number): number {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
