// Test doubles for the devices' surroundings: an IRQ sink that records line levels and
// edges, a clock the test moves by hand, and the legacy devices wired on one bus.

import { Bus, type IrqSink } from '../../devices/bus.js';
import { Timers, type Clock } from '../../devices/clock.js';
import { I8042 } from '../../devices/i8042.js';
import { Pic8259 } from '../../devices/pic8259.js';
import { Pit8254 } from '../../devices/pit8254.js';
import { Port92 } from '../../devices/port92.js';
import { Rtc } from '../../devices/rtc.js';
import { Uart16550 } from '../../devices/uart16550.js';

export class FakeIrqs implements IrqSink {
  readonly level = new Uint8Array(24);
  /** Rising edges seen per line. */
  readonly edges = new Uint32Array(24);
  setIrq(line: number, level: boolean): void {
    if (level && !this.level[line]) this.edges[line]++;
    this.level[line] = level ? 1 : 0;
  }
  high(line: number): boolean {
    return this.level[line] !== 0;
  }
}

export class FakeClock implements Clock {
  t = 0;
  now(): number {
    return this.t;
  }
  /** Move time forward by `ns`. */
  tick(ns: number): void {
    this.t += ns;
  }
}

/** The legacy devices on one Bus behind the PIC, wired as the PC machine wires them. */
export function legacyBoard(epochMs = 0) {
  const bus = new Bus();
  const clock = new FakeClock();
  const timers = new Timers(clock);
  const pic = new Pic8259();
  bus.connectIrqs(pic);
  const serial: number[] = [];
  const uart = new Uart16550({ base: 0x3f8, irqs: bus, irq: 4, onTransmit: (b) => serial.push(b), clock, timers });
  const pit = new Pit8254({ irqs: bus, clock, timers });
  const rtc = new Rtc({ irqs: bus, clock, timers, ramSize: 64 << 20, epochMs });
  const kbc = new I8042({ irqs: bus, onReset: () => {}, onA20: () => {} });
  const port92 = new Port92({ onReset: () => {}, onA20: () => {} });
  bus.registerPorts('pic-master', 0x20, 2, pic);
  bus.registerPorts('pic-slave', 0xa0, 2, pic);
  bus.registerPorts('elcr', 0x4d0, 2, pic);
  bus.registerPorts('pit', 0x40, 4, pit);
  bus.registerPorts('port-b', 0x61, 1, pit);
  bus.registerPorts('rtc', 0x70, 2, rtc);
  bus.registerPorts('i8042-data', 0x60, 1, kbc);
  bus.registerPorts('i8042-cmd', 0x64, 1, kbc);
  bus.registerPorts('port92', 0x92, 1, port92);
  bus.registerPorts('com1', 0x3f8, 8, uart);
  for (const d of [uart, pit, rtc]) timers.add(d);
  return { bus, clock, timers, pic, uart, pit, rtc, kbc, port92, serial };
}
