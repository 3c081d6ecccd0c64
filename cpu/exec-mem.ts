// The general memory fast ops (cpu/fastops.ts LEA_M32 .. STORE_MI) under the interpreter
// (cpu/exec.ts's switch calls these): the address from the descriptor in field a, checked as
// operands.ts eaFn checks it (segment limit outside 64-bit mode, canonical form in it), then the
// Cpu's accessors, whose TLB fast path is inline. Every check and access comes before the first
// register write, so a fault leaves the state as it was.

import type { Cpu } from './cpu.js';
import { SEG_READ, SEG_WRITE, segWord } from './cpu.js';
import { ALU_TEST, EA_NONE, EA_RIP, LOAD_SIGNED, LOAD_TO64, ea64, eaBase, eaIndex, eaScale, eaSeg } from './fastops.js';
import { ALU_AND, ALU_CMP, alu, alu64 } from './alu.js';
import { memRead, memWrite, nonCanonical, segCheck } from './operands.js';
import { FS, SEG_BASE } from './state.js';
import { W } from './words.js';

const TWO32 = 2 ** 32;

/** The effective address (no segment base) of descriptor a and displacement x: low half returned, high half in c.eaHi. */
export function eaOffset(c: Cpu, a: number, x: number): number {
  const r = c.r32, b = eaBase(a), i = eaIndex(a), s = eaScale(a);
  if (!ea64(a)) {
    c.eaHi = 0;
    return ((b !== EA_NONE ? r[b * 2] : 0) + (i !== EA_NONE ? r[i * 2] << s : 0) + x) | 0;
  }
  const bw = b === EA_RIP ? W.W_RIP : b * 2;
  let lo = x >>> 0, hi = x >> 31;
  if (b !== EA_NONE) { lo += r[bw] >>> 0; hi += r[bw + 1]; }
  if (i !== EA_NONE) { lo += (r[i * 2] >>> 0) * (1 << s); hi += r[i * 2 + 1] << s; }
  // lo is exact (< 2^36): its carry out goes to the high half.
  c.eaHi = (hi + Math.floor(lo / TWO32)) | 0;
  return lo | 0;
}

/** The linear address of a `size`-byte access through descriptor a: low half returned, high half in c.eaHi; faults as eaFn's. */
export function eaLinear(c: Cpu, a: number, x: number, size: number, write: boolean): number {
  const off = eaOffset(c, a, x), seg = eaSeg(a), r = c.r32;
  if (!ea64(a)) {
    const o = off >>> 0;
    if (o + size - 1 > c.segMax[write ? seg : seg + SEG_READ]) segCheck(c, write ? seg + SEG_WRITE : seg, o, size);
    return (r[segWord(seg, SEG_BASE)] + o) | 0;
  }
  let lo = off, hi = c.eaHi;
  if (seg >= FS) { // 64-bit mode: only FS and GS have a base
    const sb = segWord(seg, SEG_BASE), sum = (lo >>> 0) + (r[sb] >>> 0);
    hi = (hi + r[sb + 1] + (sum >= TWO32 ? 1 : 0)) | 0;
    lo = sum | 0;
  }
  if (((hi << 16) >> 16) !== hi) nonCanonical(seg);
  c.eaHi = hi;
  return lo;
}

/** LOAD_M: register word a & 0xff gets the value of shape b (size | LOAD_SIGNED | LOAD_TO64). */
export function loadM(c: Cpu, a: number, b: number, x: number): void {
  const size = b & 15, lo = eaLinear(c, a, x, size, false), hi = c.eaHi;
  let v: number, vh = 0;
  if (size === 1) v = (b & LOAD_SIGNED) !== 0 ? (c.read8(lo, hi) << 24) >> 24 : c.read8(lo, hi);
  else if (size === 2) v = (b & LOAD_SIGNED) !== 0 ? (c.read16(lo, hi) << 16) >> 16 : c.read16(lo, hi);
  else if (size === 4) v = c.read32(lo, hi);
  else { v = c.read64(lo, hi); vh = c.hi; }
  if (size !== 8 && (b & (LOAD_SIGNED | LOAD_TO64)) === (LOAD_SIGNED | LOAD_TO64)) vh = v >> 31;
  const r = c.r32, w = a & 0xff;
  r[w] = v; r[w + 1] = vh;
}

