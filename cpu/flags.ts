// Lazy arithmetic flags. An ALU instruction records (operation, operands,
// result) in the scratch part of the state record; CF/PF/AF/ZF/SF/OF are
// computed only when something reads them (Jcc, SETcc, PUSHF, ADC, export).
//
// Encoding: LF_OP = kind << 2 | size (0 = 8, 1 = 16, 2 = 32, 3 = 64 bits).
// For sizes up to 32 the operands and the result are stored sign-extended to
// 32 bits, so SF is `res < 0`, ZF is `res === 0` and OF is one sign test for
// every size; 64-bit operations also store the high halves. While LF_OP is
// LF_NONE the six flags live in the RFLAGS word itself. INC/DEC keep CF in
// the RFLAGS word (they do not change it).

import { FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF } from './state.js';

import { W } from './words.js';

export const ARITH_FLAGS = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF;

// Operation kinds.
export const K_NONE = 0, K_ADD = 1, K_ADC = 2, K_SUB = 3, K_SBB = 4, K_LOGIC = 5, K_INC = 6, K_DEC = 7;
/** Shifts by a non-zero count below the operand width: a = original value, b = count (32/64-bit operands). */
export const K_SHL = 8, K_SHR = 9, K_SAR = 10;
export const LF_NONE = 0;
/** Size codes: log2(bytes). */
export const SZ8 = 0, SZ16 = 1, SZ32 = 2, SZ64 = 3;
export const lfOp = (kind: number, size: number): number => (kind << 2) | size;

/** PF for each byte value: FLAG_PF when the byte has an even number of set bits. */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i, n = 0;
  while (b) { n += b & 1; b >>= 1; }
  PARITY[i] = (n & 1) === 0 ? FLAG_PF : 0;
}

const MASKS = [0xff, 0xffff, -1, -1];

/** Unsigned 64-bit a < b from halves. */
function lt64(aLo: number, aHi: number, bLo: number, bHi: number): boolean {
  return (aHi >>> 0) < (bHi >>> 0) || (aHi === bHi && (aLo >>> 0) < (bLo >>> 0));
}

export function getCF(r: Int32Array): boolean {
  const op = r[W.LF_OP];
  const kind = op >> 2, size = op & 3;
  switch (kind) {
    case K_NONE: case K_INC: case K_DEC: return (r[W.W_RFLAGS] & FLAG_CF) !== 0;
    case K_LOGIC: return false;
    case K_SHL: case K_SHR: case K_SAR: {
      // The last bit shifted out of the original value.
      const k = kind === K_SHL ? (size === SZ64 ? 64 : 32) - r[W.LF_B] : r[W.LF_B] - 1;
      return ((k < 32 ? r[W.LF_A] >>> k : r[W.LF_AHI] >>> (k - 32)) & 1) !== 0;
    }
  }
  const a = r[W.LF_A], b = r[W.LF_B], res = r[W.LF_RES];
  if (size === SZ64) {
    const aHi = r[W.LF_AHI], bHi = r[W.LF_BHI], resHi = r[W.LF_RESHI];
    switch (kind) {
      case K_ADD: return lt64(res, resHi, a, aHi);
      case K_ADC: return ((res - a - b) & 1) !== 0 ? !lt64(a, aHi, res, resHi) : lt64(res, resHi, a, aHi);
      case K_SUB: return lt64(a, aHi, b, bHi);
      default: return ((a - b - res) & 1) !== 0 ? !lt64(b, bHi, a, aHi) : lt64(a, aHi, b, bHi);
    }
  }
  const m = MASKS[size];
  const ua = (a & m) >>> 0, ub = (b & m) >>> 0, ur = (res & m) >>> 0;
  switch (kind) {
    case K_ADD: return ur < ua;
    case K_ADC: return ((res - a - b) & 1) !== 0 ? ur <= ua : ur < ua;
    case K_SUB: return ua < ub;
    default: return ((a - b - res) & 1) !== 0 ? ua <= ub : ua < ub;
  }
}

export function getZF(r: Int32Array): boolean {
  const op = r[W.LF_OP];
  if (op === LF_NONE) return (r[W.W_RFLAGS] & FLAG_ZF) !== 0;
  return (op & 3) === SZ64 ? (r[W.LF_RES] | r[W.LF_RESHI]) === 0 : r[W.LF_RES] === 0;
}

