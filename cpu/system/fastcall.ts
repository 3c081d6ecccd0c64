// Fast system calls (SDM Vol. 2: SYSCALL, SYSRET, SYSENTER, SYSEXIT, SWAPGS):
// flat CS/SS loaded from STAR / SYSENTER_CS without descriptor fetches, as the
// hardware does. As on Intel CPUs, SYSCALL/SYSRET exist only in 64-bit mode.

import type { Cpu } from '../cpu.js';
import { segWord } from '../cpu.js';
import {
  ATTR_DB, ATTR_G, ATTR_L, ATTR_P, ATTR_S, CR4, CR4_FSGSBASE, CSTAR, CS, EFER, EFER_LMA, EFER_SCE, FLAG_IF,
  FLAG_RF, FLAG_VM, FS, GS, KERNEL_GS_BASE, LSTAR, SEG_BASE, SFMASK, SS, STAR, SYSENTER_CS, SYSENTER_EIP, SYSENTER_ESP,
} from '../state.js';
import { CpuFault, VEC_GP, VEC_UD } from '../fault.js';
import { isProtected, setSegment } from './segments.js';
import { W } from '../words.js';

const gp0 = (): CpuFault => new CpuFault(VEC_GP, 0, true);
const ud = (): CpuFault => new CpuFault(VEC_UD);

/** Flat 4 GiB code: type 0xB (execute/read, accessed), S, P, G, DPL; L or D as asked. */
function flatCode(dpl: number, long: boolean): number {
  return 0xb | ATTR_S | (dpl << 5) | ATTR_P | ATTR_G | (long ? ATTR_L : ATTR_DB);
}
/** Flat 4 GiB data: type 3 (read/write, accessed), B set. */
function flatData(dpl: number): number {
  return 0x3 | ATTR_S | (dpl << 5) | ATTR_P | ATTR_G | ATTR_DB;
}

/** SYSCALL; RIP holds the next instruction. */
export function syscall(c: Cpu): void {
  const r = c.r32, dv = c.dv;
  const efer = dv.getUint32(EFER, true);
  if ((efer & EFER_SCE) === 0 || c.codeSize !== 8) throw ud();
  const sel = dv.getUint16(STAR + 4, true) & 0xfffc;
  r[W.W_RCX] = r[W.W_RIP]; r[W.W_RCX + 1] = r[W.W_RIP + 1];
  const flags = c.getRflags();
  r[W.W_R11] = flags & ~FLAG_RF; r[W.W_R11 + 1] = 0;
  const target = (efer & EFER_LMA) !== 0 && c.codeSize === 8 ? LSTAR : CSTAR;
  r[W.W_RIP] = dv.getInt32(target, true); r[W.W_RIP + 1] = dv.getInt32(target + 4, true);
  setSegment(c, CS, sel, 0, 0, 0xffffffff, flatCode(0, true));
  setSegment(c, SS, (sel + 8) & 0xfffc, 0, 0, 0xffffffff, flatData(0));
  c.setRflags(flags & ~dv.getInt32(SFMASK, true) & ~FLAG_RF);
  c.modeChanged();
}

/** SYSRET (REX.W = opSize 8: return to 64-bit mode; else to compatibility mode). */
export function sysret(c: Cpu, opSize: number): void {
  const r = c.r32, dv = c.dv;
  if ((dv.getUint32(EFER, true) & EFER_SCE) === 0 || c.codeSize !== 8) throw ud();
  if (c.cpl !== 0) throw gp0();
  const base = dv.getUint16(STAR + 6, true);
  if (opSize === 8) {
    const hi = r[W.W_RCX + 1];
    if (((hi << 16) >> 16) !== hi) throw gp0();
    setSegment(c, CS, ((base + 16) & 0xfffc) | 3, 0, 0, 0xffffffff, flatCode(3, true));
    r[W.W_RIP] = r[W.W_RCX]; r[W.W_RIP + 1] = hi;
  } else {
    setSegment(c, CS, (base & 0xfffc) | 3, 0, 0, 0xffffffff, flatCode(3, false));
    r[W.W_RIP] = r[W.W_RCX]; r[W.W_RIP + 1] = 0;
  }
  // SS.selector = STAR[63:48] + 8 with RPL 3; its descriptor caches are fixed (SDM SYSRET).
  setSegment(c, SS, ((base + 8) & 0xfffc) | 3, 0, 0, 0xffffffff, flatData(3));
  c.setRflags((r[W.W_R11] & 0x3c7fd7) | 2);
  c.modeChanged();
}