/** STORE_M: the low b bytes of register word a & 0xff. */
export function storeM(c: Cpu, a: number, b: number, x: number): void {
  const lo = eaLinear(c, a, x, b, true), hi = c.eaHi, r = c.r32, w = a & 0xff;
  if (b === 1) c.write8(lo, hi, r[w] & 0xff);
  else if (b === 2) c.write16(lo, hi, r[w] & 0xffff);
  else if (b === 4) c.write32(lo, hi, r[w]);
  else c.write64(lo, hi, r[w], r[w + 1]);
}

/** STORE_MI: immediate b (sign-extended) in a & 0xff bytes. */
export function storeMI(c: Cpu, a: number, b: number, x: number): void {
  const size = a & 0xff, lo = eaLinear(c, a, x, size, true), hi = c.eaHi;
  if (size === 1) c.write8(lo, hi, b & 0xff);
  else if (size === 2) c.write16(lo, hi, b & 0xffff);
  else if (size === 4) c.write32(lo, hi, b);
  else c.write64(lo, hi, b, b >> 31);
}

/** LEA_M32 / LEA_M64 into register word a & 0xff. */
export function leaM(c: Cpu, a: number, x: number, wide: boolean): void {
  const v = eaOffset(c, a, x), r = c.r32, w = a & 0xff;
  r[w] = v; r[w + 1] = wide ? c.eaHi : 0;
}

/** ALU_RM: register word a & 0xff op= the 4- or 8-byte memory operand (shape b). */
export function aluRM(c: Cpu, a: number, b: number, x: number): void {
  const op = (b & ALU_TEST) !== 0 ? ALU_AND : b & 7, wb = (b & 7) !== ALU_CMP && (b & ALU_TEST) === 0;
  const wide = b >> 4 === 3, lo = eaLinear(c, a, x, wide ? 8 : 4, false), hi = c.eaHi, r = c.r32, w = a & 0xff;
  if (wide) {
    const m = c.read64(lo, hi), v = alu64(c, op, r[w], r[w + 1], m, c.hi);
    if (wb) { r[w] = v; r[w + 1] = c.resHi; }
  } else {
    const v = alu(c, op, 4, r[w], c.read32(lo, hi));
    if (wb) { r[w] = v; r[w + 1] = 0; }
  }
}

/** ALU_MR / ALU_MI: the memory operand op= y:yh (shape: op | ALU_TEST | size code << 4), written back unless CMP/TEST. */
export function aluM(c: Cpu, a: number, shape: number, x: number, y: number, yh: number): void {
  const op = (shape & ALU_TEST) !== 0 ? ALU_AND : shape & 7, wb = (shape & 7) !== ALU_CMP && (shape & ALU_TEST) === 0;
  const size = 1 << (shape >> 4), lo = eaLinear(c, a, x, size, wb), hi = c.eaHi;
  if (size === 8) {
    const m = c.read64(lo, hi), v = alu64(c, op, m, c.hi, y, yh);
    if (wb) c.write64(lo, hi, v, c.resHi);
    return;
  }
  const v = alu(c, op, size, memRead(c, size, lo, hi), y);
  if (wb) memWrite(c, size, lo, hi, v);
}

/** ALU_RR8 / ALU_RI8 (also their NO_FLAGS ids: the flags are written anyway): byte register a op= byte register b (rr) or immediate b. */
export function aluR8(c: Cpu, a: number, b: number, shape: number, rr: boolean): void {
  const r = c.r32, op = (shape & ALU_TEST) !== 0 ? ALU_AND : shape & 7, wb = (shape & 7) !== ALU_CMP && (shape & ALU_TEST) === 0;
  const dw = a & ~1, dsh = (a & 1) << 3;
  const y = rr ? r[b & ~1] >> ((b & 1) << 3) : b;
  const v = alu(c, op, 1, r[dw] >> dsh, y);
  if (wb) r[dw] = (r[dw] & ~(0xff << dsh)) | ((v & 0xff) << dsh);
}
