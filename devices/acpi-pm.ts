// ACPI fixed hardware at the I/O ports the FADT names: the PM1a event block (status,
// enable), the PM1a control block (SCI_EN, SLP_TYP/SLP_EN -> power off for S5), and the
// 32-bit ACPI PM timer at 3.579545 MHz from the virtual clock. The SCI is a level on
// ISA IRQ 9 while any enabled status bit is set. ACPI 6.4 sections 4.8.3 and 4.8.4.
// Not emulated: GPE blocks, sleep states other than S5, SMI_CMD (the board starts in ACPI mode).

import type { PortDevice } from './bus.js';
import type { Clock, Timed, Timers } from './clock.js';
import { declareState } from './state.js';

export const PM_BASE = 0x600;
export const PM1A_EVT_BLK = PM_BASE + 0x0; // status (2 bytes), enable (2 bytes)
export const PM1_EVT_LEN = 4;
export const PM1A_CNT_BLK = PM_BASE + 0x4;
export const PM1_CNT_LEN = 2;
export const PM_TMR_BLK = PM_BASE + 0x8;
export const PM_TMR_LEN = 4;
export const PM_PORTS = 12;
export const SCI_IRQ = 9;

export const PM_TIMER_HZ = 3_579_545;

// ---- PM1 status / enable bits.
export const TMR_STS = 1 << 0;
export const BM_STS = 1 << 4;
export const GBL_STS = 1 << 5;
export const PWRBTN_STS = 1 << 8;
export const SLPBTN_STS = 1 << 9;
export const RTC_STS = 1 << 10;
export const WAK_STS = 1 << 15;
const STS_BITS = TMR_STS | BM_STS | GBL_STS | PWRBTN_STS | SLPBTN_STS | RTC_STS | WAK_STS;
const EN_BITS = TMR_STS | GBL_STS | PWRBTN_STS | SLPBTN_STS | RTC_STS;

// ---- PM1 control bits.
export const SCI_EN = 1 << 0;
export const BM_RLD = 1 << 1;
export const GBL_RLS = 1 << 2;
export const SLP_TYP_SHIFT = 10;
export const SLP_EN = 1 << 13;
/** The SLP_TYP value this board uses for S5 (soft off); the DSDT's \_S5_ package says the same. */
export const SLP_TYP_S5 = 5;

/** The timer's MSB (bit 31 with TMR_VAL_EXT) toggles every 2^31 ticks and sets TMR_STS. */
const TMR_MSB_PERIOD = 2 ** 31;
const NS_PER_TICK = 1e9 / PM_TIMER_HZ;

export interface AcpiPmOptions {
  clock: Clock;
  timers?: Timers;
  /** Drives the SCI line (the machine passes (level) => bus.setIrq(SCI_IRQ, level)). */
  setSci?: (level: boolean) => void;
  /** The guest entered S5. */
  onPowerOff?: () => void;
  /** The guest asked for a sleep state this board does not have (S1-S4). */
  onSleep?: (slpTyp: number) => void;
}

export class AcpiPm implements PortDevice, Timed {
  static {
    declareState(AcpiPm, {
      fields: {
        status: 'u16', enable: 'u16', control: 'u16', msbSeen: 'f64', sciLevel: 'bool',
        stats: { timerReads: 'f64', sciRaised: 'f64', powerOffs: 'f64' },
      },
      wiring: ['opts'],
    });
  }

  status = 0;
  enable = 0;
  control = SCI_EN;
  /** Timer MSB half-periods already reported through TMR_STS. */
  private msbSeen = 0;
  readonly stats = { timerReads: 0, sciRaised: 0, powerOffs: 0 };
  private sciLevel = false;

  constructor(private readonly opts: AcpiPmOptions) {}

  reset(): void {
    this.status = 0; this.enable = 0; this.control = SCI_EN;
    this.msbSeen = Math.floor(this.ticks() / TMR_MSB_PERIOD);
    this.updateSci();
  }

