// `emu --lockstep=kvm,interp`: two boards booted from the same image, one on
// KVM and one on the other backend, each with its own memory and devices,
// stepped together by the lockstep oracle. Time is derived from instructions
// (deterministic clocks), so both boards' timers fire at the same instruction.

import type { BackendName } from '../../cpu/backend.js';
import { KvmBackend } from '../../accel-kvm/kvm-backend.js';
import { InstructionClock } from '../../devices/clock.js';
import { FLAG_IF, RFLAGS, StateView } from '../../cpu/state.js';
import type { Machine } from '../machine.js';
import { runLockstep, type LockstepOptions, type LockstepResult } from './kvm.js';

export class LockstepUsageError extends Error {}

/** Check a --lockstep pair: one side must be kvm. Returns [kvm, other]. */
export function lockstepPair(pair: readonly [BackendName, BackendName]): [BackendName, BackendName] {
  if (pair[0] === pair[1]) throw new LockstepUsageError('--lockstep needs two different backends, e.g. --lockstep=kvm,interp');
  if (pair[0] !== 'kvm' && pair[1] !== 'kvm') {
    throw new LockstepUsageError(`--lockstep=${pair.join(',')}: one side must be kvm (the reference CPU), e.g. --lockstep=kvm,interp`);
  }
  return pair[0] === 'kvm' ? ['kvm', pair[1]] : ['kvm', pair[0]];
}

/** Fold one run's result into a running total (the last run decides how it ended). */
function addRun(total: LockstepResult, r: LockstepResult): void {
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
        const exit = kvm.exited ?? other.exited;
        if (exit) return `the guest's exit (${exit.reason})`;
        kvm.timers.run();
        other.timers.run();
        kvm.feedInput();
        other.feedInput();
        return opts.beforeStep?.();
      },
    });
    addRun(total, r);
    if (r.end !== 'halt' || total.steps >= maxSteps) return total;
    // HLT with IF=0: only an NMI or a reset could end it, and the boards have neither to give.
    if ((new StateView(other.backend.getState().buffer).lo(RFLAGS) & FLAG_IF) === 0) {
      total.end = 'halt with interrupts disabled';
      return total;
    }
    // Both halted: sleep to the next timer on both boards, as the run loop does with deterministic time.
    const next = Math.min(kvm.timers.next, other.timers.next);
    if (next === Infinity) {
      total.end = 'halt with no timer armed';
      return total;
    }
    for (const m of [kvm, other]) {
      if (m.clock instanceof InstructionClock) m.clock.skipTo(next);
      m.timers.run();
    }
  }
}

/** What the console gives a live lockstep session between chunks of steps. */
export interface LockstepConsole {
  /** Bytes typed since the last call (fed to both boards' UARTs at the same instruction), or null. */
  takeInput(): number[] | null;
  /** Why the user stopped the run (Ctrl-A x, Ctrl-C), or null to go on. */
  stopReason(): string | null;
  /** Let the event loop run (console input, signals) between chunks; `steps` compared so far. */
  pause(steps: number): Promise<void>;
}

/** Steps per chunk of a live session: about a tenth of a second on a kvm_pvm host. */
const LIVE_CHUNK = 1000;

function summary(names: string, r: LockstepResult, secs: string): { status: number; text: string } {
  const head = `lockstep ${names}: ${r.steps} instructions compared in ${secs} s, ended by ${r.end}` +
    (r.undefinedSynced ? ` (${r.undefinedSynced} undefined results taken from KVM)` : '') +
    (r.lateTraps ? ` (${r.lateTraps} single-step traps came one instruction late)` : '') +
    (r.tfRepairs ? ` (${r.tfRepairs} pushed RFLAGS bytes carried KVM's single-step TF)` : '');
  if (r.divergence) return { status: 1, text: `${head}\n${r.divergence.report}` };
  return { status: r.end.startsWith('error') ? 1 : 0, text: head };
}

/**
 * The whole of `emu --lockstep=A,B`: `make(accel)` builds and boots one board
 * (deterministic: true, irqchip 'user', its own memory; give only the kvm one a
 * serial sink). Returns the exit status (0: no divergence, 1: divergence or a
 * backend error) and the text to print. With `live`, the run goes in chunks
 * between which console input reaches both boards and the user may stop it
 * (which is not a failure).
 */
export async function lockstepCli(pair: readonly [BackendName, BackendName], make: (accel: BackendName) => Machine,
  maxSteps = 1e7, live?: LockstepConsole): Promise<{ status: number; text: string }> {
  const [kvmName, otherName] = lockstepPair(pair);
  const kvm = make(kvmName);
  let other: Machine | null = null;
  try {
    other = make(otherName);
    const t0 = performance.now();
    const total: LockstepResult = { steps: 0, end: 'max-steps', divergence: null, undefinedSynced: 0, lateTraps: 0, tfRepairs: 0 };
    const boards = other;
    while (total.steps < maxSteps) {
      const r = runMachineLockstep(kvm, boards, {
        maxSteps: live ? Math.min(LIVE_CHUNK, maxSteps - total.steps) : maxSteps,
        continuing: total.steps > 0,
        beforeStep: live ? () => {
          const bytes = live.takeInput();
          if (bytes) { kvm.serialInput(bytes); boards.serialInput(bytes); }
          return live.stopReason() ?? undefined;
        } : undefined,
      });
      addRun(total, r);
      if (!live || r.end !== 'max-steps') break;
      await live.pause(total.steps);
    }
    return summary(`${kvmName},${otherName}`, total, ((performance.now() - t0) / 1000).toFixed(1));
  } finally {
    other?.destroy();
    kvm.destroy();
  }
}
