// Table rows for near control transfers and the stack: Jcc, JMP, CALL, RET,
// LOOP/JCXZ, PUSH/POP (registers, immediates, memory, segment registers),
// PUSHA/POPA, ENTER/LEAVE. Branch executors set RIP from the block's start
// RIP (r32[W.W_RIP] while the block runs) plus decode-time offsets.

import type { Cpu, Exec } from './cpu.js';
import { reg, segWord } from './cpu.js';
import { W } from './words.js';
import type { Insn } from './decoder.js';
import { testCC } from './flags.js';
import { eaFn, memRead, memWrite, regRead, regWrite } from './operands.js';
import { adjustSp, pop, popFrame, push, ssLinear } from './stack.js';
import { Fast as F } from './fastops.js';
import { fast } from './fastops.js';
import { CS, DS, ES, FLAG_ZF, FS, GS, SEG_SEL, SHADOW_MOV_SS, SS } from './state.js';
import { CpuFault, VEC_GP } from './fault.js';
import { branchKind } from './facts.js';
import {
  F_D64, F_F64, F_I64, F_READS, F_SHADOW, F_TERM, K_CALL, K_CALL_IND, K_JCC, K_JMP, K_JMP_IND, K_LOOP, K_RET, OpRow, row, rowsPlusReg,
} from './table.js';

/** Condition-code suffixes in encoding order (Jcc, SETcc, CMOVcc). */
export const CC_NAMES = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

/** RIP += k (k relative to the block's start RIP), wrapped to the operand size. */
export function ripAdder(size: number): (c: Cpu, k: number) => void {
  if (size === 8) {
    return (c, k) => {
      const r = c.r32;
      const sum = (r[W.W_RIP] >>> 0) + k;
      r[W.W_RIP] = sum | 0;
      if (sum > 0xffffffff || sum < 0) r[W.W_RIP + 1] = (r[W.W_RIP + 1] + (sum < 0 ? -1 : 1)) | 0;
    };
  }
  if (size === 4) return (c, k) => { c.r32[W.W_RIP] = (c.r32[W.W_RIP] + k) | 0; };
  return (c, k) => { c.r32[W.W_RIP] = (c.r32[W.W_RIP] + k) & 0xffff; };
}

/** Set RIP to an absolute value of the operand size (hi used for 8). */
export function setRip(c: Cpu, size: number, lo: number, hi: number): void {
  const r = c.r32;
  if (size === 8) { r[W.W_RIP] = lo; r[W.W_RIP + 1] = hi; } else { r[W.W_RIP] = size === 4 ? lo : lo & 0xffff; r[W.W_RIP + 1] = 0; }
}

/**
 * RIP of the next instruction (low half; high half in c.eaHi), for pushes of return addresses: `end` bytes past the current one. Builders pass
 * `d.end` captured when the row is built: the decoder reuses one Insn, so an
 * executor must never read `d` when it runs.
 */
export function nextRip(c: Cpu, end: number, size: number): number {
  const r = c.r32;
  const sum = (r[W.W_RIP] >>> 0) + end;
  c.eaHi = size === 8 ? (r[W.W_RIP + 1] + (sum > 0xffffffff ? 1 : 0)) | 0 : 0;
  return size === 2 ? sum & 0xffff : sum | 0;
}

/** Condition test specialised per condition code (the common ones read the lazy state directly). */
export function ccTest(cc: number): (r: Int32Array) => boolean {
  if (cc === 4 || cc === 5) {
    const want = cc === 4;
    return (r) => {
      const op = r[W.LF_OP];
      const z = op === 0 ? (r[W.W_RFLAGS] & FLAG_ZF) !== 0 : (op & 3) === 3 ? (r[W.LF_RES] | r[W.LF_RESHI]) === 0 : r[W.LF_RES] === 0;
      return z === want;
    };
  }
  return (r) => testCC(r, cc);
}

