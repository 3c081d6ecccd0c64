// Linux reads a CD: Debian's cloud kernel with sr_mod, cdrom and isofs from the same package
// (npm run guest:linux-disk) finds emu's ATAPI drive on the IDE secondary master (where
// -cdrom puts it), mounts the ISO 9660 image this test builds (guests/linux/iso9660.ts) from
// /dev/sr0 and reads its files back: a text file byte for byte on the console, a 150 KB
// binary file by size and MD5 against the host's. The drive offers multiword DMA, so libata
// reads through the bus master: a few traps per KB, where PIO would take 256.
// A whole boot (jit, instruction time): npm run test:linux-cdrom (EMU_LINUX_CDROM=1).
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DiskSessionResult } from '../../guests/linux/disk-session.js';
import { buildIso } from '../../guests/linux/iso9660.js';
import { spawnBundled } from '../../guests/linux/session-spawn.js';

const OUT = join(__dirname, '../../guests/linux/out');
const initrd = join(OUT, 'initrd-disk.img');
const enabled = process.env.EMU_LINUX_CDROM === '1';
const missing = !existsSync(initrd) ? 'guests/linux/out/initrd-disk.img (npm run guest:linux-disk)'
  : !readFileSync(initrd).includes('sr_mod.ko') ? 'sr_mod in initrd-disk.img (rebuild it: npm run guest:linux-disk)' : null;
if (enabled && missing) console.log(`linux CD-ROM test skipped: no ${missing}`);

describe.skipIf(!enabled || missing !== null)('Linux mounts an ISO from emu\'s ATAPI CD-ROM (jit, instruction time)', () => {
  it('/dev/sr0 mounts as iso9660; HELLO.TXT reads back exactly, DATA.BIN by size and MD5; the reads went by DMA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-cdrom-linux-'));
    const data = new Uint8Array(150_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 131 + (i >> 9) * 7 + (i >> 17)) & 0xff;
    const hello = 'read from an ISO 9660 image on emu\'s ATAPI CD-ROM\n';
    const iso = join(dir, 'disc.iso');
    writeFileSync(iso, buildIso('EMU_DISC', [{ name: 'HELLO.TXT', data: new TextEncoder().encode(hello) }, { name: 'DATA.BIN', data }]));
    // "CD""-GO" keeps the typed line's echo from looking like its output.
    const commands = [
      'echo "CD""-GO"', 'mount -t iso9660 -o ro /dev/sr0 /mnt', 'ls /mnt', 'cat /mnt/hello.txt',
      'echo "SIZE=$(wc -c < /mnt/data.bin)"', 'md5sum /mnt/data.bin', 'umount /mnt', 'poweroff',
    ].join('; ') + '\n';
    const r = await spawnBundled<DiskSessionResult>('disk-session', 'runDiskSessionCli', [JSON.stringify({
      outDir: OUT, commands, drives: [{ path: iso, interface: 'ide', media: 'cdrom', index: 2 }], accel: 'jit', deterministic: true, startedWhen: 'CD-GO',
    })]);
    const tail = r.serial.slice(-3000);
    const ide = r.io.find((d) => d.name.startsWith('ide'))!.counters;
    const kb = ide.bytesRead / 1024;
    console.log(`linux CD-ROM (jit): ${(r.instructions / 1e6).toFixed(0)} M instructions, ${(r.ms / 1000).toFixed(0)} s; ide: ${ide.traps} traps, ${ide.interrupts} irqs, ${ide.bytesRead} bytes read, ${(ide.traps / kb).toFixed(2)} traps/KB`);
    expect(r.serial, tail).toMatch(/ata2\.00: ATAPI: EMU CD-ROM, 1\.0, max MWDMA2/);
    expect(r.serial, tail).toMatch(/sr 1:0:0:0: \[sr0\]/);
    expect(r.serial, tail).toMatch(/hello\.txt/);
    expect(r.serial, tail).toContain(hello.replace('\n', '\r\n'));
    expect(r.serial, tail).toContain(`SIZE=${data.length}`);
    expect(r.serial, tail).toContain(`${createHash('md5').update(data).digest('hex')}  /mnt/data.bin`);
    expect(r.status, r.reason).toBe(0);
    expect(r.serial).not.toMatch(/Kernel panic|Oops|BUG:|Call Trace|I\/O error|critical medium error/);
    expect(ide.bytesRead).toBeGreaterThanOrEqual(data.length);
    expect(ide.traps / kb).toBeLessThan(20); // DMA: PIO would be 256 data-port reads per KB alone
  }, 60 * 60_000);
});
