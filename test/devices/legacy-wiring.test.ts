// The legacy devices on one Bus with the PIC behind its IRQ lines, as the machine wires them:
// each device's interrupt reaches the CPU's INTA cycle as the vector Linux programmed.

import { describe, expect, it } from 'vitest';
import { Bus } from '../../devices/bus.js';
import { Timers } from '../../devices/clock.js';
import { I8042 } from '../../devices/i8042.js';
import { Pic8259 } from '../../devices/pic8259.js';
import { Pit8254 } from '../../devices/pit8254.js';
import { Rtc } from '../../devices/rtc.js';
import { Uart16550 } from '../../devices/uart16550.js';
import { FakeClock } from './helpers.js';

function board() {
  const bus = new Bus();
  const clock = new FakeClock();
  const timers = new Timers(clock);
  const pic = new Pic8259();
  bus.connectIrqs(pic);
  const serial: number[] = [];
  const uart = new Uart16550({ base: 0x3f8, irqs: bus, irq: 4, onTransmit: (b) => serial.push(b), clock, timers });
  const pit = new Pit8254({ irqs: bus, clock, timers });
  const rtc = new Rtc({ irqs: bus, clock, timers, ramSize: 64 << 20, epochMs: 0 });
  const kbc = new I8042({ irqs: bus, onReset: () => {}, onA20: () => {} });
  bus.registerPorts('pic-master', 0x20, 2, pic);
  bus.registerPorts('pic-slave', 0xa0, 2, pic);
  bus.registerPorts('elcr', 0x4d0, 2, pic);
  bus.registerPorts('pit', 0x40, 4, pit);
  bus.registerPorts('port-b', 0x61, 1, pit);
  bus.registerPorts('rtc', 0x70, 2, rtc);
  bus.registerPorts('i8042-data', 0x60, 1, kbc);
  bus.registerPorts('i8042-cmd', 0x64, 1, kbc);
  bus.registerPorts('com1', 0x3f8, 8, uart);
  for (const d of [uart, pit, rtc]) timers.add(d);
  const out = (p: number, v: number) => bus.portWrite(p, 1, v);
  const inb = (p: number) => bus.portRead(p, 1);
  // Linux's init_8259A: vectors 0x30 and 0x38.
  for (const [p, v] of [[0x21, 0xff], [0x20, 0x11], [0x21, 0x30], [0x21, 0x04], [0x21, 0x01],
    [0xa0, 0x11], [0xa1, 0x38], [0xa1, 0x02], [0xa1, 0x01], [0x21, 0x00], [0xa1, 0x00]]) out(p, v);
  return { bus, clock, timers, pic, uart, pit, rtc, kbc, serial, out, inb };
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
