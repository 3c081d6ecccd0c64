// Table rows for data movement: MOV (all forms incl. moffs and Sreg), LEA,
// XCHG, MOVZX/MOVSX/MOVSXD, CMOVcc, SETcc, BSWAP, CBW/CWD families, XLAT,
// LAHF/SAHF, flag-bit instructions, NOP/PAUSE and the hint NOPs.

import type { Cpu, Exec } from './cpu.js';
import { SEG_WRITE, segWord } from './cpu.js';
import type { Insn } from './decoder.js';
import { materialize } from './flags.js';
import { W } from './words.js';
import { CC_NAMES, ccTest } from './ops-ctl.js';
import { Fast as F } from './fastops.js';
import { LOAD_SIGNED, LOAD_TO64, byteReg, eaDesc, eaDisp, fast } from './fastops.js';
import { CpuFault, VEC_UD } from './fault.js';
import { eaFn, leaFn, memRead, memWrite, regRead, regWrite, segCheck } from './operands.js';
import { DS, FLAG_AF, FLAG_CF, FLAG_DF, FLAG_PF, FLAG_SF, FLAG_ZF, SEG_BASE, SEG_SEL, SHADOW_MOV_SS, SS } from './state.js';
import { F_LOCK, F_O64, F_READS, F_SHADOW, F_STOP, OpRow, row, rowsPlusReg } from './table.js';

/** MOV E/G forms, both directions (88-8B). */
function movEG(toReg: boolean, byte: boolean) {
  return (d: Insn): Exec => {
    const size = byte ? 1 : d.opSize;
    const g = d.reg * 2;
    if (!d.isMem) {
      const from = toReg ? d.rm : d.reg, to = toReg ? d.reg : d.rm;
      if (size === 4 || size === 8) return fast(d, size === 4 ? F.MOV_RR32 : F.MOV_RR64, to * 2, from * 2, 0);
      const rd = regRead(size, from, d.rex), wr = regWrite(size, to, d.rex);
      return (c) => wr(c, rd(c));
    }
    // [base + disp] without index: fast loads and stores.
    if ((size === 4 || size === 8) && d.base >= 0 && d.index < 0 && !d.ripRel) {
      if (!d.mode64 && d.addrSize === 4 && size === 4) {
        return fast(d, toReg ? F.LOAD32 : F.STORE32, g, d.base * 2 | (segWord(d.seg, SEG_BASE) << 16), d.disp);
      }
      if (d.mode64 && d.addrSize === 8 && d.segOverride < 0) {
        const id = toReg ? (size === 4 ? F.LOAD64_32 : F.LOAD64) : (size === 4 ? F.STORE64_32 : F.STORE64);
        return fast(d, id, g, d.base * 2, d.disp);
      }
    }
    // Any other address a fast op takes (index*scale, RIP-relative, FS/GS...); byte stores from AL..BL or with REX.
    const e = eaDesc(d);
    if (e >= 0 && (size >= 4 || (!toReg && (size === 2 || d.rex !== 0 || d.reg < 4)))) return fast(d, toReg ? F.LOAD_M : F.STORE_M, g | e, size, eaDisp(d));
    const ea = eaFn(d);
    if (toReg) {
      if (size === 4) return (c) => { const a = ea(c); const v = c.read32(a, c.eaHi); const r = c.r32; r[g] = v; r[g + 1] = 0; };
      if (size === 8) return (c) => { const a = ea(c); const v = c.read64(a, c.eaHi); const r = c.r32; r[g] = v; r[g + 1] = c.hi; };
      const wr = regWrite(size, d.reg, d.rex);
      return (c) => { const a = ea(c); wr(c, memRead(c, size, a, c.eaHi)); };
    }
    if (size === 4) return (c) => { const a = ea(c); c.write32(a, c.eaHi, c.r32[g]); };
    if (size === 8) return (c) => { const a = ea(c); c.write64(a, c.eaHi, c.r32[g], c.r32[g + 1]); };
    const rd = regRead(size, d.reg, d.rex);
    return (c) => { const a = ea(c); memWrite(c, size, a, c.eaHi, rd(c)); };
  };
}

