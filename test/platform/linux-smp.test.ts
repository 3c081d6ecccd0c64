// Issue 17's proof on a real guest: Debian's kernel boots under the JIT with several vCPUs,
// brings every AP up through INIT-SIPI-SIPI, keeps the TSC as its clock (the vCPUs' TSCs
// agree), and runs a parallel workload with one busybox loop pinned to each CPU by
// `taskset`, which /proc/stat and the emu counters both show, then powers off (the APs
// stopped by IPI, ACPI S5). Time is instructions retired (--deterministic), so the run does
// not depend on the host's load. One boot in `npm test` (-smp 2; EMU_LINUX_SMP=2,4 picks
// others); `npm run test:linux-smp` boots -smp 2 and -smp 4.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BANNER } from '../../guests/linux/initramfs.js';
import { PROMPT, type SessionResult } from '../../guests/linux/session.js';
import { spawnSession } from '../../guests/linux/session-spawn.js';

const OUT = join(__dirname, '../../guests/linux/out');
const present = existsSync(join(OUT, 'vmlinuz')) && existsSync(join(OUT, 'initrd.img'));
const COUNTS = (process.env.EMU_LINUX_SMP ?? '2').split(',').filter(Boolean).map(Number);
/** Shell loop iterations per worker: a few M guest instructions each, many scheduler ticks. */
const LOOPS = 2000;

/** Typed at the prompt, one short line each (busybox's line editor cuts long ones). */
function commands(n: number): string {
  const cpus = Array.from({ length: n }, (_, i) => i).join(' ');
  return [
    'uname -a; nproc; grep -c ^processor /proc/cpuinfo',
    "grep -E '^(processor|apicid|physical id|siblings|core id|cpu cores)' /proc/cpuinfo",
    'echo =before; grep ^cpu /proc/stat',
    `for c in ${cpus}; do taskset -c $c sh -c 'i=0; while [ $i -lt ${LOOPS} ]; do i=$((i+1)); done; awk "{print \\"worker-on\\", \\$39}" /proc/self/stat' & done; wait`,
    'echo =after; grep ^cpu /proc/stat; echo =end',
    "dmesg | grep -i -E 'tsc|clocksource|smpboot|smp:|x86: Booting'",
    'poweroff',
    '',
  ].join('\n');
}

/** Per-CPU busy jiffies (user + nice + system) from `grep ^cpu /proc/stat` lines. */
function busy(text: string): number[] {
  const out: number[] = [];
  for (const m of text.matchAll(/^cpu(\d+) (\d+) (\d+) (\d+)/gm)) out[Number(m[1])] = Number(m[2]) + Number(m[3]) + Number(m[4]);
  return out;
}

/** What one -smp `n` session must show (exported for a rerun against a saved result). */
export function checkSession(r: SessionResult, n: number): void {
  const banner = r.marks.find((k) => k.name === 'userspace');
  console.log(`linux -smp ${n} (jit): banner ${banner ? `after ${(banner.ms / 1000).toFixed(1)} s and ${(banner.instructions / 1e6).toFixed(0)} M instructions` : 'not seen'}; ` +
    `instructions per vCPU ${r.vcpus.map((v) => `${(v.instructions / 1e6).toFixed(0)} M`).join(', ')}; exit: ${r.reason}`);
  const { serial } = r;
  expect(serial, serial.slice(-3000)).toContain(BANNER);
  // poweroff stops the APs (REBOOT_VECTOR IPI) and ends on the ACPI S5 write, whichever vCPU writes it.
  expect([r.status, r.reason], serial.slice(-3000)).toEqual([0, 'the guest powered off (ACPI S5)']);
  expect(serial).toMatch(/reboot: Power down/);
  // The shell's output, without the kernel's console messages that land between its lines.
  const shell = serial.slice(serial.indexOf(PROMPT)).replace(/\r/g, '');
  const after = shell.split('\n').filter((l) => !/^\[\s*\d+\.\d+\] /.test(l)).join('\n');
  // nproc, then the processor count in /proc/cpuinfo
  expect(after).toMatch(new RegExp(`x86_64 GNU/Linux\\n${n}\\n${n}\\n`));
  const field = (name: string) => [...after.matchAll(new RegExp(`^${name}\\s*: (\\d+)$`, 'gm'))].map((m) => Number(m[1]));
  const ids = Array.from({ length: n }, (_, i) => i);
  expect(field('processor')).toEqual(ids);
  expect(field('apicid')).toEqual(ids);
  // -smp N: one single-core package per vCPU (QEMU's sockets=N)
  expect(field('physical id')).toEqual(ids);
  expect(field('siblings')).toEqual(Array(n).fill(1));
  expect(field('cpu cores')).toEqual(Array(n).fill(1));
  // Every pinned worker ran on its CPU (field 39 of /proc/self/stat: the CPU it last ran on).
  expect([...after.matchAll(/^worker-on (\d+)$/gm)].map((m) => Number(m[1])).sort()).toEqual(ids);
  // ... and every CPU's busy time grew while they ran.
  const at = (mark: string) => after.indexOf(`\n${mark}\n`); // the echoed line, not the command typed
  const before = busy(after.slice(at('=before'), at('=after')));
  const later = busy(after.slice(at('=after'), at('=end')));
  expect(before.length).toBe(n);
  for (const i of ids) expect(later[i] - before[i], `cpu${i} busy jiffies`).toBeGreaterThan(0);
  // The emu side: every vCPU came up once and retired work.
  expect(r.vcpus.map((v) => v.sipis > 0)).toEqual(ids.map((i) => i > 0));
  for (const v of r.vcpus) expect(v.instructions, `vCPU ${v.vcpu}`).toBeGreaterThan(1e6);
  // The APs' TSCs count with the BSP's: no warp, the TSC stays the clocksource.
  expect(serial).toMatch(new RegExp(`smp: Brought up 1 node, ${n} CPUs`));
  expect(serial).not.toMatch(/TSC warp|Marking TSC unstable|tsc: .*unstable/i);
  expect(serial).toMatch(/clocksource: Switched to clocksource tsc\r?$/m);
  expect(serial).not.toMatch(/Kernel panic|Oops|BUG:|Call Trace/);
}

for (const n of COUNTS) describe.skipIf(!present)(`Debian kernel on emu, -smp ${n} (jit)`, () => {
  it(`lists ${n} CPUs, nproc says ${n}, a loop pinned to each CPU by taskset runs there, the TSCs agree`, async () => {
    checkSession(await spawnSession(OUT, commands(n), 'direct', 'jit', n, true), n);
  }, 30 * 60_000);
});
