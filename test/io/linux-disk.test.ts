// Issue 14's proof: Debian's cloud kernel, with its virtio_blk and ata_piix modules from the
// same package (npm run guest:linux-disk), mounts an ext4 image on virtio-blk and another on
// IDE, writes a file to each, powers off; the files are then read out of the image files on
// the host with debugfs. Needs guests/linux/out/initrd-disk.img and e2fsprogs (mkfs.ext4,
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

describe.skipIf(missing !== null)('Linux on emu\'s disks (interp)', () => {
  it('mounts ext4 on virtio-blk and on IDE, writes a file to each, powers off; debugfs finds both files in the images', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-disk-'));
    const vimg = join(dir, 'virtio.img'), iimg = join(dir, 'ide.img');
    for (const img of [vimg, iimg]) execFileSync(MKFS!, ['-q', '-F', img, '16M'], { stdio: 'ignore' });
    const commands = [
      'mount /dev/vda /mnt && echo written-through-virtio-blk > /mnt/virtio.txt && umount /mnt && echo VDA-OK',
      'mount /dev/sda /mnt && echo written-through-ide > /mnt/ide.txt && umount /mnt && echo SDA-OK',
      'poweroff',
    ].join('; ') + '\n';
    const r = await spawnBundled<DiskSessionResult>('disk-session', 'runDiskSessionCli', [JSON.stringify({
      outDir: OUT, commands, drives: [{ path: vimg, interface: 'virtio' }, { path: iimg, interface: 'ide' }],
    })]);
    const tail = r.serial.slice(-3000);
    console.log(`linux disks (interp): ${(r.instructions / 1e6).toFixed(0)} M instructions, ${(r.ms / 1000).toFixed(0)} s; ` +
      r.io.map((d) => `${d.name}: ${d.counters.traps} traps, ${d.counters.interrupts} irqs, ${d.counters.bytesRead + d.counters.bytesWritten} bytes, ${d.counters.flushes} flushes`).join('; '));
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
    const [ide, blk] = [r.io.find((d) => d.name.startsWith('ide'))!, r.io.find((d) => d.name.startsWith('virtio-blk'))!];
    expect(blk.counters.bytesWritten).toBeGreaterThan(0);
    expect(ide.counters.bytesWritten).toBeGreaterThan(0);
    expect(blk.counters.flushes + ide.counters.flushes).toBeGreaterThan(0);
  }, 30 * 60_000);
});
