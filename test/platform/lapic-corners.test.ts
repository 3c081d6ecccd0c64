// Local APIC corners that SMP guests reach (issue 17) and that issue 19 items 4-6 name:
// IA32_APIC_BASE.EN = 0 (the page stops answering; re-enabling gives the power-up state),
// queued fixed interrupts under every TPR / in-service class (all delivered, in priority
// order, none left in IRR), and timer mode and divide changes while the count runs (SDM 11.5.4).
import { describe, expect, it } from 'vitest';
import { Timers } from '../../devices/clock.js';
import {
  APIC_DFR, APIC_EOI, APIC_ICR_LO, APIC_ID, APIC_IRR, APIC_ISR, APIC_LDR, APIC_LVT_LINT0, APIC_LVT_TIMER, APIC_PPR, APIC_SVR,
  APIC_TIMER_CCR, APIC_TIMER_DCR, APIC_TIMER_ICR, APIC_TPR, Lapic, LVT_MASKED, SVR_ENABLE, TIMER_PERIODIC, TIMER_TSC_DEADLINE,
} from '../../devices/lapic.js';

class FakeClock { t = 0; now(): number { return this.t; } }

function setup() {
  const clock = new FakeClock();
  const timers = new Timers(clock);
  const lapic = new Lapic({ clock, timers, busHz: 1e9, id: 3 });
  timers.add(lapic);
  const rd = (r: number) => lapic.mmioRead(r, 4) >>> 0;
  const wr = (r: number, v: number) => lapic.mmioWrite(r, 4, v);
  wr(APIC_SVR, SVR_ENABLE | 0xff);
  /** Move time to `ns` and run whatever came due. */
  const at = (ns: number) => { clock.t = ns; timers.run(); };
  const irr = (v: number) => (rd(APIC_IRR + (v >>> 5) * 16) >>> (v & 31)) & 1;
  /** INTA + EOI, as a handler does. */
  const take = () => { const v = lapic.acknowledge(); wr(APIC_EOI, 0); return v; };
  return { clock, lapic, rd, wr, at, irr, take };
}

describe('IA32_APIC_BASE.EN = 0 (issue 19.4, SDM 11.4.3)', () => {
  it('the MMIO page reads all ones at every width and drops writes while disabled', () => {
    const { lapic, rd, wr } = setup();
    wr(APIC_TPR, 0x20);
    lapic.setHwEnabled(false);
    expect(rd(APIC_ID)).toBe(0xffffffff);
    expect(rd(APIC_TPR)).toBe(0xffffffff);
    expect(lapic.mmioRead(APIC_SVR, 1)).toBe(0xff);
    expect(lapic.mmioRead(APIC_SVR, 2)).toBe(0xffff);
    wr(APIC_TPR, 0x70);
    wr(APIC_ICR_LO, 0x00044040); // a self-IPI: dropped with the write
    expect(lapic.tpr).toBe(0);
    expect(lapic.irr.every((w) => w === 0)).toBe(true);
  });

  it('re-enabling gives the power-up state: ID kept, IRR/ISR/TPR/LDR clear, DFR all ones, SVR 0xFF, every LVT masked, timer stopped', () => {
    const { lapic, rd, wr, at } = setup();
    wr(APIC_TPR, 0x20); wr(APIC_LDR, 0x01000000); wr(APIC_DFR, 0x0fffffff);
    wr(APIC_LVT_TIMER, 0x30); wr(APIC_TIMER_ICR, 1000);
    lapic.acceptFixed(0x50, false);
    lapic.acknowledge();
    lapic.acceptFixed(0x60, false);
    lapic.setHwEnabled(false);
    lapic.setHwEnabled(true);
    expect(rd(APIC_ID)).toBe(3 << 24);
    expect([rd(APIC_TPR), rd(APIC_LDR), rd(APIC_DFR), rd(APIC_SVR)]).toEqual([0, 0, 0xffffffff, 0xff]);
    expect([rd(APIC_ISR + 0x20), rd(APIC_IRR + 0x30)]).toEqual([0, 0]);
    for (let r = APIC_LVT_TIMER; r <= APIC_LVT_LINT0 + 0x20; r += 0x10) expect(rd(r) & LVT_MASKED).toBe(LVT_MASKED);
    expect(rd(APIC_TIMER_ICR)).toBe(0);
    at(5000);
    expect(lapic.stats.timerFires).toBe(0);
  });
});

