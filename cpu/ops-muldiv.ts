// Table rows for MUL/IMUL/DIV/IDIV in every size. MUL/IMUL set CF=OF when the
// high half is significant; SF/ZF/PF come from the low result and AF is 0
// (architecturally undefined). DIV/IDIV raise #DE on a zero divisor or a
// quotient that does not fit, and leave the flags (undefined) unchanged.

import type { Cpu, Exec } from './cpu.js';
import type { Insn } from './decoder.js';
import { PARITY, setArith } from './flags.js';
import { srcOf } from './ops-alu.js';
import { regWrite, specSize } from './operands.js';
import { CpuFault, VEC_DE } from './fault.js';
import { FLAG_CF, FLAG_OF, FLAG_SF, FLAG_ZF } from './state.js';
import { F_READS, OpRow, U_ARITH, U_MUL, row } from './table.js';
import { W as res, divU128, mulHiU32, mulS64, mulU64, neg128 } from './wide.js';
import { W } from './words.js';

/** Flags after a multiply: CF=OF=overflow, SF/ZF/PF of the low result (size bytes), AF=0. */
function mulFlags(c: Cpu, overflow: boolean, lo: number, loHi: number, size: number): void {
  const sign = size === 8 ? loHi < 0 : ((lo << (32 - 8 * size)) >> 31) !== 0;
  const zero = size === 8 ? (lo | loHi) === 0 : (lo << (32 - 8 * size)) === 0;
  setArith(c.r32, (overflow ? FLAG_CF | FLAG_OF : 0) | (sign ? FLAG_SF : 0) | (zero ? FLAG_ZF : 0) | PARITY[lo & 0xff]);
}

/** Sign-extend the low `size` bytes of (lo, hi) into result words (lo32, hi32). */
function ext(v: number, vHi: number, size: number, signed: boolean): void {
  if (size === 8) { res[0] = v; res[1] = vHi; return; }
  const sh = 32 - 8 * size;
  const x = signed ? (v << sh) >> sh : size === 4 ? v : v & ((1 << (8 * size)) - 1);
  res[0] = x; res[1] = signed ? x >> 31 : 0;
}

/** One-operand MUL/IMUL (F6/F7 /4 /5): rDX:rAX = rAX * src. */
function mul1(signed: boolean, spec: string) {
  return (d: Insn): Exec => {
    const size = specSize(spec, d), src = srcOf(d, spec, size);
    return (c) => {
      const r = c.r32;
      const b = src(c), bHi = c.resHi;
      ext(b, bHi, size, signed);
      const bl = res[0], bh = res[1];
      ext(r[W.W_RAX], r[W.W_RAX + 1], size, signed);
      const al = res[0], ah = res[1];
      if (signed) mulS64(al, ah, bl, bh); else mulU64(al, ah, bl, bh);
      const p0 = res[0], p1 = res[1], p2 = res[2], p3 = res[3];
      let overflow: boolean;
      if (size === 1) {
        r[W.W_RAX] = (r[W.W_RAX] & ~0xffff) | (p0 & 0xffff);
        overflow = signed ? ((p0 << 24) >> 24) !== ((p0 << 16) >> 16) : (p0 & 0xff00) !== 0;
      } else if (size === 2) {
        r[W.W_RAX] = (r[W.W_RAX] & ~0xffff) | (p0 & 0xffff);
        r[W.W_RDX] = (r[W.W_RDX] & ~0xffff) | ((p0 >>> 16) & 0xffff);
        overflow = signed ? ((p0 << 16) >> 16) !== p0 : (p0 >>> 16) !== 0;
      } else if (size === 4) {
        r[W.W_RAX] = p0; r[W.W_RAX + 1] = 0; r[W.W_RDX] = p1; r[W.W_RDX + 1] = 0;
        overflow = signed ? p1 !== p0 >> 31 : p1 !== 0;
      } else {
        r[W.W_RAX] = p0; r[W.W_RAX + 1] = p1; r[W.W_RDX] = p2; r[W.W_RDX + 1] = p3;
        overflow = signed ? p2 !== p1 >> 31 || p3 !== p1 >> 31 : (p2 | p3) !== 0;
      }
      mulFlags(c, overflow, p0, p1, size);
    };
  };
}

