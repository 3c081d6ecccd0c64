// The IOAPIC programmed the way Linux's io_apic.c programs it, delivering to the LAPIC,
// and the PC wiring that fans bus IRQ lines out to the 8259 pair and the IOAPIC.
import { describe, expect, it } from 'vitest';
import { Bus } from '../../devices/bus.js';
import { Timers } from '../../devices/clock.js';
import { IOAPIC_BASE, Ioapic, IOREGSEL, IOWIN, RTE_LEVEL, RTE_MASKED, RTE_REMOTE_IRR } from '../../devices/ioapic.js';
import { IrqRouter } from '../../devices/irq-router.js';
import { APIC_EOI, APIC_SVR, DM_EXTINT, DM_NMI, Lapic, LAPIC_BASE, LAPIC_SIZE, SVR_ENABLE } from '../../devices/lapic.js';

class FakeClock { t = 0; now(): number { return this.t; } }

/** A recording 8259 stand-in: IrqSink plus InterruptSource. */
class FakePic {
  lines: string[] = [];
  pending = -1;
  setIrq(line: number, level: boolean): void { this.lines.push(`${line}:${level ? 1 : 0}`); }
  hasInterrupt(): boolean { return this.pending >= 0; }
  acknowledge(): number { const v = this.pending; this.pending = -1; return v; }
}

function setup() {
  const clock = new FakeClock();
  const pic = new FakePic();
  let nmis = 0;
  const lapic = new Lapic({ clock, timers: new Timers(clock), pic, onNmi: () => { nmis++; } });
  const ioapic = new Ioapic(lapic);
  const bus = new Bus();
  bus.registerMmio('ioapic', IOAPIC_BASE, 0x1000, ioapic);
  bus.registerMmio('lapic', LAPIC_BASE, LAPIC_SIZE, lapic);
  bus.mmioWrite(LAPIC_BASE + APIC_SVR, 4, SVR_ENABLE | 0xff);
  const rd = (index: number) => { bus.mmioWrite(IOAPIC_BASE + IOREGSEL, 4, index); return bus.mmioRead(IOAPIC_BASE + IOWIN, 4) >>> 0; };
  const wr = (index: number, v: number) => { bus.mmioWrite(IOAPIC_BASE + IOREGSEL, 4, index); bus.mmioWrite(IOAPIC_BASE + IOWIN, 4, v); };
  const route = (pin: number, lo: number, dest = 0) => { wr(0x11 + 2 * pin, dest << 24); wr(0x10 + 2 * pin, lo); };
  const eoi = () => bus.mmioWrite(LAPIC_BASE + APIC_EOI, 4, 0);
  return { pic, lapic, ioapic, bus, rd, wr, route, eoi, nmis: () => nmis };
}

describe('IOAPIC registers', () => {
  it('guest reads ID, version 0x20 with 24 pins, and masked redirection entries at reset', () => {
    const { rd, wr } = setup();
    expect(rd(0x01)).toBe(0x00170020);
    wr(0x00, 0x02000000);
    expect(rd(0x00)).toBe(0x02000000);
    for (let pin = 0; pin < 24; pin++) expect(rd(0x10 + 2 * pin)).toBe(RTE_MASKED);
  });

  it('guest writes a redirection entry -> writable bits stick, remote IRR and delivery status do not', () => {
    const { rd, route } = setup();
    route(4, 0xffffffff, 0xff);
    expect(rd(0x18)).toBe(0x1afff);
    expect(rd(0x19)).toBe(0xff000000);
  });
});

