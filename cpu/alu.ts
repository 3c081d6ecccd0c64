// Integer arithmetic semantics with lazy flags: the eight classic ALU
// operations (ADD OR ADC SBB AND SUB XOR CMP, in opcode order), INC/DEC/NEG,
// for 8/16/32-bit operands (one function) and 64-bit operands as halves.

import type { Cpu } from './cpu.js';
import { K_ADC, K_ADD, K_DEC, K_INC, K_LOGIC, K_SBB, K_SUB, getCF, keepCF } from './flags.js';
import { W } from './words.js';

/** ALU operation numbers = ModRM.reg of the 80-83 group = opcode bits 3-5 of 00-3F. */
export const ALU_ADD = 0, ALU_OR = 1, ALU_ADC = 2, ALU_SBB = 3, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7;
export const ALU_NAMES = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];

/** log2 of an operand size in bytes (the lazy-flag size code). */
export const sizeCode = (size: number): number => (size === 1 ? 0 : size === 2 ? 1 : size === 4 ? 2 : 3);
/** Sign-extend the low `size` bytes to 32 bits. */
export const sext = (v: number, size: number): number => (size === 1 ? (v << 24) >> 24 : size === 2 ? (v << 16) >> 16 : v | 0);

/** One ALU operation on 8/16/32-bit operands; returns the result (caller truncates); sets lazy flags. */
export function alu(c: Cpu, op: number, size: number, a: number, b: number): number {
  const r = c.r32;
  const sz = sizeCode(size);
  let res: number;
  switch (op) {
    case ALU_ADD: res = a + b; r[W.LF_OP] = (K_ADD << 2) | sz; break;
    case ALU_ADC: res = a + b + (getCF(r) ? 1 : 0); r[W.LF_OP] = (K_ADC << 2) | sz; break;
    case ALU_SBB: res = a - b - (getCF(r) ? 1 : 0); r[W.LF_OP] = (K_SBB << 2) | sz; break;
    case ALU_SUB: case ALU_CMP: res = a - b; r[W.LF_OP] = (K_SUB << 2) | sz; break;
    case ALU_OR: res = a | b; r[W.LF_OP] = (K_LOGIC << 2) | sz; break;
    case ALU_AND: res = a & b; r[W.LF_OP] = (K_LOGIC << 2) | sz; break;
    default: res = a ^ b; r[W.LF_OP] = (K_LOGIC << 2) | sz; break;
  }
  const sh = 32 - 8 * size;
  res = (res << sh) >> sh;
  r[W.LF_A] = (a << sh) >> sh;
  r[W.LF_B] = (b << sh) >> sh;
  r[W.LF_RES] = res;
  return res;
}

/** One ALU operation on 64-bit operands; returns the low half, high half in c.resHi. */
export function alu64(c: Cpu, op: number, aLo: number, aHi: number, bLo: number, bHi: number): number {
  const r = c.r32;
  let lo: number, hi: number;
  switch (op) {
    case ALU_ADD: case ALU_ADC: {
      const cin = op === ALU_ADC && getCF(r) ? 1 : 0;
      lo = (aLo + bLo + cin) | 0;
      const carry = cin ? (lo >>> 0) <= (aLo >>> 0) : (lo >>> 0) < (aLo >>> 0);
      hi = (aHi + bHi + (carry ? 1 : 0)) | 0;
      r[W.LF_OP] = ((op === ALU_ADD ? K_ADD : K_ADC) << 2) | 3;
      break;
    }
    case ALU_SUB: case ALU_CMP: case ALU_SBB: {
      const cin = op === ALU_SBB && getCF(r) ? 1 : 0;
      const borrow = cin ? (aLo >>> 0) <= (bLo >>> 0) : (aLo >>> 0) < (bLo >>> 0);
      lo = (aLo - bLo - cin) | 0;
      hi = (aHi - bHi - (borrow ? 1 : 0)) | 0;
      r[W.LF_OP] = ((op === ALU_SBB ? K_SBB : K_SUB) << 2) | 3;
      break;
    }
    case ALU_OR: lo = aLo | bLo; hi = aHi | bHi; r[W.LF_OP] = (K_LOGIC << 2) | 3; break;
    case ALU_AND: lo = aLo & bLo; hi = aHi & bHi; r[W.LF_OP] = (K_LOGIC << 2) | 3; break;
    default: lo = aLo ^ bLo; hi = aHi ^ bHi; r[W.LF_OP] = (K_LOGIC << 2) | 3; break;
  }
  r[W.LF_A] = aLo; r[W.LF_AHI] = aHi; r[W.LF_B] = bLo; r[W.LF_BHI] = bHi; r[W.LF_RES] = lo; r[W.LF_RESHI] = hi;
  c.resHi = hi;
  return lo;
}

/** INC (dec=false) or DEC on 8/16/32 bits: CF is kept. */
export function incdec(c: Cpu, dec: boolean, size: number, a: number): number {
  const r = c.r32;
  keepCF(r);
  const sh = 32 - 8 * size;
  const res = ((dec ? a - 1 : a + 1) << sh) >> sh;
  r[W.LF_OP] = ((dec ? K_DEC : K_INC) << 2) | sizeCode(size);
  r[W.LF_A] = (a << sh) >> sh; r[W.LF_B] = 1; r[W.LF_RES] = res;
  return res;
}

export function incdec64(c: Cpu, dec: boolean, aLo: number, aHi: number): number {
  const r = c.r32;
  keepCF(r);
  const lo = (dec ? aLo - 1 : aLo + 1) | 0;
  const hi = dec ? (aLo === 0 ? (aHi - 1) | 0 : aHi) : (lo === 0 ? (aHi + 1) | 0 : aHi);
  r[W.LF_OP] = ((dec ? K_DEC : K_INC) << 2) | 3;
  r[W.LF_A] = aLo; r[W.LF_AHI] = aHi; r[W.LF_B] = 1; r[W.LF_BHI] = 0; r[W.LF_RES] = lo; r[W.LF_RESHI] = hi;
  c.resHi = hi;
  return lo;
}

/** NEG: 0 - a, with SUB flags (CF = a != 0). */
export function neg(c: Cpu, size: number, a: number): number { return alu(c, ALU_SUB, size, 0, a); }
export function neg64(c: Cpu, aLo: number, aHi: number): number { return alu64(c, ALU_SUB, 0, 0, aLo, aHi); }
