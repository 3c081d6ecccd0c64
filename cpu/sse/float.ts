// SSE/SSE2/SSE3/SSE4.1 floating point on float32/float64 lanes: arithmetic, min/max,
// compares, conversions, rounding, dot products, horizontal ops. Every lane goes through
// the shared softfloat core, so MXCSR rounding, DAZ/FTZ and flags are exact; results are
// staged and written only if no unmasked exception occurs (then #XM, nothing written).

import { newFp, env, out, F32, F64, Format, K_ZERO, F_DE, F_PE, roundPack } from '../fpu/softfloat.js';
import {
  unpackF32, unpackF64, opAdd, opMul, opDiv, opSqrt, opConvert, opCompare, opToInt, intOut, intToFp, outF32, outF64Hi, outF64Lo,
  CMP_EQ, CMP_LT, CMP_UN, opRoundIntegral,
} from '../fpu/arith.js';
import { Vec, beginSse, laneDone, endSse, sseOut, RES_TMP } from './vec.js';
import { fastArith } from './fastfloat.js';
import { FX_MXCSR } from '../state.js';
import { rcp32, rsqrt32 } from './approx.js';

const A = newFp(), B = newFp();
const R = RES_TMP >> 2; // staging, as u32 index

export const OP_ADD = 0, OP_SUB = 1, OP_MUL = 2, OP_DIV = 3, OP_MIN = 4, OP_MAX = 5, OP_SQRT = 6;

function unpack(x: Vec, off: number, d: Fp32or64, daz: number, into: typeof A): number {
  return d === 4 ? unpackF32(into, x.u32[off >> 2], daz) : unpackF64(into, x.u32[off >> 2], x.u32[(off >> 2) + 1], daz);
}
type Fp32or64 = 4 | 8;

/** One lane of a binary op, result bits into staging lane `i`. */
function lane(x: Vec, op: number, da: number, sb: number, w: Fp32or64, i: number, daz: number): void {
  const dn = unpack(x, da, w, daz, A) | (op === OP_SQRT ? 0 : unpack(x, sb, w, daz, B));
  const f: Format = w === 4 ? F32 : F64;
  switch (op) {
    case OP_ADD: opAdd(A, B, 0, f, false, dn); break;
    case OP_SUB: opAdd(A, B, 1, f, false, dn); break;
    case OP_MUL: opMul(A, B, f, false, dn); break;
    case OP_DIV: opDiv(A, B, f, false, dn); break;
    case OP_SQRT: { const d2 = unpack(x, sb, w, daz, A); opSqrt(A, f, d2); break; }
    default: { // MIN/MAX: any NaN or equal values (±0) give the second operand; NaNs are invalid
      const c = opCompare(A, B, false, dn);
      const first = c === CMP_UN ? false : op === OP_MIN ? c === CMP_LT : c !== CMP_LT && c !== CMP_EQ;
      const src = first ? da : sb;
      // the chosen operand is returned as is, except that DAZ turns a denormal into zero
      if (daz && (first ? A : B).kind === K_ZERO) stageZero(x, src, w, i);
      else stageRaw(x, src, w, i);
      laneDone(x);
      return;
    }
  }
  laneDone(x);
  stageOut(x, w, i);
}
function stageOut(x: Vec, w: Fp32or64, i: number): void {
  if (w === 4) x.u32[R + i] = outF32();
  else { x.u32[R + 2 * i] = outF64Lo(); x.u32[R + 2 * i + 1] = outF64Hi(); }
}
function stageZero(x: Vec, src: number, w: Fp32or64, i: number): void {
  if (w === 4) x.u32[R + i] = x.u32[src >> 2] & 0x80000000;
  else { x.u32[R + 2 * i] = 0; x.u32[R + 2 * i + 1] = x.u32[(src >> 2) + 1] & 0x80000000; }
}
function stageRaw(x: Vec, src: number, w: Fp32or64, i: number): void {
  if (w === 4) x.u32[R + i] = x.u32[src >> 2];
  else { x.u32[R + 2 * i] = x.u32[src >> 2]; x.u32[R + 2 * i + 1] = x.u32[(src >> 2) + 1]; }
}
/** Copy n staged bytes to d if no unmasked exception. */
function commit(x: Vec, d: number, n: number): void {
  if (!endSse(x)) return;
  x.u8.copyWithin(d, RES_TMP, RES_TMP + n);
}

/** Packed (n lanes) or scalar (n = 1, upper lanes of d kept) arithmetic. */
export function arithF(x: Vec, d: number, s: number, op: number, w: Fp32or64, n: number): void {
  if (fastArith(x, d, s, op, w, n)) return;
  const daz = beginSse(x);
  for (let i = 0; i < n; i++) lane(x, op, d + i * w, s + i * w, w, i, daz);
  commit(x, d, n * w);
}

