// The bzImage loader on synthetic kernels built here: the zero page bytes the kernel
// reads, the e820 map, initrd placement, the entry state, and the one-line errors.
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  ATTR_L, CR0, CR0_PG, CR3, CS, EFER, EFER_LMA, MISC_ENABLE, MTRR_DEF_TYPE, RIP, RSI, SEG_ATTR, SEG_SEL, StateView, gprOffset, segOffset, DS,
} from '../../cpu/state.js';
import { ACPI_REGION_SIZE, BOOT_MSI_NOT_SUPPORTED, FADT_IAPC_BOOT_ARCH } from '../../machine/acpi.js';
import { ImageError } from '../../machine/elf.js';
import {
  BOOT_PARAMS_ADDR, checkInitrd, CMDLINE_ADDR, HDR_CMD_LINE_PTR, HDR_HEAP_END_PTR, HDR_LOADFLAGS, HDR_RAMDISK_IMAGE, HDR_RAMDISK_SIZE,
  HDR_TYPE_OF_LOADER, KERNEL_LOAD_ADDR, loadLinux, parseBzImage, type LinuxLoadOptions,
} from '../../machine/linux.js';
import { GuestMemory } from '../../mmu/memory.js';

const MiB = 2 ** 20;

interface FakeKernel { version?: number; xloadflags?: number; initSize?: number; initrdAddrMax?: number; loadflags?: number; payload?: number; cmdlineSize?: number }

/** A bzImage-shaped file: 2 setup sectors (boot sector + 1), the header fields a loader reads, then the "kernel". */
function fakeBzImage(k: FakeKernel = {}): Uint8Array {
  const setupSects = 1;
  const payload = k.payload ?? 4096;
  const img = new Uint8Array((setupSects + 1) * 512 + payload);
  const dv = new DataView(img.buffer);
  img[0x1f1] = setupSects;
  dv.setUint32(0x1f4, payload / 16, true);
  dv.setUint16(0x1fe, 0xaa55, true);
  img[0x200] = 0xeb; img[0x201] = 0x6a; // jmp to the end of the header at 0x26C
  dv.setUint32(0x202, 0x53726448, true);
  dv.setUint16(0x206, k.version ?? 0x20f, true);
  img[0x211] = k.loadflags ?? 0x01;
  dv.setUint32(0x22c, k.initrdAddrMax ?? 0x7fffffff, true);
  dv.setUint32(0x230, 0x200000, true);
  img[0x234] = 1;
  dv.setUint16(0x236, k.xloadflags ?? 0x3, true);
  dv.setUint32(0x238, k.cmdlineSize ?? 2047, true);
  dv.setUint32(0x258, 0x1000000, true);
  dv.setUint32(0x260, k.initSize ?? 0x1000000, true);
  for (let i = 0; i < payload; i++) img[1024 + i] = (i * 7 + 3) & 0xff;
  return img;
}

function boot(ram: number, k: FakeKernel = {}, opts: Partial<LinuxLoadOptions> = {}) {
  const mem = new GuestMemory(ram);
  const state = StateView.detached();
  const image = parseBzImage(fakeBzImage(k), 'vmlinuz');
  const layout = loadLinux(mem, state, image, { cmdline: 'console=ttyS0', ...opts });
  return { mem, state, layout, dv: mem.dv, bp: BOOT_PARAMS_ADDR };
}

function e820(mem: GuestMemory): [number, number, number][] {
  const n = mem.u8[BOOT_PARAMS_ADDR + 0x1e8];
  const out: [number, number, number][] = [];
  for (let i = 0; i < n; i++) {
    const o = BOOT_PARAMS_ADDR + 0x2d0 + i * 20;
    out.push([mem.dv.getUint32(o, true) + mem.dv.getUint32(o + 4, true) * 2 ** 32, mem.dv.getUint32(o + 8, true) + mem.dv.getUint32(o + 12, true) * 2 ** 32, mem.dv.getUint32(o + 16, true)]);
  }
  return out;
}

