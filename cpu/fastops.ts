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
  /**
   * General memory operands (any base, index*scale, displacement; RIP-relative; FS/GS in 64-bit
   * mode): field a = register word (or what the op says) | address descriptor << 8 (eaDesc),
   * x = displacement (RIP-relative: the instruction's end offset from the block's RIP + disp).
   * LEA r32 / r64: a = dst word | descriptor.
   */
  LEA_M32 = 63, LEA_M64 = 64,
  /** Load into a register: a = dst word | descriptor, b = shape: size (1 2 4 8) | LOAD_SIGNED | LOAD_TO64 (MOV, MOVZX, MOVSX, MOVSXD). */
  LOAD_M = 65,
  /** Store a register's low b bytes (1 2 4 8): a = src word | descriptor. */
  STORE_M = 66,
  /** Store an immediate: a = size (1 2 4 8) | descriptor, b = immediate (sign-extended to 64 bits). */
  STORE_MI = 67,
  /** A NOP (90, 0F 1F /0 and the hint NOPs): no access, no fault. */
  NOP = 68,
  /**
   * ALU with a memory operand (ADD OR AND SUB XOR CMP, TEST): shape = cpu/alu.ts ALU_* | ALU_TEST |
   * size code (0-3: 1 2 4 8 bytes) << 4. ALU_RM: reg op= [m] (32/64-bit register), b = shape;
   * ALU_MR: [m] op= reg (a byte register is AL..BL or one with REX), b = shape; ALU_MI: [m] op= imm,
   * a's low byte = shape, b = immediate.
   */
  ALU_RM = 69, ALU_MR = 70, ALU_MI = 71,
  /**
   * ALU on byte registers (ADD OR AND SUB XOR CMP, TEST): a = destination byte register (its
   * word | 1 for AH..BH), b = source byte register (RR8) or immediate (RI8), x = shape (as ALU_RM's).
   */
  ALU_RR8 = 72, ALU_RI8 = 73,
  /** CMOVcc r32/r64, r: a = dst word, b = src word, x = condition. SETcc r8: a = byte register (as ALU_RR8's), x = condition. */
  CMOV32 = 74, CMOV64 = 75, SETCC_R8 = 76,
  /** NOT r32 / r64 (no flags): a = word. */
  NOT32 = 77, NOT64 = 78,
  FAST_COUNT = 79,
  /**
   * Dead-flag variants: an ALU fast op whose flags are overwritten by a later
   * instruction of the same block before anything can read them (and before
   * anything that could fault) runs as id + NO_FLAGS and skips the lazy-flag
   * stores. Blocks keep the exact ids for partial runs (single-step, TF).
   */
  NO_FLAGS = 128,
}

/**
 * The address descriptor of the general memory forms (bits 8+ of field a): base register (0-15,
 * EA_NONE, EA_RIP), index register (0-15, EA_NONE), scale shift, segment (ES..GS), and whether the
 * address is 64-bit (64-bit mode) or a segmented 32-bit offset (outside it). Built by eaDesc.
 */
export const EA_NONE = 16, EA_RIP = 17;
export const eaBase = (a: number): number => (a >> 8) & 31;
export const eaIndex = (a: number): number => (a >> 13) & 31;
export const eaScale = (a: number): number => (a >> 18) & 3;
export const eaSeg = (a: number): number => (a >> 20) & 7;
export const ea64 = (a: number): boolean => ((a >> 23) & 1) !== 0;
/** ALU_RM/MR/MI shape: TEST (an AND that writes nothing back). */
export const ALU_TEST = 8;
/** The byte register operand of an ALU_RR8/RI8 field: its word, | 1 for AH..BH (no REX, registers 4-7). */
export const byteReg = (n: number, rex: number): number => (rex === 0 && n >= 4 && n < 8 ? ((n - 4) * 2) | 1 : n * 2);
/** LOAD_M shape bits besides the size. */
export const LOAD_SIGNED = 16, LOAD_TO64 = 32;

/**
 * The address descriptor of d's memory operand, shifted into place (OR it with the register
 * word), or -1 where no general fast op takes it (16-bit addressing, 32-bit addressing in 64-bit
 * mode, a RIP-relative displacement that does not fit field x). `disp` gives field x.
 */