function jcc(d: Insn): Exec {
  const test = ccTest(d.op & 15);
  const taken = d.end + d.imm, fall = d.end;
  const size = d.opSize;
  if (size === 4 || size === 8) return fast(d, size === 4 ? F.JCC32 : F.JCC64, d.op & 15, taken, fall);
  if (size === 4) return (c) => { const r = c.r32; r[W.W_RIP] = (r[W.W_RIP] + (test(r) ? taken : fall)) | 0; };
  const add = ripAdder(size);
  return (c) => add(c, test(c.r32) ? taken : fall);
}

function jmpRel(d: Insn): Exec {
  const k = d.end + d.imm;
  if (d.opSize === 4 || d.opSize === 8) return fast(d, d.opSize === 4 ? F.JMP32 : F.JMP64, 0, k, 0);
  const add = ripAdder(d.opSize);
  return (c) => add(c, k);
}

function callRel(d: Insn): Exec {
  const k = d.end + d.imm, size = d.opSize, end = d.end;
  if (size === 4 || size === 8) return fast(d, size === 4 ? F.CALL32 : F.CALL64, 0, k, d.end);
  const add = ripAdder(size);
  return (c) => {
    const ret = nextRip(c, end, size);
    push(c, size, ret, c.eaHi);
    add(c, k);
  };
}

/** Source for an indirect branch target (FF /2, FF /4): register or memory. */
function indirect(d: Insn): (c: Cpu) => number {
  const size = d.opSize;
  if (!d.isMem) return regRead(size, d.rm, d.rex);
  const ea = eaFn(d);
  return (c) => memRead(c, size, ea(c), c.eaHi);
}

function jmpInd(d: Insn): Exec {
  const src = indirect(d), size = d.opSize;
  return (c) => { const v = src(c); setRip(c, size, v, c.resHi); };
}

function callInd(d: Insn): Exec {
  const src = indirect(d), size = d.opSize, end = d.end;
  return (c) => {
    const v = src(c), vHi = c.resHi;
    const ret = nextRip(c, end, size);
    push(c, size, ret, c.eaHi);
    setRip(c, size, v, vHi);
  };
}

function ret(d: Insn): Exec {
  const size = d.opSize, extra = d.op === 0xc2 ? d.imm & 0xffff : 0;
  if (extra === 0 && (size === 4 || size === 8)) return fast(d, size === 4 ? F.RET32 : F.RET64, 0, 0, 0);
  return (c) => {
    const v = pop(c, size);
    const hi = c.resHi;
    if (extra) adjustSp(c, extra);
    setRip(c, size, v, hi);
  };
}

/** #GP(0): a near branch whose target is past the CS limit faults at the branch (SDM Vol. 2 JMP, CALL, RET, Jcc, LOOP). */
function csLimitFault(): never { throw new CpuFault(VEC_GP, 0, true); }

/**
 * For a block decoded under a CS limit below 4 GiB (cpu.fetchMax, outside 64-bit mode), so flat
 * code pays nothing: the executor for a near branch d that raises #GP(0) at the branch, before
 * anything is pushed or popped, when its target is past the limit; null when d is no near branch,
 * or a direct one with a 16-bit operand size under a 64 KiB limit (its target wraps inside).
 * A direct branch's target is taken from RIP when it runs, not from the EIP the block was decoded
 * at: blocks are cached by physical address, and the same bytes run under another CS base at
 * another offset (real-mode code called through two segments). cpu/blocks.ts puts it in place of
 * the row's executor (and fast op).
 */
