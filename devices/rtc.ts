// The PC's CMOS RAM and real-time clock: a Motorola MC146818 at 0x70 (index, bit 7 = NMI
// mask) / 0x71 (data), interrupting on IRQ 8.
//
// Emulated: 128 bytes of CMOS; seconds/minutes/hours/day-of-week/date/month/year and the
// century byte (0x32) in BCD or binary (status B DM) and 12- or 24-hour form; status A (UIP,
// divider, rate select), B (SET, PIE, AIE, UIE, SQWE, DM, 24/12, DSE), C (IRQF, PF, AF, UF,
// cleared by reading), D (VRT); periodic, alarm (with "don't care" values) and update-ended
// interrupts; the memory-size bytes a BIOS would leave, with their checksum. Time starts at
// the host's wall clock (or a given epoch) and runs with the virtual clock; the registers are
// rendered from a seconds count, so a host stall delivers one coalesced periodic interrupt.
// Not emulated: daylight-saving switching (DSE is stored), the square-wave pin, the divider
// test modes (any DV other than 010 stops the clock), the extended bank at 0x72/0x73.

import type { IrqSink, PortDevice } from './bus.js';
import type { Clock, Timed, Timers } from './clock.js';
import { declareState } from './state.js';

/** Ports. */
export const RTC_INDEX = 0x70; // write: bits 0-6 register index, bit 7 NMI disable
export const RTC_DATA = 0x71;
export const RTC_PORT_COUNT = 2;
export const RTC_NMI_DISABLE = 0x80;

/** Registers. */
export const RTC_SECONDS = 0x00;
export const RTC_SECONDS_ALARM = 0x01;
export const RTC_MINUTES = 0x02;
export const RTC_MINUTES_ALARM = 0x03;
export const RTC_HOURS = 0x04;
export const RTC_HOURS_ALARM = 0x05;
export const RTC_DAY_OF_WEEK = 0x06; // 1 = Sunday
export const RTC_DAY_OF_MONTH = 0x07;
export const RTC_MONTH = 0x08;
export const RTC_YEAR = 0x09;
export const RTC_REG_A = 0x0a;
export const RTC_REG_B = 0x0b;
export const RTC_REG_C = 0x0c;
export const RTC_REG_D = 0x0d;
export const CMOS_BASE_MEM_LO = 0x15; // base memory in KiB (640)
export const CMOS_EXT_MEM_LO = 0x17; // KiB above 1 MiB, capped at 65535
export const CMOS_CHECKSUM_HI = 0x2e; // sum of 0x10-0x2D
export const CMOS_EXT_MEM2_LO = 0x30; // the same as 0x17/0x18 (the POST's copy)
export const RTC_CENTURY = 0x32; // the century, in the DM format (ACPI FADT points here)
export const CMOS_HIGH_MEM_LO = 0x34; // 64 KiB blocks between 16 MiB and 4 GiB, capped at 0xFFFF
export const CMOS_ABOVE_4G = 0x5b; // 64 KiB blocks above 4 GiB, three bytes
export const CMOS_SIZE = 128;

/** Status A. */
export const REG_A_UIP = 0x80; // update in progress (read-only)
export const REG_A_DV_MASK = 0x70; // divider: 010 = 32.768 kHz time base running
export const REG_A_DV_NORMAL = 0x20;
export const REG_A_RS_MASK = 0x0f; // periodic rate select
/** Status B. */
export const REG_B_SET = 0x80; // halt updates so software can set the time
export const REG_B_PIE = 0x40; // periodic interrupt enable
export const REG_B_AIE = 0x20; // alarm interrupt enable
export const REG_B_UIE = 0x10; // update-ended interrupt enable
export const REG_B_SQWE = 0x08;
export const REG_B_DM = 0x04; // 1 = binary, 0 = BCD
export const REG_B_24H = 0x02; // 1 = 24-hour, 0 = 12-hour with bit 7 = PM
export const REG_B_DSE = 0x01;
/** Status C (read clears). */
export const REG_C_IRQF = 0x80;
export const REG_C_PF = 0x40;
export const REG_C_AF = 0x20;
export const REG_C_UF = 0x10;
/** Status D. */
export const REG_D_VRT = 0x80; // valid RAM and time: the battery is good

