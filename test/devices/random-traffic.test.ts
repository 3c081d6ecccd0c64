// A guest can crash itself, never the emulator: random port traffic at every legacy device,
// with time jumping about, never throws, reads are always bytes, deadlines are never NaN.

import { expect, it } from 'vitest';
import { legacyBoard } from './helpers.js';

const PORTS = [0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x40, 0x41, 0x42, 0x43, 0x61, 0x70, 0x71, 0x60, 0x64, 0x92,
  0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff];

it('guest pounds every legacy port with random bytes while time jumps -> no exception, every read a byte', () => {
  let seed = 0x2545f491;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let round = 0; round < 3; round++) {
    const { bus, clock, timers, pic, uart, kbc } = legacyBoard();
    let bad = 0;
    for (let i = 0; i < 20000; i++) {
      const r = rnd();
      const port = PORTS[r % PORTS.length];
      if ((r >>> 8) & 1) {
        const v = bus.portRead(port, 1);
        if (!Number.isInteger(v) || v < 0 || v > 0xff) bad++;
      } else {
        bus.portWrite(port, 1, (r >>> 16) & 0xff);
      }
      const k = (r >>> 24) % 101;
      if (k < 14) clock.tick(rnd() % 5_000_000);
      else if (k === 14) clock.tick((rnd() % 1000) * 1e9); // a host stall of up to 1000 s
      else if (k < 25 && Number.isNaN(timers.run())) bad++;
      else if (k < 30 && pic.hasInterrupt()) {
        const v = pic.acknowledge();
        if (v < 0 || v > 0xff) bad++;
      } else if (k < 33) uart.receive(r & 0xff);
      else if (k < 35) kbc.keyboardInput(r & 0xff);
    }
    expect(bad).toBe(0);
    expect(bus.stats().every((s) => s.reads + s.writes > 0)).toBe(true);
  }
});
