// Segmentation (Intel SDM Vol. 3A ch. 3 and 5): descriptor fetches from the
// GDT/LDT, segment-register loads with their null/type/privilege/present checks,
// the accessed bit, real/v8086-mode loads (unreal mode falls out of keeping the
// cached hidden part), LAR/LSL/VERR/VERW and ARPL.

import type { Cpu } from '../cpu.js';
import { segWord } from '../cpu.js';
import { ACC_READ, ACC_WRITE } from '../../mmu/tlb.js';
import {
  ATTR_DB, ATTR_G, ATTR_L, ATTR_P, ATTR_S, ATTR_UNUSABLE, CR0_PE, CS, DS, ES, FLAG_VM, FS, GS, LDTR,
  SEG_ATTR, SEG_BASE, SEG_LIMIT, SEG_SEL, SS, EFER, EFER_LMA,
} from '../state.js';
import { CpuFault, VEC_GP, VEC_NP, VEC_SS, VEC_TS } from '../fault.js';
import { W } from '../words.js';

/** Descriptor type nibbles (S=1: code/data; S=0: system). */
export const TYPE_ACCESSED = 1, TYPE_WRITABLE = 2, TYPE_READABLE = 2, TYPE_CONFORMING = 4, TYPE_CODE = 8;
export const SYS_TSS16_AVAIL = 1, SYS_LDT = 2, SYS_TSS16_BUSY = 3, SYS_CALLGATE16 = 4, SYS_TASKGATE = 5,
  SYS_INTGATE16 = 6, SYS_TRAPGATE16 = 7, SYS_TSS_AVAIL = 9, SYS_TSS_BUSY = 11, SYS_CALLGATE = 12,
  SYS_INTGATE = 14, SYS_TRAPGATE = 15;

const TWO32 = 4294967296;

/** The last descriptor fetched (no allocation per load). */
export const desc = {
  lo: 0, hi: 0,
  /** Linear address of the descriptor (for the accessed/busy bits). */
  addrLo: 0, addrHi: 0,
  /** Upper 8 bytes of a 16-byte system descriptor (long mode): base 63:32 in hi2lo. */
  hi2lo: 0, hi2hi: 0,
};

/** Packed attributes (state.ts layout) of a descriptor's high word. */
export function descAttr(hi: number): number {
  return ((hi >>> 8) & 0xff) | (((hi >>> 20) & 0xf) << 12);
}
export function descBase(lo: number, hi: number): number {
  return ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) | 0;
}
/** Byte-granular limit (G applied). */
export function descLimit(lo: number, hi: number): number {
  const l = (lo & 0xffff) | (hi & 0xf0000);
  return (hi & (1 << 23)) !== 0 ? ((l << 12) | 0xfff) : l;
}
export const descDpl = (hi: number): number => (hi >>> 13) & 3;
export const descType = (hi: number): number => (hi >>> 8) & 0xf;
export const descIsSystem = (hi: number): boolean => (hi & (1 << 12)) === 0;
export const descPresent = (hi: number): boolean => (hi & (1 << 15)) !== 0;

export const isLongMode = (c: Cpu): boolean => (c.dv.getUint32(EFER, true) & EFER_LMA) !== 0;
export const isProtected = (c: Cpu): boolean => (c.r32[W.W_CR0] & CR0_PE) !== 0;
export const isVm86 = (c: Cpu): boolean => isProtected(c) && (c.r32[0x88 / 4] & FLAG_VM) !== 0 && !isLongMode(c);

/** Add a small offset to a 64-bit linear base; result in addLo/addHi. */
let addHi = 0;
function add64(baseLo: number, baseHi: number, off: number): number {
  const sum = (baseLo >>> 0) + off;
  addHi = (baseHi + (sum >= TWO32 ? 1 : 0)) | 0;
  return sum | 0;
}

/**
 * Fetch the descriptor for `sel` from the GDT or LDT into `desc`. Returns false
 * if the selector's index is past the table limit (callers raise their own fault).
 * `wide` reads 16 bytes (long-mode system descriptors).
 */
