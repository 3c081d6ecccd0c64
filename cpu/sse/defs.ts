// The MMX/SSE..SSE4.2 instruction list: one entry per form (encoding in cpu/table.ts row()
// syntax, Intel mnemonic and operands, operand form, semantic function, memory sizes).
// cpu/sse/rows.ts turns these into opcode-table rows; test/fpu replays vectors through them.

import { Vec } from './vec.js';
import {
  approxF, arithF, horizF, addsubF, cmpF, comiF, cvtFF, cvtIF, cvtSiF, cvtFI, roundF, dotF, OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MIN, OP_MAX, OP_SQRT,
} from './float.js';
import {
  L, LaneOp, binLanes, addq, cmpq, mulDq, maddwd, maddubsw, sadbw, shiftCount, shiftLanes, shiftBytes, signLanes, horizI, movmskb,
} from './int.js';
import {
  pack, unpack, pshuf, shufps, shufpd, pshufb, palignr, pmovx, blend, ptest, phminposuw, mpsadbw, movmsk, pextr, pinsr, insertps, move, lanes32,
} from './shuffle.js';
import { pcmpstr, crc32 } from './string.js';
import { popcnt, lzcnt, tzcnt, movbe } from './bits.js';
import { xmmOff, gprOff } from './vec.js';
import { RAX, RCX, RDX } from '../state.js';

/**
 * Operand forms: which register files ModRM.reg and ModRM.rm name, destination first.
 * V/U = XMM, P/N = MMX, G/E = GPR, W/Q/E/M also allow memory (staged in MEM_TMP).
 */
export type Form = 'VW' | 'PQ' | 'GU' | 'GN' | 'VE' | 'PE' | 'EV' | 'EP' | 'VQ' | 'PW' | 'GE' | 'GM' | 'MG' | 'WV' | 'PU' | 'VN' | 'UI' | 'NI' | 'QP';

/** A semantic function: d and s are byte offsets in the state record, w the operand size (2/4/8), mem: s/d is memory. */
export type SseFn = (x: Vec, d: number, s: number, imm: number, w: number, mem: boolean) => void;

export interface SseDef {
  code: string; asm: string; form: Form; fn: SseFn;
  /** Bytes loaded for a memory source (0: none), bytes stored for a memory destination. */
  load: number; store: number;
  /** A 16-byte memory operand must be 16-byte aligned (#GP otherwise). */
  align: boolean;
  /** MMX register file used (x87 state switches to MMX mode). */
  mmx: boolean;
  /** Uses MXCSR (floating point): may raise #XM. */
  fp: boolean;
  /** Writes EFLAGS from sseOut.eflags. */
  flags: boolean;
}

export const SSE_DEFS: SseDef[] = [];
function def(code: string, asm: string, form: Form, fn: SseFn, load = 16, opts: Partial<SseDef> = {}): void {
  const mmx = form[0] === 'P' || form === 'GN' || form === 'NI' || form === 'QP' || form === 'EP' || (form === 'VQ' && !code.includes('p66'));
  SSE_DEFS.push({ code, asm, form, fn, load, store: 0, align: load === 16 && !mmx, mmx, fp: false, flags: false, ...opts });
}

// ---------------------------------------------------------------- float arithmetic
const FARITH: [string, number, number][] = [['add', 0x58, OP_ADD], ['mul', 0x59, OP_MUL], ['sub', 0x5c, OP_SUB],
  ['min', 0x5d, OP_MIN], ['div', 0x5e, OP_DIV], ['max', 0x5f, OP_MAX], ['sqrt', 0x51, OP_SQRT]];
