// One CPU's local APIC, in xAPIC mode (MMIO page at 0xFEE00000, which the board
// routes to the APIC of the vCPU making the access): priority arbitration over
// 256-bit IRR/ISR/TMR, EOI (with broadcast to the IOAPIC for level-triggered
// vectors), LVTs, the timer (one-shot, periodic, TSC-deadline), IPIs through the
// ICR (to other CPUs over devices/apic-bus.ts; without a bus, to itself only),
// INIT and STARTUP handed to the board (onInit/onSipi), and virtual-wire mode:
// the 8259's INTR passes through LINT0 as ExtINT. It is the CPU's
// InterruptSource (contracts/backend.ts) in place of the bare PIC. x2APIC mode: the
// registers as MSRs (devices/x2apic.ts), 32-bit IDs and destinations. Not emulated:
// SMI, EOI-broadcast suppression, the thermal and performance-counter sources.
// Intel SDM Vol. 3A chapter 11 (10 in older editions), "Advanced Programmable Interrupt Controller".

import type { InterruptSource } from '../contracts/backend.js';
import type { MmioDevice } from './bus.js';
import type { Clock, Timed, Timers } from './clock.js';
import { declareState } from './state.js';
import { X2apicMsrs, x2apicLdr, type X2apicRegisters } from './x2apic.js';

export const LAPIC_BASE = 0xfee00000;
export const LAPIC_SIZE = 0x1000;

// ---- Register offsets within the page (each register is a dword on a 16-byte boundary).
export const APIC_ID = 0x020;
export const APIC_VERSION = 0x030;
export const APIC_TPR = 0x080;
export const APIC_APR = 0x090;
export const APIC_PPR = 0x0a0;
export const APIC_EOI = 0x0b0;
export const APIC_RRD = 0x0c0;
export const APIC_LDR = 0x0d0;
export const APIC_DFR = 0x0e0;
export const APIC_SVR = 0x0f0;
export const APIC_ISR = 0x100; // 8 dwords, 0x100..0x170
export const APIC_TMR = 0x180; // 8 dwords
export const APIC_IRR = 0x200; // 8 dwords
export const APIC_ESR = 0x280;
export const APIC_ICR_LO = 0x300;
export const APIC_ICR_HI = 0x310;
export const APIC_LVT_TIMER = 0x320;
export const APIC_LVT_THERMAL = 0x330;
export const APIC_LVT_PERF = 0x340;
export const APIC_LVT_LINT0 = 0x350;
export const APIC_LVT_LINT1 = 0x360;
export const APIC_LVT_ERROR = 0x370;
export const APIC_TIMER_ICR = 0x380; // initial count
export const APIC_TIMER_CCR = 0x390; // current count
export const APIC_TIMER_DCR = 0x3e0; // divide configuration

/** Version register: integrated APIC (0x14), max LVT entry index 5 (timer, thermal, perf, LINT0, LINT1, error). */
export const APIC_VERSION_VALUE = 0x14 | (5 << 16);

// ---- Bits.
export const SVR_ENABLE = 1 << 8;
export const SVR_FOCUS_DISABLE = 1 << 9;
export const LVT_MASKED = 1 << 16;
export const LVT_DELIVERY_STATUS = 1 << 12;
export const LVT_REMOTE_IRR = 1 << 14;
export const LVT_LEVEL = 1 << 15;
export const TIMER_ONESHOT = 0 << 17, TIMER_PERIODIC = 1 << 17, TIMER_TSC_DEADLINE = 2 << 17;
const TIMER_MODE_MASK = 3 << 17;

/** Delivery modes (ICR bits 10:8, LVT bits 10:8, IOAPIC redirection bits 10:8). */
export const DM_FIXED = 0, DM_LOWEST = 1, DM_SMI = 2, DM_NMI = 4, DM_INIT = 5, DM_STARTUP = 6, DM_EXTINT = 7;

export const ICR_DEST_LOGICAL = 1 << 11;
export const ICR_LEVEL_ASSERT = 1 << 14;
export const ICR_LEVEL_TRIGGER = 1 << 15;
export const ICR_SHORTHAND_SHIFT = 18;
export const SH_NONE = 0, SH_SELF = 1, SH_ALL_INCL_SELF = 2, SH_ALL_EXCL_SELF = 3;

