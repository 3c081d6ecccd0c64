// The Linux/x86 boot protocol loader (Documentation/arch/x86/boot.rst): validates a
// bzImage's setup header, loads the protected-mode kernel at 1 MiB, places the initrd
// high, fills the zero page (struct boot_params: setup header, command line, e820 map,
// RSDP), writes the ACPI tables, and produces the entry state for the 64-bit entry
// (startup_64 at load + 0x200, identity-mapped page tables) or the 32-bit one.

import {
  ATTR_DB, ATTR_G, ATTR_L, ATTR_P, ATTR_S, ATTR_UNUSABLE, CR0, CR0_ET, CR0_PE, CR0_PG, CR3, CR4, CR4_PAE, CS, DS, EFER,
  EFER_LMA, EFER_LME, ES, FS, GDTR_BASE, GDTR_LIMIT, GS, LDTR, MISC_ENABLE, MTRR_DEF_TYPE, RBP, RBX, RDI, RIP, RSI, RSP, SEG_ATTR, SEG_BASE, SEG_LIMIT,
  SEG_SEL, SS, type StateView, TR, gprOffset, resetState, segOffset,
} from '../cpu/state.js';
import type { GuestMemory } from '../mmu/memory.js';
import { ACPI_NVS_SIZE, ACPI_REGION_SIZE, buildAcpi } from './acpi.js';
import { type ImageFile, registerLinuxLoader } from './boot.js';
import { encodeE820, linuxMemoryMap, usableTop } from './e820.js';
import { ImageError } from './elf.js';
import type { Machine } from './machine.js';
import { EBDA_BASE } from './memmap.js';
import { writeMpTables } from './mptable.js';

// ---- Setup header offsets in the image and the zero page (boot.rst "THE REAL-MODE KERNEL HEADER").
export const HDR_SETUP_SECTS = 0x1f1;
export const HDR_SYSSIZE = 0x1f4;
export const HDR_VID_MODE = 0x1fa;
export const HDR_BOOT_FLAG = 0x1fe;
export const HDR_JUMP = 0x200;
export const HDR_MAGIC = 0x202;
export const HDR_VERSION = 0x206;
export const HDR_TYPE_OF_LOADER = 0x210;
export const HDR_LOADFLAGS = 0x211;
export const HDR_CODE32_START = 0x214;
export const HDR_RAMDISK_IMAGE = 0x218;
export const HDR_RAMDISK_SIZE = 0x21c;
export const HDR_HEAP_END_PTR = 0x224;
export const HDR_CMD_LINE_PTR = 0x228;
export const HDR_INITRD_ADDR_MAX = 0x22c;
export const HDR_KERNEL_ALIGNMENT = 0x230;
export const HDR_RELOCATABLE = 0x234;
export const HDR_XLOADFLAGS = 0x236;
export const HDR_CMDLINE_SIZE = 0x238;
export const HDR_PREF_ADDRESS = 0x258;
export const HDR_INIT_SIZE = 0x260;

// ---- Zero page (boot_params) fields outside the setup header (zero-page.rst).
export const BP_ACPI_RSDP_ADDR = 0x070;
export const BP_E820_ENTRIES = 0x1e8;
export const BP_E820_TABLE = 0x2d0;
export const BOOT_PARAMS_SIZE = 0x1000;

export const HDRS_MAGIC = 0x53726448; // "HdrS"
export const MIN_PROTOCOL = 0x206;
export const LOADED_HIGH = 1 << 0, KEEP_SEGMENTS = 1 << 6, CAN_USE_HEAP = 1 << 7;
export const XLF_KERNEL_64 = 1 << 0;
/** type_of_loader: "no assigned ID" (boot.rst). */
export const LOADER_TYPE_UNDEFINED = 0xff;

/** IA32_MISC_ENABLE bit 0: fast-string operations enabled. */
export const MISC_ENABLE_FAST_STRING = 1 << 0;

/** __BOOT_CS and __BOOT_DS: GDT entries 2 and 3. */
export const BOOT_CS = 0x10, BOOT_DS = 0x18;

// ---- Where things go in low memory (below the EBDA; the kernel reserves the first MiB anyway).
export const GDT_ADDR = 0x1000;
export const STACK_TOP = 0x7000;
export const BOOT_PARAMS_ADDR = 0x7000;
/** PML4, PDPT and four page directories identity-mapping 4 GiB with 2 MiB pages. */
export const PAGE_TABLES_ADDR = 0x9000;
export const CMDLINE_ADDR = 0x20000;
export const CMDLINE_MAX = 0x10000;
/** The protected-mode kernel's load address. */
export const KERNEL_LOAD_ADDR = 0x100000;
/** BIOS data area words a real BIOS leaves: EBDA segment (0x40E) and base memory in KiB (0x413). */
const BDA_EBDA_SEGMENT = 0x40e, BDA_BASE_MEMORY_KB = 0x413;

