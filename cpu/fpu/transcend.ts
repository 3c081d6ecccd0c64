// x87 transcendental instructions: FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X, FYL2XP1.
// Values are computed in bigfloat.ts to ~220 bits and rounded once to 64 bits by RC.
// FSIN/FCOS/FSINCOS/FPTAN reduce the argument with the 66-bit approximation of pi that the
// hardware uses (Intel SDM Vol. 1 8.3.10): the host's results match sin(x * pi / pi66).

import { Fp, newFp, env, out, EXT64, roundPack, K_ZERO, K_NORMAL, K_INF, K_QNAN, K_SNAN, F_IE, F_DE, F_ZE, F_PE, F_UE } from './softfloat.js';
import { K_BAD, propagateNaN2, outIndefinite } from './arith.js';
import {
  readST, writeSTRaw, writeSTOut, pop, isEmpty, stackFault, endOp, setC1FromRounding, fsw, setFsw, SW_C2,
  INDEF_LO, INDEF_HI, INDEF_SE, pushSlot,
} from './x87state.js';
import {
  Big, big, copy, NL, fromFp, fromHex, fromInt, add, sub, mul, div, divInt, scale, sqrt, nearestInt, toWindow, isZero, cmp, neg,
} from './bigfloat.js';

const A = newFp(), B = newFp();
const W = new Uint32Array(3);

// Constants (hex digits of the significand, value = 0.hex * 2^e).
const PI = fromHex('c90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea6', 2);
/** pi/2 as the reduction uses it: pi rounded to 66 bits, halved. */
const PI66_HALF = fromHex('c90fdaa22168c234c', 1);
const LN2 = fromHex('b17217f7d1cf79abc9e3b39803f2f6af40f343267298b62d8a0d175b', 0);
const ONE = fromInt(1), TWO = fromInt(2);

/** Round a Big into softfloat's `out` (64-bit precision, RC from env). */
function roundBig(v: Big): void {
  if (isZero(v)) { out.sign = 0; out.bexp = 0; out.hi = 0; out.lo = 0; env.roundedUp = 0; return; }
  const st = toWindow(v, W);
  roundPack(v.s, v.e - 1, W[0], W[1], W[2], st, EXT64);
}

/**
 * A series stopped because its next term is below the working precision: nudge the sum by
 * one unit of its last place toward that term, so rounding sees the right side and PE.
 */
function tail(sum: Big, next: Big): Big {
  if (isZero(next)) return sum;
  const eps = scale(fromInt(next.s ? -1 : 1), sum.e - 190);
  return add(sum, eps);
}

/** Taylor series sin (odd) / cos (even) of a small r. */
function sinCosSeries(r: Big, odd: boolean): Big {
  const r2 = mul(r, r);
  let term = odd ? r : ONE, sum = term;
  for (let k = odd ? 2 : 1; k < 80; k++) {
    const n = odd ? 2 * k - 1 : 2 * k; // term *= -r^2 / ((n-1) n)
    term = divInt(neg(mul(term, r2)), (n - 1) * n);
    if (isZero(term) || term.e < sum.e - 200) return tail(sum, term);
    sum = add(sum, term);
  }
  return sum;
}
/** sin/cos of x after reduction by pi66/2: quadrant q, remainder r. */
function reduce(x: Big): { r: Big; q: number } {
  const { q, low } = nearestInt(div(x, PI66_HALF));
  return { r: sub(x, mul(q, PI66_HALF)), q: low };
}
function sinBig(x: Big): Big {
  const { r, q } = reduce(x);
  const v = q & 1 ? sinCosSeries(r, false) : sinCosSeries(r, true);
  return q & 2 ? neg(v) : v;
}
function cosBig(x: Big): Big {
  const { r, q } = reduce(x);
  const v = q & 1 ? sinCosSeries(r, true) : sinCosSeries(r, false);
  return (q + 1) & 2 ? neg(v) : v;
}

