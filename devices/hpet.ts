// The High Precision Event Timer at 0xFED00000 (IA-PC HPET Specification 1.0a): a
// 64-bit main counter at 100 MHz of virtual time and three comparators (one-shot or
// periodic, 32- or 64-bit, edge or level), with legacy replacement routing (timer 0 ->
// IRQ 0, timer 1 -> IRQ 8) as Linux's HPET clockevent uses it, or IOAPIC pins 16-23.
// Not emulated: FSB (MSI) delivery.

import type { IrqSink, MmioDevice } from './bus.js';
import type { Clock, Timed, Timers } from './clock.js';
import { declareState } from './state.js';

export const HPET_BASE = 0xfed00000;
export const HPET_SIZE = 0x400;
export const HPET_TIMERS = 3;
/** Counter period in femtoseconds: 10 ns, a 100 MHz counter. */
export const HPET_PERIOD_FS = 10_000_000;
const NS_PER_TICK = HPET_PERIOD_FS / 1e6;

// ---- Registers.
export const HPET_CAP = 0x000; // general capabilities and ID (64-bit, read-only)
export const HPET_CFG = 0x010; // general configuration
export const HPET_STATUS = 0x020; // general interrupt status (write 1 to clear)
export const HPET_COUNTER = 0x0f0; // main counter (64-bit)
export const HPET_TIMER0 = 0x100; // timer n at 0x100 + 0x20 n: config/cap, +0x08 comparator, +0x10 FSB route
export const HPET_TIMER_STRIDE = 0x20;

export const CFG_ENABLE = 1 << 0, CFG_LEGACY = 1 << 1;
export const TN_LEVEL = 1 << 1, TN_ENABLE = 1 << 2, TN_PERIODIC = 1 << 3, TN_PERIODIC_CAP = 1 << 4, TN_SIZE_64 = 1 << 5,
  TN_SETVAL = 1 << 6, TN_32BIT = 1 << 8, TN_ROUTE_SHIFT = 9;
const TN_WRITABLE = TN_LEVEL | TN_ENABLE | TN_PERIODIC | TN_SETVAL | TN_32BIT | (0x1f << TN_ROUTE_SHIFT);
/** Timers may be routed to IOAPIC inputs 16-23 (capability bits 63:32). */
export const TN_ROUTE_CAP = 0x00ff0000;
const VENDOR_INTEL = 0x8086;
/** Capabilities low dword: revision 1, 3 timers, 64-bit counter, legacy replacement capable, vendor. */
export const HPET_CAP_LO = 0x01 | ((HPET_TIMERS - 1) << 8) | (1 << 13) | (1 << 15) | (VENDOR_INTEL << 16);
const TWO32 = 2 ** 32;

export interface HpetOptions {
  clock: Clock;
  timers?: Timers;
  /** Where interrupts go (the bus: ISA lines 0/8 in legacy mode, GSI lines 16-23 otherwise). */
  irqs: IrqSink;
}

export class Hpet implements MmioDevice, Timed {
  static {
    declareState(Hpet, {
      fields: {
        config: 'u32', status: 'u32', counterAtBase: 'f64', baseTime: 'f64',
        tnConfig: ['u32', HPET_TIMERS], cmpLo: ['u32', HPET_TIMERS], cmpHi: ['u32', HPET_TIMERS], period: ['f64', HPET_TIMERS],
        lineLevel: ['u8', HPET_TIMERS], lastSeen: ['f64', HPET_TIMERS], stats: { fires: 'f64', counterReads: 'f64' },
      },
      wiring: ['opts'],
    });
  }

  config = 0;
  status = 0;
  /** Main counter value at `baseTime` (the counter only runs while ENABLE_CNF is set). */
  private counterAtBase = 0;
  private baseTime = 0;
  readonly tnConfig = new Uint32Array(HPET_TIMERS);
  /** Comparators as exact 32-bit halves; `cmp(n)` is the value as a double (exact below 2^53 ticks: 2.8 years). */
  readonly cmpLo = new Uint32Array(HPET_TIMERS);
  readonly cmpHi = new Uint32Array(HPET_TIMERS);
  readonly period = new Float64Array(HPET_TIMERS);
  private readonly lineLevel = new Uint8Array(HPET_TIMERS);
  /** Counter values already examined per timer, so a comparator fires once as the counter passes it. */
  private readonly lastSeen = new Float64Array(HPET_TIMERS);
  readonly stats = { fires: 0, counterReads: 0 };

  constructor(private readonly opts: HpetOptions) { this.reset(); }

