// x87 D9 E0..FF: sign/class operations, constants, FSQRT, FRNDINT, FSCALE, FXTRACT,
// FPREM/FPREM1, and the transcendental instructions (in transcend.ts).

import { Fp, newFp, env, out, EXT64, roundPack, K_ZERO, K_NORMAL, K_INF, K_QNAN, K_SNAN, F_IE, F_DE, F_ZE } from './softfloat.js';
import { opRoundIntegral, K_BAD, opSqrt, intToFp, propagateNaN2, outIndefinite, normalize } from './arith.js';
import {
  readST, writeSTRaw, writeSTOut, pushOut, isEmpty, stackFault, endOp, setC1FromRounding, setCC,
  pcFormat, fsw, setFsw, SW_C1, SW_C0, SW_C2, SW_C3, INDEF_LO, INDEF_HI, INDEF_SE, stOff, pushSlot,
} from './x87state.js';
import { transcendental } from './transcend.js';

const A = newFp(), B = newFp(), T = newFp();

/** Stack-underflow check for ST0 (and ST1 if two): masked writes the indefinite to ST0. */
function under(dv: DataView, two: boolean): boolean {
  if (!isEmpty(dv, 0) && (!two || !isEmpty(dv, 1))) return false;
  if (stackFault(dv, false)) writeSTRaw(dv, 0, INDEF_LO, INDEF_HI, INDEF_SE);
  return true;
}

export function x87Special(dv: DataView, code: number): number {
  switch (code) {
    case 0xe0: case 0xe1: { // FCHS, FABS
      if (under(dv, false)) return 0;
      const o = stOff(0), se = dv.getUint16(o + 8, true);
      dv.setUint16(o + 8, code === 0xe0 ? se ^ 0x8000 : se & 0x7fff, true);
      setFsw(dv, fsw(dv) & ~SW_C1); return 0;
    }
    case 0xe4: { // FTST
      if (isEmpty(dv, 0)) { if (stackFault(dv, false)) setCC(dv, 1, 0, 1, 1); return 0; }
      const d = readST(dv, 0, A);
      if (A.kind === K_QNAN || A.kind === K_SNAN || A.kind === K_BAD) { env.flags |= F_IE; endOp(dv); setCC(dv, 1, 0, 1, 1); return 0; }
      if (d) env.flags |= F_DE;
      endOp(dv); // the condition codes are set even when an unmasked DE is raised
      if (A.kind === K_ZERO) setCC(dv, 0, 0, 0, 1); else setCC(dv, A.sign, 0, 0, 0);
      return 0;
    }
    case 0xe5: { // FXAM: C3 C2 C0 class, C1 sign
      const o = stOff(0), sign = dv.getUint8(o + 9) >> 7;
      if (isEmpty(dv, 0)) { setCC(dv, 1, sign, 0, 1); return 0; }
      const d = readST(dv, 0, A);
      let c3 = 0, c2 = 0, c0 = 0;
      if (A.kind === K_BAD) { /* unsupported: 000 */ }
      else if (A.kind === K_QNAN || A.kind === K_SNAN) c0 = 1;
      else if (A.kind === K_INF) { c2 = 1; c0 = 1; }
      else if (A.kind === K_ZERO) c3 = 1;
      else if (d) { c3 = 1; c2 = 1; }
      else c2 = 1;
      setCC(dv, c0, sign, c2, c3); return 0;
    }
    case 0xfa: { // FSQRT
      if (under(dv, false)) return 0;
      const d = readST(dv, 0, A);
      opSqrt(A, pcFormat(dv), d);
      if (!endOp(dv)) return 0;
      setC1FromRounding(dv); writeSTOut(dv, 0); return 0;
    }
    case 0xfc: { // FRNDINT
      if (under(dv, false)) return 0;
      const d = readST(dv, 0, A);
      roundToIntegral(A, d);
      if (!endOp(dv)) return 0;
      setC1FromRounding(dv); writeSTOut(dv, 0); return 0;
    }
    case 0xfd: return fscale(dv);
    case 0xf4: return fxtract(dv);
    case 0xf8: return fprem(dv, false);
    case 0xf5: return fprem(dv, true);
  }
  return transcendental(dv, code);
}

