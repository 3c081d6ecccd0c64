import { describe, expect, it } from 'vitest';
import { ImageError, parseElf } from '../../machine/elf.js';
import { pcMemoryMap } from '../../machine/memmap.js';
import { findMultibootHeader, loadMultiboot } from '../../machine/multiboot.js';
import { loadRaw } from '../../machine/raw.js';
import { detectFormat } from '../../machine/boot.js';
import { GuestMemory } from '../../mmu/memory.js';
import { cat, elf, multibootHeader } from './images.js';

const RAM = 16 << 20;
const code = (n: number, fill = 0x90): Uint8Array => new Uint8Array(n).fill(fill);

function load(image: Uint8Array, opts: { cmdline?: string; modules?: { name: string; bytes: Uint8Array }[] } = {}) {
  const mem = new GuestMemory(RAM);
  const r = loadMultiboot(mem, image, 'test.elf', { memoryMap: pcMemoryMap(RAM), ...opts });
  return { mem, r };
}

describe('ELF reader', () => {
  it('reads the PT_LOAD segments of an ELF64 image', () => {
    const img = elf(64, 0x100010, [{ paddr: 0x100000, data: code(32), memSize: 0x2000 }]);
    const e = parseElf(img, 'k');
    expect(e.bits).toBe(64);
    expect(e.entry).toBe(0x100010);
    expect(e.segments).toEqual([{ paddr: 0x100000, vaddr: 0x100000, offset: 0x1000, fileSize: 32, memSize: 0x2000 }]);
  });

  it('a segment that runs past the end of the file -> truncated image error', () => {
    const img = elf(32, 0x100000, [{ paddr: 0x100000, data: code(0x800) }]);
    expect(() => parseElf(img.subarray(0, 0x1400), 'k.elf')).toThrow(/k\.elf: segment 0 runs past the end of the file/);
  });
});