  reset(): void {
    this.config = 0; this.status = 0; this.counterAtBase = 0; this.baseTime = this.opts.clock.now();
    this.tnConfig.fill(TN_PERIODIC_CAP | TN_SIZE_64);
    this.cmpLo.fill(0xffffffff);
    this.cmpHi.fill(0xffffffff);
    this.period.fill(0);
    this.lastSeen.fill(0);
    for (let n = 0; n < HPET_TIMERS; n++) this.setLine(n, false);
  }

  private cmp(n: number): number { return this.cmpHi[n] * TWO32 + this.cmpLo[n]; }
  private setCmp(n: number, v: number): void {
    this.cmpLo[n] = v % TWO32;
    this.cmpHi[n] = Math.floor(v / TWO32);
  }

  private get enabled(): boolean { return (this.config & CFG_ENABLE) !== 0; }

  counter(now = this.opts.clock.now()): number {
    return this.enabled ? this.counterAtBase + Math.floor((now - this.baseTime) / NS_PER_TICK) : this.counterAtBase;
  }

  /** The bus line timer n drives: legacy replacement for timers 0 and 1, else its IOAPIC route. */
  private line(n: number): number {
    if ((this.config & CFG_LEGACY) !== 0 && n < 2) return n === 0 ? 0 : 8;
    return (this.tnConfig[n] >>> TN_ROUTE_SHIFT) & 0x1f;
  }

  private setLine(n: number, level: boolean): void {
    const v = level ? 1 : 0;
    if (this.lineLevel[n] === v) return;
    this.lineLevel[n] = v;
    this.opts.irqs.setIrq(this.line(n), level);
  }

  private fire(n: number): void {
    this.stats.fires++;
    const cfg = this.tnConfig[n];
    if ((cfg & TN_ENABLE) === 0) return;
    if ((cfg & TN_LEVEL) !== 0) {
      this.status |= 1 << n;
      this.setLine(n, true);
    } else {
      this.setLine(n, true);
      this.setLine(n, false);
    }
  }

  /** Counter ticks from `c` until timer n's comparator matches, or Infinity. */
  private ticksToMatch(n: number, c: number): number {
    if ((this.tnConfig[n] & TN_32BIT) !== 0) {
      const d = this.cmpLo[n] - (c % TWO32);
      return d > 0 ? d : d + TWO32; // a 32-bit comparator always matches again after a wrap
    }
    const d = this.cmp(n) - c;
    return d > 0 ? d : Infinity;
  }

  advance(now: number): number {
    if (!this.enabled) return Infinity;
    let next = Infinity;
    const c = this.counter(now);
    for (let n = 0; n < HPET_TIMERS; n++) {
      const cfg = this.tnConfig[n];
      // Due: the counter passed the comparator since we last looked (matches while disabled raise nothing).
      if ((cfg & TN_ENABLE) !== 0 && this.comparatorReached(n, c)) {
        this.fire(n);
        if ((cfg & TN_PERIODIC) !== 0 && this.period[n] > 0) {
          // Missed periods coalesce: the comparator moves to the first match after now.
          const p = this.period[n];
          if ((cfg & TN_32BIT) !== 0) {
            const cmp = this.cmpLo[n];
            const passed = ((c % TWO32) - cmp + TWO32) % TWO32;
            this.cmpLo[n] = (cmp + (Math.floor(passed / p) + 1) * p) % TWO32;
          } else {
            const cmp = this.cmp(n);
            this.setCmp(n, cmp + (Math.floor((c - cmp) / p) + 1) * p);
          }
        }
      }
      this.lastSeen[n] = c;
      if ((cfg & TN_ENABLE) === 0) continue;
      const t = this.ticksToMatch(n, c);
      if (t !== Infinity) next = Math.min(next, now + t * NS_PER_TICK);
    }
    return next;
  }

  private comparatorReached(n: number, c: number): boolean {
    const prev = this.lastSeen[n];
    if (c <= prev) return false;
    if ((this.tnConfig[n] & TN_32BIT) !== 0) {
      // Did the low 32 bits pass the comparator in (prev, c]?
      const cmp = this.cmpLo[n];
      const from = prev % TWO32;
      const span = c - prev;
      const d = cmp - from;
      const dist = d > 0 ? d : d + TWO32;
      return dist <= span;
    }
    const cmp = this.cmp(n);
    return cmp > prev && cmp <= c;
  }

  private rearm(): void {
    this.opts.timers?.reschedule(this.advance(this.opts.clock.now()));
  }

  // ---- MMIO (32-bit halves of the 64-bit registers; 64-bit guests issue two accesses).