/** An alarm byte with both top bits set matches any value. */
const ALARM_DONT_CARE = 0xc0;
const HOUR_PM = 0x80;
/** UIP is high from 244 us before the update cycle through its 1984 us. */
const UIP_WINDOW_NS = 244_000 + 1_984_000;
const NS_PER_SECOND = 1e9;
/** Scanning more than a day of missed seconds for an alarm match learns nothing new. */
const ALARM_SCAN_LIMIT = 86400;
/** Where the guest RAM below 4 GiB stops if the machine does not say. */
const DEFAULT_LOW_RAM_LIMIT = 0xe0000000;

export interface RtcOptions {
  irqs: IrqSink;
  irq?: number; // 8
  clock: Clock;
  timers?: Timers;
  /** Guest RAM in bytes, for the memory-size bytes. */
  ramSize: number;
  /** How much of it sits below 4 GiB (default: all of it up to 3.5 GiB). */
  ramBelow4G?: number;
  /** The RTC's time at virtual time 0, in ms since 1970 UTC (default: the host's clock now). */
  epochMs?: number;
}

export class Rtc implements PortDevice, Timed {
  static {
    declareState(Rtc, {
      fields: {
        cmos: ['u8', CMOS_SIZE], index: 'u8', nmiMasked: 'bool', interrupts: 'f64', coalescedPeriodic: 'f64',
        baseSeconds: 'f64', baseNs: 'f64', frozenSeconds: 'f64', flagsSecond: 'f64', periodicRef: 'f64', periodicCount: 'f64', irqOut: 'bool',
      },
      wiring: ['irqs', 'irq', 'clock', 'timers'],
    });
  }

  readonly cmos = new Uint8Array(CMOS_SIZE);
  index = 0;
  /** Bit 7 of the last index write: the guest asked for NMIs to be blocked. */
  nmiMasked = false;

  // ---- Counters.
  /** Rising edges of IRQ 8. */
  interrupts = 0;
  /** Periodic interrupts folded into one because nobody looked in time. */
  coalescedPeriodic = 0;

  private readonly irqs: IrqSink;
  private readonly irq: number;
  private readonly clock: Clock;
  private readonly timers: Timers | null;
  /** Seconds since 1970 (as RTC calendar time) at virtual time `baseNs`, while running. */
  private baseSeconds: number;
  private baseNs = 0;
  /** The time when the clock stopped (SET or divider reset). */
  private frozenSeconds = 0;
  /** Last whole second the update/alarm flags were brought up to. */
  private flagsSecond: number;
  /** Periodic interrupts counted from `periodicRef`. */
  private periodicRef = 0;
  private periodicCount = 0;
  private irqOut = false;

  constructor(opts: RtcOptions) {
    this.irqs = opts.irqs;
    this.irq = opts.irq ?? 8;
    this.clock = opts.clock;
    this.timers = opts.timers ?? null;
    this.baseNs = this.clock.now();
    this.baseSeconds = Math.floor((opts.epochMs ?? Date.now()) / 1000);
    this.flagsSecond = this.baseSeconds;
    this.cmos[RTC_REG_A] = REG_A_DV_NORMAL | 0x06; // 1024 Hz periodic rate, as a BIOS leaves it
    this.cmos[RTC_REG_B] = REG_B_24H;
    this.cmos[RTC_REG_D] = REG_D_VRT;
    this.fillMemorySize(opts.ramSize, opts.ramBelow4G ?? Math.min(opts.ramSize, DEFAULT_LOW_RAM_LIMIT));
    this.periodicRef = this.baseNs;
  }

  /**
   * The RESET pin: clears the interrupt enables, the square-wave enable and the flags, and
   * lowers IRQ 8. The time and the CMOS RAM are battery-backed and survive it.
   */
  reset(): void {
    this.cmos[RTC_REG_B] &= ~(REG_B_PIE | REG_B_AIE | REG_B_UIE | REG_B_SQWE);
    this.cmos[RTC_REG_C] = 0;
    this.nmiMasked = false;
    this.updateIrq();
  }

