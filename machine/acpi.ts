// The ACPI tables the machine hands a guest OS: RSDP (in the BIOS area, where the
// kernel scans for it), RSDT/XSDT, FADT (revision 5) with FACS, MADT, and a DSDT
// assembled by machine/acpi-aml.ts (\_S5_ for power-off, \_SB.PCI0 with its bridge
// windows and _PRT, the PS/2 controller). ACPI 6.4 chapter 5; values match devices/acpi-pm.ts,
// devices/lapic.ts, devices/ioapic.ts, devices/hpet.ts and devices/pci*.ts.

import type { GuestMemory } from '../mmu/memory.js';
import {
  PM1_CNT_LEN, PM1_EVT_LEN, PM1A_CNT_BLK, PM1A_EVT_BLK, PM_TMR_BLK, PM_TMR_LEN, SCI_IRQ, SLP_TYP_S5,
} from '../devices/acpi-pm.js';
import { HPET_BASE, HPET_CAP_LO } from '../devices/hpet.js';
import { IOAPIC_BASE } from '../devices/ioapic.js';
import { LAPIC_BASE } from '../devices/lapic.js';
import { intxGsi, PCI_CONFIG_ADDRESS, RC_RST_CPU, RC_SYS_RST, RESET_CONTROL } from '../devices/pci.js';
import {
  type Aml, device, dwordMemory, eisaId, integer, ioPort, irqNoFlags, methodReturning, name, pkg, resourceTemplate, scope,
  string, wordBusNumber, wordIo,
} from './acpi-aml.js';
import { FW_CFG_PORT_COUNT, FW_CFG_PORT_SEL } from '../devices/fwcfg.js';

/** Default RSDP address: the start of the BIOS area the kernel scans (0xE0000-0xFFFFF, 16-byte aligned). */
export const RSDP_ADDR = 0xe0000;
/** The tables other than the RSDP live in this many bytes at the top of RAM (FACS first, in NVS). */
export const ACPI_REGION_SIZE = 0x10000;
/** The first page of the region holds the FACS (ACPI NVS); the rest is ACPI reclaimable. */
export const ACPI_NVS_SIZE = 0x1000;

export const OEM_ID = 'EMU   ';
export const OEM_TABLE_ID = 'EMUPC   ';
const CREATOR_ID = 'EMU ';
const SDT_HEADER = 36;

// FADT fields used below (ACPI 6.4 5.2.9).
export const FADT_REVISION = 5;
export const FADT_LENGTH = 268;
export const FADT_SCI_INT = 46, FADT_PM1A_EVT = 56, FADT_PM1A_CNT = 64, FADT_PM_TMR = 76, FADT_PM1_EVT_LEN = 88;
export const FADT_IAPC_BOOT_ARCH = 109, FADT_FLAGS = 112, FADT_RESET_REG = 116, FADT_RESET_VALUE = 128;
export const FADT_X_FIRMWARE_CTRL = 132, FADT_X_DSDT = 140, FADT_X_PM1A_EVT = 148, FADT_X_PM1A_CNT = 172, FADT_X_PM_TMR = 208;
export const BOOT_LEGACY_DEVICES = 1 << 0, BOOT_8042 = 1 << 1, BOOT_VGA_NOT_PRESENT = 1 << 2, BOOT_MSI_NOT_SUPPORTED = 1 << 3;
export const FLAG_WBINVD = 1 << 0, FLAG_PROC_C1 = 1 << 2, FLAG_SLP_BUTTON = 1 << 5, FLAG_TMR_VAL_EXT = 1 << 8, FLAG_RESET_REG_SUP = 1 << 10;

// MADT (5.2.12).
export const MADT_PCAT_COMPAT = 1;
export const MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_ISO = 2, MADT_LAPIC_NMI = 4;
/** MPS INTI flags: polarity bits 1:0, trigger mode bits 3:2. */
export const INTI_ACTIVE_HIGH = 1, INTI_LEVEL = 3 << 2;

const GAS_MEMORY = 0, GAS_IO = 1;
const ACCESS_BYTE = 1, ACCESS_WORD = 2, ACCESS_DWORD = 3;

