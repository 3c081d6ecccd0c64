// The MC146818 RTC/CMOS driven the way Linux's rtc-cmos/mc146818 code and a BIOS drive it.

import { describe, expect, it } from 'vitest';
import { Timers } from '../../devices/clock.js';
import { Rtc } from '../../devices/rtc.js';
import { FakeClock, FakeIrqs } from './helpers.js';

const MiB = 1024 * 1024;
/** Thursday 29 February 2024, 23:59:58 UTC: two seconds before a month, a day and a weekday roll over. */
const EPOCH = Date.UTC(2024, 1, 29, 23, 59, 58);

function setup(ramSize = 256 * MiB, ramBelow4G?: number) {
  const irqs = new FakeIrqs();
  const clock = new FakeClock();
  const timers = new Timers(clock);
  const rtc = new Rtc({ irqs, clock, timers, ramSize, ramBelow4G, epochMs: EPOCH });
  timers.add(rtc);
  const read = (reg: number) => {
    rtc.portWrite(0x70, 1, reg);
    return rtc.portRead(0x71, 1);
  };
  const write = (reg: number, v: number) => {
    rtc.portWrite(0x70, 1, reg);
    rtc.portWrite(0x71, 1, v);
  };
  const at = (t: number) => {
    clock.t = t;
    timers.run();
  };
  return { rtc, irqs, clock, timers, read, write, at };
}

const timeRegs = (read: (r: number) => number) => [0, 2, 4, 6, 7, 8, 9, 0x32].map(read);

