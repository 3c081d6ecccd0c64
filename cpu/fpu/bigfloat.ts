// A small multi-precision float (224-bit significand in 16-bit limbs) for the x87
// transcendental instructions: enough guard bits that rounding the final result to
// 64 bits is correct. Only the transcendental paths use it (not a hot path).

import { Fp, K_NORMAL } from './softfloat.js';

/** Limbs of 16 bits, most significant last. */
export const NL = 14;
const LB = 16 * NL;

/** value = sign * (M / 2^LB) * 2^e, M the limb integer with its top bit set (or zero). */
export interface Big { s: number; e: number; m: Float64Array }

export const big = (): Big => ({ s: 0, e: 0, m: new Float64Array(NL) });
export const isZero = (a: Big): boolean => a.m[NL - 1] === 0;

function normalize(a: Big): Big {
  const m = a.m;
  let top = NL - 1;
  while (top >= 0 && m[top] === 0) top--;
  if (top < 0) { a.e = 0; a.s = 0; return a; }
  const limbShift = NL - 1 - top;
  if (limbShift) { for (let i = NL - 1; i >= 0; i--) m[i] = i - limbShift >= 0 ? m[i - limbShift] : 0; a.e -= 16 * limbShift; }
  const z = Math.clz32(m[NL - 1]) - 16;
  if (z > 0) { shl(m, z); a.e -= z; }
  return a;
}
function shl(m: Float64Array, n: number): void {
  let carry = 0;
  const f = 2 ** n;
  for (let i = 0; i < NL; i++) { const v = m[i] * f + carry; m[i] = v % 65536; carry = Math.floor(v / 65536); }
}
/** Shift the limb integer right by n bits (truncating). */
function shr(m: Float64Array, n: number): void {
  const ls = Math.floor(n / 16), bs = n % 16;
  for (let i = 0; i < NL; i++) m[i] = i + ls < NL ? m[i + ls] : 0;
  if (bs) {
    const f = 2 ** bs;
    for (let i = 0; i < NL; i++) {
      const next = i + 1 < NL ? m[i + 1] : 0;
      m[i] = Math.floor(m[i] / f) + (next % f) * (65536 / f);
    }
  }
}

export function fromFp(a: Fp): Big {
  const r = big();
  if (a.kind !== K_NORMAL) return r;
  r.s = a.sign; r.e = a.exp + 1;
  r.m[NL - 1] = a.hi >>> 16; r.m[NL - 2] = a.hi & 0xffff; r.m[NL - 3] = a.lo >>> 16; r.m[NL - 4] = a.lo & 0xffff;
  return r;
}
export function fromInt(v: number): Big {
  const r = big();
  if (v === 0) return r;
  r.s = v < 0 ? 1 : 0; v = Math.abs(v);
  let k = NL - 1;
  // place v (< 2^53) in the top limbs then normalise
  const limbs: number[] = [];
  while (v > 0) { limbs.push(v % 65536); v = Math.floor(v / 65536); }
  for (let i = limbs.length - 1; i >= 0; i--) r.m[k--] = limbs[i];
  r.e = 16 * limbs.length;
  return normalize(r);
}
/** From a hex string of the significand (leading digit nonzero) with value = 0.hex * 2^e. */
export function fromHex(hex: string, e: number): Big {
  const r = big();
  for (let i = 0; i < NL && 4 * i < hex.length; i++) r.m[NL - 1 - i] = parseInt(hex.slice(4 * i, 4 * i + 4).padEnd(4, '0'), 16);
  r.e = e;
  return normalize(r);
}
export function copy(a: Big): Big { const r = big(); r.s = a.s; r.e = a.e; r.m.set(a.m); return r; }
export function neg(a: Big): Big { const r = copy(a); if (!isZero(r)) r.s ^= 1; return r; }
export function scale(a: Big, n: number): Big { const r = copy(a); if (!isZero(r)) r.e += n; return r; }

function cmpMag(a: Big, b: Big): number {
  if (isZero(a) || isZero(b)) return isZero(a) ? (isZero(b) ? 0 : -1) : 1;
  if (a.e !== b.e) return a.e > b.e ? 1 : -1;
  for (let i = NL - 1; i >= 0; i--) if (a.m[i] !== b.m[i]) return a.m[i] > b.m[i] ? 1 : -1;
  return 0;
}
export function cmp(a: Big, b: Big): number {
  const sa = isZero(a) ? 0 : a.s ? -1 : 1, sb = isZero(b) ? 0 : b.s ? -1 : 1;
  if (sa !== sb) return sa > sb ? 1 : -1;
  return sa * cmpMag(a, b);
}

