// Control registers, debug registers, descriptor-table registers and mode
// switching (SDM Vol. 3A 2.5, 9.8-9.9; Vol. 2 MOV CRn/DRn, LGDT, LLDT, LTR,
// LMSW, CLTS, INVLPG): the checks, EFER.LMA activation, PDPTE loads, and the
// TLB flush each write implies.

import type { Cpu } from '../cpu.js';
import { segWord } from '../cpu.js';
import { ACC_WRITE } from '../../mmu/tlb.js';
import { MAXPHYADDR } from '../../mmu/paging.js';
import {
  ATTR_L, CR0, CR0_CD, CR0_EM, CR0_ET, CR0_MP, CR0_NE, CR0_NW, CR0_PE, CR0_PG, CR0_TS, CR0_WP,
  CR0_AM, CR2, CR3, CR4, CR4_DE, CR4_MCE, CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_OSXSAVE, CR4_PAE, CR4_PCE, CR4_PGE,
  CR4_FSGSBASE, CR4_PSE, CR4_SMEP, CR4_TSD, CR4_UMIP, CR8, CS, DR0, DR6, DR7, EFER, EFER_LMA, EFER_LME, EFER_NXE, EFER_SCE, GDTR_BASE,
  GDTR_LIMIT, IDTR_BASE, IDTR_LIMIT, LDTR, SEG_ATTR, SEG_SEL, TR,
} from '../state.js';
import { LEAF1_ECX, L1C_XSAVE } from '../cpuid.js';
import { CpuFault, VEC_DB, VEC_GP, VEC_NP, VEC_UD } from '../fault.js';
import { DR6_BD, DR7_GD, reportDebug } from './debug.js';
import {
  desc, descBase, descIsSystem, descPresent, descType, fetchDescriptor, isLongMode, setNullSegment, setSegment,
  descLimit, descAttr, SYS_LDT, SYS_TSS16_AVAIL, SYS_TSS_AVAIL,
} from './segments.js';
import { sysOf } from './context.js';

const gp0 = (): CpuFault => new CpuFault(VEC_GP, 0, true);
const ud = (): CpuFault => new CpuFault(VEC_UD);

/** CR0 bits that exist (the rest of 31:0 is ignored on write, ET reads as 1). */
const CR0_DEFINED = CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD | CR0_PG;
/** CR4 bits this CPU accepts; anything else is #GP. */
export const CR4_SUPPORTED = CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE | CR4_OSFXSR |
  CR4_OSXMMEXCPT | CR4_SMEP | CR4_FSGSBASE | CR4_UMIP | ((LEAF1_ECX & L1C_XSAVE) !== 0 ? CR4_OSXSAVE : 0);

/** SGDT/SIDT/SLDT/SMSW/STR: with CR4.UMIP only CPL 0 may read descriptor-table and MSW state. */
export function checkUmip(c: Cpu): void {
  if ((c.r32[w(CR4)] & CR4_UMIP) !== 0 && c.cpl > 0) throw gp0();
}
export const EFER_SUPPORTED = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;

const w = (off: number): number => off / 4;

/** Privileged instruction check: CPL 0 (real mode counts as 0, v8086 as 3). */
export function requireCpl0(c: Cpu): void {
  if (c.cpl !== 0) throw gp0();
}

/** Push CR0/CR3/CR4/EFER into the page walker (after any of them changed). */
export function syncPaging(c: Cpu): void {
  const r = c.r32;
  const mmu = sysOf(c).mmu;
  mmu.setControl(r[w(CR0)], r[w(CR4)], r[w(EFER)]);
}

