// x87 instruction semantics, keyed the way the encoding is: escape byte D8..DF and ModRM.
// Memory operands arrive in (loads) and leave through (stores) a byte buffer that the
// interpreter fills from / writes to guest memory, so this file never touches memory.

import {
  Fp, newFp, env, out, EXT64, F32, F64, K_ZERO, K_QNAN,
} from './softfloat.js';
import {
  unpackF32, unpackF64, opAdd, opMul, opDiv, opConvert, opCompare, opToInt, intToFp, intOut,
  outF32, outF64Hi, outF64Lo, CMP_EQ, CMP_LT,
} from './arith.js';
import {
  readST, writeSTRaw, writeSTOut, pop, pushOut, isEmpty, stackFault, beginOp, endOp, setC1FromRounding, setCC,
  pcFormat, fsw, setFsw, fcw, SW_C1, SW_IE, INDEF_LO, INDEF_HI, INDEF_SE, decTop, incTop, freeST, stOff,
  finit, SW_OE, SW_UE, SW_PE, pushSlot,
} from './x87state.js';
import { x87Special, x87Constant } from './x87special.js';
import { fbld, fbstp } from './bcd.js';

const A = newFp(), B = newFp();

// One DataView per operand buffer (the interpreter passes the same scratch buffer every time).
let lastMem: Uint8Array | null = null, lastView: DataView | null = null;
export function memView(mem: Uint8Array): DataView {
  if (mem !== lastMem || lastView === null) { lastMem = mem; lastView = new DataView(mem.buffer, mem.byteOffset, mem.length); }
  return lastView;
}

/** EFLAGS result of FCOMI/FUCOMI (ZF|PF|CF), or -1 when the instruction does not write EFLAGS. */
export const x87Result = { eflags: -1 };
const EF_CF = 1, EF_PF = 4, EF_ZF = 0x40;

/** Load a memory operand of the arithmetic groups into B. Returns the DE flag. */
function loadMemOperand(op: number, mem: Uint8Array, dv: DataView): number {
  const m = memView(mem);
  void dv;
  switch (op) {
    case 0xd8: return unpackF32(B, m.getUint32(0, true));
    case 0xdc: return unpackF64(B, m.getUint32(0, true), m.getUint32(4, true));
    case 0xda: { const v = m.getInt32(0, true); intToFp(B, v, v < 0 ? -1 : 0); return 0; }
    default: { const v = m.getInt16(0, true); intToFp(B, v, v < 0 ? -1 : 0); return 0; }
  }
}

/**
 * The eight arithmetic operations of D8/DC/DA/DE: dst <- dst op src, where for reg 5/7 the
 * operands are reversed (FSUBR/FDIVR). 2/3 are FCOM/FCOMP. Pops `npop` times after.
 */
function arith(dv: DataView, reg: number, dst: number, a: Fp, b: Fp, denorm: number, npop: number): void {
  if (reg === 2 || reg === 3) { compare(dv, a, b, false, denorm, reg === 3 ? 1 : 0, false); return; }
  const f = pcFormat(dv);
  switch (reg) {
    case 0: opAdd(a, b, 0, f, true, denorm); break;
    case 1: opMul(a, b, f, true, denorm); break;
    case 4: opAdd(a, b, 1, f, true, denorm); break;
    case 5: opAdd(b, a, 1, f, true, denorm); break;
    case 6: opDiv(a, b, f, true, denorm); break;
    default: opDiv(b, a, f, true, denorm); break;
  }
  if (!endOp(dv)) return;
  setC1FromRounding(dv);
  writeSTOut(dv, dst);
  while (npop-- > 0) pop(dv);
}

/** FCOM/FUCOM family: condition codes or (eflags) ZF/PF/CF. */
function compare(dv: DataView, a: Fp, b: Fp, quiet: boolean, denorm: number, npop: number, eflags: boolean): void {
  const r = opCompare(a, b, quiet, denorm);
  const ok = endOp(dv);
  const c3 = r === CMP_EQ || r === 3 ? 1 : 0, c0 = r === CMP_LT || r === 3 ? 1 : 0, c2 = r === 3 ? 1 : 0;
  // the condition codes are written even when an unmasked exception stops the pop
  // FCOMI/FUCOMI leave C1 as it was (the SDM says "set to 0"; AMD Zen hosts keep it, seen by
  // bench/kvm-lockstep-native.mjs); only a stack underflow clears it (stackFault).
  if (eflags) x87Result.eflags = (c3 ? EF_ZF : 0) | (c2 ? EF_PF : 0) | (c0 ? EF_CF : 0);
  else setCC(dv, c0, 0, c2, c3);
  if (!ok) return;
  while (npop-- > 0) pop(dv);
}

