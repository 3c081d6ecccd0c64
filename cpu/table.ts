// The opcode table: every instruction form is one row (encoding, Intel-syntax
// mnemonic and operands, builder, flags). The decoder, the interpreter's
// dispatch (the builder returns a specialised executor) and the disassembler
// (mnemonic + operand spec) are all derived from the rows. Rows come from
// several files (integer ISA here in cpu/, system rows from cpu/system/, x87/SSE
// from cpu/fpu/ and cpu/sse/) and are merged by composeTable().

import type { Builder, OpRow } from './insn.js';
import { FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF } from './state.js';

export type { Builder, OpRow };

/** Opcode maps. */
export const MAP_1B = 0, MAP_0F = 1, MAP_0F38 = 2, MAP_0F3A = 3;

// Row flags.
/** Ends a basic block (control transfer, mode/flags change the block loop must see). */
export const F_TERM = 1 << 0;
/** Operand size defaults to 64 bits in 64-bit mode (near branches, PUSH/POP); 66 gives 16. */
export const F_D64 = 1 << 1;
/** Operand size is always 64 bits in 64-bit mode (near JMP/CALL/RET/Jcc ignore 66 on Intel). */
export const F_F64 = 1 << 2;
/** Invalid (#UD) in 64-bit mode. */
export const F_I64 = 1 << 3;
/** Valid only in 64-bit mode. */
export const F_O64 = 1 << 4;
/** LOCK prefix allowed (with a memory destination). */
export const F_LOCK = 1 << 5;
/** The instruction reads or writes RIP-dependent state and must not be merged (e.g. needs exact RIP). */
export const F_BYTEOP = 1 << 6;
/** Executes as the last instruction of its block and re-enters the loop (HLT, POPF, MOV CR...). */
export const F_STOP = 1 << 7;
/**
 * May open an interrupt shadow over the next instruction (STI, MOV SS, POP SS): the block takes
 * that one more instruction and ends after it, where the window opens (Block.shadowTail).
 */
export const F_SHADOW = 1 << 8;
/** Its ModRM memory operand (the first operand, E or M) is only read, or not accessed at all (CMP, TEST, PUSH, JMP, LGDT, NOP...). */
export const F_READS = 1 << 9;
/** A string instruction a REP prefix repeats (MOVS, STOS, LODS, INS, OUTS, CMPS, SCAS). */
export const F_STRING = 1 << 10;
/** A string instruction REPE/REPNE end on ZF (CMPS, SCAS). */
export const F_STRING_COND = 1 << 11;

// Control-transfer kinds (OpRow.kind). Every F_TERM row has one and only they do.
export const K_NONE = 0;
/** Near branches with the target in the instruction: Jcc, JMP, CALL, and LOOP/LOOPcc/JCXZ. */
export const K_JCC = 1, K_JMP = 2, K_CALL = 3, K_LOOP = 4;
/** Near branches through a register or memory (JMP/CALL r/m), and near RET. */
export const K_JMP_IND = 5, K_CALL_IND = 6, K_RET = 7;
/** Far transfers (JMP/CALL far, RETF, IRET), software interrupts (INT n, INT3, INTO, INT1), SYSCALL/SYSRET/SYSENTER/SYSEXIT. */
export const K_FAR = 8, K_INT = 9, K_SYS = 10;

// What an instruction leaves undefined (OpRow.undef): the RFLAGS bits in U_FLAGS are undefined
// whenever it runs; the rules above them depend on its operands (cpu/facts.ts undefinedAfter applies
// them). Intel SDM Vol. 2, each instruction's "Flags Affected"; AMD APM Vol. 3 agrees on these.
export const U_FLAGS = 0xfff;
/** Shifts: a masked count of 0 changes nothing; else AF, and OF unless the count is 1. */
export const U_SHIFT = 1 << 12;
/** Rotates: a masked count of 0 changes nothing; else OF unless the count is 1. */
export const U_ROTATE = 1 << 13;
/** SHLD/SHRD: as a shift; a count above the operand size leaves the flags and a register destination undefined. */
export const U_SHIFTD = 1 << 14;
/** BSF/BSR: the destination register is undefined when the source is zero (ZF set). */
export const U_ZERO_SOURCE = 1 << 15;
/** GPRs whose result comes from the host, not the ISA (CPUID's model intersected with the host, RDTSC's clock): bit n = GPR n, shifted. */
export const U_HOST_SHIFT = 16;
export const U_HOST_RAX = 1 << U_HOST_SHIFT, U_HOST_RCX = 2 << U_HOST_SHIFT, U_HOST_RDX = 4 << U_HOST_SHIFT, U_HOST_RBX = 8 << U_HOST_SHIFT;
/** The six arithmetic flags; MUL/IMUL's SF ZF AF PF; BT*'s OF SF AF PF; BSF/BSR's all but ZF. */
export const U_ARITH = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF;
export const U_MUL = FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF;
export const U_BT = FLAG_OF | FLAG_SF | FLAG_AF | FLAG_PF;
export const U_BSF = FLAG_CF | FLAG_OF | FLAG_SF | FLAG_AF | FLAG_PF;

/** A row's facts beyond its flags: its control-transfer kind and what it leaves undefined. */
export interface RowFacts { kind?: number; undef?: number }

export const MOD_ANY = 0, MOD_MEM = 1, MOD_REG = 2;

/**
 * One row from a compact spec:
 *   code: '[np|p66|pf3|pf2] [0f [38|3a]] XX [/n] [m|r] [rm=N]'
 *   asm:  'mnemonic Op1,Op2'
 */
