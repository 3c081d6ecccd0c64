// Binary floating point without JS bigints: one unpacked form (sign, unbounded exponent,
// 64-bit significand as two u32 halves) and one rounding routine parameterised by
// format, shared by the x87 (80-bit, precision control 24/53/64) and SSE (32/64-bit).
//
// Exactness: every operation produces its result to at least 96 significant bits
// plus a sticky bit before rounding, which is enough for correct rounding of
// add/sub/mul/div/sqrt to 64 bits. Exception flags use the MXCSR/FSW bit positions.

export const F_IE = 0x01, F_DE = 0x02, F_ZE = 0x04, F_OE = 0x08, F_UE = 0x10, F_PE = 0x20;
/** Rounding control, as the RC field of FCW and MXCSR encodes it. */
export const RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3;

/** Classes of an unpacked value. Denormal inputs are unpacked normalised (exp below emin). */
export const K_ZERO = 0, K_NORMAL = 1, K_INF = 2, K_QNAN = 3, K_SNAN = 4;

/**
 * An unpacked value. For K_NORMAL, hi bit 31 is set and the value is 1.f x 2^exp.
 * For NaNs hi:lo is the significand in 80-bit layout (bit 63 explicit, bit 62 quiet).
 */
export interface Fp { sign: number; exp: number; hi: number; lo: number; kind: number }
export const newFp = (): Fp => ({ sign: 0, exp: 0, hi: 0, lo: 0, kind: K_ZERO });

/** A destination format: significand precision and exponent range (emin is the normal minimum). */
/** wrap: the exponent adjustment of a trapped (unmasked) overflow/underflow, IEEE 754's alpha. */
export interface Format { p: number; emin: number; emax: number; bias: number; wrap: number }
export const EXT64: Format = { p: 64, emin: -16382, emax: 16383, bias: 16383, wrap: 24576 };
export const EXT53: Format = { p: 53, emin: -16382, emax: 16383, bias: 16383, wrap: 24576 };
export const EXT24: Format = { p: 24, emin: -16382, emax: 16383, bias: 16383, wrap: 24576 };
export const F64: Format = { p: 53, emin: -1022, emax: 1023, bias: 1023, wrap: 1536 };
export const F32: Format = { p: 24, emin: -126, emax: 127, bias: 127, wrap: 192 };

/** Rounding environment and outputs, module state so nothing allocates per operation. */
export const env = {
  rc: RC_NEAREST,
  /** Accumulated exception flags (F_*). */
  flags: 0,
  /** Set by roundPack when the magnitude was rounded up (x87 C1). */
  roundedUp: 0,
  /** SSE flush-to-zero: tiny results become zero (only meaningful with UE masked). */
  ftz: 0,
  /** Exception masks that change delivered results (x87 OE/UE unmasked: exponent-wrapped result). */
  oeMasked: 1, ueMasked: 1,
  /** Set by rounding when the result was tiny (before any flush or wrap). */
  tiny: 0,
};

/** The rounded result: biased exponent in the destination format and the significand left-aligned in 64 bits. */
export const out = { sign: 0, bexp: 0, hi: 0, lo: 0 };

// The pre-rounding significand: 96 bits in w0 (top), w1, w2, plus a sticky bit.
let w0 = 0, w1 = 0, w2 = 0, sticky = 0;

/** Shift the 96-bit window right by n, folding lost bits into sticky. */
function shrWindow(n: number): void {
  if (n <= 0) return;
  if (n >= 96) { sticky |= (w0 | w1 | w2) !== 0 ? 1 : 0; w0 = w1 = w2 = 0; return; }
  while (n >= 32) { sticky |= w2 !== 0 ? 1 : 0; w2 = w1; w1 = w0; w0 = 0; n -= 32; }
  if (n > 0) {
    sticky |= (w2 << (32 - n)) !== 0 ? 1 : 0;
    w2 = ((w2 >>> n) | (w1 << (32 - n))) >>> 0;
    w1 = ((w1 >>> n) | (w0 << (32 - n))) >>> 0;
    w0 = w0 >>> n;
  }
}

/** Shift the window left until bit 95 is set; returns the shift (window must be nonzero). */
function normWindow(): number {
  let s = 0;
  while (w0 === 0) { w0 = w1; w1 = w2; w2 = 0; s += 32; }
  const z = Math.clz32(w0);
  if (z > 0) {
    w0 = ((w0 << z) | (w1 >>> (32 - z))) >>> 0;
    w1 = ((w1 << z) | (w2 >>> (32 - z))) >>> 0;
    w2 = (w2 << z) >>> 0;
  }
  return s + z;
}