/** Source register operands must be non-empty; a masked stack underflow delivers the indefinite to dst. */
function checkUnderflow(dv: DataView, i: number, j: number, dst: number, npop: number): boolean {
  if (!isEmpty(dv, i) && (j < 0 || !isEmpty(dv, j))) return false;
  if (stackFault(dv, false) && dst >= 0) { writeSTRaw(dv, dst, INDEF_LO, INDEF_HI, INDEF_SE); while (npop-- > 0) pop(dv); }
  return true;
}
function compareUnderflow(dv: DataView, i: number, j: number, npop: number, eflags: boolean): boolean {
  if (!isEmpty(dv, i) && (j < 0 || !isEmpty(dv, j))) return false;
  if (stackFault(dv, false)) {
    if (eflags) x87Result.eflags = EF_ZF | EF_PF | EF_CF; else setCC(dv, 1, 0, 1, 1);
    while (npop-- > 0) pop(dv);
  }
  return true;
}

/**
 * Execute one x87 instruction. `op` is the escape byte, `modrm` its ModRM byte; for memory
 * forms `mem` holds the operand (loads) and receives the result (stores). Returns the number
 * of bytes to store to memory (0 if none). FNSTENV/FNSAVE-style forms are in x87env.ts.
 */
export function x87Exec(dv: DataView, op: number, modrm: number, mem: Uint8Array): number {
  x87Result.eflags = -1;
  beginOp(dv);
  const reg = (modrm >> 3) & 7, isReg = modrm >= 0xc0, i = modrm & 7;
  if (!isReg) return x87Mem(dv, op, reg, mem);
  switch (op) {
    case 0xd8: { // FADD..FDIVR ST0, ST(i)
      if (reg === 2 || reg === 3) { if (compareUnderflow(dv, 0, i, reg - 2, false)) return 0; }
      else if (checkUnderflow(dv, 0, i, 0, 0)) return 0;
      const d = readST(dv, 0, A) | readST(dv, i, B);
      arith(dv, reg, 0, A, B, d, 0); return 0;
    }
    case 0xdc: case 0xde: { // ST(i) <- ST(i) op ST0 (reversed sense of sub/div); DE pops
      const npop = op === 0xde ? 1 : 0;
      if (op === 0xde && reg === 3) { // FCOMPP (DE D9)
        if (compareUnderflow(dv, 0, 1, 2, false)) return 0;
        const d = readST(dv, 0, A) | readST(dv, 1, B);
        compare(dv, A, B, false, d, 2, false); return 0;
      }
      if (reg === 2 || reg === 3) { // FCOM2/FCOMP3 aliases
        if (compareUnderflow(dv, 0, i, 1, false)) return 0;
        const d = readST(dv, 0, A) | readST(dv, i, B);
        compare(dv, A, B, false, d, op === 0xde || reg === 3 ? 1 : 0, false); return 0;
      }
      if (checkUnderflow(dv, 0, i, i, npop)) return 0;
      const d = readST(dv, i, A) | readST(dv, 0, B);
      arith(dv, reg >= 4 ? reg ^ 1 : reg, i, A, B, d, npop); return 0;
    }
    case 0xd9: return x87D9Reg(dv, reg, i);
    case 0xda:
      if (modrm === 0xe9) { // FUCOMPP
        if (compareUnderflow(dv, 0, 1, 2, false)) return 0;
        const d = readST(dv, 0, A) | readST(dv, 1, B);
        compare(dv, A, B, true, d, 2, false); return 0;
      }
      return fcmov(dv, reg, i, false);
    case 0xdb:
      if (reg === 5 || reg === 6) return fcomi(dv, i, reg === 5, 0);
      if (modrm === 0xe2) { setFsw(dv, fsw(dv) & 0x7f00); return 0; } // FNCLEX
      if (modrm === 0xe3) { finit(dv); return 0; } // FNINIT
      if (modrm >= 0xe0 && modrm <= 0xe4) return 0; // FENI/FDISI/FSETPM: no-ops on 387+
      return fcmov(dv, reg, i, true);
    case 0xdd:
      switch (reg) {
        case 0: freeST(dv, i); setFsw(dv, fsw(dv) & ~SW_C1); return 0; // FFREE (C0-C3 undefined; the host clears C1)
        case 2: case 3: { // FST/FSTP ST(i)
          if (isEmpty(dv, 0)) { if (stackFault(dv, false)) { writeSTRaw(dv, i, INDEF_LO, INDEF_HI, INDEF_SE); if (reg === 3) pop(dv); } return 0; }
          copyST(dv, 0, i); setFsw(dv, fsw(dv) & ~SW_C1); if (reg === 3) pop(dv); return 0;
        }
        case 4: case 5: { // FUCOM/FUCOMP
          if (compareUnderflow(dv, 0, i, reg - 4, false)) return 0;
          const d = readST(dv, 0, A) | readST(dv, i, B);
          compare(dv, A, B, true, d, reg - 4, false); return 0;
        }
        case 1: return fxch(dv, i);
        default: return 0;
      }
    case 0xdf:
      if (modrm === 0xe0) return -1; // FNSTSW AX: handled by the caller (it writes a GPR)
      if (reg === 5 || reg === 6) return fcomi(dv, i, reg === 5, 1);
      if (reg === 0) { freeST(dv, i); pop(dv); return 0; } // FFREEP
      if (reg === 1) return fxch(dv, i);
      if (reg === 2 || reg === 3) { // FSTP1 aliases
        if (isEmpty(dv, 0)) { if (stackFault(dv, false)) { writeSTRaw(dv, i, INDEF_LO, INDEF_HI, INDEF_SE); pop(dv); } return 0; }
        copyST(dv, 0, i); pop(dv); return 0;
      }
      return 0;
  }
  return 0;
}