describe('Linux zero page', () => {
  it('setup header is copied and the loader fields filled: loader type, CAN_USE_HEAP, heap end, command line', () => {
    const { mem, dv, bp } = boot(64 * MiB);
    expect(dv.getUint32(bp + 0x202, true)).toBe(0x53726448);
    expect(dv.getUint16(bp + 0x206, true)).toBe(0x20f);
    expect(mem.u8[bp + HDR_TYPE_OF_LOADER]).toBe(0xff);
    expect(mem.u8[bp + HDR_LOADFLAGS]).toBe(0x81);
    expect(dv.getUint16(bp + HDR_HEAP_END_PTR, true)).toBe(0xde00);
    expect(dv.getUint32(bp + HDR_CMD_LINE_PTR, true)).toBe(CMDLINE_ADDR);
    expect(mem.readCString(CMDLINE_ADDR)).toBe('console=ttyS0');
    // Bytes past the header's end (0x26C) are not copied from the image.
    expect(mem.u8[bp + 0x26c]).toBe(0);
    expect(dv.getUint32(bp + HDR_RAMDISK_IMAGE, true)).toBe(0);
  });

  it('protected-mode kernel lands at 1 MiB byte for byte', () => {
    const { mem } = boot(64 * MiB);
    expect([...mem.u8.subarray(KERNEL_LOAD_ADDR, KERNEL_LOAD_ADDR + 4)]).toEqual([3, 10, 17, 24]);
  });

  it('e820: low RAM, EBDA and BIOS area reserved, RAM from 1 MiB, ACPI NVS and reclaim at the top, the APIC hole', () => {
    const ram = 256 * MiB;
    const { mem } = boot(ram);
    const top = ram - ACPI_REGION_SIZE;
    expect(e820(mem)).toEqual([
      [0, 0x9fc00, 1],
      [0x9fc00, 0x400, 2],
      [0xe0000, 0x20000, 2],
      [0x100000, top - 0x100000, 1],
      [top, 0x1000, 4],
      [top + 0x1000, ACPI_REGION_SIZE - 0x1000, 3],
      [0xfec00000, 0x1400000, 2],
    ]);
  });

  it('acpi_rsdp_addr (protocol 2.14+) points at the RSDP, which the tables really start with', () => {
    const { mem, dv, bp } = boot(64 * MiB);
    const rsdp = dv.getUint32(bp + 0x70, true);
    expect(String.fromCharCode(...mem.u8.subarray(rsdp, rsdp + 8))).toBe('RSD PTR ');
  });

  it('the FADT lets the kernel use MSI when the board delivers it (IAPC_BOOT_ARCH bit 3 clear), else not', () => {
    const msiAllowed = (msi: boolean): boolean => {
      const { layout, dv, mem } = boot(64 * MiB, {}, { msi });
      const rsdt = dv.getUint32(layout.rsdp + 16, true), f = dv.getUint32(rsdt + 36, true); // the RSDT's first table
      expect(String.fromCharCode(...mem.u8.subarray(f, f + 4))).toBe('FACP');
      return (dv.getUint16(f + FADT_IAPC_BOOT_ARCH, true) & BOOT_MSI_NOT_SUPPORTED) === 0;
    };
    expect(msiAllowed(true)).toBe(true);
    expect(msiAllowed(false)).toBe(false);
  });

  it('BIOS data area says where the EBDA is and how much base memory there is', () => {
    const { dv } = boot(64 * MiB);
    expect(dv.getUint16(0x40e, true)).toBe(0x9fc0);
    expect(dv.getUint16(0x413, true)).toBe(639);
  });
});