export interface AcpiConfig {
  ramSize: number;
  /** Start of the PCI memory window (the MMIO hole); defaults to the end of RAM. */
  pciMemStart?: number;
  rsdpAddr?: number;
  /**
   * Where the ACPI_REGION_SIZE bytes of tables go; default the top of RAM (Linux's e820 marks it).
   * 0xF0000 puts them in the BIOS area that every PC memory map already reserves (multiboot guests).
   */
  regionBase?: number;
  /** Let the kernel use MSI (only once devices can deliver them). */
  msi?: boolean;
  /** Describe the HPET at 0xFED00000 (devices/hpet.ts) with an HPET table. */
  hpet?: boolean;
  /** Processors the MADT lists (processor UID = vCPU index); default 1. */
  cpus?: number;
  /** Their APIC IDs in index order (cpu/topology.ts); default the index. */
  apicIds?: readonly number[];
}

export interface AcpiLayout {
  rsdp: number;
  /** [regionBase, regionBase + ACPI_REGION_SIZE): FACS page (NVS), then the other tables (reclaimable). */
  regionBase: number;
  tables: Record<string, { addr: number; length: number }>;
}

/** Little-endian byte builder for one table. */
export class Bytes {
  readonly b: number[] = [];
  u8(v: number): this { this.b.push(v & 0xff); return this; }
  u16(v: number): this { return this.u8(v).u8(v >>> 8); }
  u32(v: number): this { return this.u16(v & 0xffff).u16(v >>> 16); }
  u64(v: number): this { return this.u32(v % 0x100000000).u32(Math.floor(v / 0x100000000)); }
  str(s: string, len: number): this { for (let i = 0; i < len; i++) this.u8(i < s.length ? s.charCodeAt(i) : 0x20); return this; }
  bytes(a: ArrayLike<number>): this { for (let i = 0; i < a.length; i++) this.u8(a[i]); return this; }
  /** Generic Address Structure (5.2.3.2). */
  gas(space: number, bitWidth: number, accessSize: number, addr: number): this {
    return this.u8(space).u8(bitWidth).u8(0).u8(accessSize).u64(addr);
  }
  pad(to: number): this { while (this.b.length < to) this.b.push(0); return this; }
}

export function checksum(bytes: ArrayLike<number>, start = 0, end = bytes.length): number {
  let s = 0;
  for (let i = start; i < end; i++) s = (s + bytes[i]) & 0xff;
  return (0x100 - s) & 0xff;
}

/** Wrap a body in a system description table header with length and checksum filled in. */
export function sdt(signature: string, revision: number, body: ArrayLike<number>): Uint8Array {
  const h = new Bytes().str(signature, 4).u32(SDT_HEADER + body.length).u8(revision).u8(0)
    .str(OEM_ID, 6).str(OEM_TABLE_ID, 8).u32(1).str(CREATOR_ID, 4).u32(1).bytes(body);
  const out = Uint8Array.from(h.b);
  out[9] = checksum(out);
  return out;
}

export function buildRsdp(rsdt: number, xsdt: number): Uint8Array {
  const b = new Bytes().str('RSD PTR ', 8).u8(0).str(OEM_ID, 6).u8(2).u32(rsdt).u32(36).u64(xsdt).u8(0).u8(0).u8(0).u8(0);
  const out = Uint8Array.from(b.b);
  out[8] = checksum(out, 0, 20);
  out[32] = checksum(out, 0, 36);
  return out;
}

