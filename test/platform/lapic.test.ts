// The local APIC driven the way Linux's apic.c drives it: registers over MMIO, the
// timer in each mode, priority arbitration, EOI, self-IPIs and virtual-wire ExtINT.
import { describe, expect, it } from 'vitest';
import { Timers } from '../../devices/clock.js';
import {
  APIC_DFR, APIC_EOI, APIC_ESR, APIC_ICR_HI, APIC_ICR_LO, APIC_ID, APIC_IRR, APIC_ISR, APIC_LDR, APIC_LVT_ERROR,
  APIC_LVT_LINT0, APIC_LVT_LINT1, APIC_LVT_TIMER, APIC_PPR, APIC_SVR, APIC_TIMER_CCR, APIC_TIMER_DCR, APIC_TIMER_ICR,
  APIC_TMR, APIC_TPR, APIC_VERSION, DM_EXTINT, DM_NMI, Lapic, LVT_MASKED, SVR_ENABLE, TIMER_PERIODIC, TIMER_TSC_DEADLINE,
} from '../../devices/lapic.js';

class FakeClock { t = 0; now(): number { return this.t; } }

/** A stand-in 8259: one pending vector or none. */
class FakePic {
  pending = -1;
  acks = 0;
  hasInterrupt(): boolean { return this.pending >= 0; }
  acknowledge(): number { this.acks++; const v = this.pending; this.pending = -1; return v; }
}

function setup(opts: { busHz?: number; tscHz?: number } = {}) {
  const clock = new FakeClock();
  const timers = new Timers(clock);
  const pic = new FakePic();
  let nmis = 0;
  const lapic = new Lapic({ clock, timers, pic, busHz: opts.busHz ?? 1e9, tscHz: opts.tscHz, onNmi: () => { nmis++; } });
  timers.add(lapic);
  const rd = (r: number) => lapic.mmioRead(r, 4) >>> 0;
  const wr = (r: number, v: number) => lapic.mmioWrite(r, 4, v);
  const enable = () => wr(APIC_SVR, SVR_ENABLE | 0xff);
  return { clock, timers, pic, lapic, rd, wr, enable, nmis: () => nmis };
}

describe('local APIC registers', () => {
  it('guest reads ID, version with max LVT 5, and reset values of DFR and SVR', () => {
    const { rd } = setup();
    expect(rd(APIC_ID)).toBe(0);
    expect(rd(APIC_VERSION)).toBe(0x00050014);
    expect(rd(APIC_DFR)).toBe(0xffffffff);
    expect(rd(APIC_SVR)).toBe(0xff);
  });

  it('guest writes LDR and DFR -> only their defined bits stick', () => {
    const { rd, wr } = setup();
    wr(APIC_LDR, 0x01ffffff);
    wr(APIC_DFR, 0x0);
    expect(rd(APIC_LDR)).toBe(0x01000000);
    expect(rd(APIC_DFR)).toBe(0x0fffffff);
  });

  it('software-disabled APIC forces LVT mask bits on', () => {
    const { rd, wr, enable } = setup();
    wr(APIC_LVT_TIMER, 0x30);
    expect(rd(APIC_LVT_TIMER)).toBe(LVT_MASKED | 0x30);
    enable();
    wr(APIC_LVT_TIMER, 0x30);
    expect(rd(APIC_LVT_TIMER)).toBe(0x30);
    wr(APIC_SVR, 0xff);
    expect(rd(APIC_LVT_TIMER)).toBe(LVT_MASKED | 0x30);
  });

  it('guest writes an unimplemented register -> ESR shows illegal register after the ESR write', () => {
    const { rd, wr, enable } = setup();
    enable();
    wr(0x3f0, 1);
    expect(rd(APIC_ESR)).toBe(0);
    wr(APIC_ESR, 0);
    expect(rd(APIC_ESR)).toBe(0x80);
    wr(APIC_ESR, 0);
    expect(rd(APIC_ESR)).toBe(0);
  });
});