describe('initrd placement', () => {
  const initrd = (size: number) => ({ name: 'initrd.img', bytes: new Uint8Array(size).fill(0x5a) });

  it('goes at the top of usable RAM, page aligned, below the ACPI tables, and the header says where', () => {
    const ram = 128 * MiB;
    const { mem, dv, bp, layout } = boot(ram, {}, { initrd: initrd(3 * MiB + 5) });
    const addr = dv.getUint32(bp + HDR_RAMDISK_IMAGE, true);
    expect(dv.getUint32(bp + HDR_RAMDISK_SIZE, true)).toBe(3 * MiB + 5);
    expect(addr % 4096).toBe(0);
    expect(addr + 3 * MiB + 5).toBeLessThanOrEqual(ram - ACPI_REGION_SIZE);
    expect(ram - ACPI_REGION_SIZE - (addr + 3 * MiB + 5)).toBeLessThan(4096);
    expect(addr).toBeGreaterThanOrEqual(layout.kernelFootprint[1]);
    expect(mem.u8[addr]).toBe(0x5a);
    expect(mem.u8[addr + 3 * MiB + 4]).toBe(0x5a);
  });

  it('respects initrd_addr_max', () => {
    const { dv, bp } = boot(128 * MiB, { initrdAddrMax: 0x3ffffff }, { initrd: initrd(MiB) });
    expect(dv.getUint32(bp + HDR_RAMDISK_IMAGE, true) + MiB).toBeLessThanOrEqual(0x4000000);
  });

  it('an initrd too large for the memory -> one clear error naming the initrd', () => {
    expect(() => boot(40 * MiB, {}, { initrd: initrd(20 * MiB) })).toThrow(/^initrd\.img: the initrd \(20 MiB\) does not fit in 40 MiB of RAM.*give more with -m$/);
  });
});

describe('entry state', () => {
  it('64-bit: startup_64 at load + 0x200, long mode with paging, __BOOT_CS/__BOOT_DS, RSI = boot_params', () => {
    const { state, mem } = boot(64 * MiB);
    expect(state.lo(RIP)).toBe(0x100200);
    expect(state.lo(gprOffset(RSI))).toBe(BOOT_PARAMS_ADDR);
    expect(state.lo(CR0) & CR0_PG).not.toBe(0);
    expect(state.lo(EFER) & EFER_LMA).not.toBe(0);
    expect(state.u32(segOffset(CS) + SEG_SEL)).toBe(0x10);
    expect(state.u32(segOffset(CS) + SEG_ATTR) & ATTR_L).toBe(ATTR_L);
    expect(state.u32(segOffset(DS) + SEG_SEL)).toBe(0x18);
    // The GDT really holds those descriptors: entry 2 is 64-bit code (L set), entry 3 flat data.
    const gdt = state.lo(0x200);
    expect(mem.dv.getUint32(gdt + 20, true)).toBe(0x00af9b00);
    expect(mem.dv.getUint32(gdt + 28, true)).toBe(0x00cf9300);
  });

  it('firmware leaves fast strings enabled (IA32_MISC_ENABLE bit 0), so the kernel keeps REP MOVS/STOS', () => {
    const { state } = boot(64 * MiB);
    expect(state.lo(MISC_ENABLE) & 1).toBe(1);
  });

  it('firmware leaves the MTRRs enabled with a write-back default (IA32_MTRR_DEF_TYPE = E | WB), so the kernel sets up PAT', () => {
    const { state } = boot(64 * MiB);
    expect(state.lo(MTRR_DEF_TYPE)).toBe(0x806);
  });

  it('64-bit: the page tables identity-map the kernel, the zero page and the LAPIC page', () => {
    const { state, mem } = boot(64 * MiB);
    const walk = (va: number): number => {
      const dv = mem.dv;
      const pml4e = dv.getUint32(state.lo(CR3) + 8 * Math.floor(va / 2 ** 39), true);
      const pdpte = dv.getUint32((pml4e & ~0xfff) + 8 * (Math.floor(va / 2 ** 30) & 511), true);
      const pde = dv.getUint32((pdpte & ~0xfff) + 8 * (Math.floor(va / 2 ** 21) & 511), true);
      expect(pde & 0x81).toBe(0x81); // present, 2 MiB page
      return (pde & 0xffe00000) + (va % 2 ** 21);
    };
    for (const va of [BOOT_PARAMS_ADDR, 0x100200, 0x1234567, 0xfee00300]) expect(walk(va) >>> 0).toBe(va);
  });

  it('32-bit entry: code32_start with flat segments, paging off, ESI = boot_params', () => {
    const { state } = boot(64 * MiB, {}, { entry: '32' });
    expect(state.lo(RIP)).toBe(0x100000);
    expect(state.lo(CR0) & CR0_PG).toBe(0);
    expect(state.lo(gprOffset(RSI))).toBe(BOOT_PARAMS_ADDR);
    expect(state.u32(segOffset(CS) + SEG_ATTR) & ATTR_L).toBe(0);
  });

  it('a kernel without XLF_KERNEL_64 enters through the 32-bit entry', () => {
    const { layout } = boot(64 * MiB, { xloadflags: 0 });
    expect(layout.entry).toBe('32');
  });
});

