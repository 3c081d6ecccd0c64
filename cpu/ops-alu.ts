// Table rows and builders for the arithmetic/logic group: ADD..CMP in every
// encoding, TEST, INC/DEC, NEG/NOT. Builders pick a closure for the exact
// operand size and register/memory form; the 32- and 64-bit register forms
// have hand-specialised closures because they dominate real code.

import { ALU_ADC, ALU_AND, ALU_CMP, ALU_NAMES, ALU_SBB, alu, alu64, incdec, incdec64, neg, neg64, sizeCode } from './alu.js';
import type { Cpu, Exec } from './cpu.js';
import type { Insn } from './decoder.js';
import { Fast as F } from './fastops.js';
import { ALU_TEST, byteReg, eaDesc, eaDisp, fast } from './fastops.js';
import { eaFn, memRead, memWrite, regRead, regWrite, specSize } from './operands.js';
import { F_I64, F_LOCK, F_READS, OpRow, row } from './table.js';
import { FLAG_AF } from './state.js';
import { W } from './words.js';

/** A source operand: returns the value (64-bit: low half, high half left in c.resHi). */
export type Src = (c: Cpu) => number;

/** Source operand for spec G*, E*, I*, AL/rAX, or a constant. */
export function srcOf(d: Insn, spec: string, size: number): Src {
  switch (spec[0]) {
    case 'G': return regRead(size, d.reg, d.rex);
    case 'E': {
      if (!d.isMem) return regRead(size, d.rm, d.rex);
      const ea = eaFn(d);
      return (c) => memRead(c, size, ea(c), c.eaHi);
    }
    case 'I': {
      const imm = d.imm, immHi = d.immHi;
      return size === 8 ? (c) => { c.resHi = immHi; return imm; } : () => imm;
    }
  }
  if (spec === 'AL' || spec === 'rAX' || spec === 'eAX') return regRead(size, 0, d.rex);
  if (spec === '1') return (c) => { c.resHi = 0; return 1; };
  if (spec === 'CL') return (c) => c.r32[W.W_RCX] & 0xff;
  throw new Error(`no source for operand ${spec}`);
}

/** Destination register number for G/E(reg)/AL/rAX specs. */
function dstReg(d: Insn, spec: string): number {
  return spec[0] === 'G' ? d.reg : spec[0] === 'E' ? d.rm : 0;
}

const RR32 = [F.ADD_RR32, F.OR_RR32, 0, 0, F.AND_RR32, F.SUB_RR32, F.XOR_RR32, F.CMP_RR32];
const RI32 = [F.ADD_RI32, F.OR_RI32, 0, 0, F.AND_RI32, F.SUB_RI32, F.XOR_RI32, F.CMP_RI32];
const RR64 = [F.ADD_RR64, F.OR_RR64, 0, 0, F.AND_RR64, F.SUB_RR64, F.XOR_RR64, F.CMP_RR64];
const RI64 = [F.ADD_RI64, F.OR_RI64, 0, 0, F.AND_RI64, F.SUB_RI64, F.XOR_RI64, F.CMP_RI64];

