// Backends for the random-program oracle by name, made on a bare host (no board).

import type { BackendName } from '../../contracts/backend.js';
import { createInterpreter, createJit } from '../../cpu/full.js';
import type { MakeBackend } from './pair-random.js';

/**
 * The JIT as the random programs need it: every block is compiled on its second dispatch, alone
 * (`all`: also those it would decline as not worth it),
 * so the third pass over a program (GenOptions.repeat) runs translated code.
 */
export const eagerJit: MakeBackend = (host) => createJit(host, { threshold: 2, batch: 1, all: true });

/** A maker for backend `name` on a bare host, or the one line that says why there is none. */
export function bareMaker(name: BackendName): MakeBackend | string {
  if (name === 'interp') return createInterpreter;
  if (name === 'jit') return eagerJit;
  return `${name}: the random-program oracle runs in-process backends only (interp, jit); KVM has bench/kvm-lockstep-run.mjs`;
}
