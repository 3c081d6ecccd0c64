// The x87 environment and state images: FLDCW, FNSTENV/FLDENV and FNSAVE/FRSTOR (environment
// + ST0..ST7 as 80-bit values) in all four layouts of Intel SDM Vol. 1 8.1.10 / Figures 8-9..8-12
// (FSAVE images 8-9..8-12 share them): protected or real-address format by mode, 16 or 32 bits by
// operand size. The image is staged in the record's backend-private area before it touches memory.

import { MODE_REAL, MODE_VM86, type Cpu } from '../cpu.js';
import { FX_FCW, FX_FOP, FX_FIP, FX_FDP } from '../state.js';
import { fcw, fsw, setFsw, fullTagWord, setFromFullTagWord, stOff, finit, SW_ES, SW_B } from './x87state.js';
import { loadBytes, storeBytes, probeStore } from './guestmem.js';

/** Staging for environment/state images (108 bytes) in the backend-private part of the record. */
const ENV_TMP = 0x640;
export const envSize = (o16: boolean): number => (o16 ? 14 : 28);
/** FSAVE/FRSTOR: the environment, then ST0..ST7 as 10-byte values (94 or 108 bytes). */
export const saveSize = (o16: boolean): number => envSize(o16) + 80;
/** Reserved upper halves of the 32-bit formats' words read back as ones on Intel hosts. */
const RESERVED_HI = 0xffff0000;
const FOP_MASK = 0x7ff;

/** FLDCW: new control word; ES/B follow whether a raised exception is now unmasked. */
export function fldcw(dv: DataView, v: number): void {
  dv.setUint16(FX_FCW, v & 0x1f7f | 0x40, true);
  recomputeEs(dv);
}
function recomputeEs(dv: DataView): void {
  const pending = fsw(dv) & ~fcw(dv) & 0x3f;
  setFsw(dv, pending ? fsw(dv) | SW_ES | SW_B : fsw(dv) & ~(SW_ES | SW_B));
}

/**
 * Real-address and virtual-8086 mode use the 8087's layout: FIP and FDP are linear addresses
 * (segment base + offset; AMD APM Vol. 1 6.2.5) split around the opcode, no selectors. Every
 * other mode (protected, compatibility, 64-bit; REX.W changes nothing) uses offset + selector.
 */
const realFormat = (c: Cpu): boolean => c.mode === MODE_REAL || c.mode === MODE_VM86;

function writeEnv(c: Cpu, o16: boolean, real: boolean): void {
  const dv = c.dv, b = ENV_TMP;
  const fip = dv.getUint32(FX_FIP, true), fdp = dv.getUint32(FX_FDP, true), fop = dv.getUint16(FX_FOP, true) & FOP_MASK;
  if (o16) {
    // Figures 8-10 (protected: IP offset, CS selector, operand offset, DS selector) and 8-12
    // (real: IP 15..0, IP 19..16 | 0 | opcode, operand 15..0, operand 19..16 | 0).
    dv.setUint16(b, fcw(dv), true); dv.setUint16(b + 2, fsw(dv), true); dv.setUint16(b + 4, fullTagWord(dv), true);
    dv.setUint16(b + 6, fip, true);
    dv.setUint16(b + 8, real ? ((fip >>> 16) & 0xf) << 12 | fop : 0, true); // FCS: not kept (FXSAVE64 layout), 0
    dv.setUint16(b + 10, fdp, true);
    dv.setUint16(b + 12, real ? ((fdp >>> 16) & 0xf) << 12 : 0, true); // FDS: 0
    return;
  }
  dv.setUint32(b, RESERVED_HI | fcw(dv), true); dv.setUint32(b + 4, RESERVED_HI | fsw(dv), true);
  dv.setUint32(b + 8, RESERVED_HI | fullTagWord(dv), true);
  if (real) {
    // Figure 8-11: IP 15..0; 0000 | IP 31..16 | 0 | opcode; operand 15..0; 0000 | operand 31..16 | 0.
    dv.setUint32(b + 12, RESERVED_HI | (fip & 0xffff), true);
    dv.setUint32(b + 16, (fip >>> 16) << 12 | fop, true);
    dv.setUint32(b + 20, RESERVED_HI | (fdp & 0xffff), true);
    dv.setUint32(b + 24, (fdp >>> 16) << 12, true);
  } else {
    // Figure 8-9: IP offset; 00000 | opcode | CS selector; operand offset; reserved | DS selector.
    dv.setUint32(b + 12, fip, true);
    dv.setUint32(b + 16, fop << 16, true);
    dv.setUint32(b + 20, fdp, true);
    dv.setUint32(b + 24, RESERVED_HI, true);
  }
}

