// One boot of Debian's kernel under the interpreter, driven like a person at the serial
// console: phase marks (first printk, "Run /init", the banner) with the guest instructions
// retired at each, commands typed at the shell prompt, the transcript and the exit.
// The boot test and bench/linux-boot.mjs bundle this file with esbuild and run it in a
// child process (`runSessionCli`): bundled, the interpreter runs several times faster than
// under vitest's per-file TypeScript transform.
import { existsSync, readFileSync } from 'node:fs';
import { bootRecipe } from '../../machine/boot.js';
import '../../machine/linux.js';
import { Machine } from '../../machine/machine.js';
import { parseMmuModel, type MmuModelName } from '../../mmu/model.js';
import { BANNER } from './initramfs.js';

export const PROMPT = 'emu:/# ';
/** A line that ends the session as `poweroff` would (commands can `echo` it instead of powering off). */
export const END_MARK = 'emu-session-end';

export interface PhaseMark { name: string; ms: number; instructions: number }

export interface SessionResult {
  serial: string;
  status: number;
  reason: string;
  /** performance.now() (ms since process start) when the images were loaded. */
  loadedMs: number;
  marks: PhaseMark[];
  instructions: number;
  /** The backend's counters at the end (the memory model's among them). */
  counters: Record<string, number>;
  /** Per-vCPU counters at the end (instructions, halts, IPIs, INIT/SIPI). */
  vcpus: ReturnType<Machine['vcpuCounters']>;
}

const PHASES: [string, string][] = [['decompression', 'Linux version'], ['kernel init', 'Run /init as init process'], ['userspace', BANNER]];

/**
 * Boot `outDir`/vmlinuz with `outDir`/initrd.img and console=ttyS0. With `commands`, type them
 * at the prompt (again at a new prompt if busybox's shell dropped them, up to 3 times, until
 * `doneWhen` shows in the output); without, stop at the banner.
 */
export async function runSession(outDir: string, commands?: string, doneWhen = 'x86_64 GNU/Linux', mmu: MmuModelName = 'direct', accel: 'interp' | 'jit' = 'interp', smp = 1, deterministic = false, memoryMiB = 256): Promise<SessionResult> {
  const kernel = `${outDir}/vmlinuz`, initrd = `${outDir}/initrd.img`;
  let serial = '', line = '', typed = 0;
  const marks: PhaseMark[] = [];
  const echo = typeof process !== 'undefined' && process.env.EMU_SESSION_ECHO === '1'; // watch a long run: the console on stderr
  const m = new Machine({ memory: memoryMiB * 2 ** 20, accel, mmu, smp, deterministic, noReboot: true, onSerial: (b) => {
    serial += String.fromCharCode(b);
    if (echo) process.stderr.write(String.fromCharCode(b));
    if (b === 10) {
      const next = PHASES[marks.length];
      if (next && line.includes(next[1])) {
        marks.push({ name: next[0], ms: performance.now(), instructions: m.instructions() });
        if (marks.length === PHASES.length && commands === undefined) m.powerOff(0, 'banner seen');
      }
      if (line === END_MARK) m.powerOff(0, 'end mark seen');
      line = '';
    } else if (b !== 13) line += String.fromCharCode(b);
    if (commands !== undefined && typed < 3 && serial.endsWith(PROMPT) && !serial.includes(doneWhen)) {
      typed++;
      m.serialInput(new TextEncoder().encode(commands));
    }
  } });
  m.boot(bootRecipe({
    kernel: { name: kernel, bytes: new Uint8Array(readFileSync(kernel)) },
    initrd: { name: initrd, bytes: new Uint8Array(readFileSync(initrd)) },
    cmdline: 'console=ttyS0',
  }));
  const loadedMs = performance.now();
  const exit = await m.run();
  return { serial, status: exit.status, reason: exit.reason, loadedMs, marks, instructions: m.instructions(), counters: m.backend.counters(), vcpus: m.vcpuCounters() };
}

/**
 * Child-process entry: argv = outDir [commands [mmu model [interp|jit [vCPUs [det [RAM in MiB]]]]]] (an empty commands
 * stops at the banner; det: time by instructions retired, as --deterministic); prints the SessionResult as JSON on the last line.
 */
export async function runSessionCli(argv: string[]): Promise<void> {
  const [outDir, commands, model, accel, smp, det, mib] = argv;
  const mmu = parseMmuModel(model || 'direct');
  if (mmu === null) { console.error(`unknown memory model ${model}`); process.exit(1); }
  if (!existsSync(`${outDir}/vmlinuz`) || !existsSync(`${outDir}/initrd.img`)) {
    console.error(`${outDir}: vmlinuz or initrd.img is missing; run npm run guest:linux first`);
    process.exit(1);
  }
  const r = await runSession(outDir, commands || undefined, undefined, mmu, accel === 'jit' ? 'jit' : 'interp', smp ? Number(smp) : 1, det === 'det', mib ? Number(mib) : 256);
  process.stdout.write(`\n${JSON.stringify(r)}\n`);
  process.exit(0);
}
