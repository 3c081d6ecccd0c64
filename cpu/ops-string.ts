// Table rows for the string instructions MOVS/CMPS/STOS/LODS/SCAS/INS/OUTS in
// every operand and address size, with REP/REPE/REPNE. A REP loop runs at most
// REP_CHUNK_WORK units of work per execution, then pauses (REP_PAUSE) with RIP
// on the instruction; registers are updated per element, so a fault or a pause
// mid-way leaves them where the restarted instruction continues. Forward REP
// MOVS/STOS inside RAM pages are done a page-chunk at a time with typed-array copies.
// Outside 64-bit mode each element is checked against its segment's limit
// (DS or the override for rSI, always ES for rDI) before it is touched.

import type { Cpu, Exec } from './cpu.js';
import { SEG_WRITE, segWord } from './cpu.js';
import type { Insn } from './decoder.js';
import { alu, alu64, ALU_CMP } from './alu.js';
import { portIn, portOut } from './ops-io.js';
import { memRead, memWrite, segCheck, segFits } from './operands.js';
import { getZF } from './flags.js';
import { DS, ES, FLAG_DF, SEG_BASE } from './state.js';
import { F_STRING, F_STRING_COND, OpRow, row } from './table.js';
import { W } from './words.js';
import { REP_PAUSE } from './fault.js';
import { TLB_BITS } from '../mmu/tlb.js';

const RSI = 12, RDI = 14, RCX = 2; // word indices of the GPRs
/** ES as a destination: segCheck is told the element is a store (a read-only ES faults #GP(0), SDM 5.5). */
const ES_W = ES + SEG_WRITE;
/**
 * Work a REP string instruction does per execution before it pauses: one unit per element, and
 * BULK_WORK per page-chunk copied in bulk (a typed-array copy of up to 4 KiB costs about as much
 * as a few dozen interpreted instructions). The work is charged to the run budget (cpu.charge).
 */
export const REP_CHUNK_WORK = 4096;
const BULK_WORK = 16;
const K_MOVS = 0, K_CMPS = 1, K_STOS = 2, K_LODS = 3, K_SCAS = 4, K_INS = 5, K_OUTS = 6;

/** Offset in an index register for the address size (high half in c.eaHi for 64-bit). */
function index(c: Cpu, w: number, as: number): number {
  const r = c.r32;
  if (as === 8) { c.eaHi = r[w + 1]; return r[w]; }
  c.eaHi = 0;
  return as === 4 ? r[w] : r[w] & 0xffff;
}

/** Linear address of a `size`-byte element at seg:offset, checked (s = seg, + SEG_WRITE for a store; 64-bit mode: only FS/GS add a base). */
function linear(c: Cpu, s: number, off: number, as: number, m64: boolean, size: number): number {
  const r = c.r32, seg = s & 7;
  if (!m64) {
    const o = as === 2 ? off & 0xffff : off >>> 0;
    if (o + size - 1 > c.segMax[seg]) segCheck(c, s, o, size);
    return (r[segWord(seg, SEG_BASE)] + o) | 0;
  }
  if (seg < 4) return off;
  const sb = segWord(seg, SEG_BASE);
  const sum = (off >>> 0) + (r[sb] >>> 0);
  c.eaHi = (c.eaHi + r[sb + 1] + (sum > 0xffffffff ? 1 : 0)) | 0;
  return sum | 0;
}

/** index += delta in the address size. */
function step(c: Cpu, w: number, as: number, delta: number): void {
  const r = c.r32;
  if (as === 2) r[w] = (r[w] & ~0xffff) | ((r[w] + delta) & 0xffff);
  else if (as === 4) { r[w] = (r[w] + delta) | 0; if (c.codeSize === 8) r[w + 1] = 0; }
  else {
    const sum = (r[w] >>> 0) + delta;
    r[w] = sum | 0;
    if (sum > 0xffffffff || sum < 0) r[w + 1] = (r[w + 1] + (sum < 0 ? -1 : 1)) | 0;
  }
}

/** Count register is zero (CX/ECX/RCX by address size). */
function countZero(r: Int32Array, as: number): boolean {
  return as === 2 ? (r[RCX] & 0xffff) === 0 : as === 4 ? r[RCX] === 0 : (r[RCX] | r[RCX + 1]) === 0;
}
function countDec(c: Cpu, as: number): void { step(c, RCX, as, -1); }
/** The count as a number (capped; used to size bulk chunks). */
function countValue(r: Int32Array, as: number): number {
  return as === 2 ? r[RCX] & 0xffff : as === 4 ? r[RCX] >>> 0 : r[RCX + 1] !== 0 ? 0x7fffffff : r[RCX] >>> 0;
}