/** SSE3 horizontal add/sub: [d0 op d1, d2 op d3, s0 op s1, s2 op s3] (ps) or [d0 op d1, s0 op s1] (pd). */
export function horizF(x: Vec, d: number, s: number, op: number, w: Fp32or64): void {
  const daz = beginSse(x);
  const n = 16 / w, half = n / 2;
  for (let i = 0; i < n; i++) {
    const base = i < half ? d : s, k = (i % half) * 2;
    lane(x, op, base + k * w, base + (k + 1) * w, w, i, daz);
  }
  commit(x, d, 16);
}
/** ADDSUBPS/PD: even lanes subtract, odd lanes add. */
export function addsubF(x: Vec, d: number, s: number, w: Fp32or64): void {
  const daz = beginSse(x);
  const n = 16 / w;
  for (let i = 0; i < n; i++) lane(x, (i & 1) ? OP_ADD : OP_SUB, d + i * w, s + i * w, w, i, daz);
  commit(x, d, 16);
}

/** CMPPS/PD/SS/SD predicate 0..7 -> all-ones/all-zeros masks. */
export function cmpF(x: Vec, d: number, s: number, imm: number, w: Fp32or64, n: number): void {
  const daz = beginSse(x);
  const pred = imm & 7;
  const signalling = pred === 1 || pred === 2 || pred === 5 || pred === 6;
  for (let i = 0; i < n; i++) {
    const dn = unpack(x, d + i * w, w, daz, A) | unpack(x, s + i * w, w, daz, B);
    const c = opCompare(A, B, !signalling, dn);
    let t: boolean;
    switch (pred) {
      case 0: t = c === CMP_EQ; break;
      case 1: t = c === CMP_LT; break;
      case 2: t = c === CMP_LT || c === CMP_EQ; break;
      case 3: t = c === CMP_UN; break;
      case 4: t = c !== CMP_EQ; break;
      case 5: t = !(c === CMP_LT); break;
      case 6: t = !(c === CMP_LT || c === CMP_EQ); break;
      default: t = c !== CMP_UN;
    }
    const v = t ? 0xffffffff : 0;
    if (w === 4) x.u32[R + i] = v; else { x.u32[R + 2 * i] = v; x.u32[R + 2 * i + 1] = v; }
  }
  commit(x, d, n * w);
}

/** COMISS/UCOMISS/COMISD/UCOMISD: ZF,PF,CF (OF,SF,AF cleared) in sseOut.eflags. */
export function comiF(x: Vec, d: number, s: number, w: Fp32or64, quiet: boolean): void {
  const daz = beginSse(x);
  const dn = unpack(x, d, w, daz, A) | unpack(x, s, w, daz, B);
  const c = opCompare(A, B, quiet, dn);
  if (!endSse(x)) return;
  sseOut.eflags = c === CMP_UN ? 0x45 : c === CMP_EQ ? 0x40 : c === CMP_LT ? 0x01 : 0;
}

// ---------------------------------------------------------------- conversions
/** float -> float: CVTSS2SD/CVTSD2SS (n=1) and CVTPS2PD/CVTPD2PS (n=2). */
export function cvtFF(x: Vec, d: number, s: number, from: Fp32or64, n: number, zeroUpper: boolean): void {
  const daz = beginSse(x);
  const to: Fp32or64 = from === 4 ? 8 : 4;
  for (let i = 0; i < n; i++) {
    const dn = unpack(x, s + i * from, from, daz, A);
    opConvert(A, to === 4 ? F32 : F64, dn);
    laneDone(x);
    stageOut(x, to, i);
  }
  if (!endSse(x)) return;
  x.u8.copyWithin(d, RES_TMP, RES_TMP + n * to);
  if (zeroUpper) x.u8.fill(0, d + n * to, d + 16);
}

/** int32 lanes -> float (CVTDQ2PS n=4, CVTDQ2PD n=2, CVTPI2PS/PD). */
export function cvtIF(x: Vec, d: number, s: number, to: Fp32or64, n: number): void {
  beginSse(x);
  for (let i = 0; i < n; i++) {
    const v = x.i32[(s >> 2) + i];
    intToFp(A, v, v < 0 ? -1 : 0);
    if (A.kind === K_ZERO) { out.sign = 0; out.bexp = 0; out.hi = 0; out.lo = 0; }
    else roundPack(A.sign, A.exp, A.hi, A.lo, 0, 0, to === 4 ? F32 : F64);
    stageOut(x, to, i);
  }
  commit(x, d, n * to);
}

/** CVTSI2SS/SD from a 32- or 64-bit GPR (two halves at s). Upper lanes of d kept. */
export function cvtSiF(x: Vec, d: number, s: number, to: Fp32or64, bits64: boolean): void {
  beginSse(x);
  const lo = x.u32[s >> 2], hi = bits64 ? x.u32[(s >> 2) + 1] : (lo >> 31) >>> 0;
  intToFp(A, lo, hi);
  if (A.kind === K_ZERO) { out.sign = 0; out.bexp = 0; out.hi = 0; out.lo = 0; }
  else roundPack(A.sign, A.exp, A.hi, A.lo, 0, 0, to === 4 ? F32 : F64);
  stageOut(x, to, 0);
  commit(x, d, to);
}

/**
 * float lanes -> int32 lanes (CVT(T)PS2DQ, CVT(T)PD2DQ, CVT(T)PS2PI...) or to a GPR
 * (n = 1, bits 32/64: CVT(T)SS2SI, CVT(T)SD2SI). Invalid gives the integer indefinite.
 */