/** ESR bits the emulation can raise. */
export const ESR_SEND_ILLEGAL_VECTOR = 1 << 5;
export const ESR_RECV_ILLEGAL_VECTOR = 1 << 6;
export const ESR_ILLEGAL_REGISTER = 1 << 7;

// Writable bits of each LVT (delivery status and remote IRR are read-only).
const LVT_TIMER_MASK = 0xff | LVT_MASKED | TIMER_MODE_MASK;
const LVT_LINT_MASK = 0xff | (7 << 8) | (1 << 13) | LVT_LEVEL | LVT_MASKED;
const LVT_ERROR_MASK = 0xff | LVT_MASKED;
const LVT_OTHER_MASK = 0xff | (7 << 8) | LVT_MASKED;

/** LVT slots, in register order 0x320..0x370. */
const LVT_TIMER = 0, LVT_THERMAL = 1, LVT_PERF = 2, LVT_LINT0 = 3, LVT_LINT1 = 4, LVT_ERROR = 5;
const LVT_WRITE_MASK = [LVT_TIMER_MASK, LVT_OTHER_MASK, LVT_OTHER_MASK, LVT_LINT_MASK, LVT_LINT_MASK, LVT_ERROR_MASK];

export interface LapicOptions {
  clock: Clock;
  /** The timer list, told when the timer's deadline moves earlier. */
  timers?: Timers;
  /** The 8259 pair, consulted for ExtINT (virtual-wire mode and IOAPIC ExtINT pins). */
  pic?: InterruptSource | null;
  /** APIC ID (bits 31:24 of the ID register). */
  id?: number;
  /** APIC timer input (bus clock) in Hz. */
  busHz?: number;
  /** TSC rate in Hz: TSC = now_ns * tscHz / 1e9, as the CPU's RDTSC must count. */
  tscHz?: number;
  /** TSC value -> virtual ns, when the CPU's TSC has an offset (WRMSR to IA32_TIME_STAMP_COUNTER); overrides tscHz. */
  tscToNs?: (tsc: number) => number;
  /** NMI to the CPU (LINT1, ICR NMI, IOAPIC NMI pins): the machine calls backend.nmi(). */
  onNmi?: () => void;
  /** Which vCPU this APIC belongs to (the board also makes it the APIC ID). */
  index?: number;
  /** The bootstrap processor's APIC: its reset state is what a PC BIOS leaves (virtual wire on LINT0, NMI on LINT1). */
  bsp?: boolean;
  /** An INIT message arrived: the CPU goes to wait-for-SIPI (SDM 9.4.2). */
  onInit?: () => void;
  /** A STARTUP message arrived with this vector: a CPU waiting for SIPI starts at vector << 12. */
  onSipi?: (vector: number) => void;
  /**
   * A write through the APIC page made an interrupt deliverable that was not (the TPR lowered
   * below a pending vector, an EOI, a self-IPI): the machine calls backend.endBlock(), so the CPU
   * looks at INTR at the next instruction boundary rather than at the end of its block.
   */
  onInterruptReady?: () => void;
}

/** Index 0-7 of the highest set bit over a 256-bit register, or -1. */
function highestBit(r: Uint32Array): number {
  for (let i = 7; i >= 0; i--) {
    const w = r[i];
    if (w !== 0) return i * 32 + 31 - Math.clz32(w);
  }
  return -1;
}

/**
 * What a local APIC sends over the APIC bus (devices/apic-bus.ts implements it): an interrupt
 * message, and an IPI from this APIC's ICR. Declared here so the bus imports the APIC, not the
 * other way round.
 */
export interface ApicMessages {
  message(dest: number, logical: boolean, mode: number, vector: number, level: boolean): void;
  /** `dest`: ICR[63:56] from an xAPIC, the 32-bit x2APIC destination when `wide`. */
  ipi(from: Lapic, lo: number, dest: number, wide: boolean): void;
}