describe('local APIC priority arbitration', () => {
  it('highest IRR vector is delivered first, moves to ISR, and EOI retires it', () => {
    const { lapic, rd, wr, enable } = setup();
    enable();
    lapic.acceptFixed(0x31, false);
    lapic.acceptFixed(0x52, false);
    expect(rd(APIC_IRR + 0x10)).toBe(1 << 0x11);
    expect(lapic.hasInterrupt()).toBe(true);
    expect(lapic.acknowledge()).toBe(0x52);
    expect(rd(APIC_ISR + 0x20)).toBe(1 << 0x12);
    expect(rd(APIC_PPR)).toBe(0x50);
    // 0x31 is a lower class than the in-service 0x52: held back until EOI.
    expect(lapic.hasInterrupt()).toBe(false);
    wr(APIC_EOI, 0);
    expect(rd(APIC_ISR + 0x20)).toBe(0);
    expect(lapic.hasInterrupt()).toBe(true);
    expect(lapic.acknowledge()).toBe(0x31);
  });

  it('a higher-class vector nests over an in-service one', () => {
    const { lapic, enable } = setup();
    enable();
    lapic.acceptFixed(0x40, false);
    expect(lapic.acknowledge()).toBe(0x40);
    lapic.acceptFixed(0x45, false);
    expect(lapic.hasInterrupt()).toBe(false); // same class: blocked
    lapic.acceptFixed(0x61, false);
    expect(lapic.acknowledge()).toBe(0x61);
  });

  it('TPR blocks vectors at or below its class; CR8 reads and writes TPR[7:4]', () => {
    const { lapic, rd, wr, enable } = setup();
    enable();
    wr(APIC_TPR, 0x50);
    lapic.acceptFixed(0x55, false);
    expect(lapic.hasInterrupt()).toBe(false);
    expect(rd(APIC_PPR)).toBe(0x50);
    expect(lapic.readCr8()).toBe(5);
    lapic.writeCr8(4);
    expect(rd(APIC_TPR)).toBe(0x40);
    expect(lapic.acknowledge()).toBe(0x55);
  });

  it('level-triggered vector sets TMR and its EOI is broadcast to the IOAPIC', () => {
    const { lapic, rd, wr, enable } = setup();
    enable();
    const eois: number[] = [];
    lapic.onLevelEoi = (v) => eois.push(v);
    lapic.acceptFixed(0x39, true);
    expect(rd(APIC_TMR + 0x10)).toBe(1 << 0x19);
    lapic.acknowledge();
    wr(APIC_EOI, 0);
    lapic.acceptFixed(0x3a, false);
    lapic.acknowledge();
    wr(APIC_EOI, 0);
    expect(eois).toEqual([0x39]);
  });

  it('vectors below 16 are refused with a receive-illegal-vector error through LVT error', () => {
    const { lapic, rd, wr, enable } = setup();
    enable();
    wr(APIC_LVT_ERROR, 0xfe);
    lapic.acceptFixed(5, false);
    wr(APIC_ESR, 0);
    expect(rd(APIC_ESR)).toBe(0x40);
    expect(lapic.acknowledge()).toBe(0xfe);
  });

  it('INTA with nothing pending returns the spurious vector', () => {
    const { lapic, wr } = setup();
    wr(APIC_SVR, SVR_ENABLE | 0xef);
    expect(lapic.acknowledge()).toBe(0xef);
  });
});

