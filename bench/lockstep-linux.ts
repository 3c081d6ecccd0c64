// `npm run lockstep:linux`: Debian's kernel and the busybox initramfs booted on two boards,
// one on the interpreter and one on the JIT, compared every `every` instructions by the
// pair oracle (machine/lockstep/boards.ts: state records each chunk, all of RAM every few,
// interrupts taken at the same instruction on both) from reset through the banner, a
// command typed at the shell prompt and poweroff. Bundled and started by lockstep-linux.mjs.
import { readFileSync } from 'node:fs';
import { bootRecipe } from '../machine/boot.js';
import '../machine/linux.js';
import { interruptGate, runBoardPair } from '../machine/lockstep/boards.js';
import { Machine } from '../machine/machine.js';
import { BANNER } from '../guests/linux/initramfs.js';

const PROMPT = 'emu:/# ';
const COMMANDS = 'uname -a; poweroff\n';
/** Instructions between progress lines. */
const SLICE = 50e6;

export async function main(outDir: string, every = 1000, max = 6e9): Promise<void> {
  const recipe = bootRecipe({
    kernel: { name: 'vmlinuz', bytes: new Uint8Array(readFileSync(`${outDir}/vmlinuz`)) },
    initrd: { name: 'initrd.img', bytes: new Uint8Array(readFileSync(`${outDir}/initrd.img`)) },
    cmdline: 'console=ttyS0',
  });
  const gates = [interruptGate(), interruptGate()] as const;
  const serial = ['', ''];
  const boards = (['interp', 'jit'] as const).map((accel, i) => {
    const m = new Machine({
      memory: 256 << 20, accel, irqchip: 'user', noReboot: true, deterministic: true, wrapInterrupts: gates[i].wrap,
      onSerial: (b) => { serial[i] += String.fromCharCode(b); },
    });
    m.boot(recipe);
    return m;
  });
  const [a, b] = boards;
  const t0 = performance.now();
  let typed = 0, promptSeen = 0, done = 0, chunks = 0, bannerAt = 0, end = 'max-instructions';
  const secs = (): string => ((performance.now() - t0) / 1000).toFixed(0);
  try {
    while (done < max) {
      const r = runBoardPair(a, b, gates, {
        every,
        maxInstructions: Math.min(SLICE, max - done),
        beforeChunk: () => {
          if (bannerAt === 0 && serial[0].includes(BANNER)) bannerAt = done;
          // Type at each new prompt until the command's output shows (busybox may drop an early line), at
          // most 3 times. Not only at the console's end: kernel lines (the TSC clocksource switch at
          // ~1.29 s) may come after the first prompt, and the guest then idles there for good.
          const at = serial[0].indexOf(PROMPT, promptSeen);
          if (typed < 3 && (at >= 0 || serial[0].endsWith(PROMPT)) && !serial[0].includes('GNU/Linux')) {
            if (at >= 0) promptSeen = at + PROMPT.length;
            typed++;
            for (const m of boards) m.serialInput(new TextEncoder().encode(COMMANDS));
          }
        },
      });
      done += r.instructions;
      chunks += r.chunks;
      end = r.end;
      const last = serial[0].trimEnd().split('\n').pop()?.slice(0, 60) ?? '';
      console.error(`lockstep:linux ${(done / 1e6).toFixed(0)} M instructions compared, ${secs()} s; console: ${JSON.stringify(last)}`);
      if (r.divergence) {
        console.log(r.divergence.report);
        break;
      }
      if (r.end !== 'max-instructions') break;
    }
    const jit = b.backend.counters();
    console.log(`lockstep interp,jit over the Linux boot: ${(done / 1e6).toFixed(0)} M instructions compared in ${secs()} s ` +
      `(${chunks} comparisons, every ${every}), ended by ${end}`);
    console.log(`  banner ${bannerAt > 0 ? `after ${(bannerAt / 1e6).toFixed(0)} M instructions` : 'not seen'}; ` +
      `command output ${serial[0].includes('GNU/Linux') ? 'seen' : 'not seen'}; typed ${typed}x; ` +
      `the two consoles ${serial[0] === serial[1] ? 'are identical' : 'differ'} (${serial[0].length} bytes)`);
    console.log(`  jit: ${jit.jitBlocks} blocks compiled, ${jit.jitSharePct}% of instructions in compiled code`);
    const ok = end.startsWith("the guest's exit") && serial[0] === serial[1] && bannerAt > 0 && serial[0].includes('GNU/Linux');
    process.exitCode = ok ? 0 : 1;
  } finally {
    for (const m of boards) m.destroy();
  }
}
