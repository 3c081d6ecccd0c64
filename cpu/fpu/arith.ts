// IEEE operations with x86 special-case rules on top of softfloat.ts: unpacking of the
// three memory formats, NaN propagation (x87: larger significand; SSE: first source),
// invalid operations, denormal-operand and divide-by-zero flags, compares and integer
// conversions. Results go to softfloat's `out`; flags accumulate in env.flags.

import {
  Fp, Format, env, out, newFp, K_ZERO, K_NORMAL, K_INF, K_QNAN, K_SNAN, F_IE, F_DE, F_ZE, F_PE,
  addFinite, mulFinite, divFinite, sqrtFinite, roundPack, packFp, compareFp, RC_NEAREST, RC_DOWN, RC_UP,
} from './softfloat.js';

/** An x87 encoding with no meaning on 387+ (unnormal, pseudo-NaN, pseudo-infinity): invalid operand. */
export const K_BAD = 5;

/** Unpack an 80-bit value; returns 1 if it is a denormal/pseudo-denormal operand. */
export function unpackExt(d: Fp, lo: number, hi: number, se: number): number {
  d.sign = (se >>> 15) & 1; d.hi = hi >>> 0; d.lo = lo >>> 0;
  const e = se & 0x7fff;
  if (e === 0x7fff) {
    if ((hi & 0x80000000) === 0) { d.kind = K_BAD; return 0; }
    if ((hi & 0x7fffffff) === 0 && lo === 0) d.kind = K_INF;
    else d.kind = (hi & 0x40000000) !== 0 ? K_QNAN : K_SNAN;
    return 0;
  }
  if (e === 0) {
    if (hi === 0 && lo === 0) { d.kind = K_ZERO; return 0; }
    d.kind = K_NORMAL; d.exp = -16382; normalize(d); return 1;
  }
  if ((hi & 0x80000000) === 0) { d.kind = K_BAD; return 0; }
  d.kind = K_NORMAL; d.exp = e - 16383;
  return 0;
}

/** Unpack a float64 given as two halves; DAZ turns denormals into zeros. Returns 1 for a denormal operand. */
export function unpackF64(d: Fp, lo: number, hi: number, daz = 0): number {
  d.sign = hi >>> 31;
  const e = (hi >>> 20) & 0x7ff;
  const fhi = hi & 0xfffff;
  // fraction left-aligned under an explicit bit 63
  d.hi = ((fhi << 11) | (lo >>> 21)) >>> 0; d.lo = (lo << 11) >>> 0;
  if (e === 0x7ff) {
    if ((fhi | lo) === 0) { d.kind = K_INF; d.hi = 0x80000000; d.lo = 0; return 0; }
    d.kind = (fhi & 0x80000) !== 0 ? K_QNAN : K_SNAN; d.hi = (d.hi | 0x80000000) >>> 0; return 0;
  }
  if (e === 0) {
    if ((fhi | lo) === 0 || daz) { d.kind = K_ZERO; return 0; }
    d.kind = K_NORMAL; d.exp = -1022; normalize(d); return 1; // 0.f x 2^-1022
  }
  d.kind = K_NORMAL; d.exp = e - 1023; d.hi = (d.hi | 0x80000000) >>> 0;
  return 0;
}

export function unpackF32(d: Fp, bits: number, daz = 0): number {
  d.sign = bits >>> 31;
  const e = (bits >>> 23) & 0xff, f = bits & 0x7fffff;
  d.hi = (f << 8) >>> 0; d.lo = 0;
  if (e === 0xff) {
    if (f === 0) { d.kind = K_INF; d.hi = 0x80000000; return 0; }
    d.kind = (f & 0x400000) !== 0 ? K_QNAN : K_SNAN; d.hi = (d.hi | 0x80000000) >>> 0; return 0;
  }
  if (e === 0) {
    if (f === 0 || daz) { d.kind = K_ZERO; return 0; }
    d.kind = K_NORMAL; d.exp = -127; d.hi = (f << 9) >>> 0; normalize(d); return 1;
  }
  d.kind = K_NORMAL; d.exp = e - 127; d.hi = (d.hi | 0x80000000) >>> 0;
  return 0;
}

/** Shift a nonzero significand left until bit 63 is set, adjusting the exponent. */
export function normalize(d: Fp): void {
  if (d.hi === 0) { d.hi = d.lo; d.lo = 0; d.exp -= 32; }
  const z = Math.clz32(d.hi);
  if (z > 0) { d.hi = ((d.hi << z) | (d.lo >>> (32 - z))) >>> 0; d.lo = (d.lo << z) >>> 0; d.exp -= z; }
}