  portRead(port: number, _size: 1 | 2 | 4): number {
    if (port === RTC_INDEX) return 0xff; // the index register is write-only
    return this.readRegister(this.index);
  }

  portWrite(port: number, _size: 1 | 2 | 4, value: number): void {
    const v = value & 0xff;
    if (port === RTC_INDEX) {
      this.index = v & 0x7f;
      this.nmiMasked = (v & RTC_NMI_DISABLE) !== 0;
      return;
    }
    this.writeRegister(this.index, v);
  }

  /** Timed: set the flags that came due and raise IRQ 8; the next deadline is the next enabled event. */
  advance(now: number): number {
    this.sync(now);
    return this.nextDeadline(now);
  }

  /** The RTC's current time in seconds since 1970 (its registers read as UTC). */
  seconds(now = this.clock.now()): number {
    return this.running() ? this.baseSeconds + Math.floor((now - this.baseNs) / NS_PER_SECOND) : this.frozenSeconds;
  }

  // ---- Registers.

  readRegister(reg: number): number {
    const now = this.clock.now();
    if (isTimeRegister(reg)) {
      if (this.running()) this.render(this.seconds(now));
      return this.cmos[reg];
    }
    switch (reg) {
      case RTC_REG_A:
        return this.cmos[RTC_REG_A] | (this.updateInProgress(now) ? REG_A_UIP : 0);
      case RTC_REG_C: {
        this.sync(now);
        const v = this.cmos[RTC_REG_C];
        this.cmos[RTC_REG_C] = 0;
        this.updateIrq();
        this.timers?.reschedule(this.nextDeadline(now));
        return v;
      }
      default:
        return this.cmos[reg & 0x7f];
    }
  }

  writeRegister(reg: number, v: number): void {
    const now = this.clock.now();
    if (isTimeRegister(reg)) {
      if (this.running()) {
        // Setting one field while the clock runs: keep the others and the sub-second phase.
        this.render(this.seconds(now));
        this.cmos[reg] = v;
        const phase = (now - this.baseNs) % NS_PER_SECOND;
        this.rebase(this.parse(this.seconds(now)), now - phase);
      } else {
        this.cmos[reg] = v;
      }
      return;
    }
    switch (reg) {
      case RTC_REG_A:
        this.writeA(v, now);
        break;
      case RTC_REG_B:
        this.writeB(v, now);
        break;
      case RTC_REG_C:
      case RTC_REG_D:
        return; // read-only
      default:
        this.cmos[reg & 0x7f] = v;
        return;
    }
    this.updateIrq();
    this.timers?.reschedule(this.nextDeadline(now));
  }

  private writeA(v: number, now: number): void {
    this.sync(now);
    const wasRunning = this.running();
    const current = this.seconds(now);
    const old = this.cmos[RTC_REG_A];
    this.cmos[RTC_REG_A] = v & ~REG_A_UIP;
    if (wasRunning && !this.running()) {
      this.frozenSeconds = current;
      this.render(current);
    } else if (!wasRunning && this.running()) {
      // Leaving divider reset: the first update comes 500 ms later.
      this.rebase(this.frozenSeconds, now - NS_PER_SECOND / 2);
    }
    if ((old ^ v) & (REG_A_RS_MASK | REG_A_DV_MASK)) {
      this.periodicRef = now;
      this.periodicCount = 0;
    }
  }

  private writeB(v: number, now: number): void {
    this.sync(now);
    const old = this.cmos[RTC_REG_B];
    if (v & REG_B_SET) v &= ~REG_B_UIE; // SET clears UIE (MC146818 datasheet)
    if (v & REG_B_SET && !(old & REG_B_SET)) {
      // Freeze: the registers keep the time for the guest to overwrite.
      const s = this.seconds(now);
      this.cmos[RTC_REG_B] = v;
      this.frozenSeconds = s;
      this.render(s);
      return;
    }
    this.cmos[RTC_REG_B] = v;
    if (!(v & REG_B_SET) && old & REG_B_SET) {
      // The time the guest wrote starts counting now.
      this.rebase(this.parse(this.frozenSeconds), now);
    }
  }

  // ---- Time.

