// Issue 14's proof: Debian's cloud kernel, with its virtio_blk and ata_piix modules from the
// same package (npm run guest:linux-disk), mounts an ext4 image on virtio-blk and another on
// IDE, writes a file to each, powers off; the files are then read out of the image files on
// the host with debugfs. The same boot has a virtio-rng (the guest reads /dev/hwrng) and a
// virtio console (the guest writes to /dev/hvc0, the host answers a line it reads back), and
// the virtio devices interrupt through MSI-X (/proc/interrupts says PCI-MSI). With
// EMU_TEST_LINUX_INTX=1 (npm run test:linux-intx) it boots again with pci=nomsi: the same
// work through INTx and the IOAPIC. Needs guests/linux/out/initrd-disk.img and e2fsprogs (mkfs.ext4,
// debugfs); skipped, saying which is missing, otherwise. Runs bundled in a child process.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DiskSessionResult } from '../../guests/linux/disk-session.js';
import { spawnBundled } from '../../guests/linux/session-spawn.js';

const OUT = join(__dirname, '../../guests/linux/out');
const tool = (name: string): string | null => {
  for (const dir of ['/usr/sbin', '/sbin', '/usr/bin', '/bin']) if (existsSync(join(dir, name))) return join(dir, name);
  return null;
};
const MKFS = tool('mkfs.ext4'), DEBUGFS = tool('debugfs');
const missing = !existsSync(join(OUT, 'initrd-disk.img')) ? 'guests/linux/out/initrd-disk.img (npm run guest:linux-disk)'
  : !MKFS || !DEBUGFS ? 'mkfs.ext4/debugfs (apt-get install e2fsprogs)' : null;
if (missing) console.log(`linux disk test skipped: no ${missing}`);

interface Variant { name: string; cmdline?: string; msi: boolean }
const variants: Variant[] = [{ name: 'MSI-X', msi: true }];
if (process.env.EMU_TEST_LINUX_INTX === '1') variants.push({ name: 'INTx (pci=nomsi)', cmdline: 'pci=nomsi', msi: false });

describe.skipIf(missing !== null)('Linux on emu\'s disks and virtio devices (interp)', () => {
  it.each(variants)('$name: ext4 on virtio-blk and on IDE (debugfs finds the files), /dev/hwrng, /dev/hvc0 both ways', async (v) => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-disk-'));
    const vimg = join(dir, 'virtio.img'), iimg = join(dir, 'ide.img');
    for (const img of [vimg, iimg]) execFileSync(MKFS!, ['-q', '-F', img, '16M'], { stdio: 'ignore' });
    const commands = [
      'mount /dev/vda /mnt && echo written-through-virtio-blk > /mnt/virtio.txt && umount /mnt && echo VDA-OK',
      'mount /dev/sda /mnt && echo written-through-ide > /mnt/ide.txt && umount /mnt && echo SDA-OK',
      'grep -E "virtio|PCI-MSI" /proc/interrupts',
      'echo RNG=$(head -c 4096 /dev/hwrng | wc -c)',
      // fd 3 keeps hvc0 open between the write and the read, so the host's line is not lost.
      'exec 3<>/dev/hvc0', 'echo hello-from-guest >&3', 'head -n1 <&3 >/tmp/in', 'echo "HVC[$(cat /tmp/in)]"',
      'poweroff',
    ].join('; ') + '\n';
    const r = await spawnBundled<DiskSessionResult>('disk-session', 'runDiskSessionCli', [JSON.stringify({
      outDir: OUT, commands, drives: [{ path: vimg, interface: 'virtio' }, { path: iimg, interface: 'ide' }],
      deterministic: true, virtioRng: true, virtioConsole: { replies: [{ when: 'hello-from-guest', send: 'ping-from-host\n' }] }, cmdline: v.cmdline,
    })]);
    const tail = r.serial.slice(-3000);
    console.log(`linux disks, ${v.name} (interp): ${(r.instructions / 1e6).toFixed(0)} M instructions, ${(r.ms / 1000).toFixed(0)} s; ` +
      r.io.map((d) => `${d.name}: ${d.counters.traps} traps, ${d.counters.interrupts} irqs (${d.counters.msi} MSI-X), ${d.counters.bytesRead + d.counters.bytesWritten} bytes, ${d.counters.flushes} flushes`).join('; '));
    expect(r.serial, tail).toMatch(/virtio_blk virtio\d+: \[vda\] 32768 512-byte logical blocks/);
    expect(r.serial, tail).toMatch(/ata1\.00: ATA-6: EMU HARDDISK/);
    expect(r.serial, tail).toMatch(/sd 0:0:0:0: \[sda\] 32768 512-byte logical blocks/);
    expect(r.serial, tail).toContain('VDA-OK');
    expect(r.serial, tail).toContain('SDA-OK');
    expect(r.status, r.reason).toBe(0);
    expect(r.serial).not.toMatch(/Kernel panic|Oops|BUG:|Call Trace|I\/O error|EXT4-fs error/);
    const cat = (img: string, file: string): string => spawnSync(DEBUGFS!, ['-R', `cat /${file}`, img], { encoding: 'utf8' }).stdout;
    expect(cat(vimg, 'virtio.txt')).toBe('written-through-virtio-blk\n');
    expect(cat(iimg, 'ide.txt')).toBe('written-through-ide\n');
    const dev = (prefix: string) => r.io.find((d) => d.name.startsWith(prefix))!.counters;
    const [ide, blk, rng, hvc] = [dev('ide'), dev('virtio-blk'), dev('virtio-rng'), dev('virtio-console')];
    expect(blk.bytesWritten).toBeGreaterThan(0);
    expect(ide.bytesWritten).toBeGreaterThan(0);
    expect(blk.flushes + ide.flushes).toBeGreaterThan(0);

    // virtio-rng: 4096 bytes read from /dev/hwrng, all of them through the device.
    expect(r.serial, tail).toContain('RNG=4096');
    expect(rng.bytesRead).toBeGreaterThanOrEqual(4096);
    // virtio console: the guest's line reached the host; the host's line reached the guest.
    expect(r.console).toContain('hello-from-guest');
    expect(r.serial, tail).toContain('HVC[ping-from-host]');
    expect(hvc.bytesRead).toBeGreaterThanOrEqual('ping-from-host\n'.length);

    // Interrupts: per-queue MSI-X vectors, or the PCI INTx lines through the IOAPIC.
    const lines = r.serial.split('\n').filter((l) => /^\s*\d+:.*virtio/.test(l));
    if (v.msi) {
      expect(lines.filter((l) => /PCI-MSI/.test(l) && /virtio\d+-(req\.0|requests|input|output|config)/.test(l)).length, lines.join('\n')).toBeGreaterThanOrEqual(4);
      for (const c of [blk, rng, hvc]) expect(c.msi).toBe(c.interrupts);
      expect(blk.msi).toBeGreaterThan(0);
    } else {
      expect(lines.some((l) => /IO-APIC/.test(l)), lines.join('\n')).toBe(true);
      expect(lines.some((l) => /PCI-MSI/.test(l)), lines.join('\n')).toBe(false);
      for (const c of [blk, rng, hvc]) expect(c.msi).toBe(0);
    }
    expect(blk.interrupts).toBeGreaterThan(0);
    expect(rng.interrupts).toBeGreaterThan(0);
  }, 30 * 60_000);
});