/** atan(t) for 0 <= t <= 1: halve the angle twice, then the odd series. */
function atanBig(t: Big): Big {
  let u = t;
  for (let i = 0; i < 2; i++) u = div(u, add(ONE, sqrt(add(ONE, mul(u, u)))));
  const u2 = mul(u, u);
  let pw = u, sum = u;
  for (let k = 1; k < 200; k++) {
    pw = neg(mul(pw, u2));
    const term = divInt(pw, 2 * k + 1);
    if (isZero(term) || term.e < sum.e - 200) return scale(tail(sum, term), 2);
    sum = add(sum, term);
  }
  return scale(sum, 2);
}
/** ln(m) for m near 1 via 2 atanh((m-1)/(m+1)); `u` may be given directly. */
function atanh2(u: Big): Big {
  const u2 = mul(u, u);
  let pw = u, sum = u;
  for (let k = 1; k < 200; k++) {
    pw = mul(pw, u2);
    const term = divInt(pw, 2 * k + 1);
    if (isZero(term) || term.e < sum.e - 200) return scale(tail(sum, term), 1);
    sum = add(sum, term);
  }
  return scale(sum, 1);
}
/** log2 of a positive value: v = m * 2^e with m in [sqrt(1/2), sqrt(2)), ln(m) by atanh. */
function log2Big(v: Big): Big {
  let e = v.e;
  let m = copy(v); m.e = 0; // [0.5, 1)
  if (m.m[NL - 1] < 0xb505) { m = scale(m, 1); e -= 1; } // below sqrt(1/2): double it
  const ln = atanh2(div(sub(m, ONE), add(m, ONE)));
  return add(fromInt(e), div(ln, LN2));
}
/** 2^x - 1 for |x| <= 1: expm1(x ln 2) by its series. */
function exp2m1Big(x: Big): Big {
  const z = mul(x, LN2);
  let term = z, sum = z;
  for (let k = 2; k < 200; k++) {
    term = divInt(mul(term, z), k);
    if (isZero(term) || term.e < sum.e - 200) return tail(sum, term);
    sum = add(sum, term);
  }
  return sum;
}

function under(dv: DataView, two: boolean): boolean {
  if (!isEmpty(dv, 0) && (!two || !isEmpty(dv, 1))) return false;
  if (stackFault(dv, false)) {
    writeSTRaw(dv, 0, INDEF_LO, INDEF_HI, INDEF_SE);
    if (two) { writeSTRaw(dv, 1, INDEF_LO, INDEF_HI, INDEF_SE); pop(dv); }
  }
  return true;
}
const isNaNK = (k: number): boolean => k === K_QNAN || k === K_SNAN;
function quietOut(a: Fp): void { if (a.kind === K_SNAN) env.flags |= F_IE; out.sign = a.sign; out.bexp = 0x7fff; out.hi = (a.hi | 0xc0000000) >>> 0; out.lo = a.lo; }

/** Argument check shared by FSIN/FCOS/FSINCOS/FPTAN: returns 0 go on, 1 result in out, 2 out of range (C2). */
function trigArg(dv: DataView): number {
  const d = readST(dv, 0, A);
  if (A.kind === K_BAD || A.kind === K_INF) { env.flags |= F_IE; outIndefinite(EXT64); return 1; }
  if (isNaNK(A.kind)) { quietOut(A); return 1; }
  if (d) env.flags |= F_DE;
  if (A.kind === K_NORMAL && A.exp >= 63) return 2;
  return 0;
}