export function eaDesc(d: Insn): number {
  const m64 = d.mode64;
  if (m64 ? d.addrSize !== 8 : d.addrSize !== 4) return -1;
  if (d.ripRel && ((d.end + (d.disp | 0)) | 0) !== d.end + (d.disp | 0)) return -1;
  const base = d.ripRel ? EA_RIP : d.base >= 0 ? d.base : EA_NONE, index = d.index >= 0 ? d.index : EA_NONE;
  return (base | index << 5 | d.scale << 10 | d.seg << 12 | (m64 ? 1 << 15 : 0)) << 8;
}

/** Field x of a general memory fast op for d. */
export const eaDisp = (d: Insn): number => (d.ripRel ? d.end + (d.disp | 0) : d.disp | 0);

/** The six arithmetic flags as a set (RFLAGS bits CF, PF, AF, ZF, SF, OF). */
const ALL = 0x8d5, CF = 0x1;
/** FastInfo.gen bits: the JIT emits the op inline (GEN_EXACT), and its NO_FLAGS variant (GEN_NOFLAGS). */
export const GEN_EXACT = 1, GEN_NOFLAGS = 2;

/**
 * What one fast-op id is, for every tier (the one description the dead-flag pass, the
 * interpreter's switch in cpu/exec.ts and the JIT's code generator in cpu/jit/ share):
 * - fields: which fields name guest registers: 'a' the destination (or stored) register word,
 *   'r' the second field is a source register word, 'm' the second field's low 16 bits are a
 *   base register word (memory operand), 'M' field a's bits 8+ are an address descriptor
 *   (eaDesc: base and index registers) and its low 8 bits the register word; immediates and
 *   offsets are not listed;
 * - flagsR / flagsW: the arithmetic flags read and written (RFLAGS bits);
 * - fault: may raise an exception; ends: always the last instruction of a block (sets RIP);
 * - mem: touches guest memory; stack: uses RSP and the stack segment;
 * - writesDst: the 'a' register is written; gen: GEN_* bits for the JIT.
 */
export interface FastInfo {
  readonly name: string;
  readonly fields: string;
  readonly flagsR: number;
  readonly flagsW: number;
  readonly fault: boolean;
  readonly ends: boolean;
  readonly mem: boolean;
  readonly stack: boolean;
  readonly writesDst: boolean;
  readonly gen: number;
}

const ALU = (name: string, fields: string, writesDst = true): FastInfo =>
  ({ name, fields, flagsR: 0, flagsW: ALL, fault: false, ends: false, mem: false, stack: false, writesDst, gen: GEN_EXACT | GEN_NOFLAGS });
const MOVE = (name: string, fields: string): FastInfo =>
  ({ name, fields, flagsR: 0, flagsW: 0, fault: false, ends: false, mem: false, stack: false, writesDst: true, gen: GEN_EXACT });
const MEM = (name: string, load: boolean): FastInfo =>
  ({ name, fields: 'am', flagsR: 0, flagsW: 0, fault: true, ends: false, mem: true, stack: false, writesDst: load, gen: GEN_EXACT });
const BRANCH = (name: string, flagsR: number, stack: boolean, fields = ''): FastInfo =>
  ({ name, fields, flagsR, flagsW: 0, fault: stack, ends: true, mem: stack, stack, writesDst: false, gen: GEN_EXACT });
const STACK = (name: string, pop: boolean): FastInfo =>
  ({ name, fields: 'a', flagsR: 0, flagsW: 0, fault: true, ends: false, mem: true, stack: true, writesDst: pop, gen: GEN_EXACT });
/** A general memory form (field 'M'): `reg` whether a's low bits name a register, `load` whether it writes it. */
const GMEM = (name: string, reg: boolean, load: boolean, mem = true): FastInfo =>
  ({ name, fields: reg ? 'aM' : 'M', flagsR: 0, flagsW: 0, fault: mem, ends: false, mem, stack: false, writesDst: load, gen: GEN_EXACT });
/** ALU with a memory operand: `reg` whether a's low byte names a register, `dst` whether it is the destination. */
const ALUMEM = (name: string, reg: boolean, dst: boolean): FastInfo =>
  ({ name, fields: reg ? 'aM' : 'M', flagsR: 0, flagsW: ALL, fault: true, ends: false, mem: true, stack: false, writesDst: dst, gen: GEN_EXACT });
