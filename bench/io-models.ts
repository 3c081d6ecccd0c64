// The I/O half of the comparison: the same guest workload on an emulated disk (PIIX3 IDE,
// trap-and-emulate) and on a paravirtual one (virtio-blk), in one boot of Debian's kernel.
// Phases per disk, on a fresh ext4: sequential write (dd, conv=fsync), sequential read
// after dropping the page cache (dd), many small files (write, sync, drop caches, read all
// back). For each phase and disk: device traps (port + MMIO accesses) per KB moved,
// interrupts per KB, MB/s of host wall time, and what does not depend on the host's load:
// MB per second of this process's CPU time and guest instructions per KB. Printed side by
// side (each phase's figures also as it ends) and drawn as SVG small multiples.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runDiskSession, type SessionMark } from '../guests/linux/disk-session.js';
import type { IoDeviceStats } from '../machine/io-devices.js';

const PHASES = ['write', 'read', 'small'] as const;
type Phase = typeof PHASES[number];
const DISKS = [{ dev: 'sda', label: 'IDE (PIIX3)', iface: 'ide' as const, stats: 'ide' }, { dev: 'vda', label: 'virtio-blk', iface: 'virtio' as const, stats: 'virtio-blk' }];

export interface Row { disk: string; phase: Phase; kb: number; traps: number; interrupts: number; ms: number; cpuMs: number; instructions: number }

/** The table's lines: name, value of a row, digits. */
const METRICS: [string, (x: Row) => number, number][] = [
  ['KB moved', (x) => x.kb, 0], ['traps/KB', (x) => x.traps / x.kb, 3], ['interrupts/KB', (x) => x.interrupts / x.kb, 4],
  ['MB/s (wall)', (x) => x.kb / 1024 / (x.ms / 1000), 2], ['MB/CPU-s', (x) => x.kb / 1024 / (x.cpuMs / 1000), 2],
  ['guest insns/KB', (x) => x.instructions / x.kb, 0],
];

/** The commands typed at the prompt; "@""@" keeps the typed line itself from looking like a mark. */
function workload(mb: number, files: number): string {
  const mark = (d: string, what: string): string => `echo "@""@ ${d} ${what}"`;
  const drop = 'sync; echo 3 > /proc/sys/vm/drop_caches';
  const perDisk = DISKS.map(({ dev: d }) => [
    `mount /dev/${d} /mnt`, drop,
    mark(d, 'write-start'), `dd if=/dev/zero of=/mnt/big bs=1M count=${mb} conv=fsync 2>/dev/null`, mark(d, 'write-end'),
    drop,
    mark(d, 'read-start'), 'dd if=/mnt/big of=/dev/null bs=1M 2>/dev/null', mark(d, 'read-end'),
    mark(d, 'small-start'), 'mkdir /mnt/s', `i=0; while [ $i -lt ${files} ]; do echo file $i > /mnt/s/f$i; i=$((i+1)); done`, drop,
    'cat /mnt/s/* | wc -l', mark(d, 'small-end'),
    'umount /mnt',
  ].join('; '));
  return perDisk.join('\n') + '\n';
}

/** The line typed at the prompt: busybox's line editor cuts long lines, so the workload goes in as a script on the IDE disk's ext4. */
const TYPED = 'mount /dev/sda /mnt && cp /mnt/w.sh /w.sh; umount /mnt; sh /w.sh; poweroff\n';

function counterOf(io: IoDeviceStats[], prefix: string) {
  return io.find((s) => s.name.startsWith(prefix))!.counters;
}

