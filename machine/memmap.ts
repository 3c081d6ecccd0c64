// The PC's physical memory map as firmware reports it (multiboot mmap, e820):
// conventional memory, the EBDA and BIOS areas, RAM above 1 MiB, and the
// 32-bit MMIO hole (IOAPIC, HPET, LAPIC, BIOS flash alias).

export const E820_RAM = 1, E820_RESERVED = 2, E820_ACPI = 3, E820_NVS = 4;

export interface MemoryRegion {
  base: number;
  length: number;
  type: number;
}

/** Top of conventional memory: the last KiB below 640K is the EBDA (ACPI's RSDP may live there). */
export const EBDA_BASE = 0x9fc00;
export const BIOS_AREA_BASE = 0xe0000;
export const HIGH_MEMORY = 0x100000;
/** Firmware/MMIO reserved at the top of the 32-bit space: IOAPIC 0xFEC00000 up to the reset vector. */
export const MMIO_RESERVED_BASE = 0xfec00000;

export function pcMemoryMap(ramSize: number): MemoryRegion[] {
  return [
    { base: 0, length: EBDA_BASE, type: E820_RAM },
    { base: EBDA_BASE, length: 0xa0000 - EBDA_BASE, type: E820_RESERVED },
    { base: BIOS_AREA_BASE, length: HIGH_MEMORY - BIOS_AREA_BASE, type: E820_RESERVED },
    { base: HIGH_MEMORY, length: ramSize - HIGH_MEMORY, type: E820_RAM },
    { base: MMIO_RESERVED_BASE, length: 2 ** 32 - MMIO_RESERVED_BASE, type: E820_RESERVED },
  ];
}