export function limitedBranch(d: Insn, max: number): Exec | null {
  const kind = branchKind(d.row), size = d.opSize;
  const wrap = (v: number): number => (size === 2 ? v & 0xffff : v >>> 0);
  if (kind === K_JCC || kind === K_JMP || kind === K_CALL || kind === K_LOOP) {
    if (size === 2 && max >= 0xffff) return null;
    const k = d.end + d.imm, fall = d.end, add = ripAdder(size);
    const past = (c: Cpu): boolean => wrap(c.r32[W.W_RIP] + k) > c.fetchMax;
    if (kind === K_JMP) return (c) => { if (past(c)) csLimitFault(); add(c, k); };
    if (kind === K_CALL) {
      return (c) => {
        if (past(c)) csLimitFault();
        push(c, size, nextRip(c, fall, size), c.eaHi);
        add(c, k);
      };
    }
    if (kind === K_JCC) {
      const test = ccTest(d.op & 15);
      return (c) => {
        if (!test(c.r32)) { add(c, fall); return; }
        if (past(c)) csLimitFault();
        add(c, k);
      };
    }
    const run = loopOp(d);
    return (c) => { // LOOP/JCXZ taken past the limit: fault with the count as it was
      const r = c.r32, rip = r[W.W_RIP], cx = r[W.W_RCX], cxHi = r[W.W_RCX + 1], over = past(c);
      run(c);
      if (over && r[W.W_RIP] !== (size === 2 ? (rip + fall) & 0xffff : (rip + fall) | 0)) { r[W.W_RCX] = cx; r[W.W_RCX + 1] = cxHi; r[W.W_RIP] = rip; csLimitFault(); }
    };
  }
  if (kind === K_JMP_IND) {
    const src = indirect(d);
    return (c) => { const v = wrap(src(c)); if (v > c.fetchMax) csLimitFault(); setRip(c, size, v, 0); };
  }
  if (kind === K_CALL_IND) {
    const src = indirect(d), end = d.end;
    return (c) => {
      const v = wrap(src(c));
      if (v > c.fetchMax) csLimitFault();
      push(c, size, nextRip(c, end, size), 0);
      setRip(c, size, v, 0);
    };
  }
  if (kind === K_RET) {
    const extra = d.op === 0xc2 ? d.imm & 0xffff : 0;
    return (c) => {
      const r = c.r32, sp = r[W.W_RSP], spHi = r[W.W_RSP + 1];
      const v = wrap(pop(c, size));
      if (v > c.fetchMax) { r[W.W_RSP] = sp; r[W.W_RSP + 1] = spHi; csLimitFault(); }
      if (extra) adjustSp(c, extra);
      setRip(c, size, v, 0);
    };
  }
  return null;
}

/** The count register for the address size: CX, ECX or RCX; returns true if it is zero after `dec`. */
function loopOp(d: Insn): Exec {
  const as = d.addrSize, k = d.end + d.imm, fall = d.end, op = d.op;
  const add = ripAdder(d.opSize);
  return (c) => {
    const r = c.r32;
    let zero: boolean;
    if (op === 0xe3) {
      zero = as === 2 ? (r[W.W_RCX] & 0xffff) === 0 : as === 4 ? r[W.W_RCX] === 0 : (r[W.W_RCX] | r[W.W_RCX + 1]) === 0;
      add(c, zero ? k : fall);
      return;
    }
    if (as === 2) { const v = (r[W.W_RCX] - 1) & 0xffff; r[W.W_RCX] = (r[W.W_RCX] & ~0xffff) | v; zero = v === 0; }
    else if (as === 4) { const v = (r[W.W_RCX] - 1) | 0; r[W.W_RCX] = v; if (c.codeSize === 8) r[W.W_RCX + 1] = 0; zero = v === 0; }
    else { const v = (r[W.W_RCX] - 1) | 0; if (r[W.W_RCX] === 0) r[W.W_RCX + 1] = (r[W.W_RCX + 1] - 1) | 0; r[W.W_RCX] = v; zero = (v | r[W.W_RCX + 1]) === 0; }
    let t = !zero;
    if (op === 0xe1) t = t && testCC(r, 4); // LOOPE: ZF=1
    else if (op === 0xe0) t = t && testCC(r, 5); // LOOPNE: ZF=0
    add(c, t ? k : fall);
  };
}

function pushReg(d: Insn): Exec {
  const n = (d.op & 7) | ((d.rex & 1) << 3), w = reg(n), size = d.opSize;
  if (size === 4 || size === 8) return fast(d, size === 4 ? F.PUSH32 : F.PUSH64, w, 0, 0);
  return (c) => push(c, size, c.r32[w]);
}

