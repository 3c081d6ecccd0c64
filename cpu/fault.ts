// CpuFault: how an instruction reports an architectural exception. Semantic
// functions throw it; the interpreter catches it at the instruction boundary,
// puts RIP back on the faulting instruction and hands it to event delivery.
// It sits in the core (cpu/), below the system rows, the x87 and SSE that throw it too.

/** Exception vectors (Intel SDM Vol. 3A 6.3.1). */
export const VEC_DE = 0, VEC_DB = 1, VEC_NMI = 2, VEC_BP = 3, VEC_OF = 4, VEC_BR = 5, VEC_UD = 6, VEC_NM = 7,
  VEC_DF = 8, VEC_TS = 10, VEC_NP = 11, VEC_SS = 12, VEC_GP = 13, VEC_PF = 14, VEC_MF = 16, VEC_AC = 17,
  VEC_MC = 18, VEC_XM = 19;

/**
 * Not an architectural vector: the instruction does not execute and the CPU waits before it
 * for an interrupt, as for HLT but with RIP left on the instruction (the x87 FERR# freeze).
 */
export const VEC_FREEZE = -1;
/**
 * Not an architectural vector: a REP string instruction stopped after a bounded chunk of its
 * iterations (REP_CHUNK_WORK, cpu/ops-string.ts), RCX/RSI/RDI where the next iteration starts
 * and RIP on the instruction, so the run loop looks at interrupts, timers, stop requests and
 * its budget before the instruction goes on (as hardware takes interrupts between iterations).
 */
export const VEC_REP_PAUSE = -3;

export class CpuFault extends Error {
  constructor(readonly vector: number, readonly errorCode = 0, readonly hasError = false) {
    // No stack trace: guests raise faults by the million (page faults, fault storms), and
    // capturing one was most of the cost of delivering an exception. The run loop catches them.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`cpu fault ${vector}${hasError ? ` (error ${errorCode.toString(16)})` : ''}`);
    Error.stackTraceLimit = limit;
  }
}

/** What a REP string instruction throws to pause between chunks (one shared instance: nothing to allocate). */
export const REP_PAUSE = new CpuFault(VEC_REP_PAUSE);
/**
 * Not an architectural vector: what execBlock leaves in cpu.lastFault when a device asked for the
 * block to end (cpu.blockEnd) after an instruction that is not the block's last. The instruction
 * completed; the run loop goes on at the next one after looking at interrupts, delivering nothing.
 */
export const BLOCK_END = new CpuFault(-4);

/** Shorthands for the common faults. */
export const faultUD = (): CpuFault => new CpuFault(VEC_UD);
export const faultGP = (code = 0): CpuFault => new CpuFault(VEC_GP, code, true);
export const faultSS = (code = 0): CpuFault => new CpuFault(VEC_SS, code, true);
export const faultDE = (): CpuFault => new CpuFault(VEC_DE);