/** MOV CR0 / LMSW / CLTS: write CR0 with every architectural check (value is the low 32 bits). */
export function writeCr0(c: Cpu, v: number, vHi = 0): void {
  const r = c.r32;
  if (vHi !== 0) throw gp0();
  v = (v & CR0_DEFINED) | CR0_ET;
  const old = r[w(CR0)];
  if ((v & CR0_PG) !== 0 && (v & CR0_PE) === 0) throw gp0();
  if ((v & CR0_NW) !== 0 && (v & CR0_CD) === 0) throw gp0();
  let efer = r[w(EFER)];
  const pgOn = (v & CR0_PG) !== 0 && (old & CR0_PG) === 0;
  const pgOff = (v & CR0_PG) === 0 && (old & CR0_PG) !== 0;
  if (pgOn && (efer & EFER_LME) !== 0) {
    // IA-32e activation (SDM 9.8.5): PAE required, not from a 64-bit code segment.
    if ((r[w(CR4)] & CR4_PAE) === 0) throw gp0();
    if ((r[segWord(CS, SEG_ATTR)] & ATTR_L) !== 0) throw gp0();
    efer |= EFER_LMA;
  }
  if (pgOff && (efer & EFER_LMA) !== 0) {
    if (c.codeSize === 8) throw gp0(); // must leave 64-bit mode first
    efer &= ~EFER_LMA;
  }
  const mmu = sysOf(c).mmu;
  if ((v & CR0_PG) !== 0 && (efer & EFER_LMA) === 0 && (r[w(CR4)] & CR4_PAE) !== 0 && pgOn) {
    // Entering PAE paging loads the PDPTEs; a bad one faults the MOV.
    mmu.setControl(v, r[w(CR4)], efer);
    mmu.setCr3(r[w(CR3)], 0);
    if (!mmu.loadPdptes()) { syncPaging(c); throw gp0(); }
  }
  r[w(CR0)] = v; r[w(CR0) + 1] = 0;
  r[w(EFER)] = efer;
  syncPaging(c);
  if (((old ^ v) & (CR0_PG | CR0_WP | CR0_PE)) !== 0) c.flushTlb(true);
  c.modeChanged();
}

/** MOV CR3. */
export function writeCr3(c: Cpu, lo: number, hi: number): void {
  const r = c.r32;
  if (isLongMode(c)) {
    if ((hi & ~((1 << (MAXPHYADDR - 32)) - 1)) !== 0) throw gp0();
  } else hi = 0;
  const mmu = sysOf(c).mmu;
  if (!mmu.setCr3(lo, hi)) {
    mmu.setCr3(r[w(CR3)], r[w(CR3) + 1]);
    throw gp0();
  }
  r[w(CR3)] = lo; r[w(CR3) + 1] = hi;
  c.flushTlb(false);
}

/** MOV CR4. */
export function writeCr4(c: Cpu, v: number, vHi = 0): void {
  const r = c.r32;
  if (vHi !== 0 || (v & ~CR4_SUPPORTED) !== 0) throw gp0();
  const old = r[w(CR4)];
  if ((old & CR4_PAE) !== 0 && (v & CR4_PAE) === 0 && isLongMode(c)) throw gp0();
  const mmu = sysOf(c).mmu;
  const changed = old ^ v;
  r[w(CR4)] = v; r[w(CR4) + 1] = 0;
  syncPaging(c);
  if ((changed & (CR4_PAE | CR4_PSE | CR4_PGE | CR4_SMEP)) !== 0) {
    if ((r[w(CR0)] & CR0_PG) !== 0 && !isLongMode(c) && (v & CR4_PAE) !== 0) {
      mmu.setCr3(r[w(CR3)], 0);
      if (!mmu.loadPdptes()) { r[w(CR4)] = old; syncPaging(c); throw gp0(); }
    }
    c.flushTlb(true);
  }
  c.modeChanged();
}

/** MOV to CRn (n from ModRM.reg; REX.R extends to CR8). */
export function movToCr(c: Cpu, n: number, lo: number, hi: number): void {
  requireCpl0(c);
  const r = c.r32;
  switch (n) {
    case 0: writeCr0(c, lo, hi); break;
    case 2: r[w(CR2)] = lo; r[w(CR2) + 1] = hi; break;
    case 3: writeCr3(c, lo, hi); break;
    case 4: writeCr4(c, lo, hi); break;
    case 8:
      if (hi !== 0 || (lo & ~0xf) !== 0) throw gp0();
      r[w(CR8)] = lo; r[w(CR8) + 1] = 0;
      c.host.apic?.writeCr8(lo); // CR8 is the local APIC's TPR[7:4]
      c.attention++; // a lower TPR may unblock a pending interrupt: the run loop samples INTR at once
      break;
    default: throw ud();
  }
}

/** MOV from CRn: returns the low half, high half in c.resHi. */
export function movFromCr(c: Cpu, n: number): number {
  requireCpl0(c);
  const off = n === 0 ? CR0 : n === 2 ? CR2 : n === 3 ? CR3 : n === 4 ? CR4 : n === 8 ? CR8 : -1;
  if (off < 0) throw ud();
  const apic = c.host.apic;
  if (n === 8 && apic) { // TPR writes through the APIC page show in CR8
    const v = apic.readCr8();
    c.r32[w(CR8)] = v; c.resHi = 0;
    return v;
  }
  c.resHi = c.r32[w(off) + 1];
  return c.r32[w(off)];
}

