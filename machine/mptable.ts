// The Intel MultiProcessor Specification 1.4 tables, for guests that look for CPUs and
// interrupt routing without ACPI: the MP floating pointer structure (section 4.1) and the
// MP configuration table (4.2) with one processor entry per vCPU, the ISA bus, the IOAPIC,
// the ISA IRQs' I/O interrupt assignments (IRQ 0 on pin 2, as the MADT says) and the local
// APICs' LINT0 (ExtINT) and LINT1 (NMI). Both go in the first KiB of the EBDA, which
// section 4 names as the first place an OS searches (and the e820 map reserves).

import { FAMILY, LEAF1_EDX, MODEL, STEPPING } from '../cpu/cpuid.js';
import { IOAPIC_BASE, IOAPIC_VERSION_VALUE } from '../devices/ioapic.js';
import { APIC_VERSION_VALUE, LAPIC_BASE } from '../devices/lapic.js';
import type { GuestMemory } from '../mmu/memory.js';
import { SCI_IRQ } from '../devices/acpi-pm.js';
import { Bytes, checksum } from './acpi.js';
import { EBDA_BASE } from './memmap.js';

export const MP_FLOATING_SIZE = 16, MP_HEADER_SIZE = 44;
/** Entry types (table 4-3) and their lengths. */
export const MP_PROCESSOR = 0, MP_BUS = 1, MP_IOAPIC = 2, MP_IO_INTERRUPT = 3, MP_LOCAL_INTERRUPT = 4;
/** Interrupt types (table 4-10). */
export const MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3;
/** Processor entry CPU flags: enabled, bootstrap processor. */
export const MP_CPU_EN = 1, MP_CPU_BP = 2;
/** I/O interrupt flags: polarity bits 1:0 (1 active high), trigger bits 3:2 (3 level); 0 = as the bus says. */
const PO_HIGH = 1, EL_LEVEL = 3 << 2;
const ISA_BUS = 0, IOAPIC_ID = 0;

/** The configuration table (header + entries, checksummed) for vCPUs with these APIC IDs (the first is the BSP). */
export function buildMpConfig(apicIds: readonly number[]): Uint8Array {
  const e = new Bytes();
  let count = 0;
  const signature = STEPPING | (MODEL & 0xf) << 4 | FAMILY << 8;
  apicIds.forEach((id, i) => {
    e.u8(MP_PROCESSOR).u8(id).u8(APIC_VERSION_VALUE & 0xff).u8(MP_CPU_EN | (i === 0 ? MP_CPU_BP : 0))
      .u32(signature).u32(LEAF1_EDX).u32(0).u32(0);
    count++;
  });
  e.u8(MP_BUS).u8(ISA_BUS).str('ISA', 6); count++;
  e.u8(MP_IOAPIC).u8(IOAPIC_ID).u8(IOAPIC_VERSION_VALUE & 0xff).u8(1 /* enabled */).u32(IOAPIC_BASE); count++;
  // The 8259's INTR on pin 0 (ExtINT), then ISA IRQ n on pin n, IRQ 0 on pin 2 and IRQ 2 (the cascade) nowhere.
  const io = (type: number, flags: number, irq: number, pin: number) => {
    e.u8(MP_IO_INTERRUPT).u8(type).u16(flags).u8(ISA_BUS).u8(irq).u8(IOAPIC_ID).u8(pin); count++;
  };
  io(MP_EXTINT, 0, 0, 0);
  for (let irq = 0; irq < 16; irq++) {
    if (irq === 2) continue;
    io(MP_INT, irq === SCI_IRQ ? PO_HIGH | EL_LEVEL : 0, irq, irq === 0 ? 2 : irq);
  }
  // LINT0 of every local APIC takes ExtINT, LINT1 NMI (destination 0xFF: all).
  e.u8(MP_LOCAL_INTERRUPT).u8(MP_EXTINT).u16(0).u8(ISA_BUS).u8(0).u8(0xff).u8(0); count++;
  e.u8(MP_LOCAL_INTERRUPT).u8(MP_NMI).u16(0).u8(ISA_BUS).u8(0).u8(0xff).u8(1); count++;
  const h = new Bytes().str('PCMP', 4).u16(MP_HEADER_SIZE + e.b.length).u8(4 /* spec 1.4 */).u8(0)
    .str('EMU', 8).str('EMUPC', 12).u32(0).u16(0).u16(count).u32(LAPIC_BASE).u16(0).u8(0).u8(0).bytes(e.b);
  const out = Uint8Array.from(h.b);
  out[7] = checksum(out);
  return out;
}

/** The floating pointer structure pointing at a configuration table at `config`. */
export function buildMpFloating(config: number): Uint8Array {
  const out = Uint8Array.from(new Bytes().str('_MP_', 4).u32(config).u8(1 /* 16-byte units */).u8(4).u8(0)
    .u8(0 /* a configuration table is present */).u8(0 /* IMCR absent: virtual wire mode */).u8(0).u8(0).u8(0).b);
  out[10] = checksum(out);
  return out;
}

/** Write both into the EBDA; returns the floating pointer's address. */
export function writeMpTables(mem: GuestMemory, apicIds: readonly number[], base = EBDA_BASE): number {
  const config = buildMpConfig(apicIds);
  if (MP_FLOATING_SIZE + config.length > 1024) throw new Error(`MP table for ${apicIds.length} CPUs does not fit the EBDA's first KiB`);
  mem.writeBytes(base, buildMpFloating(base + MP_FLOATING_SIZE));
  mem.writeBytes(base + MP_FLOATING_SIZE, config);
  return base;
}
