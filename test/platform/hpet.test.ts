// The HPET programmed the way Linux's hpet.c programs it: capabilities, the main counter,
// legacy replacement with timer 0 periodic (the boot clockevent), one-shot comparators,
// level-triggered status, and the ACPI table that announces it.
import { describe, expect, it } from 'vitest';
import { Timers } from '../../devices/clock.js';
import {
  CFG_ENABLE, CFG_LEGACY, HPET_CFG, HPET_COUNTER, HPET_STATUS, Hpet, TN_32BIT, TN_ENABLE, TN_LEVEL, TN_PERIODIC, TN_SETVAL,
} from '../../devices/hpet.js';
import { buildAcpi } from '../../machine/acpi.js';
import { GuestMemory } from '../../mmu/memory.js';

class FakeClock { t = 0; now(): number { return this.t; } }

function setup() {
  const clock = new FakeClock();
  const timers = new Timers(clock);
  const edges: string[] = [];
  const hpet = new Hpet({ clock, timers, irqs: { setIrq: (l, v) => edges.push(`${l}:${v ? 1 : 0}`) } });
  timers.add(hpet);
  const rd = (o: number) => hpet.mmioRead(o, 4) >>> 0;
  const wr = (o: number, v: number) => hpet.mmioWrite(o, 4, v);
  const at = (ns: number) => { clock.t = ns; timers.run(); };
  return { clock, timers, hpet, rd, wr, at, edges };
}

const T0_CFG = 0x100, T0_CMP = 0x108, T2_CFG = 0x140, T2_CMP = 0x148;

describe('HPET', () => {
  it('capabilities: 3 timers, 64-bit counter, legacy capable, Intel, 10 ns period', () => {
    const { rd } = setup();
    expect(rd(0x000)).toBe(0x8086a201);
    expect(rd(0x004)).toBe(10_000_000);
    expect(rd(T0_CFG) & 0x30).toBe(0x30); // periodic capable, 64-bit comparator
    expect(rd(T0_CFG + 4)).toBe(0x00ff0000);
  });

  it('main counter runs at 100 MHz only while enabled, and is writable while halted', () => {
    const { rd, wr, at } = setup();
    at(1000);
    expect(rd(HPET_COUNTER)).toBe(0);
    wr(HPET_COUNTER, 500);
    wr(HPET_CFG, CFG_ENABLE);
    at(2000);
    expect(rd(HPET_COUNTER)).toBe(600);
    wr(HPET_COUNTER, 0); // ignored while running
    expect(rd(HPET_COUNTER)).toBe(600);
  });

  it('legacy replacement, timer 0 periodic 32-bit with SETVAL (Linux\'s sequence) -> IRQ 0 every period', () => {
    const { rd, wr, at, edges } = setup();
    wr(HPET_CFG, 0);
    wr(HPET_COUNTER, 0); wr(HPET_COUNTER + 4, 0);
    wr(HPET_CFG, CFG_ENABLE | CFG_LEGACY);
    const delta = 100_000; // 1 ms
    wr(T0_CFG, rd(T0_CFG) | TN_ENABLE | TN_PERIODIC | TN_SETVAL | TN_32BIT);
    wr(T0_CMP, rd(HPET_COUNTER) + delta);
    wr(T0_CMP, delta);
    expect(rd(T0_CFG) & TN_SETVAL).toBe(0);
    at(999_990);
    expect(edges).toEqual([]);
    at(1_000_000);
    expect(edges).toEqual(['0:1', '0:0']);
    at(2_000_000);
    at(3_500_000);
    expect(edges.length).toBe(6);
    expect(rd(T0_CMP)).toBe(400_000);
  });

  it('one-shot 64-bit comparator fires once when the counter reaches it', () => {
    const { wr, at, edges } = setup();
    wr(HPET_CFG, CFG_ENABLE | CFG_LEGACY);
    wr(T0_CFG, TN_ENABLE);
    wr(T0_CMP, 5000); wr(T0_CMP + 4, 0);
    at(49_990);
    expect(edges).toEqual([]);
    at(50_000);
    at(900_000);
    expect(edges).toEqual(['0:1', '0:0']);
  });

  it('level-triggered timer on GSI 20 holds the line and the status bit until written 1 to clear', () => {
    const { rd, wr, at, edges } = setup();
    wr(HPET_CFG, CFG_ENABLE);
    wr(T2_CFG, TN_ENABLE | TN_LEVEL | (20 << 9));
    wr(T2_CMP, 100); wr(T2_CMP + 4, 0);
    at(1000);
    expect(edges).toEqual(['20:1']);
    expect(rd(HPET_STATUS)).toBe(4);
    wr(HPET_STATUS, 4);
    expect(rd(HPET_STATUS)).toBe(0);
    expect(edges).toEqual(['20:1', '20:0']);
  });

  it('a 32-bit one-shot comparator behind the counter fires after the low 32 bits wrap', () => {
    const { wr, hpet, rd } = setup();
    wr(HPET_CFG, CFG_ENABLE);
    wr(T2_CFG, TN_ENABLE | TN_32BIT | (20 << 9));
    wr(T2_CMP, 0);
    expect(rd(T2_CMP + 4)).toBe(0);
    expect(hpet.advance(0)).toBe(2 ** 32 * 10);
  });

  it('ACPI: the HPET table is listed in the XSDT and names 0xFED00000 only when asked', () => {
    const mem = new GuestMemory(64 << 20);
    expect(buildAcpi(mem, { ramSize: 64 << 20 }).tables.HPET).toBeUndefined();
    const layout = buildAcpi(mem, { ramSize: 64 << 20, hpet: true });
    const t = layout.tables.HPET;
    expect(t.length).toBe(56);
    expect(mem.u8.subarray(t.addr, t.addr + t.length).reduce((a, b) => (a + b) & 0xff, 0)).toBe(0);
    expect(mem.dv.getUint32(t.addr + 36, true)).toBe(0x8086a201);
    expect(mem.dv.getUint32(t.addr + 44, true)).toBe(0xfed00000);
    const x = layout.tables.XSDT;
    expect(mem.dv.getUint32(x.addr + 4, true)).toBe(36 + 3 * 8);
    expect(mem.dv.getUint32(x.addr + 36 + 16, true)).toBe(t.addr);
  });
});

describe('HPET 64-bit periodic', () => {
  it('a 64-bit store (low then high) with SETVAL sets the whole accumulator, then the period repeats', () => {
    const { rd, wr, at, edges } = setup();
    wr(HPET_CFG, CFG_ENABLE | CFG_LEGACY);
    wr(T0_CFG, TN_ENABLE | TN_PERIODIC | TN_SETVAL);
    wr(T0_CMP, 1000); wr(T0_CMP + 4, 0);
    expect(rd(T0_CFG) & TN_SETVAL).toBe(0);
    expect(rd(T0_CMP + 4)).toBe(0);
    at(10_000);
    at(20_000);
    expect(edges).toEqual(['0:1', '0:0', '0:1', '0:0']);
    expect(rd(T0_CMP)).toBe(3000);
  });
});