describe('local APIC ICR', () => {
  it('self-IPI with the "self" shorthand lands in IRR', () => {
    const { lapic, rd, wr, enable } = setup();
    enable();
    wr(APIC_ICR_LO, (1 << 18) | 0xf3);
    expect(rd(APIC_IRR + 0x70)).toBe(1 << 0x13);
    expect(rd(APIC_ICR_LO) & (1 << 12)).toBe(0); // delivery status idle
    expect(lapic.acknowledge()).toBe(0xf3);
  });

  it('physical-destination IPI to our own ID is delivered; to another ID it is dropped', () => {
    const { lapic, wr, enable } = setup();
    enable();
    wr(APIC_ICR_HI, 0x05000000);
    wr(APIC_ICR_LO, 0x41);
    expect(lapic.hasInterrupt()).toBe(false);
    wr(APIC_ICR_HI, 0);
    wr(APIC_ICR_LO, 0x41);
    expect(lapic.acknowledge()).toBe(0x41);
  });

  it('NMI by ICR, INIT and SIPI to all-but-self are ignored on one CPU', () => {
    const { wr, enable, nmis, lapic } = setup();
    enable();
    wr(APIC_ICR_LO, (1 << 18) | (DM_NMI << 8));
    expect(nmis()).toBe(1);
    wr(APIC_ICR_LO, (3 << 18) | (5 << 8));
    wr(APIC_ICR_LO, (3 << 18) | (6 << 8) | 0x9a);
    expect(lapic.hasInterrupt()).toBe(false);
  });

  it('logical flat destination matches the LDR bit; cluster mode matches cluster and bit', () => {
    const { lapic, wr } = setup();
    wr(APIC_LDR, 0x01000000);
    expect(lapic.matchesDestination(0x01, true)).toBe(true);
    expect(lapic.matchesDestination(0x02, true)).toBe(false);
    wr(APIC_DFR, 0);
    wr(APIC_LDR, 0x21000000);
    expect(lapic.matchesDestination(0x21, true)).toBe(true);
    expect(lapic.matchesDestination(0x11, true)).toBe(false);
    expect(lapic.matchesDestination(0xff, true)).toBe(true);
  });
});

describe('local APIC timer', () => {
  it('one-shot: counts down at bus/divide, fires once, then reads 0', () => {
    const { clock, timers, lapic, rd, wr, enable } = setup({ busHz: 100e6 }); // 10 ns per tick
    enable();
    wr(APIC_TIMER_DCR, 0x3); // divide by 16 -> 160 ns per count
    wr(APIC_LVT_TIMER, 0xec);
    wr(APIC_TIMER_ICR, 1000);
    expect(timers.next).toBe(160_000);
    clock.t = 16_000;
    expect(rd(APIC_TIMER_CCR)).toBe(900);
    clock.t = 159_999;
    timers.run();
    expect(lapic.hasInterrupt()).toBe(false);
    clock.t = 160_000;
    timers.run();
    expect(lapic.acknowledge()).toBe(0xec);
    wr(APIC_EOI, 0);
    expect(rd(APIC_TIMER_CCR)).toBe(0);
    clock.t = 400_000;
    timers.run();
    expect(lapic.hasInterrupt()).toBe(false);
    expect(lapic.stats.timerFires).toBe(1);
  });

  it('periodic: reloads and fires every period; divide by 1 is DCR 0xB', () => {
    const { clock, timers, lapic, rd, wr, enable } = setup({ busHz: 1e9 });
    enable();
    wr(APIC_TIMER_DCR, 0xb);
    wr(APIC_LVT_TIMER, TIMER_PERIODIC | 0xec);
    wr(APIC_TIMER_ICR, 100);
    for (let k = 1; k <= 3; k++) {
      clock.t = k * 100;
      timers.run();
      expect(lapic.acknowledge()).toBe(0xec);
      wr(APIC_EOI, 0);
    }
    clock.t = 325;
    expect(rd(APIC_TIMER_CCR)).toBe(75);
    expect(lapic.stats.timerFires).toBe(3);
  });

  it('masked timer still counts down but raises nothing', () => {
    const { clock, timers, lapic, rd, wr, enable } = setup({ busHz: 1e9 });
    enable();
    wr(APIC_TIMER_DCR, 0xb);
    wr(APIC_LVT_TIMER, LVT_MASKED | 0xec);
    wr(APIC_TIMER_ICR, 50);
    clock.t = 20;
    expect(rd(APIC_TIMER_CCR)).toBe(30);
    clock.t = 60;
    timers.run();
    expect(lapic.hasInterrupt()).toBe(false);
  });

  it('TSC-deadline: WRMSR arms it, it fires at the deadline, then reads back 0; ICR writes are ignored', () => {
    const { clock, timers, lapic, rd, wr, enable } = setup({ tscHz: 2e9 }); // 2 TSC ticks per ns
    enable();
    wr(APIC_LVT_TIMER, TIMER_TSC_DEADLINE | 0xef);
    wr(APIC_TIMER_ICR, 5);
    expect(rd(APIC_TIMER_ICR)).toBe(0);
    lapic.writeTscDeadline(10_000);
    expect(lapic.readTscDeadline()).toBe(10_000);
    expect(timers.next).toBe(5_000);
    clock.t = 4_999;
    timers.run();
    expect(lapic.hasInterrupt()).toBe(false);
    clock.t = 5_000;
    timers.run();
    expect(lapic.acknowledge()).toBe(0xef);
    expect(lapic.readTscDeadline()).toBe(0);
  });

  it('TSC-deadline already in the past fires at once', () => {
    const { clock, lapic, wr, enable } = setup();
    enable();
    clock.t = 1000;
    wr(APIC_LVT_TIMER, TIMER_TSC_DEADLINE | 0xef);
    lapic.writeTscDeadline(500);
    expect(lapic.acknowledge()).toBe(0xef);
  });
});

