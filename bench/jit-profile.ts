// Linux boot profile for the JIT (run through bench/jit-profile.mjs): boots Debian's kernel with
// instruction time (--deterministic, so both backends see the same guest) for at most N million
// instructions or to the banner, and prints the wall time, MIPS and the backend's counters
// (compiles, invalidations, compiled share...).
import { readFileSync } from 'node:fs';
import { bootRecipe } from '../machine/boot.js';
import '../machine/linux.js';
import { Machine } from '../machine/machine.js';
import { BANNER } from '../guests/linux/initramfs.js';

export async function main(outDir: string, accel: 'interp' | 'jit', millions: number, threshold?: number): Promise<void> {
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
}