// Bit i of the window counted from the top (0 = bit 95).
const wordOf = (i: number): number => (i < 32 ? w0 : i < 64 ? w1 : w2);
function bitAt(i: number): number { return (wordOf(i) >>> (31 - (i & 31))) & 1; }
/** Any bit after index i (strictly below it in weight) set, or sticky. */
function anyBelow(i: number): boolean {
  if (sticky) return true;
  const wi = i >> 5, b = 31 - (i & 31); // bits 0..b-1 of word wi are below
  const m = b === 0 ? 0 : ((1 << b) - 1) >>> 0;
  if ((wordOf(i) & m) !== 0) return true;
  if (wi < 1 && w1 !== 0) return true;
  return wi < 2 && w2 !== 0;
}

let rInexact = false, rUp = false;
/** Should truncating at p bits round the magnitude up, given the rounding mode? Sets rInexact/rUp. */
function roundIncrement(sign: number, p: number): void {
  const half = p < 96 ? bitAt(p) : 0;
  const rest = p < 95 ? anyBelow(p) : sticky !== 0;
  const inexact = half === 1 || rest;
  let up = false;
  switch (env.rc) {
    case RC_NEAREST: up = half === 1 && (rest || bitAt(p - 1) === 1); break;
    case RC_DOWN: up = inexact && sign === 1; break;
    case RC_UP: up = inexact && sign === 0; break;
    default: up = false;
  }
  rInexact = inexact; rUp = up;
}

/** Clear bits from index p down, then add 1 at index p-1 if up; returns true on carry out of bit 95. */
function truncAndBump(p: number, up: boolean): boolean {
  // clear bits at index >= p
  for (let k = 0; k < 3; k++) {
    const lo = k * 32; // index of this word's top bit
    if (p <= lo) { if (k === 0) w0 = 0; else if (k === 1) w1 = 0; else w2 = 0; continue; }
    if (p >= lo + 32) continue;
    const keep = p - lo; // top `keep` bits stay
    const m = (0xffffffff << (32 - keep)) >>> 0;
    if (k === 0) w0 = (w0 & m) >>> 0; else if (k === 1) w1 = (w1 & m) >>> 0; else w2 = (w2 & m) >>> 0;
  }
  sticky = 0;
  if (!up) return false;
  const idx = p - 1, wi = idx >> 5;
  let add = 2 ** (31 - (idx & 31));
  if (wi === 2) { const t = w2 + add; w2 = t >>> 0; add = t > 0xffffffff ? 1 : 0; }
  if (wi >= 1 && add) { const t = w1 + add; w1 = t >>> 0; add = t > 0xffffffff ? 1 : 0; }
  if (!add) return false;
  const t = w0 + add; w0 = t >>> 0;
  return t > 0xffffffff;
}

/**
 * Round the window (value = 0.w x 2^(exp+1), i.e. bit 95 has weight 2^exp) to format f
 * and leave the result in `out`. Sets PE/UE/OE and env.roundedUp.
 * Tininess is detected after rounding, as x86 does.
 */
function roundWindow(sign: number, exp: number, f: Format): void {
  env.roundedUp = 0; env.tiny = 0;
  if ((w0 | w1 | w2) === 0 && !sticky) { setZero(sign, f); return; }
  exp -= normWindow();
  if (exp < f.emin) {
    // tiny after rounding? Round a copy with unbounded exponent and see if it reaches 2^emin.
    let tiny = true;
    if (exp === f.emin - 1) {
      const s0 = w0, s1 = w1, s2 = w2, ss = sticky;
      roundIncrement(sign, f.p);
      if (rUp && truncAndBump(f.p, true)) tiny = false;
      w0 = s0; w1 = s1; w2 = s2; sticky = ss;
    }
    if (tiny) {
      env.tiny = 1;
      if (!env.ueMasked && exp + f.wrap >= f.emin) {
        env.flags |= F_UE; exp += f.wrap;
      } else if (!env.ueMasked) { // too small even for the wrapped exponent: a signed zero
        // (the x87 reports PE too; SSE only if the value is inexact at full precision)
        roundIncrement(sign, f.p);
        env.flags |= F_UE | (rInexact || f.bias === 16383 ? F_PE : 0); setZero(sign, f); return;
      } else if (env.ftz) {
        env.flags |= F_UE | F_PE; setZero(sign, f); return;
      } else {
        shrWindow(f.emin - exp); exp = f.emin;
        roundIncrement(sign, f.p);
        const up = rUp;
        if (rInexact) env.flags |= F_UE | F_PE;
        if (!env.ueMasked) env.flags |= F_UE;
        if (truncAndBump(f.p, up)) { w0 = 0x80000000; exp++; }
        env.roundedUp = up ? 1 : 0;
        out.sign = sign; out.hi = w0; out.lo = w1;
        out.bexp = (w0 & 0x80000000) !== 0 ? exp + f.bias : 0;
        return;
      }
    }
  }
  roundIncrement(sign, f.p);
  const up = rUp;
  if (truncAndBump(f.p, up)) { w0 = 0x80000000; exp++; }
  if (rInexact) env.flags |= F_PE;
  env.roundedUp = up ? 1 : 0;
  if (exp > f.emax) {
    if (!env.oeMasked && exp - f.wrap <= f.emax) { env.flags |= F_OE; exp -= f.wrap; }
    else if (!env.oeMasked) { env.flags |= F_OE | F_PE; setInf(sign, f); env.roundedUp = 1; return; }
    else { env.flags |= F_OE | F_PE; setOverflow(sign, f); return; }
  }
  out.sign = sign; out.bexp = exp + f.bias; out.hi = w0; out.lo = w1;
}

