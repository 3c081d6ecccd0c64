// Linux's qemu_fw_cfg driver reads emu's fw_cfg device (issue 17): Debian's cloud kernel with
// the disk initramfs (its /init loads qemu_fw_cfg.ko, found through the DSDT's QEMU0002 device),
// booted by the emu command itself with `-fw_cfg name=opt/emu/test,string=...` and
// `-fw_cfg name=opt/emu/blob,file=F`. The guest prints /sys/firmware/qemu_fw_cfg's rev and
// each item's size and raw bytes (od); the bytes must be the host's, byte for byte, and
// etc/e820 the map the board builds. JIT with instruction time (--deterministic), so a loaded
// host cannot starve the guest. A whole boot: behind EMU_LINUX_FWCFG=1 (npm run test:linux-fwcfg).
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliSessionResult } from '../../guests/linux/cli-session.js';
import { spawnBundled } from '../../guests/linux/session-spawn.js';
import { ACPI_NVS_SIZE, ACPI_REGION_SIZE } from '../../machine/acpi.js';
import { E820_ENTRY_SIZE, encodeE820, linuxMemoryMap } from '../../machine/e820.js';

const OUT = join(__dirname, '../../guests/linux/out');
const skip = process.env.EMU_LINUX_FWCFG !== '1' ? 'a whole Linux boot: run npm run test:linux-fwcfg'
  : !existsSync(join(OUT, 'initrd-disk.img')) ? 'no guests/linux/out/initrd-disk.img (npm run guest:linux and npm run guest:linux-disk)' : null;
if (skip) console.log(`linux fw_cfg test skipped: ${skip}`);

const MIB = 128;
const TEXT = 'emu fw_cfg says hello: 42 = 6 x 7 (no NUL at the end)';

/** 5000 bytes that hold every byte value, newlines and NULs among them (an xorshift stream). */
function blobBytes(): Uint8Array {
  const b = new Uint8Array(5000);
  let x = 0x2545f491;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    b[i] = i < 256 ? i : x & 0xff;
  }
  return b;
}

/** The bytes od -An -v -tx1 printed between the output lines `begin` and `end`. */
function odBytes(out: string, begin: string, end: string): Uint8Array {
  const from = out.indexOf(`\n${begin}\r\n`), to = out.indexOf(`\n${end}\r\n`, from + 1);
  if (from < 0 || to < 0) return new Uint8Array(0);
  const hex = out.slice(from + begin.length + 3, to).split(/\s+/).filter((w) => w !== '');
  return Uint8Array.from(hex.map((h) => parseInt(h, 16)));
}

describe.skipIf(skip !== null)('Linux qemu_fw_cfg sysfs (jit, instruction time, through the emu command)', () => {
  it('rev, etc/e820 and the -fw_cfg string and file blobs read back byte for byte', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-fwcfg-'));
    const blob = blobBytes(), blobFile = join(dir, 'blob.bin');
    writeFileSync(blobFile, blob);
    const argv = [
      '--accel=jit', '--deterministic', '-m', `${MIB}M`, '-no-reboot',
      '-kernel', join(OUT, 'vmlinuz'), '-initrd', join(OUT, 'initrd-disk.img'), '-append', 'console=ttyS0 nowatchdog',
      '-fw_cfg', `name=opt/emu/test,string=${TEXT}`, '-fw_cfg', `name=opt/emu/blob,file=${blobFile}`,
    ];
    // The marks are printed as X""-NAME so that the shell's echo of the typed line does not hold them.
    const dump = (n: string, mark: string): string => `echo ${mark}""-BEGIN; od -An -v -tx1 by_name/${n}/raw; echo ${mark}""-END`;
    const commands = [
      'cd /sys/firmware/qemu_fw_cfg', 'echo "REV=$(cat rev)"',
      'for n in opt/emu/test opt/emu/blob etc/e820; do echo "ITEM $n size=$(cat by_name/$n/size)"; done',
      dump('opt/emu/test', 'TEST'), dump('opt/emu/blob', 'BLOB'), dump('etc/e820', 'E820'),
      'poweroff',
    ].join('; ') + '\n';
    const r = await spawnBundled<CliSessionResult>('cli-session', 'runCliSessionCli', [JSON.stringify([argv, commands, 'REV='])]);
    const out = r.stdout, tail = out.slice(-3000);
    console.log(`linux fw_cfg (jit, instruction time): ${(r.ms / 1000).toFixed(0)} s, status ${r.status}`);
    expect(r.stderr, r.stderr).not.toMatch(/^emu: /m);
    expect(out, tail).toMatch(/\nREV=3\r\n/); // FW_CFG_ID: traditional interface + DMA
    const ram = MIB << 20;
    const map = linuxMemoryMap(ram, ram - ACPI_REGION_SIZE, ACPI_REGION_SIZE, ACPI_NVS_SIZE);
    const e820 = new Uint8Array(map.length * E820_ENTRY_SIZE);
    encodeE820(map, new DataView(e820.buffer), 0);
    expect(out, tail).toContain(`\nITEM opt/emu/test size=${TEXT.length}\r\n`);
    expect(out, tail).toContain(`\nITEM opt/emu/blob size=${blob.length}\r\n`);
    expect(out, tail).toContain(`\nITEM etc/e820 size=${e820.length}\r\n`);
    expect(new TextDecoder().decode(odBytes(out, 'TEST-BEGIN', 'TEST-END'))).toBe(TEXT);
    expect(Buffer.from(odBytes(out, 'BLOB-BEGIN', 'BLOB-END')).equals(Buffer.from(blob)), tail).toBe(true);
    expect([...odBytes(out, 'E820-BEGIN', 'E820-END')]).toEqual([...e820]);
    expect(out).not.toMatch(/Kernel panic|Oops|BUG:|Call Trace/);
    expect(r.status, tail).toBe(0);
  }, 3_600_000);
});