function copyST(dv: DataView, from: number, to: number): void {
  const o = stOff(from);
  writeSTRaw(dv, to, dv.getUint32(o, true), dv.getUint32(o + 4, true), dv.getUint16(o + 8, true));
}

function fxch(dv: DataView, i: number): number {
  if (isEmpty(dv, 0) || isEmpty(dv, i)) {
    if (!stackFault(dv, false)) return 0;
    if (isEmpty(dv, 0)) writeSTRaw(dv, 0, INDEF_LO, INDEF_HI, INDEF_SE);
    if (isEmpty(dv, i)) writeSTRaw(dv, i, INDEF_LO, INDEF_HI, INDEF_SE);
  }
  const o0 = stOff(0), oi = stOff(i);
  const lo = dv.getUint32(o0, true), hi = dv.getUint32(o0 + 4, true), se = dv.getUint16(o0 + 8, true);
  copyST(dv, i, 0); writeSTRaw(dv, i, lo, hi, se);
  void oi;
  setFsw(dv, fsw(dv) & ~SW_C1);
  return 0;
}

/** FCMOVcc: the condition comes from EFLAGS, which the caller puts in x87Flags.in. */
export const x87Flags = { in: 0 };
function fcmov(dv: DataView, reg: number, i: number, negate: boolean): number {
  const f = x87Flags.in;
  let c: boolean;
  switch (reg & 3) {
    case 0: c = (f & EF_CF) !== 0; break;
    case 1: c = (f & EF_ZF) !== 0; break;
    case 2: c = (f & (EF_CF | EF_ZF)) !== 0; break;
    default: c = (f & EF_PF) !== 0;
  }
  if (negate) c = !c;
  // Masked underflow: the host writes the indefinite to ST0 whether or not the condition holds.
  if (isEmpty(dv, 0) || isEmpty(dv, i)) { if (stackFault(dv, false)) writeSTRaw(dv, 0, INDEF_LO, INDEF_HI, INDEF_SE); return 0; }
  if (c) copyST(dv, i, 0); // C1 is cleared only by a stack underflow (SDM: "set to 0 if stack underflow occurred")
  return 0;
}

function fcomi(dv: DataView, i: number, quiet: boolean, npop: number): number {
  if (compareUnderflow(dv, 0, i, npop, true)) return 0;
  const d = readST(dv, 0, A) | readST(dv, i, B);
  compare(dv, A, B, quiet, d, npop, true);
  return 0;
}