export function transcendental(dv: DataView, code: number): number {
  switch (code) {
    case 0xfe: case 0xff: { // FSIN, FCOS
      if (under(dv, false)) return 0;
      const k = trigArg(dv);
      if (k === 2) { setFsw(dv, fsw(dv) | SW_C2); return 0; }
      if (k === 0) {
        if (A.kind === K_ZERO) { if (code === 0xfe) { out.sign = A.sign; out.bexp = 0; out.hi = 0; out.lo = 0; } else roundBig(ONE); }
        else roundBig(code === 0xfe ? sinBig(fromFp(A)) : cosBig(fromFp(A)));
      }
      if (!endOp(dv)) return 0;
      setC1FromRounding(dv); setFsw(dv, fsw(dv) & ~SW_C2); writeSTOut(dv, 0);
      return 0;
    }
    case 0xfb: case 0xf2: { // FSINCOS: ST0 <- sin, push cos. FPTAN: ST0 <- tan, push 1.
      if (under(dv, false)) return 0;
      if (!isEmpty(dv, 7)) {
        if (stackFault(dv, true)) { writeSTRaw(dv, 0, INDEF_LO, INDEF_HI, INDEF_SE); pushSlot(dv); writeSTRaw(dv, 0, INDEF_LO, INDEF_HI, INDEF_SE); }
        return 0;
      }
      const k = trigArg(dv);
      if (k === 2) { setFsw(dv, fsw(dv) | SW_C2); return 0; }
      let lo2 = 0, hi2 = 0, se2 = 0;
      if (k === 1) { lo2 = out.lo; hi2 = out.hi; se2 = (out.sign << 15) | out.bexp; }
      else if (A.kind === K_ZERO) {
        out.sign = A.sign; out.bexp = 0; out.hi = 0; out.lo = 0; hi2 = 0x80000000; se2 = 0x3fff;
      } else {
        const x = fromFp(A);
        if (code === 0xfb) {
          roundBig(cosBig(x)); lo2 = out.lo; hi2 = out.hi; se2 = (out.sign << 15) | out.bexp;
          roundBig(sinBig(x));
        } else {
          roundBig(div(sinBig(x), cosBig(x))); hi2 = 0x80000000; se2 = 0x3fff;
        }
      }
      if (!endOp(dv)) return 0;
      setC1FromRounding(dv); setFsw(dv, fsw(dv) & ~SW_C2);
      writeSTOut(dv, 0);
      pushSlot(dv); writeSTRaw(dv, 0, lo2, hi2, se2);
      return 0;
    }
    case 0xf3: return fpatan(dv);
    case 0xf0: { // F2XM1
      if (under(dv, false)) return 0;
      const d = readST(dv, 0, A);
      if (A.kind === K_BAD) { env.flags |= F_IE; outIndefinite(EXT64); }
      else if (isNaNK(A.kind)) quietOut(A);
      else {
        if (d) env.flags |= F_DE;
        if (A.kind === K_ZERO) { out.sign = A.sign; out.bexp = 0; out.hi = 0; out.lo = 0; }
        else if (A.kind === K_INF) { if (A.sign) roundBig(neg(ONE)); else { out.sign = 0; out.bexp = 0x7fff; out.hi = 0x80000000; out.lo = 0; } }
        else roundBig(exp2m1Big(fromFp(A)));
      }
      if (!endOp(dv)) return 0;
      setC1FromRounding(dv); writeSTOut(dv, 0);
      return 0;
    }
    case 0xf1: case 0xf9: return fyl2x(dv, code === 0xf9);
  }
  return 0;
}

const UNDERFLOW = -1, DECIDED = 2;
/**
 * The start of FYL2X/FYL2XP1/FPATAN: x = ST0 into A, y = ST1 into B. Returns UNDERFLOW (an empty
 * register: handled), DECIDED (an unsupported operand or a NaN made the result, in `out`), or
 * else 1 if an operand was denormal, 0 if not.
 */
function binaryStart(dv: DataView): number {
  if (under(dv, true)) return UNDERFLOW;
  const d = readST(dv, 0, A) | readST(dv, 1, B);
  if (A.kind === K_BAD || B.kind === K_BAD) { env.flags |= F_IE; outIndefinite(EXT64); return DECIDED; }
  if (isNaNK(A.kind) || isNaNK(B.kind)) { propagateNaN2(A, B, EXT64, true); return DECIDED; }
  return d;
}
/** The end of FYL2X/FYL2XP1/FPATAN: the result in `out` replaces ST1, then pop (unless an unmasked exception stops it). */
function binaryEnd(dv: DataView): number {
  if (!endOp(dv)) return 0;
  setC1FromRounding(dv); writeSTOut(dv, 1); pop(dv);
  return 0;
}

