// The legacy devices on one Bus with the PIC behind its IRQ lines, as the machine wires them:
// each device's interrupt reaches the CPU's INTA cycle as the vector Linux programmed.

import { describe, expect, it } from 'vitest';
import { legacyBoard } from './helpers.js';

function board() {
  const board = legacyBoard();
  const out = (p: number, v: number) => board.bus.portWrite(p, 1, v);
  const inb = (p: number) => board.bus.portRead(p, 1);
  // Linux's init_8259A: vectors 0x30 and 0x38.
  for (const [p, v] of [[0x21, 0xff], [0x20, 0x11], [0x21, 0x30], [0x21, 0x04], [0x21, 0x01],
    [0xa0, 0x11], [0xa1, 0x38], [0xa1, 0x02], [0xa1, 0x01], [0x21, 0x00], [0xa1, 0x00]]) out(p, v);
  return { ...board, out, inb };
}

describe('legacy devices on the bus, behind the PIC', () => {
  it('PIT channel 0 mode 2 -> vector 0x30 each period; EOI lets the next one in', () => {
    const { clock, timers, pic, out } = board();
    out(0x43, 0x34);
    out(0x40, 0xa9);
    out(0x40, 0x04); // 1193: 1 ms
    expect(pic.acknowledge()).toBe(0x30); // OUT0 rose when the mode word was written
    out(0x20, 0x20);
    clock.t = 1_000_200;
    timers.run();
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x30);
    out(0x20, 0x20);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('UART THRE with OUT2 -> vector 0x34; host byte -> RX interrupt on the same line', () => {
    const { pic, uart, out, inb, serial } = board();
    out(0x3fc, 0x0b);
    out(0x3f9, 0x03); // RDI + THRI
    expect(pic.acknowledge()).toBe(0x34);
    expect(inb(0x3fa)).toBe(0x02);
    out(0x3f8, 0x68);
    out(0x20, 0x20);
    expect(serial).toEqual([0x68]);
    expect(pic.acknowledge()).toBe(0x34); // THR emptied again
    expect(inb(0x3fa)).toBe(0x02);
    out(0x3f9, 0x01);
    out(0x20, 0x20);
    uart.receive(0x0d);
    expect(pic.acknowledge()).toBe(0x34);
    expect(inb(0x3fa)).toBe(0x04);
    expect(inb(0x3f8)).toBe(0x0d);
  });

  it('RTC periodic interrupt on IRQ 8 -> slave vector 0x38, cleared by reading status C', () => {
    const { clock, timers, pic, out, inb } = board();
    out(0x70, 0x0b);
    out(0x71, 0x42);
    clock.t = 1e6;
    timers.run();
    expect(pic.acknowledge()).toBe(0x38);
    out(0x70, 0x0c);
    expect(inb(0x71)).toBe(0xc0);
    out(0xa0, 0x20);
    out(0x20, 0x20);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('keyboard reset reply -> vector 0x31 twice, once per byte', () => {
    const { pic, out, inb } = board();
    out(0x60, 0xff);
    expect(pic.acknowledge()).toBe(0x31);
    expect(inb(0x60)).toBe(0xfa);
    out(0x20, 0x20);
    expect(pic.acknowledge()).toBe(0x31);
    expect(inb(0x60)).toBe(0xaa);
    out(0x20, 0x20);
    expect(pic.hasInterrupt()).toBe(false);
  });
});