function x87D9Reg(dv: DataView, reg: number, i: number): number {
  switch (reg) {
    case 0: { // FLD ST(i)
      if (isEmpty(dv, i)) { // underflow: the indefinite is pushed over a full stack without an overflow report (C1 stays 0)
        if (stackFault(dv, false)) { pushSlot(dv); writeSTRaw(dv, 0, INDEF_LO, INDEF_HI, INDEF_SE); }
        return 0;
      } else {
        const o = stOff(i);
        out.lo = dv.getUint32(o, true); out.hi = dv.getUint32(o + 4, true);
        const se = dv.getUint16(o + 8, true); out.sign = se >>> 15; out.bexp = se & 0x7fff;
      }
      pushOut(dv);
      return 0;
    }
    case 1: return fxch(dv, i);
    case 2: if (i === 0) return 0; break; // FNOP
    case 3: { // FSTP1 alias
      if (isEmpty(dv, 0)) { if (stackFault(dv, false)) { writeSTRaw(dv, i, INDEF_LO, INDEF_HI, INDEF_SE); pop(dv); } return 0; }
      copyST(dv, 0, i); pop(dv); return 0;
    }
    case 4: return x87Special(dv, 0xe0 + i);
    case 5: return x87Constant(dv, i);
    case 6: case 7:
      if (reg === 6 && i === 6) { decTop(dv); setFsw(dv, fsw(dv) & ~SW_C1); return 0; } // FDECSTP
      if (reg === 6 && i === 7) { incTop(dv); setFsw(dv, fsw(dv) & ~SW_C1); return 0; } // FINCSTP
      return x87Special(dv, 0xf0 + (reg - 6) * 8 + i);
  }
  return 0;
}

// ---------------------------------------------------------------- memory forms
function x87Mem(dv: DataView, op: number, reg: number, mem: Uint8Array): number {
  const m = memView(mem);
  switch (op) {
    case 0xd8: case 0xdc: case 0xda: case 0xde: {
      const d0 = loadMemOperand(op, mem, dv);
      if (reg === 2 || reg === 3) {
        if (compareUnderflow(dv, 0, -1, reg - 2, false)) return 0;
        const d = readST(dv, 0, A) | d0;
        compare(dv, A, B, false, d, reg - 2, false); return 0;
      }
      if (checkUnderflow(dv, 0, -1, 0, 0)) return 0;
      const d = readST(dv, 0, A) | d0;
      arith(dv, reg, 0, A, B, d, 0); return 0;
    }
    case 0xd9:
      switch (reg) {
        case 0: return fldConvert(dv, unpackF32(A, m.getUint32(0, true)));
        case 2: case 3: return fstFloat(dv, mem, F32, reg === 3);
        default: return -2; // FLDENV/FLDCW/FNSTENV/FNSTCW: x87env.ts
      }
    case 0xdd:
      switch (reg) {
        case 0: return fldConvert(dv, unpackF64(A, m.getUint32(0, true), m.getUint32(4, true)));
        case 1: return fistStore(dv, mem, 64, true);
        case 2: case 3: return fstFloat(dv, mem, F64, reg === 3);
        default: return -2; // FRSTOR/FNSAVE/FNSTSW m16
      }
    case 0xdb:
      switch (reg) {
        case 0: { const v = m.getInt32(0, true); intToFp(A, v, v < 0 ? -1 : 0); return fldExact(dv); }
        case 1: return fistStore(dv, mem, 32, true);
        case 2: case 3: return fistStore(dv, mem, 32, false, reg === 3);
        case 5: { // FLD m80: no conversion, no exceptions
          out.lo = m.getUint32(0, true); out.hi = m.getUint32(4, true);
          const se = m.getUint16(8, true); out.sign = se >>> 15; out.bexp = se & 0x7fff;
          pushOut(dv);
          return 0;
        }
        case 7: { // FSTP m80
          if (isEmpty(dv, 0)) {
            if (!stackFault(dv, false)) return 0;
            m.setUint32(0, INDEF_LO, true); m.setUint32(4, INDEF_HI, true); m.setUint16(8, INDEF_SE, true);
          } else {
            const o = stOff(0);
            m.setUint32(0, dv.getUint32(o, true), true); m.setUint32(4, dv.getUint32(o + 4, true), true);
            m.setUint16(8, dv.getUint16(o + 8, true), true);
            setFsw(dv, fsw(dv) & ~SW_C1);
          }
          pop(dv); return 10;
        }
        default: return 0;
      }
    case 0xdf:
      switch (reg) {
        case 0: { const v = m.getInt16(0, true); intToFp(A, v, v < 0 ? -1 : 0); return fldExact(dv); }
        case 1: return fistStore(dv, mem, 16, true);
        case 2: case 3: return fistStore(dv, mem, 16, false, reg === 3);
        case 4: return fbld(dv, mem);
        case 5: intToFp(A, m.getUint32(0, true), m.getUint32(4, true)); return fldExact(dv);
        case 6: return fbstp(dv, mem);
        case 7: return fistStore(dv, mem, 64, false, true);
      }
  }
  return 0;
}