describe('bzImage errors', () => {
  const parse = (b: Uint8Array) => () => parseBzImage(b, 'vmlinuz');

  it('a file that is not a bzImage', () => {
    expect(parse(new Uint8Array(8192))).toThrow('vmlinuz: not a Linux bzImage (no "HdrS" setup header at offset 0x202)');
    expect(parse(new Uint8Array(100))).toThrow(/^vmlinuz: 100 bytes is too short/);
  });

  it('a truncated kernel names the expected and actual sizes', () => {
    const img = fakeBzImage();
    expect(parse(img.subarray(0, img.length - 100))).toThrow(`vmlinuz: truncated: the setup header says ${img.length} bytes, the file has ${img.length - 100}`);
    expect(parse(img.subarray(0, 0x220))).toThrow('vmlinuz: truncated: the file ends inside the setup header');
  });

  it('an old boot protocol or a zImage is refused', () => {
    expect(parse(fakeBzImage({ version: 0x204 }))).toThrow('vmlinuz: boot protocol 2.04 is too old; emu needs 2.06 or later (Linux 2.6.22+)');
    expect(parse(fakeBzImage({ loadflags: 0 }))).toThrow(/zImage/);
  });

  it('errors are ImageErrors (one line for the CLI, no stack trace)', () => {
    expect(parse(new Uint8Array(8192))).toThrow(ImageError);
  });

  it('too little RAM for the decompressing kernel, or a command line over cmdline_size', () => {
    expect(() => boot(16 * MiB)).toThrow(/^vmlinuz: the kernel needs 33 MiB of RAM to decompress, the machine has 16 MiB; give more with -m$/);
    expect(() => boot(64 * MiB, { cmdlineSize: 8 })).toThrow('vmlinuz: the command line is 13 bytes; this kernel takes at most 8');
  });
});

describe('initrd checks', () => {
  const cpio = (trailer: boolean) => new TextEncoder().encode('070701' + '0'.repeat(200) + (trailer ? 'TRAILER!!!\0\0' : 'bin/sh'));

  it('a cpio initrd cut before its TRAILER!!! record is reported as truncated', () => {
    expect(() => checkInitrd(cpio(false), 'initrd.img')).toThrow('initrd.img: truncated initrd (the cpio archive has no TRAILER!!! record)');
    expect(() => checkInitrd(cpio(true), 'initrd.img')).not.toThrow();
  });

  it('a gzip initrd that does not decompress is reported as truncated', () => {
    const gz = gzipSync(cpio(true));
    expect(() => checkInitrd(gz, 'initrd.img', gunzipSync)).not.toThrow();
    expect(() => checkInitrd(gz.subarray(0, gz.length - 10), 'initrd.img', gunzipSync)).toThrow(/^initrd\.img: truncated or corrupt gzip initrd/);
  });
});