export function cvtFI(x: Vec, d: number, s: number, from: Fp32or64, n: number, truncate: boolean, bits: number, zeroTo: number): void {
  const daz = beginSse(x);
  for (let i = 0; i < n; i++) {
    unpack(x, s + i * from, from, daz, A);
    opToInt(A, bits, truncate);
    if (bits === 64) { x.u32[R + 2 * i] = intOut.lo; x.u32[R + 2 * i + 1] = intOut.hi; }
    else x.u32[R + i] = intOut.lo;
  }
  if (!endSse(x)) return;
  const nb = n * (bits === 64 ? 8 : 4);
  x.u8.copyWithin(d, RES_TMP, RES_TMP + nb);
  if (zeroTo > nb) x.u8.fill(0, d + nb, d + zeroTo);
}

/** ROUNDPS/PD/SS/SD: imm bits 1:0 RC, bit 2 use MXCSR.RC, bit 3 suppress PE. */
export function roundF(x: Vec, d: number, s: number, imm: number, w: Fp32or64, n: number): void {
  const daz = beginSse(x);
  if ((imm & 4) === 0) env.rc = imm & 3;
  for (let i = 0; i < n; i++) {
    const dn = unpack(x, s + i * w, w, daz, A);
    opRoundIntegral(A, w === 4 ? F32 : F64, dn);
    stageOut(x, w, i);
  }
  if (imm & 8) env.flags &= ~F_PE;
  env.flags &= ~F_DE;
  commit(x, d, n * w);
}

/**
 * DPPS/DPPD: products of the lanes selected by imm[7:4] (others +0), rounded, summed
 * pairwise as the hardware does ((p0+p1)+(p2+p3)), broadcast to the lanes in imm[3:0].
 */
const P = newFp(), Q = newFp();
export function dotF(x: Vec, d: number, s: number, imm: number, w: Fp32or64): void {
  const daz = beginSse(x);
  const n = 16 / w, f = w === 4 ? F32 : F64;
  // The hardware works in stages (products, pair sums, final sum); an unmasked exception ends
  // it after the stage it belongs to, reporting the earlier stages' flags and that stage's
  // (only its IE/DE/ZE if one of those is the unmasked one).
  for (let i = 0; i < n; i++) {
    if ((imm >> (4 + i)) & 1) {
      const dn = unpack(x, d + i * w, w, daz, A) | unpack(x, s + i * w, w, daz, B);
      opMul(A, B, f, false, dn); laneDone(x);
    } else { out.sign = 0; out.bexp = 0; out.hi = 0; out.lo = 0; }
    stageOut(x, w, i);
  }
  if (stageFault(x, 0)) return;
  // (denormal intermediate products count as denormal operands, and DAZ applies to them)
  let before = env.flags;
  env.flags = 0;
  if (w === 4) {
    dotSum(x, 0, 1, 4, w, f, daz); dotSum(x, 2, 3, 5, w, f, daz);
    if (stageFault(x, before)) return;
    before |= env.flags; env.flags = 0;
    dotSum(x, 4, 5, 6, w, f, daz);
  } else dotSum(x, 0, 1, 2, w, f, daz);
  if (stageFault(x, before)) return;
  env.flags |= before;
  const res = w === 4 ? 6 : 2;
  for (let i = 0; i < n; i++) {
    const on = (imm >> i) & 1;
    if (w === 4) x.u32[R + i] = on ? x.u32[R + res] : 0;
    else { x.u32[R + 2 * i] = on ? x.u32[R + 2 * res] : 0; x.u32[R + 2 * i + 1] = on ? x.u32[R + 2 * res + 1] : 0; }
  }
  commit(x, d, 16);
}
/** End of a DPPS/DPPD stage: on an unmasked exception, fault with the earlier stages' flags too. */
function stageFault(x: Vec, before: number): boolean {
  const mask = (x.u32[FX_MXCSR >> 2] >>> 7) & 0x3f;
  if ((env.flags & ~mask & 0x3f) === 0) return false;
  endSse(x);
  x.u32[FX_MXCSR >> 2] |= before;
  return true;
}

function dotSum(x: Vec, i: number, j: number, k: number, w: Fp32or64, f: Format, daz: number): void {
  const dn = unpack(x, RES_TMP + i * w, w, daz, P) | unpack(x, RES_TMP + j * w, w, daz, Q);
  opAdd(P, Q, 0, f, false, dn); laneDone(x); stageOut(x, w, k);
}


/**
 * RCPPS/RCPSS and RSQRTPS/RSQRTSS: the host model's bits (approx.ts); no flags, no #XM, DAZ
 * and FTZ make no difference (denormal inputs and results are always zero).
 */
export function approxF(x: Vec, d: number, s: number, n: number, rsqrt: boolean): void {
  for (let i = 0; i < n; i++) {
    const bits = x.u32[(s >> 2) + i];
    x.u32[R + i] = rsqrt ? rsqrt32(bits) : rcp32(bits);
  }
  x.u8.copyWithin(d, RES_TMP, RES_TMP + 4 * n);
}
