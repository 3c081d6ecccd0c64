// Model-specific registers (RDMSR/WRMSR), the time-stamp counter (RDTSC/RDTSCP)
// and CPUID execution. MSR numbers: Intel SDM Vol. 4. An MSR not listed here
// raises #GP(0), as on hardware. The TSC runs at 1 GHz of virtual time.

import type { Cpu } from '../cpu.js';
import { segWord } from '../cpu.js';
import {
  APIC_BASE, CR4_OSXSAVE, CR4_TSD, CSTAR, EFER, FS, GS, KERNEL_GS_BASE, LSTAR, MCG_STATUS, MISC_ENABLE,
  MTRR_DEF_TYPE, MTRR_FIX, MTRR_VAR, PAT, PLATFORM_INFO, SEG_BASE, SFMASK, STAR, SYSENTER_CS, SYSENTER_EIP,
  SYSENTER_ESP, TSC, TSC_AUX, TSC_DEADLINE,
} from '../state.js';
import type { X2apicHost } from '../../contracts/backend.js';
import { L1C_TSC_DEADLINE, L1C_X2APIC, cpuid, type CpuidDynamic } from '../cpuid.js';
import { CpuFault, VEC_GP } from '../fault.js';
import { requireCpl0, writeEfer } from './control.js';
import { sysOf } from './context.js';
import { W } from '../words.js';

export const MSR_FEATURE_CONTROL = 0x3a, MSR_PLATFORM_ID = 0x17, MSR_DEBUGCTL = 0x1d9, MSR_TSC = 0x10, MSR_APIC_BASE = 0x1b, MSR_BIOS_SIGN_ID = 0x8b, MSR_PLATFORM_INFO = 0xce,
  MSR_MTRRCAP = 0xfe, MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175, MSR_SYSENTER_EIP = 0x176,
  MSR_MCG_CAP = 0x179, MSR_MCG_STATUS = 0x17a, MSR_MISC_ENABLE = 0x1a0, MSR_MTRR_PHYS_BASE0 = 0x200,
  MSR_MTRR_FIX64K = 0x250, MSR_MTRR_FIX16K_80000 = 0x258, MSR_MTRR_FIX16K_A0000 = 0x259, MSR_MTRR_FIX4K_C0000 = 0x268,
  MSR_PAT = 0x277, MSR_MTRR_DEF_TYPE = 0x2ff, MSR_TSC_DEADLINE = 0x6e0, MSR_EFER = 0xc0000080,
  MSR_STAR = 0xc0000081, MSR_LSTAR = 0xc0000082, MSR_CSTAR = 0xc0000083, MSR_SFMASK = 0xc0000084,
  MSR_FS_BASE = 0xc0000100, MSR_GS_BASE = 0xc0000101, MSR_KERNEL_GS_BASE = 0xc0000102, MSR_TSC_AUX = 0xc0000103;

/** MTRRcap: 8 variable ranges, fixed ranges supported, write-combining supported. */
const MTRRCAP = 8 | (1 << 8) | (1 << 10);
/** IA32_FEATURE_CONTROL: locked (bit 0), VMX inside and outside SMX off (bits 1, 2): the model has no VMX. */
const FEATURE_CONTROL = 1;
const TWO32 = 4294967296;
/** IA32_APIC_BASE bit 11: the local APIC is enabled. */
const APIC_BASE_ENABLE = 1 << 11, APIC_BASE_EXTD = 1 << 10;
/** The x2APIC registers' MSR range (SDM 11.12.1.2). */
const X2APIC_FIRST = 0x800, X2APIC_LAST = 0x8ff;
const gp0 = (): CpuFault => new CpuFault(VEC_GP, 0, true);

/** The state-record offset of a plain 64-bit MSR, or -1. */
function plainMsr(n: number): number {
  switch (n) {
    case MSR_SYSENTER_CS: return SYSENTER_CS;
    case MSR_SYSENTER_ESP: return SYSENTER_ESP;
    case MSR_SYSENTER_EIP: return SYSENTER_EIP;
    case MSR_MCG_STATUS: return MCG_STATUS;
    case MSR_MISC_ENABLE: return MISC_ENABLE;
    case MSR_MTRR_DEF_TYPE: return MTRR_DEF_TYPE;
    case MSR_STAR: return STAR;
    case MSR_SFMASK: return SFMASK;
    case MSR_TSC_AUX: return TSC_AUX;
    case MSR_TSC_DEADLINE: return TSC_DEADLINE;
    case MSR_MTRR_FIX64K: return MTRR_FIX;
    case MSR_MTRR_FIX16K_80000: return MTRR_FIX + 8;
    case MSR_MTRR_FIX16K_A0000: return MTRR_FIX + 16;
    default:
      if (n >= MSR_MTRR_FIX4K_C0000 && n <= MSR_MTRR_FIX4K_C0000 + 7) return MTRR_FIX + 24 + (n - MSR_MTRR_FIX4K_C0000) * 8;
      if (n >= MSR_MTRR_PHYS_BASE0 && n < MSR_MTRR_PHYS_BASE0 + 16) return MTRR_VAR + (n - MSR_MTRR_PHYS_BASE0) * 8;
      return -1;
  }
}

