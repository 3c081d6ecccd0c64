// The memory models side by side (run through bench/mmu-models.mjs, which bundles this
// file): tinyos's page-table workload (aspace, on the interpreter) and the Linux boot to the
// initramfs banner or its first --linux-insns (on the JIT, with instruction time), each under
// --mmu=direct, shadow, nested and nested-2m, in one run. Prints TLB misses, memory references per miss, traps per
// 1,000 instructions and CPU time (tinyos: the best of three interleaved passes; Linux: one
// boot each, in this process), and draws the three as an SVG chart.
import { readFileSync, writeFileSync } from 'node:fs';
import { BANNER } from '../guests/linux/initramfs.js';
import '../machine/linux.js';
import { bootRecipe } from '../machine/boot.js';
import { Machine } from '../machine/machine.js';
import { MMU_MODELS, type MmuModelName } from '../mmu/model.js';

const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

export interface Row {
  workload: string;
  model: MmuModelName;
  instructions: number;
  misses: number;
  refs: number;
  /** What a hypervisor would take an exit for: shadow page faults and PT write traps; EPT violations. */
  traps: number;
  ms: number;
  detail: string;
}

/** A model's counters for a stretch of the run (after minus before). */
function delta(after: Record<string, number>, before: Record<string, number>, model: string, name: string): number {
  return (after[`${model}.${name}`] ?? 0) - (before[`${model}.${name}`] ?? 0);
}

function rowOf(workload: string, model: MmuModelName, instructions: number, ms: number, a: Record<string, number>, b: Record<string, number>): Row {
  const d = (n: string): number => delta(a, b, model, n);
  const traps = model === 'shadow' ? d('syncs') + d('ptWriteTraps') : model === 'direct' ? 0 : d('eptViolations') + d('eptMmioExits');
  const detail = model === 'shadow'
    ? `${d('syncs')} syncs, ${d('ptWriteTraps')} PT write traps, ${d('cr3Hits')}/${d('cr3Hits') + d('cr3Misses')} CR3 loads hit, ${a['shadow.pagesInUse']} shadow pages`
    : model === 'direct' ? '' : `${d('eptViolations')} EPT violations, ${a[`${model}.eptPages`]} EPT pages, ${d('refsSavedBy2m')} refs saved by 2 MiB`;
  return { workload, model, instructions, misses: d('tlbMisses'), refs: d('refs'), traps, ms, detail };
}

const PROMPT = 'tinyos> ';

/** tinyos booted (untimed), then `command` timed from typing it to the next prompt. */
function tinyos(model: MmuModelName, command: string): Row {
  let out = '';
  const m = new Machine({ memory: 64 << 20, accel: 'interp', mmu: model, noReboot: true, deterministic: true, onSerial: (b) => { out += String.fromCharCode(b); } });
  try {
    m.boot(bootRecipe({ kernel: { name: 'tinyos.elf', bytes: readFileSync('guests/tinyos/tinyos.elf') } }));
    const until = (n: number): void => {
      const end = Date.now() + 600_000;
      while (out.split(PROMPT).length - 1 < n) {
        if (m.exited || Date.now() > end) throw new Error(`tinyos under --mmu=${model} stopped: ${out.slice(-500)}`);
        m.runSteps(1);
      }
    };
    until(1);
    const before = m.backend.counters(), i0 = m.instructions(), t0 = cpuMs();
    m.serialInput(Buffer.from(`${command}\r`, 'latin1'));
    until(2);
    const ms = cpuMs() - t0;
    if (!out.includes('every page showed the frame its PTE names')) throw new Error(`tinyos ${command} under --mmu=${model}: ${out.slice(-500)}`);
    return rowOf(`tinyos ${command}`, model, m.instructions() - i0, ms, m.backend.counters(), before);
  } finally {
    m.destroy();
  }
}

/**
 * Debian's kernel under the JIT (the fastest in-process backend; the model sees the same TLB
 * misses as under interp) with instruction time, so every model runs the same instructions:
 * to the initramfs banner, or its first `limit` instructions.
 */
async function linux(model: MmuModelName, outDir: string, limit: number): Promise<Row> {
  let line = '', banner = false;
  const m = new Machine({ memory: 256 << 20, accel: 'jit', mmu: model, deterministic: true, noReboot: true, onSerial: (b) => {
    if (b !== 10) { if (b !== 13) line += String.fromCharCode(b); return; }
    if (line.includes(BANNER)) banner = true;
    line = '';
  } });
  try {
    m.boot(bootRecipe({
      kernel: { name: 'vmlinuz', bytes: new Uint8Array(readFileSync(`${outDir}/vmlinuz`)) },
      initrd: { name: 'initrd.img', bytes: new Uint8Array(readFileSync(`${outDir}/initrd.img`)) },
      cmdline: 'console=ttyS0',
    }));
    const t0 = cpuMs();
    for (let n = 0; !banner && !m.exited && m.instructions() < limit; n++) {
      m.runSteps(1);
      if (n % 64 === 0) await new Promise((r) => setImmediate(r)); // let asynchronous compiles land
    }
    const ms = cpuMs() - t0;
    if (m.exited) throw new Error(`linux under --mmu=${model} stopped: ${m.exited.reason}`);
    const what = banner ? 'linux boot (jit)' : `linux ${(limit / 1e6).toFixed(0)}M (jit)`;
    return rowOf(what, model, m.instructions(), ms, m.backend.counters(), {});
  } finally {
    m.destroy();
  }
}