function setZero(sign: number, f: Format): void {
  void f; out.sign = sign; out.bexp = 0; out.hi = 0; out.lo = 0;
}
function setInf(sign: number, f: Format): void {
  out.sign = sign; out.bexp = f.emax + f.bias + 1; out.hi = 0x80000000; out.lo = 0;
}
/** Largest finite magnitude with f.p significant bits. */
function setMaxFinite(sign: number, f: Format): void {
  out.sign = sign; out.bexp = f.emax + f.bias;
  out.hi = f.p >= 32 ? 0xffffffff : (0xffffffff << (32 - f.p)) >>> 0;
  out.lo = f.p <= 32 ? 0 : f.p >= 64 ? 0xffffffff : (0xffffffff << (64 - f.p)) >>> 0;
}
function setOverflow(sign: number, f: Format): void {
  const toInf = env.rc === RC_NEAREST || (env.rc === RC_UP && sign === 0) || (env.rc === RC_DOWN && sign === 1);
  if (toInf) setInf(sign, f); else setMaxFinite(sign, f);
  env.roundedUp = toInf ? 1 : 0;
}

/** Round an exact finite nonzero value given as a 64-bit significand with extra bits. */
export function roundPack(sign: number, exp: number, hi: number, lo: number, ext: number, st: number, f: Format): void {
  w0 = hi >>> 0; w1 = lo >>> 0; w2 = ext >>> 0; sticky = st ? 1 : 0;
  roundWindow(sign, exp, f);
}

/** Store an unpacked value (any class) to `out` in format f: NaN payloads are kept as-is (caller quiets). */
export function packFp(a: Fp, f: Format): void {
  switch (a.kind) {
    case K_ZERO: setZero(a.sign, f); env.roundedUp = 0; return;
    case K_INF: setInf(a.sign, f); env.roundedUp = 0; return;
    case K_QNAN: case K_SNAN:
      out.sign = a.sign; out.bexp = f.emax + f.bias + 1; out.hi = a.hi; out.lo = a.lo; env.roundedUp = 0; return;
    default: roundPack(a.sign, a.exp, a.hi, a.lo, 0, 0, f);
  }
}

// ---------------------------------------------------------------- NaN helpers
export function setQuietNaN(a: Fp): void { a.kind = K_QNAN; a.hi = (a.hi | 0xc0000000) >>> 0; }
/** The default QNaN ("real indefinite"): negative, quiet bit only. */
export function setIndefinite(a: Fp): void { a.kind = K_QNAN; a.sign = 1; a.exp = 0; a.hi = 0xc0000000; a.lo = 0; }
export const isNaNK = (k: number): boolean => k === K_QNAN || k === K_SNAN;
export function copyFp(d: Fp, s: Fp): void { d.sign = s.sign; d.exp = s.exp; d.hi = s.hi; d.lo = s.lo; d.kind = s.kind; }

// ---------------------------------------------------------------- arithmetic
// Results of finite operations are rounded straight into `out`; the callers
// (x87 and SSE layers) handle specials (NaN, Inf, 0) before calling these.