/** MOV E, imm (C6/C7) and MOV Z, imm (B0-BF). */
function movImm(byte: boolean, plusReg: boolean) {
  return (d: Insn): Exec => {
    const size = byte ? 1 : d.opSize;
    const imm = d.imm, immHi = d.immHi;
    if (plusReg || !d.isMem) {
      const n = plusReg ? (d.op & 7) | ((d.rex & 1) << 3) : d.rm;
      if (size === 4 || size === 8) return fast(d, size === 4 ? F.MOV_RI32 : F.MOV_RI64, n * 2, imm, size === 8 ? immHi : 0);
      const wr = regWrite(size, n, d.rex);
      return (c) => wr(c, imm);
    }
    const e = eaDesc(d);
    if (e >= 0) return fast(d, F.STORE_MI, size | e, imm, eaDisp(d));
    const ea = eaFn(d);
    return (c) => { const a = ea(c); c.resHi = immHi; memWrite(c, size, a, c.eaHi, imm); };
  };
}

/** MOV AL/rAX <-> moffs (A0-A3): the offset is an address-size immediate in the DS (or override) segment. */
function movMoffs(toAcc: boolean, byte: boolean) {
  return (d: Insn): Exec => {
    const size = byte ? 1 : d.opSize;
    const seg = d.segOverride >= 0 ? d.segOverride : DS, sm = toAcc ? seg : seg + SEG_WRITE;
    const sb = segWord(seg, SEG_BASE), off = d.imm, offHi = d.immHi, m64 = d.mode64, as = d.addrSize;
    const o = as === 2 ? off & 0xffff : off >>> 0;
    const lin = (c: Cpu): number => {
      if (!m64) {
        c.eaHi = 0;
        if (o + size - 1 > c.segMax[seg]) segCheck(c, sm, o, size);
        return (c.r32[sb] + o) | 0;
      }
      const fsgs = seg >= 4;
      const sum = (off >>> 0) + (fsgs ? c.r32[sb] >>> 0 : 0);
      c.eaHi = (offHi + (fsgs ? c.r32[sb + 1] : 0) + (sum > 0xffffffff ? 1 : 0)) | 0;
      return sum | 0;
    };
    const rd = regRead(size, 0, d.rex), wr = regWrite(size, 0, d.rex);
    return toAcc ? (c) => { const a = lin(c); wr(c, memRead(c, size, a, c.eaHi)); }
      : (c) => { const a = lin(c); memWrite(c, size, a, c.eaHi, rd(c)); };
  };
}

/** MOV Ew, Sreg (8C): a register destination takes the zero-extended selector in the operand size. */
function movFromSeg(d: Insn): Exec {
  if (d.regRaw > 5) return () => { throw udFault(); };
  const w = segWord(d.regRaw, SEG_SEL);
  if (!d.isMem) { const wr = regWrite(d.opSize === 2 ? 2 : d.opSize, d.rm, d.rex); return (c) => { c.resHi = 0; wr(c, c.r32[w] & 0xffff); }; }
  const ea = eaFn(d, 2); // a memory destination is always 16 bits
  return (c) => { const a = ea(c); c.write16(a, c.eaHi, c.r32[w] & 0xffff); };
}

/** MOV Sreg, Ew (8E): loading CS is #UD; SS starts an interrupt shadow. */
function movToSeg(d: Insn): Exec {
  const seg = d.regRaw;
  if (seg === 1 || seg > 5) return () => { throw udFault(); };
  const src = d.isMem ? ((ea) => (c: Cpu) => c.read16(ea(c), c.eaHi))(eaFn(d, 2)) : regRead(2, d.rm, d.rex);
  return (c) => {
    c.sys.loadSegment(c, seg, src(c) & 0xffff);
    if (seg === SS) c.r32[W.W_SHADOW] |= SHADOW_MOV_SS;
  };
}

const udFault = (): CpuFault => new CpuFault(VEC_UD);

function lea(d: Insn): Exec {
  if (!d.isMem) return () => { throw udFault(); };
  const f = leaFn(d), size = d.opSize;
  if (size === 4 && d.base >= 0 && d.index < 0 && !d.ripRel && d.addrSize !== 2) return fast(d, F.LEA32, d.reg * 2, d.base * 2, d.disp);
  const e = eaDesc(d);
  if (e >= 0 && (size === 4 || size === 8)) return fast(d, size === 4 ? F.LEA_M32 : F.LEA_M64, d.reg * 2 | e, 0, eaDisp(d));
  if (size === 4) { const w = d.reg * 2; return (c) => { const v = f(c); c.r32[w] = v; c.r32[w + 1] = 0; }; }
  if (size === 8) { const w = d.reg * 2; return (c) => { const v = f(c); c.r32[w] = v; c.r32[w + 1] = c.eaHi; }; }
  const wr = regWrite(2, d.reg, d.rex);
  return (c) => wr(c, f(c));
}

