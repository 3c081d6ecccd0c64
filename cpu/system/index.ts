// cpu-system's face to the interpreter: installSystem(cpu) binds the page walker
// (mmu/paging.ts) to the CPU's TLB and plugs in event delivery, segment loads and
// the I/O permission check. (SYSTEM_EXTENSION in extension.ts adds the opcode rows.)

import type { Cpu, SystemHooks, Translator } from '../cpu.js';
import { Mmu } from '../../mmu/paging.js';
import { installModel } from '../../mmu/choose.js';
import { defaultMmuModel } from '../../mmu/model.js';
import { CR0, CR3, CR4, EFER } from '../state.js';
import { bindContext, newContext, sysOf } from './context.js';
export { recentEvents, systemCounters } from './context.js';
import { deliverEvent } from './events.js';
import { CpuFault, VEC_PF } from '../fault.js';
import { checkIo } from './io.js';
import { loadSegment } from './segments.js';
import { W } from '../words.js';

export const systemHooks: SystemHooks = { deliverEvent, loadSegment, checkIo };


/**
 * The translator the CPU calls on a TLB miss. Before walking it checks that the
 * walker's copy of CR0/CR3/CR4/EFER matches the state record, so state written
 * directly (loaders, setState, tests) is picked up without a hook.
 */
function makeTranslator(mmu: Mmu): Translator {
  let cr0 = 0, cr3lo = 0, cr3hi = 0, cr4 = 0, efer = 0, a20 = -1;
  return {
    translate(c: Cpu, lo: number, hi: number, kind: number): number {
      const r = c.r32;
      if (r[W.W_CR0] !== cr0 || r[W.W_CR4] !== cr4 || r[W.W_EFER] !== efer) {
        cr0 = r[W.W_CR0]; cr4 = r[W.W_CR4]; efer = r[W.W_EFER];
        mmu.setControl(cr0, cr4, efer);
        cr3lo = ~r[W.W_CR3]; // force the CR3 reload below (PAE PDPTEs)
      }
      if (r[W.W_CR3] !== cr3lo || r[W.W_CR3 + 1] !== cr3hi) {
        cr3lo = r[W.W_CR3]; cr3hi = r[W.W_CR3 + 1];
        mmu.setCr3(cr3lo, cr3hi);
      }
      if (c.a20Mask !== a20) { a20 = c.a20Mask; mmu.setA20(a20 === -1); c.flushTlb(true); }
      return mmu.translate(lo, hi, kind);
    },
    flushed(global: boolean): void { mmu.model?.flushed(global); },
    invalidated(lo: number, hi: number): void { mmu.model?.invalidated(lo, hi); },
    detach(): void { mmu.model?.detach(); mmu.model = null; },
  };
}

/** Install the system layer on an interpreter CPU. Returns the page walker (tests, counters). */
export function installSystem(c: Cpu): Mmu {
  const mmu = new Mmu(c.mem, c.tlb);
  mmu.onFault = (vector, code, lo, hi) => {
    if (vector === VEC_PF) { c.r32[W.W_CR2] = lo; c.r32[W.W_CR2 + 1] = hi; }
    throw new CpuFault(vector, code, true);
  };
  bindContext(c, newContext(mmu));
  const model = c.host.mmuModel ?? defaultMmuModel();
  if (model !== 'direct') installModel(mmu, model);
  c.mmu = makeTranslator(mmu);
  c.sys = systemHooks;
  return mmu;
}

/**
 * Linear -> physical for debuggers and traces: no A/D updates, no TLB fill, no
 * fault. Returns -1 if the address does not translate (for a supervisor read).
 */
export function linearToPhysical(c: Cpu, lo: number, hi: number): number {
  return sysOf(c).mmu.probe(lo, hi, 0);
}
