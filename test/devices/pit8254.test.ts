// The 8254 PIT driven the way Linux's i8253 clockevent and TSC calibration drive it, on a fake clock.

import { describe, expect, it } from 'vitest';
import { Timers } from '../../devices/clock.js';
import { PIT_HZ, Pit8254 } from '../../devices/pit8254.js';
import { FakeClock, FakeIrqs } from './helpers.js';

/** Nanoseconds for `ticks` PIT input clocks. */
const ns = (ticks: number) => (ticks * 1e9) / PIT_HZ;

function setup() {
  const irqs = new FakeIrqs();
  const clock = new FakeClock();
  const timers = new Timers(clock);
  const pit = new Pit8254({ irqs, irq: 0, clock, timers });
  timers.add(pit);
  const w = (p: number, v: number) => pit.portWrite(p, 1, v);
  const r = (p: number) => pit.portRead(p, 1);
  /** Move time to `t` ns and let the run loop service due timers. */
  const at = (t: number) => {
    clock.t = t;
    timers.run();
  };
  return { pit, irqs, clock, timers, w, r, at };
}

describe('8254 PIT', () => {
  it('channel 0 mode 2 with count 1193 raises IRQ 0 once per 1193 clocks (1 kHz), deadline told to the timer list', () => {
    const { irqs, timers, w, at } = setup();
    w(0x43, 0x34); // channel 0, lobyte/hibyte, mode 2
    w(0x40, 1193 & 0xff);
    w(0x40, 1193 >> 8);
    expect(timers.next).toBe(Math.ceil(ns(1193)));
    expect(irqs.edges[0]).toBe(1); // the mode word drives OUT high from its reset-low state
    irqs.edges[0] = 0;
    at(ns(1192));
    expect(irqs.edges[0]).toBe(0);
    at(ns(1193) + 1);
    expect(irqs.edges[0]).toBe(1);
    expect(irqs.high(0)).toBe(true); // OUT is high between the one-clock low pulses
    at(ns(2 * 1193) + 1);
    at(ns(3 * 1193) + 1);
    expect(irqs.edges[0]).toBe(3);
    expect(timers.next).toBe(Math.ceil(ns(4 * 1193)));
  });

  it('a host stall of one second coalesces the missed ticks into a single IRQ 0', () => {
    const { pit, irqs, w, at } = setup();
    w(0x43, 0x34);
    w(0x40, 1193 & 0xff);
    w(0x40, 1193 >> 8);
    irqs.edges[0] = 0;
    at(1e9);
    expect(irqs.edges[0]).toBe(1);
    expect(pit.interrupts).toBe(1);
    expect(pit.coalescedTicks).toBe(Math.floor(PIT_HZ / 1193) - 1);
  });

  it('the counter reads back decreasing with time, and a latch freezes the value for the next two reads', () => {
    const { w, r, clock } = setup();
    w(0x43, 0x34);
    w(0x40, 0x00);
    w(0x40, 0x10); // 4096
    clock.t = ns(100);
    w(0x43, 0x00); // counter latch, channel 0
    clock.t = ns(2000);
    expect(r(0x40) | (r(0x40) << 8)).toBe(4096 - 100);
    expect(r(0x40) | (r(0x40) << 8)).toBe(4096 - 2000); // live again
  });

  it("channel 2 mode 0 as Linux's pit_calibrate_tsc uses it: OUT2 on port 0x61 rises after the count, the count falls linearly", () => {
    const { w, r, clock } = setup();
    const latch = Math.floor(PIT_HZ / 100); // 10 ms
    w(0x61, (r(0x61) & ~0x02) | 0x01); // gate on, speaker off
    w(0x43, 0xb0); // channel 2, lobyte/hibyte, mode 0
    w(0x42, latch & 0xff);
    w(0x42, latch >> 8);
    expect(r(0x61) & 0x20).toBe(0);
    clock.t = 5e6;
    r(0x42);
    const msb = r(0x42);
    expect(msb).toBe((latch - Math.floor(5e6 * PIT_HZ / 1e9)) >> 8);
    clock.t = ns(latch) - 1;
    expect(r(0x61) & 0x20).toBe(0);
    clock.t = ns(latch) + 1;
    expect(r(0x61) & 0x23).toBe(0x21);
  });

  it('gate low suspends channel 2 in mode 0, gate high resumes it', () => {
    const { w, r, clock } = setup();
    w(0x61, 0x01);
    w(0x43, 0xb0);
    w(0x42, 0x00);
    w(0x42, 0x01); // 256
    clock.t = ns(100);
    w(0x61, 0x00);
    clock.t = ns(1000);
    expect(r(0x42)).toBe(156);
    r(0x42);
    w(0x61, 0x01);
    clock.t = ns(1100);
    expect(r(0x42)).toBe(56);
    r(0x42);
    expect(r(0x61) & 0x20).toBe(0);
    clock.t = ns(1160);
    expect(r(0x61) & 0x20).toBe(0x20);
  });

  it('read-back latches status (OUT, null count, access, mode) and count of channel 0', () => {
    const { w, r, clock } = setup();
    w(0x43, 0x34);
    w(0x43, 0xe2); // read-back, status only, channel 0
    expect(r(0x40)).toBe(0xf4); // OUT high, null count, rw 3, mode 2
    w(0x40, 0x00);
    w(0x40, 0x01); // 256
    clock.t = ns(6);
    w(0x43, 0xc2); // read-back: count and status, channel 0
    clock.t = ns(50);
    expect(r(0x40)).toBe(0xb4); // status first: OUT high, count loaded
    expect(r(0x40)).toBe(250);
    expect(r(0x40)).toBe(0);
    expect(r(0x40)).toBe(256 - 50); // latch released
  });

  it('mode 3 square wave: OUT high for the first half period, low for the second, one IRQ per period', () => {
    const { pit, irqs, w, at } = setup();
    w(0x43, 0x36);
    w(0x40, 100);
    w(0x40, 0);
    expect(pit.channels[0].out(10)).toBe(true);
    expect(pit.channels[0].out(49)).toBe(true);
    expect(pit.channels[0].out(50)).toBe(false);
    expect(pit.channels[0].out(99)).toBe(false);
    irqs.edges[0] = 0;
    at(ns(75));
    expect(irqs.edges[0]).toBe(0);
    at(ns(100) + 1);
    expect(irqs.edges[0]).toBe(1);
    expect(irqs.high(0)).toBe(true);
  });

  it('mode 4 (Linux one-shot, 0x38): IRQ 0 once after the count, then nothing', () => {
    const { irqs, timers, w, at } = setup();
    w(0x43, 0x38);
    w(0x40, 50);
    w(0x40, 0);
    irqs.edges[0] = 0;
    at(ns(50));
    expect(irqs.edges[0]).toBe(0);
    at(ns(51) + 1);
    expect(irqs.edges[0]).toBe(1);
    expect(timers.next).toBe(Infinity);
    at(ns(100000));
    expect(irqs.edges[0]).toBe(1);
  });

  it('mode 0 on channel 0: IRQ 0 line goes high at terminal count and stays high until reprogrammed', () => {
    const { irqs, w, at } = setup();
    w(0x43, 0x30);
    w(0x40, 10);
    expect(irqs.high(0)).toBe(false);
    w(0x40, 0);
    at(ns(10) + 1);
    expect(irqs.high(0)).toBe(true);
    expect(irqs.edges[0]).toBe(1);
    w(0x43, 0x30); // new mode word: OUT low
    expect(irqs.high(0)).toBe(false);
  });

  it('a new count in mode 2 takes effect at the end of the current period', () => {
    const { irqs, w, at } = setup();
    w(0x43, 0x34);
    w(0x40, 100);
    w(0x40, 0);
    irqs.edges[0] = 0;
    at(ns(30));
    w(0x40, 200);
    w(0x40, 0);
    at(ns(100) + 1);
    expect(irqs.edges[0]).toBe(1);
    at(ns(299));
    expect(irqs.edges[0]).toBe(1);
    at(ns(300) + 1);
    expect(irqs.edges[0]).toBe(2);
  });

  it('BCD mode counts in decimal digits', () => {
    const { w, r, clock } = setup();
    w(0x43, 0x35); // channel 0, lobyte/hibyte, mode 2, BCD
    w(0x40, 0x00);
    w(0x40, 0x10); // 1000 decimal
    clock.t = ns(1);
    expect(r(0x40) | (r(0x40) << 8)).toBe(0x0999);
    clock.t = ns(123);
    expect(r(0x40) | (r(0x40) << 8)).toBe(0x0877);
  });

  it('lobyte-only access loads on one write and reads one byte', () => {
    const { w, r, clock } = setup();
    w(0x43, 0x54); // channel 1, lobyte, mode 2
    w(0x41, 18); // the refresh count
    clock.t = ns(5);
    expect(r(0x41)).toBe(13);
    expect(r(0x41)).toBe(13);
  });

  it('mode 1 on channel 2: the gate rising edge triggers a one-shot with OUT low for the count', () => {
    const { w, r, clock } = setup();
    w(0x43, 0xb2); // channel 2, lobyte/hibyte, mode 1
    w(0x42, 20);
    w(0x42, 0);
    expect(r(0x61) & 0x20).toBe(0x20);
    clock.t = ns(5);
    w(0x61, 0x01);
    expect(r(0x61) & 0x20).toBe(0);
    clock.t = ns(25) + 1;
    expect(r(0x61) & 0x20).toBe(0x20);
  });

  it('port 0x61 bit 4 toggles with each 15 us refresh cycle; bits 0-3 read back', () => {
    const { w, r, clock } = setup();
    w(0x61, 0x0f);
    clock.t = ns(5);
    const a = r(0x61);
    clock.t = ns(18 + 5);
    const b = r(0x61);
    expect(a & 0x0f).toBe(0x0f);
    expect((a ^ b) & 0x10).toBe(0x10);
  });
});

describe('8254 reset', () => {
  it('reset stops channel 0: IRQ 0 low and no deadline', () => {
    const { pit, irqs, timers, w, r } = setup();
    w(0x43, 0x34);
    w(0x40, 100);
    w(0x40, 0);
    w(0x61, 0x03);
    expect(irqs.high(0)).toBe(true);
    pit.reset();
    expect(irqs.high(0)).toBe(false);
    const edges = irqs.edges[0];
    timers.run(ns(100) + 1); // the old deadline comes and goes
    expect(irqs.edges[0]).toBe(edges);
    expect(timers.next).toBe(Infinity);
    expect(r(0x61) & 0x0f).toBe(0);
  });
});