/**
 * Whether the signed 64x64 product of x and y (halves) leaves the int64 range (IMUL's CF=OF),
 * given its low 64 bits (lo, hi). The double product is within a few ulp of the true one, so a
 * magnitude of 2^64 or more is an overflow, and below that the true product is the int64 result
 * (lo, hi) plus k * 2^64 with k = -1, 0 or 1: the double difference tells k apart exactly.
 */
function imul64Overflows(x: number, xHi: number, y: number, yHi: number, lo: number, hi: number): boolean {
  const approx = (xHi * TWO32 + (x >>> 0)) * (yHi * TWO32 + (y >>> 0));
  if (approx >= TWO64 || approx <= -TWO64) return true;
  return Math.abs(approx - (hi * TWO32 + (lo >>> 0))) >= TWO63;
}

const TWO32 = 4294967296, TWO63 = 2 ** 63, TWO64 = 2 ** 64;

/** 64-bit IMUL's low half into register word wd (the operands already read), with its flags. */
function imul64(c: Cpu, x: number, xHi: number, y: number, yHi: number, wd: number): void {
  const lo = Math.imul(x, y);
  const hi = (mulHiU32(x, y) + Math.imul(x, yHi) + Math.imul(xHi, y)) | 0;
  const r = c.r32;
  r[wd] = lo;
  r[wd + 1] = hi;
  mulFlags(c, imul64Overflows(x, xHi, y, yHi, lo, hi), lo, hi, 8);
}

/** Two- and three-operand IMUL: Gv = Ev * (Gv | imm), truncated to the operand size. */
function imulN(three: boolean) {
  return (d: Insn): Exec => {
    const size = d.opSize;
    const a = srcOf(d, 'Ev', size);
    const b = three ? srcOf(d, 'Iz', size) : srcOf(d, 'Gv', size);
    const wr = regWrite(size, d.reg, d.rex);
    if (size === 8) {
      const wd = d.reg * 2;
      if (!d.isMem) {
        // Register forms read the record directly: no source closures to call.
        const ws = d.rm * 2, imm = d.imm, immHi = d.immHi;
        return three ? (c) => { const r = c.r32; imul64(c, r[ws], r[ws + 1], imm, immHi, wd); }
          : (c) => { const r = c.r32; imul64(c, r[ws], r[ws + 1], r[wd], r[wd + 1], wd); };
      }
      return (c) => { const x = a(c), xHi = c.resHi, y = b(c); imul64(c, x, xHi, y, c.resHi, wd); };
    }
    if (size === 4) {
      return (c) => {
        const x = a(c), y = b(c);
        const lo = Math.imul(x, y);
        wr(c, lo);
        // Both are int32: the double product is exact whenever it fits in int32.
        mulFlags(c, x * y !== lo, lo, 0, 4);
      };
    }
    return (c) => {
      const x = a(c), xHi = c.resHi, y = b(c), yHi = c.resHi;
      ext(x, xHi, size, true);
      const al = res[0], ah = res[1];
      ext(y, yHi, size, true);
      mulS64(al, ah, res[0], res[1]);
      const p0 = res[0], p1 = res[1], p2 = res[2], p3 = res[3];
      let overflow: boolean;
      if (size === 2) overflow = ((p0 << 16) >> 16) !== p0 || p1 !== p0 >> 31;
      else if (size === 4) overflow = p1 !== p0 >> 31;
      else overflow = p2 !== p1 >> 31 || p3 !== p1 >> 31;
      c.resHi = p1;
      wr(c, p0);
      mulFlags(c, overflow, p0, p1, size);
    };
  };
}

const DE = (): CpuFault => new CpuFault(VEC_DE);

