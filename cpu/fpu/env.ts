// The x87 environment and state images: FLDCW, FNSTENV/FLDENV (14- or 28-byte protected-mode
// layout by operand size), FNSAVE/FRSTOR (environment + ST0..ST7 as 80-bit values). The
// image is staged in the record's backend-private area before it touches guest memory.

import type { Cpu } from '../cpu.js';
import { FX_FCW, FX_FOP, FX_FIP, FX_FDP } from '../state.js';
import { fcw, fsw, setFsw, fullTagWord, setFromFullTagWord, stOff, finit, SW_ES, SW_B } from './x87state.js';
import { loadBytes, storeBytes, probeStore } from '../sse/guestmem.js';

/** Staging for environment/state images (108 bytes) in the backend-private part of the record. */
const ENV_TMP = 0x640;
export const envSize = (o16: boolean): number => (o16 ? 14 : 28);

/** FLDCW: new control word; ES/B follow whether a raised exception is now unmasked. */
export function fldcw(dv: DataView, v: number): void {
  dv.setUint16(FX_FCW, v & 0x1f7f | 0x40, true);
  recomputeEs(dv);
}
function recomputeEs(dv: DataView): void {
  const pending = fsw(dv) & ~fcw(dv) & 0x3f;
  setFsw(dv, pending ? fsw(dv) | SW_ES | SW_B : fsw(dv) & ~(SW_ES | SW_B));
}

function writeEnv(c: Cpu, o16: boolean): void {
  const dv = c.dv, b = ENV_TMP;
  const fip = dv.getUint32(FX_FIP, true), fdp = dv.getUint32(FX_FDP, true), fop = dv.getUint16(FX_FOP, true) & 0x7ff;
  if (o16) {
    dv.setUint16(b, fcw(dv), true); dv.setUint16(b + 2, fsw(dv), true); dv.setUint16(b + 4, fullTagWord(dv), true);
    dv.setUint16(b + 6, fip, true); dv.setUint16(b + 8, 0, true); dv.setUint16(b + 10, fdp, true); dv.setUint16(b + 12, 0, true);
  } else {
    dv.setUint32(b, 0xffff0000 | fcw(dv), true); dv.setUint32(b + 4, 0xffff0000 | fsw(dv), true);
    dv.setUint32(b + 8, 0xffff0000 | fullTagWord(dv), true); dv.setUint32(b + 12, fip, true);
    dv.setUint32(b + 16, fop << 16, true); dv.setUint32(b + 20, fdp, true); dv.setUint32(b + 24, 0xffff0000, true);
  }
}
function readEnv(c: Cpu, o16: boolean): void {
  const dv = c.dv, b = ENV_TMP;
  const step = o16 ? 2 : 4;
  dv.setUint16(FX_FCW, dv.getUint16(b, true) & 0x1f7f | 0x40, true);
  setFsw(dv, dv.getUint16(b + step, true));
  setFromFullTagWord(dv, dv.getUint16(b + 2 * step, true));
  dv.setUint32(FX_FIP, o16 ? dv.getUint16(b + 6, true) : dv.getUint32(b + 12, true), true);
  dv.setUint32(FX_FDP, o16 ? dv.getUint16(b + 10, true) : dv.getUint32(b + 20, true), true);
  if (!o16) dv.setUint16(FX_FOP, (dv.getUint32(b + 16, true) >>> 16) & 0x7ff, true);
}

export function fnstenv(c: Cpu, lo: number, hi: number, o16: boolean): void {
  const n = envSize(o16);
  probeStore(c, lo, hi, n);
  writeEnv(c, o16);
  storeBytes(c, lo, hi, n, ENV_TMP);
  c.dv.setUint16(FX_FCW, fcw(c.dv) | 0x3f, true); // FNSTENV masks all exceptions afterwards
}
export function fldenv(c: Cpu, lo: number, hi: number, o16: boolean): void {
  loadBytes(c, lo, hi, envSize(o16), ENV_TMP);
  readEnv(c, o16);
}
export function fnsave(c: Cpu, lo: number, hi: number, o16: boolean): void {
  const n = envSize(o16), dv = c.dv;
  probeStore(c, lo, hi, n + 80);
  writeEnv(c, o16);
  for (let i = 0; i < 8; i++) {
    const s = stOff(i), t = ENV_TMP + n + 10 * i;
    dv.setUint32(t, dv.getUint32(s, true), true); dv.setUint32(t + 4, dv.getUint32(s + 4, true), true);
    dv.setUint16(t + 8, dv.getUint16(s + 8, true), true);
  }
  storeBytes(c, lo, hi, n + 80, ENV_TMP);
  finit(dv);
}
export function frstor(c: Cpu, lo: number, hi: number, o16: boolean): void {
  const n = envSize(o16), dv = c.dv;
  loadBytes(c, lo, hi, n + 80, ENV_TMP);
  readEnv(c, o16);
  for (let i = 0; i < 8; i++) {
    const s = stOff(i), t = ENV_TMP + n + 10 * i;
    dv.setUint32(s, dv.getUint32(t, true), true); dv.setUint32(s + 4, dv.getUint32(t + 4, true), true);
    dv.setUint16(s + 8, dv.getUint16(t + 8, true), true); dv.setUint16(s + 10, 0, true); dv.setUint32(s + 12, 0, true);
  }
}
