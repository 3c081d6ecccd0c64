// What the interpreter composes in for floating point and SIMD: x87, MMX, SSE..SSE4.2 and
// the state-management rows.   new InterpBackend(host, [SYSTEM_EXTENSION, FPU_EXTENSION])

import type { CpuExtension } from '../interp.js';
import { FPU_ROWS } from '../compose.js';

export const FPU_EXTENSION: CpuExtension = { rows: FPU_ROWS };
