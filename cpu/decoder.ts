// The x86 decoder: legacy and REX prefixes, the one-byte/0F/0F38/0F3A maps,
// ModRM/SIB with 16/32/64-bit addressing and RIP-relative operands, and
// immediates as the selected table row's operand specs ask for them.
// It fills an Insn that the row's builder turns into an executor.

import { CpuFault, VEC_GP, VEC_UD } from './fault.js';
import { Insn } from './insn.js';
import {
  F_D64, F_F64, MAP_0F, MAP_0F38, MAP_0F3A, MAP_1B, OpTable, selectRow,
} from './table.js';
import { CS, DS, ES, FS, GS, SS } from './state.js';

export { Insn };

/** Reads the byte at `off` bytes past the instruction stream's start (may throw #PF). */
export type ByteSource = (off: number) => number;

export const MAX_INSN_LEN = 15;

const SEG_PREFIX: Record<number, number> = { 0x26: ES, 0x2e: CS, 0x36: SS, 0x3e: DS, 0x64: FS, 0x65: GS };
// 16-bit ModRM.rm -> base, index.
const RM16_BASE = [3, 3, 5, 5, 6, 7, 5, 3];
const RM16_INDEX = [6, 7, 6, 7, -1, -1, -1, -1];

const UD = (): CpuFault => new CpuFault(VEC_UD);

/**
 * Decode one instruction at stream offset `start`. `codeSize` is 2, 4 or 8
 * (8 = 64-bit mode). Throws CpuFault: #UD for undefined opcodes, #GP for
 * instructions longer than 15 bytes, #PF from the byte source.
 */