/** FRNDINT: round ST0 to an integral value by RC. Result into out. */
export function roundToIntegral(a: Fp, denorm: number): void { opRoundIntegral(a, EXT64, denorm); }
function setOutFrom(a: Fp): void {
  out.sign = a.sign;
  if (a.kind === K_ZERO) { out.bexp = 0; out.hi = 0; out.lo = 0; }
  else if (a.kind === K_INF) { out.bexp = 0x7fff; out.hi = 0x80000000; out.lo = 0; }
  else if (a.kind === K_NORMAL) {
    if (a.exp >= -16382) { out.bexp = a.exp + 16383; out.hi = a.hi; out.lo = a.lo; }
    else { // an exact denormal: shift into place, no flags
      const sh = -16382 - a.exp;
      out.bexp = 0;
      if (sh >= 64) { out.hi = 0; out.lo = 0; }
      else if (sh >= 32) { out.lo = a.hi >>> (sh - 32); out.hi = 0; }
      else { out.lo = ((a.lo >>> sh) | (sh ? a.hi << (32 - sh) : 0)) >>> 0; out.hi = a.hi >>> sh; }
    }
  }
  else { out.bexp = 0x7fff; out.hi = a.hi; out.lo = a.lo; }
}

/** FSCALE: ST0 <- ST0 * 2^trunc(ST1). */
function fscale(dv: DataView): number {
  if (under(dv, true)) return 0;
  const d = readST(dv, 0, A) | readST(dv, 1, B);
  const f = EXT64;
  if (A.kind === K_BAD || B.kind === K_BAD) { env.flags |= F_IE; outIndefinite(f); }
  else if (A.kind >= K_QNAN || B.kind >= K_QNAN) propagateNaN2(A, B, f, true);
  else if (B.kind === K_INF) {
    if (d) env.flags |= F_DE;
    if (B.sign) { // scale by 2^-inf
      if (A.kind === K_INF) { env.flags |= F_IE; outIndefinite(f); } else { out.sign = A.sign; out.bexp = 0; out.hi = 0; out.lo = 0; }
    } else if (A.kind === K_ZERO) { env.flags |= F_IE; outIndefinite(f); }
    else { out.sign = A.sign; out.bexp = 0x7fff; out.hi = 0x80000000; out.lo = 0; }
  } else {
    if (d) env.flags |= F_DE;
    if (A.kind !== K_NORMAL) setOutFrom(A);
    else {
      let n = 0;
      if (B.kind === K_NORMAL && B.exp >= 0) n = B.exp > 30 ? 0x40000000 : Math.floor(((B.hi >>> 0) / 2 ** (31 - B.exp)));
      if (B.sign) n = -n;
      roundPack(A.sign, A.exp + n, A.hi, A.lo, 0, 0, f);
    }
  }
  if (!endOp(dv)) return 0;
  setC1FromRounding(dv); writeSTOut(dv, 0); return 0;
}

/** FXTRACT: ST0 <- significand, then push; ST1 <- unbiased exponent. */
function fxtract(dv: DataView): number {
  if (isEmpty(dv, 0)) { // underflow: both become the indefinite, with no overflow report over a full stack (C1 stays 0)
    if (!stackFault(dv, false)) return 0;
    writeSTRaw(dv, 0, INDEF_LO, INDEF_HI, INDEF_SE); pushSlot(dv); writeSTRaw(dv, 0, INDEF_LO, INDEF_HI, INDEF_SE); return 0;
  }
  if (!isEmpty(dv, 7)) { // stack overflow: both become the indefinite
    if (!stackFault(dv, true)) return 0;
    writeSTRaw(dv, 0, INDEF_LO, INDEF_HI, INDEF_SE); pushSlot(dv); writeSTRaw(dv, 0, INDEF_LO, INDEF_HI, INDEF_SE); return 0;
  }
  const d = readST(dv, 0, A);
  let eSign = 0, eExp = 0, eHi = 0, eLo = 0; // exponent value, as 80-bit fields
  let sSign = A.sign, sExp = 0, sHi = 0, sLo = 0;
  if (A.kind === K_BAD) { env.flags |= F_IE; eSign = sSign = 1; eExp = sExp = 0x7fff; eHi = sHi = INDEF_HI; }
  else if (A.kind === K_QNAN || A.kind === K_SNAN) {
    if (A.kind === K_SNAN) env.flags |= F_IE;
    eSign = A.sign; eExp = sExp = 0x7fff; eHi = sHi = (A.hi | 0xc0000000) >>> 0; eLo = sLo = A.lo;
  } else if (A.kind === K_ZERO) { env.flags |= F_ZE; eSign = 1; eExp = 0x7fff; eHi = 0x80000000; sExp = 0; }
  else if (A.kind === K_INF) { eSign = 0; eExp = 0x7fff; eHi = 0x80000000; sExp = 0x7fff; sHi = 0x80000000; }
  else {
    if (d) env.flags |= F_DE;
    sExp = 16383; sHi = A.hi; sLo = A.lo;
    intToFp(T, A.exp, A.exp < 0 ? -1 : 0);
    if (T.kind === K_ZERO) { eSign = 0; eExp = 0; } else { eSign = T.sign; eExp = T.exp + 16383; eHi = T.hi; eLo = T.lo; }
  }
  if (!endOp(dv)) return 0;
  writeSTRaw(dv, 0, eLo, eHi, (eSign << 15) | eExp);
  out.sign = sSign; out.bexp = sExp; out.hi = sHi; out.lo = sLo;
  pushOut(dv);
  return 0;
}

