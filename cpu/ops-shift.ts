// Table rows for shifts and rotates: ROL/ROR/RCL/RCR/SHL/SHR/SAR (C0/C1/D0-D3
// groups) and SHLD/SHRD, all sizes, flags computed eagerly. Counts are masked
// to 5 bits (6 for 64-bit operands); a masked count of 0 changes no flags.
// OF is defined for 1-bit shifts only; for larger counts we use the same
// formula (test/cpu masks it). AF is left 0 (undefined).

import type { Cpu, Exec } from './cpu.js';
import type { Insn } from './decoder.js';
import { PARITY, getCF, materialize, setArith } from './flags.js';
import { eaFn, memRead, memWrite, regRead, regWrite, specSize } from './operands.js';
import { FLAG_CF, FLAG_OF, FLAG_SF, FLAG_ZF } from './state.js';
import { OpRow, U_ROTATE, U_SHIFT, U_SHIFTD, row } from './table.js';
import { W } from './words.js';
import { Fast as F } from './fastops.js';
import { fast } from './fastops.js';

export const ROL = 0, ROR = 1, RCL = 2, RCR = 3, SHL = 4, SHR = 5, SAL = 6, SAR = 7;
const NAMES = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];

/** Bit k of the 64-bit value (lo, hi). */
const bit = (lo: number, hi: number, k: number): number => (k < 32 ? (lo >>> k) & 1 : (hi >>> (k - 32)) & 1);

/** Result flags SF/ZF/PF of a `bits`-wide value, plus CF/OF. */
function resultFlags(lo: number, hi: number, bits: number, cf: number, of: number): number {
  const sign = bits === 64 ? hi >>> 31 : (lo >>> (bits - 1)) & 1;
  const zero = bits === 64 ? (lo | hi) === 0 : (lo & (bits === 32 ? -1 : (1 << bits) - 1)) === 0;
  return (cf ? FLAG_CF : 0) | (of ? FLAG_OF : 0) | (sign ? FLAG_SF : 0) | (zero ? FLAG_ZF : 0) | PARITY[lo & 0xff];
}

/** Set only CF and OF (rotates keep SF/ZF/PF/AF). */
function setCfOf(c: Cpu, cf: number, of: number): void {
  const r = c.r32;
  materialize(r);
  r[W.W_RFLAGS] = (r[W.W_RFLAGS] & ~(FLAG_CF | FLAG_OF)) | (cf ? FLAG_CF : 0) | (of ? FLAG_OF : 0);
}

/**
 * Shift/rotate (lo, hi) of `bits` width by `count` (already masked); returns the
 * low half, high half in c.resHi; sets flags.
 */
export function shift(c: Cpu, op: number, bits: number, lo: number, hi: number, count: number): number {
  if (bits < 64) { lo &= bits === 32 ? -1 : (1 << bits) - 1; hi = 0; }
  if (count === 0) { c.resHi = hi; return lo; }
  let rl = lo, rh = hi, cf = 0, of = 0;
  switch (op) {
    case SHL: case SAL: {
      if (count >= bits) { rl = 0; rh = 0; cf = count === bits ? bit(lo, hi, 0) : 0; }
      else {
        cf = bit(lo, hi, bits - count);
        if (bits < 64) rl = (lo << count) & (bits === 32 ? -1 : (1 << bits) - 1);
        else if (count >= 32) { rh = lo << (count - 32); rl = 0; } else { rh = (hi << count) | (lo >>> (32 - count)); rl = lo << count; }
      }
      of = bit(rl, rh, bits - 1) ^ cf;
      setArith(c.r32, resultFlags(rl, rh, bits, cf, of));
      break;
    }
    case SHR: case SAR: {
      const sar = op === SAR;
      const neg = bit(lo, hi, bits - 1);
      if (count >= bits) {
        cf = sar ? neg : count === bits ? neg : 0;
        rl = sar && neg ? -1 : 0; rh = bits === 64 ? rl : 0;
        if (bits < 64) rl &= bits === 32 ? -1 : (1 << bits) - 1;
      } else {
        cf = bit(lo, hi, count - 1);
        if (bits < 64) {
          const sv = sar ? (lo << (32 - bits)) >> (32 - bits) : lo;
          rl = (sar ? sv >> count : sv >>> count) & (bits === 32 ? -1 : (1 << bits) - 1);
        } else if (count >= 32) { rl = sar ? hi >> (count - 32) : hi >>> (count - 32); rh = sar ? hi >> 31 : 0; }
        else { rl = (lo >>> count) | (hi << (32 - count)); rh = sar ? hi >> count : hi >>> count; }
      }
      of = sar ? 0 : neg;
      setArith(c.r32, resultFlags(rl, rh, bits, cf, of));
      break;
    }
    case ROL: case ROR: {
      const n = count % bits;
      if (n !== 0) {
        const k = op === ROL ? n : bits - n;
        if (bits < 64) {
          const m = bits === 32 ? -1 : (1 << bits) - 1;
          rl = ((lo << k) | (lo >>> (bits - k))) & m;
        } else if (k >= 32) {
          const j = k - 32;
          rh = j === 0 ? lo : (lo << j) | (hi >>> (32 - j)); rl = j === 0 ? hi : (hi << j) | (lo >>> (32 - j));
        } else { rh = (hi << k) | (lo >>> (32 - k)); rl = (lo << k) | (hi >>> (32 - k)); }
      }
      if (op === ROL) { cf = rl & 1; of = bit(rl, rh, bits - 1) ^ cf; }
      else { cf = bit(rl, rh, bits - 1); of = cf ^ bit(rl, rh, bits - 2); }
      setCfOf(c, cf, of);
      break;
    }
    default: { // RCL / RCR: rotate through CF, bit by bit (counts are small)
      const n = bits === 8 ? count % 9 : bits === 16 ? count % 17 : count;
      cf = getCF(c.r32) ? 1 : 0;
      for (let i = 0; i < n; i++) {
        if (op === RCL) {
          const out = bit(rl, rh, bits - 1);
          if (bits === 64) { rh = (rh << 1) | (rl >>> 31); rl = (rl << 1) | cf; }
          else rl = ((rl << 1) | cf) & (bits === 32 ? -1 : (1 << bits) - 1);
          cf = out;
        } else {
          const out = rl & 1;
          if (bits === 64) { rl = (rl >>> 1) | (rh << 31); rh = (rh >>> 1) | (cf << 31); }
          else rl = (rl >>> 1) | (cf << (bits - 1));
          cf = out;
        }
      }
      if (n === 0) { c.resHi = hi; return lo; }
      of = op === RCL ? bit(rl, rh, bits - 1) ^ cf : bit(rl, rh, bits - 1) ^ bit(rl, rh, bits - 2);
      setCfOf(c, cf, of);
    }
  }
  c.resHi = bits === 64 ? rh : 0;
  return rl | 0;
}