/** |a| + |b| or |a| - |b| (finite nonzero), result sign chosen by caller logic; rounds into out. */
export function addFinite(a: Fp, b: Fp, negB: number, f: Format): void {
  const bs = b.sign ^ negB;
  // order so that |x| >= |y|
  let x = a, y = b, xs = a.sign, ys = bs;
  if (b.exp > a.exp || (b.exp === a.exp && (b.hi > a.hi || (b.hi === a.hi && b.lo > a.lo)))) {
    x = b; y = a; xs = bs; ys = a.sign;
  }
  const d = x.exp - y.exp;
  // y into the window, shifted right by d+1 (one bit of headroom for a carry)
  w0 = y.hi; w1 = y.lo; w2 = 0; sticky = 0;
  shrWindow(d + 1);
  const y0 = w0, y1 = w1, y2 = w2, ysticky = sticky;
  // x shifted right by 1
  const x0 = x.hi >>> 1, x1 = ((x.lo >>> 1) | (x.hi << 31)) >>> 0, x2 = (x.lo << 31) >>> 0;
  if (xs === ys) {
    let s2 = x2 + y2, c = s2 > 0xffffffff ? 1 : 0;
    let s1 = x1 + y1 + c; c = s1 > 0xffffffff ? 1 : 0;
    const s0 = x0 + y0 + c;
    w0 = s0 >>> 0; w1 = s1 >>> 0; w2 = s2 >>> 0; sticky = ysticky;
    roundWindow(xs, x.exp + 1, f);
    return;
  }
  // subtraction: jam the sticky as a borrow at the bottom
  let s2 = x2 - y2 - ysticky, b2 = s2 < 0 ? 1 : 0;
  let s1 = x1 - y1 - b2, b1 = s1 < 0 ? 1 : 0;
  const s0 = x0 - y0 - b1;
  w0 = s0 >>> 0; w1 = s1 >>> 0; w2 = s2 >>> 0; sticky = ysticky;
  if ((w0 | w1 | w2) === 0 && !sticky) { setZero(env.rc === RC_DOWN ? 1 : 0, f); env.roundedUp = 0; return; }
  roundWindow(xs, x.exp + 1, f);
}

// 16-bit limb helpers for the 64x64 product.
const PA = new Float64Array(4), PB = new Float64Array(4), PP = new Float64Array(8);
function split16(dst: Float64Array, hi: number, lo: number): void {
  dst[0] = lo & 0xffff; dst[1] = lo >>> 16; dst[2] = hi & 0xffff; dst[3] = hi >>> 16;
}
/** 64x64 -> 128-bit product in PP as 8 x 16-bit limbs (little-endian). */
export function mul64(ahi: number, alo: number, bhi: number, blo: number): Float64Array {
  split16(PA, ahi, alo); split16(PB, bhi, blo);
  PP.fill(0);
  for (let i = 0; i < 4; i++) {
    let carry = 0;
    for (let j = 0; j < 4; j++) {
      const t = PP[i + j] + PA[i] * PB[j] + carry;
      PP[i + j] = t % 65536; carry = Math.floor(t / 65536);
    }
    PP[i + 4] += carry;
  }
  return PP;
}

export function mulFinite(a: Fp, b: Fp, f: Format): void {
  const p = mul64(a.hi, a.lo, b.hi, b.lo);
  w0 = (p[7] * 65536 + p[6]) >>> 0; w1 = (p[5] * 65536 + p[4]) >>> 0; w2 = (p[3] * 65536 + p[2]) >>> 0;
  sticky = (p[1] | p[0]) !== 0 ? 1 : 0;
  // product of two [1,2) significands is in [1,4): bit 127 has weight 2^(ea+eb+1)
  roundWindow(a.sign ^ b.sign, a.exp + b.exp + 1, f);
}

/** Restoring division of significands: 96 quotient bits + sticky from the remainder. */
export function divFinite(a: Fp, b: Fp, f: Format): void {
  let rhi = a.hi, rlo = a.lo, rtop = 0;
  const bhi = b.hi, blo = b.lo;
  let q0 = 0, q1 = 0, q2 = 0;
  for (let i = 0; i < 96; i++) {
    let bit = 0;
    if (rtop || rhi > bhi || (rhi === bhi && rlo >= blo)) {
      const l = rlo - blo; rlo = l >>> 0;
      rhi = (rhi - bhi - (l < 0 ? 1 : 0)) >>> 0; rtop = 0; bit = 1;
    }
    q0 = ((q0 << 1) | (q1 >>> 31)) >>> 0; q1 = ((q1 << 1) | (q2 >>> 31)) >>> 0; q2 = ((q2 << 1) | bit) >>> 0;
    rtop = rhi >>> 31; rhi = ((rhi << 1) | (rlo >>> 31)) >>> 0; rlo = (rlo << 1) >>> 0;
  }
  w0 = q0; w1 = q1; w2 = q2; sticky = (rtop | rhi | rlo) !== 0 ? 1 : 0;
  // first quotient bit has weight 2^(ea-eb)
  roundWindow(a.sign ^ b.sign, a.exp - b.exp, f);
}