for (const [n, op, k] of FARITH) {
  const h = op.toString(16);
  def(`np 0f ${h}`, `${n}ps Vps,Wps`, 'VW', (x, d, s) => arithF(x, d, s, k, 4, 4), 16, { fp: true });
  def(`p66 0f ${h}`, `${n}pd Vpd,Wpd`, 'VW', (x, d, s) => arithF(x, d, s, k, 8, 2), 16, { fp: true });
  def(`pf3 0f ${h}`, `${n}ss Vss,Wss`, 'VW', (x, d, s) => arithF(x, d, s, k, 4, 1), 4, { fp: true });
  def(`pf2 0f ${h}`, `${n}sd Vsd,Wsd`, 'VW', (x, d, s) => arithF(x, d, s, k, 8, 1), 8, { fp: true });
}
def('np 0f 53', 'rcpps Vps,Wps', 'VW', (x, d, s) => approxF(x, d, s, 4, false));
def('pf3 0f 53', 'rcpss Vss,Wss', 'VW', (x, d, s) => approxF(x, d, s, 1, false), 4);
def('np 0f 52', 'rsqrtps Vps,Wps', 'VW', (x, d, s) => approxF(x, d, s, 4, true));
def('pf3 0f 52', 'rsqrtss Vss,Wss', 'VW', (x, d, s) => approxF(x, d, s, 1, true), 4);
def('np 0f c2', 'cmpps Vps,Wps,Ib', 'VW', (x, d, s, i) => cmpF(x, d, s, i, 4, 4), 16, { fp: true });
def('p66 0f c2', 'cmppd Vpd,Wpd,Ib', 'VW', (x, d, s, i) => cmpF(x, d, s, i, 8, 2), 16, { fp: true });
def('pf3 0f c2', 'cmpss Vss,Wss,Ib', 'VW', (x, d, s, i) => cmpF(x, d, s, i, 4, 1), 4, { fp: true });
def('pf2 0f c2', 'cmpsd Vsd,Wsd,Ib', 'VW', (x, d, s, i) => cmpF(x, d, s, i, 8, 1), 8, { fp: true });
def('np 0f 2f', 'comiss Vss,Wss', 'VW', (x, d, s) => comiF(x, d, s, 4, false), 4, { fp: true, flags: true });
def('np 0f 2e', 'ucomiss Vss,Wss', 'VW', (x, d, s) => comiF(x, d, s, 4, true), 4, { fp: true, flags: true });
def('p66 0f 2f', 'comisd Vsd,Wsd', 'VW', (x, d, s) => comiF(x, d, s, 8, false), 8, { fp: true, flags: true });
def('p66 0f 2e', 'ucomisd Vsd,Wsd', 'VW', (x, d, s) => comiF(x, d, s, 8, true), 8, { fp: true, flags: true });
def('p66 0f d0', 'addsubpd Vpd,Wpd', 'VW', (x, d, s) => addsubF(x, d, s, 8), 16, { fp: true });
def('pf2 0f d0', 'addsubps Vps,Wps', 'VW', (x, d, s) => addsubF(x, d, s, 4), 16, { fp: true });
def('p66 0f 7c', 'haddpd Vpd,Wpd', 'VW', (x, d, s) => horizF(x, d, s, OP_ADD, 8), 16, { fp: true });
def('pf2 0f 7c', 'haddps Vps,Wps', 'VW', (x, d, s) => horizF(x, d, s, OP_ADD, 4), 16, { fp: true });
def('p66 0f 7d', 'hsubpd Vpd,Wpd', 'VW', (x, d, s) => horizF(x, d, s, OP_SUB, 8), 16, { fp: true });
def('pf2 0f 7d', 'hsubps Vps,Wps', 'VW', (x, d, s) => horizF(x, d, s, OP_SUB, 4), 16, { fp: true });
def('p66 0f 3a 08', 'roundps Vps,Wps,Ib', 'VW', (x, d, s, i) => roundF(x, d, s, i, 4, 4), 16, { fp: true });
def('p66 0f 3a 09', 'roundpd Vpd,Wpd,Ib', 'VW', (x, d, s, i) => roundF(x, d, s, i, 8, 2), 16, { fp: true });
def('p66 0f 3a 0a', 'roundss Vss,Wss,Ib', 'VW', (x, d, s, i) => roundF(x, d, s, i, 4, 1), 4, { fp: true });
def('p66 0f 3a 0b', 'roundsd Vsd,Wsd,Ib', 'VW', (x, d, s, i) => roundF(x, d, s, i, 8, 1), 8, { fp: true });
def('p66 0f 3a 40', 'dpps Vps,Wps,Ib', 'VW', (x, d, s, i) => dotF(x, d, s, i, 4), 16, { fp: true });
def('p66 0f 3a 41', 'dppd Vpd,Wpd,Ib', 'VW', (x, d, s, i) => dotF(x, d, s, i, 8), 16, { fp: true });

