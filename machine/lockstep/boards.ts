// `emu --lockstep=interp,jit` (any two in-process backends): two boards booted
// from the same images, each with its own memory, devices and deterministic
// clock, run by the pair oracle (pair.ts) in chunks of equal instruction counts.
// Interrupts reach the CPUs only at the start of a chunk (each board's interrupt
// source is gated), so both take every interrupt at the same instruction however
// their backends group instructions into blocks or regions. The boards may also
// differ in memory model (--lockstep=interp:direct,interp:shadow): reports then
// name each side by backend and model.

import type { InterruptSource } from '../../contracts/backend.js';
import { InstructionClock } from '../../devices/clock.js';
import { defaultMmuModel } from '../../mmu/model.js';
import type { Machine } from '../machine.js';
import { serviceBoards, sleepBoards } from './service.js';
import { runPair, type ChunkGate, type PairOptions, type PairResult } from './pair.js';

/** A board's interrupt gate: pass it as MachineOptions.wrapInterrupts (`gate.wrap`) and to runBoardPair. */
export interface InterruptGate extends ChunkGate {
  wrap(board: () => InterruptSource): InterruptSource;
}

export function interruptGate(): InterruptGate {
  let open = false;
  return {
    open: () => { open = true; },
    close: () => { open = false; },
    wrap: (board) => ({ hasInterrupt: () => open && board().hasInterrupt(), acknowledge: () => board().acknowledge() }),
  };
}

/** Instructions until the board's next timer deadline (its clock is instruction-derived). */
function untilDeadline(m: Machine): number {
  if (!(m.clock instanceof InstructionClock)) return Infinity;
  return Math.max(1, Math.ceil((m.timers.next - m.clock.now()) / m.clock.nsPerInstruction));
}

/** How reports call the two boards: by backend, and by memory model too where the boards' models differ. */
export function boardNames(a: Machine, b: Machine): [string, string] {
  const ma = a.options.mmu ?? defaultMmuModel(), mb = b.options.mmu ?? defaultMmuModel();
  return ma === mb ? [a.backend.name, b.backend.name] : [`${a.backend.name}:${ma}`, `${b.backend.name}:${mb}`];
}

/**
 * Run boards `a` and `b` (deterministic: true, built with gates[i].wrap, booted with the same
 * recipe) until a divergence, the guest's exit, a halt nothing can end, or `maxInstructions`.
 * Halts sleep both boards to their next timer, as the run loop does with deterministic time.
 */
export function runBoardPair(a: Machine, b: Machine, gates: readonly [InterruptGate, InterruptGate],
  opts: PairOptions = {}): PairResult {
  const max = opts.maxInstructions ?? 1e6;
  const total: PairResult = { instructions: 0, chunks: 0, end: 'max-instructions', divergence: null };
  const [na, nb] = boardNames(a, b);
  for (;;) {
    const r = runPair({ name: na, backend: a.backend, memory: a.memory }, { name: nb, backend: b.backend, memory: b.memory }, {
      ...opts,
      gates,
      fullMemoryAtHalt: false,
      maxInstructions: max - total.instructions,
      chunkLimit: () => untilDeadline(a),
      beforeChunk: () => serviceBoards(a, b) ?? opts.beforeChunk?.(),
    });
    total.instructions += r.instructions;
    total.chunks += r.chunks;
    total.end = r.end;
    total.divergence = r.divergence;
    if (r.end !== 'halt' || total.instructions >= max) return total;
    // A pending interrupt is taken at the next chunk's start (the gates held it back).
    const end = sleepBoards(a, b, () => a.devices.interrupts.hasInterrupt());
    if (end) {
      total.end = end;
      return total;
    }
  }
}
