// Per-CPU state of the system layer that is not architectural register state:
// the page walker bound to this CPU and the TSC offset.

import type { Cpu } from '../cpu.js';
import type { Mmu } from '../../mmu/paging.js';

export interface SystemContext {
  readonly mmu: Mmu;
  /** Guest TSC = host.now() (ns, 1 GHz TSC) + tscOffset. */
  tscOffset: number;
  /** The state record's TSC field as this layer last wrote or read it (a different value = imported). */
  tscField: number;
  /** Event-delivery counters (teaching views, tests). */
  readonly events: { delivered: number; doubleFaults: number; tripleFaults: number };
  /** The last EVENT_LOG events attempted: (vector, kind, error code or -1, RIP low) per entry, a ring. */
  readonly eventLog: Int32Array;
  eventLogPos: number;
}

export const EVENT_LOG = 16;

/** Create the system context for a CPU with its walker. */
export function newContext(mmu: Mmu): SystemContext {
  return {
    mmu, tscOffset: 0, tscField: -1,
    events: { delivered: 0, doubleFaults: 0, tripleFaults: 0 },
    eventLog: new Int32Array(EVENT_LOG * 4), eventLogPos: 0,
  };
}

const EVENT_NAMES = ['#DE', '#DB', 'NMI', '#BP', '#OF', '#BR', '#UD', '#NM', '#DF', '#09', '#TS', '#NP', '#SS', '#GP', '#PF',
  '#15', '#MF', '#AC', '#MC', '#XM'];

/**
 * The most recent events, oldest first, e.g. "#PF(0x2) at 0x401000", "int 0x80 at 0x4010ab" —
 * for error messages (a triple fault names its cause) and the teaching views.
 */
export function recentEvents(c: Cpu): string[] {
  const ctx = sysOf(c), log = ctx.eventLog, out: string[] = [];
  for (let k = 0; k < EVENT_LOG; k++) {
    const i = ((ctx.eventLogPos + k) % EVENT_LOG) * 4;
    const vector = log[i], kind = log[i + 1], err = log[i + 2], rip = log[i + 3] >>> 0;
    if (kind === 0 && vector === 0 && err === 0 && rip === 0) continue;
    const what = kind === 0 ? `irq vector 0x${vector.toString(16)}` : kind === 4 << 8 ? `int 0x${vector.toString(16)}`
      : vector < EVENT_NAMES.length ? EVENT_NAMES[vector] : `vector 0x${vector.toString(16)}`;
    out.push(`${what}${err >= 0 && kind === 3 << 8 ? `(0x${err.toString(16)})` : ''} at 0x${rip.toString(16)}`);
  }
  return out;
}

const contexts = new WeakMap<Cpu, SystemContext>();

export function bindContext(c: Cpu, ctx: SystemContext): void {
  contexts.set(c, ctx);
}

/** The system context of an installed CPU (cpu/system/index.ts install()). */
export function sysOf(c: Cpu): SystemContext {
  const ctx = contexts.get(c);
  if (!ctx) throw new Error('cpu/system is not installed on this CPU (call installSystem(cpu))');
  return ctx;
}

/** The memory model's counters (mmu/model.ts), or none where cpu/system is not installed. */
export function modelCounters(c: Cpu): Record<string, number> {
  const ctx = contexts.get(c);
  return ctx ? ctx.mmu.modelCounters() : {};
}

/** Counters of the system layer: page walks and faults, TLB fills/flushes, events delivered. */
export function systemCounters(c: Cpu): Record<string, number> {
  const ctx = sysOf(c);
  return { ...ctx.mmu.counters(), eventsDelivered: ctx.events.delivered, doubleFaults: ctx.events.doubleFaults, tripleFaults: ctx.events.tripleFaults };
}