describe('TPR/PPR and queued fixed interrupts (issue 19.5, SDM 11.8.3)', () => {
  it('for every TPR class and in-service class, only vectors above both are offered; then all are delivered in priority order and IRR empties', () => {
    const queued = [0x25, 0x3a, 0x41, 0x5f, 0x66, 0x7e, 0x83, 0x9c, 0xa1, 0xb7, 0xc2, 0xd9, 0xe4, 0xf0];
    for (let tprClass = 0; tprClass < 16; tprClass++) {
      for (let isrClass = 1; isrClass < 16; isrClass++) {
        const { lapic, rd, wr, take } = setup();
        const inService = (isrClass << 4) | 0x8;
        lapic.acceptFixed(inService, false);
        expect(lapic.acknowledge()).toBe(inService);
        for (const v of queued) lapic.acceptFixed(v, false);
        wr(APIC_TPR, tprClass << 4);
        const ppr = rd(APIC_PPR);
        expect(ppr & 0xf0).toBe(Math.max(tprClass, isrClass) << 4);
        const above = queued.filter((v) => (v & 0xf0) > (ppr & 0xf0));
        // Offered now: the highest of those above the PPR; once in service it blocks the rest until its EOI.
        const nested: number[] = [];
        while (lapic.hasInterrupt()) nested.push(lapic.acknowledge());
        expect(nested).toEqual(above.length ? [Math.max(...above)] : []);
        for (let i = 0; i < nested.length; i++) wr(APIC_EOI, 0);
        // The guest lowers the TPR and retires the original handler: everything left arrives, highest first.
        wr(APIC_TPR, 0);
        const rest: number[] = [];
        while (lapic.hasInterrupt()) rest.push(take());
        wr(APIC_EOI, 0); // the in-service vector from before
        while (lapic.hasInterrupt()) rest.push(take());
        const all = [...nested, ...rest];
        expect(all.slice().sort()).toEqual(queued.slice().sort());
        expect(rest).toEqual(rest.slice().sort((a, b) => b - a)); // strictly by priority
        expect(lapic.irr.every((w) => w === 0)).toBe(true);
        expect(lapic.isr.every((w) => w === 0)).toBe(true);
      }
    }
  });

  it('the CPU is told (onInterruptReady) exactly when a page write makes a vector deliverable: TPR lowered below it, EOI, self-IPI', () => {
    const { lapic, wr } = setup();
    let told = 0;
    lapic.onInterruptReady = () => { told++; };
    wr(APIC_TPR, 0x80);
    wr(APIC_ICR_LO, 0x00044061); // self-IPI under the TPR: queued, not deliverable
    wr(APIC_TPR, 0x70);
    expect(told).toBe(0);
    wr(APIC_TPR, 0x50); // below class 6
    expect(told).toBe(1);
    wr(APIC_TPR, 0); // deliverable already: nothing new
    expect(told).toBe(1);
    expect(lapic.acknowledge()).toBe(0x61);
    wr(APIC_ICR_LO, 0x00044052); // class 5 under the in-service 0x61: queued
    expect(told).toBe(1);
    wr(APIC_EOI, 0); // the EOI lowers the PPR below it
    expect(told).toBe(2);
    expect(lapic.acknowledge()).toBe(0x52);
    wr(APIC_EOI, 0);
    wr(APIC_ICR_LO, 0x00044043); // a self-IPI that is deliverable at once
    expect(told).toBe(3);
  });

  it('a self-IPI queued under a high TPR is taken as soon as the TPR drops below its class', () => {
    const { lapic, wr } = setup();
    wr(APIC_TPR, 0x80);
    wr(APIC_ICR_LO, 0x00044061); // fixed, self
    expect(lapic.hasInterrupt()).toBe(false);
    wr(APIC_TPR, 0x60);
    expect(lapic.hasInterrupt()).toBe(false); // same class as the TPR: still blocked
    wr(APIC_TPR, 0x50);
    expect(lapic.acknowledge()).toBe(0x61);
  });
});