export function add(a: Big, b: Big, sub = false): Big {
  const bs = sub ? b.s ^ 1 : b.s;
  if (isZero(b)) return copy(a);
  if (isZero(a)) { const r = copy(b); r.s = bs; return r; }
  let x = a, y = b, xs = a.s, ys = bs;
  if (cmpMag(a, b) < 0) { x = b; y = a; xs = bs; ys = a.s; }
  const r = big();
  const t = new Float64Array(NL); t.set(y.m);
  // one guard limb of headroom: shift both right by 16 first
  const xm = new Float64Array(NL); xm.set(x.m); shr(xm, 16); shr(t, 16);
  const d = x.e - y.e;
  if (d >= LB) t.fill(0); else if (d > 0) shr(t, d);
  if (xs === ys) {
    let c = 0;
    for (let i = 0; i < NL; i++) { const v = xm[i] + t[i] + c; r.m[i] = v % 65536; c = v >= 65536 ? 1 : 0; }
  } else {
    let bw = 0;
    for (let i = 0; i < NL; i++) { let v = xm[i] - t[i] - bw; bw = v < 0 ? 1 : 0; if (v < 0) v += 65536; r.m[i] = v; }
  }
  r.s = xs; r.e = x.e + 16;
  return normalize(r);
}
export const sub = (a: Big, b: Big): Big => add(a, b, true);

export function mul(a: Big, b: Big): Big {
  const r = big();
  if (isZero(a) || isZero(b)) return r;
  const p = new Float64Array(2 * NL);
  for (let i = 0; i < NL; i++) {
    if (a.m[i] === 0) continue;
    let c = 0;
    for (let j = 0; j < NL; j++) { const v = p[i + j] + a.m[i] * b.m[j] + c; p[i + j] = v % 65536; c = Math.floor(v / 65536); }
    p[i + NL] += c;
  }
  for (let i = 0; i < NL; i++) r.m[i] = p[i + NL];
  r.s = a.s ^ b.s; r.e = a.e + b.e;
  return normalize(r);
}
/** a / k for a small positive integer k (< 2^30). */
export function divInt(a: Big, k: number): Big {
  const r = copy(a);
  if (isZero(r)) return r;
  // prescale by 16 bits to keep precision, then long division from the top
  shr(r.m, 16); r.e += 16;
  let rem = 0;
  for (let i = NL - 1; i >= 0; i--) { const v = rem * 65536 + r.m[i]; r.m[i] = Math.floor(v / k); rem = v - r.m[i] * k; }
  return normalize(r);
}
export function toNumber(a: Big): number {
  if (isZero(a)) return 0;
  let v = 0;
  for (let i = NL - 1; i >= NL - 5; i--) v = v * 65536 + a.m[i];
  return (a.s ? -1 : 1) * v * 2 ** (a.e - 80);
}
export function fromNumber(v: number): Big {
  const r = big();
  if (v === 0) return r;
  r.s = v < 0 ? 1 : 0; v = Math.abs(v);
  const e = Math.floor(Math.log2(v)) + 1;
  let f = v / 2 ** e; // [0.5, 1)
  for (let i = NL - 1; i >= NL - 5; i--) { f *= 65536; const d = Math.floor(f); r.m[i] = d; f -= d; }
  r.e = e;
  return normalize(r);
}
/** a / b by Newton iteration on the reciprocal. */
export function div(a: Big, b: Big): Big {
  const two = fromInt(2);
  // start from the reciprocal of b's significand in double precision, exponent applied apart
  const bm = copy(b); bm.e = 0;
  let r = scale(fromNumber(1 / toNumber(bm)), -b.e);
  for (let i = 0; i < 4; i++) r = mul(r, sub(two, mul(b, r)));
  return mul(a, r);
}
export function sqrt(a: Big): Big {
  if (isZero(a)) return big();
  // reciprocal square root: r <- r (3 - a r^2) / 2, then sqrt = a r
  const three = fromInt(3);
  const eHalf = Math.floor(a.e / 2), am = scale(a, -2 * eHalf);
  let r = fromNumber(1 / Math.sqrt(toNumber(am)));
  for (let i = 0; i < 4; i++) r = scale(mul(r, sub(three, mul(am, mul(r, r)))), -1);
  return scale(mul(am, r), eHalf);
}

/** The integer nearest to a (ties away), as a Big, and its low two bits. */
export function nearestInt(a: Big): { q: Big; low: number } {
  const half = scale(fromInt(a.s ? -1 : 1), -1);
  const t = add(a, half);
  const q = copy(t);
  if (isZero(q) || q.e <= 0) return { q: big(), low: 0 };
  // clear the fraction bits (the integer part is the top q.e bits), keep the low two integer bits
  const fracBits = LB - q.e;
  for (let b = 0; b < fracBits && b < LB; b++) { const li = b >> 4; q.m[li] = q.m[li] - (q.m[li] & (1 << (b & 15))); }
  let low = bitAt(q.m, fracBits) | (bitAt(q.m, fracBits + 1) << 1);
  if (q.s) low = (4 - low) & 3;
  return { q: normalize(q), low };
}
function bitAt(m: Float64Array, i: number): number { return i >= 0 && i < LB ? (m[i >> 4] >> (i & 15)) & 1 : 0; }

/** Top 96 bits and a sticky bit, for softfloat's roundPack: value = 0.w * 2^e. */
export function toWindow(a: Big, outw: Uint32Array): number {
  const m = a.m;
  outw[0] = (m[NL - 1] * 65536 + m[NL - 2]) >>> 0;
  outw[1] = (m[NL - 3] * 65536 + m[NL - 4]) >>> 0;
  outw[2] = (m[NL - 5] * 65536 + m[NL - 6]) >>> 0;
  let st = 0;
  for (let i = 0; i < NL - 6; i++) if (m[i] !== 0) st = 1;
  return st;
}