/** Square root of a positive finite value: digit-by-digit on 16-bit limbs. */
const SQ_N = new Float64Array(14), SQ_R = new Float64Array(14), SQ_T = new Float64Array(14);
export function sqrtFinite(a: Fp, f: Format): void {
  // value = sig * 2^(e-63). Radicand M = sig << sh with e-63-sh even and M of 191/192 bits,
  // so floor(sqrt(M)) has exactly 96 bits whose top bit weighs 2^floor(e/2).
  const odd = a.exp & 1;
  SQ_N.fill(0);
  setLimbsShifted(SQ_N, a.hi, a.lo, odd ? 128 : 127);
  SQ_R.fill(0);
  let r0 = 0, r1 = 0, r2 = 0;
  for (let pair = 95; pair >= 0; pair--) {
    shlLimbs(SQ_R, 2);
    SQ_R[0] += (limbBit(SQ_N, 2 * pair + 1) << 1) | limbBit(SQ_N, 2 * pair);
    SQ_T.fill(0);
    setLimbs96(SQ_T, r0, r1, r2); shlLimbs(SQ_T, 2); SQ_T[0] += 1;
    const ge = cmpLimbs(SQ_R, SQ_T) >= 0;
    if (ge) subLimbs(SQ_R, SQ_T);
    r0 = ((r0 << 1) | (r1 >>> 31)) >>> 0; r1 = ((r1 << 1) | (r2 >>> 31)) >>> 0; r2 = ((r2 << 1) | (ge ? 1 : 0)) >>> 0;
  }
  let nz = false;
  for (let i = 0; i < SQ_R.length; i++) if (SQ_R[i] !== 0) nz = true;
  w0 = r0; w1 = r1; w2 = r2; sticky = nz ? 1 : 0;
  roundWindow(0, Math.floor(a.exp / 2), f);
}

function setLimbsShifted(x: Float64Array, hi: number, lo: number, sh: number): void {
  for (let b = 0; b < 64; b++) {
    const v = b < 32 ? (lo >>> b) & 1 : (hi >>> (b - 32)) & 1;
    if (v) { const pos = b + sh; x[pos >> 4] += 2 ** (pos & 15); }
  }
}
function setLimbs96(x: Float64Array, a0: number, a1: number, a2: number): void {
  x[0] = a2 & 0xffff; x[1] = a2 >>> 16; x[2] = a1 & 0xffff; x[3] = a1 >>> 16; x[4] = a0 & 0xffff; x[5] = a0 >>> 16;
}
function limbBit(x: Float64Array, i: number): number { return (x[i >> 4] >>> (i & 15)) & 1; }
function shlLimbs(x: Float64Array, n: number): void {
  let carry = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] * (1 << n) + carry; x[i] = v % 65536; carry = Math.floor(v / 65536);
  }
}
function cmpLimbs(a: Float64Array, b: Float64Array): number {
  for (let i = a.length - 1; i >= 0; i--) if (a[i] !== b[i]) return a[i] > b[i] ? 1 : -1;
  return 0;
}
function subLimbs(a: Float64Array, b: Float64Array): void {
  let borrow = 0;
  for (let i = 0; i < a.length; i++) {
    let v = a[i] - b[i] - borrow;
    borrow = v < 0 ? 1 : 0; if (v < 0) v += 65536; a[i] = v;
  }
}

/** Compare magnitudes+signs of two non-NaN values: -1, 0, 1. */
export function compareFp(a: Fp, b: Fp): number {
  if (a.kind === K_ZERO && b.kind === K_ZERO) return 0;
  if (a.sign !== b.sign) return a.sign ? -1 : 1;
  const s = a.sign ? -1 : 1;
  const ra = a.kind === K_ZERO ? 0 : a.kind === K_INF ? 2 : 1;
  const rb = b.kind === K_ZERO ? 0 : b.kind === K_INF ? 2 : 1;
  if (ra !== rb) return ra > rb ? s : -s;
  if (ra !== 1) return 0;
  if (a.exp !== b.exp) return a.exp > b.exp ? s : -s;
  if (a.hi !== b.hi) return a.hi > b.hi ? s : -s;
  if (a.lo !== b.lo) return a.lo > b.lo ? s : -s;
  return 0;
}