// ---------------------------------------------------------------- packing `out`
/** `out` as an 80-bit value: returns sign/exponent word; significand is out.hi/out.lo. */
export const outExtSE = (): number => ((out.sign << 15) | (out.bexp & 0x7fff)) >>> 0;
/** `out` as float64 halves (assumes out was rounded to a 53-bit format or is a NaN/inf/zero). */
export function outF64Hi(): number {
  return ((out.sign << 31) | ((out.bexp & 0x7ff) << 20) | ((out.hi >>> 11) & 0xfffff)) >>> 0;
}
export const outF64Lo = (): number => ((out.hi << 21) | (out.lo >>> 11)) >>> 0;
export function outF32(): number {
  return ((out.sign << 31) | ((out.bexp & 0xff) << 23) | ((out.hi >>> 8) & 0x7fffff)) >>> 0;
}

// ---------------------------------------------------------------- NaN rules
/** Put a quiet copy of NaN `a` into out (format f's infinity exponent). */
function outQuiet(a: Fp, f: Format): void {
  out.sign = a.sign; out.bexp = f.emax + f.bias + 1; out.hi = (a.hi | 0xc0000000) >>> 0; out.lo = a.lo;
}
export function outIndefinite(f: Format): void {
  out.sign = 1; out.bexp = f.emax + f.bias + 1; out.hi = 0xc0000000; out.lo = 0;
}

/**
 * NaN operands of a two-operand op (at least one is NaN). x87 (Intel SDM Vol. 1 Table 4-7):
 * SNaN+QNaN -> the QNaN; two of the same kind -> larger significand. SSE: the first source.
 */
export function propagateNaN2(a: Fp, b: Fp, f: Format, x87: boolean): void {
  if (a.kind === K_SNAN || b.kind === K_SNAN) env.flags |= F_IE;
  const an = a.kind === K_QNAN || a.kind === K_SNAN, bn = b.kind === K_QNAN || b.kind === K_SNAN;
  if (!an) { outQuiet(b, f); return; }
  if (!bn || !x87) { outQuiet(a, f); return; }
  if (a.kind !== b.kind) { outQuiet(a.kind === K_QNAN ? a : b, f); return; }
  const ah = a.hi & 0x7fffffff, bh = b.hi & 0x7fffffff;
  if (ah > bh || (ah === bh && a.lo > b.lo)) outQuiet(a, f);
  else if (ah === bh && a.lo === b.lo) outQuiet(a.sign === 0 ? a : b, f);
  else outQuiet(b, f);
}

const isNaN = (a: Fp): boolean => a.kind === K_QNAN || a.kind === K_SNAN;

/** Operand classes that make an x87 operation invalid before anything else. */
function badOperand(a: Fp, b: Fp | null, f: Format): boolean {
  if (a.kind === K_BAD || (b !== null && b.kind === K_BAD)) { env.flags |= F_IE; outIndefinite(f); return true; }
  return false;
}

/** a + b (negB=0) or a - b (negB=1). denorm: DE-operand flag computed at unpack. */
export function opAdd(a: Fp, b: Fp, negB: number, f: Format, x87: boolean, denorm: number): void {
  if (badOperand(a, b, f)) return;
  if (isNaN(a) || isNaN(b)) { propagateNaN2(a, b, f, x87); return; }
  const bs = b.sign ^ negB;
  if (a.kind === K_INF || b.kind === K_INF) {
    if (a.kind === K_INF && b.kind === K_INF && a.sign !== bs) { env.flags |= F_IE; outIndefinite(f); return; }
    if (denorm) env.flags |= F_DE;
    packInf(a.kind === K_INF ? a.sign : bs, f); return;
  }
  if (denorm) env.flags |= F_DE;
  if (a.kind === K_ZERO && b.kind === K_ZERO) {
    const s = a.sign === bs ? a.sign : (env.rc === RC_DOWN ? 1 : 0);
    packZero(s); return;
  }
  if (a.kind === K_ZERO) { roundPack(bs, b.exp, b.hi, b.lo, 0, 0, f); return; }
  if (b.kind === K_ZERO) { roundPack(a.sign, a.exp, a.hi, a.lo, 0, 0, f); return; }
  addFinite(a, b, negB, f);
}

