// Bad Linux images through the emu command (cli/main.ts main(), in-process): a file that is
// not a bzImage, a truncated kernel, a truncated initrd (bare cpio or gzip), an initrd too
// large for the memory given -> one line naming the file and the problem, status 1.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { emu } from '../cli/run-main.js';
import { writeCpio } from '../../guests/linux/cpio.js';

const dir = mkdtempSync(join(tmpdir(), 'emu-linux-cli-'));

/** A bzImage with a valid setup header (protocol 2.15, 64-bit entry) and `payload` bytes of protected-mode kernel. */
function bzImage(payload: number): Uint8Array {
  const setupSects = 4;
  const b = new Uint8Array((setupSects + 1) * 512 + payload);
  const dv = new DataView(b.buffer);
  b[0x1f1] = setupSects;
  dv.setUint32(0x1f4, Math.ceil(payload / 16), true); // syssize in 16-byte paragraphs
  dv.setUint16(0x1fe, 0xaa55, true);
  b[0x200] = 0xeb; b[0x201] = 0x6a; // jmp over the header
  dv.setUint32(0x202, 0x53726448, true); // "HdrS"
  dv.setUint16(0x206, 0x20f, true);
  b[0x211] = 1; // LOADED_HIGH
  dv.setUint32(0x22c, 0x7fffffff, true); // initrd_addr_max
  dv.setUint32(0x230, 0x200000, true); // kernel_alignment
  b[0x234] = 1; // relocatable
  dv.setUint16(0x236, 1, true); // XLF_KERNEL_64
  dv.setUint32(0x238, 2048, true); // cmdline_size
  dv.setUint32(0x258, 0x1000000, true); // pref_address 16 MiB
  dv.setUint32(0x260, 0x100000, true); // init_size 1 MiB
  return b;
}

function file(name: string, bytes: Uint8Array | string): string {
  const f = join(dir, name);
  writeFileSync(f, bytes);
  return f;
}

const kernel = file('bzImage', bzImage(64 * 1024));
const cpio = writeCpio([{ name: 'init', mode: 0o100755, data: new TextEncoder().encode('#!/bin/sh\n') }]);

describe('emu -kernel/-initrd with a bad Linux image says which file and what is wrong, in one line', () => {
  it('a text file given as -kernel is not a bzImage', async () => {
    const f = file('notes.txt', 'these are not the bytes you are looking for\n'.repeat(40));
    const r = await emu('-kernel', f, '-append', 'console=ttyS0');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`emu: ${f}: not a multiboot image or a Linux bzImage; emu boots multiboot kernels and Linux bzImages (use -device loader,file=...,addr=... for a raw binary)\n`);
  });

  it('a bzImage cut short: the setup header promises more than the file holds', async () => {
    const f = file('vmlinuz-cut', bzImage(64 * 1024).subarray(0, 10_000));
    const r = await emu('-kernel', f);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`emu: ${f}: truncated: the setup header says ${5 * 512 + 64 * 1024} bytes, the file has 10000\n`);
  });

  it('a bzImage cut inside its setup header', async () => {
    const f = file('vmlinuz-stub', bzImage(0).subarray(0, 0x240));
    const r = await emu('-kernel', f);
    expect(r.stderr).toBe(`emu: ${f}: truncated: the file ends inside the setup header\n`);
  });

  it('a cpio initrd without its TRAILER!!! record is truncated', async () => {
    const f = file('initrd-cut.cpio', cpio.subarray(0, cpio.length - 200));
    const r = await emu('-kernel', kernel, '-initrd', f);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`emu: ${f}: truncated initrd (the cpio archive has no TRAILER!!! record)\n`);
  });

  it('a gzip initrd cut short does not decompress', async () => {
    const gz = gzipSync(cpio);
    const f = file('initrd-cut.gz', gz.subarray(0, gz.length - 12));
    const r = await emu('-kernel', kernel, '-initrd', f);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^emu: ${f.replace(/[.]/g, '\\.')}: truncated or corrupt gzip initrd \\(.*\\)\\n$`));
    expect(r.stderr.split('\n')).toHaveLength(2);
  });

  it('an initrd larger than the memory given', async () => {
    const f = file('initrd-big.img', new Uint8Array(28 << 20));
    const r = await emu('-m', '32M', '-kernel', kernel, '-initrd', f);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^emu: ${f.replace(/[.]/g, '\\.')}: the initrd \\(28 MiB\\) does not fit in 32 MiB of RAM beside the kernel .*give more with -m\\n$`));
  });
});