// ---------------------------------------------------------------- conversions
def('np 0f 5a', 'cvtps2pd Vpd,Wq', 'VW', (x, d, s) => cvtFF(x, d, s, 4, 2, false), 8, { fp: true });
def('p66 0f 5a', 'cvtpd2ps Vps,Wpd', 'VW', (x, d, s) => cvtFF(x, d, s, 8, 2, true), 16, { fp: true });
def('pf3 0f 5a', 'cvtss2sd Vsd,Wss', 'VW', (x, d, s) => cvtFF(x, d, s, 4, 1, false), 4, { fp: true });
def('pf2 0f 5a', 'cvtsd2ss Vss,Wsd', 'VW', (x, d, s) => cvtFF(x, d, s, 8, 1, false), 8, { fp: true });
def('np 0f 5b', 'cvtdq2ps Vps,Wdq', 'VW', (x, d, s) => cvtIF(x, d, s, 4, 4), 16, { fp: true });
def('pf3 0f e6', 'cvtdq2pd Vpd,Wq', 'VW', (x, d, s) => cvtIF(x, d, s, 8, 2), 8, { fp: true });
def('p66 0f 5b', 'cvtps2dq Vdq,Wps', 'VW', (x, d, s) => cvtFI(x, d, s, 4, 4, false, 32, 16), 16, { fp: true });
def('pf3 0f 5b', 'cvttps2dq Vdq,Wps', 'VW', (x, d, s) => cvtFI(x, d, s, 4, 4, true, 32, 16), 16, { fp: true });
def('pf2 0f e6', 'cvtpd2dq Vdq,Wpd', 'VW', (x, d, s) => cvtFI(x, d, s, 8, 2, false, 32, 16), 16, { fp: true });
def('p66 0f e6', 'cvttpd2dq Vdq,Wpd', 'VW', (x, d, s) => cvtFI(x, d, s, 8, 2, true, 32, 16), 16, { fp: true });
def('pf3 0f 2a', 'cvtsi2ss Vss,Ey', 'VE', (x, d, s, _i, w) => cvtSiF(x, d, s, 4, w === 8), 4, { fp: true });
def('pf2 0f 2a', 'cvtsi2sd Vsd,Ey', 'VE', (x, d, s, _i, w) => cvtSiF(x, d, s, 8, w === 8), 4, { fp: true });
for (const [pf, sz] of [['pf3', 4], ['pf2', 8]] as const) {
  const t = sz === 4 ? 'ss' : 'sd';
  def(`${pf} 0f 2c`, `cvtt${t}2si Gy,W${t}`, 'GU', (x, d, s, _i, w) => cvtFI(x, d, s, sz, 1, true, w === 8 ? 64 : 32, w === 8 ? 8 : 8), sz, { fp: true });
  def(`${pf} 0f 2d`, `cvt${t}2si Gy,W${t}`, 'GU', (x, d, s, _i, w) => cvtFI(x, d, s, sz, 1, false, w === 8 ? 64 : 32, 8), sz, { fp: true });
}
def('np 0f 2a', 'cvtpi2ps Vps,Qpi', 'VQ', (x, d, s) => cvtIF(x, d, s, 4, 2), 8, { fp: true });
def('p66 0f 2a', 'cvtpi2pd Vpd,Qpi', 'VQ', (x, d, s) => cvtIF(x, d, s, 8, 2), 8, { fp: true, mmx: true });
def('np 0f 2d', 'cvtps2pi Ppi,Wps', 'PW', (x, d, s) => cvtFI(x, d, s, 4, 2, false, 32, 8), 8, { fp: true });
def('np 0f 2c', 'cvttps2pi Ppi,Wps', 'PW', (x, d, s) => cvtFI(x, d, s, 4, 2, true, 32, 8), 8, { fp: true });
def('p66 0f 2d', 'cvtpd2pi Ppi,Wpd', 'PW', (x, d, s) => cvtFI(x, d, s, 8, 2, false, 32, 8), 16, { fp: true, align: true });
def('p66 0f 2c', 'cvttpd2pi Ppi,Wpd', 'PW', (x, d, s) => cvtFI(x, d, s, 8, 2, true, 32, 8), 16, { fp: true, align: true });

// ---------------------------------------------------------------- logic, shuffles, moves (XMM)
const LOGIC: [string, number, LaneOp][] = [['and', 0x54, L.and], ['andn', 0x55, L.andn], ['or', 0x56, L.or], ['xor', 0x57, L.xor]];
for (const [n, op, f] of LOGIC) {
  def(`np 0f ${op.toString(16)}`, `${n}ps Vps,Wps`, 'VW', (x, d, s) => binLanes(x, d, s, 16, 4, false, f));
  def(`p66 0f ${op.toString(16)}`, `${n}pd Vpd,Wpd`, 'VW', (x, d, s) => binLanes(x, d, s, 16, 4, false, f));
}
def('np 0f c6', 'shufps Vps,Wps,Ib', 'VW', (x, d, s, i) => shufps(x, d, s, i));
def('p66 0f c6', 'shufpd Vpd,Wpd,Ib', 'VW', (x, d, s, i) => shufpd(x, d, s, i));
def('np 0f 14', 'unpcklps Vps,Wq', 'VW', (x, d, s) => unpack(x, d, s, 16, 4, false));
def('np 0f 15', 'unpckhps Vps,Wq', 'VW', (x, d, s) => unpack(x, d, s, 16, 4, true));
def('p66 0f 14', 'unpcklpd Vpd,Wq', 'VW', (x, d, s) => unpack(x, d, s, 16, 8, false));
def('p66 0f 15', 'unpckhpd Vpd,Wq', 'VW', (x, d, s) => unpack(x, d, s, 16, 8, true));
def('np 0f 50 r', 'movmskps Gd,Ups', 'GU', (x, d, s) => movmsk(x, d, s, 4), 0);
def('p66 0f 50 r', 'movmskpd Gd,Upd', 'GU', (x, d, s) => movmsk(x, d, s, 8), 0);
const SLDUP = [4, 4, 6, 6], SHDUP = [5, 5, 7, 7], DDUP = [4, 5, 4, 5]; // lanes of (d: 0..3, s: 4..7)
def('pf3 0f 12', 'movsldup Vps,Wps', 'VW', (x, d, s) => lanes32(x, d, s, SLDUP));
def('pf3 0f 16', 'movshdup Vps,Wps', 'VW', (x, d, s) => lanes32(x, d, s, SHDUP));
def('pf2 0f 12', 'movddup Vpd,Wsd', 'VW', (x, d, s) => lanes32(x, d, s, DDUP), 8);
// plain moves: register and memory forms
const MOVES: [string, string, number][] = [['np 0f 10', 'movups', 0], ['p66 0f 10', 'movupd', 0], ['np 0f 28', 'movaps', 1],
  ['p66 0f 28', 'movapd', 1], ['p66 0f 6f', 'movdqa', 1], ['pf3 0f 6f', 'movdqu', 0], ['pf2 0f f0', 'lddqu', 0]];