/**
 * FPREM (truncating quotient) / FPREM1 (IEEE, nearest quotient). When the exponents differ by
 * 64 or more only a partial reduction is done and C2 is set; the guest loops until C2 = 0.
 */
function fprem(dv: DataView, ieee: boolean): number {
  if (under(dv, true)) { setFsw(dv, fsw(dv) & ~SW_C2); return 0; } // no reduction pending (C0/C3 kept, as the host does)
  const d = readST(dv, 0, A) | readST(dv, 1, B);
  const f = EXT64;
  let c0 = 0, c1 = 0, c2 = 0, c3 = 0, write = true;
  // A NaN result (NaN operand or invalid) has no quotient: C0 and C3 keep their values, C1 and C2
  // are cleared (what the host does; the SDM leaves it unsaid).
  const sw = fsw(dv);
  if (A.kind === K_BAD || B.kind === K_BAD || A.kind >= K_QNAN || B.kind >= K_QNAN || A.kind === K_INF || B.kind === K_ZERO) {
    c0 = (sw & SW_C0) !== 0 ? 1 : 0; c3 = (sw & SW_C3) !== 0 ? 1 : 0;
  }
  if (A.kind === K_BAD || B.kind === K_BAD) { env.flags |= F_IE; outIndefinite(f); }
  else if (A.kind >= K_QNAN || B.kind >= K_QNAN) propagateNaN2(A, B, f, true);
  else if (A.kind === K_INF || B.kind === K_ZERO) { env.flags |= F_IE; outIndefinite(f); }
  else {
    if (d) env.flags |= F_DE;
    if (A.kind === K_ZERO) setOutFrom(A);
    else if (B.kind === K_INF) roundPack(A.sign, A.exp, A.hi, A.lo, 0, 0, f);
    else {
      const diff = A.exp - B.exp;
      if (diff < 0 && !(ieee && diff === -1)) { roundPack(A.sign, A.exp, A.hi, A.lo, 0, 0, f); }
      else if (diff >= 64) {
        // partial: reduce the exponent difference to a value in 32..63 (Intel SDM FPREM)
        const n = 32 + (diff % 32);
        B.exp += diff - n;
        remainderSteps(A, B, n, 0, false);
        c2 = 1;
        if (T.kind === K_ZERO) { out.sign = A.sign; out.bexp = 0; out.hi = 0; out.lo = 0; }
        else roundPack(T.sign, T.exp, T.hi, T.lo, 0, 0, f);
      } else {
        const q = remainderSteps(A, B, diff, 0, ieee);
        c0 = (q >> 2) & 1; c3 = (q >> 1) & 1; c1 = q & 1;
        if (T.kind === K_ZERO) { out.sign = A.sign; out.bexp = 0; out.hi = 0; out.lo = 0; }
        else roundPack(T.sign, T.exp, T.hi, T.lo, 0, 0, f); // exact, but tiny results still signal UE
      }
    }
  }
  if (!endOp(dv)) return 0;
  if (write) writeSTOut(dv, 0);
  setCC(dv, c0, c1, c2, c3);
  return 0;
}

/**
 * Remainder of A by B*2^shift with quotient bits computed by long division over `diff+1`
 * steps (diff = exponent difference after the shift). Result exact in T; returns the low 3
 * quotient bits. For ieee the quotient is rounded to nearest-even.
 */
