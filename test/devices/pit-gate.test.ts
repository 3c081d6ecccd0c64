// The 8254's channel 2 gate (port 0x61 bit 0) in the modes that use it, and mode 5 (issue 17:
// "the PIT: modes 0-5, read-back and latch, the gate on channel 2"); OUT2 is port 0x61 bit 5.
import { describe, expect, it } from 'vitest';
import { PIT_HZ, Pit8254 } from '../../devices/pit8254.js';
import { FakeClock, FakeIrqs } from './helpers.js';

/** Nanoseconds for `ticks` PIT input clocks (plus a little, to land inside the tick). */
const ns = (ticks: number) => Math.ceil((ticks * 1e9) / PIT_HZ) + 1;

function setup() {
  const clock = new FakeClock();
  const pit = new Pit8254({ irqs: new FakeIrqs(), irq: 0, clock });
  const w = (p: number, v: number) => pit.portWrite(p, 1, v);
  const r = (p: number) => pit.portRead(p, 1);
  const out2 = (tick: number) => { clock.t = ns(tick); return (r(0x61) & 0x20) !== 0; };
  const gate = (tick: number, on: boolean) => { clock.t = ns(tick); w(0x61, on ? 1 : 0); };
  /** Latch channel 2 (counter latch command) and read its 16-bit count. */
  const count2 = (tick: number) => { clock.t = ns(tick); w(0x43, 0x80); return r(0x42) | (r(0x42) << 8); };
  return { w, r, out2, gate, count2 };
}

describe('8254 channel 2 gate and mode 5', () => {
  it('mode 5 (hardware-triggered strobe): nothing until the gate rises, then OUT low for one clock after the count; a new rise retriggers', () => {
    const { w, out2, gate } = setup();
    w(0x43, 0xba); // channel 2, lobyte/hibyte, mode 5
    w(0x42, 20); w(0x42, 0);
    expect(out2(100)).toBe(true); // no trigger yet: no strobe, however long
    gate(110, true);
    expect(out2(129)).toBe(true);
    expect(out2(130)).toBe(false); // count reached 0: the strobe
    expect(out2(131)).toBe(true);
    expect(out2(200)).toBe(true); // one strobe only
    gate(210, false);
    gate(215, true); // retrigger
    expect(out2(234)).toBe(true);
    expect(out2(235)).toBe(false);
  });

  it('mode 2 with the gate low: counting stops and OUT stays high; the gate rising reloads the full count', () => {
    const { w, out2, gate, count2 } = setup();
    gate(0, true);
    w(0x43, 0xb4); // channel 2, lobyte/hibyte, mode 2
    w(0x42, 100); w(0x42, 0);
    expect(count2(30)).toBe(70);
    gate(40, false);
    expect(count2(90)).toBe(60); // frozen
    expect(out2(99)).toBe(true); // the low pulse at count 1 does not come while the gate is low
    gate(120, true);
    expect(count2(125)).toBe(95); // reloaded at the rising edge
    expect(out2(219)).toBe(false); // count 1 of the new period: OUT low for one clock
    expect(out2(220)).toBe(true);
  });

  it('mode 3 with the gate low forces OUT high; the rising edge starts a fresh square wave', () => {
    const { w, out2, gate } = setup();
    gate(0, true);
    w(0x43, 0xb6); // channel 2, mode 3
    w(0x42, 100); w(0x42, 0);
    expect(out2(60)).toBe(false); // second half of the period
    gate(70, false);
    expect(out2(71)).toBe(true);
    gate(300, true);
    expect(out2(349)).toBe(true);
    expect(out2(351)).toBe(false);
    expect(out2(401)).toBe(true);
  });

  it('read-back with the count bit clear latches channel 2 status: OUT, null count, access mode, mode', () => {
    const { w, r } = setup();
    w(0x43, 0xba); // channel 2, mode 5, lobyte/hibyte
    w(0x43, 0xe8); // read-back: status only (count bit 5 set = don't latch count), channel 2
    expect(r(0x42)).toBe(0x80 | 0x40 | 0x30 | (5 << 1)); // OUT high, null count, lobyte/hibyte, mode 5
  });
});
