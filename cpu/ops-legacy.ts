// Table rows for the legacy (invalid in 64-bit mode) integer instructions:
// the BCD adjusts DAA/DAS/AAA/AAS/AAM/AAD, BOUND, and the far-pointer loads
// LDS/LES (plus LSS/LFS/LGS, valid everywhere). Flags the SDM leaves undefined
// are computed the way the SDM pseudo-code's defined ones suggest (OF for
// DAA/DAS, SF/ZF/PF for AAA/AAS are left unchanged).

import type { Cpu, Exec } from './cpu.js';
import type { Insn } from './decoder.js';
import { arithFlags, setArith } from './flags.js';
import { eaFn, memRead, regRead, regWrite } from './operands.js';
import { CpuFault, VEC_BR, VEC_DE, VEC_UD } from './fault.js';
import { DS, ES, FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF, FS, GS, SHADOW_MOV_SS, SS } from './state.js';
import { W } from './words.js';
import { F_I64, F_STOP, OpRow, row } from './table.js';
import { PARITY } from './flags.js';

const szp = (al: number): number => (al & 0x80 ? FLAG_SF : 0) | (al === 0 ? FLAG_ZF : 0) | PARITY[al];

function daaDas(sub: boolean): Exec {
  return (c) => {
    const r = c.r32;
    const f = arithFlags(r);
    const oldAl = r[W.W_RAX] & 0xff, oldCf = (f & FLAG_CF) !== 0;
    let al = oldAl, cf = false, af = false;
    if ((al & 0xf) > 9 || (f & FLAG_AF) !== 0) {
      const v = sub ? al - 6 : al + 6;
      cf = oldCf || v < 0 || v > 0xff;
      al = v & 0xff;
      af = true;
    }
    if (oldAl > 0x99 || oldCf) { al = (sub ? al - 0x60 : al + 0x60) & 0xff; cf = true; }
    r[W.W_RAX] = (r[W.W_RAX] & ~0xff) | al;
    setArith(r, (f & 0x800) | szp(al) | (cf ? FLAG_CF : 0) | (af ? FLAG_AF : 0));
  };
}

function aaaAas(sub: boolean): Exec {
  return (c) => {
    const r = c.r32;
    const f = arithFlags(r);
    let ax = r[W.W_RAX] & 0xffff;
    let adj = false;
    if ((ax & 0xf) > 9 || (f & FLAG_AF) !== 0) {
      ax = sub ? ((ax - 6) & 0xff) | ((((ax >> 8) - 1) & 0xff) << 8) : (ax + 0x106) & 0xffff;
      adj = true;
    }
    ax &= 0xff0f;
    r[W.W_RAX] = (r[W.W_RAX] & ~0xffff) | ax;
    setArith(r, (f & ~(FLAG_AF | FLAG_CF)) | (adj ? FLAG_AF | FLAG_CF : 0));
  };
}

function aam(d: Insn): Exec {
  const base = d.imm & 0xff;
  return (c) => {
    if (base === 0) throw new CpuFault(VEC_DE);
    const r = c.r32, al = r[W.W_RAX] & 0xff;
    const nal = al % base, ah = Math.floor(al / base);
    r[W.W_RAX] = (r[W.W_RAX] & ~0xffff) | (ah << 8) | nal;
    setArith(r, szp(nal));
  };
}

function aad(d: Insn): Exec {
  const base = d.imm & 0xff;
  return (c) => {
    const r = c.r32;
    const al = ((r[W.W_RAX] & 0xff) + ((r[W.W_RAX] >> 8) & 0xff) * base) & 0xff;
    r[W.W_RAX] = (r[W.W_RAX] & ~0xffff) | al;
    setArith(r, szp(al));
  };
}

/** BOUND Gv, Ma: #BR if the signed index is outside [lower, upper]. */
function bound(d: Insn): Exec {
  if (!d.isMem) return () => { throw new CpuFault(VEC_UD); };
  const size = d.opSize, ea = eaFn(d), idx = regRead(size, d.reg, d.rex);
  const sx = (v: number): number => (size === 2 ? (v << 16) >> 16 : v | 0);
  return (c) => {
    const lo = ea(c);
    const lower = sx(memRead(c, size, lo, 0)), upper = sx(memRead(c, size, (lo + size) | 0, 0));
    const i = sx(idx(c));
    if (i < lower || i > upper) throw new CpuFault(VEC_BR);
  };
}

/** LDS/LES/LSS/LFS/LGS Gv, Mp: offset then selector; the segment load goes through cpu-system. */
function loadFar(seg: number) {
  return (d: Insn): Exec => {
    if (!d.isMem) return () => { throw new CpuFault(VEC_UD); };
    const size = d.opSize, ea = eaFn(d), wr = regWrite(size, d.reg, d.rex);
    return (c: Cpu) => {
      const lo = ea(c), hi = c.eaHi;
      const off = memRead(c, size, lo, hi), offHi = c.resHi;
      const sum = (lo >>> 0) + size;
      const sel = c.read16(sum | 0, (hi + (sum > 0xffffffff ? 1 : 0)) | 0);
      c.sys.loadSegment(c, seg, sel);
      if (seg === SS) c.r32[W.W_SHADOW] |= SHADOW_MOV_SS;
      c.resHi = offHi;
      wr(c, off);
    };
  };
}

export const LEGACY_ROWS: OpRow[] = [
  row('27', 'daa', () => daaDas(false), F_I64, { undef: FLAG_OF }),
  row('2f', 'das', () => daaDas(true), F_I64, { undef: FLAG_OF }),
  row('37', 'aaa', () => aaaAas(false), F_I64, { undef: FLAG_OF | FLAG_SF | FLAG_ZF | FLAG_PF }),
  row('3f', 'aas', () => aaaAas(true), F_I64, { undef: FLAG_OF | FLAG_SF | FLAG_ZF | FLAG_PF }),
  row('d4', 'aam Ib', aam, F_I64, { undef: FLAG_OF | FLAG_AF | FLAG_CF }),
  row('d5', 'aad Ib', aad, F_I64, { undef: FLAG_OF | FLAG_AF | FLAG_CF }),
  row('62 m', 'bound Gv,Ma', bound, F_I64),
  row('c4 m', 'les Gz,Mp', loadFar(ES), F_I64),
  row('c5 m', 'lds Gz,Mp', loadFar(DS), F_I64),
  row('0f b2 m', 'lss Gv,Mp', loadFar(SS), F_STOP),
  row('0f b4 m', 'lfs Gv,Mp', loadFar(FS)),
  row('0f b5 m', 'lgs Gv,Mp', loadFar(GS)),
];
