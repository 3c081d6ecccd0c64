// Typed views over one state record for the SSE/MMX semantic functions, the MXCSR
// environment, and the #XM decision. Every operand is a byte offset into the record:
// XMM registers, MMX registers (FX_ST slots), GPRs, and a scratch slot that holds a
// memory operand the interpreter has fetched (or will store).

import { FX_MXCSR, FX_XMM0, FX_ST0, FX_FSW, FX_FTW, gprOffset } from '../state.js';
import { env, F_UE, F_OE } from '../fpu/softfloat.js';
import { MEM_TMP, RES_TMP, vecViews, type Vec } from '../fpu/guestmem.js';

/** The record's views and scratch slots (cpu/fpu/guestmem.ts, which x87 shares), named here for the SSE files. */
export { MEM_TMP, RES_TMP, vecViews, type Vec };

export const xmmOff = (n: number): number => FX_XMM0 + 16 * n;
/** MMX register n is x87 physical register n; MMX instructions force TOP = 0, so it is slot n. */
export const mmOff = (n: number): number => FX_ST0 + 16 * (n & 7);
export const gprOff = gprOffset;

// MXCSR bits (Intel SDM Vol. 1 10.2.3)
export const MX_DAZ = 0x40, MX_MASK_SHIFT = 7, MX_RC_SHIFT = 13, MX_FTZ = 0x8000;
export const MXCSR_MASK = 0xffff;

/** Result of the last SSE operation: EFLAGS to set (-1 none), #XM pending. */
export const sseOut = { eflags: -1, fault: false };

let daz = 0;
const PRE = 0x07; // IE | DE | ZE
/** Load env from MXCSR before a floating-point SSE operation; returns DAZ. */
export function beginSse(x: Vec): number {
  const m = x.u32[FX_MXCSR >> 2];
  env.rc = (m >>> MX_RC_SHIFT) & 3; env.flags = 0; env.roundedUp = 0; env.tiny = 0;
  // unmasked OE/UE: rounding takes the x87-style wrapped-exponent path, so PE reflects the
  // result at full range (the value itself is never written: the instruction faults)
  env.oeMasked = (m & (F_OE << MX_MASK_SHIFT)) !== 0 ? 1 : 0;
  env.ueMasked = (m & (F_UE << MX_MASK_SHIFT)) !== 0 ? 1 : 0;
  env.ftz = (m & MX_FTZ) !== 0 && env.ueMasked ? 1 : 0;
  daz = (m & MX_DAZ) !== 0 ? 1 : 0;
  sseOut.fault = false;
  return daz;
}
/** After each lane (an unmasked UE is raised by tininess alone: roundWindow's unmasked path does it). */
export function laneDone(x: Vec): void { void x; env.tiny = 0; }
/**
 * Merge flags into MXCSR. Returns true if results may be written; false (and sseOut.fault)
 * when an unmasked exception must become #XM (or #UD without CR4.OSXMMEXCPT) with no result.
 */
export function endSse(x: Vec): boolean {
  const w = FX_MXCSR >> 2, m = x.u32[w], f = env.flags & 0x3f;
  if (f === 0) return true;
  const unmasked = f & ~(m >>> MX_MASK_SHIFT) & 0x3f;
  if (unmasked) {
    // an unmasked pre-computation exception (IE, DE, ZE) stops the instruction before the
    // post-computation ones (OE, UE, PE) are looked at (Intel SDM Vol. 1 11.5.1)
    x.u32[w] = m | ((unmasked & PRE) !== 0 ? f & PRE : f); sseOut.fault = true; return false;
  }
  x.u32[w] = m | f;
  return true;
}

const ROTATED = new Uint8Array(128);
/**
 * TOP = 0 (Intel SDM Vol. 1 9.5.1). The record keeps ST(i) in slot i, so the slots are rotated
 * to put physical register p (= MMp) in slot p: otherwise the MMX registers would change identity.
 */
function topToZero(x: Vec): void {
  const t = (x.u16[FX_FSW >> 1] >> 11) & 7;
  if (t === 0) return;
  for (let p = 0; p < 8; p++) ROTATED.set(x.u8.subarray(FX_ST0 + 16 * ((p - t) & 7), FX_ST0 + 16 * ((p - t) & 7) + 16), 16 * p);
  x.u8.set(ROTATED, FX_ST0);
  x.u16[FX_FSW >> 1] &= ~0x3800;
}
/** MMX instructions: TOP = 0 and every register tagged valid (Intel SDM Vol. 1 9.5.1). */
export function mmxEnter(x: Vec): void {
  topToZero(x); x.u8[FX_FTW] = 0xff;
}
/** Writing an MMX register also sets the x87 exponent/sign field to all ones. */
export function mmxWrote(x: Vec, d: number): void { x.u16[(d + 8) >> 1] = 0xffff; }
/** EMMS: all x87 registers empty, and TOP = 0 like any MMX instruction (as the host does). */
export function emms(x: Vec): void { topToZero(x); x.u8[FX_FTW] = 0; }
