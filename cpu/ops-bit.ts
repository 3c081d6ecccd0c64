// Table rows for bit and atomic-exchange instructions: BT/BTS/BTR/BTC (register
// and immediate offsets; a register offset into memory addresses beyond the
// operand), BSF/BSR, CMPXCHG, XADD, CMPXCHG8B/16B. LOCK is accepted and
// needs no work in a single-threaded interpreter.

import type { Cpu, Exec } from './cpu.js';
import type { Insn } from './decoder.js';
import { ALU_ADD, ALU_CMP, alu, alu64 } from './alu.js';
import { getZF, materialize } from './flags.js';
import { eaFn, memRead, memWrite, regRead, regWrite } from './operands.js';
import { CpuFault, VEC_GP, VEC_UD } from './fault.js';
import { FLAG_CF, FLAG_ZF } from './state.js';
import { F_LOCK, F_READS, OpRow, U_BSF, U_BT, U_ZERO_SOURCE, row } from './table.js';
import { W } from './words.js';

const BT = 0, BTS = 1, BTR = 2, BTC = 3;

function setFlagBit(c: Cpu, flag: number, on: boolean): void {
  const r = c.r32;
  materialize(r);
  r[W.W_RFLAGS] = on ? r[W.W_RFLAGS] | flag : r[W.W_RFLAGS] & ~flag;
}

/** Apply a BT-family op to bit `n` (0..63) of (lo, hi); returns new lo, new hi in c.resHi; sets CF. */
function bitOp(c: Cpu, op: number, lo: number, hi: number, n: number): number {
  const inHi = n >= 32, m = 1 << (n & 31);
  const w = inHi ? hi : lo;
  setFlagBit(c, FLAG_CF, (w & m) !== 0);
  const nw = op === BTS ? w | m : op === BTR ? w & ~m : op === BTC ? w ^ m : w;
  c.resHi = inHi ? nw : hi;
  return inHi ? lo : nw;
}

/** BT* Ev, Gv (register offset) or Ev, Ib (immediate offset). */
function btRow(op: number, byImm: boolean) {
  return (d: Insn): Exec => {
    const size = d.opSize, bits = size * 8;
    // Everything an executor needs is copied out of d here: the decoder reuses one Insn.
    const off = regRead(size, d.reg, d.rex);
    const offImm = d.imm, m64 = d.mode64;
    if (!d.isMem) {
      const rd = regRead(size, d.rm, d.rex), wr = regWrite(size, d.rm, d.rex);
      return (c) => {
        const n = (byImm ? offImm : off(c)) & (bits - 1);
        const v = rd(c), vHi = c.resHi;
        const res = bitOp(c, op, v, vHi, n);
        if (op !== BT) wr(c, res);
      };
    }
    const ea = eaFn(d);
    return (c) => {
      let lo = ea(c), hi = c.eaHi;
      let n: number;
      if (byImm) n = offImm & (bits - 1);
      else {
        // The signed bit offset selects an operand-sized unit relative to the address.
        const o = off(c), oHi = c.resHi;
        const signedOff = size === 2 ? (o << 16) >> 16 : o | 0;
        const unit = size === 8 ? Math.floor((oHi * 4294967296 + (o >>> 0)) / 64) : Math.floor(signedOff / bits);
        const delta = unit * size;
        const sum = (lo >>> 0) + delta;
        lo = sum | 0;
        hi = (hi + Math.floor(sum / 4294967296)) | 0;
        if (!m64) hi = 0;
        n = o & (bits - 1);
      }
      const v = memRead(c, size, lo, hi), vHi = c.resHi;
      const res = bitOp(c, op, v, vHi, n);
      if (op !== BT) memWrite(c, size, lo, hi, res);
    };
  };
}

/** BSF/BSR: ZF=1 and the destination unchanged if the source is zero. */
function bsfBsr(reverse: boolean) {
  return (d: Insn): Exec => {
    const size = d.opSize;
    const src = d.isMem ? ((ea) => (c: Cpu) => memRead(c, size, ea(c), c.eaHi))(eaFn(d)) : regRead(size, d.rm, d.rex);
    const wr = regWrite(size, d.reg, d.rex);
    return (c) => {
      let v = src(c), vHi = size === 8 ? c.resHi : 0;
      if (size === 2) v &= 0xffff;
      if ((v | vHi) === 0) { setFlagBit(c, FLAG_ZF, true); return; }
      let n: number;
      if (reverse) n = vHi !== 0 ? 63 - Math.clz32(vHi) : 31 - Math.clz32(v);
      else n = v !== 0 ? 31 - Math.clz32(v & -v) : 32 + 31 - Math.clz32(vHi & -vHi);
      setFlagBit(c, FLAG_ZF, false);
      c.resHi = 0;
      wr(c, n);
    };
  };
}

/** CMPXCHG Eb/Ev, G: compare the accumulator with the destination. */
function cmpxchg(byte: boolean) {
  return (d: Insn): Exec => {
    const size = byte ? 1 : d.opSize;
    const acc = regRead(size, 0, d.rex), accW = regWrite(size, 0, d.rex);
    const src = regRead(size, d.reg, d.rex);
    const dstR = d.isMem ? null : regRead(size, d.rm, d.rex), dstW = d.isMem ? null : regWrite(size, d.rm, d.rex);
    const ea = d.isMem ? eaFn(d) : null;
    return (c) => {
      let lo = 0, hi = 0, v: number, vHi: number;
      if (ea) { lo = ea(c); hi = c.eaHi; v = memRead(c, size, lo, hi); vHi = c.resHi; } else { v = dstR!(c); vHi = c.resHi; }
      const a = acc(c), aHi = c.resHi;
      if (size === 8) alu64(c, ALU_CMP, a, aHi, v, vHi); else alu(c, ALU_CMP, size, a, v);
      const equal = getZF(c.r32);
      let out = v, outHi = vHi;
      if (equal) { out = src(c); outHi = c.resHi; } else { c.resHi = vHi; accW(c, v); }
      c.resHi = outHi;
      // The destination is written either way (unchanged value when unequal): a 32-bit register
      // destination therefore has its high half cleared even when the compare fails.
      if (ea) memWrite(c, size, lo, hi, out);
      else dstW!(c, out);
    };
  };
}

