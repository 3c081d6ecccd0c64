// Device state declared once: every declared device saves and restores in the
// middle of its activity and then behaves exactly as the original does; the
// declaration names every field the device has.

import { describe, expect, it } from 'vitest';
import { Pic8259 } from '../../devices/pic8259.js';
import { loadState, saveState, StateMismatch, stateDeclOf, undeclaredFields } from '../../devices/state.js';
import { Uart16550 } from '../../devices/uart16550.js';
import { FakeIrqs, legacyBoard } from './helpers.js';

const PORTS = [0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x40, 0x41, 0x42, 0x43, 0x61, 0x70, 0x71, 0x60, 0x64, 0x92,
  0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff];

type Board = ReturnType<typeof legacyBoard>;

/** One step of guest and host activity, the same on every board given the same random number. */
function step(b: Board, r: number, out: number[]): void {
  const port = PORTS[r % PORTS.length];
  if ((r >>> 8) & 1) out.push(b.bus.portRead(port, 1));
  else b.bus.portWrite(port, 1, (r >>> 16) & 0xff);
  const k = (r >>> 24) % 101;
  if (k < 14) b.clock.tick((r & 0xffff) * 50);
  else if (k < 25) out.push(b.timers.run());
  else if (k < 30 && b.pic.hasInterrupt()) out.push(b.pic.acknowledge());
  else if (k < 33) b.uart.receive(r & 0xff);
  else if (k < 35) b.kbc.keyboardInput(r & 0xff);
  out.push(b.bus.irqLevelOf(4) ? 1 : 0, b.pic.hasInterrupt() ? 1 : 0);
}

/** Move every declared device (and the time) of `from` into `to`. */
function transplant(from: Board, to: Board): string[] {
  loadState(to.bus, saveState(from.bus));
  const moved: string[] = [];
  const dest = new Map(to.bus.devices().map((d) => [d.name, d.dev]));
  for (const { name, dev } of from.bus.devices()) {
    if (!stateDeclOf(dev)) continue;
    loadState(dest.get(name)!, saveState(dev));
    moved.push(name);
  }
  to.clock.t = from.clock.t;
  to.timers.next = from.timers.next;
  return moved;
}

describe('device state declarations', () => {
  it('every declared device on the legacy board names each of its fields as state or wiring', () => {
    const b = legacyBoard();
    for (const { dev } of b.bus.devices()) expect(undeclaredFields(dev)).toEqual([]);
    expect(undeclaredFields(b.bus)).toEqual([]);
  });

  it('a field the declaration does not name is reported', () => {
    const u = new Uart16550({ base: 0x3f8, irqs: new FakeIrqs(), irq: 4, onTransmit: () => {} });
    (u as unknown as Record<string, number>).newRegister = 1;
    expect(undeclaredFields(u)).toEqual(['Uart16550.newRegister is not declared']);
  });

  it('saved in the middle of random guest traffic, restored into fresh devices -> identical reads, IRQs and state from then on', () => {
    let seed = 0x1234567;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let round = 0; round < 4; round++) {
      const a = legacyBoard();
      for (let i = 0; i < 3000 + round * 1000; i++) step(a, rnd(), []);
      const b = legacyBoard();
      const moved = transplant(a, b);
      expect(moved).toEqual(expect.arrayContaining(['pic-master', 'com1']));
      const outA: number[] = [], outB: number[] = [];
      for (let i = 0; i < 3000; i++) { const r = rnd(); step(a, r, outA); step(b, r, outB); }
      expect(outB).toEqual(outA);
      expect(b.serial).toEqual(a.serial.slice(a.serial.length - b.serial.length));
      for (const name of moved) {
        const da = a.bus.devices().find((d) => d.name === name)!.dev;
        const db = b.bus.devices().find((d) => d.name === name)!.dev;
        expect(saveState(db), name).toEqual(saveState(da));
      }
    }
  });

  it('UART with bytes waiting in its RX FIFO and a THRE interrupt latched -> the copy delivers the same bytes and interrupts', () => {
    const irqsA = new FakeIrqs(), irqsB = new FakeIrqs();
    const a = new Uart16550({ base: 0x3f8, irqs: irqsA, irq: 4, onTransmit: () => {} });
    a.portWrite(0x3fa, 1, 0x01); // FIFO on
    a.portWrite(0x3fc, 1, 0x08); // OUT2
    a.portWrite(0x3f9, 1, 0x03); // RX data + THRE interrupts
    for (const c of [0x61, 0x62, 0x63]) a.receive(c);
    const b = new Uart16550({ base: 0x3f8, irqs: irqsB, irq: 4, onTransmit: () => {} });
    loadState(b, saveState(a));
    const read = (u: Uart16550) => [u.portRead(0x3fa, 1), u.portRead(0x3f8, 1), u.portRead(0x3fa, 1), u.portRead(0x3f8, 1), u.portRead(0x3f8, 1), u.portRead(0x3fa, 1), u.portRead(0x3fd, 1)];
    expect(read(b)).toEqual(read(a));
    expect(b.rxCount).toBe(0);
  });

  it('bytes of another size -> StateMismatch, nothing changed', () => {
    const p = new Pic8259();
    p.portWrite(0x21, 1, 0x5a);
    const before = saveState(p);
    expect(() => loadState(p, new Uint8Array(before.length + 1))).toThrow(StateMismatch);
    expect(saveState(p)).toEqual(before);
  });
});