export function fetchDescriptor(c: Cpu, sel: number, wide = false): boolean {
  const r = c.r32;
  let baseLo: number, baseHi: number, limit: number;
  if ((sel & 4) !== 0) {
    if ((r[segWord(LDTR, SEG_ATTR)] & ATTR_UNUSABLE) !== 0 || (r[segWord(LDTR, SEG_SEL)] & 0xfffc) === 0) return false;
    baseLo = r[segWord(LDTR, SEG_BASE)]; baseHi = r[segWord(LDTR, SEG_BASE) + 1];
    limit = r[segWord(LDTR, SEG_LIMIT)] >>> 0;
  } else {
    baseLo = r[W.W_GDTR_BASE]; baseHi = r[W.W_GDTR_BASE + 1];
    limit = r[W.W_GDTR_LIMIT] & 0xffff;
  }
  const off = sel & 0xfff8;
  if (off + (wide ? 15 : 7) > limit) return false;
  if (!isLongMode(c)) baseHi = 0;
  const lo = add64(baseLo, baseHi, off);
  const hi = addHi;
  desc.addrLo = lo; desc.addrHi = hi;
  desc.lo = c.readK(lo, hi, 4, ACC_READ);
  desc.hi = c.readK((lo + 4) | 0, hi, 4, ACC_READ);
  if (wide) {
    desc.hi2lo = c.readK((lo + 8) | 0, hi, 4, ACC_READ);
    desc.hi2hi = c.readK((lo + 12) | 0, hi, 4, ACC_READ);
  }
  return true;
}

/** Set the accessed bit of the descriptor in `desc` (a supervisor write). */
export function setAccessed(c: Cpu): void {
  if ((desc.hi & (TYPE_ACCESSED << 8)) !== 0) return;
  desc.hi |= TYPE_ACCESSED << 8;
  c.writeK((desc.addrLo + 5) | 0, desc.addrHi, 1, (desc.hi >>> 8) & 0xff, ACC_WRITE);
}

/** Write a segment register's visible and hidden parts. */
export function setSegment(c: Cpu, seg: number, sel: number, baseLo: number, baseHi: number, limit: number, attr: number): void {
  const r = c.r32;
  r[segWord(seg, SEG_SEL)] = sel & 0xffff;
  r[segWord(seg, SEG_BASE)] = baseLo;
  r[segWord(seg, SEG_BASE) + 1] = baseHi;
  r[segWord(seg, SEG_LIMIT)] = limit;
  r[segWord(seg, SEG_ATTR)] = attr;
  c.segChanged(seg); // the interpreter's cached limit bounds (cpu.segMax)
}

/** Load `seg` from the descriptor in `desc` with selector `sel`. */
export function setSegmentFromDesc(c: Cpu, seg: number, sel: number): void {
  setSegment(c, seg, sel, descBase(desc.lo, desc.hi), 0, descLimit(desc.lo, desc.hi), descAttr(desc.hi));
}

/** A null selector loaded in protected mode: unusable, base and limit cleared. */
export function setNullSegment(c: Cpu, seg: number, sel: number): void {
  setSegment(c, seg, sel, 0, 0, 0, ATTR_UNUSABLE);
}

/** Real-mode / v8086 load: base = selector * 16. Real mode keeps the cached limit and attributes (unreal mode). */
export function loadSegmentReal(c: Cpu, seg: number, sel: number, vm86: boolean): void {
  const r = c.r32;
  sel &= 0xffff;
  r[segWord(seg, SEG_SEL)] = sel;
  r[segWord(seg, SEG_BASE)] = sel << 4;
  r[segWord(seg, SEG_BASE) + 1] = 0;
  if (vm86) {
    r[segWord(seg, SEG_LIMIT)] = 0xffff;
    r[segWord(seg, SEG_ATTR)] = ATTR_P | ATTR_S | (3 << 5) | (seg === CS ? 0xb : 0x3);
  } else if (seg === CS) {
    // Far transfers in real mode give CS a present, accessed code segment; the limit is kept.
    r[segWord(seg, SEG_ATTR)] = (r[segWord(seg, SEG_ATTR)] & (ATTR_G | ATTR_DB)) | ATTR_P | ATTR_S | 0xb;
  } else {
    r[segWord(seg, SEG_ATTR)] = (r[segWord(seg, SEG_ATTR)] & ~(ATTR_UNUSABLE | (3 << 5))) | ATTR_P;
  }
}

