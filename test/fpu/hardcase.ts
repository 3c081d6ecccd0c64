// How close a transcendental's exact result lies to a rounding boundary, for the x87 replay:
// the host's microcode computes FSIN, FPTAN, FYL2X... to a few bits beyond 64 and then rounds,
// so where the exact value lies within a small fraction of an ulp of a boundary (a midpoint
// under round-to-nearest, a representable value under the directed modes, either for C1) its
// own error decides the last bit. Test code: JS bigints are fine here.

import { Big, NL, fromFp } from '../../cpu/fpu/bigfloat.js';
import { exactResults } from '../../cpu/fpu/transcend.js';
import { readST } from '../../cpu/fpu/x87state.js';
import { newFp, K_NORMAL } from '../../cpu/fpu/softfloat.js';

const UE = 0x10, OE = 0x08, WRAP = 24576;

/** Which exact value each result register holds after the instruction (null: none to judge). */
type Exact = (x: Big, y: Big) => Big;
const RESULTS: Record<string, (Exact | null)[]> = {
  D9FE: [(x) => exactResults.sin(x)],
  D9FF: [(x) => exactResults.cos(x)],
  D9FB: [(x) => exactResults.cos(x), (x) => exactResults.sin(x)],
  D9F2: [null, (x) => exactResults.tan(x)],
  D9F0: [(x) => exactResults.exp2m1(x)],
  D9F1: [(x, y) => exactResults.ylog2x(y, x)],
  D9F9: [(x, y) => exactResults.ylog2xp1(y, x)],
  D9F3: [(x, y) => exactResults.atan2(y, x)],
};
export const HARD_CASE_OPS = new Set(Object.keys(RESULTS));

/** The significand of an 80-bit register image as an integer and the exponent of its last place. */
function lastPlace(b: Uint8Array, off: number): number {
  const e = (b[off + 8] | (b[off + 9] << 8)) & 0x7fff;
  return Math.max(e, 1) - 16383 - 63;
}

/**
 * Distance, in ulps of the result, from the exact value of result register `slot` to the
 * nearest boundary for rounding mode `rc`; `input` holds ST0/ST1 as loaded before the
 * instruction, `got`/`want` the two results (the finer of their ulps is used). `fcw`/`fsw`
 * are the host's: a result that underflowed or overflowed with the exception unmasked is
 * delivered scaled by 2^24576 (Intel SDM Vol. 1 8.5.4/8.5.5), so the exact value is too.
 * Returns Infinity where there is no finite exact value to judge.
 */
export function boundaryDistance(name: string, slot: number, input: DataView, fcw: number, fsw: number, got: Uint8Array, gotOff: number, want: Uint8Array, wantOff: number): number {
  const rc = (fcw >> 10) & 3;
  const fn = RESULTS[name]?.[slot];
  if (!fn) return Infinity;
  const a = newFp(), b = newFp();
  readST(input, 0, a); readST(input, 1, b);
  if (a.kind !== K_NORMAL || (name === 'D9F1' || name === 'D9F9' || name === 'D9F3') && b.kind !== K_NORMAL) return Infinity;
  const v = fn(fromFp(a), fromFp(b));
  let n = 0n;
  for (let i = NL - 1; i >= 0; i--) n = (n << 16n) | BigInt(v.m[i]);
  if (n === 0n) return Infinity;
  let p = v.e - 16 * NL; // |v| = n * 2^p
  if (fsw & ~fcw & UE) p += WRAP; else if (fsw & ~fcw & OE) p -= WRAP;
  const unit = Math.min(lastPlace(got, gotOff), lastPlace(want, wantOff)) - (rc === 0 ? 1 : 0);
  const shift = p - unit;
  if (shift >= 0) return 0;
  if (-shift > 4000) return Infinity;
  const den = 1n << BigInt(-shift), rem = n % den;
  const near = rem < den - rem ? rem : den - rem;
  // near / den grid units; a grid unit is half an ulp under round-to-nearest
  const SC = 1n << 40n;
  return Number((near * SC) / den) / 2 ** 40 / (rc === 0 ? 2 : 1);
}
