// Backends for the random-program oracle by name, made on a bare host (no board).

import type { BackendName } from '../../cpu/backend.js';
import { createInterpreter } from '../../cpu/full.js';
import { createBackend, unavailableReason } from '../../machine/backends.js';
import type { Machine } from '../../machine/machine.js';
import type { MakeBackend } from './pair-random.js';

/**
 * A maker for backend `name` on a bare host, or the one line that says why there is none.
 * The registry's factories take a board; a bare host lends them only its CpuHost and the
 * options a factory reads (a factory that needs the bus or devices fails here, loudly).
 */
export function bareMaker(name: BackendName): MakeBackend | string {
  if (name === 'interp') return createInterpreter;
  const why = unavailableReason(name);
  if (why) return why;
  return (host) => createBackend(name, { host, options: { memory: host.memory.ramSize, accel: name } } as unknown as Machine);
}