/** One element of a string operation; returns false for CMPS/SCAS when the REPE/REPNE condition ends the loop. */
function once(c: Cpu, kind: number, size: number, as: number, seg: number, m64: boolean): void {
  const r = c.r32;
  const delta = (r[W.W_RFLAGS] & FLAG_DF) !== 0 ? -size : size;
  switch (kind) {
    case K_MOVS: {
      const s = linear(c, seg, index(c, RSI, as), as, m64, size), sh = c.eaHi;
      const v = memRead(c, size, s, sh);
      const d = linear(c, ES_W, index(c, RDI, as), as, m64, size);
      memWrite(c, size, d, c.eaHi, v);
      step(c, RSI, as, delta); step(c, RDI, as, delta);
      break;
    }
    case K_CMPS: {
      const s = linear(c, seg, index(c, RSI, as), as, m64, size), sh = c.eaHi;
      const a = memRead(c, size, s, sh), aHi = c.resHi;
      const d = linear(c, ES, index(c, RDI, as), as, m64, size);
      const b = memRead(c, size, d, c.eaHi), bHi = c.resHi;
      if (size === 8) alu64(c, ALU_CMP, a, aHi, b, bHi); else alu(c, ALU_CMP, size, a, b);
      step(c, RSI, as, delta); step(c, RDI, as, delta);
      break;
    }
    case K_STOS: {
      const d = linear(c, ES_W, index(c, RDI, as), as, m64, size);
      c.resHi = r[W.W_RAX + 1];
      memWrite(c, size, d, c.eaHi, r[W.W_RAX]);
      step(c, RDI, as, delta);
      break;
    }
    case K_LODS: {
      const s = linear(c, seg, index(c, RSI, as), as, m64, size);
      const v = memRead(c, size, s, c.eaHi);
      if (size === 1) r[W.W_RAX] = (r[W.W_RAX] & ~0xff) | v;
      else if (size === 2) r[W.W_RAX] = (r[W.W_RAX] & ~0xffff) | v;
      else { r[W.W_RAX] = v; r[W.W_RAX + 1] = size === 8 ? c.resHi : 0; }
      step(c, RSI, as, delta);
      break;
    }
    case K_SCAS: {
      const d = linear(c, ES, index(c, RDI, as), as, m64, size);
      const b = memRead(c, size, d, c.eaHi), bHi = c.resHi;
      if (size === 8) alu64(c, ALU_CMP, r[W.W_RAX], r[W.W_RAX + 1], b, bHi); else alu(c, ALU_CMP, size, r[W.W_RAX], b);
      step(c, RDI, as, delta);
      break;
    }
    case K_INS: {
      // The destination is checked before the port is read (a read may have side effects).
      const d = linear(c, ES_W, index(c, RDI, as), as, m64, size), dHi = c.eaHi;
      const v = portIn(c, r[W.W_RDX] & 0xffff, size as 1 | 2 | 4);
      memWrite(c, size, d, dHi, v);
      step(c, RDI, as, delta);
      break;
    }
    default: {
      const s = linear(c, seg, index(c, RSI, as), as, m64, size);
      const v = memRead(c, size, s, c.eaHi);
      portOut(c, r[W.W_RDX] & 0xffff, size as 1 | 2 | 4, v);
      step(c, RSI, as, delta);
    }
  }
}

/**
 * Forward REP MOVS/STOS: handle as many whole elements as fit before the next
 * page boundary of source and destination, with one translation each. Returns
 * false when the chunk cannot be done in bulk (the caller does one element).
 */
