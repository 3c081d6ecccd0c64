// The integer instruction set's rows, in one list: what cpu-exec contributes to
// the composed opcode table (cpu/table.ts composeTable). System, x87 and SSE
// rows come from their own areas as CpuExtension.rows (cpu/interp.ts).

import { ALU_ROWS } from './ops-alu.js';
import { CTL_ROWS } from './ops-ctl.js';
import { IO_ROWS } from './ops-io.js';
import { BIT_ROWS } from './ops-bit.js';
import { LEGACY_ROWS } from './ops-legacy.js';
import { MOV_ROWS } from './ops-mov.js';
import { MULDIV_ROWS } from './ops-muldiv.js';
import { SHIFT_ROWS } from './ops-shift.js';
import { STRING_ROWS } from './ops-string.js';
import type { OpRow } from './table.js';

export const INTEGER_ROWS: OpRow[] = [
  ...ALU_ROWS,
  ...CTL_ROWS,
  ...MOV_ROWS,
  ...IO_ROWS,
  ...MULDIV_ROWS,
  ...SHIFT_ROWS,
  ...STRING_ROWS,
  ...BIT_ROWS,
  ...LEGACY_ROWS,
];
