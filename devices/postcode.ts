// The POST code port (0x80): firmware and kernels write progress codes here (and Linux uses
// it as an I/O delay). We record the last codes and count the writes for traces.
//
// Emulated: writes are recorded in a ring of the last 16 codes; reads return the last value
// written (as the diagnostic cards' latch does). Nothing is displayed.

import type { PortDevice } from './bus.js';
import { declareState } from './state.js';

export const POST_PORT = 0x80;
/** How many recent codes are kept. */
export const POST_HISTORY = 16;

export interface PostCodeOptions {
  /** Each code as it is written (traces); optional. */
  onCode?: (code: number) => void;
}

export class PostCode implements PortDevice {
  static {
    declareState(PostCode, { fields: { last: 'u8', ring: ['u8', POST_HISTORY], writes: 'f64' }, wiring: ['onCode'] });
  }

  /** The last code written. */
  last = 0;
  private readonly ring = new Uint8Array(POST_HISTORY);
  // ---- Counters.
  writes = 0;

  private readonly onCode: ((code: number) => void) | null;

  constructor(opts: PostCodeOptions = {}) {
    this.onCode = opts.onCode ?? null;
  }

  /** The recent codes, oldest first. */
  history(): number[] {
    const n = Math.min(this.writes, POST_HISTORY);
    const out: number[] = [];
    for (let i = this.writes - n; i < this.writes; i++) out.push(this.ring[i % POST_HISTORY]);
    return out;
  }

  portRead(_port: number, _size: 1 | 2 | 4): number {
    return this.last;
  }

  portWrite(_port: number, _size: 1 | 2 | 4, value: number): void {
    const v = value & 0xff;
    this.ring[this.writes % POST_HISTORY] = v;
    this.writes++;
    this.last = v;
    this.onCode?.(v);
  }
}
