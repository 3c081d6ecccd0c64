// The PC's Intel 8254 programmable interval timer (ports 0x40-0x43; channel 0 OUT -> IRQ 0)
// and the bits of system control port B (0x61) that belong to it: channel 2's gate and OUT,
// and the refresh toggle that BIOS and Linux delay loops poll.
//
// Emulated: channels 0-2, lobyte/hibyte/both access, modes 0-5, BCD counting, the counter
// latch and read-back commands, the status byte (OUT, null count, mode), channel 2's gate.
// Counts are computed from the virtual clock when read, so a guest polling at arbitrary
// times sees the count a real 1.193182 MHz counter would have. Channel 0's rising OUT edges
// raise IRQ 0; edges missed while the host stalled are coalesced into one interrupt (and
// counted). Not emulated: the one-clock delay between writing a count and counting, the
// exact count sequence of mode 3 with odd counts (the OUT timing is right), channel 1 gate.

import type { IrqSink, PortDevice } from './bus.js';
import type { Clock, Timed, Timers } from './clock.js';
import { declareState } from './state.js';

/** Ports. */
export const PIT_CHANNEL0 = 0x40;
export const PIT_CHANNEL2 = 0x42;
export const PIT_CONTROL = 0x43; // mode/command register (write-only)
export const PIT_PORT_COUNT = 4;
export const SYSTEM_CONTROL_B = 0x61; // NMI status and control (port B)

/** The PIT's input clock. */
export const PIT_HZ = 1193182;
const TICKS_PER_NS = PIT_HZ / 1e9;
/** Memory refresh period (channel 1's classic count of 18); port B bit 4 toggles at this rate. */
export const REFRESH_PERIOD_NS = (18 * 1e9) / PIT_HZ;

/** Control word fields. */
export const CW_SC_SHIFT = 6; // bits 7-6: channel, 3 = read-back
export const CW_RW_SHIFT = 4; // bits 5-4: 0 latch, 1 lobyte, 2 hibyte, 3 lobyte then hibyte
export const CW_MODE_SHIFT = 1; // bits 3-1: mode (6, 7 are 2, 3)
export const CW_BCD = 0x01;
export const RW_LATCH = 0;
export const RW_LSB = 1;
export const RW_MSB = 2;
export const RW_BOTH = 3;
/** Read-back command bits (SC = 3). */
export const RB_NO_COUNT = 0x20; // 0 = latch the counts
export const RB_NO_STATUS = 0x10; // 0 = latch the status bytes
/** Status byte bits. */
export const STATUS_OUT = 0x80;
export const STATUS_NULL_COUNT = 0x40; // a written count is not yet in the counting element

/** Port B bits. */
export const PORTB_GATE2 = 0x01; // timer 2 gate (rw)
export const PORTB_SPEAKER = 0x02; // speaker data enable (rw)
export const PORTB_RW_MASK = 0x0f; // bits 2-3 (parity/IOCHK check enables) are stored only
export const PORTB_REFRESH = 0x10; // refresh request toggle (ro)
export const PORTB_OUT2 = 0x20; // timer 2 OUT (ro)

/** One counter: the registers of the chip, and where its counting element stands in time. */
class Channel {
  mode = 0;
  rw = RW_BOTH;
  bcd = false;
  /** Count register as written (raw, BCD if bcd). */
  cr = 0;
  writeMsbNext = false;
  readMsbNext = false;
  /** Output latch (counter latch command): -1 if not latched. */
  latched = -1;
  latchMsbNext = false;
  /** Latched status byte, -1 if none. */
  status = -1;
  gate = true;
  // The counting element: counting from `n` since tick `start` (elapsed ticks e = tick - start).
  armed = false;
  n = 0x10000;
  start = 0;
  /** Gate low: counting frozen with `frozenElapsed` ticks gone. */
  paused = false;
  frozenElapsed = 0;
  /** Modes 1 and 5: loaded, waiting for a gate rising edge. */
  waitingTrigger = false;
  /** Modes 2 and 3: a count written while counting, loaded at the next reload. */
  pendingN = 0;
  pendingAt = Infinity;
  /** A written count is not yet in the counting element (status bit 6). */
  nullCount = true;

  modulus(): number {
    return this.bcd ? 10000 : 0x10000;
  }

  /** Bring pending reloads up to `tick`. */
  sync(tick: number): void {
    if (tick >= this.pendingAt) {
      this.start = this.pendingAt;
      this.n = this.pendingN;
      this.pendingAt = Infinity;
      this.nullCount = false;
    }
  }

  elapsed(tick: number): number {
    return this.paused ? this.frozenElapsed : tick - this.start;
  }

