// The one composition of the opcode table. The interpreter (and so the JIT), the
// lockstep oracles' disassembler, benchmarks and tests all take their table from
// here: extension rows (system, then x87/MMX/SSE) over the integer rows, most
// specific row first (table.ts composeTable). The same row sets give the same
// table object, so backends built with the standard extensions share one table.

import { X87_ROWS } from './fpu/rows.js';
import { INTEGER_ROWS } from './opcodes.js';
import { SSE_ROWS } from './sse/rows.js';
import { SYSTEM_ROWS } from './system/rows.js';
import { composeTable, type OpRow, type OpTable } from './table.js';

/** The floating-point and SIMD rows: x87, MMX, SSE..SSE4.2 and the state-management rows. */
export const FPU_ROWS: OpRow[] = [...X87_ROWS, ...SSE_ROWS];

/** Tables composed so far, keyed by their row sets (compared element by element, by identity). */
const composed: { sets: readonly OpRow[][]; table: OpTable }[] = [];

/** The table of `sets` (each taking precedence over the ones after it) over the integer rows. */
export function composeRows(sets: readonly OpRow[][]): OpTable {
  for (const c of composed) {
    if (c.sets.length === sets.length && c.sets.every((s, i) => s === sets[i])) return c.table;
  }
  const table = composeTable(...sets, INTEGER_ROWS);
  composed.push({ sets: [...sets], table });
  return table;
}

/** The complete table: system rows, x87/SSE rows, integer rows (what createInterpreter and createJit run). */
export function fullTable(): OpTable {
  return composeRows([SYSTEM_ROWS, FPU_ROWS]);
}