/** XCHG E,G (86/87) and XCHG rAX, Z (91-97); the memory form is implicitly locked. */
function xchg(byte: boolean, plusReg: boolean) {
  return (d: Insn): Exec => {
    const size = byte ? 1 : d.opSize;
    const a = plusReg ? 0 : d.reg;
    const b = plusReg ? (d.op & 7) | ((d.rex & 1) << 3) : d.rm;
    const rdA = regRead(size, a, d.rex), wrA = regWrite(size, a, d.rex);
    if (plusReg || !d.isMem) {
      const rdB = regRead(size, b, d.rex), wrB = regWrite(size, b, d.rex);
      return (c) => {
        const va = rdA(c), vaHi = c.resHi, vb = rdB(c), vbHi = c.resHi;
        c.resHi = vaHi; wrB(c, va);
        c.resHi = vbHi; wrA(c, vb);
      };
    }
    const ea = eaFn(d);
    return (c) => {
      const lo = ea(c), hi = c.eaHi;
      const vm = memRead(c, size, lo, hi), vmHi = c.resHi;
      const va = rdA(c);
      memWrite(c, size, lo, hi, va);
      c.resHi = vmHi; wrA(c, vm);
    };
  };
}

/** MOVZX/MOVSX Gv, Eb/Ew and MOVSXD Gv, Ed. */
function movExt(srcSize: number, signed: boolean) {
  return (d: Insn): Exec => {
    const size = d.opSize;
    // movzx r32, byte [base+disp] and movsxd r64, r32 are fast ops.
    if (!signed && srcSize === 1 && size === 4 && d.isMem && d.base >= 0 && d.index < 0 && !d.ripRel) {
      if (!d.mode64 && d.addrSize === 4) return fast(d, F.LOADZX8_32, d.reg * 2, d.base * 2 | (segWord(d.seg, SEG_BASE) << 16), d.disp);
      if (d.mode64 && d.addrSize === 8 && d.segOverride < 0) return fast(d, F.LOADZX8_64, d.reg * 2, d.base * 2, d.disp);
    }
    if (signed && srcSize === 4 && size === 8 && !d.isMem) return fast(d, F.MOVSXD_RR, d.reg * 2, d.rm * 2, 0);
    // Any other memory source into a 32/64-bit register (MOVSXD r32, m32 is a plain load).
    const e = d.isMem && (size === 4 || size === 8) ? eaDesc(d) : -1;
    if (e >= 0) return fast(d, F.LOAD_M, d.reg * 2 | e, srcSize | (signed && srcSize < size ? LOAD_SIGNED : 0) | (size === 8 ? LOAD_TO64 : 0), eaDisp(d));
    const src = d.isMem ? ((ea) => (c: Cpu) => memRead(c, srcSize, ea(c), c.eaHi))(eaFn(d)) : regRead(srcSize, d.rm, d.rex);
    const sh = 32 - 8 * srcSize;
    const wr = regWrite(size, d.reg, d.rex);
    if (signed) return (c) => { const v = srcSize === 4 ? src(c) | 0 : (src(c) << sh) >> sh; c.resHi = v >> 31; wr(c, v); };
    return (c) => { const v = src(c); c.resHi = 0; wr(c, srcSize === 4 ? v : v & (srcSize === 1 ? 0xff : 0xffff)); };
  };
}

/** CMOVcc Gv, Ev: the source is read (and may fault) even when the condition is false; 32-bit always zero-extends. */
function cmov(d: Insn): Exec {
  const test = ccTest(d.op & 15), size = d.opSize;
  if (!d.isMem && (size === 4 || size === 8)) return fast(d, size === 4 ? F.CMOV32 : F.CMOV64, d.reg * 2, d.rm * 2, d.op & 15);
  const src = d.isMem ? ((ea) => (c: Cpu) => memRead(c, size, ea(c), c.eaHi))(eaFn(d)) : regRead(size, d.rm, d.rex);
  const wr = regWrite(size, d.reg, d.rex), w = d.reg * 2;
  return (c) => {
    const v = src(c);
    if (test(c.r32)) wr(c, v);
    else if (size === 4) c.r32[w + 1] = 0;
  };
}