/** DIV/IDIV (F6/F7 /6 /7): rAX = rDX:rAX / src, rDX = remainder (AL/AH for bytes). */
function div(signed: boolean, spec: string) {
  return (d: Insn): Exec => {
    const size = specSize(spec, d), src = srcOf(d, spec, size);
    const bits = 8 * size;
    return (c) => {
      const r = c.r32;
      const s = src(c), sHi = c.resHi;
      ext(s, sHi, size, signed);
      let dl = res[0], dh = res[1];
      // Dividend as 128 bits in res.
      if (size === 1) { const v = r[W.W_RAX] & 0xffff; res[0] = signed ? (v << 16) >> 16 : v; }
      else if (size === 2) { const v = ((r[W.W_RDX] & 0xffff) << 16) | (r[W.W_RAX] & 0xffff); res[0] = v; }
      else if (size === 4) { res[0] = r[W.W_RAX]; res[1] = r[W.W_RDX]; }
      else { res[0] = r[W.W_RAX]; res[1] = r[W.W_RAX + 1]; res[2] = r[W.W_RDX]; res[3] = r[W.W_RDX + 1]; }
      if (size <= 2) { res[1] = signed ? res[0] >> 31 : 0; res[2] = res[1]; res[3] = res[1]; }
      else if (size === 4) { res[2] = signed ? res[1] >> 31 : 0; res[3] = res[2]; }
      const negN = signed && res[3] < 0, negD = signed && dh < 0;
      if (negN) neg128();
      if (negD) { dl = (~dl + 1) | 0; dh = (~dh + (dl === 0 ? 1 : 0)) | 0; }
      if (!divU128(dl, dh)) throw DE();
      let q0 = res[0], q1 = res[1], r0 = res[2], r1 = res[3];
      // Range check of the magnitude, then apply signs.
      const negQ = negN !== negD;
      if (bits < 64) {
        if (q1 !== 0) throw DE();
        const lim = signed ? (negQ ? 2 ** (bits - 1) : 2 ** (bits - 1) - 1) : 2 ** bits - 1;
        if ((q0 >>> 0) > lim) throw DE();
      } else if (signed) {
        if (q1 < 0 && !(negQ && q1 === (0x80000000 | 0) && q0 === 0)) throw DE();
      }
      if (negQ) { q0 = (~q0 + 1) | 0; q1 = (~q1 + (q0 === 0 ? 1 : 0)) | 0; }
      if (negN) { r0 = (~r0 + 1) | 0; r1 = (~r1 + (r0 === 0 ? 1 : 0)) | 0; }
      if (size === 1) r[W.W_RAX] = (r[W.W_RAX] & ~0xffff) | (q0 & 0xff) | ((r0 & 0xff) << 8);
      else if (size === 2) { r[W.W_RAX] = (r[W.W_RAX] & ~0xffff) | (q0 & 0xffff); r[W.W_RDX] = (r[W.W_RDX] & ~0xffff) | (r0 & 0xffff); }
      else if (size === 4) { r[W.W_RAX] = q0; r[W.W_RAX + 1] = 0; r[W.W_RDX] = r0; r[W.W_RDX + 1] = 0; }
      else { r[W.W_RAX] = q0; r[W.W_RAX + 1] = q1; r[W.W_RDX] = r0; r[W.W_RDX + 1] = r1; }
    };
  };
}

/** MUL/IMUL leave SF ZF AF PF undefined, DIV/IDIV all six arithmetic flags. */
const MUL = { undef: U_MUL }, DIV = { undef: U_ARITH };

export const MULDIV_ROWS: OpRow[] = [
  row('f6 /4', 'mul Eb', mul1(false, 'Eb'), F_READS, MUL),
  row('f7 /4', 'mul Ev', mul1(false, 'Ev'), F_READS, MUL),
  row('f6 /5', 'imul Eb', mul1(true, 'Eb'), F_READS, MUL),
  row('f7 /5', 'imul Ev', mul1(true, 'Ev'), F_READS, MUL),
  row('f6 /6', 'div Eb', div(false, 'Eb'), F_READS, DIV),
  row('f7 /6', 'div Ev', div(false, 'Ev'), F_READS, DIV),
  row('f6 /7', 'idiv Eb', div(true, 'Eb'), F_READS, DIV),
  row('f7 /7', 'idiv Ev', div(true, 'Ev'), F_READS, DIV),
  row('0f af', 'imul Gv,Ev', imulN(false), 0, MUL),
  row('69', 'imul Gv,Ev,Iz', imulN(true), 0, MUL),
  row('6b', 'imul Gv,Ev,Ibs', imulN(true), 0, MUL),
];