export function opMul(a: Fp, b: Fp, f: Format, x87: boolean, denorm: number): void {
  if (badOperand(a, b, f)) return;
  if (isNaN(a) || isNaN(b)) { propagateNaN2(a, b, f, x87); return; }
  const s = a.sign ^ b.sign;
  if (a.kind === K_INF || b.kind === K_INF) {
    if (a.kind === K_ZERO || b.kind === K_ZERO) { env.flags |= F_IE; outIndefinite(f); return; }
    if (denorm) env.flags |= F_DE;
    packInf(s, f); return;
  }
  if (denorm) env.flags |= F_DE;
  if (a.kind === K_ZERO || b.kind === K_ZERO) { packZero(s); return; }
  mulFinite(a, b, f);
}

export function opDiv(a: Fp, b: Fp, f: Format, x87: boolean, denorm: number): void {
  if (badOperand(a, b, f)) return;
  if (isNaN(a) || isNaN(b)) { propagateNaN2(a, b, f, x87); return; }
  const s = a.sign ^ b.sign;
  if (a.kind === K_INF) {
    if (b.kind === K_INF) { env.flags |= F_IE; outIndefinite(f); return; }
    if (denorm) env.flags |= F_DE;
    packInf(s, f); return;
  }
  if (b.kind === K_INF) { if (denorm) env.flags |= F_DE; packZero(s); return; }
  if (b.kind === K_ZERO) { // x/0 reports ZE and not the dividend's DE
    if (a.kind === K_ZERO) { env.flags |= F_IE; outIndefinite(f); return; }
    env.flags |= F_ZE; packInf(s, f); return;
  }
  if (denorm) env.flags |= F_DE;
  if (a.kind === K_ZERO) { packZero(s); return; }
  divFinite(a, b, f);
}

export function opSqrt(a: Fp, f: Format, denorm: number): void {
  if (badOperand(a, null, f)) return;
  if (isNaN(a)) { if (a.kind === K_SNAN) env.flags |= F_IE; outQuiet(a, f); return; }
  if (a.kind === K_ZERO) { packZero(a.sign); return; }
  if (a.sign) { env.flags |= F_IE; outIndefinite(f); return; }
  if (denorm) env.flags |= F_DE;
  if (a.kind === K_INF) { packInf(0, f); return; }
  sqrtFinite(a, f);
}

/** Round a value to format f (x87 FLD-to-precision, FST, conversions between float formats). */
export function opConvert(a: Fp, f: Format, denorm: number): void {
  if (badOperand(a, null, f)) return;
  if (isNaN(a)) { if (a.kind === K_SNAN) env.flags |= F_IE; outQuiet(a, f); return; }
  if (denorm) env.flags |= F_DE;
  packFp(a, f);
}

function packInf(s: number, f: Format): void { out.sign = s; out.bexp = f.emax + f.bias + 1; out.hi = 0x80000000; out.lo = 0; env.roundedUp = 0; }
function packZero(s: number): void { out.sign = s; out.bexp = 0; out.hi = 0; out.lo = 0; env.roundedUp = 0; }

// ---------------------------------------------------------------- compare
/** Result of a compare: 0 equal, 1 less, 2 greater, 3 unordered. */
export const CMP_EQ = 0, CMP_LT = 1, CMP_GT = 2, CMP_UN = 3;
/** quiet=true: only SNaN raises IE (FUCOM, UCOMISS); otherwise any NaN does (FCOM, COMISS). */
export function opCompare(a: Fp, b: Fp, quiet: boolean, denorm: number): number {
  if (a.kind === K_BAD || b.kind === K_BAD) { env.flags |= F_IE; return CMP_UN; }
  if (isNaN(a) || isNaN(b)) {
    if (!quiet || a.kind === K_SNAN || b.kind === K_SNAN) env.flags |= F_IE;
    return CMP_UN;
  }
  if (denorm) env.flags |= F_DE;
  const c = compareFp(a, b);
  return c === 0 ? CMP_EQ : c < 0 ? CMP_LT : CMP_GT;
}

// ---------------------------------------------------------------- integers
/** Integer result of opToInt: two halves. */
export const intOut = { lo: 0, hi: 0 };

/**
 * Convert to a signed integer of `bits` (16, 32, 64) with env.rc or truncation.
 * NaN, infinity and out-of-range give IE and the integer indefinite (most negative value).
 */