function bulk(c: Cpu, kind: number, size: number, as: number, seg: number, m64: boolean): boolean {
  const r = c.r32;
  if (as === 2 || (r[W.W_RFLAGS] & FLAG_DF) !== 0) return false;
  const count = countValue(r, as);
  const dOff = index(c, RDI, as);
  const d = linear(c, ES_W, dOff, as, m64, size), dHi = c.eaHi;
  let room = (0x1000 - (d & 0xfff)) / size;
  let s = 0, sHi = 0;
  if (kind === K_MOVS) {
    s = linear(c, seg, index(c, RSI, as), as, m64, size); sHi = c.eaHi;
    room = Math.min(room, (0x1000 - (s & 0xfff)) / size);
  }
  const n = Math.min(Math.floor(room), count);
  if (n < 2) return false;
  if (as === 4 && ((dOff >>> 0) + n * size > 0x100000000)) return false; // index would wrap
  const bytes = n * size;
  // A chunk that runs past a limit goes element by element, so the fault comes at the right one.
  if (!m64 && (!segFits(c, ES_W, dOff >>> 0, bytes) || (kind === K_MOVS && !segFits(c, seg, r[RSI] >>> 0, bytes)))) return false;
  const mem = c.mem;
  const pd = c.translate(d, dHi, c.planeW >> TLB_BITS);
  if (pd + bytes > mem.ramSize) return false;
  if (kind === K_MOVS) {
    const ps = c.translate(s, sHi, c.planeR >> TLB_BITS);
    if (ps + bytes > mem.ramSize) return false;
    if (ps < pd + bytes && pd < ps + bytes && ps !== pd) return false; // overlapping: element order matters
    mem.noteWrite(pd, bytes);
    mem.u8.copyWithin(pd, ps, ps + bytes);
    step(c, RSI, as, bytes);
  } else {
    mem.noteWrite(pd, bytes);
    if (size === 1) mem.u8.fill(r[W.W_RAX] & 0xff, pd, pd + bytes);
    else for (let k = 0; k < bytes; k += size) {
      if (size === 2) mem.dv.setUint16(pd + k, r[W.W_RAX], true);
      else { mem.dv.setInt32(pd + k, r[W.W_RAX], true); if (size === 8) mem.dv.setInt32(pd + k + 4, r[W.W_RAX + 1], true); }
    }
  }
  step(c, RDI, as, bytes);
  step(c, RCX, as, -n);
  return true;
}

function stringOp(kind: number, byte: boolean) {
  return (d: Insn): Exec => {
    const size = byte ? 1 : kind === K_INS || kind === K_OUTS ? (d.opSize === 2 ? 2 : 4) : d.opSize;
    const as = d.addrSize, m64 = d.mode64;
    const seg = d.segOverride >= 0 ? d.segOverride : DS;
    const cond = kind === K_CMPS || kind === K_SCAS;
    if (d.rep === 0) return (c) => once(c, kind, size, as, seg, m64);
    const repe = d.rep === 0xf3;
    const canBulk = kind === K_MOVS || kind === K_STOS;
    return (c) => {
      const r = c.r32;
      // Charged as it is done, so an element that faults has paid for those before it.
      let work = 0;
      while (!countZero(r, as)) {
        if (work >= REP_CHUNK_WORK) throw REP_PAUSE;
        if (canBulk && bulk(c, kind, size, as, seg, m64)) { work += BULK_WORK; c.charge += BULK_WORK; continue; }
        work++;
        c.charge++;
        once(c, kind, size, as, seg, m64);
        countDec(c, as);
        if (cond && getZF(r) !== repe) break;
      }
    };
  };
}

/** The byte and the word/dword/qword row; operands spell out the implicit ones (X = DS:rSI, Y = ES:rDI). */
function rows(name: string, kind: number, op: number, ops: [string, string]): OpRow[] {
  const f = F_STRING | (kind === K_CMPS || kind === K_SCAS ? F_STRING_COND : 0);
  return [
    row(op.toString(16), `${name} ${ops[0].replace(/\?/g, 'b')}`, stringOp(kind, true), f),
    row((op + 1).toString(16), `${name} ${ops[1].replace(/\?/g, 'v')}`, stringOp(kind, false), f),
  ];
}

export const STRING_ROWS: OpRow[] = [
  ...rows('movs', K_MOVS, 0xa4, ['Y?,X?', 'Y?,X?']),
  ...rows('cmps', K_CMPS, 0xa6, ['X?,Y?', 'X?,Y?']),
  ...rows('stos', K_STOS, 0xaa, ['Y?,AL', 'Y?,rAX']),
  ...rows('lods', K_LODS, 0xac, ['AL,X?', 'rAX,X?']),
  ...rows('scas', K_SCAS, 0xae, ['AL,Y?', 'rAX,Y?']),
  ...rows('ins', K_INS, 0x6c, ['Y?,DX', 'Yz,DX']),
  ...rows('outs', K_OUTS, 0x6e, ['DX,X?', 'DX,Xz']),
];
