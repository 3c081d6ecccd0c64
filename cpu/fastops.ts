// Fast-op encodings: the handful of instruction forms that dominate real code
// (32/64-bit register ALU, MOV, simple loads/stores, Jcc, CALL/RET, PUSH/POP)
// are not closures but an id plus three integer fields in the block's code
// array, executed inline by the switch in cpu/exec.ts. A builder selects one
// with fast(); everything else stays a closure (Fast.FAST_NONE). The ids are a
// const enum so the bundler inlines them and V8 compiles the switch to a jump table.

import type { Exec } from './cpu.js';
import type { Insn } from './decoder.js';

export const enum Fast {
  FAST_NONE = 0,
  // ALU, register destination: a = dst word, b = src word (RR) or immediate (RI).
  ADD_RR32 = 1, OR_RR32 = 2, AND_RR32 = 3, SUB_RR32 = 4, XOR_RR32 = 5, CMP_RR32 = 6, TEST_RR32 = 7,
  ADD_RI32 = 8, OR_RI32 = 9, AND_RI32 = 10, SUB_RI32 = 11, XOR_RI32 = 12, CMP_RI32 = 13,
  ADD_RR64 = 14, SUB_RR64 = 15, CMP_RR64 = 16, AND_RR64 = 17, OR_RR64 = 18, XOR_RR64 = 19, TEST_RR64 = 20,
  /** 64-bit with a sign-extended 32-bit immediate. */
  ADD_RI64 = 21, SUB_RI64 = 22, CMP_RI64 = 23, AND_RI64 = 24, OR_RI64 = 25, XOR_RI64 = 26,
  INC32 = 27, DEC32 = 28,
  // MOV: a = dst word, b = src word / immediate (low), x = immediate high.
  MOV_RR32 = 29, MOV_RR64 = 30, MOV_RI32 = 31, MOV_RI64 = 32,
  /** Loads/stores at [base + disp] (32-bit addressing outside 64-bit mode): a = reg word, b = base word | seg-base word << 16, x = disp. */
  LOAD32 = 33, STORE32 = 34,
  /** Loads/stores at [base + disp] in 64-bit mode (no segment base): a = reg word, b = base word, x = disp. */
  LOAD64_32 = 35, STORE64_32 = 36, LOAD64 = 37, STORE64 = 38,
  /** LEA r32, [base + disp]: a = dst word, b = base word, x = disp. */
  LEA32 = 39,
  /** Jcc: a = condition, b = taken offset, x = fall-through offset (from the block's RIP). */
  JCC32 = 40, JCC64 = 41,
  /** JMP rel: b = target offset. */
  JMP32 = 42, JMP64 = 43,
  /** CALL rel: b = target offset, x = return offset. RET: none. */
  CALL32 = 44, CALL64 = 45, RET32 = 46, RET64 = 47,
  /** PUSH/POP register: a = word. */
  PUSH32 = 48, POP32 = 49, PUSH64 = 50, POP64 = 51,
  /** SHL/SHR/SAR register by an immediate count 1..width-1 (lazy flags): a = word, b = count. */
  SHL_RI32 = 52, SHR_RI32 = 53, SAR_RI32 = 54, SHL_RI64 = 55, SHR_RI64 = 56, SAR_RI64 = 57,
  /** INC/DEC of a 64-bit register: a = word. */
  INC64 = 58, DEC64 = 59,
  /** MOVZX r32, byte [base + disp]: fields as LOAD32 (outside 64-bit mode) / LOAD64 (64-bit mode). */
  LOADZX8_32 = 60, LOADZX8_64 = 61,
  /** MOVSXD r64, r32: a = dst word, b = src word. */
  MOVSXD_RR = 62,
  FAST_COUNT = 63,
  /**
   * Dead-flag variants: an ALU fast op whose flags are overwritten by a later
   * instruction of the same block before anything can read them (and before
   * anything that could fault) runs as id + NO_FLAGS and skips the lazy-flag
   * stores. Blocks keep the exact ids for partial runs (single-step, TF).
   */
  NO_FLAGS = 64,
}

/** Fast ops that set all six arithmetic flags without reading any (candidates for Fast.NO_FLAGS). */
export function writesAllFlags(id: number): boolean { return (id >= Fast.ADD_RR32 && id <= Fast.XOR_RI64) || (id >= Fast.SHL_RI32 && id <= Fast.SAR_RI64); }
/** Fast ops that neither read nor write flags and cannot fault. */
export function flagTransparent(id: number): boolean {
  return id === Fast.MOV_RR32 || id === Fast.MOV_RR64 || id === Fast.MOV_RI32 || id === Fast.MOV_RI64 || id === Fast.LEA32 || id === Fast.MOVSXD_RR;
}

/** Rewrite `code` (stride 4) in place: ALU ops with dead flags get their Fast.NO_FLAGS variant. */
export function elideDeadFlags(code: Int32Array, n: number): void {
  let live = true; // conservatively live at the block's end
  for (let i = n - 1; i >= 0; i--) {
    const id = code[i << 2];
    if (writesAllFlags(id)) {
      if (!live) code[i << 2] = id + Fast.NO_FLAGS;
      live = false;
    } else if (id === Fast.INC32 || id === Fast.DEC32 || id === Fast.INC64 || id === Fast.DEC64) {
      // INC/DEC keep CF, so they read it: with all flags dead afterwards they need neither.
      if (!live) code[i << 2] = id + Fast.NO_FLAGS;
    } else if (!flagTransparent(id)) live = true;
  }
}

/** Placeholder executor for a fast op (the block runs it from its code array, never through this). */
const NOT_CALLABLE: Exec = () => { throw new Error('fast op executed outside a block'); };

/** Select a fast op for d; the returned executor must only be stored by the block builder. */
export function fast(d: Insn, id: number, a: number, b: number, x: number): Exec {
  d.fastId = id;
  d.f1 = a;
  d.f2 = b;
  d.f3 = x;
  return NOT_CALLABLE;
}