/** Group 2 builder: count from 1, CL or Ib. */
function shiftRow(op: number, spec: string, countSpec: '1' | 'CL' | 'Ib') {
  return (d: Insn): Exec => {
    const size = specSize(spec, d), bits = size * 8, mask = size === 8 ? 63 : 31;
    const imm = d.imm & mask;
    const count = countSpec === '1' ? () => 1 : countSpec === 'Ib' ? () => imm : (c: Cpu) => c.r32[W.W_RCX] & mask;
    // Register SHL/SHR/SAR by a constant non-zero count: a fast op with lazy flags.
    const n = countSpec === '1' ? 1 : imm;
    if (!d.isMem && countSpec !== 'CL' && n !== 0 && (size === 4 || size === 8) && (op === SHL || op === SAL || op === SHR || op === SAR)) {
      const k = op === SHR ? 1 : op === SAR ? 2 : 0;
      return fast(d, (size === 4 ? F.SHL_RI32 : F.SHL_RI64) + k, d.rm * 2, n, 0);
    }
    if (!d.isMem) {
      const rd = regRead(size, d.rm, d.rex), wr = regWrite(size, d.rm, d.rex);
      return (c) => { const v = rd(c), vHi = c.resHi; const n = count(c) & mask; const res = shift(c, op, bits, v, vHi, n); wr(c, res); };
    }
    const ea = eaFn(d);
    return (c) => {
      const lo = ea(c), hi = c.eaHi;
      const v = memRead(c, size, lo, hi), vHi = c.resHi;
      const res = shift(c, op, bits, v, vHi, count(c) & mask);
      memWrite(c, size, lo, hi, res);
    };
  };
}

/**
 * SHLD/SHRD dst, src, count: shift dst, filling from src. 16-bit counts above
 * 16 are undefined; we shift through the 32-bit concatenation like hardware does.
 */
export function shiftDouble(c: Cpu, left: boolean, bits: number, dl: number, dh: number, sl: number, sh: number, count: number): number {
  if (count === 0) { c.resHi = bits === 64 ? dh : 0; return dl; }
  let rl: number, rh = 0, cf: number;
  if (bits === 64) {
    if (left) {
      cf = bit(dl, dh, 64 - count);
      rl = shl128hi(dl, dh, sl, sh, count); rh = outHi;
    } else {
      cf = bit(dl, dh, count - 1);
      rl = shr128lo(dl, dh, sl, sh, count); rh = outHi;
    }
  } else if (bits === 32) {
    if (left) { cf = (dl >>> (32 - count)) & 1; rl = (dl << count) | (count === 32 ? 0 : sl >>> (32 - count)); }
    else { cf = (dl >>> (count - 1)) & 1; rl = (dl >>> count) | (sl << (32 - count)); }
  } else {
    // 16-bit, counts 1..31. Above 16 the result is undefined; we do what this
    // project's reference CPU (AMD, under KVM) does: shift the 48-bit value
    // dst:src:src left (SHLD) or src:src:dst right (SHRD). Up to 16 both agree with the SDM.
    const d16 = dl & 0xffff, s16 = sl & 0xffff;
    if (left) {
      const v = d16 * 4294967296 + s16 * 65536 + s16;
      const shifted = v * 2 ** count;
      rl = Math.floor(shifted / 4294967296) % 65536;
      cf = Math.floor(v / 2 ** (48 - count)) % 2;
    } else {
      const v = s16 * 4294967296 + s16 * 65536 + d16;
      rl = Math.floor(v / 2 ** count) % 65536;
      cf = Math.floor(v / 2 ** (count - 1)) % 2;
    }
  }
  const of = bit(rl, rh, bits - 1) ^ bit(dl, dh, bits - 1);
  setArith(c.r32, resultFlags(rl, rh, bits, cf, of));
  c.resHi = bits === 64 ? rh : 0;
  return rl | 0;
}