/** Builder for `op dst, src` (dst E/G/AL/rAX; src G/E/I). `wb` = write the result back (not CMP/TEST). */
export function binaryOp(compute: number, dstSpec: string, srcSpec: string, isTest = false) {
  return (d: Insn): Exec => {
    const size = specSize(dstSpec, d);
    const wb = compute !== ALU_CMP && !isTest;
    const op = isTest ? ALU_AND : compute;
    const dstIsMem = dstSpec[0] === 'E' && d.isMem;
    // A memory operand any general fast op address takes (not ADC/SBB, which read CF): ALU_RM/MR/MI.
    const e = d.isMem && compute !== ALU_ADC && compute !== ALU_SBB ? eaDesc(d) : -1;
    const shape = compute | (isTest ? ALU_TEST : 0) | sizeCode(size) << 4;
    if (e >= 0 && !dstIsMem && srcSpec[0] === 'E' && (size === 4 || size === 8)) return fast(d, F.ALU_RM, dstReg(d, dstSpec) * 2 | e, shape, eaDisp(d));
    if (e >= 0 && dstIsMem && srcSpec[0] === 'G' && (size !== 1 || d.rex !== 0 || d.reg < 4)) return fast(d, F.ALU_MR, d.reg * 2 | e, shape, eaDisp(d));
    if (e >= 0 && dstIsMem && srcSpec[0] === 'I' && (size !== 8 || d.immHi === d.imm >> 31)) return fast(d, F.ALU_MI, shape | e, d.imm, eaDisp(d));
    if (!dstIsMem) {
      const dn = dstReg(d, dstSpec);
      const srcReg = srcSpec[0] === 'G' || (srcSpec[0] === 'E' && !d.isMem);
      const sn = srcSpec[0] === 'G' ? d.reg : d.rm;
      // The hottest forms become fast ops (cpu/exec.ts).
      if (size === 1 && (srcReg || srcSpec[0] === 'I') && compute !== ALU_ADC && compute !== ALU_SBB) {
        return fast(d, srcReg ? F.ALU_RR8 : F.ALU_RI8, byteReg(dn, d.rex), srcReg ? byteReg(sn, d.rex) : d.imm, shape);
      }
      if ((size === 4 || size === 8) && (srcReg || srcSpec[0] === 'I')) {
        const id = isTest ? (srcReg ? (size === 4 ? F.TEST_RR32 : F.TEST_RR64) : 0)
          : (size === 4 ? (srcReg ? RR32 : RI32) : (srcReg ? RR64 : RI64))[op];
        if (id !== 0) return fast(d, id, dn * 2, srcReg ? sn * 2 : d.imm, 0);
      }
      const rd = regRead(size, dn, d.rex), wr = regWrite(size, dn, d.rex), src = srcOf(d, srcSpec, size);
      if (size === 8) {
        return (c) => {
          const a = rd(c), aHi = c.resHi, b = src(c), bHi = c.resHi;
          const v = alu64(c, op, a, aHi, b, bHi);
          if (wb) wr(c, v);
        };
      }
      return wb ? (c) => { wr(c, alu(c, op, size, rd(c), src(c))); } : (c) => { alu(c, op, size, rd(c), src(c)); };
    }
    const ea = eaFn(d), src = srcOf(d, srcSpec, size);
    if (size === 8) {
      return (c) => {
        const lo = ea(c), hi = c.eaHi;
        const a = c.read64(lo, hi), aHi = c.hi, b = src(c), bHi = c.resHi;
        const v = alu64(c, op, a, aHi, b, bHi);
        if (wb) c.write64(lo, hi, v, c.resHi);
      };
    }
    return (c) => {
      const lo = ea(c), hi = c.eaHi;
      const v = alu(c, op, size, memRead(c, size, lo, hi), src(c));
      if (wb) memWrite(c, size, lo, hi, v);
    };
  };
}

/** Builder for a one-operand read-modify-write on E (INC, DEC, NEG, NOT). */
function unaryOp(kind: 'inc' | 'dec' | 'neg' | 'not', spec: string) {
  return (d: Insn): Exec => {
    const size = specSize(spec, d);
    const f = (c: Cpu, a: number, aHi: number): number => {
      switch (kind) {
        case 'inc': return size === 8 ? incdec64(c, false, a, aHi) : incdec(c, false, size, a);
        case 'dec': return size === 8 ? incdec64(c, true, a, aHi) : incdec(c, true, size, a);
        case 'neg': return size === 8 ? neg64(c, a, aHi) : neg(c, size, a);
        default: c.resHi = ~aHi; return ~a;
      }
    };
    if (!d.isMem) {
      const n = spec[0] === 'Z' ? (d.op & 7) | ((d.rex & 1) << 3) : d.rm;
      const rd = regRead(size, n, d.rex), wr = regWrite(size, n, d.rex);
      if ((size === 4 || size === 8) && kind === 'not') return fast(d, size === 4 ? F.NOT32 : F.NOT64, n * 2, 0, 0);
      if ((size === 4 || size === 8) && (kind === 'inc' || kind === 'dec')) {
        return fast(d, size === 4 ? (kind === 'inc' ? F.INC32 : F.DEC32) : (kind === 'inc' ? F.INC64 : F.DEC64), n * 2, 0, 0);
      }
      return (c) => { const a = rd(c); wr(c, f(c, a, c.resHi)); };
    }
    const ea = eaFn(d);
    return (c) => {
      const lo = ea(c), hi = c.eaHi;
      const a = memRead(c, size, lo, hi);
      memWrite(c, size, lo, hi, f(c, a, c.resHi));
    };
  };
}

