// Linux's IO-APIC timer check (check_timer) on a host that starves the emulator, made
// reproducible (run through bench/linux-timer-stall.mjs). The clock is instruction time
// that jumps `stallMs` after every `runMs` of it, as wall time jumps for a process that runs
// for a slice and then waits for a CPU. The PIT raises one IRQ 0 for all the periods that
// came due in a jump (devices/pit8254.ts coalesces them), so while the kernel waits 40e9/HZ
// TSC cycles for more than four jiffies, fewer ticks arrive the longer the stalls are; too
// few, and it panics "IO-APIC + timer doesn't work!". The run stops at the check's outcome.
import { readFileSync } from 'node:fs';
import { InstructionClock } from '../devices/clock.js';
import { bootRecipe } from '../machine/boot.js';
import '../machine/linux.js';
import { Machine } from '../machine/machine.js';
import { parseMmuModel } from '../mmu/model.js';

/** Instruction time (1 ns each) plus `stallNs` after every `runNs` of it. */
class StallingClock extends InstructionClock {
  constructor(retired: () => number, readonly runNs: number, readonly stallNs: number) { super(retired); }
  override now(): number {
    const t = super.now();
    return this.runNs === 0 ? t : t + Math.floor(t / this.runNs) * this.stallNs;
  }
}

export async function main(argv: string[]): Promise<void> {
  const [model = 'direct', accel = 'jit', runMs = '2', stallMs = '100'] = argv;
  const mmu = parseMmuModel(model);
  if (mmu === null || (accel !== 'jit' && accel !== 'interp') || !(Number(runMs) >= 0) || !(Number(stallMs) >= 0)) {
    console.error('usage: node bench/linux-timer-stall.mjs [model] [interp|jit] [run ms] [stall ms]');
    process.exit(2);
  }
  let line = '', m: Machine | null = null;
  const clock = new StallingClock(() => (m ? m.instructions() : 0), Number(runMs) * 1e6, Number(stallMs) * 1e6);
  const t0 = Date.now();
  m = new Machine({ memory: 256 << 20, accel, mmu, clock, noReboot: true, onSerial: (b) => {
    if (b !== 10) { if (b !== 13) line += String.fromCharCode(b); return; }
    if (/TIMER|timer|IO-APIC|8259|panic|Calibrating delay/.test(line)) console.log(`${(m!.instructions() / 1e6).toFixed(0)} M: ${line}`);
    if (/Calibrating delay|Kernel panic/.test(line)) m!.powerOff(0, line.includes('panic') ? 'panicked' : 'the timer check passed');
    line = '';
  } });
  m.boot(bootRecipe({
    kernel: { name: 'vmlinuz', bytes: new Uint8Array(readFileSync('guests/linux/out/vmlinuz')) },
    initrd: { name: 'initrd.img', bytes: new Uint8Array(readFileSync('guests/linux/out/initrd.img')) },
    cmdline: 'console=ttyS0',
  }));
  const exit = await m.run();
  console.log(`--mmu=${model} ${accel}, ${runMs} ms run / ${stallMs} ms stall: ${exit.reason}, ${(m.instructions() / 1e6).toFixed(0)} M instructions, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  m.destroy();
}
