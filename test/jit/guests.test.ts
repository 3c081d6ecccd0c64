// The guest-level tests whose backend comes from EMU_TEST_ACCEL, run again under the jit
// in `npm test` (every block compiled on its first dispatch where the rig builds the
// backend): the flat 64-bit system guests (system-windows.S, system-probes.S), real-mode
// self-modifying code through several CS bases (system-smc16.S), the self-modifying-code
// cases, and the x87/SSE guest programs compared with the host. The other guest tests
// run both backends in their own files (tinyos, the multiboot and real-mode system guests,
// the IRQ13 guest, the Linux boot); `npm run test:jit` runs all of test/cpu and test/fpu
// under jit.

import { afterAll, describe, expect, it, vi } from 'vitest';
import { JitBackend } from '../../cpu/jit/backend.js';

// The rigs read the variable at import (test/cpu/harness.ts, system-smc16) or when they build
// a backend (guest64-rig.ts): set it before the imports, drop it after this file's tests.
vi.stubEnv('EMU_TEST_ACCEL', 'jit');
afterAll(() => { vi.unstubAllEnvs(); });

await import('../cpu/system-windows.test.js');
await import('../cpu/system-probes.test.js');
await import('../cpu/system-smc16.test.js');
await import('../cpu/smc.test.js');
await import('../fpu/program.test.js');

const { Rig } = await import('../cpu/harness.js');
describe('this file runs them under jit', () => {
  it('the rig builds jit backends, and the variable the other rigs read says jit while the tests run', () => {
    expect(new Rig(32).backend).toBeInstanceOf(JitBackend);
    expect(process.env.EMU_TEST_ACCEL).toBe('jit');
  });
});