/** The state record's TSC field as a JS number. */
const tscField = (c: Cpu): number => c.dv.getUint32(TSC + 4, true) * TWO32 + c.dv.getUint32(TSC, true);

/**
 * Current guest TSC as a JS number (exact below 2^53: about 104 days). A TSC
 * field in the state record that differs from what this layer last saw was
 * imported (setState, a backend switch): the count continues from it.
 */
export function readTsc(c: Cpu): number {
  const ctx = sysOf(c);
  const field = tscField(c);
  // A whole offset: TSC = floor(now) + offset, so a TSC exported and imported at one instant (INIT/SIPI of an AP) comes back exact.
  if (field !== ctx.tscField) { ctx.tscOffset = field - Math.floor(c.host.now()); ctx.tscField = field; }
  return Math.max(0, Math.floor(c.host.now() + ctx.tscOffset));
}

export function writeTsc(c: Cpu, lo: number, hi: number): void {
  const v = (hi >>> 0) * TWO32 + (lo >>> 0);
  sysOf(c).tscOffset = v - Math.floor(c.host.now());
  storeTscField(c, v);
}

/** Store the running TSC into the state record (backends call it before export). */
export function exportTsc(c: Cpu): void {
  storeTscField(c, readTsc(c));
}

function storeTscField(c: Cpu, t: number): void {
  c.dv.setUint32(TSC, t % TWO32, true);
  c.dv.setUint32(TSC + 4, Math.floor(t / TWO32), true);
  sysOf(c).tscField = t;
}

const canonical = (hi: number): boolean => ((hi << 16) >> 16) === hi;

/** RDMSR: returns the low half (EAX); the high half is left in c.resHi (EDX). */
export function rdmsr(c: Cpu, n: number): number {
  requireCpl0(c);
  n >>>= 0;
  const r = c.r32, dv = c.dv;
  const plain = plainMsr(n);
  if (n === MSR_TSC_DEADLINE && c.host.apic) {
    const t = c.host.apic.readTscDeadline();
    c.resHi = Math.floor(t / TWO32) | 0;
    return (t % TWO32) | 0;
  }
  if (plain >= 0) { c.resHi = dv.getInt32(plain + 4, true); return dv.getInt32(plain, true); }
  if (n >= X2APIC_FIRST && n <= X2APIC_LAST) {
    const x2 = x2apicOf(c);
    const v = x2 ? x2.read(n) : NaN;
    if (Number.isNaN(v)) throw gp0();
    c.resHi = x2!.readHi(n) | 0;
    return v | 0;
  }
  switch (n) {
    case MSR_TSC: { const t = readTsc(c); c.resHi = Math.floor(t / TWO32) | 0; return (t % TWO32) | 0; }
    case MSR_APIC_BASE: c.resHi = dv.getInt32(APIC_BASE + 4, true); return dv.getInt32(APIC_BASE, true);
    case MSR_BIOS_SIGN_ID: c.resHi = 0; return 0; // microcode revision 0
    case MSR_PLATFORM_ID: c.resHi = 0; return 0; // read by microcode loaders on family 6
    case MSR_FEATURE_CONTROL: c.resHi = 0; return FEATURE_CONTROL;
    case MSR_DEBUGCTL: c.resHi = 0; return 0; // no LBR/BTF: reads 0
    case MSR_PLATFORM_INFO: c.resHi = dv.getInt32(PLATFORM_INFO + 4, true); return dv.getInt32(PLATFORM_INFO, true);
    case MSR_MTRRCAP: c.resHi = 0; return MTRRCAP;
    case MSR_MCG_CAP: c.resHi = 0; return 0;
    case MSR_PAT: c.resHi = dv.getInt32(PAT + 4, true); return dv.getInt32(PAT, true);
    case MSR_EFER: c.resHi = 0; return dv.getInt32(EFER, true);
    case MSR_LSTAR: c.resHi = dv.getInt32(LSTAR + 4, true); return dv.getInt32(LSTAR, true);
    case MSR_CSTAR: c.resHi = dv.getInt32(CSTAR + 4, true); return dv.getInt32(CSTAR, true);
    case MSR_KERNEL_GS_BASE: c.resHi = dv.getInt32(KERNEL_GS_BASE + 4, true); return dv.getInt32(KERNEL_GS_BASE, true);
    case MSR_FS_BASE: c.resHi = r[segWord(FS, SEG_BASE) + 1]; return r[segWord(FS, SEG_BASE)];
    case MSR_GS_BASE: c.resHi = r[segWord(GS, SEG_BASE) + 1]; return r[segWord(GS, SEG_BASE)];
    default: throw gp0();
  }
}