function aluRows(): OpRow[] {
  const rows: OpRow[] = [];
  for (let op = 0; op < 8; op++) {
    const n = ALU_NAMES[op];
    const base = op * 8;
    const hex = (v: number): string => v.toString(16).padStart(2, '0');
    // CMP only reads its destination (no LOCK); OR, AND and XOR leave AF undefined.
    const lk = op === ALU_CMP ? F_READS : F_LOCK;
    const u = { undef: op === 1 || op === ALU_AND || op === 6 ? FLAG_AF : 0 };
    rows.push(
      row(hex(base), `${n} Eb,Gb`, binaryOp(op, 'Eb', 'Gb'), lk, u),
      row(hex(base + 1), `${n} Ev,Gv`, binaryOp(op, 'Ev', 'Gv'), lk, u),
      row(hex(base + 2), `${n} Gb,Eb`, binaryOp(op, 'Gb', 'Eb'), 0, u),
      row(hex(base + 3), `${n} Gv,Ev`, binaryOp(op, 'Gv', 'Ev'), 0, u),
      row(hex(base + 4), `${n} AL,Ib`, binaryOp(op, 'AL', 'Ib'), 0, u),
      row(hex(base + 5), `${n} rAX,Iz`, binaryOp(op, 'rAX', 'Iz'), 0, u),
      row(`80 /${op}`, `${n} Eb,Ib`, binaryOp(op, 'Eb', 'Ib'), lk, u),
      row(`81 /${op}`, `${n} Ev,Iz`, binaryOp(op, 'Ev', 'Iz'), lk, u),
      row(`82 /${op}`, `${n} Eb,Ib`, binaryOp(op, 'Eb', 'Ib'), lk | F_I64, u),
      row(`83 /${op}`, `${n} Ev,Ibs`, binaryOp(op, 'Ev', 'Ibs'), lk, u),
    );
  }
  return rows;
}

export const ALU_ROWS: OpRow[] = [
  ...aluRows(),
  row('84', 'test Eb,Gb', binaryOp(ALU_AND, 'Eb', 'Gb', true), F_READS, { undef: FLAG_AF }),
  row('85', 'test Ev,Gv', binaryOp(ALU_AND, 'Ev', 'Gv', true), F_READS, { undef: FLAG_AF }),
  row('a8', 'test AL,Ib', binaryOp(ALU_AND, 'AL', 'Ib', true), 0, { undef: FLAG_AF }),
  row('a9', 'test rAX,Iz', binaryOp(ALU_AND, 'rAX', 'Iz', true), 0, { undef: FLAG_AF }),
  row('f6 /0', 'test Eb,Ib', binaryOp(ALU_AND, 'Eb', 'Ib', true), F_READS, { undef: FLAG_AF }),
  row('f6 /1', 'test Eb,Ib', binaryOp(ALU_AND, 'Eb', 'Ib', true), F_READS, { undef: FLAG_AF }),
  row('f7 /0', 'test Ev,Iz', binaryOp(ALU_AND, 'Ev', 'Iz', true), F_READS, { undef: FLAG_AF }),
  row('f7 /1', 'test Ev,Iz', binaryOp(ALU_AND, 'Ev', 'Iz', true), F_READS, { undef: FLAG_AF }),
  row('f6 /2', 'not Eb', unaryOp('not', 'Eb'), F_LOCK),
  row('f7 /2', 'not Ev', unaryOp('not', 'Ev'), F_LOCK),
  row('f6 /3', 'neg Eb', unaryOp('neg', 'Eb'), F_LOCK),
  row('f7 /3', 'neg Ev', unaryOp('neg', 'Ev'), F_LOCK),
  row('fe /0', 'inc Eb', unaryOp('inc', 'Eb'), F_LOCK),
  row('fe /1', 'dec Eb', unaryOp('dec', 'Eb'), F_LOCK),
  row('ff /0', 'inc Ev', unaryOp('inc', 'Ev'), F_LOCK),
  row('ff /1', 'dec Ev', unaryOp('dec', 'Ev'), F_LOCK),
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => row((0x40 + i).toString(16), 'inc Zv', unaryOp('inc', 'Zv'), F_I64)),
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => row((0x48 + i).toString(16), 'dec Zv', unaryOp('dec', 'Zv'), F_I64)),
];