for (const [c, n, al] of MOVES) def(c, `${n} Vx,Wx`, 'VW', (x, d, s) => move(x, d, s, 16, 0), 16, { align: al === 1 });
const STORES: [string, string, number][] = [['np 0f 11', 'movups', 0], ['p66 0f 11', 'movupd', 0], ['np 0f 29', 'movaps', 1],
  ['p66 0f 29', 'movapd', 1], ['p66 0f 7f', 'movdqa', 1], ['pf3 0f 7f', 'movdqu', 0], ['np 0f 2b m', 'movntps', 1],
  ['p66 0f 2b m', 'movntpd', 1], ['p66 0f e7 m', 'movntdq', 1]];
for (const [c, n, al] of STORES) def(c, `${n} Wx,Vx`, 'WV', (x, d, s) => move(x, d, s, 16, 0), 0, { store: 16, align: al === 1 });
def('pf3 0f 10 r', 'movss Vss,Uss', 'VW', (x, d, s) => move(x, d, s, 4, 0), 0);
def('pf3 0f 10 m', 'movss Vss,Mss', 'VW', (x, d, s) => move(x, d, s, 4, 16), 4);
def('pf2 0f 10 r', 'movsd Vsd,Usd', 'VW', (x, d, s) => move(x, d, s, 8, 0), 0);
def('pf2 0f 10 m', 'movsd Vsd,Msd', 'VW', (x, d, s) => move(x, d, s, 8, 16), 8);
def('pf3 0f 11', 'movss Wss,Vss', 'WV', (x, d, s) => move(x, d, s, 4, 0), 0, { store: 4 });
def('pf2 0f 11', 'movsd Wsd,Vsd', 'WV', (x, d, s) => move(x, d, s, 8, 0), 0, { store: 8 });
def('np 0f 12 r', 'movhlps Vq,Uq', 'VW', (x, d, s) => move(x, d, s + 8, 8, 0), 0);
def('np 0f 12 m', 'movlps Vq,Mq', 'VW', (x, d, s) => move(x, d, s, 8, 0), 8);
def('p66 0f 12 m', 'movlpd Vq,Mq', 'VW', (x, d, s) => move(x, d, s, 8, 0), 8);
def('np 0f 13 m', 'movlps Mq,Vq', 'WV', (x, d, s) => move(x, d, s, 8, 0), 0, { store: 8 });
def('p66 0f 13 m', 'movlpd Mq,Vq', 'WV', (x, d, s) => move(x, d, s, 8, 0), 0, { store: 8 });
def('np 0f 16 r', 'movlhps Vq,Uq', 'VW', (x, d, s) => move(x, d + 8, s, 8, 0), 0);
def('np 0f 16 m', 'movhps Vq,Mq', 'VW', (x, d, s) => move(x, d + 8, s, 8, 0), 8);
def('p66 0f 16 m', 'movhpd Vq,Mq', 'VW', (x, d, s) => move(x, d + 8, s, 8, 0), 8);
def('np 0f 17 m', 'movhps Mq,Vq', 'WV', (x, d, s) => move(x, d, s + 8, 8, 0), 0, { store: 8 });
def('p66 0f 17 m', 'movhpd Mq,Vq', 'WV', (x, d, s) => move(x, d, s + 8, 8, 0), 0, { store: 8 });
def('p66 0f 6e', 'movd Vd,Ey', 'VE', (x, d, s, _i, w) => move(x, d, s, w === 8 ? 8 : 4, 16), 4);
def('p66 0f 7e', 'movd Ey,Vd', 'EV', (x, d, s, _i, w) => move(x, d, s, w === 8 ? 8 : 4, 8), 0, { store: 4 });
def('pf3 0f 7e', 'movq Vq,Wq', 'VW', (x, d, s) => move(x, d, s, 8, 16), 8);
def('p66 0f d6', 'movq Wq,Vq', 'WV', (x, d, s, _i, _w, m) => move(x, d, s, 8, m ? 0 : 16), 0, { store: 8 });

