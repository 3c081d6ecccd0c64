// The platform pieces on the real board (machine/pc.ts) with the real 8259 and 8254:
// the paths Linux's APIC setup relies on, driven through the bus as the kernel does.
import { describe, expect, it } from 'vitest';
import { InstructionClock } from '../../devices/clock.js';
import { Machine } from '../../machine/machine.js';

const LAPIC = 0xfee00000, IOAPIC = 0xfec00000;

function board() {
  const m = new Machine({ memory: 32 << 20, accel: 'interp', deterministic: true });
  const clock = m.clock as InstructionClock;
  const out = (p: number, v: number) => m.bus.portWrite(p, 1, v);
  const apic = (reg: number, v: number) => m.bus.mmioWrite(LAPIC + reg, 4, v);
  const rte = (pin: number, lo: number) => {
    m.bus.mmioWrite(IOAPIC, 4, 0x11 + 2 * pin); m.bus.mmioWrite(IOAPIC + 0x10, 4, 0);
    m.bus.mmioWrite(IOAPIC, 4, 0x10 + 2 * pin); m.bus.mmioWrite(IOAPIC + 0x10, 4, lo);
  };
  // Linux's init_8259A (vectors 0x30/0x38), all lines unmasked for now.
  for (const [p, v] of [[0x20, 0x11], [0x21, 0x30], [0x21, 0x04], [0x21, 0x01], [0xa0, 0x11], [0xa1, 0x38], [0xa1, 0x02], [0xa1, 0x01], [0x21, 0x00], [0xa1, 0x00]]) out(p, v);
  const pitPeriodic = () => { out(0x43, 0x34); out(0x40, 0xa9); out(0x40, 0x04); }; // 1 ms
  const advance = (ns: number) => { clock.skipTo(clock.now() + ns); m.timers.run(); };
  const cpu = m.devices.interrupts;
  return { m, out, apic, rte, pitPeriodic, advance, cpu };
}

describe('PC interrupt wiring with the real 8259 and 8254', () => {
  it('virtual wire: the PIT reaches the CPU through the 8259 and the LAPIC\'s LINT0 ExtINT', () => {
    const { apic, pitPeriodic, advance, cpu, out } = board();
    apic(0xf0, 0x1ff); // enable the APIC, spurious vector 0xFF
    apic(0x350, 0x700); // LINT0 ExtINT, unmasked
    pitPeriodic();
    expect(cpu.acknowledge()).toBe(0x30);
    out(0x20, 0x20);
    advance(1_000_500);
    expect(cpu.hasInterrupt()).toBe(true);
    expect(cpu.acknowledge()).toBe(0x30);
  });

  it('symmetric I/O: 8259 masked, PIT on IOAPIC pin 2 -> LAPIC vector, EOI through the LAPIC', () => {
    const { apic, rte, pitPeriodic, advance, cpu, out } = board();
    out(0x21, 0xff); out(0xa1, 0xff); // Linux masks the 8259 in APIC mode
    apic(0xf0, 0x1ff);
    apic(0x350, 0x10700); // LINT0 masked
    rte(2, 0x30);
    pitPeriodic();
    expect(cpu.acknowledge()).toBe(0x30);
    apic(0xb0, 0);
    for (let tick = 0; tick < 3; tick++) {
      advance(1_000_000);
      expect(cpu.hasInterrupt()).toBe(true);
      expect(cpu.acknowledge()).toBe(0x30);
      apic(0xb0, 0);
    }
    expect(cpu.hasInterrupt()).toBe(false);
  });

  it('COM1 THRE interrupt arrives on IOAPIC pin 4', () => {
    const { apic, rte, cpu, out } = board();
    out(0x21, 0xff); out(0xa1, 0xff);
    apic(0xf0, 0x1ff);
    rte(4, 0x24);
    out(0x3fc, 0x08); // OUT2
    out(0x3f9, 0x02); // THRI
    expect(cpu.acknowledge()).toBe(0x24);
  });
});

describe('PC chipset functions through the machine', () => {
  it('the kernel\'s PCI scan finds the host bridge and the ISA bridge', () => {
    const { m } = board();
    m.bus.portWrite(0xcf8, 4, 0x80000000);
    expect(m.bus.portRead(0xcfc, 4) >>> 0).toBe(0x12378086);
    m.bus.portWrite(0xcf8, 4, 0x80000800);
    expect(m.bus.portRead(0xcfc, 4) >>> 0).toBe(0x70008086);
    m.bus.portWrite(0xcf8, 4, 0x80001000);
    expect(m.bus.portRead(0xcfc, 4) >>> 0).toBe(0xffffffff);
  });

  it('ACPI S5 (SLP_TYP 5 | SLP_EN to PM1a_CNT) powers the machine off with status 0', () => {
    const { m } = board();
    m.bus.portWrite(0x604, 2, (5 << 10) | (1 << 13));
    expect(m.exited?.status).toBe(0);
  });

  it('the PM timer counts virtual time at 3.579545 MHz', () => {
    const { m, advance } = board();
    const t0 = m.bus.portRead(0x608, 4);
    advance(1_000_000_000);
    expect((m.bus.portRead(0x608, 4) - t0) >>> 0).toBe(3_579_545);
  });
});
