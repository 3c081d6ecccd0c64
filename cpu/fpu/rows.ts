// Opcode-table rows for the x87 escapes D8..DF: one row per (escape, ModRM.reg, register or
// memory form). Memory operands are staged in the record's scratch slot, semantics run in
// x87Exec, stores are written back; the environment instructions are in env.ts.
// Availability (Intel SDM Vol. 3A 2.5): CR0.EM or CR0.TS -> #NM; a pending unmasked
// exception (FSW.ES) -> #MF before any waiting instruction when CR0.NE is set, FERR# when
// it is clear (ferr.ts).

import type { Cpu, Exec } from '../cpu.js';
import type { Insn } from '../decoder.js';
import { row, OpRow } from '../table.js';
import { eaFn } from '../operands.js';
import { CpuFault, VEC_NM } from '../fault.js';
import { CR0, CR0_EM, CR0_TS, FX_FOP, FX_FIP, FX_FDP, SEG_BASE } from '../state.js';
import { MODE_REAL, MODE_VM86, MODE_PROT, MODE_COMPAT, segWord } from '../cpu.js';
import { W } from '../words.js';
import { x87Exec, x87Result, x87Flags } from './x87ops.js';
import { fsw } from './x87state.js';
import { fldenv, fnstenv, frstor, fnsave, fldcw } from './env.js';
import { MEM_TMP, vecOf, loadBytes, storeBytes, probeStore } from './guestmem.js';
import { ferrFollowsEs, pendingX87 } from './ferr.js';

/** Bytes a memory form loads (>0) or stores (<0), by escape and ModRM.reg; 0 = environment/invalid. */
const MEM_SIZE: Record<number, number[]> = {
  0xd8: [4, 4, 4, 4, 4, 4, 4, 4],
  0xd9: [4, 0, -4, -4, 0, 0, 0, 0],
  0xda: [4, 4, 4, 4, 4, 4, 4, 4],
  0xdb: [4, -4, -4, -4, 0, 10, 0, -10],
  0xdc: [8, 8, 8, 8, 8, 8, 8, 8],
  0xdd: [8, -8, -8, -8, 0, 0, 0, 0],
  0xde: [2, 2, 2, 2, 2, 2, 2, 2],
  0xdf: [2, -2, -2, -2, 10, 8, -10, -8],
};
const ARITH = ['fadd', 'fmul', 'fcom', 'fcomp', 'fsub', 'fsubr', 'fdiv', 'fdivr'];
const MEM_NAMES: Record<number, string[]> = {
  0xd8: ARITH.map((n) => `${n} Md`), 0xdc: ARITH.map((n) => `${n} Mq`),
  0xda: ARITH.map((n) => `fi${n.slice(1)} Md`), 0xde: ARITH.map((n) => `fi${n.slice(1)} Mw`),
  0xd9: ['fld Md', '(bad)', 'fst Md', 'fstp Md', 'fldenv M', 'fldcw Mw', 'fnstenv M', 'fnstcw Mw'],
  0xdb: ['fild Md', 'fisttp Md', 'fist Md', 'fistp Md', '(bad)', 'fld Mt', '(bad)', 'fstp Mt'],
  0xdd: ['fld Mq', 'fisttp Mq', 'fst Mq', 'fstp Mq', 'frstor M', '(bad)', 'fnsave M', 'fnstsw Mw'],
  0xdf: ['fild Mw', 'fisttp Mw', 'fist Mw', 'fistp Mw', 'fbld Mt', 'fild Mq', 'fbstp Mt', 'fistp Mq'],
};
const REG_NAMES: Record<number, string[]> = {
  0xd8: ARITH.map((n) => `${n} ST0,STi`), 0xdc: ['fadd STi,ST0', 'fmul STi,ST0', 'fcom2 STi', 'fcomp3 STi', 'fsubr STi,ST0', 'fsub STi,ST0', 'fdivr STi,ST0', 'fdiv STi,ST0'],
  0xd9: ['fld STi', 'fxch STi', 'fnop', 'fstp1 STi', '(by rm)', '(by rm)', '(by rm)', '(by rm)'],
  0xda: ['fcmovb ST0,STi', 'fcmove ST0,STi', 'fcmovbe ST0,STi', 'fcmovu ST0,STi', '(bad)', 'fucompp', '(bad)', '(bad)'],
  0xdb: ['fcmovnb ST0,STi', 'fcmovne ST0,STi', 'fcmovnbe ST0,STi', 'fcmovnu ST0,STi', '(by rm)', 'fucomi ST0,STi', 'fcomi ST0,STi', '(bad)'],
  0xdd: ['ffree STi', 'fxch4 STi', 'fst STi', 'fstp STi', 'fucom STi', 'fucomp STi', '(bad)', '(bad)'],
  0xde: ['faddp STi,ST0', 'fmulp STi,ST0', 'fcomp5 STi', 'fcompp', 'fsubrp STi,ST0', 'fsubp STi,ST0', 'fdivrp STi,ST0', 'fdivp STi,ST0'],
  0xdf: ['ffreep STi', 'fxch7 STi', 'fstp8 STi', 'fstp9 STi', '(by rm)', 'fucomip ST0,STi', 'fcomip ST0,STi', '(bad)'],
};

