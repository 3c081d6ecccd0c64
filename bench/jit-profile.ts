// Linux boot profile for the JIT (run through bench/jit-profile.mjs): boots Debian's kernel with
// instruction time (--deterministic, so both backends see the same guest) for at most N million
// instructions or to the banner, and prints the wall time, MIPS and the backend's counters
// (compiles, invalidations, compiled share...). With `steps` > 0 (jit only) it also prints the
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
}
