// `emu --lockstep=kvm,interp`: two boards booted from the same image, one on
// KVM and one on the other backend, each with its own memory and devices,
// stepped together by the lockstep oracle. Time is derived from instructions
// (deterministic clocks), so both boards' timers fire at the same instruction.

import type { BackendName } from '../cpu/backend.js';
import { KvmBackend } from '../accel-kvm/kvm-backend.js';
import type { Machine } from './machine.js';
import { runLockstep, type LockstepOptions, type LockstepResult } from './lockstep.js';

export class LockstepUsageError extends Error {}

/** Check a --lockstep pair: one side must be kvm. Returns [kvm, other]. */
export function lockstepPair(pair: readonly [BackendName, BackendName]): [BackendName, BackendName] {
  if (pair[0] === pair[1]) throw new LockstepUsageError('--lockstep needs two different backends, e.g. --lockstep=kvm,interp');
  if (pair[0] !== 'kvm' && pair[1] !== 'kvm') {
    throw new LockstepUsageError(`--lockstep=${pair.join(',')}: one side must be kvm (the reference CPU), e.g. --lockstep=kvm,interp`);
  }
  return pair[0] === 'kvm' ? ['kvm', pair[1]] : ['kvm', pair[0]];
}

/**
 * Step two booted machines in lockstep: `kvm` (whose backend is the KVM backend,
 * irqchip 'user') against `other`. Both must have been created with
 * deterministic: true and booted with the same recipe. Prints nothing; the
 * result's divergence.report is the text to show.
 */
export function runMachineLockstep(kvm: Machine, other: Machine, opts: LockstepOptions = {}): LockstepResult {
  if (!(kvm.backend instanceof KvmBackend)) throw new LockstepUsageError('--lockstep: the first machine must run on kvm');
  if (kvm.backend.irqchip !== 'user') throw new LockstepUsageError('--lockstep needs --irqchip=user (the in-kernel irqchip has no TypeScript twin to compare with)');
  return runLockstep({ backend: kvm.backend, memory: kvm.memory }, { backend: other.backend, memory: other.memory }, {
    ...opts,
    beforeStep: () => {
      kvm.timers.run();
      other.timers.run();
      opts.beforeStep?.();
    },
  });
}
