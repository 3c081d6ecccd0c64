// The interpreter against KVM, instruction by instruction, over random
// integer programs (the oracle's purpose). bench/kvm-lockstep-run.mjs runs the
// same check at 100,000 instructions per mode.

import { describe, expect, it } from 'vitest';
import { lockstepRandom } from '../../bench/kvm-lockstep.js';
import { kvmSkipReason } from './rig.js';

/** Instructions per mode here: enough for every generator form many times, short enough for the suite. */
const PER_MODE = Number(process.env.LOCKSTEP_PER_MODE ?? 2000);

describe.skipIf(kvmSkipReason !== null)('interpreter vs KVM in lockstep', () => {
  for (const mode of [16, 32, 64] as const) {
    it(`${mode}-bit random programs: no divergence in ${PER_MODE} instructions`, () => {
      const r = lockstepRandom(mode, PER_MODE, 300);
      for (const d of r.divergences) console.log(d.report);
      expect(r.divergences).toEqual([]);
      expect(r.instructions).toBeGreaterThanOrEqual(PER_MODE);
    });
  }
  // STI, CLI, POPF and MOV SS / POP SS mixed in: the interrupt shadows they leave (INT_SHADOW) and
  // the single steps a MOV SS suppresses are compared at every step (issue 19). No interrupt
  // source is armed: nothing is pending, so IF=1 windows deliver nothing on either side.
  for (const mode of [16, 32, 64] as const) {
    it(`${mode}-bit random programs with STI/CLI/POPF/MOV SS: no divergence in ${PER_MODE} instructions`, () => {
      const r = lockstepRandom(mode, PER_MODE, 300, 1, undefined, 2, true);
      for (const d of r.divergences) console.log(d.report);
      expect(r.divergences).toEqual([]);
      expect(r.instructions).toBeGreaterThanOrEqual(PER_MODE);
    });
  }
});