describe('IOAPIC delivery', () => {
  it('edge pin: rising edge -> vector at the LAPIC; the level staying high sends nothing more', () => {
    const { ioapic, lapic, route, eoi } = setup();
    route(4, 0x34);
    ioapic.setIrq(4, true);
    expect(lapic.acknowledge()).toBe(0x34);
    eoi();
    ioapic.setIrq(4, true);
    expect(lapic.hasInterrupt()).toBe(false);
    ioapic.setIrq(4, false);
    ioapic.setIrq(4, true);
    expect(lapic.acknowledge()).toBe(0x34);
  });

  it('masked edge pin drops the edge', () => {
    const { ioapic, lapic, route } = setup();
    route(4, RTE_MASKED | 0x34);
    ioapic.setIrq(4, true);
    expect(lapic.hasInterrupt()).toBe(false);
    expect(ioapic.stats.lostEdges).toBe(1);
  });

  it('level pin: remote IRR set until the LAPIC EOI broadcast; still asserted -> delivered again', () => {
    const { ioapic, lapic, rd, route, eoi } = setup();
    route(9, RTE_LEVEL | 0x39);
    ioapic.setIrq(9, true);
    expect(rd(0x10 + 18) & RTE_REMOTE_IRR).toBe(RTE_REMOTE_IRR);
    expect(lapic.acknowledge()).toBe(0x39);
    expect(lapic.hasInterrupt()).toBe(false);
    eoi(); // line still high
    expect(lapic.acknowledge()).toBe(0x39);
    ioapic.setIrq(9, false);
    eoi();
    expect(rd(0x10 + 18) & RTE_REMOTE_IRR).toBe(0);
    expect(lapic.hasInterrupt()).toBe(false);
  });

  it('the EOI register (version 0x20) clears remote IRR too', () => {
    const { ioapic, bus, rd, route } = setup();
    route(10, RTE_LEVEL | 0x3a);
    ioapic.setIrq(10, true);
    ioapic.setIrq(10, false);
    bus.mmioWrite(IOAPIC_BASE + 0x40, 4, 0x3a);
    expect(rd(0x10 + 20) & RTE_REMOTE_IRR).toBe(0);
  });

  it('unmasking an asserted level pin delivers it', () => {
    const { ioapic, lapic, route } = setup();
    route(11, RTE_MASKED | RTE_LEVEL | 0x3b);
    ioapic.setIrq(11, true);
    expect(lapic.hasInterrupt()).toBe(false);
    route(11, RTE_LEVEL | 0x3b);
    expect(lapic.acknowledge()).toBe(0x3b);
  });

  it('physical destination other than the LAPIC ID is not delivered; logical flat to the LDR bit is', () => {
    const { ioapic, lapic, bus, route } = setup();
    route(5, 0x35, 3);
    ioapic.setIrq(5, true);
    expect(lapic.hasInterrupt()).toBe(false);
    bus.mmioWrite(LAPIC_BASE + 0xd0, 4, 0x01000000); // LDR
    route(6, (1 << 11) | (1 << 8) | 0x36, 0x01); // logical, lowest priority
    ioapic.setIrq(6, true);
    expect(lapic.acknowledge()).toBe(0x36);
  });

  it('NMI delivery mode raises NMI', () => {
    const { ioapic, route, nmis } = setup();
    route(7, DM_NMI << 8);
    ioapic.setIrq(7, true);
    expect(nmis()).toBe(1);
  });

  it('pin 0 in ExtINT mode lets the 8259 through even with LINT0 masked', () => {
    const { lapic, pic, bus, route } = setup();
    bus.mmioWrite(LAPIC_BASE + 0x350, 4, 1 << 16); // LINT0 masked
    pic.pending = 0x30;
    expect(lapic.hasInterrupt()).toBe(false);
    route(0, DM_EXTINT << 8);
    expect(lapic.acknowledge()).toBe(0x30);
    route(0, RTE_MASKED | (DM_EXTINT << 8));
    pic.pending = 0x30;
    expect(lapic.hasInterrupt()).toBe(false);
  });
});

describe('PC interrupt wiring', () => {
  it('ISA IRQ0 reaches PIC line 0 and IOAPIC GSI2; IRQ4 reaches both as line 4', () => {
    const { pic, ioapic, lapic, route, eoi } = setup();
    const router = new IrqRouter(pic, ioapic);
    const bus = new Bus();
    bus.connectIrqs(router);
    route(2, 0x30);
    route(0, 0x3f);
    bus.pulseIrq(0);
    expect(pic.lines).toEqual(['0:1', '0:0']);
    expect(lapic.acknowledge()).toBe(0x30);
    eoi();
    route(4, 0x34);
    bus.raiseIrq(4);
    expect(pic.lines.slice(2)).toEqual(['4:1']);
    expect(lapic.acknowledge()).toBe(0x34);
  });

  it('PCI GSI 16 reaches the IOAPIC, and the PIC only where the PIIX3 routes PIRQA', () => {
    const { pic, ioapic, lapic, route } = setup();
    let pirqA = -1;
    const router = new IrqRouter(pic, ioapic, (p) => (p === 0 ? pirqA : -1));
    route(16, RTE_LEVEL | 0x50);
    router.setIrq(16, true);
    expect(pic.lines).toEqual([]);
    expect(lapic.acknowledge()).toBe(0x50);
    pirqA = 11;
    router.pirqChanged();
    expect(pic.lines).toEqual(['11:1']);
    router.setIrq(16, false);
    expect(pic.lines).toEqual(['11:1', '11:0']);
  });
});
