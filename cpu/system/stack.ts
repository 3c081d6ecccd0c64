// A stack cursor for system transfers (interrupt delivery, far CALL/RET, IRET,
// gates): pushes and pops on a stack that may not be the current one yet (the
// new SS:ESP from the TSS), so registers are committed only after every memory
// access has succeeded. Pushes and pops on a 16/32-bit stack are checked
// against its segment's limit: the current SS's (#SS(0), or #SS(EXT) for event
// delivery) or a new SS's from the TSS (#SS(new SS selector | EXT), stackLimit).

import type { Cpu } from '../cpu.js';
import { segWord } from '../cpu.js';
import { ACC_STACK, ACC_USER, ACC_WRITE } from '../../mmu/tlb.js';
import { RSP, SEG_ATTR, SEG_BASE, SS, ATTR_DB } from '../state.js';
import { offsetFits, segFits } from '../operands.js';
import { CpuFault, VEC_SS } from '../fault.js';
import { W } from '../words.js';

const TWO32 = 4294967296;

/** stk.check: no limit (64-bit stacks), the current SS's, a new SS's (stk.attr/limit). */
const CHECK_NONE = 0, CHECK_CURRENT = 1, CHECK_NEW = 2;
/** The cursor (module state: one transfer at a time, no allocation). */
export const stk = {
  /** Stack pointer (lo, hi). */
  spLo: 0, spHi: 0,
  /** Stack address size in bytes: 2, 4 or 8. */
  addr: 4,
  /** SS base (ignored for 8-byte stacks). */
  base: 0,
  /** Access kind (ACC_USER for CPL 3 stacks). */
  kind: 0,
  /** Read high half of the last pop64. */
  popHi: 0,
  /** Which limit each access is checked against: none (64-bit), the current SS, or a new SS (attr, limit). */
  check: CHECK_NONE,
  /** The new SS's attributes and byte-granular limit (CHECK_NEW). */
  attr: 0, limit: 0,
  /** Error code of the #SS a limit violation raises. */
  err: 0,
};

/** #SS(stk.err) if `size` bytes at the cursor are outside the stack segment's limit. */
function ssCheck(c: Cpu, size: number): void {
  const off = stk.addr === 4 ? stk.spLo >>> 0 : stk.spLo & 0xffff;
  if (stk.check === CHECK_CURRENT ? !segFits(c, SS, off, size) : !offsetFits(stk.attr, stk.limit, off, size)) {
    throw new CpuFault(VEC_SS, stk.err, true);
  }
}

/** Point the cursor at the current SS:RSP. */
export function stackFromCurrent(c: Cpu): void {
  const r = c.r32;
  stk.spLo = r[W.W_RSP]; stk.spHi = r[W.W_RSP + 1];
  stk.addr = c.codeSize === 8 ? 8 : (r[segWord(SS, SEG_ATTR)] & ATTR_DB) !== 0 ? 4 : 2;
  stk.base = r[segWord(SS, SEG_BASE)];
  stk.kind = c.cpl === 3 ? ACC_USER : 0;
  stk.check = stk.addr !== 8 ? CHECK_CURRENT : CHECK_NONE;
  stk.err = 0;
}

/** Point the cursor at an explicit stack. */
export function stackAt(spLo: number, spHi: number, addr: number, base: number, cpl: number): void {
  stk.spLo = spLo; stk.spHi = spHi; stk.addr = addr; stk.base = base;
  stk.kind = cpl === 3 ? ACC_USER : 0;
  stk.check = CHECK_NONE;
}

/**
 * Check the accesses through the cursor (set by stackAt to a new 16/32-bit stack) against the new
 * SS's attributes and byte-granular limit; a violation raises #SS(err). SDM Vol. 2 INT n and CALL:
 * an inner stack without room for the frame is #SS(error_code(NewSS, 0, EXT)) = (selector & 0xFFFC)
 * | EXT for interrupts and exceptions, #SS(SS selector & 0xFFFC) for a call gate.
 */
export function stackLimit(attr: number, limit: number, err: number): void {
  stk.check = CHECK_NEW; stk.attr = attr; stk.limit = limit >>> 0; stk.err = err;
}

/** Move the stack pointer by `delta` within its address size. */
export function stackAdjust(delta: number): void {
  if (stk.addr === 8) {
    const sum = (stk.spLo >>> 0) + delta;
    stk.spHi = (stk.spHi + (sum >= TWO32 ? 1 : sum < 0 ? -1 : 0)) | 0;
    stk.spLo = sum | 0;
  } else if (stk.addr === 4) stk.spLo = (stk.spLo + delta) | 0;
  else stk.spLo = (stk.spLo & ~0xffff) | ((stk.spLo + delta) & 0xffff);
}

/** Linear address of the stack top (low half; high half in linHi). */
let linHi = 0;
function linear(): number {
  if (stk.addr === 8) { linHi = stk.spHi; return stk.spLo; }
  linHi = 0;
  return (stk.base + (stk.addr === 4 ? stk.spLo : stk.spLo & 0xffff)) | 0;
}

/** Push `size` bytes (2, 4 or 8; for 8 `v` is the low half and `vHi` the high). */
export function push(c: Cpu, size: number, v: number, vHi = 0): void {
  stackAdjust(-size);
  if (stk.check !== CHECK_NONE) ssCheck(c, size);
  const lo = linear();
  const kind = stk.kind | ACC_WRITE | ACC_STACK;
  if (size === 8) {
    c.writeK(lo, linHi, 4, v, kind & 7);
    const lo2 = (lo + 4) | 0;
    c.writeK(lo2, (lo2 >>> 0) < (lo >>> 0) ? (linHi + 1) | 0 : linHi, 4, vHi, kind & 7);
  } else c.writeK(lo, linHi, size === 4 ? 4 : 2, v, kind & 7);
}

/** Pop `size` bytes; returns the low 32 bits (high half of an 8-byte pop in stk.popHi). */
export function pop(c: Cpu, size: number): number {
  if (stk.check !== CHECK_NONE) ssCheck(c, size);
  const lo = linear();
  let v: number;
  if (size === 8) {
    v = c.readK(lo, linHi, 4, stk.kind);
    const lo2 = (lo + 4) | 0;
    stk.popHi = c.readK(lo2, (lo2 >>> 0) < (lo >>> 0) ? (linHi + 1) | 0 : linHi, 4, stk.kind);
  } else {
    v = c.readK(lo, linHi, size === 4 ? 4 : 2, stk.kind);
    if (size === 2) v &= 0xffff;
  }
  stackAdjust(size);
  return v;
}

/** Write the cursor's stack pointer back to RSP (16-bit stacks change only SP). */
export function commitRsp(c: Cpu): void {
  const r = c.r32;
  if (stk.addr === 8) { r[W.W_RSP] = stk.spLo; r[W.W_RSP + 1] = stk.spHi; }
  else if (stk.addr === 4) { r[W.W_RSP] = stk.spLo; r[W.W_RSP + 1] = 0; }
  else r[W.W_RSP] = (r[W.W_RSP] & ~0xffff) | (stk.spLo & 0xffff);
}