// ---------------------------------------------------------------- packed integer (XMM and MMX)
type IntOp = (x: Vec, d: number, s: number, n: number) => void;
const lanes = (size: number, signed: boolean, f: LaneOp): IntOp => (x, d, s, n) => binLanes(x, d, s, n, size, signed, f);
const INT: [number, string, IntOp, number][] = [ // opcode (0F map), name, op, 1 = SSE2-or-later MMX form too
  [0x60, 'punpcklbw', (x, d, s, n) => unpack(x, d, s, n, 1, false), 1], [0x61, 'punpcklwd', (x, d, s, n) => unpack(x, d, s, n, 2, false), 1],
  [0x62, 'punpckldq', (x, d, s, n) => unpack(x, d, s, n, 4, false), 1], [0x63, 'packsswb', (x, d, s, n) => pack(x, d, s, n, 2, false), 1],
  [0x64, 'pcmpgtb', lanes(1, true, L.gt), 1], [0x65, 'pcmpgtw', lanes(2, true, L.gt), 1], [0x66, 'pcmpgtd', lanes(4, true, L.gt), 1],
  [0x67, 'packuswb', (x, d, s, n) => pack(x, d, s, n, 2, true), 1], [0x68, 'punpckhbw', (x, d, s, n) => unpack(x, d, s, n, 1, true), 1],
  [0x69, 'punpckhwd', (x, d, s, n) => unpack(x, d, s, n, 2, true), 1], [0x6a, 'punpckhdq', (x, d, s, n) => unpack(x, d, s, n, 4, true), 1],
  [0x6b, 'packssdw', (x, d, s, n) => pack(x, d, s, n, 4, false), 1],
  [0x6c, 'punpcklqdq', (x, d, s, n) => unpack(x, d, s, n, 8, false), 0], [0x6d, 'punpckhqdq', (x, d, s, n) => unpack(x, d, s, n, 8, true), 0],
  [0x74, 'pcmpeqb', lanes(1, false, L.eq), 1], [0x75, 'pcmpeqw', lanes(2, false, L.eq), 1], [0x76, 'pcmpeqd', lanes(4, false, L.eq), 1],
  [0xd1, 'psrlw', (x, d, s, n) => shiftLanes(x, d, n, 2, 1, shiftCount(x, s)), 1],
  [0xd2, 'psrld', (x, d, s, n) => shiftLanes(x, d, n, 4, 1, shiftCount(x, s)), 1],
  [0xd3, 'psrlq', (x, d, s, n) => shiftLanes(x, d, n, 8, 1, shiftCount(x, s)), 1],
  [0xd4, 'paddq', (x, d, s, n) => addq(x, d, s, n, false), 1], [0xd5, 'pmullw', lanes(2, false, L.mullw), 1],
  [0xd8, 'psubusb', lanes(1, false, L.subusb), 1], [0xd9, 'psubusw', lanes(2, false, L.subusw), 1],
  [0xda, 'pminub', lanes(1, false, L.min), 1], [0xdb, 'pand', lanes(4, false, L.and), 1],
  [0xdc, 'paddusb', lanes(1, false, L.addusb), 1], [0xdd, 'paddusw', lanes(2, false, L.addusw), 1],
  [0xde, 'pmaxub', lanes(1, false, L.max), 1], [0xdf, 'pandn', lanes(4, false, L.andn), 1],
  [0xe0, 'pavgb', lanes(1, false, L.avg), 1], [0xe1, 'psraw', (x, d, s, n) => shiftLanes(x, d, n, 2, 2, shiftCount(x, s)), 1],
  [0xe2, 'psrad', (x, d, s, n) => shiftLanes(x, d, n, 4, 2, shiftCount(x, s)), 1], [0xe3, 'pavgw', lanes(2, false, L.avg), 1],
  [0xe4, 'pmulhuw', lanes(2, false, L.mulhuw), 1], [0xe5, 'pmulhw', lanes(2, true, L.mulhw), 1],
  [0xe8, 'psubsb', lanes(1, true, L.subsb), 1], [0xe9, 'psubsw', lanes(2, true, L.subsw), 1],
  [0xea, 'pminsw', lanes(2, true, L.min), 1], [0xeb, 'por', lanes(4, false, L.or), 1],
  [0xec, 'paddsb', lanes(1, true, L.addsb), 1], [0xed, 'paddsw', lanes(2, true, L.addsw), 1],
  [0xee, 'pmaxsw', lanes(2, true, L.max), 1], [0xef, 'pxor', lanes(4, false, L.xor), 1],
  [0xf1, 'psllw', (x, d, s, n) => shiftLanes(x, d, n, 2, 0, shiftCount(x, s)), 1],
  [0xf2, 'pslld', (x, d, s, n) => shiftLanes(x, d, n, 4, 0, shiftCount(x, s)), 1],
  [0xf3, 'psllq', (x, d, s, n) => shiftLanes(x, d, n, 8, 0, shiftCount(x, s)), 1],
  [0xf4, 'pmuludq', (x, d, s, n) => mulDq(x, d, s, n, false), 1], [0xf5, 'pmaddwd', (x, d, s, n) => maddwd(x, d, s, n), 1],
  [0xf6, 'psadbw', (x, d, s, n) => sadbw(x, d, s, n), 1], [0xf8, 'psubb', lanes(1, false, L.sub), 1],
  [0xf9, 'psubw', lanes(2, false, L.sub), 1], [0xfa, 'psubd', lanes(4, false, L.sub), 1],
  [0xfb, 'psubq', (x, d, s, n) => addq(x, d, s, n, true), 1], [0xfc, 'paddb', lanes(1, false, L.add), 1],
  [0xfd, 'paddw', lanes(2, false, L.add), 1], [0xfe, 'paddd', lanes(4, false, L.add), 1],
];
for (const [op, n, f, mmx] of INT) {
  const h = op.toString(16);
  def(`p66 0f ${h}`, `${n} Vx,Wx`, 'VW', (x, d, s) => f(x, d, s, 16));
  if (mmx) def(`np 0f ${h}`, `${n} Pq,Qq`, 'PQ', (x, d, s) => f(x, d, s, 8), 8);
}
const SSSE3: [number, string, IntOp][] = [
  [0x00, 'pshufb', (x, d, s, n) => pshufb(x, d, s, n)], [0x01, 'phaddw', (x, d, s, n) => horizI(x, d, s, n, 2, false, false)],
  [0x02, 'phaddd', (x, d, s, n) => horizI(x, d, s, n, 4, false, false)], [0x03, 'phaddsw', (x, d, s, n) => horizI(x, d, s, n, 2, false, true)],
  [0x04, 'pmaddubsw', (x, d, s, n) => maddubsw(x, d, s, n)], [0x05, 'phsubw', (x, d, s, n) => horizI(x, d, s, n, 2, true, false)],
  [0x06, 'phsubd', (x, d, s, n) => horizI(x, d, s, n, 4, true, false)], [0x07, 'phsubsw', (x, d, s, n) => horizI(x, d, s, n, 2, true, true)],
  [0x08, 'psignb', (x, d, s, n) => signLanes(x, d, s, n, 1, false)], [0x09, 'psignw', (x, d, s, n) => signLanes(x, d, s, n, 2, false)],
  [0x0a, 'psignd', (x, d, s, n) => signLanes(x, d, s, n, 4, false)], [0x0b, 'pmulhrsw', lanes(2, true, L.mulhrsw)],
  [0x1c, 'pabsb', (x, d, s, n) => signLanes(x, d, s, n, 1, true)], [0x1d, 'pabsw', (x, d, s, n) => signLanes(x, d, s, n, 2, true)],
  [0x1e, 'pabsd', (x, d, s, n) => signLanes(x, d, s, n, 4, true)],
];
for (const [op, n, f] of SSSE3) {
  const h = op.toString(16).padStart(2, '0');
  def(`p66 0f 38 ${h}`, `${n} Vx,Wx`, 'VW', (x, d, s) => f(x, d, s, 16));
  def(`np 0f 38 ${h}`, `${n} Pq,Qq`, 'PQ', (x, d, s) => f(x, d, s, 8), 8);
}
def('p66 0f 3a 0f', 'palignr Vx,Wx,Ib', 'VW', (x, d, s, i) => palignr(x, d, s, i, 16));
def('np 0f 3a 0f', 'palignr Pq,Qq,Ib', 'PQ', (x, d, s, i) => palignr(x, d, s, i, 8), 8);
def('p66 0f 70', 'pshufd Vx,Wx,Ib', 'VW', (x, d, s, i) => pshuf(x, d, s, i, 4, 16, 0));
def('pf3 0f 70', 'pshufhw Vx,Wx,Ib', 'VW', (x, d, s, i) => pshuf(x, d, s, i, 2, 16, 8));
def('pf2 0f 70', 'pshuflw Vx,Wx,Ib', 'VW', (x, d, s, i) => pshuf(x, d, s, i, 2, 16, 0));
def('np 0f 70', 'pshufw Pq,Qq,Ib', 'PQ', (x, d, s, i) => pshuf(x, d, s, i, 2, 8, 0), 8);
// shifts by immediate: 0F 71/72/73 groups on XMM (66) and MMX
const SHI: [number, number, string, number, number][] = [[0x71, 2, 'psrlw', 2, 1], [0x71, 4, 'psraw', 2, 2], [0x71, 6, 'psllw', 2, 0],
  [0x72, 2, 'psrld', 4, 1], [0x72, 4, 'psrad', 4, 2], [0x72, 6, 'pslld', 4, 0], [0x73, 2, 'psrlq', 8, 1], [0x73, 6, 'psllq', 8, 0]];
