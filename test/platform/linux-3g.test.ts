// Issue 18 item 1 at the top of the range, to the shell: Debian's kernel with -m 3G (RAM up to
// 0xC0000000, right below the PCI hole) boots under the JIT, reports about 3 GiB in MemTotal, and
// its shell computes and powers off. Long (a whole boot): `npm run test:linux-3g`; skipped in
// `npm test` and where guests/linux/out lacks the kernel.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BANNER } from '../../guests/linux/initramfs.js';
import { spawnSession } from '../../guests/linux/session-spawn.js';

const OUT = join(__dirname, '../../guests/linux/out');
const present = existsSync(join(OUT, 'vmlinuz')) && existsSync(join(OUT, 'initrd.img'));

describe.runIf(present && process.env.EMU_LINUX_3G === '1')('Debian kernel with -m 3G', () => {
  it('reaches the shell, MemTotal about 3 GiB, the shell computes, poweroff ends with status 0', async () => {
    const r = await spawnSession(OUT, 'grep MemTotal /proc/meminfo; echo shell-$((6 * 7)); uname -a; poweroff\n', 'direct', 'jit', 1, false, 3072);
    const { serial } = r;
    expect(serial, serial.slice(-3000)).toContain(BANNER);
    const kb = Number(/MemTotal:\s+(\d+) kB/.exec(serial)?.[1] ?? 0);
    console.log(`linux -m 3G (jit): MemTotal ${kb} kB; ${(r.instructions / 1e6).toFixed(0)} M instructions`);
    expect(kb).toBeGreaterThan(2.8 * 2 ** 20);
    expect(kb).toBeLessThanOrEqual(3 * 2 ** 20);
    expect(serial).toContain('shell-42');
    expect(r.status, r.reason).toBe(0);
    expect(serial).not.toMatch(/Kernel panic|Oops|BUG:|Call Trace/);
  }, 3_600_000);
});
