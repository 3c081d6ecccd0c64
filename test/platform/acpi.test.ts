// ACPI tables read back out of guest memory the way the kernel's table code finds them
// (scan for the RSDP, follow the XSDT), and the PM fixed hardware driven like ACPICA drives it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Timers } from '../../devices/clock.js';
import { AcpiPm, PM1A_CNT_BLK, PM1A_EVT_BLK, PM_TMR_BLK, PWRBTN_STS, SCI_EN, SLP_EN, TMR_STS } from '../../devices/acpi-pm.js';
import { ACPI_REGION_SIZE, buildAcpi, FADT_FLAGS, FADT_IAPC_BOOT_ARCH, FADT_PM1A_CNT, FADT_PM1A_EVT, FADT_PM_TMR, FADT_RESET_REG, FADT_RESET_VALUE, FADT_SCI_INT, FADT_X_DSDT, FADT_X_PM_TMR } from '../../machine/acpi.js';
import { eisaId, integer, nameString, pkgLength } from '../../machine/acpi-aml.js';
import { GuestMemory } from '../../mmu/memory.js';

const RAM = 64 << 20;

function sum(b: Uint8Array): number { return b.reduce((s, x) => (s + x) & 0xff, 0); }

function build() {
  const mem = new GuestMemory(RAM);
  const layout = buildAcpi(mem, { ramSize: RAM });
  const dv = mem.dv;
  const sig = (a: number) => String.fromCharCode(...mem.u8.subarray(a, a + 4));
  const table = (a: number) => mem.u8.subarray(a, a + dv.getUint32(a + 4, true));
  return { mem, layout, dv, sig, table };
}

/** Find the RSDP the way the kernel does: "RSD PTR " on 16-byte boundaries of 0xE0000-0xFFFFF. */
function scanRsdp(mem: GuestMemory): number {
  for (let a = 0xe0000; a < 0x100000; a += 16) {
    if (String.fromCharCode(...mem.u8.subarray(a, a + 8)) === 'RSD PTR ') return a;
  }
  return -1;
}