const fmt = (v: number, d = 0): string => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

export function table(rows: Row[]): string {
  const lines = [
    'workload                 model       instructions  TLB misses  refs/miss  traps/1k insns   CPU ms  vs direct',
  ];
  for (const r of rows) {
    const base = rows.find((q) => q.workload === r.workload && q.model === 'direct');
    lines.push(`${r.workload.padEnd(24)} ${r.model.padEnd(10)} ${fmt(r.instructions).padStart(13)} ${fmt(r.misses).padStart(11)} ` +
      `${fmt(r.misses ? r.refs / r.misses : 0, 2).padStart(10)} ${fmt(r.instructions ? (r.traps * 1000) / r.instructions : 0, 3).padStart(15)} ` +
      `${fmt(r.ms).padStart(8)} ${base ? `${(r.ms / base.ms).toFixed(2)}x`.padStart(10) : ''}${r.detail ? `\n${' '.repeat(36)}${r.detail}` : ''}`);
  }
  return lines.join('\n');
}

const COLORS: Record<MmuModelName, string> = { direct: '#4e79a7', shadow: '#f28e2b', nested: '#59a14f', 'nested-2m': '#b07aa1' };

/** Three panels (refs per miss, traps per 1,000 instructions, CPU time vs direct), one group of bars per workload. */
export function chart(rows: Row[]): string {
  const workloads = [...new Set(rows.map((r) => r.workload))];
  const metrics: [string, (r: Row) => number][] = [
    ['memory references per TLB miss', (r) => (r.misses ? r.refs / r.misses : 0)],
    ['traps per 1,000 instructions', (r) => (r.instructions ? (r.traps * 1000) / r.instructions : 0)],
    ['CPU time relative to direct', (r) => r.ms / (rows.find((q) => q.workload === r.workload && q.model === 'direct')?.ms ?? r.ms)],
  ];
  const W = 300, H = 220, PAD = 40, BAR = 18, GAP = 24;
  const parts: string[] = [];
  metrics.forEach(([title, value], p) => {
    const x0 = p * (W + 20) + 10;
    const max = Math.max(1e-9, ...rows.map(value));
    parts.push(`<text x="${x0 + W / 2}" y="18" text-anchor="middle" font-size="13">${title}</text>`);
    parts.push(`<line x1="${x0 + PAD}" y1="${H - PAD}" x2="${x0 + W}" y2="${H - PAD}" stroke="#888"/>`);
    let x = x0 + PAD + 8;
    for (const w of workloads) {
      const group = rows.filter((r) => r.workload === w);
      group.forEach((r, i) => {
        const v = value(r), h = ((H - PAD - 40) * v) / max;
        const bx = x + i * BAR;
        parts.push(`<rect x="${bx}" y="${H - PAD - h}" width="${BAR - 3}" height="${h}" fill="${COLORS[r.model]}"><title>${r.model}: ${v.toFixed(2)}</title></rect>`);
        parts.push(`<text x="${bx + (BAR - 3) / 2}" y="${H - PAD - h - 3}" text-anchor="middle" font-size="9">${v < 10 ? v.toFixed(1) : v.toFixed(0)}</text>`);
      });
      parts.push(`<text x="${x + (group.length * BAR) / 2}" y="${H - PAD + 14}" text-anchor="middle" font-size="10">${w.split(' ')[0]}</text>`);
      x += group.length * BAR + GAP;
    }
  });
  MMU_MODELS.forEach((m, i) => {
    parts.push(`<rect x="${10 + i * 110}" y="${H - 12}" width="10" height="10" fill="${COLORS[m]}"/><text x="${24 + i * 110}" y="${H - 3}" font-size="11">${m}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${3 * (W + 20)}" height="${H}" font-family="sans-serif">\n${parts.join('\n')}\n</svg>\n`;
}

/** `linuxDir` null: the Linux rows are left out, for the reason `noLinux` gives. */
export async function main(opts: { linuxDir: string | null; noLinux: string; linuxLimit: number; svg: string; command: string }): Promise<void> {
  const rows: Row[] = [];
  // The tinyos workload three times over, the models interleaved (V8 warms up on the first pass): the fastest pass counts.
  const best = new Map<MmuModelName, Row>();
  for (let pass = 0; pass < 3; pass++) {
    for (const model of MMU_MODELS) {
      const r = tinyos(model, opts.command), b = best.get(model);
      if (!b || r.ms < b.ms) best.set(model, r);
    }
  }
  rows.push(...best.values());
  if (opts.linuxDir) for (const model of MMU_MODELS) rows.push(await linux(model, opts.linuxDir, opts.linuxLimit));
  else console.log(`(the Linux boot is left out: ${opts.noLinux})`);
  console.log('tinyos: interp, the best of three passes; Linux: jit with instruction time, one boot each (to the banner or --linux-insns); all in one run');
  console.log('traps: shadow syncs + PT write traps (shadow), EPT violations + MMIO exits (nested); CPU ms: this process');
  console.log(table(rows));
  writeFileSync(opts.svg, chart(rows));
  console.log(`chart: ${opts.svg}`);
}