export function getSF(r: Int32Array): boolean {
  const op = r[W.LF_OP];
  if (op === LF_NONE) return (r[W.W_RFLAGS] & FLAG_SF) !== 0;
  return ((op & 3) === SZ64 ? r[W.LF_RESHI] : r[W.LF_RES]) < 0;
}

export function getOF(r: Int32Array): boolean {
  const op = r[W.LF_OP];
  const kind = op >> 2;
  if (kind === K_NONE) return (r[W.W_RFLAGS] & FLAG_OF) !== 0;
  if (kind === K_LOGIC || kind === K_SAR) return false;
  const w = (op & 3) === SZ64;
  // SHL: MSB(result) xor CF; SHR: MSB of the original (defined for 1-bit shifts, same formula otherwise).
  if (kind === K_SHL) return ((w ? r[W.LF_RESHI] : r[W.LF_RES]) < 0) !== getCF(r);
  if (kind === K_SHR) return (w ? r[W.LF_AHI] : r[W.LF_A]) < 0;
  const a = w ? r[W.LF_AHI] : r[W.LF_A], b = w ? r[W.LF_BHI] : r[W.LF_B], res = w ? r[W.LF_RESHI] : r[W.LF_RES];
  if (kind === K_ADD || kind === K_ADC || kind === K_INC) return ((a ^ res) & (b ^ res)) < 0;
  return ((a ^ b) & (a ^ res)) < 0;
}

export function getPF(r: Int32Array): boolean {
  if (r[W.LF_OP] === LF_NONE) return (r[W.W_RFLAGS] & FLAG_PF) !== 0;
  return PARITY[r[W.LF_RES] & 0xff] !== 0;
}

export function getAF(r: Int32Array): boolean {
  const op = r[W.LF_OP];
  const kind = op >> 2;
  if (kind === K_NONE) return (r[W.W_RFLAGS] & FLAG_AF) !== 0;
  if (kind === K_LOGIC || kind >= K_SHL) return false;
  return ((r[W.LF_A] ^ r[W.LF_B] ^ r[W.LF_RES]) & 0x10) !== 0;
}

/** The six arithmetic flags as RFLAGS bits (lazy or not). */
export function arithFlags(r: Int32Array): number {
  if (r[W.LF_OP] === LF_NONE) return r[W.W_RFLAGS] & ARITH_FLAGS;
  return (getCF(r) ? FLAG_CF : 0) | (getPF(r) ? FLAG_PF : 0) | (getAF(r) ? FLAG_AF : 0) |
    (getZF(r) ? FLAG_ZF : 0) | (getSF(r) ? FLAG_SF : 0) | (getOF(r) ? FLAG_OF : 0);
}

/** Fold lazy flags into the RFLAGS word; afterwards W.LF_OP is LF_NONE. */
export function materialize(r: Int32Array): void {
  if (r[W.LF_OP] === LF_NONE) return;
  r[W.W_RFLAGS] = (r[W.W_RFLAGS] & ~ARITH_FLAGS) | arithFlags(r);
  r[W.LF_OP] = LF_NONE;
}

/** Make CF concrete in the RFLAGS word without touching the other lazy flags (for INC/DEC). */
export function keepCF(r: Int32Array): void {
  const op = r[W.LF_OP] >> 2;
  if (op === K_NONE || op === K_INC || op === K_DEC) return;
  r[W.W_RFLAGS] = getCF(r) ? r[W.W_RFLAGS] | FLAG_CF : r[W.W_RFLAGS] & ~FLAG_CF;
}

/** Set all six arithmetic flags at once (eagerly computed instructions: shifts, MUL, BCD ...). */
export function setArith(r: Int32Array, bits: number): void {
  r[W.W_RFLAGS] = (r[W.W_RFLAGS] & ~ARITH_FLAGS) | (bits & ARITH_FLAGS);
  r[W.LF_OP] = LF_NONE;
}

/** Condition codes 0-15 (the low nibble of Jcc/SETcc/CMOVcc). */
export function testCC(r: Int32Array, cc: number): boolean {
  let t: boolean;
  switch (cc >> 1) {
    case 0: t = getOF(r); break; // O
    case 1: t = getCF(r); break; // B
    case 2: t = getZF(r); break; // Z
    case 3: t = getCF(r) || getZF(r); break; // BE
    case 4: t = getSF(r); break; // S
    case 5: t = getPF(r); break; // P
    case 6: t = getSF(r) !== getOF(r); break; // L
    default: t = getZF(r) || getSF(r) !== getOF(r); break; // LE
  }
  return (cc & 1) !== 0 ? !t : t;
}