const INCDEC = (name: string): FastInfo =>
  ({ name, fields: 'a', flagsR: CF, flagsW: ALL & ~CF, fault: false, ends: false, mem: false, stack: false, writesDst: true, gen: GEN_EXACT | GEN_NOFLAGS });

/** Indexed by id (FAST_NONE and the NO_FLAGS variants excluded: a variant is described by its base id). */
export const FAST_INFO: readonly FastInfo[] = (() => {
  const t: FastInfo[] = [];
  const put = (id: number, info: FastInfo): void => { t[id] = info; };
  put(Fast.ADD_RR32, ALU('add r32,r32', 'ar')); put(Fast.OR_RR32, ALU('or r32,r32', 'ar')); put(Fast.AND_RR32, ALU('and r32,r32', 'ar'));
  put(Fast.SUB_RR32, ALU('sub r32,r32', 'ar')); put(Fast.XOR_RR32, ALU('xor r32,r32', 'ar'));
  put(Fast.CMP_RR32, ALU('cmp r32,r32', 'ar', false)); put(Fast.TEST_RR32, ALU('test r32,r32', 'ar', false));
  put(Fast.ADD_RI32, ALU('add r32,imm', 'a')); put(Fast.OR_RI32, ALU('or r32,imm', 'a')); put(Fast.AND_RI32, ALU('and r32,imm', 'a'));
  put(Fast.SUB_RI32, ALU('sub r32,imm', 'a')); put(Fast.XOR_RI32, ALU('xor r32,imm', 'a')); put(Fast.CMP_RI32, ALU('cmp r32,imm', 'a', false));
  put(Fast.ADD_RR64, ALU('add r64,r64', 'ar')); put(Fast.SUB_RR64, ALU('sub r64,r64', 'ar')); put(Fast.CMP_RR64, ALU('cmp r64,r64', 'ar', false));
  put(Fast.AND_RR64, ALU('and r64,r64', 'ar')); put(Fast.OR_RR64, ALU('or r64,r64', 'ar')); put(Fast.XOR_RR64, ALU('xor r64,r64', 'ar'));
  put(Fast.TEST_RR64, ALU('test r64,r64', 'ar', false));
  put(Fast.ADD_RI64, ALU('add r64,imm', 'a')); put(Fast.SUB_RI64, ALU('sub r64,imm', 'a')); put(Fast.CMP_RI64, ALU('cmp r64,imm', 'a', false));
  put(Fast.AND_RI64, ALU('and r64,imm', 'a')); put(Fast.OR_RI64, ALU('or r64,imm', 'a')); put(Fast.XOR_RI64, ALU('xor r64,imm', 'a'));
  put(Fast.INC32, INCDEC('inc r32')); put(Fast.DEC32, INCDEC('dec r32'));
  put(Fast.MOV_RR32, MOVE('mov r32,r32', 'ar')); put(Fast.MOV_RR64, MOVE('mov r64,r64', 'ar'));
  put(Fast.MOV_RI32, MOVE('mov r32,imm', 'a')); put(Fast.MOV_RI64, MOVE('mov r64,imm', 'a'));
  put(Fast.LOAD32, MEM('mov r32,[base+disp] (segmented)', true)); put(Fast.STORE32, MEM('mov [base+disp],r32 (segmented)', false));
  put(Fast.LOAD64_32, MEM('mov r32,[base+disp] (64-bit mode)', true)); put(Fast.STORE64_32, MEM('mov [base+disp],r32 (64-bit mode)', false));
  put(Fast.LOAD64, MEM('mov r64,[base+disp]', true)); put(Fast.STORE64, MEM('mov [base+disp],r64', false));
  put(Fast.LEA32, MOVE('lea r32,[base+disp]', 'ar'));
  put(Fast.JCC32, BRANCH('jcc rel', ALL, false)); put(Fast.JCC64, BRANCH('jcc rel (64-bit)', ALL, false));
  put(Fast.JMP32, BRANCH('jmp rel', 0, false)); put(Fast.JMP64, BRANCH('jmp rel (64-bit)', 0, false));
  put(Fast.CALL32, BRANCH('call rel', 0, true)); put(Fast.CALL64, BRANCH('call rel (64-bit)', 0, true));
  put(Fast.RET32, BRANCH('ret', 0, true)); put(Fast.RET64, BRANCH('ret (64-bit)', 0, true));
  put(Fast.PUSH32, STACK('push r32', false)); put(Fast.POP32, STACK('pop r32', true));
  put(Fast.PUSH64, STACK('push r64', false)); put(Fast.POP64, STACK('pop r64', true));
  put(Fast.SHL_RI32, ALU('shl r32,imm', 'a')); put(Fast.SHR_RI32, ALU('shr r32,imm', 'a')); put(Fast.SAR_RI32, ALU('sar r32,imm', 'a'));
  put(Fast.SHL_RI64, ALU('shl r64,imm', 'a')); put(Fast.SHR_RI64, ALU('shr r64,imm', 'a')); put(Fast.SAR_RI64, ALU('sar r64,imm', 'a'));
  put(Fast.INC64, INCDEC('inc r64')); put(Fast.DEC64, INCDEC('dec r64'));
  put(Fast.LOADZX8_32, MEM('movzx r32,byte [base+disp] (segmented)', true)); put(Fast.LOADZX8_64, MEM('movzx r32,byte [base+disp] (64-bit mode)', true));
  put(Fast.MOVSXD_RR, MOVE('movsxd r64,r32', 'ar'));
  put(Fast.LEA_M32, GMEM('lea r32,[m]', true, true, false)); put(Fast.LEA_M64, GMEM('lea r64,[m]', true, true, false));
  put(Fast.LOAD_M, GMEM('mov/movzx/movsx/movsxd r,[m]', true, true)); put(Fast.STORE_M, GMEM('mov [m],r', true, false));
  put(Fast.STORE_MI, GMEM('mov [m],imm', false, false));
  put(Fast.ALU_RM, ALUMEM('alu r,[m]', true, true)); put(Fast.ALU_MR, ALUMEM('alu [m],r', true, false)); put(Fast.ALU_MI, ALUMEM('alu [m],imm', false, false));
  put(Fast.ALU_RR8, ALU('alu r8,r8', 'ar')); put(Fast.ALU_RI8, ALU('alu r8,imm', 'a'));
  put(Fast.CMOV32, { ...MOVE('cmovcc r32,r32', 'ar'), flagsR: ALL }); put(Fast.CMOV64, { ...MOVE('cmovcc r64,r64', 'ar'), flagsR: ALL });
  put(Fast.SETCC_R8, { ...MOVE('setcc r8', 'a'), flagsR: ALL });
  put(Fast.NOT32, MOVE('not r32', 'a')); put(Fast.NOT64, MOVE('not r64', 'a'));
  put(Fast.NOP, { name: 'nop', fields: '', flagsR: 0, flagsW: 0, fault: false, ends: false, mem: false, stack: false, writesDst: false, gen: GEN_EXACT });
  for (let id = 1; id < Fast.FAST_COUNT; id++) if (t[id] === undefined) throw new Error(`cpu/fastops.ts: fast op ${id} is not described`);
  return t;
})();