describe('ACPI tables in guest memory', () => {
  it('RSDP is found by scanning the BIOS area, with valid checksum and extended checksum', () => {
    const { mem, dv } = build();
    const a = scanRsdp(mem);
    expect(a).toBe(0xe0000);
    expect(sum(mem.u8.subarray(a, a + 20))).toBe(0);
    expect(mem.u8[a + 15]).toBe(2); // ACPI 2.0+ revision
    expect(dv.getUint32(a + 20, true)).toBe(36);
    expect(sum(mem.u8.subarray(a, a + 36))).toBe(0);
  });

  it('RSDT and XSDT list the FADT and MADT; every table checksums to zero and lies in the ACPI region', () => {
    const { mem, dv, sig, table, layout } = build();
    const a = scanRsdp(mem);
    const rsdt = dv.getUint32(a + 16, true), xsdt = dv.getUint32(a + 24, true);
    expect(dv.getUint32(a + 28, true)).toBe(0);
    expect(sig(rsdt)).toBe('RSDT');
    expect(sig(xsdt)).toBe('XSDT');
    const xs = table(xsdt), rs = table(rsdt);
    expect(sum(xs)).toBe(0);
    expect(sum(rs)).toBe(0);
    const xEntries = (xs.length - 36) / 8, rEntries = (rs.length - 36) / 4;
    expect(xEntries).toBe(2);
    expect(rEntries).toBe(2);
    const sigs: string[] = [];
    for (let i = 0; i < xEntries; i++) {
      const t = dv.getUint32(xsdt + 36 + 8 * i, true);
      expect(dv.getUint32(xsdt + 40 + 8 * i, true)).toBe(0);
      expect(dv.getUint32(rsdt + 36 + 4 * i, true)).toBe(t);
      expect(sum(table(t))).toBe(0);
      expect(t).toBeGreaterThanOrEqual(layout.regionBase);
      expect(t + table(t).length).toBeLessThanOrEqual(layout.regionBase + ACPI_REGION_SIZE);
      sigs.push(sig(t));
    }
    expect(sigs).toEqual(['FACP', 'APIC']);
  });

  it('FADT (revision 5, 268 bytes) names the PM blocks, SCI 9, reset register 0xCF9 <- 6, the 8042 and no VGA', () => {
    const { dv, sig, table, layout } = build();
    const f = layout.tables.FACP.addr;
    expect(table(f).length).toBe(268);
    expect(table(f)[8]).toBe(5);
    expect(dv.getUint16(f + FADT_SCI_INT, true)).toBe(9);
    expect(dv.getUint32(f + FADT_PM1A_EVT, true)).toBe(0x600);
    expect(dv.getUint32(f + FADT_PM1A_CNT, true)).toBe(0x604);
    expect(dv.getUint32(f + FADT_PM_TMR, true)).toBe(0x608);
    expect(dv.getUint8(f + FADT_X_PM_TMR)).toBe(1); // SystemIO
    expect(dv.getUint8(f + FADT_X_PM_TMR + 1)).toBe(32);
    expect(dv.getUint32(f + FADT_X_PM_TMR + 4, true)).toBe(0x608);
    expect(dv.getUint16(f + FADT_IAPC_BOOT_ARCH, true) & 0x7).toBe(0x7);
    const flags = dv.getUint32(f + FADT_FLAGS, true);
    expect(flags & (1 << 8)).not.toBe(0); // 32-bit PM timer
    expect(flags & (1 << 10)).not.toBe(0); // reset register supported
    expect(dv.getUint8(f + FADT_RESET_REG)).toBe(1);
    expect(dv.getUint32(f + FADT_RESET_REG + 4, true)).toBe(0xcf9);
    expect(dv.getUint8(f + FADT_RESET_VALUE)).toBe(6);
    const dsdt = dv.getUint32(f + 40, true);
    expect(dv.getUint32(f + FADT_X_DSDT, true)).toBe(dsdt);
    expect(sig(dsdt)).toBe('DSDT');
    const facs = dv.getUint32(f + 36, true);
    expect(sig(facs)).toBe('FACS');
    expect(facs % 64).toBe(0);
  });

  it('MADT: LAPIC at 0xFEE00000 with PCAT_COMPAT, CPU 0, IOAPIC at 0xFEC00000, IRQ0->GSI2, SCI level/high, LINT1 NMI', () => {
    const { dv, layout, table } = build();
    const m = layout.tables.APIC.addr;
    const t = table(m);
    expect(dv.getUint32(m + 36, true)).toBe(0xfee00000);
    expect(dv.getUint32(m + 40, true)).toBe(1);
    const entries: number[][] = [];
    for (let o = 44; o < t.length; o += t[o + 1]) entries.push([...t.subarray(o, o + t[o + 1])]);
    expect(entries).toEqual([
      [0, 8, 0, 0, 1, 0, 0, 0],
      [1, 12, 0, 0, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0],
      [2, 10, 0, 0, 2, 0, 0, 0, 0, 0],
      [2, 10, 0, 9, 9, 0, 0, 0, 0x0d, 0],
      [4, 6, 0xff, 0, 0, 1],
    ]);
  });

  it('DSDT holds the exact AML of Name(_S5_, Package(4){5, 5, 0, 0}) and \\_SB.PCI0 with _HID PNP0A03', () => {
    const { layout, table } = build();
    const d = table(layout.tables.DSDT.addr);
    expect(sum(d)).toBe(0);
    const aml = [...d.subarray(36)];
    // NameOp "_S5_" PackageOp PkgLength(8) NumElements(4) BytePrefix 5 BytePrefix 5 Zero Zero
    expect(aml.slice(0, 14)).toEqual([0x08, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00]);
    const hex = Buffer.from(aml).toString('hex');
    expect(hex).toContain(Buffer.from([0x5b, 0x82]).toString('hex')); // DeviceOp
    expect(hex).toContain(Buffer.from('PCI0').toString('hex') + '08' + Buffer.from('_HID').toString('hex') + '0c41d00a03');
  });

  it('iasl disassembles the tables without complaint (when acpica-tools is installed)', (ctx) => {
    try { execFileSync('iasl', ['-v'], { stdio: 'ignore' }); } catch { ctx.skip(); }
    const { layout, mem } = build();
    const dir = mkdtempSync(join(tmpdir(), 'emu-acpi-'));
    for (const key of ['DSDT', 'FACP', 'APIC']) {
      const t = layout.tables[key];
      writeFileSync(join(dir, `${key}.dat`), mem.u8.subarray(t.addr, t.addr + t.length));
      const out = execFileSync('iasl', ['-d', `${key}.dat`], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out).not.toMatch(/Incorrect checksum|Error/i);
    }
    const dsl = readFileSync(join(dir, 'DSDT.dsl'), 'utf8');
    expect(dsl).toMatch(/Name \(_S5, Package \(0x04\)/);
    expect(dsl).toMatch(/Device \(PCI0\)/);
    expect(dsl).toMatch(/Name \(_PRT, Package \(0x7C\)/);
  });
});

describe('AML encoder', () => {
  it('PkgLength uses one byte below 64 and the multi-byte form above', () => {
    expect(pkgLength(5)).toEqual([6]);
    expect(pkgLength(62)).toEqual([63]);
    expect(pkgLength(63)).toEqual([0x41, 0x04]); // 65 = 0x41
    expect(pkgLength(0x1000)).toEqual([0x83, 0x00, 0x01]); // 4099 = 0x1003 needs two more bytes
  });

  it('names, integers and EISA IDs encode as the spec gives them', () => {
    expect(nameString('\\_SB_.PCI0')).toEqual([0x5c, 0x2e, 0x5f, 0x53, 0x42, 0x5f, 0x50, 0x43, 0x49, 0x30]);
    expect(nameString('KBD')).toEqual([0x4b, 0x42, 0x44, 0x5f]);
    expect(integer(0x1234)).toEqual([0x0b, 0x34, 0x12]);
    expect(integer(0x1_0000_0000)).toEqual([0x0e, 0, 0, 0, 0, 1, 0, 0, 0]);
    expect(eisaId('PNP0A03')).toEqual([0x0c, 0x41, 0xd0, 0x0a, 0x03]);
    expect(() => nameString('pci0')).toThrow();
  });
});

class FakeClock { t = 0; now(): number { return this.t; } }

describe('ACPI PM fixed hardware', () => {
  function setup() {
    const clock = new FakeClock();
    const timers = new Timers(clock);
    const sci: boolean[] = [];
    let off = 0;
    const pm = new AcpiPm({ clock, timers, setSci: (l) => sci.push(l), onPowerOff: () => off++ });
    timers.add(pm);
    return { clock, timers, pm, sci, poweroffs: () => off };
  }

  it('PM timer counts 3.579545 MHz of virtual time, 32 bits wide', () => {
    const { clock, pm } = setup();
    clock.t = 1e9;
    expect(pm.portRead(PM_TMR_BLK, 4)).toBe(3_579_545);
    clock.t = 1_000_000;
    expect(pm.portRead(PM_TMR_BLK, 4)).toBe(3579);
    clock.t = 1300e9; // past 2^32 ticks: wraps
    expect(pm.portRead(PM_TMR_BLK, 4)).toBe((3_579_545 * 1300) % 2 ** 32);
  });

  it('guest writes SLP_TYP=5|SLP_EN to PM1a_CNT -> power off; SCI_EN reads set', () => {
    const { pm, poweroffs } = setup();
    expect(pm.portRead(PM1A_CNT_BLK, 2) & SCI_EN).toBe(SCI_EN);
    pm.portWrite(PM1A_CNT_BLK, 2, 5 << 10);
    expect(poweroffs()).toBe(0);
    pm.portWrite(PM1A_CNT_BLK, 2, (5 << 10) | SLP_EN);
    expect(poweroffs()).toBe(1);
  });

  it('power button: status set, SCI raised once enabled, cleared by writing 1', () => {
    const { pm, sci } = setup();
    pm.pressPowerButton();
    expect(pm.portRead(PM1A_EVT_BLK, 2) & PWRBTN_STS).toBe(PWRBTN_STS);
    expect(sci).toEqual([]);
    pm.portWrite(PM1A_EVT_BLK + 2, 2, PWRBTN_STS);
    expect(sci).toEqual([true]);
    pm.portWrite(PM1A_EVT_BLK, 2, PWRBTN_STS);
    expect(sci).toEqual([true, false]);
    expect(pm.portRead(PM1A_EVT_BLK, 2) & PWRBTN_STS).toBe(0);
  });

  it('timer MSB toggle sets TMR_STS and, with TMR_EN, raises the SCI on time', () => {
    const { clock, timers, pm, sci } = setup();
    pm.portWrite(PM1A_EVT_BLK + 2, 2, TMR_STS);
    const due = timers.next;
    expect(due).toBeCloseTo((2 ** 31 / 3_579_545) * 1e9, -3);
    clock.t = due + 1;
    timers.run();
    expect(sci).toEqual([true]);
    expect(pm.portRead(PM1A_EVT_BLK, 4) & TMR_STS).toBe(TMR_STS);
  });
});

describe('ACPI tables for multiboot guests', () => {
  it('regionBase 0xF0000 puts every table in the reserved BIOS area below 1 MiB', () => {
    const mem = new GuestMemory(RAM);
    const layout = buildAcpi(mem, { ramSize: RAM, regionBase: 0xf0000 });
    for (const t of Object.values(layout.tables)) {
      expect(t.addr).toBeGreaterThanOrEqual(0xe0000);
      expect(t.addr + t.length).toBeLessThanOrEqual(0x100000);
    }
    expect(mem.dv.getUint32(layout.tables.FACP.addr + 40, true)).toBe(layout.tables.DSDT.addr);
  });
});
