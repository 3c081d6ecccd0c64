// The I/O half of the comparison: the same guest workload on an emulated disk (PIIX3 IDE,
// trap-and-emulate) and on a paravirtual one (virtio-blk), in one boot of Debian's kernel.
// Phases per disk, on a fresh ext4: sequential write (dd, conv=fsync), sequential read
// after dropping the page cache (dd), many small files (write, sync, drop caches, read all
// back). For each phase and disk: device traps (port + MMIO accesses) per KB moved,
// interrupts per KB, and MB/s of host wall time; printed side by side and drawn as SVG.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runDiskSession } from '../guests/linux/disk-session.js';
import type { IoDeviceStats } from '../machine/io-devices.js';

const PHASES = ['write', 'read', 'small'] as const;
type Phase = typeof PHASES[number];
const DISKS = [{ dev: 'sda', label: 'IDE (PIIX3)', iface: 'ide' as const, stats: 'ide' }, { dev: 'vda', label: 'virtio-blk', iface: 'virtio' as const, stats: 'virtio-blk' }];

export interface Row { disk: string; phase: Phase; kb: number; traps: number; interrupts: number; ms: number }

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

export function svgChart(rows: Row[]): string {
  const metrics: [string, (r: Row) => number][] = [
    ['traps / KB', (r) => r.traps / r.kb], ['interrupts / KB', (r) => r.interrupts / r.kb], ['MB/s (host wall time)', (r) => r.kb / 1024 / (r.ms / 1000)],
  ];
  const W = 300, H = 220, colors = ['#c0504d', '#4f81bd'];
  let body = '';
  metrics.forEach(([title, f], mi) => {
    const x0 = 20 + mi * (W + 20), max = Math.max(...rows.map(f), 1e-9);
    body += `<text x="${x0 + W / 2}" y="20" text-anchor="middle" font-size="14">${title}</text>`;
    PHASES.forEach((p, pi) => {
      DISKS.forEach((d, di) => {
        const r = rows.find((x) => x.phase === p && x.disk === d.label);
        if (!r) return;
        const v = f(r), h = (v / max) * (H - 70), x = x0 + 15 + pi * 95 + di * 38;
        body += `<rect x="${x}" y="${H - 30 - h}" width="34" height="${h}" fill="${colors[di]}"/>`;
        body += `<text x="${x + 17}" y="${H - 34 - h}" text-anchor="middle" font-size="10">${v < 10 ? v.toFixed(2) : v.toFixed(0)}</text>`;
      });
      body += `<text x="${x0 + 15 + pi * 95 + 36}" y="${H - 14}" text-anchor="middle" font-size="12">${p}</text>`;
    });
  });
  DISKS.forEach((d, di) => { body += `<rect x="${20 + di * 130}" y="${H + 4}" width="12" height="12" fill="${colors[di]}"/><text x="${36 + di * 130}" y="${H + 15}" font-size="12">${d.label}</text>`; });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${3 * (W + 20) + 20}" height="${H + 24}" font-family="sans-serif">${body}</svg>\n`;
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
    console.log(`io-models: Debian's kernel under ${accel}, ${mb} MB sequential write/read and ${files} small files on each disk`);
    const r = await runDiskSession({
      outDir, commands: TYPED, markPrefix: '@@', echo: args.includes('--echo'), accel,
      drives: DISKS.map((d, i) => ({ path: images[i], interface: d.iface })),
    });
    if (r.status !== 0) throw new Error(`the guest did not power off cleanly: ${r.reason}\n${r.serial.slice(-2000)}`);
    const rows: Row[] = [];
    for (const d of DISKS) {
      for (const p of PHASES) {
        const a = r.marks.find((m) => m.line === `@@ ${d.dev} ${p}-start`), b = r.marks.find((m) => m.line === `@@ ${d.dev} ${p}-end`);
        if (!a || !b) throw new Error(`no marks for ${d.dev} ${p}:\n${r.serial.slice(-2000)}`);
        const c0 = counterOf(a.io, d.stats), c1 = counterOf(b.io, d.stats);
        const kb = (c1.bytesRead + c1.bytesWritten - c0.bytesRead - c0.bytesWritten) / 1024;
        rows.push({ disk: d.label, phase: p, kb, traps: c1.traps - c0.traps, interrupts: c1.interrupts - c0.interrupts, ms: b.ms - a.ms });
      }
    }
    const cell = (s: string | number, w = 12): string => String(s).padStart(w);
    console.log(`${'phase'.padEnd(8)}${'metric'.padEnd(16)}${DISKS.map((d) => cell(d.label, 14)).join('')}${cell('IDE/virtio', 12)}`);
    for (const p of PHASES) {
      const [ide, vio] = DISKS.map((d) => rows.find((x) => x.phase === p && x.disk === d.label)!);
      const lines: [string, (x: Row) => number, number][] = [
        ['KB moved', (x) => x.kb, 0], ['traps/KB', (x) => x.traps / x.kb, 3], ['interrupts/KB', (x) => x.interrupts / x.kb, 4], ['MB/s', (x) => x.kb / 1024 / (x.ms / 1000), 2],
      ];
      for (const [name, f, digits] of lines) {
        console.log(`${p.padEnd(8)}${name.padEnd(16)}${cell(f(ide).toFixed(digits), 14)}${cell(f(vio).toFixed(digits), 14)}${cell((f(ide) / f(vio)).toFixed(2), 12)}`);
      }
    }
    mkdirSync(dirname(svg), { recursive: true });
    writeFileSync(svg, svgChart(rows));
    console.log(`chart: ${svg}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