function setcc(d: Insn): Exec {
  const test = ccTest(d.op & 15);
  if (!d.isMem) return fast(d, F.SETCC_R8, byteReg(d.rm, d.rex), 0, d.op & 15);
  if (!d.isMem) { const wr = regWrite(1, d.rm, d.rex); return (c) => wr(c, test(c.r32) ? 1 : 0); }
  const ea = eaFn(d);
  return (c) => { const a = ea(c); c.write8(a, c.eaHi, test(c.r32) ? 1 : 0); };
}

function bswap(d: Insn): Exec {
  const n = (d.op & 7) | ((d.rex & 1) << 3), w = n * 2, size = d.opSize;
  const sw = (v: number): number => ((v >>> 24) | ((v >>> 8) & 0xff00) | ((v & 0xff00) << 8) | (v << 24)) | 0;
  if (size === 8) return (c) => { const r = c.r32, lo = r[w]; r[w] = sw(r[w + 1]); r[w + 1] = sw(lo); };
  if (size === 2) return (c) => { c.r32[w] &= ~0xffff; }; // BSWAP r16 is undefined; hardware clears the low word
  return (c) => { c.r32[w] = sw(c.r32[w]); c.r32[w + 1] = 0; };
}

/** CBW/CWDE/CDQE (98) and CWD/CDQ/CQO (99). */
function convert(d: Insn): Exec {
  const size = d.opSize, widen = d.op === 0x98;
  return (c) => {
    const r = c.r32;
    if (widen) {
      if (size === 2) r[W.W_RAX] = (r[W.W_RAX] & ~0xffff) | (((r[W.W_RAX] << 24) >> 24) & 0xffff);
      else if (size === 4) { r[W.W_RAX] = (r[W.W_RAX] << 16) >> 16; r[W.W_RAX + 1] = 0; }
      else r[W.W_RAX + 1] = r[W.W_RAX] >> 31;
    } else if (size === 2) r[W.W_RDX] = (r[W.W_RDX] & ~0xffff) | (((r[W.W_RAX] << 16) >> 31) & 0xffff);
    else if (size === 4) { r[W.W_RDX] = r[W.W_RAX] >> 31; r[W.W_RDX + 1] = 0; }
    else { const s = r[W.W_RAX + 1] >> 31; r[W.W_RDX] = s; r[W.W_RDX + 1] = s; }
  };
}

/** XLAT: AL = [seg:(E/R)BX + AL]. */
function xlat(d: Insn): Exec {
  const seg = d.segOverride >= 0 ? d.segOverride : DS, sb = segWord(seg, SEG_BASE), as = d.addrSize, m64 = d.mode64;
  return (c) => {
    const r = c.r32, al = r[W.W_RAX] & 0xff;
    let lo: number, hi = 0;
    if (!m64) {
      const o = as === 2 ? (r[W.W_RBX] + al) & 0xffff : (r[W.W_RBX] + al) >>> 0;
      if (o > c.segMax[seg]) segCheck(c, seg, o, 1);
      lo = (r[sb] + o) | 0;
    } else if (as === 4) lo = ((seg < 4 ? 0 : r[sb]) + r[W.W_RBX] + al) | 0;
    else { const sum = (r[W.W_RBX] >>> 0) + al + (seg >= 4 ? r[sb] >>> 0 : 0); lo = sum | 0; hi = (r[W.W_RBX + 1] + (seg >= 4 ? r[sb + 1] : 0) + Math.floor(sum / 4294967296)) | 0; }
    r[W.W_RAX] = (r[W.W_RAX] & ~0xff) | c.read8(lo, hi);
  };
}

const LAHF_BITS = FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF | FLAG_CF;

function lahf(): Exec {
  return (c) => { const f = c.getRflags(); c.r32[W.W_RAX] = (c.r32[W.W_RAX] & ~0xff00) | ((f & 0xff) << 8); };
}
function sahf(): Exec {
  return (c) => {
    const r = c.r32;
    materialize(r);
    r[W.W_RFLAGS] = (r[W.W_RFLAGS] & ~LAHF_BITS) | ((r[W.W_RAX] >> 8) & LAHF_BITS);
  };
}

