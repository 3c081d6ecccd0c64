// QEMU's isa-debug-exit device (0xF4 by default, 1-4 ports wide): a guest (usually a test)
// ends the emulator by writing a value; the exit status is (value << 1) | 1, as in QEMU, so
// a guest can never report a plain 0.
//
// Emulated: the write, at any size; reads return 0. That is the whole device.

import type { PortDevice } from './bus.js';
import { declareState } from './state.js';

export const DEBUG_EXIT_PORT = 0xf4;

export interface DebugExitOptions {
  /** Called with the exit status the emulator should end with. */
  onExit: (status: number) => void;
}

export class DebugExit implements PortDevice {
  static {
    declareState(DebugExit, { fields: { writes: 'f64', lastValue: 'u32' }, wiring: ['onExit'] });
  }

  // ---- Counters.
  writes = 0;
  /** The last value written (what the guest asked to report). */
  lastValue = 0;

  private readonly onExit: (status: number) => void;

  constructor(opts: DebugExitOptions) {
    this.onExit = opts.onExit;
  }

  portRead(_port: number, _size: 1 | 2 | 4): number {
    return 0;
  }

  portWrite(_port: number, size: 1 | 2 | 4, value: number): void {
    const v = size === 4 ? value >>> 0 : value & (size === 2 ? 0xffff : 0xff);
    this.writes++;
    this.lastValue = v;
    this.onExit(((v << 1) | 1) >>> 0);
  }
}
