// One decoded instruction (Insn) and the opcode-table row it was decoded by (OpRow), with the
// builder that turns the pair into an executor. They name each other, so they live together,
// below both the decoder (which fills an Insn) and the table (which holds the rows).

import type { Exec } from './cpu.js';
import { DS, SS } from './state.js';

/**
 * Builds the executor for one decoded instruction (called once, at decode time).
 * The decoder reuses one Insn: copy every field the executor needs into locals
 * here; an executor must never read `d` when it runs.
 */
export type Builder = (d: Insn) => Exec;

export interface OpRow {
  map: number;
  op: number;
  /** ModRM.reg for group opcodes; -1 = any. */
  reg: number;
  /** Restrict by ModRM.mod: 0 any, 1 memory only, 2 register only. */
  mod: number;
  /** ModRM.rm (register form only, e.g. 0F 01 /7 variants); -1 = any. */
  rm: number;
  /** Mandatory prefix: -1 any, 0 none, 0x66, 0xf3, 0xf2 (SSE forms). */
  pfx: number;
  /** Mnemonic, Intel syntax; 'a|b|c' picks by operand size 16|32|64. */
  name: string;
  /** Operand specs (Intel manual appendix A style), e.g. ['Ev', 'Gv']. */
  operands: string[];
  build: Builder;
  /** F_* row flags (cpu/table.ts): block ends, operand-size and mode rules, LOCK, memory and string facts. */
  flags: number;
  /** What control transfer it is (K_*, cpu/table.ts); K_NONE for the rest. */
  kind: number;
  /** What it leaves undefined (U_* rules and RFLAGS bits, cpu/table.ts), for the lockstep oracle. */
  undef: number;
}

/** One decoded instruction. Reused by the decoder; builders copy what they keep. */
export class Insn {
  row!: OpRow;
  map = 0;
  op = 0;
  /** Offset of the first byte from the stream start (the block's start RIP), and length. */
  start = 0;
  len = 0;
  /** Operand size in bytes (1 for byte forms is decided by the row's operands, not here): 2, 4 or 8. */
  opSize = 4;
  /** Address size in bytes: 2, 4 or 8. */
  addrSize = 4;
  /** Code size of the mode it was decoded in (2, 4, 8); 8 = 64-bit mode. */
  codeSize = 4;
  /** Segment override (ES..GS) or -1. */
  segOverride = -1;
  /** 0, 0xf3 (REP/REPE) or 0xf2 (REPNE). */
  rep = 0;
  lock = false;
  /** Had a 66 prefix. */
  p66 = false;
  /** The REX byte (0 if none). */
  rex = 0;
  /** Mandatory-prefix value used for row selection (0, 0x66, 0xf3, 0xf2). */
  mpfx = 0;
  hasModrm = false;
  mod = 0;
  /** ModRM.reg with REX.R, ModRM.rm with REX.B (for register forms). */
  reg = 0;
  rm = 0;
  /** The raw 3-bit fields. */
  regRaw = 0;
  rmRaw = 0;
  /** Memory operand: base/index GPR numbers (-1 = none), scale as a shift, displacement. */
  base = -1;
  index = -1;
  scale = 0;
  disp = 0;
  ripRel = false;
  /** Immediates: imm (low 32 bits, sign- or zero-extended per spec), immHi (high half of a 64-bit one), imm2 (second immediate). */
  imm = 0;
  immHi = 0;
  imm2 = 0;
  /** The instruction's linear address (for the disassembler's branch targets). */
  ripLo = 0;
  ripHi = 0;
  /** A fast op chosen by the builder (cpu/fastops.ts), with its fields; 0 = the builder returned a closure. */
  fastId = 0;
  f1 = 0;
  f2 = 0;
  f3 = 0;

  /** End offset from the stream start: what RIP-relative and branch targets add to the block's RIP. */
  get end(): number { return this.start + this.len; }
  get isMem(): boolean { return this.mod !== 3; }
  get mode64(): boolean { return this.codeSize === 8; }
  /** The segment a memory operand uses: override, else SS for BP/SP-based addresses, else DS. */
  get seg(): number {
    if (this.segOverride >= 0) return this.segOverride;
    return this.base === 4 || this.base === 5 ? SS : DS;
  }
}