/**
 * The inverse of writeEnv. The tag word in the image is the full 2-bit form; only "empty" or not
 * survives (the FXSAVE-layout record keeps the abridged tag and the class is recomputed from the
 * register when stored again). The 16-bit protected format has no opcode: FOP is left as it was.
 * Selectors are not kept; the upper halves of FIP/FDP become 0.
 */
function readEnv(c: Cpu, o16: boolean, real: boolean): void {
  const dv = c.dv, b = ENV_TMP;
  const step = o16 ? 2 : 4;
  dv.setUint16(FX_FCW, dv.getUint16(b, true) & 0x1f7f | 0x40, true);
  setFsw(dv, dv.getUint16(b + step, true));
  setFromFullTagWord(dv, dv.getUint16(b + 2 * step, true));
  let fip: number, fdp: number, fop = -1;
  if (o16) {
    const w8 = dv.getUint16(b + 8, true), w12 = dv.getUint16(b + 12, true);
    fip = dv.getUint16(b + 6, true); fdp = dv.getUint16(b + 10, true);
    if (real) { fip |= (w8 >>> 12) << 16; fdp |= (w12 >>> 12) << 16; fop = w8 & FOP_MASK; }
  } else if (real) {
    const w16 = dv.getUint32(b + 16, true), w24 = dv.getUint32(b + 24, true);
    fip = (dv.getUint16(b + 12, true) | ((w16 >>> 12) & 0xffff) << 16) >>> 0;
    fdp = (dv.getUint16(b + 20, true) | ((w24 >>> 12) & 0xffff) << 16) >>> 0;
    fop = w16 & FOP_MASK;
  } else {
    fip = dv.getUint32(b + 12, true); fdp = dv.getUint32(b + 20, true);
    fop = (dv.getUint32(b + 16, true) >>> 16) & FOP_MASK;
  }
  dv.setUint32(FX_FIP, fip, true); dv.setUint32(FX_FIP + 4, 0, true);
  dv.setUint32(FX_FDP, fdp, true); dv.setUint32(FX_FDP + 4, 0, true);
  if (fop >= 0) dv.setUint16(FX_FOP, fop, true);
}

export function fnstenv(c: Cpu, lo: number, hi: number, o16: boolean): void {
  const n = envSize(o16);
  probeStore(c, lo, hi, n);
  writeEnv(c, o16, realFormat(c));
  storeBytes(c, lo, hi, n, ENV_TMP);
  c.dv.setUint16(FX_FCW, fcw(c.dv) | 0x3f, true); // FNSTENV masks all exceptions afterwards
}
export function fldenv(c: Cpu, lo: number, hi: number, o16: boolean): void {
  loadBytes(c, lo, hi, envSize(o16), ENV_TMP);
  readEnv(c, o16, realFormat(c));
}
export function fnsave(c: Cpu, lo: number, hi: number, o16: boolean): void {
  const n = envSize(o16), dv = c.dv;
  probeStore(c, lo, hi, saveSize(o16));
  writeEnv(c, o16, realFormat(c));
  for (let i = 0; i < 8; i++) {
    const s = stOff(i), t = ENV_TMP + n + 10 * i;
    dv.setUint32(t, dv.getUint32(s, true), true); dv.setUint32(t + 4, dv.getUint32(s + 4, true), true);
    dv.setUint16(t + 8, dv.getUint16(s + 8, true), true);
  }
  storeBytes(c, lo, hi, saveSize(o16), ENV_TMP);
  finit(dv);
}
export function frstor(c: Cpu, lo: number, hi: number, o16: boolean): void {
  const n = envSize(o16), dv = c.dv;
  loadBytes(c, lo, hi, saveSize(o16), ENV_TMP);
  readEnv(c, o16, realFormat(c));
  for (let i = 0; i < 8; i++) {
    const s = stOff(i), t = ENV_TMP + n + 10 * i;
    dv.setUint32(s, dv.getUint32(t, true), true); dv.setUint32(s + 4, dv.getUint32(t + 4, true), true);
    dv.setUint16(s + 8, dv.getUint16(t + 8, true), true); dv.setUint16(s + 10, 0, true); dv.setUint32(s + 12, 0, true);
  }
}