describe('timer mode and divide changes while counting (issue 19.6, SDM 11.5.4)', () => {
  it('one-shot switched to periodic mid-count keeps counting, fires at the original time, then reloads', () => {
    const { lapic, rd, wr, at } = setup();
    wr(APIC_TIMER_DCR, 0xb); // divide by 1: 1 count per ns
    wr(APIC_LVT_TIMER, 0x40);
    wr(APIC_TIMER_ICR, 1000);
    at(300);
    wr(APIC_LVT_TIMER, 0x40 | TIMER_PERIODIC);
    expect(rd(APIC_TIMER_CCR)).toBe(700);
    at(999);
    expect(lapic.stats.timerFires).toBe(0);
    at(1000);
    expect(lapic.stats.timerFires).toBe(1);
    at(1250);
    expect(rd(APIC_TIMER_CCR)).toBe(750);
    at(2000);
    expect(lapic.stats.timerFires).toBe(2);
  });

  it('periodic switched to one-shot mid-period fires at the end of that period and then stops at 0', () => {
    const { lapic, rd, wr, at } = setup();
    wr(APIC_TIMER_DCR, 0xb);
    wr(APIC_LVT_TIMER, 0x40 | TIMER_PERIODIC);
    wr(APIC_TIMER_ICR, 1000);
    at(1000);
    expect(lapic.stats.timerFires).toBe(1);
    at(1400);
    wr(APIC_LVT_TIMER, 0x40);
    expect(rd(APIC_TIMER_CCR)).toBe(600);
    at(2000);
    expect(lapic.stats.timerFires).toBe(2);
    at(5000);
    expect(lapic.stats.timerFires).toBe(2);
    expect(rd(APIC_TIMER_CCR)).toBe(0);
  });

  it('masking the running timer keeps the count going; unmasking before it ends lets the fire through', () => {
    const { lapic, rd, wr, at, irr } = setup();
    wr(APIC_TIMER_DCR, 0xb);
    wr(APIC_LVT_TIMER, 0x40);
    wr(APIC_TIMER_ICR, 1000);
    at(200);
    wr(APIC_LVT_TIMER, 0x40 | LVT_MASKED);
    at(500);
    expect(rd(APIC_TIMER_CCR)).toBe(500);
    wr(APIC_LVT_TIMER, 0x40);
    at(1000);
    expect(irr(0x40)).toBe(1);
    expect(lapic.stats.timerFires).toBe(1);
  });

  it('a divide change mid-count continues the remaining count at the new rate; CCR reads it', () => {
    const { lapic, rd, wr, at } = setup();
    wr(APIC_TIMER_DCR, 0xb); // /1
    wr(APIC_LVT_TIMER, 0x40);
    wr(APIC_TIMER_ICR, 1000);
    at(400);
    wr(APIC_TIMER_DCR, 0x0); // /2: 600 counts left take 1200 ns
    expect(rd(APIC_TIMER_CCR)).toBe(600);
    at(1000);
    expect(rd(APIC_TIMER_CCR)).toBe(300);
    at(1599);
    expect(lapic.stats.timerFires).toBe(0);
    at(1600);
    expect(lapic.stats.timerFires).toBe(1);
  });

  it('divide values: DCR 0,1,2,3,8,9,A,B divide by 2,4,8,16,32,64,128,1', () => {
    const divides: [number, number][] = [[0, 2], [1, 4], [2, 8], [3, 16], [8, 32], [9, 64], [0xa, 128], [0xb, 1]];
    for (const [dcr, div] of divides) {
      const { rd, wr, at } = setup();
      wr(APIC_TIMER_DCR, dcr);
      wr(APIC_LVT_TIMER, 0x40 | LVT_MASKED);
      wr(APIC_TIMER_ICR, 100000);
      at(div * 100);
      expect(rd(APIC_TIMER_CCR)).toBe(100000 - 100);
    }
  });

  it('switching between a counting mode and TSC-deadline disarms the timer (SDM 11.5.4.1); CCR reads 0', () => {
    const { lapic, rd, wr, at } = setup();
    wr(APIC_TIMER_DCR, 0xb);
    wr(APIC_LVT_TIMER, 0x40);
    wr(APIC_TIMER_ICR, 1000);
    at(100);
    wr(APIC_LVT_TIMER, 0x40 | TIMER_TSC_DEADLINE);
    expect(rd(APIC_TIMER_CCR)).toBe(0);
    at(2000);
    expect(lapic.stats.timerFires).toBe(0);
    lapic.writeTscDeadline(3000);
    wr(APIC_LVT_TIMER, 0x40);
    at(4000);
    expect(lapic.stats.timerFires).toBe(0);
    expect(lapic.readTscDeadline()).toBe(0);
  });
});
