// IOPL-sensitive operations (SDM Vol. 1 18.5, Vol. 3A 20.2): the I/O permission
// check (IOPL, then the TSS I/O bitmap), CLI/STI with the STI interrupt shadow,
// PUSHF/POPF under IOPL and privilege rules. CR4.VME/PVI are not implemented (and
// not advertised), so v8086 mode with IOPL < 3 faults as on a CPU without VME.

import type { Cpu } from '../cpu.js';
import { segWord } from '../cpu.js';
import { ACC_READ } from '../../mmu/tlb.js';
import {
  FLAG_AC, FLAG_ID, FLAG_IF, FLAG_IOPL, FLAG_NT, FLAG_RF, FLAG_VM, SEG_ATTR, SEG_BASE, SEG_LIMIT, SHADOW_STI,
  TR,
} from '../state.js';
import { CpuFault, VEC_GP } from '../fault.js';
import { isProtected } from './segments.js';
import { W } from '../words.js';

const gp0 = (): CpuFault => new CpuFault(VEC_GP, 0, true);
const iopl = (c: Cpu): number => (c.getRflags() & FLAG_IOPL) >>> 12;

/** True if CPL > IOPL or v8086 mode: the TSS I/O bitmap decides. */
function ioNeedsBitmap(c: Cpu): boolean {
  if (!isProtected(c)) return false;
  return c.mode === 2 || c.cpl > iopl(c);
}

/** IN/OUT/INS/OUTS: #GP(0) unless IOPL allows or every bit for port..port+size-1 in the TSS bitmap is 0. */
export function checkIo(c: Cpu, port: number, size: number): void {
  if (!ioNeedsBitmap(c)) return;
  const r = c.r32;
  const type = r[segWord(TR, SEG_ATTR)] & 0xf;
  if (type !== 9 && type !== 11) throw gp0(); // only a 32/64-bit TSS has a bitmap
  const limit = r[segWord(TR, SEG_LIMIT)] >>> 0;
  if (limit < 103) throw gp0();
  const base = r[segWord(TR, SEG_BASE)], baseHi = r[segWord(TR, SEG_BASE) + 1];
  const mapBase = c.readK((base + 102) | 0, baseHi, 2, ACC_READ) & 0xffff;
  const off = mapBase + (port >>> 3);
  if (off + 1 > limit) throw gp0();
  const bits = c.readK((base + off) | 0, baseHi, 2, ACC_READ) & 0xffff;
  const mask = ((1 << size) - 1) << (port & 7);
  if ((bits & mask) !== 0) throw gp0();
}

/** CLI. */
export function cli(c: Cpu): void {
  if (isProtected(c) && iopl(c) < (c.mode === 2 ? 3 : c.cpl)) throw gp0();
  c.setRflags(c.getRflags() & ~FLAG_IF);
}

/** STI: interrupts stay blocked until after the next instruction if IF was clear. */
export function sti(c: Cpu): void {
  if (isProtected(c) && iopl(c) < (c.mode === 2 ? 3 : c.cpl)) throw gp0();
  const f = c.getRflags();
  if ((f & FLAG_IF) === 0) c.r32[W.W_SHADOW] |= SHADOW_STI;
  c.setRflags(f | FLAG_IF);
}

/** PUSHF value for the operand size (VM and RF read as 0 in the image). */
export function pushfValue(c: Cpu): number {
  if (c.mode === 2 && iopl(c) < 3) throw gp0();
  return c.getRflags() & ~(FLAG_VM | FLAG_RF);
}

/**
 * POPF: merge `v` into RFLAGS (SDM POPF operation): VM, RF, VIP, VIF never change;
 * IOPL only at CPL 0; IF only when CPL <= IOPL; a 16-bit POPF touches bits 15:0.
 */
export function popf(c: Cpu, v: number, opSize: number): void {
  const old = c.getRflags();
  const pl = (old & FLAG_IOPL) >>> 12;
  let mask = 0x0dd5 | FLAG_NT | FLAG_AC | FLAG_ID | FLAG_IF | FLAG_IOPL | 0x100 /* TF */;
  if (c.mode === 2) {
    if (pl < 3) throw gp0();
    mask &= ~FLAG_IOPL;
  } else if (isProtected(c)) {
    if (c.cpl > 0) mask &= ~FLAG_IOPL;
    if (c.cpl > pl) mask &= ~FLAG_IF;
  }
  if (opSize === 2) mask &= 0xffff;
  const now = (old & ~mask) | (v & mask);
  c.setRflags(now);
  if ((now & ~old & FLAG_IF) !== 0) c.attention++; // IF set: the window opens after POPF, the run loop samples INTR
}