/** Small multiples: a row of panels per metric, a panel per phase, each on its own scale, IDE and virtio-blk side by side with their ratio. */
export function svgChart(rows: Row[], title: string): string {
  const metrics: [string, (r: Row) => number][] = [
    ['traps per KB', (r) => r.traps / r.kb], ['interrupts per KB', (r) => r.interrupts / r.kb],
    ['MB/s (host wall time)', (r) => r.kb / 1024 / (r.ms / 1000)], ['MB per host CPU-second', (r) => r.kb / 1024 / (r.cpuMs / 1000)],
  ];
  const PW = 200, PH = 120, LEFT = 190, TOP = 50, colors = ['#c0504d', '#4f81bd'];
  const fmt = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toPrecision(3));
  let body = `<text x="10" y="20" font-size="15" font-weight="bold">${title}</text>`;
  PHASES.forEach((p, pi) => { body += `<text x="${LEFT + pi * PW + PW / 2}" y="${TOP - 8}" text-anchor="middle" font-size="13">${p === 'small' ? 'small files' : `sequential ${p}`}</text>`; });
  metrics.forEach(([name, f], mi) => {
    const y0 = TOP + mi * PH;
    body += `<text x="${LEFT - 10}" y="${y0 + PH / 2}" text-anchor="end" font-size="13">${name}</text>`;
    PHASES.forEach((p, pi) => {
      const x0 = LEFT + pi * PW;
      const vals = DISKS.map((d) => { const r = rows.find((x) => x.phase === p && x.disk === d.label); return r ? f(r) : NaN; });
      const max = Math.max(...vals.filter(Number.isFinite), 1e-12);
      body += `<rect x="${x0 + 10}" y="${y0 + 4}" width="${PW - 20}" height="${PH - 12}" fill="none" stroke="#ddd"/>`;
      vals.forEach((v, di) => {
        if (!Number.isFinite(v)) return;
        const h = (v / max) * (PH - 48), x = x0 + 45 + di * 60;
        body += `<rect x="${x}" y="${y0 + PH - 12 - h}" width="50" height="${h}" fill="${colors[di]}"/>`;
        body += `<text x="${x + 25}" y="${y0 + PH - 16 - h}" text-anchor="middle" font-size="11">${fmt(v)}</text>`;
      });
      if (vals.every((v) => Number.isFinite(v) && v > 0)) body += `<text x="${x0 + PW - 14}" y="${y0 + 18}" text-anchor="end" font-size="10" fill="#666">IDE/virtio ${fmt(vals[0] / vals[1])}x</text>`;
    });
  });
  const ly = TOP + metrics.length * PH + 14;
  DISKS.forEach((d, di) => { body += `<rect x="${LEFT + di * 140}" y="${ly}" width="12" height="12" fill="${colors[di]}"/><text x="${LEFT + 16 + di * 140}" y="${ly + 11}" font-size="12">${d.label}</text>`; });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${LEFT + 3 * PW + 10}" height="${ly + 24}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>${body}</svg>\n`;
}

/** One phase's row from its start and end marks. */
function rowOf(d: typeof DISKS[number], p: Phase, a: SessionMark, b: SessionMark): Row {
  const c0 = counterOf(a.io, d.stats), c1 = counterOf(b.io, d.stats);
  const kb = (c1.bytesRead + c1.bytesWritten - c0.bytesRead - c0.bytesWritten) / 1024;
  return { disk: d.label, phase: p, kb, traps: c1.traps - c0.traps, interrupts: c1.interrupts - c0.interrupts, ms: b.ms - a.ms, cpuMs: b.cpuMs - a.cpuMs, instructions: b.instructions - a.instructions };
}

export async function main(outDir: string, args: string[]): Promise<void> {
  const opt = (name: string, dflt: number): number => Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt);
  const mb = opt('mb', 64), files = opt('files', 200);
  const accel = args.find((a) => a.startsWith('--accel='))?.slice(8) === 'jit' ? 'jit' : 'interp';
  const svg = args.find((a) => a.startsWith('--svg='))?.slice(6) ?? join(outDir, '../../../test-artifacts/io-models.svg');
  const dir = mkdtempSync(join(tmpdir(), 'emu-io-models-'));
  try {
    const images = DISKS.map((d) => join(dir, `${d.dev}.img`));
    const root = join(dir, 'root');
    mkdirSync(root);
    writeFileSync(join(root, 'w.sh'), workload(mb, files));
    for (const img of images) execFileSync('mkfs.ext4', ['-q', '-F', '-d', root, img, `${mb + 32}M`], { stdio: 'ignore' });
    const title = `Debian's kernel under ${accel}: ${mb} MB sequential write/read and ${files} small files on each disk`;
    console.log(`io-models: ${title}`);
    const starts = new Map<string, SessionMark>();
    const r = await runDiskSession({
      outDir, commands: TYPED, markPrefix: '@@', echo: args.includes('--echo'), accel,
      drives: DISKS.map((d, i) => ({ path: images[i], interface: d.iface })),
      onMark: (mk) => { // each phase's figures as it ends: a run cut short still says what it measured
        const [, dev, what] = mk.line.split(' '), [p, edge] = what.split('-');
        if (edge === 'start') { starts.set(`${dev} ${p}`, mk); return; }
        const d = DISKS.find((x) => x.dev === dev)!, a = starts.get(`${dev} ${p}`);
        if (!a) return;
        const row = rowOf(d, p as Phase, a, mk);
        console.log(`  ${d.label} ${p}: ${METRICS.map(([n, f, digits]) => `${n} ${f(row).toFixed(digits)}`).join(', ')}`);
      },
    });
    if (r.status !== 0) throw new Error(`the guest did not power off cleanly: ${r.reason}\n${r.serial.slice(-2000)}`);
    const rows: Row[] = [];
    for (const d of DISKS) {
      for (const p of PHASES) {
        const a = r.marks.find((m) => m.line === `@@ ${d.dev} ${p}-start`), b = r.marks.find((m) => m.line === `@@ ${d.dev} ${p}-end`);
        if (!a || !b) throw new Error(`no marks for ${d.dev} ${p}:\n${r.serial.slice(-2000)}`);
        rows.push(rowOf(d, p, a, b));
      }
    }
    const cell = (s: string | number, w = 12): string => String(s).padStart(w);
    console.log(`${'phase'.padEnd(8)}${'metric'.padEnd(16)}${DISKS.map((d) => cell(d.label, 14)).join('')}${cell('IDE/virtio', 12)}`);
    for (const p of PHASES) {
      const [ide, vio] = DISKS.map((d) => rows.find((x) => x.phase === p && x.disk === d.label)!);
      for (const [name, f, digits] of METRICS) {
        console.log(`${p.padEnd(8)}${name.padEnd(16)}${cell(f(ide).toFixed(digits), 14)}${cell(f(vio).toFixed(digits), 14)}${cell((f(ide) / f(vio)).toFixed(2), 12)}`);
      }
    }
    mkdirSync(dirname(svg), { recursive: true });
    writeFileSync(svg, svgChart(rows, title));
    console.log(`chart: ${svg}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