for (const [op, reg, n, size, kind] of SHI) {
  def(`p66 0f ${op.toString(16)} /${reg} r`, `${n} Ux,Ib`, 'UI', (x, d, _s, i) => shiftLanes(x, d, 16, size, kind, i), 0);
  def(`np 0f ${op.toString(16)} /${reg} r`, `${n} Nq,Ib`, 'NI', (x, d, _s, i) => shiftLanes(x, d, 8, size, kind, i), 0);
}
def('p66 0f 73 /3 r', 'psrldq Ux,Ib', 'UI', (x, d, _s, i) => shiftBytes(x, d, i, false), 0);
def('p66 0f 73 /7 r', 'pslldq Ux,Ib', 'UI', (x, d, _s, i) => shiftBytes(x, d, i, true), 0);
def('p66 0f d7 r', 'pmovmskb Gd,Ux', 'GU', (x, d, s) => movmskb(x, d, s, 16), 0);
def('np 0f d7 r', 'pmovmskb Gd,Nq', 'GN', (x, d, s) => movmskb(x, d, s, 8), 0);
def('p66 0f c4', 'pinsrw Vdq,Ry,Ib', 'VE', (x, d, s, i) => pinsr(x, d, s, i, 2, 16), 2);
def('np 0f c4', 'pinsrw Pq,Ry,Ib', 'PE', (x, d, s, i) => pinsr(x, d, s, i, 2, 8), 2);
def('p66 0f c5 r', 'pextrw Gd,Udq,Ib', 'GU', (x, d, s, i) => pextr(x, d, s, i, 2, 16), 0);
def('np 0f c5 r', 'pextrw Gd,Nq,Ib', 'GN', (x, d, s, i) => pextr(x, d, s, i, 2, 8), 0);
// MMX moves
def('np 0f 6e', 'movd Pq,Ey', 'PE', (x, d, s, _i, w) => move(x, d, s, w === 8 ? 8 : 4, 8), 4);
def('np 0f 7e', 'movd Ey,Pq', 'EP', (x, d, s, _i, w) => move(x, d, s, w === 8 ? 8 : 4, 8), 0, { store: 4 });
def('np 0f 6f', 'movq Pq,Qq', 'PQ', (x, d, s) => move(x, d, s, 8, 0), 8);
def('np 0f 7f', 'movq Qq,Pq', 'QP', (x, d, s) => move(x, d, s, 8, 0), 0, { store: 8 });
def('np 0f e7 m', 'movntq Mq,Pq', 'QP', (x, d, s) => move(x, d, s, 8, 0), 0, { store: 8 });
def('pf2 0f d6 r', 'movdq2q Pq,Uq', 'PU', (x, d, s) => move(x, d, s, 8, 0), 0);
def('pf3 0f d6 r', 'movq2dq Vdq,Nq', 'VN', (x, d, s) => move(x, d, s, 8, 16), 0);

