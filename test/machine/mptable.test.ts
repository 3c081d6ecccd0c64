// The MP specification 1.4 tables in the EBDA: the floating pointer and the configuration
// table, byte for byte where the layout is fixed, with both checksums, for the APIC IDs a
// -smp topology gives (machine/linux.ts and the multiboot loader write them).
import { describe, expect, it } from 'vitest';
import { GuestMemory } from '../../mmu/memory.js';
import { buildMpConfig, writeMpTables } from '../../machine/mptable.js';

const sum = (b: ArrayLike<number>) => Array.from(b).reduce((a, x) => (a + x) & 0xff, 0);
const text = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));

describe('MP table (Intel MP spec 1.4)', () => {
  it('floating pointer at the EBDA: "_MP_", the config table right after, length 1, rev 1.4, checksum 0, virtual wire', () => {
    const mem = new GuestMemory(16 << 20);
    expect(writeMpTables(mem, [0, 1, 2, 4])).toBe(0x9fc00);
    const fp = mem.u8.subarray(0x9fc00, 0x9fc10);
    expect(text(fp, 0, 4)).toBe('_MP_');
    expect(mem.dv.getUint32(0x9fc04, true)).toBe(0x9fc10);
    expect([fp[8], fp[9], fp[11], fp[12]]).toEqual([1, 4, 0, 0]);
    expect(sum(fp)).toBe(0);
    const len = mem.dv.getUint16(0x9fc14, true);
    expect(sum(mem.u8.subarray(0x9fc10, 0x9fc10 + len))).toBe(0);
  });

  it('config table: header fields, one processor entry per APIC ID (BSP flagged), ISA bus, IOAPIC, IRQ routing, LINT0/LINT1', () => {
    const t = buildMpConfig([0, 1, 2, 4, 5, 6]);
    const dv = new DataView(t.buffer);
    expect(text(t, 0, 4)).toBe('PCMP');
    expect(dv.getUint16(4, true)).toBe(t.length);
    expect(t[6]).toBe(4);
    expect(sum(t)).toBe(0);
    expect(text(t, 8, 8)).toBe('EMU     ');
    expect(dv.getUint32(36, true)).toBe(0xfee00000);
    const count = dv.getUint16(34, true);
    const cpus: number[][] = [], io: number[][] = [], local: number[][] = [];
    let bus = '', ioapic: number[] = [];
    let o = 44;
    for (let k = 0; k < count; k++) {
      const type = t[o];
      if (type === 0) { cpus.push([t[o + 1], t[o + 2], t[o + 3], dv.getUint32(o + 4, true) >>> 8 & 0xf]); o += 20; continue; }
      if (type === 1) bus = `${t[o + 1]}:${text(t, o + 2, 6)}`;
      if (type === 2) ioapic = [t[o + 1], t[o + 2], t[o + 3], dv.getUint32(o + 4, true)];
      if (type === 3) io.push([t[o + 1], dv.getUint16(o + 2, true), t[o + 5], t[o + 7]]);
      if (type === 4) local.push([t[o + 1], t[o + 6], t[o + 7]]);
      o += 8;
    }
    expect(o).toBe(t.length);
    // [APIC ID, LAPIC version, flags (EN | BP), family]
    expect(cpus).toEqual([[0, 0x14, 3, 6], [1, 0x14, 1, 6], [2, 0x14, 1, 6], [4, 0x14, 1, 6], [5, 0x14, 1, 6], [6, 0x14, 1, 6]]);
    expect(bus).toBe('0:ISA   ');
    expect(ioapic).toEqual([0, 0x20, 1, 0xfec00000]);
    // [type, flags, source IRQ, IOAPIC pin]: ExtINT on pin 0, IRQ 0 on pin 2, no IRQ 2, the SCI (IRQ 9) level, active high
    expect(io[0]).toEqual([3, 0, 0, 0]);
    expect(io[1]).toEqual([0, 0, 0, 2]);
    expect(io.slice(1).map((e) => e[2])).toEqual([0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(io.find((e) => e[2] === 9)).toEqual([0, 0x0d, 9, 9]);
    // [type, destination APIC (all), LINTIN#]
    expect(local).toEqual([[3, 0xff, 0], [1, 0xff, 1]]);
  });

  it('16 vCPUs still fit the EBDA\'s first KiB', () => {
    expect(16 + buildMpConfig(Array.from({ length: 16 }, (_, i) => i)).length).toBeLessThanOrEqual(1024);
  });
});