describe('local APIC virtual wire and NMI', () => {
  it('at reset (software-disabled), the PIC passes straight through', () => {
    const { lapic, pic } = setup();
    pic.pending = 0x20;
    expect(lapic.hasInterrupt()).toBe(true);
    expect(lapic.acknowledge()).toBe(0x20);
    expect(pic.acks).toBe(1);
  });

  it('enabled with LINT0 ExtINT unmasked -> PIC vectors reach the CPU; LINT0 masked -> they do not', () => {
    const { lapic, pic, rd, wr, enable } = setup();
    enable();
    wr(APIC_LVT_LINT0, DM_EXTINT << 8);
    pic.pending = 0x21;
    expect(lapic.hasInterrupt()).toBe(true);
    wr(APIC_LVT_LINT0, LVT_MASKED | (DM_EXTINT << 8));
    expect(rd(APIC_LVT_LINT0)).toBe(LVT_MASKED | (DM_EXTINT << 8));
    expect(lapic.hasInterrupt()).toBe(false);
    lapic.extIntRouted = true; // an unmasked IOAPIC pin in ExtINT mode
    expect(lapic.acknowledge()).toBe(0x21);
  });

  it('hardware-disabled APIC (APIC_BASE bit 11 clear) passes the PIC even with LINT0 masked', () => {
    const { lapic, pic, wr, enable } = setup();
    enable();
    wr(APIC_LVT_LINT0, LVT_MASKED);
    lapic.hwEnabled = false;
    pic.pending = 0x28;
    expect(lapic.acknowledge()).toBe(0x28);
  });

  it('LINT1 asserted with NMI delivery raises NMI', () => {
    const { lapic, wr, enable, nmis } = setup();
    enable();
    wr(APIC_LVT_LINT1, DM_NMI << 8);
    lapic.setLint(1, true);
    expect(nmis()).toBe(1);
  });
});

describe('local APIC MSI', () => {
  it('a device write of vector 0x41 to 0xFEE00000 (our ID, physical) lands in IRR; other IDs and addresses do not', () => {
    const { lapic, enable } = setup();
    enable();
    expect(lapic.deliverMsi(0xfee05000, 0x41)).toBe(true); // destination ID 5: not us
    expect(lapic.hasInterrupt()).toBe(false);
    expect(lapic.deliverMsi(0xfeb00000, 0x41)).toBe(false);
    expect(lapic.deliverMsi(0xfee00000, 0x41)).toBe(true);
    expect(lapic.acknowledge()).toBe(0x41);
  });
});