const selErr = (sel: number): number => sel & 0xfffc;
const gp = (code: number): CpuFault => new CpuFault(VEC_GP, code, true);

/**
 * MOV/POP Sreg, LDS/LES/LFS/LGS/LSS: load a data or stack segment register
 * (SDM Vol. 2 MOV — Move to Segment Register). CS is loaded only by far transfers.
 */
export function loadSegment(c: Cpu, seg: number, sel: number): void {
  sel &= 0xffff;
  if (!isProtected(c)) { loadSegmentReal(c, seg, sel, false); after(c, seg); return; }
  if (isVm86(c)) { loadSegmentReal(c, seg, sel, true); after(c, seg); return; }
  const cpl = c.cpl;
  const rpl = sel & 3;
  if (seg === SS) {
    if ((sel & 0xfffc) === 0) {
      // 64-bit mode allows a null SS at CPL 0-2 when RPL = CPL.
      if (c.codeSize === 8 && cpl !== 3 && rpl === cpl) {
        setSegment(c, SS, sel, 0, 0, 0, ATTR_UNUSABLE | (cpl << 5) | ATTR_DB);
        after(c, seg);
        return;
      }
      throw gp(0);
    }
    if (!fetchDescriptor(c, sel)) throw gp(selErr(sel));
    const h = desc.hi, t = descType(h);
    if (rpl !== cpl || descIsSystem(h) || (t & TYPE_CODE) !== 0 || (t & TYPE_WRITABLE) === 0 || descDpl(h) !== cpl) {
      throw gp(selErr(sel));
    }
    if (!descPresent(h)) throw new CpuFault(VEC_SS, selErr(sel), true);
  } else {
    if ((sel & 0xfffc) === 0) { setNullSegment(c, seg, sel); after(c, seg); return; }
    if (!fetchDescriptor(c, sel)) throw gp(selErr(sel));
    const h = desc.hi, t = descType(h);
    if (descIsSystem(h) || ((t & TYPE_CODE) !== 0 && (t & TYPE_READABLE) === 0)) throw gp(selErr(sel));
    // Data and non-conforming code: both RPL and CPL must be <= DPL.
    if (((t & TYPE_CODE) === 0 || (t & TYPE_CONFORMING) === 0) && (rpl > descDpl(h) || cpl > descDpl(h))) {
      throw gp(selErr(sel));
    }
    if (!descPresent(h)) throw new CpuFault(VEC_NP, selErr(sel), true);
  }
  setAccessed(c);
  setSegmentFromDesc(c, seg, sel);
  after(c, seg);
}

function after(c: Cpu, seg: number): void {
  if (seg === CS || seg === SS) c.modeChanged(); else c.segChanged(seg);
}

/**
 * Check a code-segment descriptor (in `desc`) for a far transfer target and
 * load CS with it at privilege `newCpl`. Callers have done the privilege rules.
 */
export function loadCs(c: Cpu, sel: number, newCpl: number): void {
  setAccessed(c);
  setSegment(c, CS, (sel & 0xfffc) | newCpl, descBase(desc.lo, desc.hi), 0, descLimit(desc.lo, desc.hi), descAttr(desc.hi));
}

/**
 * Validate a new SS (selector `sel`) for a privilege change to `newCpl`
 * (inter-privilege CALL/interrupt via the TSS: errors are #TS; RET/IRET: #GP).
 * Leaves the descriptor in `desc`.
 */
export function checkStackSegment(c: Cpu, sel: number, newCpl: number, vector: number): void {
  const err = selErr(sel);
  if ((sel & 0xfffc) === 0) throw new CpuFault(vector, vector === VEC_TS ? err : 0, true);
  if (!fetchDescriptor(c, sel)) throw new CpuFault(vector, err, true);
  const h = desc.hi, t = descType(h);
  if ((sel & 3) !== newCpl || descDpl(h) !== newCpl || descIsSystem(h) || (t & TYPE_CODE) !== 0 || (t & TYPE_WRITABLE) === 0) {
    throw new CpuFault(vector, err, true);
  }
  if (!descPresent(h)) throw new CpuFault(vector === VEC_TS ? VEC_SS : VEC_SS, err, true);
}