export class Lapic implements MmioDevice, Timed, InterruptSource, X2apicRegisters {
  static {
    declareState(Lapic, {
      fields: {
        isr: ['u32', 8], tmr: ['u32', 8], irr: ['u32', 8], lvt: ['u32', 6], irrPending: 'bool',
        id: 'u32', tpr: 'u32', ldr: 'u32', dfr: 'u32', svr: 'u32', icrLo: 'u32', icrHi: 'u32',
        esrPending: 'u32', esrVisible: 'u32', hwEnabled: 'bool', x2apicMode: 'bool',
        initialCount: 'u32', dcr: 'u32', divide: 'u32', timerStart: 'f64', timerDeadline: 'f64', tscDeadline: 'f64',
        extIntRouted: 'bool',
        stats: {
          accepted: 'f64', delivered: 'f64', eois: 'f64', timerFires: 'f64', selfIpis: 'f64', droppedIpis: 'f64', extInts: 'f64', spurious: 'f64', nmis: 'f64',
          ipisSent: 'f64', ipisReceived: 'f64', inits: 'f64', sipis: 'f64',
        },
      },
      wiring: ['clock', 'timers', 'busHz', 'tscToNsFn', 'pic', 'onNmi', 'onLevelEoi', 'index', 'apicBus', 'bsp', 'onInit', 'onSipi', 'onInterruptReady', 'x2apic'],
    });
  }

  readonly isr = new Uint32Array(8);
  readonly tmr = new Uint32Array(8);
  readonly irr = new Uint32Array(8);
  readonly lvt = new Uint32Array(6);
  /** Some IRR bit is set (hasInterrupt runs at every block end: skip the 256-bit scan when idle). */
  private irrPending = false;
  id: number;
  tpr = 0;
  ldr = 0;
  dfr = 0xffffffff;
  svr = 0xff;
  icrLo = 0;
  icrHi = 0;
  /** Errors seen since the last ESR write, and what the ESR shows (latched at that write). */
  private esrPending = 0;
  private esrVisible = 0;
  /** APIC_BASE MSR bit 11: a hardware-disabled APIC passes the PIC straight through. */
  hwEnabled = true;
  /** APIC_BASE MSR bit 10 (EXTD): registers are MSRs, the MMIO page is gone, IDs and destinations are 32 bits. */
  x2apicMode = false;
  /** The MSR face the CPU reaches in x2APIC mode (CpuHost.apic.x2apic). */
  readonly x2apic = new X2apicMsrs(this);

  // Timer.
  private initialCount = 0;
  private dcr = 0;
  private divide = 2;
  /** When the current count was last loaded (ns), and when it reaches zero (Infinity if stopped). */
  private timerStart = 0;
  private timerDeadline = Infinity;
  /** IA32_TSC_DEADLINE in TSC ticks (0 = disarmed). */
  private tscDeadline = 0;

  private readonly clock: Clock;
  private readonly timers: Timers | null;
  private readonly busHz: number;
  private readonly tscToNsFn: (tsc: number) => number;
  pic: InterruptSource | null;
  onNmi: () => void;
  /** EOI of a level-triggered vector: the IOAPIC clears the remote IRR of the pins using it. */
  onLevelEoi: ((vector: number) => void) | null = null;
  /** An unmasked IOAPIC pin in ExtINT mode targets us: the PIC's INTR reaches the CPU that way (the IOAPIC keeps this current). */
  extIntRouted = false;

  /** Counters for the teaching views. */
  readonly stats = {
    accepted: 0, delivered: 0, eois: 0, timerFires: 0, selfIpis: 0, droppedIpis: 0, extInts: 0, spurious: 0, nmis: 0,
    ipisSent: 0, ipisReceived: 0, inits: 0, sipis: 0,
  };
  /** The vCPU this APIC belongs to. */
  readonly index: number;
  /** The bus to the other CPUs' APICs and the IOAPIC (set by devices/apic-bus.ts); null: IPIs reach only this APIC. */
  apicBus: ApicMessages | null = null;
  private readonly bsp: boolean;
  onInit: () => void;
  onSipi: (vector: number) => void;
  onInterruptReady: () => void;

