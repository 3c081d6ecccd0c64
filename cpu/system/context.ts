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

/** Counters of the system layer: page walks and faults, TLB fills/flushes, events delivered. */
export function systemCounters(c: Cpu): Record<string, number> {
  const ctx = sysOf(c);
  return { ...ctx.mmu.counters(), eventsDelivered: ctx.events.delivered, doubleFaults: ctx.events.doubleFaults, tripleFaults: ctx.events.tripleFaults };
}
