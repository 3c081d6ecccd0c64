// The whole of `emu --lockstep=A,B`: with kvm on one side, KVM single-steps and
// the other backend follows (machine.ts); with two in-process backends
// (interp,jit), both run in chunks of equal instruction counts (boards.ts).
// Both are driven here in chunks between which console input reaches the two
// boards at the same instruction and the user may stop the run. Each side may
// name its own memory model (--lockstep=interp:direct,interp:shadow).

import type { BackendName } from '../../contracts/backend.js';
import type { MmuModelName } from '../../mmu/model.js';
import type { Machine, MachineOptions } from '../machine.js';
import { boardNames, runBoardPair, interruptGate } from './boards.js';
import type { LockstepResult } from './kvm.js';
import { addRun, LockstepUsageError, runMachineLockstep } from './machine.js';
import type { PairResult } from './pair.js';

export { LockstepUsageError };

/**
 * Check a --lockstep pair. With kvm on one side it is the reference: returns [kvm, other].
 * Two in-process backends (the same one twice checks the oracle itself) come back as given.
 */
export function lockstepPair(pair: readonly [BackendName, BackendName]): [BackendName, BackendName] {
  if (pair[0] === 'kvm' && pair[1] === 'kvm') throw new LockstepUsageError('--lockstep needs two different backends with kvm, e.g. --lockstep=kvm,interp');
  return pair[1] === 'kvm' ? ['kvm', pair[0]] : [pair[0], pair[1]];
}

/** What the console gives a live lockstep session between chunks. */
export interface LockstepConsole {
  /** Bytes typed since the last call (fed to both boards' UARTs at the same instruction), or null. */
  takeInput(): number[] | null;
  /** Why the user stopped the run (Ctrl-A x, Ctrl-C), or null to go on. */
  stopReason(): string | null;
  /** Let the event loop run (console input, signals) between chunks; instructions compared so far. */
  pause(compared: number): Promise<void>;
}

/** Builds and boots one board (its own memory, irqchip 'user', deterministic time) with `extra` options. */
export type MakeBoard = (accel: BackendName, extra: Partial<MachineOptions>) => Machine;

/** Steps per chunk of a live KVM session: about a tenth of a second on a kvm_pvm host. */
const LIVE_STEPS = 1000;
/** Instructions per chunk of a live in-process session. */
const LIVE_INSTRUCTIONS = 200_000;

function kvmSummary(names: string, r: LockstepResult, secs: string): { status: number; text: string } {
  const head = `lockstep ${names}: ${r.steps} instructions compared in ${secs} s, ended by ${r.end}` +
    (r.undefinedSynced ? ` (${r.undefinedSynced} undefined results taken from KVM)` : '') +
    (r.lateTraps ? ` (${r.lateTraps} single-step traps came one instruction late)` : '') +
    (r.tfRepairs ? ` (${r.tfRepairs} pushed RFLAGS bytes carried KVM's single-step TF)` : '');
  if (r.divergence) return { status: 1, text: `${head}\n${r.divergence.report}` };
  return { status: r.end.startsWith('error') ? 1 : 0, text: head };
}

/** Bytes typed (to both boards) and the user's stop, checked before every chunk or step. */
function consoleHook(live: LockstepConsole | undefined, boards: Machine[]): (() => string | undefined) | undefined {
  if (!live) return undefined;
  return () => {
    const bytes = live.takeInput();
    if (bytes) for (const m of boards) m.serialInput(bytes);
    return live.stopReason() ?? undefined;
  };
}

/**
 * `emu --lockstep=A,B`: `make` builds each board; give only the first a serial sink. Returns the
 * exit status (0: no divergence, 1: divergence or a backend error) and the text to print. With
 * `live`, the run goes in chunks between which the console is served; `every` is the in-process
 * comparison interval in instructions.
 */
export async function lockstepCli(pair: readonly [BackendName, BackendName], make: MakeBoard,
  max = 1e7, live?: LockstepConsole, every?: number,
  models: readonly [MmuModelName | null, MmuModelName | null] = [null, null]): Promise<{ status: number; text: string }> {
  const [first, second] = lockstepPair(pair);
  const swapped = first !== pair[0];
  const model = (i: number): Partial<MachineOptions> => {
    const m = models[swapped ? 1 - i : i];
    return m === null ? {} : { mmu: m };
  };
  if (first !== 'kvm') return boardPairCli([first, second], make, max, live, every, [model(0), model(1)]);
  const kvm = make(first, {});
  let other: Machine | null = null;
  try {
    other = make(second, { ...model(1), clock: kvm.clock }); // one clock: KVM's instruction count is the reference
    const t0 = performance.now();
    const total: LockstepResult = { steps: 0, end: 'max-steps', divergence: null, undefinedSynced: 0, lateTraps: 0, tfRepairs: 0 };
    while (total.steps < max) {
      const r = runMachineLockstep(kvm, other, {
        maxSteps: live ? Math.min(LIVE_STEPS, max - total.steps) : max,
        continuing: total.steps > 0,
        beforeStep: consoleHook(live, [kvm, other]),
      });
      addRun(total, r);
      if (!live || r.end !== 'max-steps') break;
      await live.pause(total.steps);
    }
    return kvmSummary(`${first},${second}`, total, ((performance.now() - t0) / 1000).toFixed(1));
  } finally {
    other?.destroy();
    kvm.destroy();
  }
}

async function boardPairCli(pair: [BackendName, BackendName], make: MakeBoard, max: number,
  live: LockstepConsole | undefined, every: number | undefined,
  extra: [Partial<MachineOptions>, Partial<MachineOptions>]): Promise<{ status: number; text: string }> {
  const gates = [interruptGate(), interruptGate()] as const;
  const a = make(pair[0], { ...extra[0], wrapInterrupts: gates[0].wrap });
  let b: Machine | null = null;
  try {
    b = make(pair[1], { ...extra[1], wrapInterrupts: gates[1].wrap });
    const t0 = performance.now();
    const total: PairResult = { instructions: 0, chunks: 0, end: 'max-instructions', divergence: null };
    while (total.instructions < max) {
      const left = max - total.instructions;
      const r = runBoardPair(a, b, gates, { every, maxInstructions: live ? Math.min(LIVE_INSTRUCTIONS, left) : left, beforeChunk: consoleHook(live, [a, b]) });
      total.instructions += r.instructions;
      total.chunks += r.chunks;
      total.end = r.end;
      total.divergence = r.divergence;
      if (!live || r.end !== 'max-instructions') break;
      await live.pause(total.instructions);
    }
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    const head = `lockstep ${boardNames(a, b).join(',')}: ${total.instructions} instructions compared in ${secs} s (${total.chunks} comparisons), ended by ${total.end}`;
    if (total.divergence) return { status: 1, text: `${head}\n${total.divergence.report}` };
    return { status: total.end.startsWith('error') ? 1 : 0, text: head };
  } finally {
    b?.destroy();
    a.destroy();
  }
}