/** PAT entries must hold memory types 0, 1, 4, 5, 6 or 7. */
function validPat(lo: number, hi: number): boolean {
  for (let k = 0; k < 8; k++) {
    const t = ((k < 4 ? lo : hi) >>> ((k & 3) * 8)) & 0xff;
    if (t === 2 || t === 3 || t > 7) return false;
  }
  return true;
}

/** WRMSR. */
export function wrmsr(c: Cpu, n: number, lo: number, hi: number): void {
  requireCpl0(c);
  n >>>= 0; lo |= 0; hi |= 0;
  const r = c.r32, dv = c.dv;
  const set = (off: number): void => { dv.setInt32(off, lo, true); dv.setInt32(off + 4, hi, true); };
  switch (n) {
    case MSR_TSC: writeTsc(c, lo, hi); return;
    case MSR_APIC_BASE: {
      // Bits 8 (BSP, read-only), 10 (x2APIC mode, where the APIC has one), 11 (enable), 12-38 base.
      const x2 = c.host.apic?.x2apic;
      if ((lo & 0x2ff) !== 0 || (!x2 && (lo & APIC_BASE_EXTD) !== 0) || (hi & ~0x7f) !== 0) throw gp0();
      const old = dv.getInt32(APIC_BASE, true);
      if (!apicModeChangeOk(old, lo)) throw gp0();
      dv.setInt32(APIC_BASE, (lo & ~0x100) | (old & 0x100), true);
      dv.setInt32(APIC_BASE + 4, hi, true);
      c.host.apic?.setHwEnabled((lo & APIC_BASE_ENABLE) !== 0);
      if (x2 && ((old ^ lo) & APIC_BASE_EXTD) !== 0) x2.setMode((lo & APIC_BASE_EXTD) !== 0);
      return;
    }
    case MSR_BIOS_SIGN_ID: return; // "load microcode revision": ignored
    case MSR_FEATURE_CONTROL: throw gp0(); // locked: writes fault until reset
    case MSR_DEBUGCTL: if (hi !== 0 || (lo & ~0xffff) !== 0) throw gp0(); return; // LBR/BTF/... accepted, not acted on
    case MSR_PAT: if (!validPat(lo, hi)) throw gp0(); set(PAT); return;
    case MSR_EFER: writeEfer(c, lo, hi); return;
    case MSR_LSTAR: if (!canonical(hi)) throw gp0(); set(LSTAR); return;
    case MSR_CSTAR: if (!canonical(hi)) throw gp0(); set(CSTAR); return;
    case MSR_KERNEL_GS_BASE: if (!canonical(hi)) throw gp0(); set(KERNEL_GS_BASE); return;
    case MSR_FS_BASE: case MSR_GS_BASE: {
      if (!canonical(hi)) throw gp0();
      const seg = n === MSR_FS_BASE ? FS : GS;
      r[segWord(seg, SEG_BASE)] = lo; r[segWord(seg, SEG_BASE) + 1] = hi;
      c.segChanged(seg);
      return;
    }
    case MSR_SYSENTER_ESP: case MSR_SYSENTER_EIP:
      if (!canonical(hi)) throw gp0();
      set(plainMsr(n));
      return;
    case MSR_MTRR_DEF_TYPE:
      if (hi !== 0 || (lo & ~0xcff) !== 0) throw gp0();
      set(MTRR_DEF_TYPE);
      return;
    case MSR_TSC_AUX:
      if (hi !== 0) throw gp0();
      set(TSC_AUX);
      return;
    case MSR_MCG_STATUS:
      if (lo !== 0 || hi !== 0) throw gp0();
      return;
    case MSR_TSC_DEADLINE: {
      set(TSC_DEADLINE);
      const apic = c.host.apic;
      if (apic) {
        // The APIC fires when the TSC reaches the value: TSC = now + tscOffset at 1 GHz.
        const t = (hi >>> 0) * TWO32 + (lo >>> 0);
        readTsc(c); // brings tscOffset up to date with an imported TSC field
        apic.writeTscDeadline(t, t - sysOf(c).tscOffset);
      }
      return;
    }
    default: {
      if (n >= X2APIC_FIRST && n <= X2APIC_LAST) {
        const x2 = x2apicOf(c);
        if (!x2 || !x2.write(n, lo, hi)) throw gp0();
        c.attention++; // a TPR, EOI or self-IPI write may make an interrupt deliverable: WRMSR ends the block, sample INTR at once
        return;
      }
      const plain = plainMsr(n);
      if (plain < 0) throw gp0();
      set(plain);
    }
  }
}