export interface BzImage {
  name: string;
  version: number;
  setupSize: number;
  /** The protected-mode kernel's bytes (after the setup sectors). */
  kernel: Uint8Array;
  /** The setup header bytes, 0x1F1 up to 0x202 + byte[0x201]. */
  header: Uint8Array;
  loadflags: number;
  xloadflags: number;
  relocatable: boolean;
  kernelAlignment: number;
  initrdAddrMax: number;
  cmdlineSize: number;
  prefAddress: number;
  initSize: number;
}

const hex = (v: number): string => `0x${v.toString(16)}`;
const mib = (v: number): string => `${Math.ceil(v / 2 ** 20)} MiB`;

/** Check the setup header and cut the image into its parts; any problem is one ImageError naming the file. */
export function parseBzImage(bytes: Uint8Array, name: string): BzImage {
  const fail = (why: string): never => { throw new ImageError(`${name}: ${why}`); };
  if (bytes.length < HDR_MAGIC + 4) fail(`${bytes.length} bytes is too short to be a Linux kernel image`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(HDR_MAGIC, true) !== HDRS_MAGIC) fail('not a Linux bzImage (no "HdrS" setup header at offset 0x202)');
  if (bytes.length < HDR_INIT_SIZE + 4) fail('truncated: the file ends inside the setup header');
  const version = dv.getUint16(HDR_VERSION, true);
  const vs = `${version >> 8}.${(version & 0xff).toString().padStart(2, '0')}`;
  if (version < MIN_PROTOCOL) fail(`boot protocol ${vs} is too old; emu needs 2.06 or later (Linux 2.6.22+)`);
  const loadflags = bytes[HDR_LOADFLAGS];
  if ((loadflags & LOADED_HIGH) === 0) fail('a zImage (loads below 1 MiB), not a bzImage');
  const setupSects = bytes[HDR_SETUP_SECTS] || 4;
  const setupSize = (setupSects + 1) * 512;
  const syssize = dv.getUint32(HDR_SYSSIZE, true) * 16;
  const want = setupSize + syssize;
  if (bytes.length < want) fail(`truncated: the setup header says ${want} bytes, the file has ${bytes.length}`);
  const headerEnd = Math.min(HDR_MAGIC + bytes[HDR_JUMP + 1], 0x290);
  const relocatable = bytes[HDR_RELOCATABLE] !== 0;
  const prefAddress = version >= 0x20a ? dv.getUint32(HDR_PREF_ADDRESS, true) + dv.getUint32(HDR_PREF_ADDRESS + 4, true) * 2 ** 32 : KERNEL_LOAD_ADDR;
  return {
    name, version, setupSize,
    kernel: bytes.subarray(setupSize),
    header: bytes.slice(HDR_SETUP_SECTS, headerEnd),
    loadflags,
    xloadflags: version >= 0x20c ? dv.getUint16(HDR_XLOADFLAGS, true) : 0,
    relocatable,
    kernelAlignment: dv.getUint32(HDR_KERNEL_ALIGNMENT, true),
    initrdAddrMax: dv.getUint32(HDR_INITRD_ADDR_MAX, true) || 0x37ffffff,
    cmdlineSize: dv.getUint32(HDR_CMDLINE_SIZE, true) || 255,
    prefAddress,
    initSize: version >= 0x20a ? dv.getUint32(HDR_INIT_SIZE, true) : syssize * 4,
  };
}

export interface LinuxLoadOptions {
  cmdline: string;
  initrd?: ImageFile;
  /** Entry point: the 64-bit one when the kernel has it (default), or the 32-bit protected-mode one. */
  entry?: 'auto' | '64' | '32';
  /** The board has an HPET: describe it in ACPI. */
  hpet?: boolean;
  /** vCPUs the MADT lists (default 1). */
  cpus?: number;
  /** Their APIC IDs (default the index). */
  apicIds?: readonly number[];
  /** The board delivers MSI writes: the FADT lets the kernel use MSI/MSI-X. */
  msi?: boolean;
}

export interface LinuxLayout {
  entry: '64' | '32';
  entryPoint: number;
  bootParams: number;
  cmdline: number;
  initrd: { addr: number; size: number } | null;
  /** [start, end) the kernel occupies while it decompresses (the initrd stays clear of it). */
  kernelFootprint: [number, number];
  rsdp: number;
}