export function row(code: string, asm: string, build: Builder, flags = 0, facts: RowFacts = {}): OpRow {
  const t = code.trim().split(/\s+/);
  let pfx = -1, map = MAP_1B, reg = -1, mod = MOD_ANY, rm = -1, k = 0;
  const pf: Record<string, number> = { np: 0, p66: 0x66, pf3: 0xf3, pf2: 0xf2 };
  if (t[k] in pf) pfx = pf[t[k++]];
  if (t[k] === '0f') {
    k++;
    if (t[k] === '38' && t.length > k + 1 && /^[0-9a-f]{2}$/.test(t[k + 1])) { map = MAP_0F38; k++; }
    else if (t[k] === '3a' && t.length > k + 1 && /^[0-9a-f]{2}$/.test(t[k + 1])) { map = MAP_0F3A; k++; }
    else map = MAP_0F;
  }
  const op = parseInt(t[k++], 16);
  for (; k < t.length; k++) {
    const w = t[k];
    if (w[0] === '/') reg = parseInt(w.slice(1), 10);
    else if (w === 'm') mod = MOD_MEM;
    else if (w === 'r') mod = MOD_REG;
    else if (w.startsWith('rm=')) rm = parseInt(w.slice(3), 10);
    else throw new Error(`opcode spec '${code}': unknown token '${w}'`);
  }
  const sp = asm.indexOf(' ');
  const name = sp < 0 ? asm : asm.slice(0, sp);
  const operands = sp < 0 ? [] : asm.slice(sp + 1).split(',').map((s) => s.trim());
  return { map, op, reg, mod, rm, pfx, name, operands, build, flags, kind: facts.kind ?? K_NONE, undef: facts.undef ?? 0 };
}

/** Several rows for opcodes op..op+7 with the register in the low 3 bits (Zv-style forms). */
export function rowsPlusReg(code: string, asm: string, build: Builder, flags = 0, facts: RowFacts = {}): OpRow[] {
  const parts = code.trim().split(/\s+/);
  const base = parseInt(parts[parts.length - 1], 16);
  const out: OpRow[] = [];
  for (let i = 0; i < 8; i++) {
    parts[parts.length - 1] = (base + i).toString(16).padStart(2, '0');
    out.push(row(parts.join(' '), asm, build, flags, facts));
  }
  return out;
}

/** What the decoder looks up: rows per (map, opcode byte), most specific first. */
export interface OpTable {
  /** Index map * 256 + op -> candidate rows (undefined = no instruction). */
  readonly byOpcode: (OpRow[] | undefined)[];
  /** True where the opcode has a ModRM byte (any operand needing one, or a /n group). */
  readonly hasModrm: Uint8Array;
}

/**
 * True if an operand spec is encoded in ModRM (Ev, Gv, M, Mp, Rd, Sw, Cd, Dd,
 * Nq, Pq, Qq, Uo, Vx, Wx ...): a method letter, then a lowercase size letter.
 * Fixed registers such as DX, CL are not.
 */
export function usesModrm(o: string): boolean {
  return o === 'M' || /^[EGMRSCDNPQUVWH][a-z]/.test(o);
}

/** Merge row sets (integer, system, x87, SSE) into the decoder's lookup table. */
export function composeTable(...sets: OpRow[][]): OpTable {
  const byOpcode: (OpRow[] | undefined)[] = new Array(4 * 256).fill(undefined);
  const hasModrm = new Uint8Array(4 * 256);
  for (const set of sets) {
    for (const r of set) {
      if (((r.flags & F_TERM) !== 0) !== (r.kind !== K_NONE)) throw new Error(`row '${r.name}': F_TERM rows, and only they, have a control-transfer kind`);
      const key = r.map * 256 + r.op;
      (byOpcode[key] ??= []).push(r);
      if (r.reg >= 0 || r.mod !== MOD_ANY || r.operands.some(usesModrm)) hasModrm[key] = 1;
    }
  }
  // The 0F38/0F3A maps always have ModRM.
  for (let op = 0; op < 256; op++) { hasModrm[2 * 256 + op] = 1; hasModrm[3 * 256 + op] = 1; }
  // Most specific rows first, so the first match wins.
  const score = (r: OpRow): number => (r.pfx >= 0 ? 8 : 0) + (r.reg >= 0 ? 4 : 0) + (r.rm >= 0 ? 2 : 0) + (r.mod !== MOD_ANY ? 1 : 0);
  for (const list of byOpcode) list?.sort((a, b) => score(b) - score(a));
  return { byOpcode, hasModrm };
}

/**
 * Pick the row matching the decoded prefixes, ModRM and mode (undefined = #UD). A row
 * invalid in the current mode is passed over, so one opcode can mean different
 * instructions in and out of 64-bit mode (0x63: ARPL / MOVSXD).
 */
export function selectRow(list: OpRow[], pfx: number, mod: number, reg: number, rm: number, m64 = false): OpRow | undefined {
  const invalid = m64 ? F_I64 : F_O64;
  for (const r of list) {
    if ((r.flags & invalid) !== 0) continue;
    if (r.pfx >= 0 && r.pfx !== pfx) continue;
    if (r.reg >= 0 && r.reg !== reg) continue;
    if (r.mod === MOD_MEM && mod === 3) continue;
    if (r.mod === MOD_REG && mod !== 3) continue;
    if (r.rm >= 0 && r.rm !== rm) continue;
    return r;
  }
  return undefined;
}
