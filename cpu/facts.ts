// What the instruction table says about one instruction, read in one way by everyone who asks:
// the interpreter's block builder (cpu/blocks.ts), the operand builders (cpu/operands.ts), the
// JIT (cpu/jit/region.ts, codegen) and the lockstep oracle (machine/lockstep/flags.ts). Each fact
// is its row's (cpu/table.ts: F_* flags, kind, undef); where the rule depends on the decoded
// operands (a REP prefix, a shift count, a register source) the accessor takes the Insn.

import type { Insn, OpRow } from './insn.js';
import {
  F_READS, F_STRING, F_STRING_COND, F_TERM,
  U_ARITH, U_FLAGS, U_HOST_SHIFT, U_ROTATE, U_SHIFT, U_SHIFTD, U_ZERO_SOURCE,
} from './table.js';
import { FLAG_AF, FLAG_OF } from './state.js';

/** The control transfer a row is (cpu/table.ts K_*): K_NONE unless it ends a block as a branch (F_TERM). */
export const branchKind = (row: OpRow): number => row.kind;

/** Whether the row transfers control (it ends its block and sets RIP itself). */
export const isBranch = (row: OpRow): boolean => (row.flags & F_TERM) !== 0;

export const REP_COND = 0x10, REP_E = 0x20;

/**
 * The REP shape of d: 0 unless it is a string instruction (row F_STRING) with a REP prefix; else
 * its address size (2, 4, 8) | REP_COND for CMPS/SCAS (F_STRING_COND) | REP_E for the F3 prefix.
 */
export function repShape(d: Insn): number {
  const f = d.row.flags;
  if (d.rep === 0 || (f & F_STRING) === 0) return 0;
  return d.addrSize | ((f & F_STRING_COND) !== 0 ? REP_COND : 0) | (d.rep === 0xf3 ? REP_E : 0);
}

/**
 * Whether d's ModRM memory operand is written (a store or read-modify-write: checked against the
 * segment's write bound, SDM 5.5): the first operand is E/M (Ev, Mb..., not ES) and the row is not F_READS (CMP, TEST,
 * PUSH, JMP, LGDT, NOP... only read it or do not access it). Rows whose operands name no memory
 * destination (x87, SSE) pass it to eaFn themselves.
 */
export function memOperandWrites(d: Insn): boolean {
  const o = d.row.operands[0];
  return o !== undefined && (o[0] === 'E' || o[0] === 'M') && (o.length === 1 || o[1] >= 'a') && (d.row.flags & F_READS) === 0;
}

/** What an instruction leaves architecturally undefined: what two correct CPUs may disagree on after it. */
export interface Undefined {
  /** RFLAGS bits whose value is undefined after the instruction. */
  flags: number;
  /** A GPR (0-15) whose value is undefined when the source was zero (BSF/BSR), or -1. */
  gprIfZeroSource: number;
  /** Everything about the destination and flags is undefined (SHLD/SHRD with count > operand size): that GPR, or -1. */
  gprAlways: number;
  /** Bit mask of GPRs whose result depends on the host, not the ISA: CPUID (the model is
   *  intersected with the host's), RDTSC/RDTSCP (the host's clock). */
  hostGprs: number;
}

export const NOTHING_UNDEFINED: Readonly<Undefined> = { flags: 0, gprIfZeroSource: -1, gprAlways: -1, hostGprs: 0 };

/**
 * What decoded instruction d leaves undefined (its row's undef, cpu/table.ts U_*), with the rules
 * that depend on its operands applied: `cl` is CL before it (a shift count).
 */
export function undefinedAfter(d: Insn, cl: number): Readonly<Undefined> {
  const u = d.row.undef;
  if (u === 0) return NOTHING_UNDEFINED;
  let flags = u & U_FLAGS, gprIfZeroSource = -1, gprAlways = -1;
  if ((u & (U_SHIFT | U_ROTATE | U_SHIFTD)) !== 0) {
    const last = d.row.operands[d.row.operands.length - 1];
    const count = (last === 'CL' ? cl : last === '1' ? 1 : d.imm) & (d.opSize === 8 ? 0x3f : 0x1f);
    if (count === 0) return NOTHING_UNDEFINED; // nothing changes
    if ((u & U_SHIFTD) !== 0 && count > d.opSize * 8) {
      flags |= U_ARITH;
      if (!d.isMem) gprAlways = d.rm;
    } else {
      flags |= (count === 1 ? 0 : FLAG_OF) | ((u & U_ROTATE) !== 0 ? 0 : FLAG_AF);
    }
  }
  if ((u & U_ZERO_SOURCE) !== 0) gprIfZeroSource = d.reg;
  return { flags, gprIfZeroSource, gprAlways, hostGprs: (u >>> U_HOST_SHIFT) & 0xffff };
}