/** Load a parsed bzImage (and initrd) into memory and set the CPU state for its entry. */
export function loadLinux(mem: GuestMemory, state: StateView, image: BzImage, opts: LinuxLoadOptions): LinuxLayout {
  const ram = mem.ramSize;
  const { name } = image;
  const acpiBase = ram - ACPI_REGION_SIZE;
  const map = linuxMemoryMap(ram, acpiBase, ACPI_REGION_SIZE, ACPI_NVS_SIZE);
  const top = usableTop(map);

  // The kernel decompresses in place or, when relocatable, at pref_address (its LOAD_PHYSICAL_ADDR).
  const loadEnd = KERNEL_LOAD_ADDR + image.kernel.length;
  const runBase = image.relocatable ? Math.max(image.prefAddress, KERNEL_LOAD_ADDR) : image.prefAddress;
  const footprintEnd = Math.max(loadEnd, runBase + image.initSize);
  if (footprintEnd > top) {
    throw new ImageError(`${name}: the kernel needs ${mib(footprintEnd + ACPI_REGION_SIZE)} of RAM to decompress, the machine has ${mib(ram)}; give more with -m`);
  }
  mem.writeBytes(KERNEL_LOAD_ADDR, image.kernel);

  const cmdBytes = new TextEncoder().encode(opts.cmdline);
  if (cmdBytes.length > Math.min(image.cmdlineSize, CMDLINE_MAX - 1)) {
    throw new ImageError(`${name}: the command line is ${cmdBytes.length} bytes; this kernel takes at most ${image.cmdlineSize}`);
  }
  mem.fill(CMDLINE_ADDR, cmdBytes.length + 1, 0);
  mem.writeBytes(CMDLINE_ADDR, cmdBytes);

  // The initrd goes as high as the kernel allows, page-aligned, clear of the kernel.
  let initrd: LinuxLayout['initrd'] = null;
  if (opts.initrd) {
    const size = opts.initrd.bytes.length;
    const limit = Math.min(top, image.initrdAddrMax + 1);
    const addr = Math.floor((limit - size) / 4096) * 4096;
    if (addr < footprintEnd) {
      throw new ImageError(`${opts.initrd.name}: the initrd (${mib(size)}) does not fit in ${mib(ram)} of RAM beside the kernel (needs about ${mib(footprintEnd + size + ACPI_REGION_SIZE)}); give more with -m`);
    }
    mem.writeBytes(addr, opts.initrd.bytes);
    initrd = { addr, size };
  }

  const acpi = buildAcpi(mem, { ramSize: ram, hpet: opts.hpet ?? false, cpus: opts.cpus, apicIds: opts.apicIds, msi: opts.msi });
  writeMpTables(mem, opts.apicIds ?? Array.from({ length: opts.cpus ?? 1 }, (_, i) => i));

  // The zero page: zeroed, the setup header copied in, then the loader's fields.
  const bp = BOOT_PARAMS_ADDR;
  mem.fill(bp, BOOT_PARAMS_SIZE, 0);
  mem.writeBytes(bp + HDR_SETUP_SECTS, image.header);
  const dv = mem.dv;
  dv.setUint16(bp + HDR_VID_MODE, 0xffff, true); // "normal" text mode; the console is serial anyway
  mem.u8[bp + HDR_TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
  mem.u8[bp + HDR_LOADFLAGS] = (image.loadflags | CAN_USE_HEAP) & ~KEEP_SEGMENTS;
  dv.setUint16(bp + HDR_HEAP_END_PTR, 0xde00, true);
  dv.setUint32(bp + HDR_CODE32_START, KERNEL_LOAD_ADDR, true);
  dv.setUint32(bp + HDR_CMD_LINE_PTR, CMDLINE_ADDR, true);
  dv.setUint32(bp + HDR_RAMDISK_IMAGE, initrd ? initrd.addr : 0, true);
  dv.setUint32(bp + HDR_RAMDISK_SIZE, initrd ? initrd.size : 0, true);
  if (image.version >= 0x20e) dv.setUint32(bp + BP_ACPI_RSDP_ADDR, acpi.rsdp, true);
  mem.u8[bp + BP_E820_ENTRIES] = encodeE820(map, dv, bp + BP_E820_TABLE);

  // What a BIOS leaves in its data area.
  dv.setUint16(BDA_EBDA_SEGMENT, EBDA_BASE >>> 4, true);
  dv.setUint16(BDA_BASE_MEMORY_KB, EBDA_BASE >>> 10, true);

  let entry = opts.entry ?? 'auto';
  const has64 = (image.xloadflags & XLF_KERNEL_64) !== 0;
  if (entry === '64' && !has64) throw new ImageError(`${name}: this kernel has no 64-bit entry point (XLF_KERNEL_64 clear)`);
  if (entry === 'auto') entry = has64 ? '64' : '32';
  writeGdt(mem, entry === '64');
  const entryPoint = entry === '64' ? KERNEL_LOAD_ADDR + 0x200 : KERNEL_LOAD_ADDR;
  if (entry === '64') {
    buildIdentityMap(mem, PAGE_TABLES_ADDR);
    entryState64(state, entryPoint, bp);
  } else {
    entryState32(state, entryPoint, bp);
  }
  return {
    entry, entryPoint, bootParams: bp, cmdline: CMDLINE_ADDR, initrd,
    kernelFootprint: [KERNEL_LOAD_ADDR, footprintEnd], rsdp: acpi.rsdp,
  };
}

/** GDT: null, null, __BOOT_CS (64-bit or 32-bit flat code), __BOOT_DS (flat data). */
function writeGdt(mem: GuestMemory, long: boolean): void {
  const dv = mem.dv;
  mem.fill(GDT_ADDR, 32, 0);
  dv.setUint32(GDT_ADDR + 16, 0x0000ffff, true);
  dv.setUint32(GDT_ADDR + 20, long ? 0x00af9b00 : 0x00cf9b00, true);
  dv.setUint32(GDT_ADDR + 24, 0x0000ffff, true);
  dv.setUint32(GDT_ADDR + 28, 0x00cf9300, true);
}

const PTE_P = 1, PTE_RW = 2, PTE_PS = 0x80;

/** PML4 -> PDPT -> 4 page directories of 2 MiB pages: virtual = physical for the first 4 GiB. */
export function buildIdentityMap(mem: GuestMemory, base: number): void {
  const pml4 = base, pdpt = base + 0x1000, pd = base + 0x2000;
  mem.fill(base, 6 * 0x1000, 0);
  const dv = mem.dv;
  dv.setUint32(pml4, pdpt | PTE_P | PTE_RW, true);
  for (let g = 0; g < 4; g++) {
    dv.setUint32(pdpt + g * 8, (pd + g * 0x1000) | PTE_P | PTE_RW, true);
    for (let i = 0; i < 512; i++) {
      const phys = g * 2 ** 30 + i * 2 ** 21;
      dv.setUint32(pd + g * 0x1000 + i * 8, (phys | PTE_P | PTE_RW | PTE_PS) >>> 0, true);
    }
  }
}

const CODE64 = ATTR_P | ATTR_S | ATTR_L | ATTR_G | 0xb;
const CODE32 = ATTR_P | ATTR_S | ATTR_DB | ATTR_G | 0xb;
const DATA = ATTR_P | ATTR_S | ATTR_DB | ATTR_G | 0x3;

function setSeg(s: StateView, n: number, sel: number, attr: number): void {
  const o = segOffset(n);
  s.setU32(o + SEG_SEL, sel);
  s.setU32(o + SEG_ATTR, attr);
  s.setU32(o + SEG_LIMIT, 0xffffffff);
  s.set64(o + SEG_BASE, 0, 0);
}

function commonEntry(s: StateView, entry: number, bootParams: number, code: number): void {
  resetState(s);
  s.set64(RIP, entry, 0);
  s.set64(gprOffset(RSI), bootParams, 0);
  s.set64(gprOffset(RSP), STACK_TOP, 0);
  for (const r of [RBP, RDI, RBX]) s.set64(gprOffset(r), 0, 0);
  s.set64(GDTR_BASE, GDT_ADDR, 0);
  s.setU32(GDTR_LIMIT, 31);
  setSeg(s, CS, BOOT_CS, code);
  for (const n of [DS, ES, SS, FS, GS]) setSeg(s, n, BOOT_DS, DATA);
  const ldtr = segOffset(LDTR);
  s.setU32(ldtr + SEG_SEL, 0);
  s.setU32(ldtr + SEG_ATTR, ATTR_UNUSABLE);
  s.setU32(ldtr + SEG_LIMIT, 0);
  const tr = segOffset(TR);
  s.setU32(tr + SEG_ATTR, ATTR_P | 0xb); // busy TSS placeholder, as hardware backends require
  s.setU32(tr + SEG_LIMIT, 0x67);
  // Firmware enables fast strings (IA32_MISC_ENABLE bit 0); without it Linux says "Disabled fast
  // string operations" and clears/copies pages with loops of MOVs instead of REP MOVS/STOS, which
  // the interpreter does in bulk.
  s.set64(MISC_ENABLE, s.lo(MISC_ENABLE) | MISC_ENABLE_FAST_STRING, 0);
  // Firmware leaves the MTRRs enabled with a write-back default type (IA32_MTRR_DEF_TYPE: E = bit
  // 11, type 6 = WB; SDM 11.11.2.1) and no ranges; with them off Linux logs "MTRRs disabled,
  // skipping PAT initialization too" and never programs the PAT.
  s.set64(MTRR_DEF_TYPE, MTRR_ENABLED | MTRR_TYPE_WB, 0);
}

const MTRR_ENABLED = 1 << 11, MTRR_TYPE_WB = 6;

/** boot.rst "64-bit BOOT PROTOCOL": long mode, paging on with an identity map, __BOOT_CS/__BOOT_DS, RSI = boot_params. */
export function entryState64(s: StateView, entry: number, bootParams: number): void {
  commonEntry(s, entry, bootParams, CODE64);
  s.set64(CR0, CR0_PE | CR0_ET | CR0_PG, 0);
  s.set64(CR3, PAGE_TABLES_ADDR, 0);
  s.set64(CR4, CR4_PAE, 0);
  s.set64(EFER, EFER_LME | EFER_LMA, 0);
}

/** boot.rst "32-bit BOOT PROTOCOL": flat protected mode, paging off, ESI = boot_params, EBP/EDI/EBX = 0. */
export function entryState32(s: StateView, entry: number, bootParams: number): void {
  commonEntry(s, entry, bootParams, CODE32);
  s.set64(CR0, CR0_PE | CR0_ET, 0);
}

/**
 * Catch a truncated initrd before the kernel does (it would panic far into the boot):
 * an uncompressed newc cpio must end with its TRAILER!!! record; a gzip one must
 * decompress (the caller passes a gunzip, e.g. node:zlib's gunzipSync, where it has one).
 * Other compressions are left to the kernel.
 */
export function checkInitrd(bytes: Uint8Array, name: string, gunzip?: (b: Uint8Array) => Uint8Array): void {
  const isCpio = (b: Uint8Array) => b.length >= 6 && String.fromCharCode(...b.subarray(0, 5)) === '07070';
  const hasTrailer = (b: Uint8Array) => String.fromCharCode(...b.subarray(Math.max(0, b.length - 1024))).includes('TRAILER!!!');
  if (isCpio(bytes) && !hasTrailer(bytes)) throw new ImageError(`${name}: truncated initrd (the cpio archive has no TRAILER!!! record)`);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b && gunzip) {
    let inner: Uint8Array;
    try { inner = gunzip(bytes); } catch (e) { throw new ImageError(`${name}: truncated or corrupt gzip initrd (${(e as Error).message})`); }
    if (isCpio(inner) && !hasTrailer(inner)) throw new ImageError(`${name}: truncated initrd (the cpio archive has no TRAILER!!! record)`);
  }
}