export function buildFadt(facs: number, dsdt: number, msi: boolean): Uint8Array {
  const b = new Bytes();
  b.u32(facs).u32(dsdt).u8(0).u8(0 /* unspecified PM profile */).u16(SCI_IRQ)
    .u32(0 /* no SMI_CMD: always in ACPI mode */).u8(0).u8(0).u8(0).u8(0)
    .u32(PM1A_EVT_BLK).u32(0).u32(PM1A_CNT_BLK).u32(0).u32(0).u32(PM_TMR_BLK).u32(0).u32(0)
    .u8(PM1_EVT_LEN).u8(PM1_CNT_LEN).u8(0).u8(PM_TMR_LEN).u8(0).u8(0).u8(0).u8(0)
    .u16(101 /* no C2 */).u16(1001 /* no C3 */).u16(0).u16(0).u8(0).u8(0).u8(0).u8(0).u8(0 /* no century register */)
    .u16(BOOT_LEGACY_DEVICES | BOOT_8042 | BOOT_VGA_NOT_PRESENT | (msi ? 0 : BOOT_MSI_NOT_SUPPORTED)).u8(0)
    .u32(FLAG_WBINVD | FLAG_PROC_C1 | FLAG_SLP_BUTTON | FLAG_TMR_VAL_EXT | FLAG_RESET_REG_SUP)
    .gas(GAS_IO, 8, ACCESS_BYTE, RESET_CONTROL).u8(RC_RST_CPU | RC_SYS_RST).u16(0).u8(0 /* minor version */)
    .u64(facs).u64(dsdt)
    .gas(GAS_IO, PM1_EVT_LEN * 8, ACCESS_WORD, PM1A_EVT_BLK).gas(GAS_MEMORY, 0, 0, 0)
    .gas(GAS_IO, PM1_CNT_LEN * 8, ACCESS_WORD, PM1A_CNT_BLK).gas(GAS_MEMORY, 0, 0, 0)
    .gas(GAS_MEMORY, 0, 0, 0) // PM2
    .gas(GAS_IO, PM_TMR_LEN * 8, ACCESS_DWORD, PM_TMR_BLK)
    .gas(GAS_MEMORY, 0, 0, 0).gas(GAS_MEMORY, 0, 0, 0) // GPE0, GPE1
    .gas(GAS_MEMORY, 0, 0, 0).gas(GAS_MEMORY, 0, 0, 0); // sleep control/status (hardware-reduced only)
  const out = sdt('FACP', FADT_REVISION, b.b);
  if (out.length !== FADT_LENGTH) throw new Error(`FADT is ${out.length} bytes, expected ${FADT_LENGTH}`);
  return out;
}

/** FACS (5.2.10): 64 bytes, no header checksum; the kernel keeps the waking vector and global lock here. */
export function buildFacs(): Uint8Array {
  const b = new Bytes().str('FACS', 4).u32(64).u32(0 /* hardware signature */).u32(0).u32(0 /* global lock */).u32(0).u64(0).u8(2).pad(64);
  return Uint8Array.from(b.b);
}

export function buildMadt(cpus = 1, apicIds?: readonly number[]): Uint8Array {
  const b = new Bytes().u32(LAPIC_BASE).u32(MADT_PCAT_COMPAT);
  for (let i = 0; i < cpus; i++) b.u8(MADT_LAPIC).u8(8).u8(i /* processor UID */).u8(apicIds?.[i] ?? i).u32(1 /* enabled */);
  b.u8(MADT_IOAPIC).u8(12).u8(0 /* IOAPIC ID */).u8(0).u32(IOAPIC_BASE).u32(0 /* GSI base */);
  // ISA IRQ0 (PIT) is wired to GSI 2; the SCI is level-triggered, active high.
  b.u8(MADT_ISO).u8(10).u8(0 /* ISA */).u8(0).u32(2).u16(0);
  b.u8(MADT_ISO).u8(10).u8(0).u8(SCI_IRQ).u32(SCI_IRQ).u16(INTI_ACTIVE_HIGH | INTI_LEVEL);
  // LINT1 of every processor carries NMI.
  b.u8(MADT_LAPIC_NMI).u8(6).u8(0xff).u16(0).u8(1);
  return sdt('APIC', 4, b.b);
}

/** HPET description table (IA-PC HPET spec 3.2.4): the event timer block's ID and address. */
export function buildHpetTable(): Uint8Array {
  const b = new Bytes().u32(HPET_CAP_LO).gas(GAS_MEMORY, 64, 0, HPET_BASE).u8(0 /* HPET number */)
    .u16(100 /* minimum periodic tick: 1 us */).u8(0 /* no page protection */);
  return sdt('HPET', 1, b.b);
}

/** \_SB.PCI0's _PRT: every slot's INTA-D to the GSI the board wires it to (devices/pci.ts intxGsi). */
function pciRoutingTable(): Aml {
  const entries: Aml[] = [];
  for (let slot = 1; slot < 32; slot++) {
    for (let pin = 0; pin < 4; pin++) {
      entries.push(pkg(integer(((slot << 16) | 0xffff) >>> 0), integer(pin), integer(0), integer(intxGsi(slot, pin + 1))));
    }
  }
  // A package holds at most 255 elements: 124 entries fit.
  return pkg(...entries);
}