function popReg(d: Insn): Exec {
  const n = (d.op & 7) | ((d.rex & 1) << 3), size = d.opSize;
  if (size === 4 || size === 8) return fast(d, size === 4 ? F.POP32 : F.POP64, n * 2, 0, 0);
  const wr = regWrite(size, n, d.rex);
  return (c) => wr(c, pop(c, size));
}

function pushImm(d: Insn): Exec {
  const size = d.opSize, v = d.imm, vHi = d.immHi;
  return (c) => push(c, size, v, vHi);
}

function pushEv(d: Insn): Exec {
  const src = indirect(d), size = d.opSize;
  return (c) => { const v = src(c); push(c, size, v, c.resHi); };
}

function popEv(d: Insn): Exec {
  const size = d.opSize;
  if (!d.isMem) { const wr = regWrite(size, d.rm, d.rex); return (c) => wr(c, pop(c, size)); }
  const ea = eaFn(d);
  return (c) => {
    // The address is computed after RSP is incremented (SDM POP: "if the destination uses ESP as a base...").
    const r = c.r32, sp = r[W.W_RSP], spHi = r[W.W_RSP + 1];
    const v = pop(c, size), vHi = c.resHi;
    try {
      const lo = ea(c);
      c.resHi = vHi;
      memWrite(c, size, lo, c.eaHi, v);
    } catch (e) { r[W.W_RSP] = sp; r[W.W_RSP + 1] = spHi; throw e; }
  };
}

/** PUSH Sreg: the selector, zero-extended (a 32-bit push writes 4 bytes). */
function pushSeg(seg: number) {
  return (d: Insn): Exec => {
    const size = d.opSize, w = segWord(seg, SEG_SEL);
    return (c) => push(c, size, c.r32[w] & 0xffff, 0);
  };
}

/** POP Sreg goes through the system hook (descriptor load in protected mode). */
function popSeg(seg: number) {
  return (d: Insn): Exec => {
    const size = d.opSize;
    return (c) => {
      const r = c.r32, sp = r[W.W_RSP], spHi = r[W.W_RSP + 1];
      const v = pop(c, size);
      try { c.sys.loadSegment(c, seg, v & 0xffff); } catch (e) { r[W.W_RSP] = sp; r[W.W_RSP + 1] = spHi; throw e; }
      if (seg === SS) r[W.W_SHADOW] |= SHADOW_MOV_SS; // MOV SS / POP SS interrupt shadow
    };
  };
}

function pusha(d: Insn): Exec {
  const size = d.opSize;
  return (c) => {
    const r = c.r32, sp = r[W.W_RSP];
    for (let n = 0; n < 8; n++) push(c, size, n === 4 ? sp : r[n * 2]);
  };
}

function popa(d: Insn): Exec {
  const size = d.opSize;
  return (c) => {
    const r = c.r32;
    for (let n = 7; n >= 0; n--) {
      const v = pop(c, size);
      if (n === 4) continue; // the saved SP is discarded
      if (size === 4) r[n * 2] = v; else r[n * 2] = (r[n * 2] & ~0xffff) | (v & 0xffff);
    }
  };
}

/** ENTER imm16, imm8 (SDM ENTER: nesting level taken mod 32). */
function enter(d: Insn): Exec {
  const size = d.opSize, alloc = d.imm & 0xffff, level = d.imm2 & 31;
  const bpRead = regRead(size, 5, 0), bpWrite = regWrite(size, 5, 0);
  return (c) => {
    const r = c.r32;
    const bp = bpRead(c), bpHi = c.resHi;
    push(c, size, bp, bpHi);
    const frame = r[W.W_RSP], frameHi = r[W.W_RSP + 1];
    if (level > 0) {
      let bpCur = bp, bpCurHi = bpHi;
      for (let i = 1; i < level; i++) {
        bpCur = c.stackSize === 8 ? bpCur - size : c.stackSize === 4 ? (bpCur - size) | 0 : (bpCur - size) & 0xffff;
        const lin = c.stackSize === 8 ? bpCur | 0 : ssLinear(c, bpCur, size);
        const v = memRead(c, size, lin, c.stackSize === 8 ? bpCurHi : 0);
        push(c, size, v, c.resHi);
      }
      push(c, size, frame, frameHi);
    }
    c.resHi = frameHi;
    bpWrite(c, size === 2 ? frame & 0xffff : frame);
    adjustSp(c, -alloc);
  };
}