/** SYSENTER. */
export function sysenter(c: Cpu): void {
  const r = c.r32, dv = c.dv;
  const cs = dv.getUint16(SYSENTER_CS, true);
  if (!isProtected(c) || (cs & 0xfffc) === 0) throw gp0();
  const long = (dv.getUint32(EFER, true) & EFER_LMA) !== 0;
  c.setRflags(c.getRflags() & ~(FLAG_VM | FLAG_IF | FLAG_RF));
  setSegment(c, CS, cs & 0xfffc, 0, 0, 0xffffffff, flatCode(0, long));
  setSegment(c, SS, (cs + 8) & 0xfffc, 0, 0, 0xffffffff, flatData(0));
  r[W.W_RIP] = dv.getInt32(SYSENTER_EIP, true); r[W.W_RIP + 1] = long ? dv.getInt32(SYSENTER_EIP + 4, true) : 0;
  r[W.W_RSP] = dv.getInt32(SYSENTER_ESP, true); r[W.W_RSP + 1] = long ? dv.getInt32(SYSENTER_ESP + 4, true) : 0;
  c.modeChanged();
}

/** SYSEXIT (REX.W: return to 64-bit mode). */
export function sysexit(c: Cpu, opSize: number): void {
  const r = c.r32, dv = c.dv;
  const cs = dv.getUint16(SYSENTER_CS, true);
  if (!isProtected(c) || c.mode === 2 || c.cpl !== 0 || (cs & 0xfffc) === 0) throw gp0();
  if (opSize === 8) {
    const ripHi = r[W.W_RDX + 1], rspHi = r[W.W_RCX + 1];
    if (((ripHi << 16) >> 16) !== ripHi || ((rspHi << 16) >> 16) !== rspHi) throw gp0();
    setSegment(c, CS, ((cs + 32) & 0xfffc) | 3, 0, 0, 0xffffffff, flatCode(3, true));
    setSegment(c, SS, ((cs + 40) & 0xfffc) | 3, 0, 0, 0xffffffff, flatData(3));
    r[W.W_RIP] = r[W.W_RDX]; r[W.W_RIP + 1] = ripHi;
    r[W.W_RSP] = r[W.W_RCX]; r[W.W_RSP + 1] = rspHi;
  } else {
    setSegment(c, CS, ((cs + 16) & 0xfffc) | 3, 0, 0, 0xffffffff, flatCode(3, false));
    setSegment(c, SS, ((cs + 24) & 0xfffc) | 3, 0, 0, 0xffffffff, flatData(3));
    r[W.W_RIP] = r[W.W_RDX]; r[W.W_RIP + 1] = 0;
    r[W.W_RSP] = r[W.W_RCX]; r[W.W_RSP + 1] = 0;
  }
  c.modeChanged();
}

/** SWAPGS: exchange GS.base with IA32_KERNEL_GS_BASE (64-bit mode, CPL 0). */
export function swapgs(c: Cpu): void {
  if (c.codeSize !== 8) throw ud();
  if (c.cpl !== 0) throw gp0();
  const r = c.r32, dv = c.dv;
  const w = segWord(GS, SEG_BASE);
  const lo = r[w], hi = r[w + 1];
  r[w] = dv.getInt32(KERNEL_GS_BASE, true); r[w + 1] = dv.getInt32(KERNEL_GS_BASE + 4, true);
  dv.setInt32(KERNEL_GS_BASE, lo, true); dv.setInt32(KERNEL_GS_BASE + 4, hi, true);
  c.segChanged(GS);
}

/** RDFSBASE/RDGSBASE/WRFSBASE/WRGSBASE: 64-bit mode with CR4.FSGSBASE, any CPL. */
function checkFsgsbase(c: Cpu): void {
  if (c.codeSize !== 8 || (c.r32[W.W_CR4] & CR4_FSGSBASE) === 0) throw ud();
}

/** RDFSBASE/RDGSBASE into GPR word index `w` (opSize 4 zero-extends the low half). */
export function rdSegBase(c: Cpu, gs: boolean, w: number, opSize: number): void {
  checkFsgsbase(c);
  const r = c.r32, b = segWord(gs ? GS : FS, SEG_BASE);
  r[w] = r[b]; r[w + 1] = opSize === 8 ? r[b + 1] : 0;
}

/** WRFSBASE/WRGSBASE from GPR word index `w`; a non-canonical 64-bit value is #GP(0). */
export function wrSegBase(c: Cpu, gs: boolean, w: number, opSize: number): void {
  checkFsgsbase(c);
  const r = c.r32, seg = gs ? GS : FS, b = segWord(seg, SEG_BASE);
  const hi = opSize === 8 ? r[w + 1] : 0;
  if (((hi << 16) >> 16) !== hi) throw gp0();
  r[b] = r[w]; r[b + 1] = hi;
  c.segChanged(seg);
}