const bufs = new WeakMap<Cpu, Uint8Array>();
/** The memory-operand scratch slot of this CPU's record, as a byte array. */
function memBuf(c: Cpu): Uint8Array {
  let b = bufs.get(c);
  if (!b) { b = vecOf(c).u8.subarray(MEM_TMP, MEM_TMP + 32); bufs.set(c, b); }
  return b;
}

/** #NM when the x87 is not available. Non-waiting forms skip the #MF check. */
function x87Check(c: Cpu, waiting: boolean): void {
  if ((c.r32[W.W_CR0] & (CR0_EM | CR0_TS)) !== 0) throw new CpuFault(VEC_NM);
  if (waiting) pendingX87(c);
}


/**
 * The last-instruction pointers a non-control x87 instruction leaves (FXSAVE64 layout): FOP
 * (low 3 bits of the escape byte and the ModRM byte), FIP (its RIP: the block's RIP plus
 * the instruction's offset in the block; in real and virtual-8086 mode the linear address
 * CS.base + IP, as the 8087-style environment stores it, AMD APM Vol. 1 6.2.5) and, for
 * memory forms, FDP (the operand address).
 */
function setFop(c: Cpu, op: number, modrm: number, start: number): void {
  const r = c.r32, dv = c.dv;
  dv.setUint16(FX_FOP, ((op & 7) << 8) | modrm, true);
  if (c.mode === MODE_REAL || c.mode === MODE_VM86) {
    const ip = c.codeSize === 2 ? (r[W.W_RIP] + start) & 0xffff : r[W.W_RIP] + start;
    dv.setUint32(FX_FIP, (r[W.W_CSBASE] + ip) >>> 0, true); dv.setUint32(FX_FIP + 4, 0, true);
    return;
  }
  const lo = (r[W.W_RIP] >>> 0) + start;
  dv.setUint32(FX_FIP, lo >>> 0, true); dv.setUint32(FX_FIP + 4, (r[W.W_RIP + 1] + (lo > 0xffffffff ? 1 : 0)) | 0, true);
}
/**
 * FDP: in protected and compatibility mode the operand's offset in its segment (the selector,
 * FDS, is not kept: stored as 0, as CPUs that deprecate FCS/FDS do); in real and virtual-8086
 * mode its linear address; in 64-bit mode the effective address (FS/GS base included).
 */
function setFdp(c: Cpu, lo: number, hi: number, segBase: number): void {
  if (c.mode === MODE_PROT || c.mode === MODE_COMPAT) lo = (lo - c.r32[segBase]) | 0;
  c.dv.setUint32(FX_FDP, lo, true); c.dv.setUint32(FX_FDP + 4, hi, true);
}

function regBuilder(op: number, reg: number): (d: Insn) => Exec {
  return (d) => {
    const modrm = 0xc0 | (reg << 3) | d.rmRaw, start = d.start;
    const nonWaiting = (op === 0xdb && (modrm === 0xe2 || modrm === 0xe3)) || (op === 0xdf && modrm === 0xe0);
    return (c) => {
      x87Check(c, !nonWaiting);
      if (op === 0xda || op === 0xdb) x87Flags.in = c.getRflags();
      const r = x87Exec(c.dv, op, modrm, memBuf(c));
      if (r === -1) { c.r32[W.W_RAX] = (c.r32[W.W_RAX] & ~0xffff) | fsw(c.dv); return; } // FNSTSW AX
      if (x87Result.eflags >= 0) c.setRflags((c.getRflags() & ~0x8d5) | x87Result.eflags);
      if (!nonWaiting) setFop(c, op, modrm, start);
      else ferrFollowsEs(c); // FNCLEX, FNINIT
    };
  };
}

/** Escape * 8 + ModRM.reg of the environment and control-word memory forms. */
const K_FLDENV = 0xd9 * 8 + 4, K_FLDCW = 0xd9 * 8 + 5, K_FNSTENV = 0xd9 * 8 + 6, K_FNSTCW = 0xd9 * 8 + 7;
const K_FRSTOR = 0xdd * 8 + 4, K_FNSAVE = 0xdd * 8 + 6, K_FNSTSW = 0xdd * 8 + 7;

/** The environment/control-word forms that store. */
const ENV_STORES = new Set([K_FNSTENV, K_FNSTCW, K_FNSAVE, K_FNSTSW]);
/** Bytes an environment-form operand spans (SDM Vol. 1 8.1.10-8.1.11): 14/28 env, 94/108 state, else 2. */
function envSize(kind: number, o16: boolean): number {
  if (kind === K_FLDENV || kind === K_FNSTENV) return o16 ? 14 : 28;
  if (kind === K_FRSTOR || kind === K_FNSAVE) return o16 ? 94 : 108;
  return 2;
}

