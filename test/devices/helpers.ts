// Test doubles for the devices' surroundings: an IRQ sink that records line levels and
// edges, and a clock the test moves by hand.

import type { IrqSink } from '../../devices/bus.js';
import type { Clock } from '../../devices/clock.js';

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
