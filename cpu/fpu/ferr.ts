// How a pending unmasked x87 exception (FSW.ES) is reported at a waiting x87/MMX instruction:
// #MF with CR0.NE=1, else the PC/AT path through the FERR#/IGNNE# pins (CpuHost.ferr).

import type { Cpu } from '../cpu.js';
import { CR0, CR0_NE, FX_FSW } from '../state.js';
import { CpuFault, VEC_FREEZE, VEC_MF } from '../fault.js';
import { SW_ES } from './x87state.js';
import { W } from '../words.js';

/** A pending unmasked x87 exception (FSW.ES): #MF with CR0.NE set, else FERR#. */
export function pendingX87(c: Cpu): void {
  if ((c.dv.getUint16(FX_FSW, true) & SW_ES) !== 0) x87ErrorPending(c);
}

/**
 * The slow path of the pending-exception check (FSW.ES is set at a waiting instruction).
 *
 * NE=1: #MF before the instruction (SDM Vol. 1 8.7.1).
 *
 * NE=0 (MS-DOS compatibility, SDM Vol. 1 8.7.2 and D.2.1): unless IGNNE# is asserted, the CPU
 * asserts FERR# (deferred reporting: at this instruction) and freezes just before the
 * instruction until an interrupt arrives; the chipset turns FERR# into IRQ13, whose handler
 * writes port F0h (IGNNE# on, IRQ13 off) and/or clears the exception, and returns to the
 * waiting instruction, which then runs. The interpreter models the freeze as a halt with RIP
 * on the instruction (VEC_FREEZE): any interrupt wakes it, and if the condition still holds
 * when it is retried the CPU freezes again; with IF=0 it stays frozen, as hardware does. With
 * IGNNE# asserted, or on a board without the pins, the exception is ignored (SDM D.2.1.3).
 */
export function x87ErrorPending(c: Cpu): void {
  if ((c.r32[W.W_CR0] & CR0_NE) !== 0) throw new CpuFault(VEC_MF);
  const pins = c.host.ferr;
  if (pins === undefined || pins.ignne()) return;
  pins.setFerr(true);
  throw new CpuFault(VEC_FREEZE);
}

/**
 * FERR# follows FSW.ES: after an instruction that may have cleared ES (FNCLEX, FNINIT, FLDCW,
 * FLDENV, FRSTOR, FNSAVE, FXRSTOR, XRSTOR) it is deasserted, which also ends IGNNE# at the chipset.
 */
export function ferrFollowsEs(c: Cpu): void {
  const pins = c.host.ferr;
  if (pins !== undefined && (c.dv.getUint16(FX_FSW, true) & SW_ES) === 0) pins.setFerr(false);
}
