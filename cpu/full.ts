// The complete interpreter: the integer core with every extension composed in
// (system architecture, then x87/MMX/SSE). Hosts, tests and benchmarks that
// want "the interp backend" make it here, so none of them forgets a part.

import type { CpuHost } from './backend.js';
import { FPU_EXTENSION } from './fpu/extension.js';
import { InterpBackend } from './interp.js';
import { JitBackend, type JitOptions } from './jit/backend.js';
import { SYSTEM_EXTENSION } from './system/extension.js';

export function createInterpreter(host: CpuHost): InterpBackend {
  return new InterpBackend(host, [SYSTEM_EXTENSION, FPU_EXTENSION]);
}

/** The jit backend: the same interpreter (every extension) with hot blocks compiled to wasm. */
export function createJit(host: CpuHost, options?: JitOptions): JitBackend {
  return new JitBackend(host, [SYSTEM_EXTENSION, FPU_EXTENSION], options);
}