type Gunzip = (b: Uint8Array) => Uint8Array;

/** node:zlib's gunzipSync when running under Node (process.getBuiltinModule, no static import: this file also runs in browsers). */
function hostGunzip(): Gunzip | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const zlib = proc?.getBuiltinModule?.('node:zlib') as { gunzipSync?: Gunzip } | undefined;
  return zlib?.gunzipSync;
}

/** The hook machine/boot.ts calls for a bzImage. */
export function linuxLoader(m: Machine, kernel: ImageFile, initrd: ImageFile | undefined, cmdline: string): void {
  const image = parseBzImage(kernel.bytes, kernel.name);
  // A gzip initrd is inflated to check it where the host has node:zlib; in a browser, only a bare cpio is checked.
  if (initrd) checkInitrd(initrd.bytes, initrd.name, hostGunzip());
  // The ACPI HPET table is there only if the board wired an HPET (machine/pc.ts `devices.hpet`).
  const hpet = (m.devices as { hpet?: unknown }).hpet !== undefined;
  // MSI writes reach our APIC bus, not KVM's in-kernel LAPICs (which would need KVM_SIGNAL_MSI).
  const msi = m.options.irqchip !== 'kernel';
  loadLinux(m.memory, m.state, image, { cmdline, initrd, hpet, cpus: m.vcpuCount, apicIds: m.apicIds, msi });
}

registerLinuxLoader(linuxLoader);