/** Debug-register offset for DRn, applying the DR4/DR5 aliases (#UD with CR4.DE). */
function drOffset(c: Cpu, n: number): number {
  if (n === 4 || n === 5) {
    if ((c.r32[w(CR4)] & CR4_DE) !== 0) throw ud();
    n += 2;
  }
  if (n > 7) throw ud();
  return n < 4 ? DR0 + n * 8 : n === 6 ? DR6 : DR7;
}

/**
 * DR7.GD (general detect, SDM 18.2.4): any MOV to or from a debug register
 * raises a fault-class #DB before it executes, with DR6.BD set; the CPU clears
 * GD so the handler itself can use the debug registers.
 */
function generalDetect(c: Cpu): void {
  const r = c.r32;
  if ((r[w(DR7)] & DR7_GD) === 0) return;
  reportDebug(c, 0, DR6_BD);
  r[w(DR7)] &= ~DR7_GD;
  throw new CpuFault(VEC_DB);
}

/**
 * MOV DRn. The interpreter's run loop re-reads DR0-DR3/DR7 when `attention`
 * changes and arms the breakpoints (cpu/system/debug.ts).
 */
export function movToDr(c: Cpu, n: number, lo: number, hi: number): void {
  requireCpl0(c);
  const off = drOffset(c, n);
  generalDetect(c);
  if ((off === DR6 || off === DR7) && hi !== 0) throw gp0();
  if (off === DR6) lo = (lo | 0xffff0ff0) & ~0x1000;
  else if (off === DR7) lo = (lo | 0x400) & ~0xd800;
  if (c.codeSize !== 8) hi = 0;
  c.r32[w(off)] = lo; c.r32[w(off) + 1] = hi;
  c.attention++;
}

export function movFromDr(c: Cpu, n: number): number {
  requireCpl0(c);
  const off = drOffset(c, n);
  generalDetect(c);
  c.resHi = c.r32[w(off) + 1];
  return c.r32[w(off)];
}

/** CLTS. */
export function clts(c: Cpu): void {
  requireCpl0(c);
  c.r32[w(CR0)] &= ~CR0_TS;
}

/** LMSW: loads PE, MP, EM, TS; cannot clear PE. */
export function lmsw(c: Cpu, v: number): void {
  requireCpl0(c);
  const old = c.r32[w(CR0)];
  const nv = (old & ~(CR0_MP | CR0_EM | CR0_TS)) | (v & (CR0_PE | CR0_MP | CR0_EM | CR0_TS));
  writeCr0(c, nv);
}

/** SMSW: the low bits of CR0 (callers truncate to the operand size). */
export function smsw(c: Cpu): number {
  checkUmip(c);
  return c.r32[w(CR0)];
}

// ---- Descriptor-table registers.

/**
 * LGDT/LIDT from a memory operand at lo:hi: limit (2 bytes) then base (4 bytes;
 * 24 bits with a 16-bit operand size; 8 bytes in 64-bit mode).
 */
export function loadDtr(c: Cpu, idt: boolean, lo: number, hi: number, opSize: number): void {
  requireCpl0(c);
  const limit = c.readK(lo, hi, 2, c.cpl === 3 ? 2 : 0) & 0xffff;
  const a = (lo + 2) | 0;
  let base = c.readK(a, hi, 4, 0), baseHi = 0;
  if (c.codeSize === 8) {
    baseHi = c.readK((a + 4) | 0, hi, 4, 0);
    if (((baseHi << 16) >> 16) !== baseHi) throw gp0();
  } else if (opSize === 2) base &= 0xffffff;
  const r = c.r32;
  const b = idt ? IDTR_BASE : GDTR_BASE, l = idt ? IDTR_LIMIT : GDTR_LIMIT;
  r[w(b)] = base; r[w(b) + 1] = baseHi; r[w(l)] = limit;
}

/** SGDT/SIDT to memory at lo:hi (10 bytes in 64-bit mode, else 6). */
export function storeDtr(c: Cpu, idt: boolean, lo: number, hi: number): void {
  checkUmip(c);
  const r = c.r32;
  const b = idt ? IDTR_BASE : GDTR_BASE, l = idt ? IDTR_LIMIT : GDTR_LIMIT;
  const kind = (c.cpl === 3 ? 2 : 0) | ACC_WRITE;
  // Check every byte is writable before storing any.
  c.translate(lo, hi, kind);
  c.translate((lo + (c.codeSize === 8 ? 9 : 5)) | 0, hi, kind);
  c.writeK(lo, hi, 2, r[w(l)] & 0xffff, kind);
  c.writeK((lo + 2) | 0, hi, 4, r[w(b)], kind);
  if (c.codeSize === 8) c.writeK((lo + 6) | 0, hi, 4, r[w(b) + 1], kind);
}