  /** The counting element's value at `tick` (binary). */
  count(tick: number): number {
    if (!this.armed || this.waitingTrigger) return decodeCount(this.cr, this.bcd) % this.modulus();
    const e = this.elapsed(tick);
    const n = this.n;
    const m = this.modulus();
    if (this.mode === 2 || this.mode === 3) {
      const p = e % n;
      if (this.mode === 2) return n - p;
      const half = Math.ceil(n / 2);
      return Math.max((n & ~1) - 2 * (p < half ? p : p - half), 0);
    }
    return (((n - e) % m) + m) % m;
  }

  /** The OUT pin at `tick`. */
  out(tick: number): boolean {
    if (!this.armed) return this.mode !== 0;
    if (this.waitingTrigger) return true;
    const e = this.elapsed(tick);
    switch (this.mode) {
      case 0:
      case 1:
        return e >= this.n;
      case 2:
        return this.paused || e % this.n !== this.n - 1;
      case 3:
        return this.paused || e % this.n < Math.ceil(this.n / 2);
      default: // 4, 5: one tick low when the count reaches 0
        return e !== this.n;
    }
  }

  /** The first tick after `tick` at which OUT rises (Infinity if it will not without a register write). */
  nextRise(tick: number): number {
    if (!this.armed || this.paused || this.waitingTrigger) return Infinity;
    const e = tick - this.start;
    switch (this.mode) {
      case 0:
      case 1:
        return e < this.n ? this.start + this.n : Infinity;
      case 2:
      case 3:
        return Math.min(this.start + (Math.floor(e / this.n) + 1) * this.n, this.pendingAt);
      default:
        return e < this.n + 1 ? this.start + this.n + 1 : Infinity;
    }
  }

  /** How many rising edges of OUT fall in (from, to] (modes 2 and 3 count periods). */
  risesBetween(from: number, to: number): number {
    if (!this.armed || this.waitingTrigger) return 0;
    if (this.mode === 2 || this.mode === 3) {
      if (this.paused) return 0; // channel 0's gate is tied high; only channel 2 pauses
      return Math.floor((to - this.start) / this.n) - Math.floor(Math.max(from - this.start, -1) / this.n);
    }
    return this.nextRise(from) <= to ? 1 : 0;
  }

  /** A control word selecting this channel's mode: counting stops until a count is written. */
  setMode(mode: number, rw: number, bcd: boolean): void {
    this.mode = mode;
    this.rw = rw;
    this.bcd = bcd;
    this.armed = false;
    this.paused = false;
    this.waitingTrigger = false;
    this.pendingAt = Infinity;
    this.writeMsbNext = false;
    this.readMsbNext = false;
    this.latched = -1;
    this.status = -1;
    this.nullCount = true;
  }

  /** The count register is complete: load it into the counting element as the mode says. */
  load(tick: number): void {
    let n = decodeCount(this.cr, this.bcd);
    const periodic = this.mode === 2 || this.mode === 3;
    if (periodic && n < 2) n = 2; // count 1 is illegal in modes 2 and 3
    this.nullCount = true;
    if (this.mode === 1 || this.mode === 5) {
      // Used at the next gate trigger.
      this.pendingN = n;
      if (!this.armed) {
        this.armed = true;
        this.waitingTrigger = true;
        this.n = n;
      }
      return;
    }
    if (periodic && this.armed && !this.paused) {
      // Takes effect when the current period ends.
      this.sync(tick);
      this.pendingN = n;
      this.pendingAt = this.nextRise(tick);
      return;
    }
    this.armed = true;
    this.n = n;
    this.start = tick;
    this.pendingAt = Infinity;
    this.nullCount = false;
    this.paused = !this.gate;
    this.frozenElapsed = 0;
  }

  setGate(gate: boolean, tick: number): void {
    if (gate === this.gate) return;
    this.gate = gate;
    if (!this.armed) return;
    this.sync(tick);
    switch (this.mode) {
      case 1:
      case 5:
        if (gate) { // trigger: (re)load and count
          this.n = this.pendingN || this.n;
          this.start = tick;
          this.waitingTrigger = false;
          this.nullCount = false;
        }
        return;
      case 2:
      case 3:
        if (gate) { // gate rising reloads
          if (this.pendingAt !== Infinity) this.n = this.pendingN;
          this.pendingAt = Infinity;
          this.start = tick;
          this.paused = false;
          this.nullCount = false;
        } else {
          this.frozenElapsed = tick - this.start;
          this.paused = true;
        }
        return;
      default: // 0, 4: gate low suspends counting
        if (gate) {
          this.start = tick - this.frozenElapsed;
          this.paused = false;
        } else {
          this.frozenElapsed = tick - this.start;
          this.paused = true;
        }
    }
  }