export function buildDsdt(pciMemStart: number): Aml {
  return [
    ...name('_S5_', pkg(integer(SLP_TYP_S5), integer(SLP_TYP_S5), integer(0), integer(0))),
    ...scope('\\_SB_',
      device('PCI0',
        name('_HID', eisaId('PNP0A03')),
        name('_ADR', integer(0)),
        name('_UID', integer(0)),
        name('_CRS', resourceTemplate(
          wordBusNumber(0, 0xff),
          ioPort(PCI_CONFIG_ADDRESS, 8),
          wordIo(0x0000, 0x0cf7),
          wordIo(0x0d00, 0xffff),
          dwordMemory(0x000a0000, 0x000bffff),
          dwordMemory(pciMemStart, 0xfebfffff),
        )),
        name('_PRT', pciRoutingTable()),
        device('KBD_',
          name('_HID', eisaId('PNP0303')),
          methodReturning('_STA', integer(0x0f)),
          name('_CRS', resourceTemplate(ioPort(0x60, 1), ioPort(0x64, 1), irqNoFlags(1))),
        ),
      ),
      // QEMU's fw_cfg (devices/fwcfg.ts): Linux's qemu_fw_cfg driver binds to this _HID.
      device('FWCF',
        name('_HID', string('QEMU0002')),
        methodReturning('_STA', integer(0x0b)),
        name('_CRS', resourceTemplate(ioPort(FW_CFG_PORT_SEL, FW_CFG_PORT_COUNT))),
      ),
    ),
  ];
}

/**
 * Write every table into guest memory and return where they went. The RSDP goes at
 * `rsdpAddr` (BIOS area); the rest fill ACPI_REGION_SIZE bytes at `regionBase` (default the
 * top of RAM, which machine/e820.ts reports as ACPI NVS (FACS page) and ACPI reclaimable).
 */
export function buildAcpi(mem: GuestMemory, cfg: AcpiConfig): AcpiLayout {
  const regionBase = cfg.regionBase ?? cfg.ramSize - ACPI_REGION_SIZE;
  if (cfg.regionBase === undefined && regionBase < 0x100000) throw new Error(`${cfg.ramSize >>> 20} MiB of RAM leaves no room for the ACPI tables`);
  const pciMemStart = cfg.pciMemStart ?? Math.max(cfg.ramSize, 0x80000000);
  const rsdpAddr = cfg.rsdpAddr ?? RSDP_ADDR;
  const tables: AcpiLayout['tables'] = {};
  let next = regionBase;
  const place = (key: string, bytes: Uint8Array, align = 16): number => {
    next = Math.ceil(next / align) * align; // RAM reaches past 2 GiB: no 32-bit bitwise rounding
    const addr = next;
    if (addr + bytes.length > regionBase + ACPI_REGION_SIZE) throw new Error('ACPI tables overflow their region');
    mem.writeBytes(addr, bytes);
    tables[key] = { addr, length: bytes.length };
    next = addr + bytes.length;
    return addr;
  };
  mem.fill(regionBase, ACPI_REGION_SIZE, 0);
  const facs = place('FACS', buildFacs(), 64);
  next = regionBase + ACPI_NVS_SIZE;
  const dsdt = place('DSDT', sdt('DSDT', 2, buildDsdt(pciMemStart)));
  const fadt = place('FACP', buildFadt(facs, dsdt, cfg.msi ?? false));
  const madt = place('APIC', buildMadt(cfg.cpus ?? 1, cfg.apicIds));
  const entries = [fadt, madt];
  if (cfg.hpet) entries.push(place('HPET', buildHpetTable()));
  const rsdtBody = new Bytes();
  for (const e of entries) rsdtBody.u32(e);
  const rsdt = place('RSDT', sdt('RSDT', 1, rsdtBody.b));
  const xsdtBody = new Bytes();
  for (const e of entries) xsdtBody.u64(e);
  const xsdt = place('XSDT', sdt('XSDT', 1, xsdtBody.b));
  const rsdp = buildRsdp(rsdt, xsdt);
  mem.writeBytes(rsdpAddr, rsdp);
  tables.RSDP = { addr: rsdpAddr, length: rsdp.length };
  return { rsdp: rsdpAddr, regionBase, tables };
}
