// What an instruction leaves architecturally undefined, for the lockstep
// oracle: the RFLAGS bits (and, for BSF/BSR with a zero source, the
// destination register) two correct CPUs may disagree on. The facts are the
// instruction's row's (OpRow.undef, cpu/table.ts U_*); this file decodes the
// bytes with the CPU's own decoder and applies the rules that depend on the
// operands (shift counts, a zero source).

import { fullTable } from '../../cpu/compose.js';
import { decode, Insn } from '../../cpu/decoder.js';
import { CpuFault } from '../../cpu/fault.js';
import {
  U_ARITH, U_FLAGS, U_HOST_SHIFT, U_ROTATE, U_SHIFT, U_SHIFTD, U_ZERO_SOURCE, type OpTable,
} from '../../cpu/table.js';
import { FLAG_AF, FLAG_OF } from '../../cpu/state.js';

export interface Undefined {
  /** RFLAGS bits whose value is undefined after the instruction. */
  flags: number;
  /** A GPR (0-15) whose value is undefined when the source was zero (BSF/BSR), or -1. */
  gprIfZeroSource: number;
  /** Everything about the destination and flags is undefined (SHLD/SHRD with count > operand size). */
  gprAlways: number;
  /** Bit mask of GPRs whose result depends on the host, not the ISA: CPUID (the model is
   *  intersected with the host's), RDTSC/RDTSCP (the host's clock). */
  hostGprs: number;
}

const NONE: Undefined = { flags: 0, gprIfZeroSource: -1, gprAlways: -1, hostGprs: 0 };

let table: OpTable | null = null;
const insn = new Insn();

/**
 * Classify the instruction at the start of `code` (at least 15 bytes) executed
 * in a mode with `codeSize` 2, 4 or 8 bytes. `cl` is the CL register before the
 * instruction (for shift counts). Bytes that decode to no instruction (#UD) leave nothing undefined.
 */
export function undefinedBy(code: Uint8Array, codeSize: 2 | 4 | 8, cl: number): Undefined {
  const d = insn;
  try {
    decode(table ??= fullTable(), (off) => code[off] ?? 0, 0, codeSize, d);
  } catch (e) {
    if (e instanceof CpuFault) return NONE;
    throw e;
  }
  const u = d.row.undef;
  if (u === 0) return NONE;
  let flags = u & U_FLAGS, gprIfZeroSource = -1, gprAlways = -1;
  if ((u & (U_SHIFT | U_ROTATE | U_SHIFTD)) !== 0) {
    const last = d.row.operands[d.row.operands.length - 1];
    const count = (last === 'CL' ? cl : last === '1' ? 1 : d.imm) & (d.opSize === 8 ? 0x3f : 0x1f);
    if (count === 0) return NONE; // nothing changes
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