  constructor(opts: LapicOptions) {
    this.clock = opts.clock;
    this.timers = opts.timers ?? null;
    this.pic = opts.pic ?? null;
    this.id = opts.id ?? 0;
    this.busHz = opts.busHz ?? 1_000_000_000;
    const tscHz = opts.tscHz ?? 1_000_000_000;
    this.tscToNsFn = opts.tscToNs ?? ((tsc) => (tsc * 1e9) / tscHz);
    this.onNmi = opts.onNmi ?? (() => {});
    this.index = opts.index ?? 0;
    this.bsp = opts.bsp ?? true;
    this.onInit = opts.onInit ?? (() => {});
    this.onSipi = opts.onSipi ?? (() => {});
    this.onInterruptReady = opts.onInterruptReady ?? (() => {});
    this.reset();
  }

  /**
   * RESET: the power-up state, then on the bootstrap processor what a PC BIOS leaves behind:
   * LINT0 ExtINT (virtual wire) and LINT1 NMI. Application processors keep every LVT masked.
   */
  reset(): void {
    this.powerUp();
    if (!this.bsp) return;
    this.lvt[LVT_LINT0] = DM_EXTINT << 8;
    this.lvt[LVT_LINT1] = DM_NMI << 8;
  }

  /** The power-up (and INIT) state of SDM 11.4.7.1: IRR/ISR/TMR, ICR, LDR, TPR, timer cleared; DFR all ones; LVTs masked; SVR 0xFF. The ID stays. */
  powerUp(): void {
    this.isr.fill(0); this.tmr.fill(0); this.irr.fill(0);
    this.irrPending = false;
    this.lvt.fill(LVT_MASKED);
    this.tpr = 0; this.ldr = 0; this.dfr = 0xffffffff; this.svr = 0xff;
    this.icrLo = 0; this.icrHi = 0; this.esrPending = 0; this.esrVisible = 0;
    this.initialCount = 0; this.dcr = 0; this.divide = 2;
    this.timerDeadline = Infinity; this.tscDeadline = 0;
    this.hwEnabled = true;
  }

  get softwareEnabled(): boolean { return (this.svr & SVR_ENABLE) !== 0; }

  // ---- Priorities (SDM 11.8.3.1).

  /** Processor priority: the TPR or the class of the highest in-service vector, whichever is higher. */
  ppr(): number {
    const isrv = highestBit(this.isr);
    const isrClass = isrv < 0 ? 0 : isrv & 0xf0;
    return (this.tpr & 0xf0) >= isrClass ? this.tpr & 0xff : isrClass;
  }

  /** The vector the LAPIC would deliver now, or -1. */
  private deliverableVector(): number {
    const v = highestBit(this.irr);
    if (v < 0) return -1;
    return (v & 0xf0) > (this.ppr() & 0xf0) ? v : -1;
  }

  /** The 8259's INTR reaches the CPU: hardware-disabled APIC, software-disabled APIC, unmasked LINT0 ExtINT, or an IOAPIC ExtINT pin. */
  private picPassesThrough(): boolean {
    if (!this.hwEnabled || !this.softwareEnabled) return true;
    const l0 = this.lvt[LVT_LINT0];
    return this.extIntRouted || ((l0 & LVT_MASKED) === 0 && ((l0 >> 8) & 7) === DM_EXTINT);
  }

  // ---- InterruptSource (the CPU's INTR pin and INTA cycle).

  hasInterrupt(): boolean {
    if (this.irrPending && this.hwEnabled && this.deliverableVector() >= 0) return true;
    return this.pic !== null && this.picPassesThrough() && this.pic.hasInterrupt();
  }

  acknowledge(): number {
    if (this.hwEnabled) {
      const v = this.deliverableVector();
      if (v >= 0) {
        this.irr[v >>> 5] &= ~(1 << (v & 31));
        this.isr[v >>> 5] |= 1 << (v & 31);
        this.irrPending = highestBit(this.irr) >= 0;
        this.stats.delivered++;
        return v;
      }
    }
    if (this.pic !== null && this.picPassesThrough() && this.pic.hasInterrupt()) {
      this.stats.extInts++;
      return this.pic.acknowledge();
    }
    // The request went away between INTR and INTA: the spurious vector (no ISR bit, no EOI).
    this.stats.spurious++;
    return this.svr & 0xff;
  }