/** FYL2X: ST1 <- ST1 * log2(ST0); FYL2XP1: ST1 <- ST1 * log2(ST0 + 1); then pop. */
function fyl2x(dv: DataView, p1: boolean): number {
  const d = binaryStart(dv);
  if (d === UNDERFLOW) return 0;
  const x = A, y = B;
  if (d !== DECIDED) {
    // the argument of log2: x (FYL2X) or 1 + x (FYL2XP1); classify it
    const argNeg = p1 ? x.sign === 1 && (x.kind === K_INF || (x.kind === K_NORMAL && x.exp >= 0)) : x.sign === 1 && x.kind !== K_ZERO;
    const argZero = p1 ? false : x.kind === K_ZERO;
    const argOne = p1 ? x.kind === K_ZERO : x.kind === K_NORMAL && x.exp === 0 && x.hi === 0x80000000 && x.lo === 0 && x.sign === 0;
    const argInf = x.kind === K_INF && x.sign === 0;
    if (argNeg) { env.flags |= F_IE; outIndefinite(EXT64); }
    else if (argZero) {
      if (y.kind === K_ZERO) { env.flags |= F_IE; outIndefinite(EXT64); }
      else { if (y.kind !== K_INF) env.flags |= F_ZE; else if (d) env.flags |= F_DE; infOut(y.sign ^ 1); }
    } else if (argInf) {
      if (y.kind === K_ZERO) { env.flags |= F_IE; outIndefinite(EXT64); }
      else { if (d) env.flags |= F_DE; infOut(y.sign); }
    } else if (y.kind === K_INF) {
      if (argOne) { env.flags |= F_IE; outIndefinite(EXT64); }
      else {
        if (d) env.flags |= F_DE;
        // log2 of the argument is negative below 1
        const below = p1 ? x.sign === 1 : x.exp < 0;
        infOut(y.sign ^ (below ? 1 : 0));
      }
    } else {
      if (d) env.flags |= F_DE;
      if (argOne || y.kind === K_ZERO) {
        // (FYL2XP1 of a zero keeps the zero's sign: the host computes it as x * y / ln 2)
        const below = p1 ? x.sign === 1 : x.exp < 0;
        out.sign = y.sign ^ (argOne ? (p1 ? x.sign : 0) : below ? 1 : 0); out.bexp = 0; out.hi = 0; out.lo = 0;
      } else {
        roundBig(p1 ? ylog2xp1Big(fromFp(y), fromFp(x)) : mul(fromFp(y), log2Big(fromFp(x))));
        // the host reports PE (and so UE for a tiny result) even when the product is exact
        env.flags |= F_PE;
        if (env.tiny) env.flags |= F_UE;
      }
    }
  }
  return binaryEnd(dv);
}
/** y * log2(1 + x) as FYL2XP1 computes it. */
function ylog2xp1Big(y: Big, x: Big): Big {
  // -0.5 < x < 1: 2 atanh(x / (2 + x)) keeps full precision; beyond its defined range the
  // host goes on computing log2(1 + x) with 1 + x unrounded
  const small = x.e <= 0 && !(x.s && x.e === 0);
  return mul(y, small ? div(atanh2(div(x, add(TWO, x))), LN2) : log2Big(add(ONE, x)));
}
/** atan2(y, x) for finite nonzero x and y. */
function atan2Big(y: Big, x: Big): Big {
  const ax = x.s ? neg(x) : x, ay = y.s ? neg(y) : y;
  let v = cmp(ay, ax) <= 0 ? atanBig(div(ay, ax)) : sub(scale(PI, -1), atanBig(div(ax, ay)));
  if (x.s) v = sub(PI, v);
  return y.s ? neg(v) : v;
}

/**
 * The unrounded results of the transcendentals for finite nonzero operands (x = ST0, y = ST1),
 * for tests that judge how close a result lies to a rounding boundary.
 */
export const exactResults = {
  sin: sinBig, cos: cosBig, tan: (x: Big): Big => div(sinBig(x), cosBig(x)),
  exp2m1: exp2m1Big, atan2: atan2Big, ylog2x: (y: Big, x: Big): Big => mul(y, log2Big(x)), ylog2xp1: ylog2xp1Big,
};

function infOut(sign: number): void { out.sign = sign; out.bexp = 0x7fff; out.hi = 0x80000000; out.lo = 0; env.roundedUp = 0; }

/** FPATAN: ST1 <- atan2(ST1, ST0), pop. Zeros and infinities follow the IEEE atan2 table (no IE). */
function fpatan(dv: DataView): number {
  const d = binaryStart(dv);
  if (d === UNDERFLOW) return 0;
  const x = A, y = B;
  if (d !== DECIDED) {
    if (d) env.flags |= F_DE;
    let v: Big;
    if (y.kind === K_ZERO || (x.kind === K_INF && y.kind !== K_INF)) {
      // angle 0 or pi with the sign of y
      if (x.sign) v = PI; else v = big();
      if (isZero(v)) { out.sign = y.sign; out.bexp = 0; out.hi = 0; out.lo = 0; env.roundedUp = 0; }
      else { v = y.sign ? neg(v) : v; roundBig(v); }
    } else if (x.kind === K_ZERO || (y.kind === K_INF && x.kind !== K_INF)) {
      v = scale(PI, -1); roundBig(y.sign ? neg(v) : v);
    } else if (x.kind === K_INF && y.kind === K_INF) {
      v = scale(PI, -2); if (x.sign) v = mul(v, fromInt(3)); roundBig(y.sign ? neg(v) : v);
    } else {
      roundBig(atan2Big(fromFp(y), fromFp(x)));
    }
  }
  return binaryEnd(dv);
}