/** FLD m32/m64: exact widening; SNaN raises IE and is quieted, denormals raise DE. */
function fldConvert(dv: DataView, denorm: number): number {
  // A full stack is reported before the source is looked at: no DE/IE from a denormal or SNaN then.
  if (!isEmpty(dv, 7)) { pushOut(dv); return 0; }
  opConvert(A, EXT64, denorm);
  endOp(dv);
  // the load completes even with an unmasked DE; an unmasked IE (SNaN) stops it
  if ((env.flags & SW_IE & ~fcw(dv)) !== 0) return 0;
  pushOut(dv);
  return 0;
}
function fldExact(dv: DataView): number {
  if (A.kind === K_ZERO) { out.sign = A.sign; out.bexp = 0; out.hi = 0; out.lo = 0; }
  else { out.sign = A.sign; out.bexp = A.exp + 16383; out.hi = A.hi; out.lo = A.lo; }
  pushOut(dv);
  return 0;
}

/** FST/FSTP m32/m64. Unmasked IE/OE/UE: nothing stored, no pop. */
function fstFloat(dv: DataView, mem: Uint8Array, f: typeof F32, popAfter: boolean): number {
  const m = memView(mem);
  if (isEmpty(dv, 0)) {
    if (!stackFault(dv, false)) return 0;
    A.kind = K_QNAN; A.sign = 1; A.hi = INDEF_HI; A.lo = 0; opConvert(A, f, 0);
  } else {
    readST(dv, 0, A);
    // memory destinations get the masked response; unmasked OE/UE then suppress the store
    const cw = fcw(dv);
    env.oeMasked = 1; env.ueMasked = 1;
    opConvert(A, f, 0); // FST does not report denormal operands
    if (env.tiny && (cw & SW_UE) === 0) env.flags = (env.flags & ~SW_PE) | SW_UE;
    if ((env.flags & SW_OE) !== 0 && (cw & SW_OE) === 0) env.flags &= ~SW_PE;
    const unmasked = env.flags & ~cw & 0x3f;
    if (!endOp(dv) || (unmasked & (SW_OE | SW_UE)) !== 0) return 0;
    setC1FromRounding(dv);
  }
  if (f === F32) m.setUint32(0, outF32(), true);
  else { m.setUint32(0, outF64Lo(), true); m.setUint32(4, outF64Hi(), true); }
  if (popAfter) pop(dv);
  return f === F32 ? 4 : 8;
}

/** FIST/FISTP/FISTTP to 16/32/64-bit integers. */
function fistStore(dv: DataView, mem: Uint8Array, bits: number, truncate: boolean, popAfter = true): number {
  const m = memView(mem);
  if (isEmpty(dv, 0)) {
    if (!stackFault(dv, false)) return 0;
    A.kind = K_QNAN; opToInt(A, bits, truncate); env.flags = 0;
  } else {
    readST(dv, 0, A);
    opToInt(A, bits, truncate);
    if (!endOp(dv)) return 0;
    setC1FromRounding(dv);
  }
  if (bits === 16) m.setUint16(0, intOut.lo, true);
  else if (bits === 32) m.setUint32(0, intOut.lo, true);
  else { m.setUint32(0, intOut.lo, true); m.setUint32(4, intOut.hi, true); }
  if (popAfter) pop(dv);
  return bits / 8;
}

