// Issue 8's proof: Debian's stock kernel boots under the interpreter on emu's PC to the
// busybox shell with nothing but console=ttyS0, answers commands over the serial console,
// and `poweroff` ends the machine with status 0. Needs guests/linux/out (npm run guest:linux);
// set EMU_LINUX_BOOT=1 to run it (off until the interpreter has the x87/SSE the kernel uses).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BANNER } from '../../guests/linux/initramfs.js';
import { bootRecipe } from '../../machine/boot.js';
import '../../machine/linux.js';
import { Machine } from '../../machine/machine.js';

const OUT = join(__dirname, '../../guests/linux/out');
const KERNEL = join(OUT, 'vmlinuz'), INITRD = join(OUT, 'initrd.img');
const PROMPT = 'emu:/# ';
const COMMANDS = 'uname -a; cat /proc/cpuinfo; cat /proc/interrupts; ls /sys/bus/pci/devices; poweroff\n';
const enabled = process.env.EMU_LINUX_BOOT === '1' && existsSync(KERNEL) && existsSync(INITRD);

describe.skipIf(!enabled)('Debian kernel on emu (interp)', () => {
  it('boots to the shell with console=ttyS0 only, shows APIC timer and IO-APIC interrupts counting, powers off with status 0', async () => {
    let serial = '';
    let typed = false;
    const m = new Machine({ memory: 256 << 20, accel: 'interp', noReboot: true, onSerial: (b) => {
      serial += String.fromCharCode(b);
      if (!typed && serial.endsWith(PROMPT)) {
        typed = true;
        m.serialInput(new TextEncoder().encode(COMMANDS));
      }
    } });
    m.boot(bootRecipe({
      kernel: { name: KERNEL, bytes: new Uint8Array(readFileSync(KERNEL)) },
      initrd: { name: INITRD, bytes: new Uint8Array(readFileSync(INITRD)) },
      cmdline: 'console=ttyS0',
    }));
    const t0 = performance.now();
    const exit = await m.run();
    const secs = (performance.now() - t0) / 1000;
    console.log(`linux boot + commands: ${secs.toFixed(1)} s, ${m.instructions()} guest instructions, exit: ${exit.reason}`);
    expect(serial).toContain(BANNER);
    expect(exit.status).toBe(0);
    const after = serial.slice(serial.indexOf(PROMPT));
    expect(after).toMatch(/Linux \S+ 6\.\d+\.\d+\S* #1 SMP .* x86_64/);
    expect(after).toMatch(/processor\s*: 0/);
    expect(after).toMatch(/flags\s*:.* apic /);
    const timer = /^\s*0:\s+(\d+)\s+IO-APIC\s+2-edge\s+timer/m.exec(after);
    const loc = /^LOC:\s+(\d+)/m.exec(after);
    const uart = /^\s*4:\s+(\d+)\s+IO-APIC\s+4-edge\s+ttyS0/m.exec(after);
    expect(timer && Number(timer[1])).toBeGreaterThan(0);
    expect(loc && Number(loc[1])).toBeGreaterThan(0);
    expect(uart && Number(uart[1])).toBeGreaterThan(0);
    expect(after).toContain('0000:00:00.0');
    expect(after).toContain('0000:00:01.0');
    expect(after).toMatch(/reboot: Power down/);
  }, 30 * 60_000);
});
