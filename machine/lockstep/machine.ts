// `emu --lockstep=kvm,interp`: two boards booted from the same image, one on
// KVM and one on the other backend, each with its own memory and devices,
// stepped together by the lockstep oracle. Time is derived from instructions
// (deterministic clocks), so both boards' timers fire at the same instruction.

import { KvmBackend } from '../../accel-kvm/kvm-backend.js';
import type { Machine } from '../machine.js';
import { serviceBoards, sleepBoards } from './service.js';
import { runLockstep, type LockstepOptions, type LockstepResult } from './kvm.js';

export class LockstepUsageError extends Error {}

/** Fold one run's result into a running total (the last run decides how it ended). */
export function addRun(total: LockstepResult, r: LockstepResult): void {
  total.steps += r.steps;
  total.undefinedSynced += r.undefinedSynced;
  total.lateTraps += r.lateTraps;
  total.tfRepairs += r.tfRepairs;
  total.end = r.end;
  total.divergence = r.divergence;
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
  const maxSteps = opts.maxSteps ?? 1e6;
  const total: LockstepResult = { steps: 0, end: 'max-steps', divergence: null, undefinedSynced: 0, lateTraps: 0, tfRepairs: 0 };
  for (let first = true; ; first = false) {
    const r = runLockstep({ backend: kvm.backend, memory: kvm.memory }, { backend: other.backend, memory: other.memory }, {
      ...opts,
      continuing: first && opts.continuing,
      maxSteps: maxSteps - total.steps,
      beforeStep: () => {
        const stop = serviceBoards(kvm, other);
        if (stop) return stop;
        return opts.beforeStep?.();
      },
    });
    addRun(total, r);
    if (r.end !== 'halt' || total.steps >= maxSteps) return total;
    // Both halted: sleep to the next timer on both boards, unless nothing can wake them.
    const end = sleepBoards(kvm, other);
    if (end) {
      total.end = end;
      return total;
    }
  }
}