  statusByte(tick: number): number {
    return (this.out(tick) ? STATUS_OUT : 0) | (this.nullCount ? STATUS_NULL_COUNT : 0) |
      (this.rw << CW_RW_SHIFT) | (this.mode << CW_MODE_SHIFT) | (this.bcd ? CW_BCD : 0);
  }
}

export interface Pit8254Options {
  irqs: IrqSink;
  /** Channel 0's OUT drives this line (IRQ 0). */
  irq?: number;
  clock: Clock;
  /** Told when channel 0 is reprogrammed so the run loop services it in time. */
  timers?: Timers;
}

const CHANNEL_STATE = {
  mode: 'u8', rw: 'u8', bcd: 'bool', cr: 'u32', writeMsbNext: 'bool', readMsbNext: 'bool', latched: 'i32', latchMsbNext: 'bool',
  status: 'i32', gate: 'bool', armed: 'bool', n: 'u32', start: 'f64', paused: 'bool', frozenElapsed: 'f64',
  waitingTrigger: 'bool', pendingN: 'u32', pendingAt: 'f64', nullCount: 'bool',
} as const;

export class Pit8254 implements PortDevice, Timed {
  static {
    declareState(Pit8254, {
      fields: { channels: [CHANNEL_STATE, 3], portB: 'u8', interrupts: 'f64', coalescedTicks: 'f64', irqCheckedTick: 'f64' },
      wiring: ['irqs', 'irq', 'clock', 'timers'],
    });
  }

  channels = [new Channel(), new Channel(), new Channel()];
  /** Port B bits 0-3 as written. */
  portB = 0;

  // ---- Counters.
  /** IRQ 0 edges raised. */
  interrupts = 0;
  /** Channel 0 edges that fell while the host was not looking and were folded into one interrupt. */
  coalescedTicks = 0;

  private readonly irqs: IrqSink;
  private readonly irq: number;
  private readonly clock: Clock;
  private readonly timers: Timers | null;
  /** Channel 0's OUT edges up to this tick have been delivered. */
  private irqCheckedTick = 0;

  constructor(opts: Pit8254Options) {
    this.irqs = opts.irqs;
    this.irq = opts.irq ?? 0;
    this.clock = opts.clock;
    this.timers = opts.timers ?? null;
    this.channels[2].gate = false; // port B bit 0 starts clear
  }

  /** Power-on state: no channel programmed, port B clear, IRQ 0 low. */
  reset(): void {
    this.channels = [new Channel(), new Channel(), new Channel()];
    this.channels[2].gate = false;
    this.portB = 0;
    this.channel0Changed(this.tickNow());
  }

  portRead(port: number, _size: 1 | 2 | 4): number {
    const tick = this.tickNow();
    if (port === SYSTEM_CONTROL_B) {
      const refresh = Math.floor(this.clock.now() / REFRESH_PERIOD_NS) & 1;
      return this.portB | (refresh ? PORTB_REFRESH : 0) | (this.channels[2].out(tick) ? PORTB_OUT2 : 0);
    }
    const idx = port - PIT_CHANNEL0;
    if (idx < 0 || idx > 2) return 0xff; // the control register cannot be read
    return this.readCounter(this.channels[idx], tick);
  }

  portWrite(port: number, _size: 1 | 2 | 4, value: number): void {
    const v = value & 0xff;
    const tick = this.tickNow();
    if (port === SYSTEM_CONTROL_B) {
      this.portB = v & PORTB_RW_MASK;
      this.channels[2].setGate((v & PORTB_GATE2) !== 0, tick);
      return;
    }
    // Channel 0's edges so far belong to its old programming.
    this.advance(this.clock.now());
    if (port === PIT_CONTROL) this.writeControl(v, tick);
    else if (port >= PIT_CHANNEL0 && port < PIT_CONTROL) this.writeCounter(this.channels[port - PIT_CHANNEL0], v, tick);
    if (port === PIT_CHANNEL0 || (port === PIT_CONTROL && v >> CW_SC_SHIFT === 0)) this.channel0Changed(tick);
  }

  /** Timed: raise IRQ 0 for OUT0 edges that came due; the next one is the deadline. */
  advance(now: number): number {
    const tick = Math.floor(now * TICKS_PER_NS);
    const ch = this.channels[0];
    ch.sync(tick);
    if (tick > this.irqCheckedTick) {
      const rises = ch.risesBetween(this.irqCheckedTick, tick);
      this.irqCheckedTick = tick;
      if (rises > 0) {
        this.coalescedTicks += rises - 1;
        this.interrupts++;
        this.irqs.setIrq(this.irq, false);
        this.irqs.setIrq(this.irq, true);
      }
      this.irqs.setIrq(this.irq, ch.out(tick));
    }
    return tickToNs(ch.nextRise(tick));
  }

