// Multiboot v1 loader (the Multiboot Specification 0.6.96): finds the header in
// the first 8 KiB, loads the image through the a.out-kludge address fields
// (flag 16) or the ELF32/ELF64 program headers, places modules (-initrd) and
// the boot information structure, and describes the 32-bit protected-mode
// entry state the spec requires.

import type { GuestMemory } from '../mmu/memory.js';
import { ImageError, isElf, parseElf } from './elf.js';
import type { MemoryRegion } from './memmap.js';

export const MULTIBOOT_MAGIC = 0x1badb002;
/** EAX at entry, telling the OS a multiboot loader started it. */
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;
const SEARCH_LIMIT = 8192;

// Header flags.
const MB_PAGE_ALIGN = 1 << 0; // modules page aligned
const MB_MEMORY_INFO = 1 << 1; // mem_* and mmap_* must be provided
const MB_VIDEO_MODE = 1 << 2; // graphics fields present (we have no framebuffer: ignored)
const MB_AOUT_KLUDGE = 1 << 16; // address fields at header offsets 12..28 are valid
const MB_UNSUPPORTED_REQUIRED = 0x0000fff8; // bits 3-15 are "must understand"; none is defined

// Boot information flags.
const INFO_MEMORY = 1 << 0;
const INFO_CMDLINE = 1 << 2;
const INFO_MODS = 1 << 3;
const INFO_MMAP = 1 << 6;
const INFO_LOADER_NAME = 1 << 9;

/** Where the boot information and its strings go: low memory, clear of the IVT/BDA and of a boot sector. */
const INFO_BASE = 0x9000;
const INFO_LIMIT = 0x9fc00;

export interface MultibootHeader {
  offset: number;
  flags: number;
}

export interface MultibootModule {
  name: string;
  bytes: Uint8Array;
}

export interface LoadedMultiboot {
  entry: number;
  /** Physical address of the multiboot information structure (EBX at entry). */
  infoAddr: number;
  /** First free physical address after the image and modules. */
  end: number;
  modules: { start: number; end: number }[];
}

/** Find a valid multiboot header (magic, flags, checksum summing to zero) in the first 8 KiB, 4-byte aligned. */
export function findMultibootHeader(bytes: Uint8Array): MultibootHeader | null {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const limit = Math.min(bytes.length, SEARCH_LIMIT) - 12;
  for (let off = 0; off <= limit; off += 4) {
    if (dv.getUint32(off, true) !== MULTIBOOT_MAGIC) continue;
    const flags = dv.getUint32(off + 4, true);
    const checksum = dv.getUint32(off + 8, true);
    if (((MULTIBOOT_MAGIC + flags + checksum) | 0) === 0) return { offset: off, flags };
  }
  return null;
}

/**
 * Load a multiboot image into guest memory. Throws ImageError with a message
 * naming the file and the problem for anything malformed or that does not fit.
 */
export function loadMultiboot(mem: GuestMemory, bytes: Uint8Array, name: string, opts: {
  cmdline?: string;
  modules?: MultibootModule[];
  memoryMap: MemoryRegion[];
}): LoadedMultiboot {
  const hdr = findMultibootHeader(bytes);
  if (!hdr) throw new ImageError(`${name}: no multiboot header in the first 8 KiB`);
  if (hdr.flags & MB_UNSUPPORTED_REQUIRED) {
    throw new ImageError(`${name}: multiboot header asks for features this loader does not know (flags 0x${hdr.flags.toString(16)})`);
  }
  void MB_VIDEO_MODE; void MB_MEMORY_INFO; // we always provide memory info; video mode requests are ignored
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let entry: number;
  let end = 0;
  const place = (addr: number, src: Uint8Array, memSize: number, what: string): void => {
    if (!mem.isRam(addr, memSize)) {
      throw new ImageError(`${name}: ${what} at 0x${addr.toString(16)}-0x${(addr + memSize).toString(16)} does not fit in ${mem.ramSize >>> 20} MiB of guest RAM (give more with -m)`);
    }
    if (addr < 0x100000 && addr + memSize > 0xa0000) {
      throw new ImageError(`${name}: ${what} at 0x${addr.toString(16)} overlaps the 640K-1M legacy area`);
    }
    mem.writeBytes(addr, src);
    if (memSize > src.length) mem.fill(addr + src.length, memSize - src.length, 0);
    end = Math.max(end, addr + memSize);
  };

  if (hdr.flags & MB_AOUT_KLUDGE) {
    if (hdr.offset + 32 > bytes.length) throw new ImageError(`${name}: multiboot header truncated`);
    const headerAddr = dv.getUint32(hdr.offset + 12, true);
    const loadAddr = dv.getUint32(hdr.offset + 16, true);
    let loadEnd = dv.getUint32(hdr.offset + 20, true);
    const bssEnd = dv.getUint32(hdr.offset + 24, true);
    entry = dv.getUint32(hdr.offset + 28, true);
    if (loadAddr > headerAddr) throw new ImageError(`${name}: multiboot load_addr is above header_addr`);
    const fileStart = hdr.offset - (headerAddr - loadAddr);
    if (fileStart < 0) throw new ImageError(`${name}: multiboot header_addr/load_addr place the image before the file start`);
    if (loadEnd === 0) loadEnd = loadAddr + (bytes.length - fileStart);
    if (loadEnd < loadAddr || fileStart + (loadEnd - loadAddr) > bytes.length) {
      throw new ImageError(`${name}: multiboot load_end_addr runs past the end of the file (truncated image?)`);
    }
    const memEnd = bssEnd === 0 ? loadEnd : bssEnd;
    if (memEnd < loadEnd) throw new ImageError(`${name}: multiboot bss_end_addr is below load_end_addr`);
    place(loadAddr, bytes.subarray(fileStart, fileStart + (loadEnd - loadAddr)), memEnd - loadAddr, 'image');
  } else {
    if (!isElf(bytes)) throw new ImageError(`${name}: multiboot image is neither ELF nor uses the a.out-kludge address fields`);
    const elf = parseElf(bytes, name);
    for (const seg of elf.segments) {
      if (seg.memSize === 0) continue;
      place(seg.paddr, bytes.subarray(seg.offset, seg.offset + seg.fileSize), seg.memSize, 'segment');
    }
    entry = elf.entry;
  }
  if (entry >= 2 ** 32) throw new ImageError(`${name}: entry point 0x${entry.toString(16)} is above 4 GiB; a multiboot kernel starts in 32-bit mode`);
  if (!mem.isRam(entry, 1)) throw new ImageError(`${name}: entry point 0x${entry.toString(16)} is outside guest RAM`);

  // Modules go after the image, page aligned (always: it costs nothing and MB_PAGE_ALIGN may ask for it).
  void MB_PAGE_ALIGN;
  const modules: { start: number; end: number }[] = [];
  let next = alignUp(end, 4096);
  for (const m of opts.modules ?? []) {
    if (!mem.isRam(next, m.bytes.length)) {
      throw new ImageError(`${m.name}: module of ${m.bytes.length} bytes does not fit in guest RAM after the kernel (give more with -m)`);
    }
    mem.writeBytes(next, m.bytes);
    modules.push({ start: next, end: next + m.bytes.length });
    next = alignUp(next + m.bytes.length, 4096);
  }

  const infoAddr = writeBootInfo(mem, opts.cmdline ?? name, opts.modules ?? [], modules, opts.memoryMap);
  return { entry, infoAddr, end: next, modules };
}

