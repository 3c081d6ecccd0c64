// What the interpreter composes in from cpu-system: the system opcode rows and
// installSystem (page walker, event delivery, segment loads, I/O permission).
//   new InterpBackend(host, [SYSTEM_EXTENSION, ...])

import type { CpuExtension } from '../interp.js';
import { installSystem } from './index.js';
import { exportTsc, readTsc } from './msr.js';
import { SYSTEM_ROWS } from './rows.js';

export const SYSTEM_EXTENSION: CpuExtension = {
  rows: SYSTEM_ROWS,
  install(c) { installSystem(c); },
  beforeExport: exportTsc,
  afterImport: (c) => { readTsc(c); },
};