describe('multiboot loader', () => {
  it('finds the header only when magic + flags + checksum sum to zero', () => {
    const good = cat(code(64), multibootHeader(0x3));
    expect(findMultibootHeader(good)?.offset).toBe(64);
    const bad = good.slice();
    bad[72] ^= 1; // corrupt the checksum
    expect(findMultibootHeader(bad)).toBeNull();
  });

  it('ELF32 multiboot kernel: segments land at p_paddr, bss is zeroed, EBX info has mem and mmap', () => {
    const text = cat(multibootHeader(0x3), code(100, 0xf4));
    const img = elf(32, 0x100000, [{ paddr: 0x100000, data: text, memSize: 0x3000 }]);
    const { mem, r } = load(img, { cmdline: 'tinyos verbose' });
    expect(r.entry).toBe(0x100000);
    expect(mem.u8[0x100000 + 12]).toBe(0xf4);
    expect(mem.u8[0x102fff]).toBe(0);
    const info = r.infoAddr;
    const flags = mem.dv.getUint32(info, true);
    expect(flags & 0x245).toBe(0x245); // mem, cmdline, mmap, loader name
    expect(mem.dv.getUint32(info + 4, true)).toBe(639); // KiB below the EBDA
    expect(mem.dv.getUint32(info + 8, true)).toBe((RAM - 0x100000) / 1024);
    expect(mem.readCString(mem.dv.getUint32(info + 16, true))).toBe('tinyos verbose');
    expect(mem.readCString(mem.dv.getUint32(info + 64, true))).toBe('emu');
    const mmapLen = mem.dv.getUint32(info + 44, true);
    const mmap = mem.dv.getUint32(info + 48, true);
    expect(mmapLen).toBe(5 * 24);
    // The fourth entry is RAM from 1 MiB to the top: size 20, base, length, type 1.
    const e = mmap + 3 * 24;
    expect([mem.dv.getUint32(e, true), mem.dv.getUint32(e + 4, true), mem.dv.getUint32(e + 12, true), mem.dv.getUint32(e + 20, true)])
      .toEqual([20, 0x100000, RAM - 0x100000, 1]);
  });

  it('ELF64 kernel with the a.out kludge loads through the address fields, not the ELF headers', () => {
    // File layout: the header sits at file offset 0x1000, which is loaded at 0x200000.
    const body = cat(multibootHeader(0x10003, { headerAddr: 0x200000, loadAddr: 0x200000, loadEnd: 0x200040, bssEnd: 0x201000, entry: 0x200020 }), code(32, 0xcc));
    const img = elf(64, 0xffffffff80000000, [{ paddr: 0xe00000, data: body }]);
    const { mem, r } = load(img);
    expect(r.entry).toBe(0x200020);
    expect(mem.u8[0x200020]).toBe(0xcc);
    expect(mem.u8[0xe00000 + 32]).toBe(0); // the ELF p_paddr was not used
  });

  it('-initrd becomes module 0: page-aligned after the image, with its name', () => {
    const img = elf(32, 0x100000, [{ paddr: 0x100000, data: cat(multibootHeader(0x3), code(16)), memSize: 0x1800 }]);
    const mod = new Uint8Array([1, 2, 3, 4, 5]);
    const { mem, r } = load(img, { modules: [{ name: 'initrd.img', bytes: mod }] });
    expect(r.modules).toEqual([{ start: 0x102000, end: 0x102005 }]);
    const info = r.infoAddr;
    expect(mem.dv.getUint32(info, true) & 0x8).toBe(0x8);
    expect(mem.dv.getUint32(info + 20, true)).toBe(1);
    const list = mem.dv.getUint32(info + 24, true);
    expect(mem.dv.getUint32(list, true)).toBe(0x102000);
    expect(mem.readCString(mem.dv.getUint32(list + 8, true))).toBe('initrd.img');
    expect([...mem.view(0x102000, 5)]).toEqual([1, 2, 3, 4, 5]);
  });

  it('an image larger than guest RAM -> one line that names the file and says to give more memory', () => {
    const img = elf(32, 0x100000, [{ paddr: 0x100000, data: cat(multibootHeader(0x3), code(16)), memSize: 64 << 20 }]);
    expect(() => load(img)).toThrow(/test\.elf: segment at 0x100000-0x4100000 does not fit in 16 MiB of guest RAM \(give more with -m\)/);
  });

  it('an entry point above 4 GiB without the kludge is refused', () => {
    const img = elf(64, 0xffffffff80100000, [{ paddr: 0x100000, data: cat(multibootHeader(0x3), code(16)) }]);
    expect(() => load(img)).toThrow(/entry point 0xffffffff80100000 is above 4 GiB/);
  });

  it('a header with unknown required flags is refused', () => {
    const img = elf(32, 0x100000, [{ paddr: 0x100000, data: cat(multibootHeader(0x8), code(16)) }]);
    expect(() => load(img)).toThrow(ImageError);
  });
});

describe('format detection and raw images', () => {
  it('tells bzImage, multiboot and unknown apart', () => {
    const bz = new Uint8Array(0x400);
    bz.set([0x48, 0x64, 0x72, 0x53], 0x202);
    expect(detectFormat(bz)).toBe('bzimage');
    expect(detectFormat(cat(code(8), multibootHeader(0)))).toBe('multiboot');
    expect(detectFormat(code(4096))).toBe('unknown');
  });

  it('raw binary is copied to its address; one that does not fit is refused', () => {
    const mem = new GuestMemory(RAM);
    loadRaw(mem, new Uint8Array([0xea, 0, 0x7c]), 0x7c00, 'boot.bin');
    expect([...mem.view(0x7c00, 3)]).toEqual([0xea, 0, 0x7c]);
    expect(() => loadRaw(mem, code(16), RAM - 8, 'boot.bin')).toThrow(/boot\.bin: 16 bytes at 0xfffff8 do not fit/);
  });
});
