// CpuFault: how an instruction reports an architectural exception. Semantic
// functions throw it; the interpreter catches it at the instruction boundary,
// puts RIP back on the faulting instruction and hands it to event delivery.
// (Created by cpu-exec so the core could build; cpu-system owns it from here.)

/** Exception vectors (Intel SDM Vol. 3A 6.3.1). */
export const VEC_DE = 0, VEC_DB = 1, VEC_NMI = 2, VEC_BP = 3, VEC_OF = 4, VEC_BR = 5, VEC_UD = 6, VEC_NM = 7,
  VEC_DF = 8, VEC_TS = 10, VEC_NP = 11, VEC_SS = 12, VEC_GP = 13, VEC_PF = 14, VEC_MF = 16, VEC_AC = 17,
  VEC_MC = 18, VEC_XM = 19;

/**
 * Not an architectural vector: the instruction does not execute and the CPU waits before it
 * for an interrupt, as for HLT but with RIP left on the instruction (the x87 FERR# freeze).
 */
export const VEC_FREEZE = -1;

export class CpuFault extends Error {
  constructor(readonly vector: number, readonly errorCode = 0, readonly hasError = false) {
    super(`cpu fault ${vector}${hasError ? ` (error ${errorCode.toString(16)})` : ''}`);
  }
}

/** Shorthands for the common faults. */
export const faultUD = (): CpuFault => new CpuFault(VEC_UD);
export const faultGP = (code = 0): CpuFault => new CpuFault(VEC_GP, code, true);
export const faultSS = (code = 0): CpuFault => new CpuFault(VEC_SS, code, true);
export const faultDE = (): CpuFault => new CpuFault(VEC_DE);