  private read32(off: number): number {
    const hi = (off & 4) !== 0;
    const reg = off & ~7;
    if (reg === HPET_CAP) return hi ? HPET_PERIOD_FS : HPET_CAP_LO;
    if (reg === HPET_CFG) return hi ? 0 : this.config;
    if (reg === HPET_STATUS) return hi ? 0 : this.status;
    if (reg === HPET_COUNTER) {
      this.stats.counterReads++;
      const c = this.counter();
      return hi ? Math.floor(c / TWO32) >>> 0 : c % TWO32;
    }
    const n = (reg - HPET_TIMER0) >> 5, r = (reg - HPET_TIMER0) & 0x18;
    if (reg < HPET_TIMER0 || n >= HPET_TIMERS) return 0;
    if (r === 0) return hi ? TN_ROUTE_CAP : this.tnConfig[n];
    if (r === 8) return hi ? this.cmpHi[n] : this.cmpLo[n];
    return 0;
  }

  private write32(off: number, v: number): void {
    v >>>= 0;
    const hi = (off & 4) !== 0;
    const reg = off & ~7;
    if (reg === HPET_CFG && !hi) {
      const now = this.opts.clock.now();
      const c = this.counter(now);
      const wasLegacy = this.config & CFG_LEGACY;
      if ((wasLegacy ^ (v & CFG_LEGACY)) !== 0) for (let n = 0; n < 2; n++) this.setLine(n, false);
      this.config = v & (CFG_ENABLE | CFG_LEGACY);
      this.counterAtBase = c;
      this.baseTime = now;
      this.rearm();
      return;
    }
    if (reg === HPET_STATUS && !hi) {
      for (let n = 0; n < HPET_TIMERS; n++) {
        if ((v & (1 << n)) !== 0 && (this.status & (1 << n)) !== 0) { this.status &= ~(1 << n); this.setLine(n, false); }
      }
      return;
    }
    if (reg === HPET_COUNTER) {
      if (this.enabled) return; // the spec allows counter writes only while halted
      this.counterAtBase = hi ? (this.counterAtBase % TWO32) + v * TWO32 : Math.floor(this.counterAtBase / TWO32) * TWO32 + v;
      this.lastSeen.fill(this.counterAtBase);
      return;
    }
    const n = (reg - HPET_TIMER0) >> 5, r = (reg - HPET_TIMER0) & 0x18;
    if (reg < HPET_TIMER0 || n >= HPET_TIMERS) return;
    if (r === 0 && !hi) {
      const old = this.tnConfig[n];
      if ((old & TN_LEVEL) !== 0 && (v & TN_LEVEL) === 0) { this.status &= ~(1 << n); this.setLine(n, false); }
      this.setLine(n, false);
      this.tnConfig[n] = (old & ~TN_WRITABLE) | (v & TN_WRITABLE);
      if ((this.tnConfig[n] & TN_32BIT) !== 0) this.cmpHi[n] = 0;
      this.lastSeen[n] = this.counter();
      this.rearm();
    } else if (r === 8) {
      const cfg = this.tnConfig[n];
      // A 32-bit timer ignores the high half (it reads as 0).
      if (hi && (cfg & TN_32BIT) !== 0) return;
      if ((cfg & TN_PERIODIC) !== 0) {
        // Every write sets the period; with SETVAL it also sets the comparator (accumulator) directly.
        const p = this.period[n];
        this.period[n] = hi ? (p % TWO32) + v * TWO32 : Math.floor(p / TWO32) * TWO32 + v;
        if ((cfg & TN_SETVAL) === 0) { this.lastSeen[n] = this.counter(); this.rearm(); return; }
        // SETVAL clears itself after the write: the low half in 32-bit mode, else the high half
        // (a CPU's 64-bit store reaches us as low then high).
        if (hi || (cfg & TN_32BIT) !== 0) this.tnConfig[n] &= ~TN_SETVAL;
      }
      if (hi) this.cmpHi[n] = v; else this.cmpLo[n] = v;
      this.lastSeen[n] = this.counter();
      this.rearm();
    }
  }

  mmioRead(offset: number, size: 1 | 2 | 4): number {
    const v = this.read32(offset & ~3);
    if (size === 4) return v >>> 0;
    return (v >>> ((offset & 3) * 8)) & (size === 1 ? 0xff : 0xffff);
  }

  mmioWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    if (size !== 4 || (offset & 3) !== 0) return; // the HPET takes 32- and 64-bit accesses only
    this.write32(offset, value);
  }
}