function memBuilder(op: number, reg: number): (d: Insn) => Exec {
  const size = MEM_SIZE[op][reg];
  return (d) => {
    const ea = eaFn(d, size !== 0 ? Math.abs(size) : envSize(op * 8 + reg, d.opSize === 2), size < 0 || ENV_STORES.has(op * 8 + reg));
    const modrm = (d.mod << 6) | (reg << 3) | d.rmRaw, start = d.start;
    const o16 = d.opSize === 2;
    const segBase = segWord(d.seg, SEG_BASE);
    if (size === 0) { // environment forms and FLDCW/FNSTCW/FNSTSW m16
      const kind = op * 8 + reg;
      const nonWaiting = kind === K_FNSTENV || kind === K_FNSTCW || kind === K_FNSAVE || kind === K_FNSTSW;
      const mayClearEs = kind === K_FLDENV || kind === K_FLDCW || kind === K_FRSTOR || kind === K_FNSAVE;
      return (c) => {
        x87Check(c, !nonWaiting);
        const lo = ea(c), hi = c.eaHi;
        switch (kind) {
          case K_FLDENV: fldenv(c, lo, hi, o16); break;
          case K_FLDCW: loadBytes(c, lo, hi, 2, MEM_TMP); fldcw(c.dv, c.dv.getUint16(MEM_TMP, true)); break;
          case K_FNSTENV: fnstenv(c, lo, hi, o16); break;
          case K_FNSTCW: c.dv.setUint16(MEM_TMP, c.dv.getUint16(0x400, true), true); storeBytes(c, lo, hi, 2, MEM_TMP); break;
          case K_FRSTOR: frstor(c, lo, hi, o16); break;
          case K_FNSAVE: fnsave(c, lo, hi, o16); break;
          case K_FNSTSW: c.dv.setUint16(MEM_TMP, fsw(c.dv), true); storeBytes(c, lo, hi, 2, MEM_TMP); break;
          default: throw new CpuFault(6);
        }
        if (mayClearEs) ferrFollowsEs(c);
      };
    }
    return (c) => {
      x87Check(c, true);
      const lo = ea(c), hi = c.eaHi;
      const buf = memBuf(c);
      if (size > 0) loadBytes(c, lo, hi, size, MEM_TMP);
      else probeStore(c, lo, hi, -size);
      const n = x87Exec(c.dv, op, modrm, buf);
      if (n > 0) storeBytes(c, lo, hi, n, MEM_TMP);
      setFop(c, op, modrm, start); setFdp(c, lo, hi, segBase);
    };
  };
}

/** Register forms that are one instruction per ModRM byte (undefined ones are left out: #UD). */
const SINGLE: Record<string, string> = {
  d9e0: 'fchs', d9e1: 'fabs', d9e4: 'ftst', d9e5: 'fxam', d9e8: 'fld1', d9e9: 'fldl2t', d9ea: 'fldl2e', d9eb: 'fldpi',
  d9ec: 'fldlg2', d9ed: 'fldln2', d9ee: 'fldz', d9f0: 'f2xm1', d9f1: 'fyl2x', d9f2: 'fptan', d9f3: 'fpatan', d9f4: 'fxtract',
  d9f5: 'fprem1', d9f6: 'fdecstp', d9f7: 'fincstp', d9f8: 'fprem', d9f9: 'fyl2xp1', d9fa: 'fsqrt', d9fb: 'fsincos',
  d9fc: 'frndint', d9fd: 'fscale', d9fe: 'fsin', d9ff: 'fcos', d9d0: 'fnop', dbe2: 'fnclex', dbe3: 'fninit',
  dbe0: 'feni', dbe1: 'fdisi', dbe4: 'fsetpm', ded9: 'fcompp', dae9: 'fucompp', dfe0: 'fnstsw AX',
};
/** Escape/reg pairs whose register forms are listed in SINGLE instead of taking any rm. */
const BY_RM = new Set(['d9/2', 'd9/4', 'd9/5', 'd9/6', 'd9/7', 'db/4', 'de/3', 'da/5', 'df/4']);

export const X87_ROWS: OpRow[] = [];
for (let op = 0xd8; op <= 0xdf; op++) {
  for (let reg = 0; reg < 8; reg++) {
    const h = op.toString(16);
    const mn = MEM_NAMES[op]?.[reg] ?? (op === 0xd8 || op === 0xdc || op === 0xda || op === 0xde ? '' : '(bad)');
    if (mn !== '(bad)') X87_ROWS.push(row(`${h} /${reg} m`, mn || `${ARITH[reg]} M`, memBuilder(op, reg)));
    if (BY_RM.has(`${h}/${reg}`)) {
      for (let rm = 0; rm < 8; rm++) {
        const name = SINGLE[h + (0xc0 | (reg << 3) | rm).toString(16)];
        if (name) X87_ROWS.push(row(`${h} /${reg} r rm=${rm}`, name, regBuilder(op, reg)));
      }
      continue;
    }
    const rn = REG_NAMES[op]?.[reg] ?? 'x87';
    if (rn !== '(bad)') X87_ROWS.push(row(`${h} /${reg} r`, rn, regBuilder(op, reg)));
  }
}
