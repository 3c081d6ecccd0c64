// How a pending unmasked x87 exception (FSW.ES) is reported at a waiting x87/MMX instruction:
// #MF with CR0.NE=1, else the PC/AT path through the FERR#/IGNNE# pins (CpuHost.ferr).

import type { Cpu } from '../cpu.js';
import { CR0, CR0_NE, FX_FSW } from '../state.js';
import { CpuFault, VEC_MF } from '../system/fault.js';
import { SW_ES } from './x87state.js';

/**
 * The slow path of the pending-exception check (FSW.ES is set at a waiting instruction).
 *
 * NE=1: #MF before the instruction (SDM Vol. 1 8.7.1).
 *
 * NE=0 (MS-DOS compatibility, SDM Vol. 1 8.7.2 and D.2.1): unless IGNNE# is asserted, the CPU
 * asserts FERR# (deferred reporting: at this instruction) and real hardware then freezes just
 * before the instruction until an interrupt arrives; the chipset turns FERR# into IRQ13, whose
 * handler writes port F0h (IGNNE# on, IRQ13 off), clears the exception and returns to the
 * waiting instruction. The interpreter asserts FERR# and then lets the instruction run as if
 * IGNNE# were asserted (the choice QEMU and Bochs make); the run loop is told to look at INTR
 * at the end of this block, so the IRQ13 handler runs a few instructions later instead of
 * before this one, and it returns after it. A waiting FWAIT/FNOP/FLD behaves the same either
 * way; what differs is that an arithmetic instruction right after the faulting one runs before
 * the handler, and that with IF=0 the guest goes on where hardware would hang. With IGNNE#
 * asserted, or on a board without the pins, the exception is ignored (SDM D.2.1.3).
 */
export function x87ErrorPending(c: Cpu): void {
  if ((c.r32[CR0 >> 2] & CR0_NE) !== 0) throw new CpuFault(VEC_MF);
  const pins = c.host.ferr;
  if (pins === undefined || pins.ignne()) return;
  pins.setFerr(true);
  c.attention++;
}

/**
 * FERR# follows FSW.ES: after an instruction that may have cleared ES (FNCLEX, FNINIT, FLDCW,
 * FLDENV, FRSTOR, FNSAVE) it is deasserted, which also ends IGNNE# at the chipset.
 */
export function ferrFollowsEs(c: Cpu): void {
  const pins = c.host.ferr;
  if (pins !== undefined && (c.dv.getUint16(FX_FSW, true) & SW_ES) === 0) pins.setFerr(false);
}