  /** Channel 2's OUT (the speaker's square wave when port B bit 1 lets it through). */
  speakerOn(): boolean {
    return (this.portB & PORTB_SPEAKER) !== 0 && this.channels[2].out(this.tickNow());
  }

  private tickNow(): number {
    return Math.floor(this.clock.now() * TICKS_PER_NS);
  }

  private channel0Changed(tick: number): void {
    this.irqCheckedTick = tick;
    this.irqs.setIrq(this.irq, this.channels[0].out(tick));
    this.timers?.reschedule(tickToNs(this.channels[0].nextRise(tick)));
  }

  private writeControl(v: number, tick: number): void {
    const sc = v >> CW_SC_SHIFT;
    if (sc === 3) {
      this.readBack(v, tick);
      return;
    }
    const ch = this.channels[sc];
    const rw = (v >> CW_RW_SHIFT) & 3;
    if (rw === RW_LATCH) {
      if (ch.latched < 0) {
        ch.sync(tick);
        ch.latched = encodeCount(ch.count(tick), ch.bcd);
        ch.latchMsbNext = false;
      }
      return;
    }
    let mode = (v >> CW_MODE_SHIFT) & 7;
    if (mode > 5) mode -= 4; // 6 and 7 are aliases of 2 and 3
    ch.setMode(mode, rw, (v & CW_BCD) !== 0);
  }

  private readBack(v: number, tick: number): void {
    for (let i = 0; i < 3; i++) {
      if (!(v & (2 << i))) continue;
      const ch = this.channels[i];
      ch.sync(tick);
      if (!(v & RB_NO_STATUS) && ch.status < 0) ch.status = ch.statusByte(tick);
      if (!(v & RB_NO_COUNT) && ch.latched < 0) {
        ch.latched = encodeCount(ch.count(tick), ch.bcd);
        ch.latchMsbNext = false;
      }
    }
  }

  private writeCounter(ch: Channel, v: number, tick: number): void {
    ch.sync(tick);
    switch (ch.rw) {
      case RW_LSB:
        ch.cr = v;
        break;
      case RW_MSB:
        ch.cr = v << 8;
        break;
      default:
        if (!ch.writeMsbNext) {
          ch.cr = (ch.cr & 0xff00) | v;
          ch.writeMsbNext = true;
          if (ch.mode === 0) ch.armed = false; // mode 0: the first byte stops the count, OUT goes low
          return;
        }
        ch.cr = (ch.cr & 0xff) | (v << 8);
        ch.writeMsbNext = false;
    }
    ch.load(tick);
  }

  private readCounter(ch: Channel, tick: number): number {
    if (ch.status >= 0) {
      const s = ch.status;
      ch.status = -1;
      return s;
    }
    let value: number;
    let msb: boolean;
    if (ch.latched >= 0) {
      value = ch.latched;
      msb = ch.rw === RW_MSB || (ch.rw === RW_BOTH && ch.latchMsbNext);
      if (ch.rw === RW_BOTH && !ch.latchMsbNext) ch.latchMsbNext = true;
      else ch.latched = -1;
    } else {
      ch.sync(tick);
      value = encodeCount(ch.count(tick), ch.bcd);
      msb = ch.rw === RW_MSB || (ch.rw === RW_BOTH && ch.readMsbNext);
      if (ch.rw === RW_BOTH) ch.readMsbNext = !ch.readMsbNext;
    }
    return msb ? (value >> 8) & 0xff : value & 0xff;
  }
}

/** A count register's value as a number of input clocks (0 means the full range). */
function decodeCount(cr: number, bcd: boolean): number {
  if (!bcd) return cr === 0 ? 0x10000 : cr;
  const n = ((cr >> 12) & 0xf) * 1000 + ((cr >> 8) & 0xf) * 100 + ((cr >> 4) & 0xf) * 10 + (cr & 0xf);
  return n === 0 ? 10000 : n;
}

/** A binary count as the guest reads it (16 bits, or four BCD digits). */
function encodeCount(n: number, bcd: boolean): number {
  if (!bcd) return n & 0xffff;
  n %= 10000;
  return ((Math.floor(n / 1000) % 10) << 12) | ((Math.floor(n / 100) % 10) << 8) | ((Math.floor(n / 10) % 10) << 4) | (n % 10);
}

/** The first virtual nanosecond at which the counter has reached `tick`. */
function tickToNs(tick: number): number {
  if (tick === Infinity) return Infinity;
  let ns = Math.ceil(tick / TICKS_PER_NS);
  while (Math.floor(ns * TICKS_PER_NS) < tick) ns++;
  return ns;
}
