// The complete interpreter: the integer core with every extension composed in
// (system architecture, then x87/MMX/SSE). Hosts, tests and benchmarks that
// want "the interp backend" make it here, so none of them forgets a part.

import type { CpuHost } from '../contracts/backend.js';
import { FPU_EXTENSION } from './fpu/extension.js';
import { InterpBackend, type CpuExtension } from './interp.js';
import { JitBackend, type JitOptions } from './jit/backend.js';
import { SYSTEM_EXTENSION } from './system/extension.js';

/** Every extension, in precedence order: the table they compose is compose.ts fullTable(). */
export const FULL_EXTENSIONS: readonly CpuExtension[] = [SYSTEM_EXTENSION, FPU_EXTENSION];

export function createInterpreter(host: CpuHost): InterpBackend {
  return new InterpBackend(host, [...FULL_EXTENSIONS]);
}

/** The jit backend: the same interpreter (every extension) with hot blocks compiled to wasm. */
export function createJit(host: CpuHost, options?: JitOptions): JitBackend {
  return new JitBackend(host, [...FULL_EXTENSIONS], options);
}
