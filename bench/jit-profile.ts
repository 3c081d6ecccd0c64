// Linux boot profile for the JIT (run through bench/jit-profile.mjs): boots Debian's kernel with
// instruction time (--deterministic, so both backends see the same guest) for at most N million
// instructions or to the banner, and prints the wall time, MIPS and the backend's counters
// (compiles, invalidations, compiled share...) and, under jit, where the instructions ran. With `steps` > 0 (jit only) it also prints the
// top `steps` instruction forms compiled code ran through the interpreter (bench/step-forms.ts).
import { readFileSync } from 'node:fs';
import { bootRecipe } from '../machine/boot.js';
import '../machine/linux.js';
import { Machine } from '../machine/machine.js';
import { BANNER } from '../guests/linux/initramfs.js';
import { JitBackend } from '../cpu/jit/backend.js';
import { fullTable } from '../cpu/compose.js';
import { StepForms } from './step-forms.js';

export async function main(outDir: string, accel: 'interp' | 'jit', millions: number, threshold?: number, steps = 0): Promise<void> {
  const kernel = `${outDir}/vmlinuz`, initrd = `${outDir}/initrd.img`;
  let serial = '';
  const m = new Machine({ memory: 256 << 20, accel, deterministic: true, jit: threshold ? { threshold } : undefined, noReboot: true, onSerial: (b) => {
    serial += String.fromCharCode(b);
    if (b === 10 && serial.includes(BANNER)) m.powerOff(0, 'banner seen');
  } });
  m.boot(bootRecipe({
    kernel: { name: kernel, bytes: new Uint8Array(readFileSync(kernel)) },
    initrd: { name: initrd, bytes: new Uint8Array(readFileSync(initrd)) },
    cmdline: 'console=ttyS0',
  }));
  const jit = m.backend instanceof JitBackend ? m.backend : null, forms = new StepForms();
  if (steps > 0 && jit !== null) jit.jit.onStep = (b, i, slow) => { forms.count(b, i, slow, jit.cpu.codeSize); };
  if (process.env.JIT_TOP && jit !== null) jit.jit.top = new Map();
  const limit = millions * 1e6, t0 = performance.now();
  const exitP = m.run();
  let lastNote = t0;
  await new Promise<void>((resolve) => {
    const t = setInterval(() => {
      if (performance.now() - lastNote > 30_000) {
        // A long run: where the guest is (instructions, the console's last line) on stderr.
        lastNote = performance.now();
        const tail = serial.trimEnd().split('\n').pop() ?? '';
        console.error(`${((lastNote - t0) / 1000).toFixed(0)} s: ${(m.instructions() / 1e6).toFixed(0)} M instructions; ${tail.slice(0, 100)}`);
      }
      if (m.instructions() >= limit) m.powerOff(0, 'instruction limit');
      if (m.exited !== null) { clearInterval(t); resolve(); }
    }, 20);
    void exitP.then(() => { clearInterval(t); resolve(); });
  });
  const exit = await exitP;
  const ms = performance.now() - t0, n = m.instructions();
  const lines = serial.trimEnd().split('\n');
  console.log(`--accel=${accel} ${exit.reason}: ${(ms / 1000).toFixed(1)} s, ${(n / 1e6).toFixed(0)} M instructions, ${(n / ms / 1000).toFixed(1)} MIPS`);
  console.log(`last console line: ${lines[lines.length - 1]}`);
  const c = m.backend.counters();
  console.log(Object.entries(c).map(([k, v]) => `${k}=${v}`).join(' '));
  if (steps > 0 && jit !== null) {
    const insns = Number(c.jitInsns ?? 0);
    console.log(`instructions stepped in compiled code: ${forms.total} of ${insns} run there (${(100 * forms.total / insns).toFixed(2)}%); top ${steps} forms:`);
    for (const [form, k] of forms.forms(fullTable(), (p) => jit.cpu.mem.read8(p)).slice(0, steps)) {
      console.log(`  ${(100 * k / forms.total).toFixed(2).padStart(6)}%  ${String(k).padStart(10)}  ${form}`);
    }
  }
  if (accel === 'jit') console.log(breakdown(c, n));
  if (jit?.jit.top) {
    const top = [...jit.jit.top.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.JIT_TOP));
    for (const [b, k] of top) console.log(`${(k / 1e6).toFixed(2)} M\n${jit.jit.dump(b).split('\n').slice(0, 80).join('\n').split(' block 1 ')[0].split('\n').filter((l) => /^  0x|^jit:/.test(l)).join('\n')}`);
  }
}

/** Where the instructions ran under jit, as shares of all instructions retired (cpu/jit/backend.ts counters). */
function breakdown(c: Record<string, number>, all: number): string {
  const cold = c.jitColdInsns - c.jitWarmupInsns;
  const rows: [string, number][] = [
    ['compiled, inline', c.jitInsns - c.jitSteps],
    ['compiled, stepped through the interpreter', c.jitSteps],
    ['interpreted: blocks below the threshold, never hot', cold],
    ['interpreted: warm-up of blocks that became hot', c.jitWarmupInsns],
    ['interpreted: hot, waiting in the compile queue', c.jitQueuedInsns],
    ['interpreted: declined, not worth compiling (too few inline)', c.jitUnworthyInsns],
    ['interpreted: declined, recompile cap (code rewritten)', c.jitCapInsns],
    ['interpreted outside blocks: budget ends, single steps', c.jitOutsideInsns],
  ];
  const pct = (v: number): string => `${((100 * v) / all).toFixed(1).padStart(5)} %`;
  return [
    `where the ${(all / 1e6).toFixed(0)} M instructions ran:`,
    ...rows.map(([k, v]) => `  ${k.padEnd(62)} ${(v / 1e6).toFixed(1).padStart(8)} M ${pct(v)}`),
    `  (not instructions: ${(c.charged / 1e6).toFixed(1)} M budget units charged for REP string elements, deliveries, decoding)`,
    `regions compiled ${c.jitRegions}, dropped ${c.jitRegionDrops} (a block invalidated), evicted blocks ${c.jitEvictions}, ` +
      `block invalidations ${c.blockInvalidations}, cache clears ${c.blockCacheClears}; ` +
      `${(c.jitInsns / Math.max(1, c.jitRuns)).toFixed(1)} instructions per entry (${c.jitRuns} entries, ${c.jitChains} chained hops); compile ${(c.jitCompileMs / 1000).toFixed(1)} s`,
  ].join('\n');
}
