// Stack pushes and pops for the current stack size (SS.B, or 64-bit mode):
// memory is written/read first and RSP updated after, so a fault leaves RSP as
// it was. Values of 8 bytes use (lo, hi) with pops leaving the high half in c.resHi.
// Outside 64-bit mode every access is checked against SS (cpu.segMax, then
// operands.ts segCheck: #SS(0), expand-down stacks included).

import type { Cpu } from './cpu.js';
import { memRead, memWrite, segCheck } from './operands.js';
import { CpuFault, VEC_SS } from './fault.js';
import { SS } from './state.js';
import { W } from './words.js';


function nonCanonicalStack(): never { throw new CpuFault(VEC_SS, 0, true); }

/** Push `size` bytes (2, 4 or 8); vHi is the high half of an 8-byte value. */
export function push(c: Cpu, size: number, v: number, vHi = 0): void {
  const r = c.r32;
  const ss = c.stackSize;
  if (ss === 8) {
    const sum = (r[W.W_RSP] >>> 0) - size;
    const lo = sum | 0, hi = (r[W.W_RSP + 1] - (sum < 0 ? 1 : 0)) | 0;
    if (((hi << 16) >> 16) !== hi) nonCanonicalStack();
    if (size === 8) c.write64(lo, hi, v, vHi); else if (size === 4) c.write32(lo, hi, v); else c.write16(lo, hi, v);
    r[W.W_RSP] = lo; r[W.W_RSP + 1] = hi;
  } else if (ss === 4) {
    const sp = (r[W.W_RSP] - size) | 0;
    if ((sp >>> 0) + size - 1 > c.segMax[SS]) segCheck(c, SS, sp >>> 0, size);
    const lin = (sp + r[W.W_SSBASE]) | 0;
    c.resHi = vHi;
    memWrite(c, size, lin, 0, v);
    r[W.W_RSP] = sp;
  } else {
    const sp = (r[W.W_RSP] - size) & 0xffff;
    if (sp + size - 1 > c.segMax[SS]) segCheck(c, SS, sp, size);
    const lin = (sp + r[W.W_SSBASE]) | 0;
    c.resHi = vHi;
    memWrite(c, size, lin, 0, v);
    r[W.W_RSP] = (r[W.W_RSP] & ~0xffff) | sp;
  }
}

/** Pop `size` bytes; returns the value (8 bytes: low half, high half in c.resHi). */
export function pop(c: Cpu, size: number): number {
  const r = c.r32;
  const ss = c.stackSize;
  let v: number;
  if (ss === 8) {
    const lo = r[W.W_RSP], hi = r[W.W_RSP + 1];
    if (size === 8) { v = c.read64(lo, hi); c.resHi = c.hi; } else v = size === 4 ? c.read32(lo, hi) : c.read16(lo, hi);
    const sum = (lo >>> 0) + size;
    r[W.W_RSP] = sum | 0;
    if (sum > 0xffffffff) r[W.W_RSP + 1] = (hi + 1) | 0;
  } else if (ss === 4) {
    const sp = r[W.W_RSP];
    if ((sp >>> 0) + size - 1 > c.segMax[SS]) segCheck(c, SS, sp >>> 0, size);
    v = memRead(c, size, (sp + r[W.W_SSBASE]) | 0, 0);
    r[W.W_RSP] = (sp + size) | 0;
  } else {
    const sp = r[W.W_RSP] & 0xffff;
    if (sp + size - 1 > c.segMax[SS]) segCheck(c, SS, sp, size);
    v = memRead(c, size, (sp + r[W.W_SSBASE]) | 0, 0);
    r[W.W_RSP] = (r[W.W_RSP] & ~0xffff) | ((sp + size) & 0xffff);
  }
  return v;
}

/** Linear address of SS:off for a `size`-byte access on a 16/32-bit stack, after the limit check (ENTER's frame copies). */
export function ssLinear(c: Cpu, off: number, size: number): number {
  const o = c.stackSize === 4 ? off >>> 0 : off & 0xffff;
  if (o + size - 1 > c.segMax[SS]) segCheck(c, SS, o, size);
  return (o + c.r32[W.W_SSBASE]) | 0;
}

/** LEAVE: RSP <- RBP in the stack size, then pop `size` bytes; a fault leaves RSP as it was. */
export function popFrame(c: Cpu, size: number): number {
  const r = c.r32, spLo = r[W.W_RSP], spHi = r[W.W_RSP + 1];
  if (c.stackSize === 8) { r[W.W_RSP] = r[W.W_RBP]; r[W.W_RSP + 1] = r[W.W_RBP + 1]; }
  else if (c.stackSize === 4) r[W.W_RSP] = r[W.W_RBP];
  else r[W.W_RSP] = (r[W.W_RSP] & ~0xffff) | (r[W.W_RBP] & 0xffff);
  try {
    return pop(c, size);
  } catch (e) {
    r[W.W_RSP] = spLo; r[W.W_RSP + 1] = spHi;
    throw e;
  }
}

/** Add `n` to the stack pointer in the current stack size (RET imm16, LEAVE helpers). */
export function adjustSp(c: Cpu, n: number): void {
  const r = c.r32;
  if (c.stackSize === 8) {
    const sum = (r[W.W_RSP] >>> 0) + n;
    r[W.W_RSP] = sum | 0;
    r[W.W_RSP + 1] = (r[W.W_RSP + 1] + (sum > 0xffffffff ? 1 : sum < 0 ? -1 : 0)) | 0;
  } else if (c.stackSize === 4) r[W.W_RSP] = (r[W.W_RSP] + n) | 0;
  else r[W.W_RSP] = (r[W.W_RSP] & ~0xffff) | ((r[W.W_RSP] + n) & 0xffff);
}