export function decode(table: OpTable, fetch: ByteSource, start: number, codeSize: number, d: Insn): Insn {
  d.start = start;
  d.codeSize = codeSize;
  d.segOverride = -1; d.rep = 0; d.lock = false; d.p66 = false; d.rex = 0;
  d.hasModrm = false; d.mod = 3; d.reg = 0; d.rm = 0; d.regRaw = 0; d.rmRaw = 0;
  d.base = -1; d.index = -1; d.scale = 0; d.disp = 0; d.ripRel = false;
  d.imm = 0; d.immHi = 0; d.imm2 = 0;
  d.fastId = 0;
  const m64 = codeSize === 8;
  let p = start;
  let p67 = false;
  let lastRepLike = 0;
  const next = (): number => {
    if (p - start >= MAX_INSN_LEN) throw new CpuFault(VEC_GP, 0, true);
    return fetch(p++);
  };
  let b = next();
  // Legacy prefixes, then (64-bit mode) REX immediately before the opcode.
  for (;;) {
    if (b === 0x66) d.p66 = true;
    else if (b === 0x67) p67 = true;
    else if (b === 0xf0) d.lock = true;
    else if (b === 0xf2 || b === 0xf3) { d.rep = b; lastRepLike = b; }
    else if (b in SEG_PREFIX) {
      const s = SEG_PREFIX[b];
      // In 64-bit mode CS/SS/DS/ES overrides are ignored.
      if (!m64 || s === FS || s === GS) d.segOverride = s;
    } else if (m64 && (b & 0xf0) === 0x40) {
      // REX counts only directly before the opcode: a later REX replaces it, a legacy prefix cancels it.
      d.rex = b;
      b = next();
      continue;
    } else break;
    d.rex = 0;
    b = next();
  }
  let map = MAP_1B;
  if (b === 0x0f) {
    b = next();
    if (b === 0x38) { map = MAP_0F38; b = next(); }
    else if (b === 0x3a) { map = MAP_0F3A; b = next(); }
    else map = MAP_0F;
  }
  d.map = map;
  d.op = b;
  const key = map * 256 + b;
  const list = table.byOpcode[key];
  if (!list) { d.len = p - start; throw UD(); }
  const rex = d.rex;
  if (table.hasModrm[key]) {
    const modrm = next();
    d.hasModrm = true;
    d.mod = modrm >> 6;
    d.regRaw = (modrm >> 3) & 7;
    d.rmRaw = modrm & 7;
    d.reg = d.regRaw | ((rex & 4) << 1);
    d.rm = d.rmRaw | ((rex & 1) << 3);
  }
  d.mpfx = lastRepLike !== 0 ? lastRepLike : d.p66 ? 0x66 : 0;
  let r = selectRow(list, d.mpfx, d.mod, d.regRaw, d.rmRaw, m64);
  if (!r && d.mpfx !== 0) r = selectRow(list, 0, d.mod, d.regRaw, d.rmRaw, m64);
  if (!r) { d.len = p - start; throw UD(); }
  d.row = r;
  const f = r.flags;
  // (selectRow already passed over rows invalid in this mode: F_I64 in 64-bit code, F_O64 outside it.)
  // Operand size (a mandatory 66 prefix of an SSE row is not an operand-size prefix).
  const p66 = d.p66 && r.pfx !== 0x66;
  if (m64) {
    if ((f & F_F64) !== 0) d.opSize = 8;
    else if ((rex & 8) !== 0) d.opSize = 8;
    else if (p66) d.opSize = 2;
    else d.opSize = (f & F_D64) !== 0 ? 8 : 4;
    d.addrSize = p67 ? 4 : 8;
  } else {
    d.opSize = p66 ? (codeSize === 2 ? 4 : 2) : codeSize;
    d.addrSize = p67 ? (codeSize === 2 ? 4 : 2) : codeSize;
  }
  if (d.hasModrm && d.mod !== 3) {
    if (d.addrSize === 2) {
      const rm = d.rmRaw;
      if (d.mod === 0 && rm === 6) {
        d.disp = (next() | (next() << 8)) << 16 >> 16;
      } else {
        d.base = RM16_BASE[rm];
        d.index = RM16_INDEX[rm];
        if (rm === 4) d.base = 6; // [si]
        else if (rm === 5) d.base = 7; // [di]
        if (d.mod === 1) d.disp = (next() << 24) >> 24;
        else if (d.mod === 2) d.disp = (next() | (next() << 8)) << 16 >> 16;
      }
    } else {
      let rm = d.rmRaw;
      if (rm === 4) {
        const sib = next();
        d.scale = sib >> 6;
        const idx = ((sib >> 3) & 7) | ((rex & 2) << 2);
        d.index = idx === 4 ? -1 : idx;
        rm = sib & 7;
        if (rm === 5 && d.mod === 0) {
          d.base = -1;
          d.disp = next() | (next() << 8) | (next() << 16) | (next() << 24);
        } else d.base = rm | ((rex & 1) << 3);
      } else if (rm === 5 && d.mod === 0) {
        d.disp = next() | (next() << 8) | (next() << 16) | (next() << 24);
        d.ripRel = m64;
      } else d.base = d.rm;
      if (d.mod === 1) d.disp = (next() << 24) >> 24;
      else if (d.mod === 2) d.disp = next() | (next() << 8) | (next() << 16) | (next() << 24);
    }
  }
  // Immediates, in operand order.
  let second = false;
  for (const o of r.operands) {
    let v = 0, hiv = 0, n = 0;
    switch (o) {
      case 'Ib': case 'Jb': case 'Ibs': n = 1; break;
      case 'Iw': n = 2; break;
      case 'Iz': case 'Jz': n = d.opSize === 2 ? 2 : 4; break;
      case 'Iv': n = d.opSize; break;
      case 'Ob': case 'Ov': n = d.addrSize; break;
      case 'Ap': n = d.opSize === 2 ? 2 : 4; break;
      default: continue;
    }
    for (let k = 0; k < n && k < 4; k++) v |= next() << (8 * k);
    if (n === 8) for (let k = 0; k < 4; k++) hiv |= next() << (8 * k);
    if (o === 'Ap') {
      d.imm = v;
      d.imm2 = next() | (next() << 8);
      second = true;
      continue;
    }
    // Sign-extend Ibs/Jb/Jz/Iz (Iz is sign-extended to 64 bits for 64-bit operands); Ib/Iw stay unsigned.
    if (o === 'Ibs' || o === 'Jb') v = (v << 24) >> 24;
    else if ((o === 'Iz' || o === 'Jz') && n === 2) v = o === 'Jz' ? (v << 16) >> 16 : v;
    if (n < 8) hiv = o === 'Ib' || o === 'Iw' || (o === 'Iz' && n === 2) || o === 'Ob' || o === 'Ov' ? 0 : v >> 31;
    if (!second) { d.imm = v; d.immHi = hiv; second = true; } else d.imm2 = v;
  }
  d.len = p - start;
  return d;
}
