// The live panel: turns two worker samples a second apart into rates
// (instructions, interrupts, I/O by device, backend counters) and draws them.

import { RateChart, niceCeiling } from './chart.js';
import type { Sample } from './protocol.js';

/** 12345678 -> "12.3 M". */
export function formatCount(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(a >= 1e10 ? 1 : 2)} G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(a >= 1e7 ? 1 : 2)} M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)} k`;
  return String(Math.round(v));
}

/** 75000 -> "1:15", 3723000 -> "1:02:03". */
export function formatDuration(ms: number): string {
  const t = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = String(t % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

/** "tlbMisses" / "tlb_misses" -> "TLB misses". */
export function counterLabel(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_.-]+/g, ' ')
    .toLowerCase()
    .split(' ')
    .filter(Boolean)
    .map((w) => (ACRONYMS.has(w) ? w.toUpperCase() : w));
  const s = words.join(' ').replace(/^vcpu(\d+)/, 'vCPU $1'); // vcpu1.shadow.syncs: vCPU 1's share
  return s.startsWith('vCPU') ? s : s.charAt(0).toUpperCase() + s.slice(1);
}

const ACRONYMS = new Set(['tlb', 'io', 'irq', 'irqs', 'mmio', 'pio', 'nmi', 'jit', 'hlt', 'smc', 'pf', 'msr', 'cpuid', 'tsc', 'pt', 'cr3', 'ept']);

function el(id: string): HTMLElement {
  const e = document.getElementById(id);
  if (!e) throw new Error(`#${id} missing from index.html`);
  return e;
}

function row(table: HTMLTableElement, cells: { text: string; cls?: string; kind?: string }[]): void {
  const tr = table.insertRow();
  for (const c of cells) {
    const td = tr.insertCell();
    td.textContent = c.text;
    if (c.cls) td.className = c.cls;
    if (c.kind) {
      const k = document.createElement('span');
      k.className = 'kind';
      k.textContent = c.kind;
      td.append(k);
    }
  }
}

export class LivePanel {
  private last: Sample | null = null;
  private readonly chart = new RateChart(el('chart') as HTMLCanvasElement);
  /** The latest instructions-per-second figure (tests and the bench read it). */
  ips = 0;

  /** What is running (shown in the Machine card). */
  setMachine(guest: string, memoryMiB: number): void {
    el('k-guest').textContent = guest;
    el('k-memory').textContent = memoryMiB >= 1024 ? `${memoryMiB / 1024} GiB` : `${memoryMiB} MiB`;
  }

  /** Forget the previous sample (a new machine starts its counters from zero). */
  restart(): void {
    this.last = null;
    this.chart.clear();
  }

  update(s: Sample): void {
    const prev = this.last;
    this.last = s;
    el('m-total').textContent = formatCount(s.instructions);
    el('m-uptime').textContent = formatDuration(s.uptime);
    el('k-backend').textContent = s.backend;
    el('k-mmu').textContent = s.mmu;
    el('k-resets').textContent = String(s.resets);
    if (!prev || s.t <= prev.t) return;
    const dt = (s.t - prev.t) / 1000;
    const rate = (now: number, before: number): number => Math.max(0, now - before) / dt;

    this.ips = rate(s.instructions, prev.instructions);
    el('m-ips').textContent = formatCount(this.ips);
    el('m-irq').textContent = formatCount(rate(s.interrupts, prev.interrupts));
    const ioTotal = (x: Sample): number => x.io.reduce((a, r) => a + r.reads + r.writes, 0);
    el('m-io').textContent = formatCount(rate(ioTotal(s), ioTotal(prev)));
    this.chart.push(this.ips);
    el('chart-max').textContent = `scale ${formatCount(niceCeiling(this.chart.max))}/s`;

    this.drawIo(s, prev, rate);
    this.drawCounters(s, prev, rate);
  }

  private drawIo(s: Sample, prev: Sample, rate: (a: number, b: number) => number): void {
    const table = el('io') as HTMLTableElement;
    table.replaceChildren();
    const before = new Map(prev.io.map((r) => [r.name, r.reads + r.writes]));
    const rows = s.io
      .map((r) => ({ name: r.name, kind: r.kind, total: r.reads + r.writes, perSec: rate(r.reads + r.writes, before.get(r.name) ?? 0) }))
      .filter((r) => r.total > 0)
      .sort((a, b) => b.perSec - a.perSec || b.total - a.total);
    if (rows.length === 0) { row(table, [{ text: 'no device traffic yet', cls: 'empty' }]); return; }
    for (const r of rows) {
      row(table, [
        { text: r.name, kind: r.kind },
        { text: formatCount(r.total), cls: 'num' },
        { text: formatCount(r.perSec), cls: 'num rate' },
      ]);
    }
  }

  private drawCounters(s: Sample, prev: Sample, rate: (a: number, b: number) => number): void {
    const table = el('counters') as HTMLTableElement;
    table.replaceChildren();
    const keys = Object.keys(s.counters).filter((k) => k !== 'instructions');
    if (keys.length === 0) {
      row(table, [{ text: s.state === 'idle' ? 'no machine running' : 'this backend reports no counters', cls: 'empty' }]);
      return;
    }
    for (const k of keys) {
      const v = s.counters[k];
      row(table, [
        { text: counterLabel(k) },
        { text: formatCount(v), cls: 'num' },
        { text: formatCount(rate(v, prev.counters[k] ?? 0)), cls: 'num rate' },
      ]);
    }
  }
}
