// Wide integer arithmetic on 32-bit words without BigInt: 32x32 and 64x64
// multiplication and 128/64 division, for MUL/IMUL/DIV/IDIV. Results go to a
// module-level word array (no allocation per instruction).

/** Result words, least significant first: products use 0..3, division puts quotient in 0..1, remainder in 2..3. */
export const W = new Int32Array(4);

const TWO32 = 4294967296;

/** Unsigned 32x32 -> 64: low word returned, high word in W[1] (W[0] = low). */
export function mulU32(a: number, b: number): number {
  const ua = a >>> 0;
  const p0 = ua * (b & 0xffff), p1 = ua * (b >>> 16);
  const t = Math.floor(p0 / 65536) + p1;
  W[1] = Math.floor(t / 65536) | 0;
  W[0] = Math.imul(a, b);
  return W[0];
}

/** The high word of the unsigned 32x32 product (no W traffic, for IMUL's 64-bit low half). */
export function mulHiU32(a: number, b: number): number {
  const ua = a >>> 0;
  const t = Math.floor((ua * (b & 0xffff)) / 65536) + ua * (b >>> 16);
  return Math.floor(t / 65536) | 0;
}

/** Unsigned 64x64 -> 128 into W[0..3]. */
export function mulU64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  const l00 = mulU32(aLo, bLo), h00 = W[1] >>> 0;
  const l01 = mulU32(aLo, bHi) >>> 0, h01 = W[1] >>> 0;
  const l10 = mulU32(aHi, bLo) >>> 0, h10 = W[1] >>> 0;
  const l11 = mulU32(aHi, bHi) >>> 0, h11 = W[1] >>> 0;
  const s1 = h00 + l01 + l10;
  const c1 = Math.floor(s1 / TWO32);
  const s2 = h01 + h10 + l11 + c1;
  const c2 = Math.floor(s2 / TWO32);
  W[0] = l00;
  W[1] = s1 | 0;
  W[2] = s2 | 0;
  W[3] = (h11 + c2) | 0;
}

/** Signed 64x64 -> 128 into W[0..3]: the unsigned product corrected in the high half. */
export function mulS64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  mulU64(aLo, aHi, bLo, bHi);
  if (aHi < 0) subHigh(bLo, bHi);
  if (bHi < 0) subHigh(aLo, aHi);
}

function subHigh(lo: number, hi: number): void {
  const borrow = (W[2] >>> 0) < (lo >>> 0) ? 1 : 0;
  W[2] = (W[2] - lo) | 0;
  W[3] = (W[3] - hi - borrow) | 0;
}

/**
 * Unsigned 128/64 division: dividend W[0..3] (set by the caller), divisor d.
 * Returns false if the divisor is zero or the quotient does not fit in 64 bits;
 * otherwise quotient in W[0..1], remainder in W[2..3].
 */
export function divU128(dLo: number, dHi: number): boolean {
  if ((dLo | dHi) === 0) return false;
  // Quotient overflows 64 bits iff the high 64 bits of the dividend >= divisor.
  const hHi = W[3] >>> 0, hLo = W[2] >>> 0, uHi = dHi >>> 0, uLo = dLo >>> 0;
  if (hHi > uHi || (hHi === uHi && hLo >= uLo)) return false;
  if (hHi === 0 && hLo === 0 && uHi === 0 && (W[1] >>> 0) < 0x200000) {
    // Dividend and divisor below 2^53: doubles are exact.
    const n = (W[1] >>> 0) * TWO32 + (W[0] >>> 0);
    const q = Math.floor(n / uLo), r = n - q * uLo;
    W[0] = q % TWO32; W[1] = Math.floor(q / TWO32); W[2] = r; W[3] = 0;
    return true;
  }
  // Shift-subtract, one quotient bit per step; remainder kept in (rHi, rLo) (< divisor, so it fits with one carry bit).
  let rLo = hLo, rHi = hHi, qLo = W[0] >>> 0, qHi = W[1] >>> 0;
  for (let i = 0; i < 64; i++) {
    const top = rHi >>> 31;
    rHi = ((rHi << 1) | (rLo >>> 31)) >>> 0;
    rLo = ((rLo << 1) | (qHi >>> 31)) >>> 0;
    qHi = ((qHi << 1) | (qLo >>> 31)) >>> 0;
    qLo = (qLo << 1) >>> 0;
    if (top !== 0 || rHi > uHi || (rHi === uHi && rLo >= uLo)) {
      const borrow = rLo < uLo ? 1 : 0;
      rLo = (rLo - uLo) >>> 0;
      rHi = (rHi - uHi - borrow) >>> 0;
      qLo = (qLo | 1) >>> 0;
    }
  }
  W[0] = qLo; W[1] = qHi; W[2] = rLo; W[3] = rHi;
  return true;
}

/** Negate the 128-bit value in W[0..3] (two's complement). */
export function neg128(): void {
  let carry = 1;
  for (let i = 0; i < 4; i++) {
    const v = (~W[i] >>> 0) + carry;
    W[i] = v | 0;
    carry = v > 0xffffffff ? 1 : 0;
  }
}