/** Whether id (a base id or its NO_FLAGS variant) exists. */
export function isFastOp(id: number): boolean {
  if (id > 0 && id < Fast.FAST_COUNT) return true;
  const base = id - Fast.NO_FLAGS;
  return base > 0 && base < Fast.FAST_COUNT && FAST_INFO[base].flagsW !== 0;
}

/**
 * Rewrite `code` (stride 4) in place: an op that writes flags nothing reads before they are
 * overwritten (and before anything that could fault, end the block, or run a closure) gets its
 * Fast.NO_FLAGS variant. INC/DEC write all flags but CF, which they read: dead afterwards, they
 * need neither. Flags are conservatively live at the block's end.
 */
export function elideDeadFlags(code: Int32Array, n: number): void {
  let live = true;
  for (let i = n - 1; i >= 0; i--) {
    const id = code[i << 2];
    const info = id === Fast.FAST_NONE ? undefined : FAST_INFO[id];
    if (info === undefined) { live = true; continue; }
    if (info.flagsW === ALL && info.flagsR === 0 && !info.fault) {
      if (!live) code[i << 2] = id + Fast.NO_FLAGS;
      live = false;
    } else if (info.flagsW !== 0 && (info.flagsW & CF) === 0) {
      if (!live) code[i << 2] = id + Fast.NO_FLAGS;
    } else if (info.flagsR !== 0 || info.flagsW !== 0 || info.fault || info.ends) live = true;
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