  // ---- Interrupt acceptance (from the LVTs, the ICR, the IOAPIC).

  /** A fixed/lowest-priority interrupt arrives: IRR set, TMR records the trigger mode. */
  acceptFixed(vector: number, level: boolean): void {
    vector &= 0xff;
    if (vector < 16) {
      this.raiseError(ESR_RECV_ILLEGAL_VECTOR);
      return;
    }
    const w = vector >>> 5, bit = 1 << (vector & 31);
    this.irr[w] |= bit;
    this.irrPending = true;
    if (level) this.tmr[w] |= bit; else this.tmr[w] &= ~bit;
    this.stats.accepted++;
  }

  /** An interrupt message with a delivery mode (IOAPIC redirection entry, ICR). */
  deliver(mode: number, vector: number, level: boolean): void {
    switch (mode) {
      case DM_FIXED:
      case DM_LOWEST: this.acceptFixed(vector, level); break;
      case DM_NMI: this.stats.nmis++; this.onNmi(); break;
      case DM_INIT: this.stats.inits++; this.onInit(); break;
      case DM_STARTUP: this.stats.sipis++; this.onSipi(vector & 0xff); break;
      default: this.stats.droppedIpis++; // SMI: no SMM; ExtINT is polled (extIntRouted)
    }
  }

  /**
   * Does a message for `dest` in physical or logical destination mode reach this APIC? (SDM 11.6.2;
   * x2APIC 11.12.9/11.12.10.2). `wide`: a 32-bit destination from an x2APIC ICR; else 8 bits.
   */
  matchesDestination(dest: number, logical: boolean, wide = false): boolean {
    if (this.x2apicMode) return this.matchesX2apic(wide ? dest >>> 0 : dest & 0xff, logical, wide);
    dest &= 0xff;
    if (dest === 0xff) return true;
    if (!logical) return dest === (this.id & 0xff);
    const ldr = this.ldr >>> 24;
    if ((this.dfr >>> 28) === 0xf) return (ldr & dest) !== 0; // flat model
    return (ldr >>> 4) === (dest >>> 4) && (ldr & dest & 0xf) !== 0; // cluster model
  }

  private matchesX2apic(dest: number, logical: boolean, wide: boolean): boolean {
    if (dest === (wide ? 0xffffffff : 0xff)) return true;
    if (!logical) return dest === this.id >>> 0;
    const cluster = wide ? dest >>> 16 : dest >>> 4, bits = wide ? dest & 0xffff : dest & 0xf;
    return cluster === this.id >>> 4 && (bits & (1 << (this.id & 0xf))) !== 0;
  }

  /**
   * A message-signalled interrupt: a device's DMA write of `data` to `addr` in 0xFEExxxxx
   * (SDM 11.11: address bits 19:12 destination ID, bit 2 logical destination; data bits 7:0
   * vector, 10:8 delivery mode, 15 level trigger). Returns false if the address is not an MSI one.
   */
  deliverMsi(addr: number, data: number): boolean {
    if ((addr >>> 20) !== 0xfee) return false;
    const dest = (addr >>> 12) & 0xff, logical = (addr & 4) !== 0;
    const mode = (data >>> 8) & 7, vector = data & 0xff, level = (data & 0x8000) !== 0;
    if (this.apicBus) { this.apicBus.message(dest, logical, mode, vector, level); return true; }
    if (!this.matchesDestination(dest, logical)) return true;
    this.deliver(mode, vector, level);
    return true;
  }

  /** LINT0/LINT1 pin level changes (LINT1 carries NMI on a PC). Edge semantics on assertion. */
  setLint(pin: 0 | 1, level: boolean): void {
    if (!level) return;
    const e = this.lvt[pin === 0 ? LVT_LINT0 : LVT_LINT1];
    if ((e & LVT_MASKED) !== 0 || !this.hwEnabled) return;
    const mode = (e >> 8) & 7;
    if (mode === DM_EXTINT) return; // polled from the PIC in hasInterrupt()
    this.deliver(mode, e & 0xff, (e & LVT_LEVEL) !== 0);
  }