  /** The PM timer's count: 3.579545 MHz ticks of virtual time, 32 bits. */
  ticks(now = this.opts.clock.now()): number {
    return Math.floor(now * (PM_TIMER_HZ / 1e9));
  }

  /** The power button was pressed (the host asks the guest to shut down). */
  pressPowerButton(): void {
    this.status |= PWRBTN_STS;
    this.updateSci();
  }

  private latchTimerStatus(now: number): void {
    const half = Math.floor(this.ticks(now) / TMR_MSB_PERIOD);
    if (half !== this.msbSeen) {
      this.msbSeen = half;
      this.status |= TMR_STS;
    }
  }

  private updateSci(): void {
    const level = (this.status & this.enable & EN_BITS) !== 0 && (this.control & SCI_EN) !== 0;
    if (level === this.sciLevel) return;
    this.sciLevel = level;
    if (level) this.stats.sciRaised++;
    this.opts.setSci?.(level);
  }

  advance(now: number): number {
    this.latchTimerStatus(now);
    this.updateSci();
    if ((this.enable & TMR_STS) === 0) return Infinity;
    return ((this.msbSeen + 1) * TMR_MSB_PERIOD) * NS_PER_TICK;
  }

  private read16(reg: number): number {
    switch (reg) {
      case PM1A_EVT_BLK: this.latchTimerStatus(this.opts.clock.now()); return this.status;
      case PM1A_EVT_BLK + 2: return this.enable;
      case PM1A_CNT_BLK: return this.control & ~SLP_EN;
      default: return 0;
    }
  }

  private write16(reg: number, v: number): void {
    switch (reg) {
      case PM1A_EVT_BLK: this.status &= ~(v & STS_BITS); break; // write 1 to clear
      case PM1A_EVT_BLK + 2:
        this.enable = v & EN_BITS;
        if ((this.enable & TMR_STS) !== 0) this.opts.timers?.reschedule(this.advance(this.opts.clock.now()));
        break;
      case PM1A_CNT_BLK: {
        // SCI_EN stays set: with no SMI_CMD the board is always in ACPI mode. GBL_RLS is write-only.
        this.control = (v & (BM_RLD | (7 << SLP_TYP_SHIFT))) | SCI_EN;
        if ((v & SLP_EN) !== 0) {
          const typ = (v >> SLP_TYP_SHIFT) & 7;
          if (typ === SLP_TYP_S5) { this.stats.powerOffs++; this.opts.onPowerOff?.(); } else this.opts.onSleep?.(typ);
        }
        break;
      }
    }
    this.updateSci();
  }

  portRead(port: number, size: 1 | 2 | 4): number {
    if (port >= PM_TMR_BLK && port < PM_TMR_BLK + PM_TMR_LEN) {
      this.stats.timerReads++;
      const t = this.ticks() % 0x100000000;
      const shift = (port - PM_TMR_BLK) * 8;
      return size === 4 ? t >>> 0 : (t >>> shift) & (size === 1 ? 0xff : 0xffff);
    }
    const reg = port & ~1;
    if (size === 4) return (this.read16(reg) | (this.read16(reg + 2) << 16)) >>> 0;
    const v = this.read16(reg);
    return size === 2 ? v : (v >>> ((port & 1) * 8)) & 0xff;
  }

  portWrite(port: number, size: 1 | 2 | 4, value: number): void {
    if (port >= PM_TMR_BLK) return; // the timer is read-only
    const reg = port & ~1;
    if (size === 4) { this.write16(reg, value & 0xffff); this.write16(reg + 2, value >>> 16); return; }
    if (size === 2) { this.write16(reg, value & 0xffff); return; }
    // Byte writes merge into the 16-bit register (status bytes: a 0 byte clears nothing).
    const shift = (port & 1) * 8;
    const isStatus = reg === PM1A_EVT_BLK;
    const merged = isStatus ? (value & 0xff) << shift : (this.read16(reg) & ~(0xff << shift)) | ((value & 0xff) << shift);
    this.write16(reg, merged);
  }
}
