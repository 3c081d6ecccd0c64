// The BIOS e820 memory map a Linux guest gets in its zero page: the PC map from
// machine/memmap.ts with the top of RAM carved out for the ACPI tables (FACS page as
// ACPI NVS, the rest ACPI reclaimable), encoded as boot_params.e820_table entries.

import { E820_ACPI, E820_NVS, type MemoryRegion, pcMemoryMap } from './memmap.js';

/** boot_params.e820_table holds at most this many entries (E820_MAX_ENTRIES_ZEROPAGE). */
export const E820_MAX_ZEROPAGE = 128;
export const E820_ENTRY_SIZE = 20;

/** Replace [base, base+length) inside whatever region covers it with a region of `type`. */
export function carve(map: MemoryRegion[], base: number, length: number, type: number): MemoryRegion[] {
  const end = base + length;
  const out: MemoryRegion[] = [];
  for (const r of map) {
    const rEnd = r.base + r.length;
    if (rEnd <= base || r.base >= end) { out.push(r); continue; }
    if (r.base < base) out.push({ base: r.base, length: base - r.base, type: r.type });
    if (rEnd > end) out.push({ base: end, length: rEnd - end, type: r.type });
  }
  out.push({ base, length, type });
  return out.sort((a, b) => a.base - b.base);
}

/** The PC map with the ACPI region [acpiBase, acpiBase + acpiSize) split into NVS (first nvsSize bytes) and reclaimable. */
export function linuxMemoryMap(ramSize: number, acpiBase: number, acpiSize: number, nvsSize: number): MemoryRegion[] {
  let map = pcMemoryMap(ramSize);
  map = carve(map, acpiBase, nvsSize, E820_NVS);
  map = carve(map, acpiBase + nvsSize, acpiSize - nvsSize, E820_ACPI);
  return map;
}

/** Highest usable (type 1) RAM address + 1 below 4 GiB. */
export function usableTop(map: MemoryRegion[]): number {
  let top = 0;
  for (const r of map) if (r.type === 1 && r.base + r.length > top && r.base + r.length <= 2 ** 32) top = r.base + r.length;
  return top;
}

/** Encode entries as struct boot_e820_entry { u64 addr; u64 size; u32 type; } (packed). */
export function encodeE820(map: MemoryRegion[], dv: DataView, offset: number): number {
  if (map.length > E820_MAX_ZEROPAGE) throw new Error(`e820 map has ${map.length} entries; the zero page holds ${E820_MAX_ZEROPAGE}`);
  map.forEach((r, i) => {
    const o = offset + i * E820_ENTRY_SIZE;
    dv.setUint32(o, r.base % 2 ** 32, true);
    dv.setUint32(o + 4, Math.floor(r.base / 2 ** 32), true);
    dv.setUint32(o + 8, r.length % 2 ** 32, true);
    dv.setUint32(o + 12, Math.floor(r.length / 2 ** 32), true);
    dv.setUint32(o + 16, r.type, true);
  });
  return map.length;
}