  raiseError(bits: number): void {
    this.esrPending |= bits;
    const e = this.lvt[LVT_ERROR];
    if ((e & LVT_MASKED) === 0) this.acceptFixed(e & 0xff, false);
  }

  private eoi(): void {
    const v = highestBit(this.isr);
    if (v < 0) return;
    const w = v >>> 5, bit = 1 << (v & 31);
    this.isr[w] &= ~bit;
    this.stats.eois++;
    if ((this.tmr[w] & bit) !== 0) this.onLevelEoi?.(v);
  }

  private sendIpi(): void {
    this.sendIpiTo(this.icrLo, this.icrHi >>> 24, false);
  }

  /** Send the IPI an ICR low word describes to `dest` (8-bit xAPIC, or 32-bit x2APIC when `wide`). */
  sendIpiTo(lo: number, dest: number, wide: boolean): void {
    if (this.apicBus) { this.apicBus.ipi(this, lo, dest, wide); return; }
    const vector = lo & 0xff, mode = (lo >> 8) & 7;
    const shorthand = (lo >>> ICR_SHORTHAND_SHIFT) & 3;
    let toSelf: boolean;
    if (shorthand === SH_NONE) toSelf = this.matchesDestination(dest, (lo & ICR_DEST_LOGICAL) !== 0, wide);
    else toSelf = shorthand !== SH_ALL_EXCL_SELF;
    if (!toSelf) { this.stats.droppedIpis++; return; }
    if ((mode === DM_FIXED || mode === DM_LOWEST) && vector < 16) {
      this.raiseError(ESR_SEND_ILLEGAL_VECTOR);
      return;
    }
    this.stats.selfIpis++;
    this.deliver(mode, vector, false);
  }

  // ---- Timer (SDM 11.5.4).

  private nsPerCount(): number { return (this.divide * 1e9) / this.busHz; }
  private get timerMode(): number { return this.lvt[LVT_TIMER] & TIMER_MODE_MASK; }

  private currentCount(now: number): number {
    if (this.timerMode === TIMER_TSC_DEADLINE || this.initialCount === 0 || this.timerDeadline === Infinity) return 0;
    const elapsed = Math.floor((now - this.timerStart) / this.nsPerCount());
    if (elapsed >= this.initialCount) return this.timerMode === TIMER_PERIODIC ? this.initialCount - (elapsed % this.initialCount) : 0;
    return this.initialCount - elapsed;
  }

  private armCount(now: number): void {
    this.timerStart = now;
    this.timerDeadline = this.initialCount === 0 ? Infinity : now + this.initialCount * this.nsPerCount();
    this.timers?.reschedule(this.timerDeadline);
  }

  private fireTimer(): void {
    this.stats.timerFires++;
    const e = this.lvt[LVT_TIMER];
    if ((e & LVT_MASKED) === 0) this.acceptFixed(e & 0xff, false);
  }

  /**
   * WRMSR IA32_TSC_DEADLINE (0x6E0), value as a double (exact below 2^53). Writing 0 disarms.
   * `atNs`: when the CPU's TSC reaches `value` in clock time (the CPU knows its TSC offset); default tscToNs.
   */
  writeTscDeadline(value: number, atNs?: number): void {
    this.tscDeadline = value;
    if (this.timerMode !== TIMER_TSC_DEADLINE) return; // ignored outside TSC-deadline mode (SDM 11.5.4.1)
    this.timerDeadline = value === 0 ? Infinity : atNs ?? this.tscToNsFn(value);
    if (this.timerDeadline !== Infinity && this.timerDeadline <= this.clock.now()) this.advance(this.clock.now());
    else this.timers?.reschedule(this.timerDeadline);
  }

  /** RDMSR IA32_TSC_DEADLINE: 0 once it fired or outside TSC-deadline mode. */
  readTscDeadline(): number {
    return this.timerMode === TIMER_TSC_DEADLINE ? this.tscDeadline : 0;
  }