/** Protected mode only (LLDT, LTR, SLDT, STR, LAR, LSL, VERR, VERW): #UD in real and v8086 mode. */
export function requireProtected(c: Cpu): void {
  if ((c.r32[w(CR0)] & CR0_PE) === 0 || c.mode === 2 /* MODE_VM86 */) throw ud();
}

/** LLDT. */
export function lldt(c: Cpu, sel: number): void {
  requireProtected(c);
  requireCpl0(c);
  sel &= 0xffff;
  if ((sel & 0xfffc) === 0) { setNullSegment(c, LDTR, sel); return; }
  const long = isLongMode(c);
  if ((sel & 4) !== 0 || !fetchDescriptor(c, sel, long)) throw new CpuFault(VEC_GP, sel & 0xfffc, true);
  if (!descIsSystem(desc.hi) || descType(desc.hi) !== SYS_LDT) throw new CpuFault(VEC_GP, sel & 0xfffc, true);
  if (!descPresent(desc.hi)) throw new CpuFault(VEC_NP, sel & 0xfffc, true);
  const baseHi = long ? desc.hi2lo : 0;
  if (long && ((baseHi << 16) >> 16) !== baseHi) throw new CpuFault(VEC_GP, sel & 0xfffc, true);
  setSegment(c, LDTR, sel, descBase(desc.lo, desc.hi), baseHi, descLimit(desc.lo, desc.hi), descAttr(desc.hi));
}

/** LTR: load an available TSS and mark it busy. */
export function ltr(c: Cpu, sel: number): void {
  requireProtected(c);
  requireCpl0(c);
  sel &= 0xffff;
  if ((sel & 0xfffc) === 0) throw gp0();
  const long = isLongMode(c);
  if ((sel & 4) !== 0 || !fetchDescriptor(c, sel, long)) throw new CpuFault(VEC_GP, sel & 0xfffc, true);
  const t = descType(desc.hi);
  if (!descIsSystem(desc.hi) || !(t === SYS_TSS_AVAIL || (!long && t === SYS_TSS16_AVAIL))) {
    throw new CpuFault(VEC_GP, sel & 0xfffc, true);
  }
  if (!descPresent(desc.hi)) throw new CpuFault(VEC_NP, sel & 0xfffc, true);
  const baseHi = long ? desc.hi2lo : 0;
  if (long && ((baseHi << 16) >> 16) !== baseHi) throw new CpuFault(VEC_GP, sel & 0xfffc, true);
  desc.hi |= 2 << 8; // busy
  c.writeK((desc.addrLo + 5) | 0, desc.addrHi, 1, (desc.hi >>> 8) & 0xff, ACC_WRITE);
  setSegment(c, TR, sel, descBase(desc.lo, desc.hi), baseHi, descLimit(desc.lo, desc.hi), descAttr(desc.hi));
}

/** SLDT / STR: the selector. */
export function sldt(c: Cpu): number { requireProtected(c); checkUmip(c); return c.r32[segWord(LDTR, SEG_SEL)] & 0xffff; }
export function str(c: Cpu): number { requireProtected(c); checkUmip(c); return c.r32[segWord(TR, SEG_SEL)] & 0xffff; }

/** INVLPG. */
export function invlpg(c: Cpu, lo: number, hi: number): void {
  requireCpl0(c);
  if (((hi << 16) >> 16) !== hi) return; // non-canonical: no page to invalidate, and no fault
  c.invlpg(lo, hi);
}

/** WBINVD / INVD: privileged; there are no caches to write back. */
export function wbinvd(c: Cpu): void { requireCpl0(c); }

/** WRMSR EFER (SDM 2.2.1): LME may not change while paging is on; LMA is read-only. */
export function writeEfer(c: Cpu, v: number, hi: number): void {
  const r = c.r32;
  if (hi !== 0 || (v & ~EFER_SUPPORTED) !== 0) throw gp0();
  const old = r[w(EFER)];
  if ((r[w(CR0)] & CR0_PG) !== 0 && ((old ^ v) & EFER_LME) !== 0) throw gp0();
  v = (v & ~EFER_LMA) | (old & EFER_LMA);
  r[w(EFER)] = v; r[w(EFER) + 1] = 0;
  syncPaging(c);
  if (((old ^ v) & EFER_NXE) !== 0) c.flushTlb(true);
  c.modeChanged();
}