describe('MC146818 RTC / CMOS', () => {
  it('reads the starting time in BCD, 24-hour, and rolls over into 1 March two seconds later', () => {
    const { read, clock } = setup();
    expect(read(0x0b)).toBe(0x02);
    expect(timeRegs(read)).toEqual([0x58, 0x59, 0x23, 5, 0x29, 0x02, 0x24, 0x20]);
    clock.t = 2e9;
    expect(timeRegs(read)).toEqual([0x00, 0x00, 0x00, 6, 0x01, 0x03, 0x24, 0x20]);
  });

  it('status B DM bit gives binary values; the 12-hour form puts PM in bit 7', () => {
    const { read, write } = setup();
    write(0x0b, 0x06); // binary, 24-hour
    expect(timeRegs(read)).toEqual([58, 59, 23, 5, 29, 2, 24, 20]);
    write(0x0b, 0x04); // binary, 12-hour
    expect(read(4)).toBe(0x80 | 11);
    write(0x0b, 0x00); // BCD, 12-hour
    expect(read(4)).toBe(0x91);
  });

  it('guest sets the time with SET, and it runs from the moment SET is cleared', () => {
    const { read, write, clock } = setup();
    clock.t = 0.3e9;
    write(0x0b, 0x82); // SET, 24-hour BCD
    write(0, 0x30);
    write(2, 0x15);
    write(4, 0x09);
    write(7, 0x15);
    write(8, 0x06);
    write(9, 0x99);
    write(0x32, 0x19);
    clock.t = 5e9; // frozen while SET
    expect(read(0)).toBe(0x30);
    write(0x0b, 0x02);
    expect(timeRegs(read)).toEqual([0x30, 0x15, 0x09, 3, 0x15, 0x06, 0x99, 0x19]); // Tuesday 15 June 1999
    clock.t = 6e9 - 1;
    expect(read(0)).toBe(0x30);
    clock.t = 6e9;
    expect(read(0)).toBe(0x31);
  });

  it('writing one field while the clock runs keeps the others', () => {
    const { read, write, clock } = setup();
    clock.t = 0.5e9;
    write(2, 0x10); // minutes
    expect(timeRegs(read).slice(0, 3)).toEqual([0x58, 0x10, 0x23]);
    clock.t = 1e9;
    expect(read(0)).toBe(0x59); // the sub-second phase is kept
  });

  it('periodic interrupt at 1024 Hz: IRQ 8 after 976.5625 us, status C reads 0xC0 and the read lowers the line', () => {
    const { rtc, irqs, read, write, at, timers } = setup();
    write(0x0a, 0x26);
    write(0x0b, 0x42); // PIE
    expect(timers.next).toBe(976562.5);
    at(976_000);
    expect(irqs.high(8)).toBe(false);
    at(976_563);
    expect(irqs.high(8)).toBe(true);
    expect(read(0x0c)).toBe(0xc0);
    expect(irqs.high(8)).toBe(false);
    expect(read(0x0c)).toBe(0x00);
    at(2 * 976_562.5);
    expect(irqs.edges[8]).toBe(2);
    expect(rtc.interrupts).toBe(2);
  });

  it('a one-second host stall folds the missed periodic interrupts into one', () => {
    const { rtc, irqs, read, write, at } = setup();
    write(0x0b, 0x42);
    at(1e9);
    expect(irqs.edges[8]).toBe(1);
    expect(read(0x0c) & 0x40).toBe(0x40);
    expect(rtc.coalescedPeriodic).toBe(1023);
  });

  it('rate select 15 gives 2 Hz; rate 0 turns the periodic flag off', () => {
    const { read, write, clock } = setup();
    write(0x0a, 0x2f);
    clock.t = 0.49e9;
    expect(read(0x0c) & 0x40).toBe(0);
    clock.t = 0.5e9;
    expect(read(0x0c) & 0x40).toBe(0x40);
    write(0x0a, 0x20);
    clock.t = 10e9;
    expect(read(0x0c) & 0x40).toBe(0);
  });

  it('update-ended interrupt fires at each second boundary', () => {
    const { irqs, read, write, at, timers } = setup();
    write(0x0b, 0x12); // UIE
    expect(timers.next).toBe(1e9);
    at(1e9);
    expect(irqs.high(8)).toBe(true);
    expect(read(0x0c)).toBe(0xd0); // IRQF, UF, and PF: the 1024 Hz flag runs even without PIE
    at(2e9);
    expect(irqs.edges[8]).toBe(2);
  });

  it('alarm at 00:00:00 fires two seconds in; don\'t-care alarm bytes match every second', () => {
    const { irqs, read, write, at } = setup();
    write(1, 0x00);
    write(3, 0x00);
    write(5, 0x00);
    write(0x0b, 0x22); // AIE
    at(1e9);
    expect(irqs.high(8)).toBe(false);
    expect(read(0x0c)).toBe(0x50); // UF and PF without their enables: flags set, no IRQF
    at(2e9);
    expect(irqs.high(8)).toBe(true);
    expect(read(0x0c)).toBe(0xf0);
    write(5, 0xff);
    write(3, 0xc0);
    write(1, 0xd5);
    at(3e9);
    expect(read(0x0c)).toBe(0xf0);
  });

  it('setting SET clears UIE and stops the update flag', () => {
    const { read, write, clock } = setup();
    write(0x0b, 0x12);
    write(0x0b, 0x92);
    expect(read(0x0b)).toBe(0x82);
    clock.t = 3e9;
    expect(read(0x0c) & 0x90).toBe(0);
  });

  it('UIP is set in the 2228 us before the second changes, and never while SET', () => {
    const { read, write, clock } = setup();
    clock.t = 0.5e9;
    expect(read(0x0a)).toBe(0x26);
    clock.t = 1e9 - 1_000_000;
    expect(read(0x0a)).toBe(0xa6);
    write(0x0b, 0x82);
    expect(read(0x0a)).toBe(0x26);
  });

  it('status D reports valid RAM and time; index bit 7 masks NMI and is recorded', () => {
    const { rtc, read } = setup();
    expect(read(0x0d)).toBe(0x80);
    expect(rtc.nmiMasked).toBe(false);
    rtc.portWrite(0x70, 1, 0x8d);
    expect(rtc.nmiMasked).toBe(true);
    expect(rtc.portRead(0x71, 1)).toBe(0x80);
  });

  it('memory-size bytes for 256 MiB: 640 KiB base, extended capped at 65535 KiB, 3840 64K blocks above 16 MiB, checksum', () => {
    const { read } = setup(256 * MiB);
    const w16 = (lo: number) => read(lo) | (read(lo + 1) << 8);
    expect(w16(0x15)).toBe(640);
    expect(w16(0x17)).toBe(0xffff);
    expect(w16(0x30)).toBe(0xffff);
    expect(w16(0x34)).toBe(3840);
    expect([read(0x5b), read(0x5c), read(0x5d)]).toEqual([0, 0, 0]);
    let sum = 0;
    for (let i = 0x10; i < 0x2e; i++) sum += read(i);
    expect((read(0x2e) << 8) | read(0x2f)).toBe(sum);
  });

  it('memory-size bytes for 8 MiB, and for RAM above 4 GiB in 64 KiB units', () => {
    const small = setup(8 * MiB);
    expect(small.read(0x17) | (small.read(0x18) << 8)).toBe(7 * 1024);
    expect(small.read(0x34) | (small.read(0x35) << 8)).toBe(0);
    const big = setup(6 * 1024 * MiB, 3 * 1024 * MiB);
    expect([big.read(0x5b), big.read(0x5c), big.read(0x5d)]).toEqual([0x00, 0xc0, 0x00]); // 3 GiB = 0xC000 blocks
    expect(big.read(0x34) | (big.read(0x35) << 8)).toBe((3072 - 16) * 16);
  });

  it('general CMOS bytes hold what the guest writes; status C and D ignore writes', () => {
    const { read, write } = setup();
    write(0x40, 0x5a);
    write(0x7f, 0xa5);
    expect(read(0x40)).toBe(0x5a);
    expect(read(0x7f)).toBe(0xa5);
    write(0x0d, 0);
    expect(read(0x0d)).toBe(0x80);
  });

  it('divider reset stops the clock; releasing it starts the first update 500 ms later', () => {
    const { read, write, clock } = setup();
    clock.t = 0.2e9;
    write(0x0a, 0x66); // DV = 110: reset
    clock.t = 10e9;
    expect(read(0)).toBe(0x58);
    write(0x0a, 0x26);
    clock.t = 10.49e9;
    expect(read(0)).toBe(0x58);
    clock.t = 10.5e9;
    expect(read(0)).toBe(0x59);
  });
});

describe('MC146818 reset', () => {
  it('RESET clears the interrupt enables and flags, lowers IRQ 8, and the clock keeps running', () => {
    const { rtc, irqs, read, write, at } = setup();
    write(0x40, 0x77);
    write(0x0b, 0x52); // PIE + UIE
    at(1e9);
    expect(irqs.high(8)).toBe(true);
    rtc.reset();
    expect(irqs.high(8)).toBe(false);
    expect(read(0x0b)).toBe(0x02);
    expect(read(0x0c)).toBe(0);
    expect(read(0x40)).toBe(0x77);
    expect(read(0)).toBe(0x59);
  });
});