  advance(now: number): number {
    if (now < this.timerDeadline) return this.timerDeadline;
    const mode = this.timerMode;
    if (mode === TIMER_TSC_DEADLINE) {
      this.tscDeadline = 0;
      this.timerDeadline = Infinity;
      this.fireTimer();
    } else if (mode === TIMER_PERIODIC && this.initialCount !== 0) {
      // Missed periods coalesce into one request, as IRR holds one bit per vector.
      const period = this.initialCount * this.nsPerCount();
      const periods = Math.floor((now - this.timerStart) / period);
      this.timerStart += periods * period;
      this.timerDeadline = this.timerStart + period;
      this.fireTimer();
    } else {
      this.timerDeadline = Infinity;
      this.fireTimer();
    }
    return this.timerDeadline;
  }

  /**
   * IA32_APIC_BASE bit 11. Clearing it hardware-disables the APIC (the 8259 reaches INTR
   * directly); the APIC comes back in its power-up state (SDM 11.4.3).
   */
  setHwEnabled(on: boolean): void {
    if (on === this.hwEnabled) return;
    if (!on) { this.powerUp(); this.x2apicMode = false; }
    this.hwEnabled = on;
  }

  /** IA32_APIC_BASE bit 10 (x2APIC mode, SDM 11.12.5): the ID stays, the LDR becomes the derived one. */
  setX2apicMode(on: boolean): void {
    this.x2apicMode = on;
    this.ldr = on ? x2apicLdr(this.id) : 0;
  }

  /** INIT (an INIT IPI, or the INIT pin): the APIC goes to its power-up state, keeping its ID and mode. */
  init(): void {
    const hw = this.hwEnabled;
    this.powerUp();
    this.hwEnabled = hw;
    if (this.x2apicMode) this.ldr = x2apicLdr(this.id); // INIT keeps the mode (SDM 11.12.5.1)
  }

  // ---- TPR as CR8 sees it (64-bit mode: CR8[3:0] = TPR[7:4]).
  readCr8(): number { return (this.tpr >>> 4) & 0xf; }
  writeCr8(v: number): void { this.tpr = (v & 0xf) << 4; }

  // ---- MMIO.

  /** The register at page offset `reg` as the xAPIC page shows it (devices/x2apic.ts reuses it). */
  readRegister(reg: number): number {
    switch (reg) {
      case APIC_ID: return (this.id & 0xff) << 24;
      case APIC_VERSION: return APIC_VERSION_VALUE;
      case APIC_TPR: return this.tpr;
      case APIC_APR: return this.ppr(); // one CPU: arbitration priority follows the processor priority
      case APIC_PPR: return this.ppr();
      case APIC_EOI: return 0;
      case APIC_RRD: return 0;
      case APIC_LDR: return this.ldr;
      case APIC_DFR: return this.dfr;
      case APIC_SVR: return this.svr;
      case APIC_ESR: return this.esrVisible;
      case APIC_ICR_LO: return this.icrLo & ~LVT_DELIVERY_STATUS; // delivery is instantaneous: always idle
      case APIC_ICR_HI: return this.icrHi;
      case APIC_TIMER_ICR: return this.initialCount;
      case APIC_TIMER_CCR: return this.currentCount(this.clock.now()) >>> 0;
      case APIC_TIMER_DCR: return this.dcr;
    }
    if (reg >= APIC_ISR && reg < APIC_ISR + 0x80) return this.isr[(reg - APIC_ISR) >> 4];
    if (reg >= APIC_TMR && reg < APIC_TMR + 0x80) return this.tmr[(reg - APIC_TMR) >> 4];
    if (reg >= APIC_IRR && reg < APIC_IRR + 0x80) return this.irr[(reg - APIC_IRR) >> 4];
    if (reg >= APIC_LVT_TIMER && reg <= APIC_LVT_ERROR) return this.lvt[(reg - APIC_LVT_TIMER) >> 4];
    return 0;
  }