const WORDS = new Int32Array(4);
const wordAt = (i: number): number => (i >= 0 && i < 4 ? WORDS[i] : 0);

/** SHLD 64: the high 64 bits of (d:s) << n, n in 1..63; low half returned, high half in OUT_HI. */
function shl128hi(dl: number, dh: number, sl: number, sh: number, n: number): number {
  WORDS[0] = sl; WORDS[1] = sh; WORDS[2] = dl; WORDS[3] = dh;
  const ws = n >> 5, bs = n & 31;
  const out = (i: number): number => (bs === 0 ? wordAt(i - ws) : (wordAt(i - ws) << bs) | (wordAt(i - ws - 1) >>> (32 - bs)));
  outHi = out(3) | 0;
  return out(2) | 0;
}

/** SHRD 64: the low 64 bits of (s:d) >> n, n in 1..63; low half returned, high half in OUT_HI. */
function shr128lo(dl: number, dh: number, sl: number, sh: number, n: number): number {
  WORDS[0] = dl; WORDS[1] = dh; WORDS[2] = sl; WORDS[3] = sh;
  const ws = n >> 5, bs = n & 31;
  const out = (i: number): number => (bs === 0 ? wordAt(i + ws) : (wordAt(i + ws) >>> bs) | (wordAt(i + ws + 1) << (32 - bs)));
  outHi = out(1) | 0;
  return out(0) | 0;
}
let outHi = 0;

function shiftDoubleRow(left: boolean, byCl: boolean) {
  return (d: Insn): Exec => {
    const size = d.opSize, bits = size * 8, mask = size === 8 ? 63 : 31, imm = d.imm & mask;
    const src = regRead(size, d.reg, d.rex);
    const run = (c: Cpu, v: number, vHi: number): number => {
      const s = src(c), sHi = c.resHi;
      const n = (byCl ? c.r32[W.W_RCX] : imm) & mask;
      return shiftDouble(c, left, bits, v, vHi, s, sHi, n);
    };
    if (!d.isMem) {
      const rd = regRead(size, d.rm, d.rex), wr = regWrite(size, d.rm, d.rex);
      return (c) => { const v = rd(c); wr(c, run(c, v, c.resHi)); };
    }
    const ea = eaFn(d);
    return (c) => {
      const lo = ea(c), hi = c.eaHi;
      const v = memRead(c, size, lo, hi);
      memWrite(c, size, lo, hi, run(c, v, c.resHi));
    };
  };
}

function group2(): OpRow[] {
  const rows: OpRow[] = [];
  for (let op = 0; op < 8; op++) {
    const n = NAMES[op];
    const u = { undef: op < 4 ? U_ROTATE : U_SHIFT }; // ROL ROR RCL RCR, then SHL SHR SAL SAR
    rows.push(
      row(`c0 /${op}`, `${n} Eb,Ib`, shiftRow(op, 'Eb', 'Ib'), 0, u),
      row(`c1 /${op}`, `${n} Ev,Ib`, shiftRow(op, 'Ev', 'Ib'), 0, u),
      row(`d0 /${op}`, `${n} Eb,1`, shiftRow(op, 'Eb', '1'), 0, u),
      row(`d1 /${op}`, `${n} Ev,1`, shiftRow(op, 'Ev', '1'), 0, u),
      row(`d2 /${op}`, `${n} Eb,CL`, shiftRow(op, 'Eb', 'CL'), 0, u),
      row(`d3 /${op}`, `${n} Ev,CL`, shiftRow(op, 'Ev', 'CL'), 0, u),
    );
  }
  return rows;
}

export const SHIFT_ROWS: OpRow[] = [
  ...group2(),
  row('0f a4', 'shld Ev,Gv,Ib', shiftDoubleRow(true, false), 0, { undef: U_SHIFTD }),
  row('0f a5', 'shld Ev,Gv,CL', shiftDoubleRow(true, true), 0, { undef: U_SHIFTD }),
  row('0f ac', 'shrd Ev,Gv,Ib', shiftDoubleRow(false, false), 0, { undef: U_SHIFTD }),
  row('0f ad', 'shrd Ev,Gv,CL', shiftDoubleRow(false, true), 0, { undef: U_SHIFTD }),
];