function leave(d: Insn): Exec {
  const size = d.opSize;
  const bpWrite = regWrite(size, 5, 0);
  return (c) => bpWrite(c, popFrame(c, size));
}


export const CTL_ROWS: OpRow[] = [
  ...Array.from({ length: 16 }, (_, cc) => row((0x70 + cc).toString(16), `j${CC_NAMES[cc]} Jb`, jcc, F_TERM | F_F64, { kind: K_JCC })),
  ...Array.from({ length: 16 }, (_, cc) => row(`0f ${(0x80 + cc).toString(16)}`, `j${CC_NAMES[cc]} Jz`, jcc, F_TERM | F_F64, { kind: K_JCC })),
  row('eb', 'jmp Jb', jmpRel, F_TERM | F_F64, { kind: K_JMP }),
  row('e9', 'jmp Jz', jmpRel, F_TERM | F_F64, { kind: K_JMP }),
  row('e8', 'call Jz', callRel, F_TERM | F_F64, { kind: K_CALL }),
  row('ff /2', 'call Ev', callInd, F_TERM | F_F64 | F_READS, { kind: K_CALL_IND }),
  row('ff /4', 'jmp Ev', jmpInd, F_TERM | F_F64 | F_READS, { kind: K_JMP_IND }),
  row('c3', 'ret', ret, F_TERM | F_F64, { kind: K_RET }),
  row('c2', 'ret Iw', ret, F_TERM | F_F64, { kind: K_RET }),
  row('e0', 'loopne Jb', loopOp, F_TERM | F_F64, { kind: K_LOOP }),
  row('e1', 'loope Jb', loopOp, F_TERM | F_F64, { kind: K_LOOP }),
  row('e2', 'loop Jb', loopOp, F_TERM | F_F64, { kind: K_LOOP }),
  row('e3', 'jcxz|jecxz|jrcxz Jb', loopOp, F_TERM | F_F64, { kind: K_LOOP }),
  ...rowsPlusReg('50', 'push Zv', pushReg, F_D64),
  ...rowsPlusReg('58', 'pop Zv', popReg, F_D64),
  row('6a', 'push Ibs', pushImm, F_D64),
  row('68', 'push Iz', pushImm, F_D64),
  row('ff /6', 'push Ev', pushEv, F_D64 | F_READS),
  row('8f /0', 'pop Ev', popEv, F_D64),
  row('06', 'push ES', pushSeg(ES), F_I64),
  row('07', 'pop ES', popSeg(ES), F_I64),
  row('0e', 'push CS', pushSeg(CS), F_I64),
  row('16', 'push SS', pushSeg(SS), F_I64),
  row('17', 'pop SS', popSeg(SS), F_I64 | F_SHADOW),
  row('1e', 'push DS', pushSeg(DS), F_I64),
  row('1f', 'pop DS', popSeg(DS), F_I64),
  row('0f a0', 'push FS', pushSeg(FS), F_D64),
  row('0f a1', 'pop FS', popSeg(FS), F_D64),
  row('0f a8', 'push GS', pushSeg(GS), F_D64),
  row('0f a9', 'pop GS', popSeg(GS), F_D64),
  row('60', 'pusha|pushad', pusha, F_I64),
  row('61', 'popa|popad', popa, F_I64),
  row('c8', 'enter Iw,Ib', enter, F_D64),
  row('c9', 'leave', leave, F_D64),
];
