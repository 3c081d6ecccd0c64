// FXSAVE/FXRSTOR and XSAVE/XRSTOR(OPT) for the x87 and SSE components. The record's
// FXSAVE area already has the memory layout, so saving is a copy of its first bytes and
// restoring is a validated copy back (Intel SDM Vol. 1 10.5 and 13.7-13.8).

import type { Cpu } from '../cpu.js';
import { CpuFault, VEC_GP } from '../fault.js';
import { FXSAVE, FX_MXCSR } from '../state.js';
import { W } from '../words.js';
import { loadBytes, storeBytes, probeStore } from '../fpu/guestmem.js';
import { MEM_TMP, MXCSR_MASK } from './vec.js';
import { finit } from '../fpu/x87state.js';

/** Bytes of the legacy area that hold state: x87 (0..159) + XMM0..7 or XMM0..15. */
const legacyBytes = (mode64: boolean): number => 160 + (mode64 ? 16 : 8) * 16;
const gp = (): never => { throw new CpuFault(VEC_GP, 0, true); };

export function fxsave(c: Cpu, lo: number, hi: number, mode64: boolean): void {
  const n = legacyBytes(mode64);
  probeStore(c, lo, hi, n);
  storeBytes(c, lo, hi, n, FXSAVE);
}
export function fxrstor(c: Cpu, lo: number, hi: number, mode64: boolean): void {
  const n = legacyBytes(mode64);
  loadBytes(c, (lo + 24) | 0, hi, 4, MEM_TMP);
  if ((c.dv.getUint32(MEM_TMP, true) & ~MXCSR_MASK) !== 0) gp();
  loadBytes(c, (lo + n - 4) | 0, hi, 4, MEM_TMP); // both ends readable: the whole area is
  loadBytes(c, lo, hi, n, FXSAVE);
  c.dv.setUint32(FX_MXCSR + 4, MXCSR_MASK, true);
}

const addr = (lo: number, k: number): number => (lo + k) | 0;
/** Requested-feature bitmap: XCR0 AND EDX:EAX (x87 = 1, SSE = 2). */
const rfbm = (c: Cpu): number => c.r32[W.W_XCR0] & c.r32[W.W_RAX] & 3;

export function xsave(c: Cpu, lo: number, hi: number, mode64: boolean): void {
  const m = rfbm(c);
  probeStore(c, lo, hi, 576);
  if (m & 1) { storeBytes(c, lo, hi, 24, FXSAVE); storeBytes(c, addr(lo, 32), hi, 128, FXSAVE + 32); }
  if (m & 2) { storeBytes(c, addr(lo, 24), hi, 8, FXSAVE + 24); storeBytes(c, addr(lo, 160), hi, legacyBytes(mode64) - 160, FXSAVE + 160); }
  // header: XSTATE_BV reports the saved components as in use
  loadBytes(c, addr(lo, 512), hi, 8, MEM_TMP);
  const bv = (c.dv.getUint32(MEM_TMP, true) & ~m) | m;
  c.dv.setUint32(MEM_TMP, bv, true);
  storeBytes(c, addr(lo, 512), hi, 4, MEM_TMP);
}

export function xrstor(c: Cpu, lo: number, hi: number, mode64: boolean): void {
  const m = rfbm(c);
  // header checks: standard form only, no components beyond XCR0, reserved bytes zero
  loadBytes(c, addr(lo, 512), hi, 24, MEM_TMP);
  const dv = c.dv;
  const bv = dv.getUint32(MEM_TMP, true), bvHi = dv.getUint32(MEM_TMP + 4, true);
  if (bvHi !== 0 || (bv & ~c.r32[W.W_XCR0]) !== 0) gp();
  for (let k = 8; k < 24; k += 4) if (dv.getUint32(MEM_TMP + k, true) !== 0) gp();
  if (m & 3) {
    loadBytes(c, addr(lo, 24), hi, 4, MEM_TMP);
    if ((dv.getUint32(MEM_TMP, true) & ~MXCSR_MASK) !== 0) gp();
  }
  loadBytes(c, addr(lo, legacyBytes(mode64) - 4), hi, 4, MEM_TMP); // fault now, not half-way
  if (m & 1) {
    if (bv & 1) { loadBytes(c, lo, hi, 24, FXSAVE); loadBytes(c, addr(lo, 32), hi, 128, FXSAVE + 32); }
    else { finit(dv); new Uint8Array(dv.buffer, dv.byteOffset + FXSAVE + 32, 128).fill(0); }
  }
  if (m & 3) loadBytes(c, addr(lo, 24), hi, 4, FXSAVE + 24);
  if (m & 2) {
    const n = legacyBytes(mode64) - 160;
    if (bv & 2) loadBytes(c, addr(lo, 160), hi, n, FXSAVE + 160);
    else new Uint8Array(dv.buffer, dv.byteOffset + FXSAVE + 160, n).fill(0);
  }
}
