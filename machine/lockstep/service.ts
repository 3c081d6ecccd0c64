// What both board-level oracles do between steps or chunks: service the two
// boards' timers and console input, and sleep both to their next timer when the
// guest halts (as the run loop does with deterministic time).

import { FLAG_IF, RFLAGS, StateView } from '../../cpu/state.js';
import { InstructionClock } from '../../devices/clock.js';
import type { Machine } from '../machine.js';

/** Before a step or chunk: the guest's exit ends the run (returned as the reason); else timers and input. */
export function serviceBoards(a: Machine, b: Machine): string | undefined {
  const exit = a.exited ?? b.exited;
  if (exit) return `the guest's exit (${exit.reason})`;
  a.timers.run();
  b.timers.run();
  a.feedInput();
  b.feedInput();
  return undefined;
}

/**
 * Both boards halted in `b`'s state: sleep them to their next timer, unless an interrupt is
 * `pending` already. Returns why the run must end instead (HLT with IF=0, which only an NMI or
 * a reset could end; no timer armed), or null.
 */
export function sleepBoards(a: Machine, b: Machine, pending?: () => boolean): string | null {
  if ((new StateView(b.backend.getState().buffer).lo(RFLAGS) & FLAG_IF) === 0) return 'halt with interrupts disabled';
  if (pending?.()) return null;
  const next = Math.min(a.timers.next, b.timers.next);
  if (next === Infinity) return 'halt with no timer armed';
  for (const m of [a, b]) {
    if (m.clock instanceof InstructionClock) m.clock.skipTo(next);
    m.timers.run();
  }
  return null;
}