/** CLC/STC/CMC/CLD/STD. */
function flagOp(kind: 'clc' | 'stc' | 'cmc' | 'cld' | 'std'): () => Exec {
  return () => (c) => {
    const r = c.r32;
    if (kind === 'cld') { r[W.W_RFLAGS] &= ~FLAG_DF; return; }
    if (kind === 'std') { r[W.W_RFLAGS] |= FLAG_DF; return; }
    if (r[W.LF_OP] !== 0) materialize(r);
    if (kind === 'clc') r[W.W_RFLAGS] &= ~FLAG_CF;
    else if (kind === 'stc') r[W.W_RFLAGS] |= FLAG_CF;
    else r[W.W_RFLAGS] ^= FLAG_CF;
  };
}

const nop = (): Exec => () => { /* nothing */ };
/** NOP and the hint NOPs (0F 19-1F): the NOP fast op (no access, no fault). */
const nopFast = (d: Insn): Exec => fast(d, F.NOP, 0, 0, 0);

export const MOV_ROWS: OpRow[] = [
  row('88', 'mov Eb,Gb', movEG(false, true)),
  row('89', 'mov Ev,Gv', movEG(false, false)),
  row('8a', 'mov Gb,Eb', movEG(true, true)),
  row('8b', 'mov Gv,Ev', movEG(true, false)),
  row('c6 /0', 'mov Eb,Ib', movImm(true, false)),
  row('c7 /0', 'mov Ev,Iz', movImm(false, false)),
  ...rowsPlusReg('b0', 'mov Zb,Ib', movImm(true, true)),
  ...rowsPlusReg('b8', 'mov Zv,Iv', movImm(false, true)),
  row('a0', 'mov AL,Ob', movMoffs(true, true)),
  row('a1', 'mov rAX,Ov', movMoffs(true, false)),
  row('a2', 'mov Ob,AL', movMoffs(false, true)),
  row('a3', 'mov Ov,rAX', movMoffs(false, false)),
  row('8c', 'mov Ev,Sw', movFromSeg),
  row('8e /2', 'mov Sw,Ev', movToSeg, F_SHADOW), // MOV SS
  row('8e', 'mov Sw,Ev', movToSeg, F_STOP),
  row('8d', 'lea Gv,M', lea),
  row('86', 'xchg Eb,Gb', xchg(true, false), F_LOCK),
  row('87', 'xchg Ev,Gv', xchg(false, false), F_LOCK),
  ...rowsPlusReg('90', 'xchg Zv,rAX', xchg(false, true)).slice(1),
  row('pf3 90', 'pause', nop),
  row('90', 'nop', (d) => (d.rex & 1 ? xchg(false, true)(d) : nopFast(d))),
  row('0f b6', 'movzx Gv,Eb', movExt(1, false)),
  row('0f b7', 'movzx Gv,Ew', movExt(2, false)),
  row('0f be', 'movsx Gv,Eb', movExt(1, true)),
  row('0f bf', 'movsx Gv,Ew', movExt(2, true)),
  row('63', 'movsxd Gv,Ed', movExt(4, true), F_O64),
  ...Array.from({ length: 16 }, (_, cc) => row(`0f ${(0x40 + cc).toString(16)}`, `cmov${CC_NAMES[cc]} Gv,Ev`, cmov)),
  ...Array.from({ length: 16 }, (_, cc) => row(`0f ${(0x90 + cc).toString(16)}`, `set${CC_NAMES[cc]} Eb`, setcc)),
  ...rowsPlusReg('0f c8', 'bswap Zv', bswap),
  row('98', 'cbw|cwde|cdqe', convert),
  row('99', 'cwd|cdq|cqo', convert),
  row('d7', 'xlat', xlat),
  row('9f', 'lahf', lahf),
  row('9e', 'sahf', sahf),
  row('f8', 'clc', flagOp('clc')),
  row('f9', 'stc', flagOp('stc')),
  row('f5', 'cmc', flagOp('cmc')),
  row('fc', 'cld', flagOp('cld')),
  row('fd', 'std', flagOp('std')),
  row('0f 1f /0', 'nop Ev', nopFast, F_READS),
  ...[0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f].map((op) => row(`0f ${op.toString(16)}`, 'nop Ev', nopFast, F_READS)),
  row('0f 18', 'prefetch M', nop, F_READS),
  row('0f 0d', 'prefetchw M', nop, F_READS),
];