/** The APIC's x2APIC MSRs while IA32_APIC_BASE says x2APIC mode (EN and EXTD), else null. */
function x2apicOf(c: Cpu): X2apicHost | null {
  const x2 = c.host.apic?.x2apic;
  const base = c.dv.getInt32(APIC_BASE, true);
  return x2 && (base & (APIC_BASE_ENABLE | APIC_BASE_EXTD)) === (APIC_BASE_ENABLE | APIC_BASE_EXTD) ? x2 : null;
}

/**
 * The APIC mode transitions IA32_APIC_BASE allows (SDM 11.12.5, figure "Local x2APIC State
 * Transitions"): EXTD without EN, x2APIC straight back to xAPIC, and disabled straight to
 * x2APIC raise #GP; going through disabled (or from xAPIC up) is fine.
 */
function apicModeChangeOk(old: number, lo: number): boolean {
  const en = (lo & APIC_BASE_ENABLE) !== 0, x2 = (lo & APIC_BASE_EXTD) !== 0;
  const wasEn = (old & APIC_BASE_ENABLE) !== 0, wasX2 = (old & APIC_BASE_EXTD) !== 0;
  if (x2 && !en) return false;
  if (wasEn && wasX2 && en && !x2) return false;
  if (!wasEn && x2) return false;
  return true;
}

/** RDTSC (and the TSC part of RDTSCP): returns the low half, high half in c.resHi. */
export function rdtsc(c: Cpu): number {
  if ((c.r32[W.W_CR4] & CR4_TSD) !== 0 && c.cpl !== 0) throw gp0();
  const t = readTsc(c);
  c.resHi = Math.floor(t / TWO32) | 0;
  return (t % TWO32) | 0;
}

/** TSC_AUX (ECX of RDTSCP). */
export function tscAux(c: Cpu): number { return c.dv.getInt32(TSC_AUX, true); }

const out = new Int32Array(4);
const dyn: CpuidDynamic = { apicId: 0, apicEnabled: true, osxsave: false };
/** CPUID with EAX/ECX from the registers; results into EAX, EBX, ECX, EDX (upper halves cleared). */
export function execCpuid(c: Cpu): void {
  const r = c.r32;
  const apicLo = c.dv.getUint32(APIC_BASE, true);
  const topology = c.host.topology;
  dyn.apicId = topology ? topology.apicId : c.index; // the initial APIC ID
  dyn.topology = topology;
  dyn.apicEnabled = (apicLo & (1 << 11)) !== 0;
  dyn.osxsave = (r[W.W_CR4] & CR4_OSXSAVE) !== 0;
  const leaf = r[W.W_RAX];
  cpuid(leaf, r[W.W_RCX], dyn, out);
  // The TSC-deadline timer exists only where a local APIC is wired to take IA32_TSC_DEADLINE.
  if (leaf === 1 && c.host.apic) out[2] |= L1C_TSC_DEADLINE | (c.host.apic.x2apic ? L1C_X2APIC : 0);
  r[W.W_RAX] = out[0]; r[W.W_RAX + 1] = 0; // RAX
  r[W.W_RBX] = out[1]; r[W.W_RBX + 1] = 0; // RBX
  r[W.W_RCX] = out[2]; r[W.W_RCX + 1] = 0; // RCX
  r[W.W_RDX] = out[3]; r[W.W_RDX + 1] = 0; // RDX
}