function remainderSteps(a: Fp, b: Fp, diff: number, shift: number, ieee: boolean): number {
  void shift;
  // r = a.sig, divisor = b.sig, both 64-bit; compute quotient bits for 2^diff .. 2^0
  let rhi = a.hi, rlo = a.lo, rtop = 0, q = 0;
  const bhi = b.hi, blo = b.lo;
  let steps = diff + 1;
  if (diff < 0) { steps = 0; }
  for (let k = 0; k < steps; k++) {
    if (k > 0) { rtop = rhi >>> 31; rhi = ((rhi << 1) | (rlo >>> 31)) >>> 0; rlo = (rlo << 1) >>> 0; }
    let bit = 0;
    if (rtop || rhi > bhi || (rhi === bhi && rlo >= blo)) {
      const l = rlo - blo; rlo = l >>> 0; rhi = (rhi - bhi - (l < 0 ? 1 : 0)) >>> 0; rtop = 0; bit = 1;
    }
    q = ((q << 1) | bit) & 0xff;
  }
  // remainder now r * 2^(b.exp - 63) with the sign of a
  let sign = a.sign, exp = b.exp;
  if (diff < 0) { exp = a.exp; } // (ieee with diff -1: r = a, quotient 0 so far)
  if (ieee) {
    // compare 2r with b: round quotient to nearest, ties to even
    // value of r relative to divisor: r (at exponent exp) vs b (at b.exp)
    const rShift = diff < 0 ? 1 : 0; // when diff = -1, r = a is half-scale relative to b
    const c = cmpTwice(rhi, rlo, rtop, bhi, blo, rShift);
    if (c > 0 || (c === 0 && (q & 1) === 1)) {
      // r <- b - r, flip sign, q++
      if (rShift) { // r is a with one less exponent: compute b - r/2 ... do it at double scale
        const t = subShifted(bhi, blo, rhi, rlo);
        rhi = t.hi; rlo = t.lo; exp = b.exp - 1; sign ^= 1;
      } else {
        const l = blo - rlo; rlo = l >>> 0; rhi = (bhi - rhi - (l < 0 ? 1 : 0)) >>> 0; sign ^= 1;
      }
      q = (q + 1) & 0xff;
    }
  }
  if ((rhi | rlo) === 0 && !rtop) { T.kind = K_ZERO; T.sign = sign; return q; }
  T.kind = K_NORMAL; T.sign = sign; T.hi = rhi; T.lo = rlo; T.exp = exp;
  normalize(T);
  return q;
}
/** Compare 2*r (r shifted right by rs first) with b. */
function cmpTwice(rhi: number, rlo: number, rtop: number, bhi: number, blo: number, rs: number): number {
  // 2r as 65-bit (top, hi, lo)
  let t = rtop * 2 + (rhi >>> 31), h = ((rhi << 1) | (rlo >>> 31)) >>> 0, l = (rlo << 1) >>> 0;
  if (rs) { l = ((l >>> 1) | (h << 31)) >>> 0; h = ((h >>> 1) | (t << 31)) >>> 0; t >>>= 1; }
  if (t) return 1;
  if (h !== bhi) return h > bhi ? 1 : -1;
  if (l !== blo) return l > blo ? 1 : -1;
  return 0;
}
const SUB = { hi: 0, lo: 0 };
/** 2*b - r (so that the result is (b - r/2) at one exponent lower). */
function subShifted(bhi: number, blo: number, rhi: number, rlo: number): typeof SUB {
  const h2 = ((bhi << 1) | (blo >>> 31)) >>> 0, l2 = (blo << 1) >>> 0; // drop b's top bit overflow: 2b - r < 2^64 since r >= b
  const l = l2 - rlo; SUB.lo = l >>> 0; SUB.hi = (h2 - rhi - (l < 0 ? 1 : 0)) >>> 0;
  return SUB;
}

// ---------------------------------------------------------------- constants
// 96-bit significands of the constants (Intel rounds them by RC, SDM Vol. 1 8.3.8).
const CONSTS: ReadonlyArray<readonly [number, number, number, number]> = [
  [0, 0x80000000, 0, 0],                     // E8 FLD1: exponent 0
  [1, 0xd49a784b, 0xcd1b8afe, 0x492bf6ff],   // E9 FLDL2T = log2(10)
  [0, 0xb8aa3b29, 0x5c17f0bb, 0xbe87fed0],   // EA FLDL2E = log2(e)
  [1, 0xc90fdaa2, 0x2168c234, 0xc4c6628b],   // EB FLDPI
  [-2, 0x9a209a84, 0xfbcff798, 0x8f8959ac],  // EC FLDLG2 = log10(2)
  [-1, 0xb17217f7, 0xd1cf79ab, 0xc9e3b398],  // ED FLDLN2 = ln(2)
];
export function x87Constant(dv: DataView, i: number): number {
  if (i === 6) { out.sign = 0; out.bexp = 0; out.hi = 0; out.lo = 0; } // FLDZ
  else if (i === 7) return 0;
  else {
    const c = CONSTS[i];
    const saved = env.flags;
    roundPack(0, c[0], c[1], c[2], c[3], i === 0 ? 0 : 1, EXT64);
    env.flags = saved; // constants do not raise PE
  }
  pushOut(dv);
  return 0;
}