function alignUp(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}

/** Write the boot information structure, the memory map, module list and strings; returns its address. */
function writeBootInfo(mem: GuestMemory, cmdline: string, mods: MultibootModule[],
  placed: { start: number; end: number }[], map: MemoryRegion[]): number {
  const info = INFO_BASE;
  let cursor = info + 128; // the structure is 88 bytes with the VBE/framebuffer fields
  const dv = mem.dv;
  mem.fill(info, 128, 0);
  const putString = (s: string): number => {
    const bytes = new TextEncoder().encode(s + '\0');
    if (cursor + bytes.length > INFO_LIMIT) throw new ImageError('multiboot command line and module names are too long');
    mem.writeBytes(cursor, bytes);
    const at = cursor;
    cursor = alignUp(cursor + bytes.length, 4);
    return at;
  };
  let flags = INFO_MEMORY | INFO_MMAP | INFO_CMDLINE | INFO_LOADER_NAME;
  // mem_lower: KiB of conventional memory from 0; mem_upper: KiB from 1 MiB up to the first hole.
  const lower = map.find((r) => r.type === 1 && r.base === 0);
  const upper = map.find((r) => r.type === 1 && r.base === 0x100000);
  dv.setUint32(info + 4, lower ? Math.floor(lower.length / 1024) : 0, true);
  dv.setUint32(info + 8, upper ? Math.floor(upper.length / 1024) : 0, true);
  dv.setUint32(info + 16, putString(cmdline), true);
  dv.setUint32(info + 64, putString('emu'), true);
  if (mods.length > 0) {
    flags |= INFO_MODS;
    const list = cursor;
    cursor += 16 * mods.length;
    for (let i = 0; i < mods.length; i++) {
      const name = putString(mods[i].name);
      dv.setUint32(list + i * 16, placed[i].start, true);
      dv.setUint32(list + i * 16 + 4, placed[i].end, true);
      dv.setUint32(list + i * 16 + 8, name, true);
      dv.setUint32(list + i * 16 + 12, 0, true);
    }
    dv.setUint32(info + 20, mods.length, true);
    dv.setUint32(info + 24, list, true);
  }
  // Memory map: each entry is size (20, not counting itself), base (u64), length (u64), type.
  const mmap = alignUp(cursor, 8);
  for (let i = 0; i < map.length; i++) {
    const e = mmap + i * 24;
    const r = map[i];
    dv.setUint32(e, 20, true);
    dv.setUint32(e + 4, r.base % 4294967296, true);
    dv.setUint32(e + 8, Math.floor(r.base / 4294967296), true);
    dv.setUint32(e + 12, r.length % 4294967296, true);
    dv.setUint32(e + 16, Math.floor(r.length / 4294967296), true);
    dv.setUint32(e + 20, r.type, true);
  }
  dv.setUint32(info + 44, map.length * 24, true);
  dv.setUint32(info + 48, mmap, true);
  dv.setUint32(info, flags, true);
  return info;
}
