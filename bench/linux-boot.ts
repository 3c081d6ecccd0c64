// Linux boot-time benchmark (run through bench/linux-boot.mjs, which bundles this file and
// starts it in a fresh process): process start -> the initramfs banner, split at the
// kernel's first printk ("Linux version": the decompressor is done) and at "Run /init"
// (kernel init is done), with the guest instructions retired at each point.
import { existsSync, readFileSync } from 'node:fs';
import { BANNER } from '../guests/linux/initramfs.js';
import { bootRecipe } from '../machine/boot.js';
import '../machine/linux.js';
import { Machine } from '../machine/machine.js';

export interface Mark { name: string; ms: number; instructions: number }

export async function main(outDir: string, memory = 256 << 20): Promise<void> {
  const kernel = `${outDir}/vmlinuz`, initrd = `${outDir}/initrd.img`;
  if (!existsSync(kernel) || !existsSync(initrd)) {
    console.error(`linux-boot: ${kernel} or ${initrd} is missing; run npm run guest:linux first`);
    process.exit(1);
  }
  const marks: Mark[] = [];
  const wanted = [['decompression', 'Linux version'], ['kernel init', 'Run /init as init process'], ['userspace', BANNER]];
  let line = '';
  const m = new Machine({ memory, accel: 'interp', noReboot: true, onSerial: (b) => {
    if (b !== 10) { line += String.fromCharCode(b); return; }
    const next = wanted[marks.length];
    if (next && line.includes(next[1])) {
      marks.push({ name: next[0], ms: performance.now(), instructions: m.instructions() });
      if (marks.length === wanted.length) m.powerOff(0, 'banner seen');
    }
    line = '';
  } });
  m.boot(bootRecipe({
    kernel: { name: kernel, bytes: new Uint8Array(readFileSync(kernel)) },
    initrd: { name: initrd, bytes: new Uint8Array(readFileSync(initrd)) },
    cmdline: 'console=ttyS0',
  }));
  const loaded = performance.now();
  const exit = await m.run();
  if (marks.length < wanted.length) {
    console.error(`linux-boot: the guest stopped before the banner (${exit.reason})`);
    process.exit(1);
  }
  // performance.now() counts from process start.
  console.log(`process start -> images loaded: ${(loaded / 1000).toFixed(1)} s`);
  let prevMs = loaded, prevInsns = 0;
  for (const k of marks) {
    console.log(`${k.name.padEnd(14)} ${((k.ms - prevMs) / 1000).toFixed(1).padStart(6)} s  ${((k.instructions - prevInsns) / 1e6).toFixed(0).padStart(5)} M instructions`);
    prevMs = k.ms; prevInsns = k.instructions;
  }
  const last = marks[marks.length - 1];
  console.log(`process start -> "${BANNER}": ${(last.ms / 1000).toFixed(1)} s, ${(last.instructions / 1e6).toFixed(0)} M guest instructions ` +
    `(${(last.instructions / (last.ms - loaded) / 1000).toFixed(1)} M instructions/s)`);
}