  private running(): boolean {
    return !(this.cmos[RTC_REG_B] & REG_B_SET) && (this.cmos[RTC_REG_A] & REG_A_DV_MASK) === REG_A_DV_NORMAL;
  }

  private rebase(seconds: number, ns: number): void {
    this.baseSeconds = seconds;
    this.frozenSeconds = seconds;
    this.baseNs = ns;
    this.flagsSecond = seconds;
  }

  private updateInProgress(now: number): boolean {
    if (!this.running()) return false;
    const phase = (now - this.baseNs) % NS_PER_SECOND;
    return phase >= NS_PER_SECOND - UIP_WINDOW_NS;
  }

  /** Bring PF, UF, AF up to `now` and drive IRQ 8. */
  private sync(now: number): void {
    let flags = this.cmos[RTC_REG_C];
    const period = this.periodNs();
    if (period > 0) {
      const n = Math.floor((now - this.periodicRef) / period);
      if (n > this.periodicCount) {
        if (flags & REG_C_PF) this.coalescedPeriodic += n - this.periodicCount;
        else this.coalescedPeriodic += n - this.periodicCount - 1;
        this.periodicCount = n;
        flags |= REG_C_PF;
      }
    }
    if (this.running()) {
      const s = this.seconds(now);
      if (s > this.flagsSecond) {
        flags |= REG_C_UF;
        for (let t = Math.max(this.flagsSecond + 1, s - ALARM_SCAN_LIMIT); t <= s; t++) {
          if (this.alarmMatches(t)) {
            flags |= REG_C_AF;
            break;
          }
        }
        this.flagsSecond = s;
      }
    }
    this.cmos[RTC_REG_C] = flags;
    this.updateIrq();
  }

  /** The periodic interrupt period for the rate select, or 0 if off. */
  private periodNs(): number {
    const a = this.cmos[RTC_REG_A];
    let rs = a & REG_A_RS_MASK;
    if (rs === 0 || (a & REG_A_DV_MASK) !== REG_A_DV_NORMAL) return 0;
    if (rs < 3) rs += 7; // rates 1 and 2 repeat rates 8 and 9 with a 32.768 kHz base
    return (NS_PER_SECOND * (1 << (rs - 1))) / 32768;
  }

  private nextDeadline(now: number): number {
    if (this.irqOut) return Infinity; // nothing new can happen until C is read
    const b = this.cmos[RTC_REG_B];
    let next = Infinity;
    const period = this.periodNs();
    if (b & REG_B_PIE && period > 0) next = this.periodicRef + (this.periodicCount + 1) * period;
    if (b & (REG_B_UIE | REG_B_AIE) && this.running()) {
      const second = this.baseNs + (this.seconds(now) - this.baseSeconds + 1) * NS_PER_SECOND;
      if (second < next) next = second;
    }
    return next;
  }

  private updateIrq(): void {
    const c = this.cmos[RTC_REG_C];
    const b = this.cmos[RTC_REG_B];
    const irqf = ((c & REG_C_PF && b & REG_B_PIE) || (c & REG_C_AF && b & REG_B_AIE) || (c & REG_C_UF && b & REG_B_UIE)) !== 0;
    if (irqf) this.cmos[RTC_REG_C] = c | REG_C_IRQF;
    if (irqf === this.irqOut) return;
    this.irqOut = irqf;
    if (irqf) this.interrupts++;
    this.irqs.setIrq(this.irq, irqf);
  }

  private alarmMatches(seconds: number): boolean {
    // Time of day straight from the count (Unix time has no leap seconds): no Date per second scanned.
    const day = ((seconds % 86400) + 86400) % 86400;
    return alarmField(this.cmos[RTC_SECONDS_ALARM], this.encode(day % 60)) &&
      alarmField(this.cmos[RTC_MINUTES_ALARM], this.encode(Math.floor(day / 60) % 60)) &&
      alarmField(this.cmos[RTC_HOURS_ALARM], this.encodeHour(Math.floor(day / 3600)));
  }

  private encode(v: number): number {
    return this.cmos[RTC_REG_B] & REG_B_DM ? v : toBcd(v);
  }

  private decode(v: number): number {
    return this.cmos[RTC_REG_B] & REG_B_DM ? v : fromBcd(v);
  }

