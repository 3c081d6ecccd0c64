// The local APIC's x2APIC face (Intel SDM Vol. 3A 11.12): with IA32_APIC_BASE.EXTD set,
// the registers are MSRs 0x800-0x8FF (MSR 0x800 + offset/16 of the xAPIC page), the ID
// is 32 bits, the LDR is derived from it (cluster = ID[31:4], one bit for ID[3:0]), the
// ICR is one 64-bit MSR with a 32-bit destination, and SELF IPI (0x83F) is new. DFR, APR
// and RRD are gone. An access to a register that does not exist, a read of a write-only
// one, a write to a read-only one or a non-zero EOI/ESR write raises #GP (the CPU does it
// when this answers NaN/false). The mode itself lives in devices/lapic.ts (x2apicMode).

import type { X2apicHost } from '../contracts/backend.js';

export const X2APIC_MSR_BASE = 0x800;
export const X2APIC_ID = 0x802, X2APIC_VERSION = 0x803, X2APIC_TPR = 0x808, X2APIC_PPR = 0x80a, X2APIC_EOI = 0x80b,
  X2APIC_LDR = 0x80d, X2APIC_SVR = 0x80f, X2APIC_ISR = 0x810, X2APIC_TMR = 0x818, X2APIC_IRR = 0x820, X2APIC_ESR = 0x828,
  X2APIC_ICR = 0x830, X2APIC_LVT_TIMER = 0x832, X2APIC_LVT_ERROR = 0x837, X2APIC_TIMER_ICR = 0x838, X2APIC_TIMER_CCR = 0x839,
  X2APIC_TIMER_DCR = 0x83e, X2APIC_SELF_IPI = 0x83f;

/** What the x2APIC MSRs reach in the APIC (devices/lapic.ts). */
export interface X2apicRegisters {
  readonly id: number;
  icrLo: number;
  icrHi: number;
  /** The xAPIC register at page offset `reg`, read or written as the MMIO path does. */
  readRegister(reg: number): number;
  writeRegister(reg: number, v: number): void;
  /** An IPI from the ICR with a 32-bit x2APIC destination. */
  sendIpiTo(lo: number, dest: number, wide: boolean): void;
  setX2apicMode(on: boolean): void;
}

const RO = 1, WO = 2, RW = 3;
/** Access of each MSR 0x800 + i that exists in x2APIC mode (0: none). */
const ACCESS = new Uint8Array(0x100);
for (const [msr, a] of [[X2APIC_ID, RO], [X2APIC_VERSION, RO], [X2APIC_TPR, RW], [X2APIC_PPR, RO], [X2APIC_EOI, WO], [X2APIC_LDR, RO],
  [X2APIC_SVR, RW], [X2APIC_ESR, RW], [X2APIC_ICR, RW], [X2APIC_TIMER_ICR, RW], [X2APIC_TIMER_CCR, RO], [X2APIC_TIMER_DCR, RW],
  [X2APIC_SELF_IPI, WO]] as const) ACCESS[msr - X2APIC_MSR_BASE] = a;
for (let i = 0; i < 8; i++) for (const base of [X2APIC_ISR, X2APIC_TMR, X2APIC_IRR]) ACCESS[base + i - X2APIC_MSR_BASE] = RO;
for (let m = X2APIC_LVT_TIMER; m <= X2APIC_LVT_ERROR; m++) ACCESS[m - X2APIC_MSR_BASE] = RW;

/** The x2APIC LDR of an APIC ID (SDM 11.12.10.2): cluster ID[31:4] in bits 31:16, bit ID[3:0] below. */
export const x2apicLdr = (id: number): number => (((id >>> 4) << 16) | (1 << (id & 0xf))) >>> 0;

/** The MSR face of one APIC, handed to the CPU as ApicHost.x2apic. */
export class X2apicMsrs implements X2apicHost {
  constructor(private readonly apic: X2apicRegisters) {}

  setMode(on: boolean): void { this.apic.setX2apicMode(on); }

  read(msr: number): number {
    const i = msr - X2APIC_MSR_BASE;
    if (i < 0 || i > 0xff || (ACCESS[i] & RO) === 0) return NaN;
    if (msr === X2APIC_ID) return this.apic.id >>> 0;
    if (msr === X2APIC_LDR) return x2apicLdr(this.apic.id);
    return this.apic.readRegister(i << 4) >>> 0;
  }

  readHi(msr: number): number {
    return msr === X2APIC_ICR ? this.apic.icrHi >>> 0 : 0;
  }

  write(msr: number, lo: number, hi: number): boolean {
    const i = msr - X2APIC_MSR_BASE;
    if (i < 0 || i > 0xff || (ACCESS[i] & WO) === 0) return false;
    lo >>>= 0; hi >>>= 0;
    if (msr === X2APIC_ICR) {
      // Bits 12 (delivery status), 13, 16-17 and 20-31 are reserved (SDM 11.12.9).
      if ((lo & 0xfff33000) !== 0) return false;
      this.apic.icrLo = lo;
      this.apic.icrHi = hi;
      this.apic.sendIpiTo(lo, hi, true);
      return true;
    }
    if (hi !== 0) return false;
    switch (msr) {
      case X2APIC_EOI: case X2APIC_ESR: if (lo !== 0) return false; break;
      case X2APIC_SELF_IPI: if (lo > 0xff) return false; this.apic.sendIpiTo(lo /* fixed, edge, vector */ | (1 << 18) /* self */, 0, true); return true;
    }
    this.apic.writeRegister(i << 4, lo);
    return true;
  }
}
