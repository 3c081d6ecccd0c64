// System Control Port A (0x92, the PS/2 "fast A20 and reset" port of every PC chipset).
//
// Emulated: bit 1 drives A20, a 0->1 write of bit 0 resets the machine (the bit reads back
// 0 afterwards, as on the PIIX); the other bits are stored. Not emulated: bit 3 (CMOS
// lock) has no effect, bits 6-7 (disk activity LEDs) light nothing.

import type { PortDevice } from './bus.js';
import { declareState } from './state.js';

export const PORT92 = 0x92;
export const PORT92_RESET = 0x01; // fast reset (a 0->1 transition)
export const PORT92_A20 = 0x02; // A20 gate

export interface Port92Options {
  /** The guest asked for a fast reset. */
  onReset: () => void;
  /** Bit 1 changed. Starts disabled: the machine ORs it with the i8042's A20 output. */
  onA20: (enabled: boolean) => void;
}

export class Port92 implements PortDevice {
  static {
    declareState(Port92, { fields: { value: 'u8', resets: 'f64', a20Changes: 'f64' }, wiring: ['onReset', 'onA20'] });
  }

  value = 0;
  // ---- Counters.
  resets = 0;
  a20Changes = 0;

  private readonly onReset: () => void;
  private readonly onA20: (enabled: boolean) => void;

  constructor(opts: Port92Options) {
    this.onReset = opts.onReset;
    this.onA20 = opts.onA20;
  }

  /** Power-on state: A20 off, no callbacks. */
  reset(): void {
    this.value = 0;
  }

  a20(): boolean {
    return (this.value & PORT92_A20) !== 0;
  }

  portRead(_port: number, _size: 1 | 2 | 4): number {
    return this.value;
  }

  portWrite(_port: number, _size: 1 | 2 | 4, value: number): void {
    const v = value & 0xff;
    const old = this.value;
    this.value = v & ~PORT92_RESET;
    if ((old ^ v) & PORT92_A20) {
      this.a20Changes++;
      this.onA20((v & PORT92_A20) !== 0);
    }
    if (v & PORT92_RESET) { // bit 0 always reads 0, so every write of 1 is a 0->1 edge
      this.resets++;
      this.onReset();
    }
  }
}