/** XADD E, G: dest = dest + src, src = old dest. */
function xadd(byte: boolean) {
  return (d: Insn): Exec => {
    const size = byte ? 1 : d.opSize;
    const src = regRead(size, d.reg, d.rex), srcW = regWrite(size, d.reg, d.rex);
    const dstR = d.isMem ? null : regRead(size, d.rm, d.rex), dstW = d.isMem ? null : regWrite(size, d.rm, d.rex);
    const ea = d.isMem ? eaFn(d) : null;
    return (c) => {
      let lo = 0, hi = 0, v: number, vHi: number;
      if (ea) { lo = ea(c); hi = c.eaHi; v = memRead(c, size, lo, hi); vHi = c.resHi; } else { v = dstR!(c); vHi = c.resHi; }
      const s = src(c), sHi = c.resHi;
      const sum = size === 8 ? alu64(c, ALU_ADD, v, vHi, s, sHi) : alu(c, ALU_ADD, size, v, s);
      const sumHi = c.resHi;
      c.resHi = vHi; srcW(c, v);
      c.resHi = sumHi;
      if (ea) memWrite(c, size, lo, hi, sum); else dstW!(c, sum);
    };
  };
}

/** CMPXCHG8B m64 / CMPXCHG16B m128 (REX.W; the operand must be 16-byte aligned). */
function cmpxchg8b(d: Insn): Exec {
  if (!d.isMem) return () => { throw new CpuFault(VEC_UD); };
  const ea = eaFn(d), wide = d.opSize === 8;
  return (c) => {
    const r = c.r32;
    const lo = ea(c), hi = c.eaHi;
    if (wide) {
      if ((lo & 15) !== 0) throw new CpuFault(VEC_GP, 0, true);
      const m0 = c.read64(lo, hi), m1 = c.hi;
      const nlo = (lo + 8) | 0, nhi = (nlo >>> 0) < 8 ? (hi + 1) | 0 : hi;
      const m2 = c.read64(nlo, nhi), m3 = c.hi;
      if (m0 === r[W.W_RAX] && m1 === r[W.W_RAX + 1] && m2 === r[W.W_RDX] && m3 === r[W.W_RDX + 1]) {
        c.write64(lo, hi, r[W.W_RBX], r[W.W_RBX + 1]);
        c.write64(nlo, nhi, r[W.W_RCX], r[W.W_RCX + 1]);
        setFlagBit(c, FLAG_ZF, true);
      } else {
        c.write64(lo, hi, m0, m1);
        c.write64(nlo, nhi, m2, m3);
        r[W.W_RAX] = m0; r[W.W_RAX + 1] = m1; r[W.W_RDX] = m2; r[W.W_RDX + 1] = m3;
        setFlagBit(c, FLAG_ZF, false);
      }
      return;
    }
    const m0 = c.read64(lo, hi), m1 = c.hi;
    if (m0 === r[W.W_RAX] && m1 === r[W.W_RDX]) {
      c.write64(lo, hi, r[W.W_RBX], r[W.W_RCX]);
      setFlagBit(c, FLAG_ZF, true);
    } else {
      c.write64(lo, hi, m0, m1);
      r[W.W_RAX] = m0; r[W.W_RDX] = m1;
      if (c.codeSize === 8) { r[W.W_RAX + 1] = 0; r[W.W_RDX + 1] = 0; }
      setFlagBit(c, FLAG_ZF, false);
    }
  };
}

/** BT* leave OF SF AF PF undefined; BSF/BSR all but ZF, and the destination for a zero source. */
const BTU = { undef: U_BT }, BSF = { undef: U_BSF | U_ZERO_SOURCE };

export const BIT_ROWS: OpRow[] = [
  row('0f a3', 'bt Ev,Gv', btRow(BT, false), F_READS, BTU),
  row('0f ab', 'bts Ev,Gv', btRow(BTS, false), F_LOCK, BTU),
  row('0f b3', 'btr Ev,Gv', btRow(BTR, false), F_LOCK, BTU),
  row('0f bb', 'btc Ev,Gv', btRow(BTC, false), F_LOCK, BTU),
  row('0f ba /4', 'bt Ev,Ib', btRow(BT, true), F_READS, BTU),
  row('0f ba /5', 'bts Ev,Ib', btRow(BTS, true), F_LOCK, BTU),
  row('0f ba /6', 'btr Ev,Ib', btRow(BTR, true), F_LOCK, BTU),
  row('0f ba /7', 'btc Ev,Ib', btRow(BTC, true), F_LOCK, BTU),
  row('0f bc', 'bsf Gv,Ev', bsfBsr(false), 0, BSF),
  row('0f bd', 'bsr Gv,Ev', bsfBsr(true), 0, BSF),
  row('0f b0', 'cmpxchg Eb,Gb', cmpxchg(true), F_LOCK),
  row('0f b1', 'cmpxchg Ev,Gv', cmpxchg(false), F_LOCK),
  row('0f c0', 'xadd Eb,Gb', xadd(true), F_LOCK),
  row('0f c1', 'xadd Ev,Gv', xadd(false), F_LOCK),
  row('0f c7 /1 m', 'cmpxchg8b|cmpxchg8b|cmpxchg16b Mq', cmpxchg8b, F_LOCK),
];
