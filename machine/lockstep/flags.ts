// What an instruction leaves architecturally undefined, for the lockstep
// oracle: the RFLAGS bits (and, for BSF/BSR with a zero source, the
// destination register) two correct CPUs may disagree on. The facts are the
// instruction's row's (OpRow.undef, cpu/table.ts U_*); this file decodes the
// bytes with the CPU's own decoder, and cpu/facts.ts's undefinedAfter applies
// the rules that depend on the operands (shift counts, a zero source).

import { fullTable } from '../../cpu/compose.js';
import { decode, Insn } from '../../cpu/decoder.js';
import { CpuFault } from '../../cpu/fault.js';
import { NOTHING_UNDEFINED, undefinedAfter, type Undefined } from '../../cpu/facts.js';
import type { OpTable } from '../../cpu/table.js';

export type { Undefined };

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
    if (e instanceof CpuFault) return NOTHING_UNDEFINED;
    throw e;
  }
  return undefinedAfter(d, cl);
}