  private encodeHour(h: number): number {
    if (this.cmos[RTC_REG_B] & REG_B_24H) return this.encode(h);
    return this.encode(h % 12 || 12) | (h >= 12 ? HOUR_PM : 0);
  }

  /** Write the time registers for `seconds` in the current DM and 24/12 format. */
  private render(seconds: number): void {
    const d = new Date(seconds * 1000);
    const year = d.getUTCFullYear();
    const c = this.cmos;
    c[RTC_SECONDS] = this.encode(d.getUTCSeconds());
    c[RTC_MINUTES] = this.encode(d.getUTCMinutes());
    c[RTC_HOURS] = this.encodeHour(d.getUTCHours());
    c[RTC_DAY_OF_WEEK] = this.encode(d.getUTCDay() + 1);
    c[RTC_DAY_OF_MONTH] = this.encode(d.getUTCDate());
    c[RTC_MONTH] = this.encode(d.getUTCMonth() + 1);
    c[RTC_YEAR] = this.encode(year % 100);
    c[RTC_CENTURY] = this.encode(Math.floor(year / 100) % 100);
  }

  /** The time the registers hold, in seconds (`fallback` if they hold no date at all). */
  private parse(fallback: number): number {
    const c = this.cmos;
    let hour: number;
    if (c[RTC_REG_B] & REG_B_24H) hour = this.decode(c[RTC_HOURS]);
    else hour = (this.decode(c[RTC_HOURS] & ~HOUR_PM) % 12) + (c[RTC_HOURS] & HOUR_PM ? 12 : 0);
    const d = new Date(0);
    d.setUTCFullYear(this.decode(c[RTC_CENTURY]) * 100 + this.decode(c[RTC_YEAR]), this.decode(c[RTC_MONTH]) - 1, this.decode(c[RTC_DAY_OF_MONTH]));
    d.setUTCHours(hour, this.decode(c[RTC_MINUTES]), this.decode(c[RTC_SECONDS]));
    const s = Math.floor(d.getTime() / 1000);
    return Number.isFinite(s) ? s : fallback;
  }

  private fillMemorySize(ramSize: number, below4G: number): void {
    const KiB = 1024;
    const MiB = 1024 * KiB;
    const c = this.cmos;
    put16(c, CMOS_BASE_MEM_LO, 640);
    const extKiB = Math.min(Math.max(below4G - MiB, 0) / KiB, 0xffff);
    put16(c, CMOS_EXT_MEM_LO, extKiB);
    put16(c, CMOS_EXT_MEM2_LO, extKiB);
    put16(c, CMOS_HIGH_MEM_LO, Math.min(Math.floor(Math.max(below4G - 16 * MiB, 0) / (64 * KiB)), 0xffff));
    const above = Math.floor(Math.max(ramSize - below4G, 0) / (64 * KiB));
    c[CMOS_ABOVE_4G] = above & 0xff;
    c[CMOS_ABOVE_4G + 1] = (above >> 8) & 0xff;
    c[CMOS_ABOVE_4G + 2] = (above >> 16) & 0xff;
    let sum = 0;
    for (let i = 0x10; i < CMOS_CHECKSUM_HI; i++) sum += c[i];
    c[CMOS_CHECKSUM_HI] = (sum >> 8) & 0xff;
    c[CMOS_CHECKSUM_HI + 1] = sum & 0xff;
  }
}

function isTimeRegister(reg: number): boolean {
  return reg === RTC_SECONDS || reg === RTC_MINUTES || reg === RTC_HOURS || (reg >= RTC_DAY_OF_WEEK && reg <= RTC_YEAR) || reg === RTC_CENTURY;
}

function alarmField(alarm: number, value: number): boolean {
  return (alarm & ALARM_DONT_CARE) === ALARM_DONT_CARE || alarm === value;
}

function put16(c: Uint8Array, at: number, v: number): void {
  c[at] = v & 0xff;
  c[at + 1] = (v >> 8) & 0xff;
}

function toBcd(v: number): number {
  return ((Math.floor(v / 10) % 10) << 4) | (v % 10);
}

function fromBcd(v: number): number {
  return (v >> 4) * 10 + (v & 0x0f);
}
