// Issue 8's proof: Debian's stock kernel boots under the interpreter on emu's PC to the
// busybox shell with nothing but console=ttyS0, answers commands over the serial console,
// and `poweroff` ends the machine with status 0. Runs whenever guests/linux/out holds the
// kernel and initrd (`npm run guest:linux`; .ci/run fetches them), skipped otherwise. The boot
// runs bundled in a child process (guests/linux/session.ts), at the CLI's speed.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BANNER } from '../../guests/linux/initramfs.js';
import { PROMPT } from '../../guests/linux/session.js';
import { spawnSession } from '../../guests/linux/session-spawn.js';
import { defaultMmuModel } from '../../mmu/model.js';

const OUT = join(__dirname, '../../guests/linux/out');
const KERNEL = join(OUT, 'vmlinuz'), INITRD = join(OUT, 'initrd.img');
const COMMANDS = 'uname -a; cat /proc/cpuinfo; cat /proc/interrupts; ls /sys/bus/pci/devices; poweroff\n';
const present = existsSync(KERNEL) && existsSync(INITRD);
// npm run test:matrix sets the memory model (EMU_TEST_MMU), boots under its fastest backend only
// (EMU_TEST_LINUX_ACCEL=jit) and with instruction time (EMU_TEST_DETERMINISTIC=1: a loaded host
// cannot starve the guest's timers); EMU_TEST_LINUX_LIMIT_S is the boot's time limit.
const ACCELS = (process.env.EMU_TEST_LINUX_ACCEL ?? 'interp,jit').split(',') as ('interp' | 'jit')[];
for (const a of ACCELS) if (a !== 'interp' && a !== 'jit') throw new Error(`EMU_TEST_LINUX_ACCEL=${a}: not interp or jit`);
const DETERMINISTIC = process.env.EMU_TEST_DETERMINISTIC === '1';

for (const accel of ACCELS) describe.skipIf(!present)(`Debian kernel on emu (${accel})`, () => {
  it('boots to the shell with console=ttyS0 only, shows APIC timer and IO-APIC interrupts counting, powers off with status 0', async () => {
    const r = await spawnSession(OUT, COMMANDS, defaultMmuModel(), accel, 1, DETERMINISTIC);
    const { serial } = r;
    const banner = r.marks.find((k) => k.name === 'userspace');
    console.log(`linux (${accel}, --mmu=${defaultMmuModel()}${DETERMINISTIC ? ', instruction time' : ''}): banner ${banner ? `after ${(banner.ms / 1000).toFixed(1)} s and ${(banner.instructions / 1e6).toFixed(0)} M guest instructions` : 'not seen'}; ` +
      `with the commands and poweroff ${(r.instructions / 1e6).toFixed(0)} M instructions; exit: ${r.reason}`);
    const exit = { status: r.status, reason: r.reason };
    expect(serial, serial.slice(-3000)).toContain(BANNER);
    expect(exit.status, exit.reason).toBe(0);
    expect(exit.reason).toContain('ACPI S5');
    const after = serial.slice(serial.indexOf(PROMPT)).replace(/\r/g, ''); // the tty sends CR LF
    // uname -a
    expect(after).toMatch(/Linux \S+ 6\.\d+\.\d+\S* #1 SMP .* x86_64/);
    // /proc/cpuinfo: one CPU with the features the kernel found in CPUID
    expect(after).toMatch(/^processor\s*: 0$/m);
    expect(after).not.toMatch(/^processor\s*: 1$/m);
    expect(after).toMatch(/^vendor_id\s*: GenuineIntel$/m);
    expect(after).toMatch(/^model name\s*: emu virtual x86-64 CPU$/m);
    const flags = /^flags\s*: (.*)$/m.exec(after)?.[1].split(' ') ?? [];
    for (const f of ['fpu', 'tsc', 'msr', 'pae', 'apic', 'pge', 'cmov', 'pat', 'sse', 'sse2', 'syscall', 'nx', 'lm', 'sse4_2', 'tsc_deadline_timer']) {
      expect(flags, `flag ${f}`).toContain(f);
    }
    // /proc/interrupts: the PIT through IO-APIC pin 2, the UART on pin 4, the local APIC timer counting
    const timer = /^\s*0:\s+(\d+)\s+IO-APIC\s+2-edge\s+timer/m.exec(after);
    const loc = /^\s*LOC:\s+(\d+)/m.exec(after);
    const uart = /^\s*4:\s+(\d+)\s+IO-APIC\s+4-edge\s+ttyS0/m.exec(after);
    expect(timer, 'IRQ 0 line').not.toBeNull();
    expect(Number(timer![1])).toBeGreaterThan(0);
    expect(Number(loc?.[1] ?? 0), 'LOC count').toBeGreaterThan(100);
    expect(Number(uart?.[1] ?? 0), 'ttyS0 count').toBeGreaterThan(0);
    // ls /sys/bus/pci/devices: the host bridge and the ISA bridge
    expect(after).toMatch(/0000:00:00\.0\s+0000:00:01\.0/);
    expect(after).toMatch(/reboot: Power down/);
    expect(serial).not.toMatch(/Kernel panic|Oops|BUG:|Call Trace/);
    // Host time paced by instructions (devices/clock.ts PacedClock): the kernel's quick PIT
    // calibration of the TSC works, as on hardware (issue 18 item 5; it fell back to the HPET).
    if (!DETERMINISTIC) expect(serial).toMatch(/tsc: Fast TSC calibration using PIT/);
  }, Number(process.env.EMU_TEST_LINUX_LIMIT_S ?? 1200) * 1000);
});