// ---------------------------------------------------------------- SSE4.1 / SSE4.2
def('p66 0f 38 10', 'pblendvb Vdq,Wdq', 'VW', (x, d, s) => blend(x, d, s, 0, 1, xmmOff(0)));
def('p66 0f 38 14', 'blendvps Vps,Wps', 'VW', (x, d, s) => blend(x, d, s, 0, 4, xmmOff(0)));
def('p66 0f 38 15', 'blendvpd Vpd,Wpd', 'VW', (x, d, s) => blend(x, d, s, 0, 8, xmmOff(0)));
def('p66 0f 3a 0c', 'blendps Vps,Wps,Ib', 'VW', (x, d, s, i) => blend(x, d, s, i, 4, -1));
def('p66 0f 3a 0d', 'blendpd Vpd,Wpd,Ib', 'VW', (x, d, s, i) => blend(x, d, s, i, 8, -1));
def('p66 0f 3a 0e', 'pblendw Vdq,Wdq,Ib', 'VW', (x, d, s, i) => blend(x, d, s, i, 2, -1));
def('p66 0f 38 17', 'ptest Vdq,Wdq', 'VW', (x, d, s) => ptest(x, d, s), 16, { flags: true });
const PMOV: [number, string, number, number, boolean][] = [[0x20, 'pmovsxbw', 1, 2, true], [0x21, 'pmovsxbd', 1, 4, true],
  [0x22, 'pmovsxbq', 1, 8, true], [0x23, 'pmovsxwd', 2, 4, true], [0x24, 'pmovsxwq', 2, 8, true], [0x25, 'pmovsxdq', 4, 8, true],
  [0x30, 'pmovzxbw', 1, 2, false], [0x31, 'pmovzxbd', 1, 4, false], [0x32, 'pmovzxbq', 1, 8, false], [0x33, 'pmovzxwd', 2, 4, false],
  [0x34, 'pmovzxwq', 2, 8, false], [0x35, 'pmovzxdq', 4, 8, false]];
