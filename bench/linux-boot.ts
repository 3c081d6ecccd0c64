// Linux boot-time benchmark (run through bench/linux-boot.mjs, which bundles this file and
// starts it in a fresh process): process start -> the initramfs banner, split at the
// kernel's first printk ("Linux version": the decompressor is done) and at "Run /init"
// (kernel init is done), with the guest instructions retired at each point.
import { BANNER } from '../guests/linux/initramfs.js';
import { runSession } from '../guests/linux/session.js';

export async function main(outDir: string, accel: 'interp' | 'jit' = 'interp'): Promise<void> {
  const r = await runSession(outDir, undefined, undefined, 'direct', accel);
  console.log(`--accel=${accel}`);
  if (r.marks.length < 3) {
    console.error(`linux-boot: the guest stopped before the banner (${r.reason})`);
    process.exit(1);
  }
  // performance.now() counts from process start.
  console.log(`process start -> images loaded: ${(r.loadedMs / 1000).toFixed(1)} s`);
  let prevMs = r.loadedMs, prevInsns = 0;
  for (const k of r.marks) {
    console.log(`${k.name.padEnd(14)} ${((k.ms - prevMs) / 1000).toFixed(1).padStart(6)} s  ${((k.instructions - prevInsns) / 1e6).toFixed(0).padStart(5)} M instructions`);
    prevMs = k.ms; prevInsns = k.instructions;
  }
  const last = r.marks[r.marks.length - 1];
  console.log(`process start -> "${BANNER}": ${(last.ms / 1000).toFixed(1)} s, ${(last.instructions / 1e6).toFixed(0)} M guest instructions ` +
    `(${(last.instructions / (last.ms - r.loadedMs) / 1000).toFixed(1)} M instructions/s)`);
}