  writeRegister(reg: number, v: number): void {
    v >>>= 0;
    switch (reg) {
      case APIC_ID: this.id = v >>> 24; return;
      case APIC_TPR: this.tpr = v & 0xff; return;
      case APIC_EOI: this.eoi(); return;
      case APIC_LDR: this.ldr = v & 0xff000000; return;
      case APIC_DFR: this.dfr = (v | 0x0fffffff) >>> 0; return;
      case APIC_SVR:
        this.svr = v & (0xff | SVR_ENABLE | SVR_FOCUS_DISABLE);
        if (!this.softwareEnabled) for (let i = 0; i < 6; i++) this.lvt[i] |= LVT_MASKED;
        return;
      case APIC_ESR: this.esrVisible = this.esrPending; this.esrPending = 0; return;
      case APIC_ICR_LO: this.icrLo = v & 0x000ccfff; this.sendIpi(); return;
      case APIC_ICR_HI: this.icrHi = v & 0xff000000; return;
      case APIC_TIMER_ICR:
        if (this.timerMode === TIMER_TSC_DEADLINE) return;
        this.initialCount = v;
        this.armCount(this.clock.now());
        return;
      case APIC_TIMER_DCR: {
        const now = this.clock.now();
        const remaining = this.currentCount(now);
        this.dcr = v & 0xb;
        const code = ((this.dcr >> 1) & 4) | (this.dcr & 3);
        this.divide = code === 7 ? 1 : 2 << code;
        // The count in progress continues at the new rate.
        if (this.timerDeadline !== Infinity && this.timerMode !== TIMER_TSC_DEADLINE) {
          this.timerStart = now - (this.initialCount - remaining) * this.nsPerCount();
          this.timerDeadline = now + remaining * this.nsPerCount();
          this.timers?.reschedule(this.timerDeadline);
        }
        return;
      }
    }
    if (reg >= APIC_LVT_TIMER && reg <= APIC_LVT_ERROR) {
      const i = (reg - APIC_LVT_TIMER) >> 4;
      let e = (this.lvt[i] & ~LVT_WRITE_MASK[i]) | (v & LVT_WRITE_MASK[i]);
      if (!this.softwareEnabled) e |= LVT_MASKED;
      const oldMode = this.lvt[LVT_TIMER] & TIMER_MODE_MASK;
      this.lvt[i] = e;
      const newMode = e & TIMER_MODE_MASK;
      if (i === LVT_TIMER && newMode !== oldMode && (newMode === TIMER_TSC_DEADLINE || oldMode === TIMER_TSC_DEADLINE)) {
        // Switching between count and TSC-deadline modes disarms the timer (SDM 11.5.4.1).
        this.timerDeadline = Infinity;
        this.tscDeadline = 0;
        this.initialCount = 0;
      }
      return;
    }
    // Read-only registers (version, PPR, ISR/TMR/IRR, CCR) ignore writes; anything else is an illegal register.
    const readOnly = reg === APIC_VERSION || reg === APIC_APR || reg === APIC_PPR || reg === APIC_RRD || reg === APIC_TIMER_CCR ||
      (reg >= APIC_ISR && reg < APIC_IRR + 0x80);
    if (!readOnly) this.raiseError(ESR_ILLEGAL_REGISTER);
  }

  mmioRead(offset: number, size: 1 | 2 | 4): number {
    // Hardware-disabled (IA32_APIC_BASE.EN = 0): the page no longer answers; the bus floats to all ones.
    if (!this.hwEnabled || this.x2apicMode) return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
    const reg = offset & 0xff0;
    const v = this.readRegister(reg) >>> 0;
    const shift = (offset & 3) * 8;
    if (size === 4) return (offset & 0xf) === 0 ? v : 0;
    return (v >>> shift) & (size === 1 ? 0xff : 0xffff);
  }

  mmioWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    // The xAPIC takes only aligned dword writes; anything else is dropped as on hardware (undefined there).
    if (size !== 4 || (offset & 0xf) !== 0 || !this.hwEnabled || this.x2apicMode) return;
    const ready = this.hasInterrupt();
    this.writeRegister(offset & 0xff0, value);
    if (!ready && this.hasInterrupt()) this.onInterruptReady();
  }
}