export function opToInt(a: Fp, bits: number, truncate: boolean): void {
  env.roundedUp = 0;
  const indefinite = (): void => {
    env.flags |= F_IE;
    if (bits === 64) { intOut.hi = 0x80000000; intOut.lo = 0; } else { intOut.hi = 0; intOut.lo = bits === 32 ? 0x80000000 : 0x8000; }
  };
  if (a.kind === K_BAD || isNaN(a) || a.kind === K_INF) { indefinite(); return; }
  if (a.kind === K_ZERO) { intOut.hi = 0; intOut.lo = 0; return; }
  // integer part and rounding bits from the 64-bit significand: value = sig * 2^(exp-63)
  if (a.exp >= 64) { indefinite(); return; }
  let ihi: number, ilo: number, half: number, rest: boolean;
  const sh = 63 - a.exp; // bits below the binary point
  if (sh <= 0) { ihi = a.hi; ilo = a.lo; half = 0; rest = false; }
  else if (sh > 64) { ihi = 0; ilo = 0; half = 0; rest = true; }
  else {
    // fraction bits: the low `sh` bits of the significand
    half = sh === 64 ? a.hi >>> 31 : bit64(a.hi, a.lo, sh - 1);
    rest = lowBitsNonzero(a.hi, a.lo, sh - 1);
    if (sh >= 32) { ilo = sh === 64 ? 0 : a.hi >>> (sh - 32); ihi = 0; }
    else { ilo = ((a.lo >>> sh) | (a.hi << (32 - sh))) >>> 0; ihi = a.hi >>> sh; }
  }
  const inexact = half === 1 || rest;
  let up = false;
  if (inexact && !truncate) {
    const rc = env.rc;
    if (rc === RC_NEAREST) up = half === 1 && (rest || (ilo & 1) === 1);
    else if (rc === RC_DOWN) up = a.sign === 1;
    else if (rc === RC_UP) up = a.sign === 0;
  }
  if (up) { ilo = ilo + 1; if (ilo > 0xffffffff) { ilo = 0; ihi = ihi + 1; } }
  ilo >>>= 0; ihi >>>= 0;
  // range check on the magnitude (-2^(bits-1) is allowed)
  if (bits === 64) {
    if (ihi > 0x80000000 || (ihi === 0x80000000 && (ilo !== 0 || a.sign === 0))) { indefinite(); return; }
  } else {
    const lim = bits === 32 ? 0x80000000 : 0x8000;
    if (ihi !== 0 || ilo > lim || (ilo === lim && a.sign === 0)) { indefinite(); return; }
  }
  if (inexact) env.flags |= F_PE;
  env.roundedUp = up ? 1 : 0;
  if (a.sign) { // two's complement negate
    ilo = (~ilo + 1) >>> 0; ihi = (~ihi + (ilo === 0 ? 1 : 0)) >>> 0;
  }
  if (bits === 64) { intOut.lo = ilo; intOut.hi = ihi; }
  else { intOut.hi = 0; intOut.lo = bits === 32 ? ilo : ilo & 0xffff; }
}
const bit64 = (hi: number, lo: number, i: number): number => (i >= 32 ? (hi >>> (i - 32)) & 1 : (lo >>> i) & 1);
/** Any of bits 0..i-1 set. */
function lowBitsNonzero(hi: number, lo: number, i: number): boolean {
  if (i <= 0) return false;
  if (i >= 32) return lo !== 0 || (i > 32 && (hi & (2 ** (i - 32) - 1)) !== 0);
  return (lo & (2 ** i - 1)) !== 0;
}

const RI = newFp();
/** Round to an integral value in format f by env.rc (FRNDINT, ROUNDPS...); result in out. */
export function opRoundIntegral(a: Fp, f: Format, denorm: number): void {
  env.roundedUp = 0;
  if (a.kind === K_BAD) { env.flags |= F_IE; outIndefinite(f); return; }
  if (isNaN(a)) { if (a.kind === K_SNAN) env.flags |= F_IE; outQuiet(a, f); return; }
  if (denorm) env.flags |= F_DE;
  if (a.kind !== K_NORMAL || a.exp >= 63) { packFp(a, f); return; }
  opToInt(a, 64, false);
  const up = env.roundedUp;
  intToFp(RI, intOut.lo, intOut.hi);
  if (RI.kind === K_ZERO) RI.sign = a.sign;
  packFp(RI, f);
  env.roundedUp = up;
}

/** A signed 64-bit integer (two halves) to an exact unpacked value. */
export function intToFp(d: Fp, lo: number, hi: number): void {
  d.sign = hi >>> 31;
  if (d.sign) { lo = (~lo + 1) >>> 0; hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0; }
  if ((lo | hi) === 0) { d.kind = K_ZERO; d.hi = 0; d.lo = 0; return; }
  d.kind = K_NORMAL; d.hi = hi >>> 0; d.lo = lo >>> 0; d.exp = 63; normalize(d);
}

