// The 8042 keyboard controller and port 0x92, driven as Linux's i8042/atkbd probing and
// real-mode A20 code drive them.

import { describe, expect, it } from 'vitest';
import { I8042 } from '../../devices/i8042.js';
import { Port92 } from '../../devices/port92.js';
import { FakeIrqs } from './helpers.js';

function setup() {
  const irqs = new FakeIrqs();
  const events: string[] = [];
  const kbc = new I8042({ irqs, onReset: () => events.push('reset'), onA20: (on) => events.push(`a20 ${on}`) });
  const cmd = (v: number) => kbc.portWrite(0x64, 1, v);
  const data = (v: number) => kbc.portWrite(0x60, 1, v);
  const status = () => kbc.portRead(0x64, 1);
  /** Read everything in the output buffer, as i8042_flush does. */
  const drain = () => {
    const got: number[] = [];
    while (status() & 1) got.push(kbc.portRead(0x60, 1));
    return got;
  };
  return { kbc, irqs, events, cmd, data, status, drain };
}

describe('i8042 keyboard controller', () => {
  it('guest writes 0xFE to port 0x64 -> machine resets', () => {
    const { kbc, events, cmd } = setup();
    cmd(0xfe);
    expect(events).toEqual(['reset']);
    expect(kbc.resets).toBe(1);
    cmd(0xff); // pulses nothing
    expect(events).toEqual(['reset']);
  });

  it('self-test 0xAA answers 0x55 with OBF set; the status shows SYS and A2 after a command', () => {
    const { cmd, status, drain } = setup();
    expect(status() & 1).toBe(0);
    cmd(0xaa);
    expect(status() & 0x0d).toBe(0x0d); // OBF, SYS, A2
    expect(drain()).toEqual([0x55]);
    cmd(0xab);
    expect(drain()).toEqual([0x00]); // keyboard interface test passes
  });

  it('command byte reads back through 0x20 and is written through 0x60 (aux stays disabled)', () => {
    const { kbc, cmd, data, drain } = setup();
    cmd(0x20);
    expect(drain()).toEqual([0x65]);
    cmd(0x60);
    data(0x47);
    expect(kbc.commandByte).toBe(0x67);
    cmd(0xad);
    cmd(0x20);
    expect(drain()).toEqual([0x77]);
    cmd(0xae);
    cmd(0x20);
    expect(drain()).toEqual([0x67]);
  });

  it('output port: 0xD0 reads A20 and reset bits, 0xD1 turns A20 off and on, 0xDD/0xDF too', () => {
    const { kbc, events, cmd, data, drain } = setup();
    cmd(0xd0);
    expect(drain()).toEqual([0x03]);
    cmd(0xd1);
    data(0xdd);
    expect(events).toEqual(['a20 false']);
    cmd(0xd0);
    expect(drain()[0] & 0x03).toBe(0x01);
    cmd(0xd1);
    data(0xdf);
    cmd(0xdd);
    cmd(0xdf);
    expect(events).toEqual(['a20 false', 'a20 true', 'a20 false', 'a20 true']);
    expect(kbc.a20()).toBe(true);
  });

  it('writing the output port with bit 0 clear resets the machine', () => {
    const { events, cmd, data } = setup();
    cmd(0xd1);
    data(0x02);
    expect(events).toEqual(['reset']);
  });

  it('keyboard reset 0xFF -> 0xFA 0xAA, each byte raising IRQ 1 as it reaches the output buffer', () => {
    const { kbc, irqs, data } = setup();
    data(0xff);
    expect(irqs.high(1)).toBe(true);
    expect(kbc.portRead(0x60, 1)).toBe(0xfa);
    expect(irqs.high(1)).toBe(true);
    expect(irqs.edges[1]).toBe(2);
    expect(kbc.portRead(0x60, 1)).toBe(0xaa);
    expect(irqs.high(1)).toBe(false);
    expect(kbc.portRead(0x60, 1)).toBe(0xaa); // an empty buffer repeats the last byte
  });

  it('atkbd probing: identify, LEDs, scancode set query, enable, echo, unknown command', () => {
    const { kbc, data, drain } = setup();
    data(0xf2);
    expect(drain()).toEqual([0xfa, 0xab, 0x41]); // translated MF2 id
    data(0xed);
    data(0x07);
    expect(drain()).toEqual([0xfa, 0xfa]);
    expect(kbc.leds).toBe(7);
    data(0xf0);
    data(0x00);
    expect(drain()).toEqual([0xfa, 0xfa, 0x41]); // ACK, ACK for the argument, set 2 as the translating controller shows it
    data(0xf5);
    data(0xf4);
    data(0xee);
    data(0xf3);
    data(0x20);
    data(0x88);
    expect(drain()).toEqual([0xfa, 0xfa, 0xee, 0xfa, 0xfa, 0xfe]);
  });

  it("Linux's i8042_check_aux finds no AUX port: the loop byte comes back from aux, but aux cannot be enabled", () => {
    const { irqs, cmd, data, status, drain } = setup();
    cmd(0xd3);
    data(0x5a);
    expect(status() & 0x21).toBe(0x21); // OBF from aux
    expect(irqs.high(12)).toBe(false); // aux interrupts are off in the command byte
    expect(drain()).toEqual([0x5a]);
    cmd(0xa8);
    cmd(0x20);
    expect(drain()[0] & 0x20).toBe(0x20);
  });

  it('IRQ 1 follows the command byte enable; host keystrokes reach the guest', () => {
    const { kbc, irqs, cmd, data, drain } = setup();
    cmd(0x60);
    data(0x64); // interrupts off
    expect(kbc.keyboardInput(0x1e)).toBe(true);
    expect(irqs.high(1)).toBe(false);
    cmd(0x60);
    data(0x65);
    expect(irqs.high(1)).toBe(true);
    expect(drain()).toEqual([0x1e]);
    data(0xf5); // disable scanning
    drain();
    expect(kbc.keyboardInput(0x9e)).toBe(false);
    expect(kbc.keysDropped).toBe(1);
  });
});

describe('port 0x92 (System Control Port A)', () => {
  it('bit 1 switches A20, bit 0 resets the machine and reads back 0', () => {
    const events: string[] = [];
    const p = new Port92({ onReset: () => events.push('reset'), onA20: (on) => events.push(`a20 ${on}`) });
    p.portWrite(0x92, 1, 0x02);
    expect(p.portRead(0x92, 1)).toBe(0x02);
    expect(p.a20()).toBe(true);
    p.portWrite(0x92, 1, 0x03);
    expect(p.portRead(0x92, 1)).toBe(0x02);
    p.portWrite(0x92, 1, 0x00);
    expect(events).toEqual(['a20 true', 'reset', 'a20 false']);
    expect(p.resets).toBe(1);
  });
});

describe('i8042 and port 0x92 reset', () => {
  it('reset empties the output buffer, restores the command byte and A20, and drops IRQ 1', () => {
    const { kbc, irqs, events, cmd, data, status } = setup();
    cmd(0xd1);
    data(0x01); // A20 off
    data(0xff);
    expect(irqs.high(1)).toBe(true);
    kbc.reset();
    expect(irqs.high(1)).toBe(false);
    expect(status()).toBe(0x14);
    expect(kbc.commandByte).toBe(0x65);
    expect(kbc.a20()).toBe(true);
    expect(events).toEqual(['a20 false']); // reset itself calls no callbacks
    const p = new Port92({ onReset: () => {}, onA20: () => {} });
    p.portWrite(0x92, 1, 0x02);
    p.reset();
    expect(p.portRead(0x92, 1)).toBe(0);
  });
});