/** After a return to an outer privilege level: null data segments the new CPL may not use (SDM RET/IRET). */
export function nullInaccessibleSegments(c: Cpu, newCpl: number): void {
  const r = c.r32;
  for (const seg of [ES, DS, FS, GS]) {
    const attr = r[segWord(seg, SEG_ATTR)];
    if ((attr & ATTR_UNUSABLE) !== 0) continue;
    const t = attr & 0xf, dpl = (attr >> 5) & 3;
    const dataOrNonConforming = (t & TYPE_CODE) === 0 || (t & TYPE_CONFORMING) === 0;
    if (dataOrNonConforming && dpl < newCpl) {
      // Intel keeps the selector visible but marks the register unusable... and clears it to null.
      setNullSegment(c, seg, 0);
    }
  }
}

// ---- LAR / LSL / VERR / VERW (ZF reports success; no fault for a bad selector).

/** Valid system types for LAR (LSL excludes gates). */
const LAR_SYS_OK = [false, true, true, true, true, true, false, false, false, true, false, true, true, false, false, false];
const LAR_SYS_OK_LONG = [false, false, true, false, false, false, false, false, false, true, false, true, true, false, false, false];
const LSL_SYS_OK = [false, true, true, true, false, false, false, false, false, true, false, true, false, false, false, false];
const LSL_SYS_OK_LONG = [false, false, true, false, false, false, false, false, false, true, false, true, false, false, false, false];

/** Common visibility rule: descriptor in `desc` visible at CPL with selector RPL (conforming code always). */
function visible(c: Cpu, sel: number): boolean {
  const h = desc.hi, t = descType(h);
  if (!descIsSystem(h) && (t & (TYPE_CODE | TYPE_CONFORMING)) === (TYPE_CODE | TYPE_CONFORMING)) return true;
  const dpl = descDpl(h);
  return c.cpl <= dpl && (sel & 3) <= dpl;
}

/** LAR: the access-rights dword (high word & 0x00ffff00) or -1 if ZF must be cleared. */
export function lar(c: Cpu, sel: number): number {
  if ((sel & 0xfffc) === 0 || !fetchDescriptor(c, sel)) return -1;
  const h = desc.hi;
  if (descIsSystem(h) && !(isLongMode(c) ? LAR_SYS_OK_LONG : LAR_SYS_OK)[descType(h)]) return -1;
  if (!visible(c, sel)) return -1;
  return h & 0x00ffff00; // bits 19:16 are the limit bits, as hardware returns them
}

/** LSL: the byte-granular limit, or -1 (as a JS number, distinct from 0xffffffff) if ZF must be cleared. */
export function lsl(c: Cpu, sel: number): number {
  if ((sel & 0xfffc) === 0 || !fetchDescriptor(c, sel)) return -1;
  const h = desc.hi;
  if (descIsSystem(h) && !(isLongMode(c) ? LSL_SYS_OK_LONG : LSL_SYS_OK)[descType(h)]) return -1;
  if (!visible(c, sel)) return -1;
  return descLimit(desc.lo, h) >>> 0;
}

/** VERR / VERW: is the segment readable / writable from here. */
export function verify(c: Cpu, sel: number, write: boolean): boolean {
  if ((sel & 0xfffc) === 0 || !fetchDescriptor(c, sel)) return false;
  const h = desc.hi, t = descType(h);
  if (descIsSystem(h)) return false;
  if (write) {
    if ((t & TYPE_CODE) !== 0 || (t & TYPE_WRITABLE) === 0) return false;
  } else if ((t & TYPE_CODE) !== 0 && (t & TYPE_READABLE) === 0) return false;
  return visible(c, sel);
}

/** True if CS is a 64-bit code segment (L=1). */
export const csIs64 = (c: Cpu): boolean => (c.r32[segWord(CS, SEG_ATTR)] & ATTR_L) !== 0;