for (const [op, n, from, to, sg] of PMOV) {
  def(`p66 0f 38 ${op.toString(16)}`, `${n} Vdq,Wq`, 'VW', (x, d, s) => pmovx(x, d, s, from, to, sg), 16 / (to / from), { align: false });
}
const SSE41: [number, string, (x: Vec, d: number, s: number) => void][] = [
  [0x28, 'pmuldq', (x, d, s) => mulDq(x, d, s, 16, true)], [0x29, 'pcmpeqq', (x, d, s) => cmpq(x, d, s, false)],
  [0x2b, 'packusdw', (x, d, s) => pack(x, d, s, 16, 4, true)], [0x37, 'pcmpgtq', (x, d, s) => cmpq(x, d, s, true)],
  [0x38, 'pminsb', (x, d, s) => binLanes(x, d, s, 16, 1, true, L.min)], [0x39, 'pminsd', (x, d, s) => binLanes(x, d, s, 16, 4, true, L.min)],
  [0x3a, 'pminuw', (x, d, s) => binLanes(x, d, s, 16, 2, false, L.min)], [0x3b, 'pminud', (x, d, s) => binLanes(x, d, s, 16, 4, false, L.min)],
  [0x3c, 'pmaxsb', (x, d, s) => binLanes(x, d, s, 16, 1, true, L.max)], [0x3d, 'pmaxsd', (x, d, s) => binLanes(x, d, s, 16, 4, true, L.max)],
  [0x3e, 'pmaxuw', (x, d, s) => binLanes(x, d, s, 16, 2, false, L.max)], [0x3f, 'pmaxud', (x, d, s) => binLanes(x, d, s, 16, 4, false, L.max)],
  [0x40, 'pmulld', (x, d, s) => binLanes(x, d, s, 16, 4, true, L.mulld)], [0x41, 'phminposuw', (x, d, s) => phminposuw(x, d, s)],
];
for (const [op, n, f] of SSE41) def(`p66 0f 38 ${op.toString(16)}`, `${n} Vdq,Wdq`, 'VW', (x, d, s) => f(x, d, s));
def('p66 0f 3a 42', 'mpsadbw Vdq,Wdq,Ib', 'VW', (x, d, s, i) => mpsadbw(x, d, s, i));
def('p66 0f 3a 14', 'pextrb Rd/Mb,Vdq,Ib', 'EV', (x, d, s, i, _w, m) => (m ? pextrMem(x, d, s, i, 1) : pextr(x, d, s, i, 1, 16)), 0, { store: 1 });
def('p66 0f 3a 15', 'pextrw Rd/Mw,Vdq,Ib', 'EV', (x, d, s, i, _w, m) => (m ? pextrMem(x, d, s, i, 2) : pextr(x, d, s, i, 2, 16)), 0, { store: 2 });
def('p66 0f 3a 16', 'pextrd Ey,Vdq,Ib', 'EV', (x, d, s, i, w, m) => (m ? pextrMem(x, d, s, i, w === 8 ? 8 : 4) : pextr(x, d, s, i, w === 8 ? 8 : 4, 16)), 0, { store: 4 });
def('p66 0f 3a 17', 'extractps Ed,Vdq,Ib', 'EV', (x, d, s, i, _w, m) => (m ? pextrMem(x, d, s, i, 4) : pextr(x, d, s, i, 4, 16)), 0, { store: 4 });
def('p66 0f 3a 20', 'pinsrb Vdq,Ry/Mb,Ib', 'VE', (x, d, s, i) => pinsr(x, d, s, i, 1, 16), 1);
def('p66 0f 3a 21', 'insertps Vdq,Udq/Md,Ib', 'VW', (x, d, s, i, _w, m) => insertps(x, d, s, i, m), 4);
def('p66 0f 3a 22', 'pinsrd Vdq,Ey,Ib', 'VE', (x, d, s, i, w) => pinsr(x, d, s, i, w === 8 ? 8 : 4, 16), 4);
function pextrMem(x: Vec, d: number, s: number, imm: number, size: number): void {
  const i = imm & (16 / size - 1);
  x.u8.copyWithin(d, s + i * size, s + (i + 1) * size);
}
for (const [op, n, ex, ix] of [[0x60, 'pcmpestrm', true, false], [0x61, 'pcmpestri', true, true], [0x62, 'pcmpistrm', false, false], [0x63, 'pcmpistri', false, true]] as const) {
  def(`p66 0f 3a ${op.toString(16)}`, `${n} Vdq,Wdq,Ib`, 'VW',
    (x, d, s, i, w) => pcmpstr(x, d, s, i, ex, ix, gprOff(RAX), gprOff(RDX), gprOff(RCX), w === 8), 16, { align: false, flags: true });
}
def('pf2 0f 38 f0', 'crc32 Gd,Eb', 'GE', (x, d, s) => crc32(x, d, s, 1), 1);
def('pf2 0f 38 f1', 'crc32 Gy,Ev', 'GE', (x, d, s, _i, w) => crc32(x, d, s, w), 4);
def('pf3 0f b8', 'popcnt Gv,Ev', 'GE', (x, d, s, _i, w) => popcnt(x, d, s, w), 4, { flags: true });
def('pf3 0f bd', 'lzcnt Gv,Ev', 'GE', (x, d, s, _i, w) => lzcnt(x, d, s, w), 4, { flags: true });
def('pf3 0f bc', 'tzcnt Gv,Ev', 'GE', (x, d, s, _i, w) => tzcnt(x, d, s, w), 4, { flags: true });
def('np 0f 38 f0 m', 'movbe Gv,Mv', 'GM', (x, d, s, _i, w) => movbe(x, d, s, w, true), 4);
def('np 0f c3 m', 'movnti My,Gy', 'MG', (x, d, s, _i, w) => move(x, d, s, w === 8 ? 8 : 4, 0), 0, { store: 4 });
def('np 0f 38 f1 m', 'movbe Mv,Gv', 'MG', (x, d, s, _i, w) => movbe(x, d, s, w, false), 0, { store: 4 });
