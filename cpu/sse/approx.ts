// RCPPS/RCPSS and RSQRTPS/RSQRTSS bit for bit as the CPU in approx-tables.ts computes them.
// The architecture only bounds the error (1.5 * 2^-12); the bits are the implementation's.
//
// The model (measured and proved against all 2^32 inputs by tools/vectors/approx-tables.c):
// for a normal input only the top 12 mantissa bits i matter (for RSQRT also the exponent's
// parity), and the result's 12-bit significand o (units of 2^-13, in [0.5, 1)) comes from a
// bipartite table: o = TIV[i >> 4] - TO[(i >> 8) << 4 | (i & 15)], a value for each 16-wide
// segment less an offset that depends on the position in it and on the top 4 bits. Denormal
// inputs count as zero and results too small for a normal become zero whatever DAZ/FTZ say;
// these instructions never raise an exception or set a flag.

import { RCP_TIV, RCP_TO, RSQRT_TIV, RSQRT_TO } from './approx-tables.js';

const SIGN = 0x80000000, INF = 0x7f800000, QNAN_BIT = 0x400000, DEFAULT_NAN = 0xffc00000;
const EXP_MASK = 0xff, MANT_MASK = 0x7fffff;
/** The table value is o in units of 2^-13; o - 4096 is the result's top 12 mantissa bits. */
const HALF = 4096, DROPPED = 11;

/** RCPSS on float32 bits. */
export function rcp32(x: number): number {
  const s = x & SIGN, e = (x >>> 23) & EXP_MASK, m = x & MANT_MASK;
  if (e === EXP_MASK) return (m !== 0 ? x | QNAN_BIT : s) >>> 0; // NaN quieted; infinity -> zero
  if (e === 0) return (s | INF) >>> 0;
  const re = 253 - e; // 1/x = 2^(127-e) * (o / 2^13), o < 2^13
  if (re <= 0) return s >>> 0;
  const i = m >>> DROPPED;
  const o = RCP_TIV[i >>> 4] - RCP_TO[((i >>> 8) << 4) | (i & 15)];
  return (s | (re << 23) | ((o - HALF) << DROPPED)) >>> 0;
}

/** RSQRTSS on float32 bits. */
export function rsqrt32(x: number): number {
  const s = x & SIGN, e = (x >>> 23) & EXP_MASK, m = x & MANT_MASK;
  if (e === EXP_MASK && m !== 0) return (x | QNAN_BIT) >>> 0;
  if (e === 0) return (s | INF) >>> 0;
  if (s) return DEFAULT_NAN;
  if (e === EXP_MASK) return 0;
  // an even exponent leaves the input in [2, 4) after taking out an even power of two
  const i = (((~e) & 1) << 12) | (m >>> DROPPED);
  const re = 126 + ((128 - e) >> 1);
  const o = RSQRT_TIV[i >>> 4] - RSQRT_TO[((i >>> 8) << 4) | (i & 15)];
  return ((re << 23) | ((o - HALF) << DROPPED)) >>> 0;
}
