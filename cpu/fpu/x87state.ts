// The x87 register stack as it lives in the FXSAVE area of the state record: ST(i) slots
// in stack order (ST0 first, 16 bytes each), the abridged tag byte per *physical* register,
// FCW/FSW with TOP. Push and pop rotate the slots so the record is always valid FXSAVE.

import { FX_FCW, FX_FSW, FX_FTW, FX_ST0, FX_FOP } from '../state.js';
import { Fp, env, out, EXT24, EXT53, EXT64, Format } from './softfloat.js';
import { unpackExt, outExtSE } from './arith.js';

// FSW bits (Intel SDM Vol. 1 8.1.3)
export const SW_IE = 0x1, SW_DE = 0x2, SW_ZE = 0x4, SW_OE = 0x8, SW_UE = 0x10, SW_PE = 0x20;
export const SW_SF = 0x40, SW_ES = 0x80, SW_C0 = 0x100, SW_C1 = 0x200, SW_C2 = 0x400;
export const SW_TOP_SHIFT = 11, SW_TOP = 0x3800, SW_C3 = 0x4000, SW_B = 0x8000;
export const SW_CC = SW_C0 | SW_C1 | SW_C2 | SW_C3;
// FCW fields
export const CW_PC_SHIFT = 8, CW_RC_SHIFT = 10;
// Full tag word values (FSTENV/FSAVE)
export const TAG_VALID = 0, TAG_ZERO = 1, TAG_SPECIAL = 2, TAG_EMPTY = 3;

export const fcw = (dv: DataView): number => dv.getUint16(FX_FCW, true);
export const fsw = (dv: DataView): number => dv.getUint16(FX_FSW, true);
export const setFsw = (dv: DataView, v: number): void => dv.setUint16(FX_FSW, v & 0xffff, true);
export const top = (dv: DataView): number => (fsw(dv) >> SW_TOP_SHIFT) & 7;
const setTop = (dv: DataView, t: number): void => setFsw(dv, (fsw(dv) & ~SW_TOP) | ((t & 7) << SW_TOP_SHIFT));
export const stOff = (i: number): number => FX_ST0 + (i & 7) * 16;

/** Is ST(i) empty (abridged tag bit of its physical register clear)? */
export function isEmpty(dv: DataView, i: number): boolean {
  return (dv.getUint8(FX_FTW) & (1 << ((top(dv) + i) & 7))) === 0;
}
function setTag(dv: DataView, i: number, valid: boolean): void {
  const bit = 1 << ((top(dv) + i) & 7), t = dv.getUint8(FX_FTW);
  dv.setUint8(FX_FTW, valid ? t | bit : t & ~bit);
}

/** Unpack ST(i) into d; returns the denormal-operand flag. */
export function readST(dv: DataView, i: number, d: Fp): number {
  const o = stOff(i);
  return unpackExt(d, dv.getUint32(o, true), dv.getUint32(o + 4, true), dv.getUint16(o + 8, true));
}
export function writeSTRaw(dv: DataView, i: number, lo: number, hi: number, se: number): void {
  const o = stOff(i);
  dv.setUint32(o, lo >>> 0, true); dv.setUint32(o + 4, hi >>> 0, true); dv.setUint16(o + 8, se & 0xffff, true);
  dv.setUint16(o + 10, 0, true); dv.setUint32(o + 12, 0, true);
  setTag(dv, i, true);
}
/** Write softfloat's `out` (rounded to an 80-bit format) into ST(i) and mark it valid. */
export function writeSTOut(dv: DataView, i: number): void { writeSTRaw(dv, i, out.lo, out.hi, outExtSE()); }

/** Rotate the 8 slots: up (pop) moves ST(i+1) to ST(i) and the old ST0 to ST7; down is the reverse. */
function rotate(dv: DataView, up: boolean): void {
  if (up) {
    for (let k = 0; k < 4; k++) ROT[k] = dv.getUint32(FX_ST0 + 4 * k, true);
    for (let o = FX_ST0 + 16; o < FX_ST0 + 128; o += 4) dv.setUint32(o - 16, dv.getUint32(o, true), true);
    for (let k = 0; k < 4; k++) dv.setUint32(FX_ST0 + 112 + 4 * k, ROT[k], true);
  } else {
    for (let k = 0; k < 4; k++) ROT[k] = dv.getUint32(FX_ST0 + 112 + 4 * k, true);
    for (let o = FX_ST0 + 108; o >= FX_ST0; o -= 4) dv.setUint32(o + 16, dv.getUint32(o, true), true);
    for (let k = 0; k < 4; k++) dv.setUint32(FX_ST0 + 4 * k, ROT[k], true);
  }
}
const ROT = new Uint32Array(4);

/** Mark ST0 empty and increment TOP (the register's bits stay, as on hardware). */
export function pop(dv: DataView): void {
  setTag(dv, 0, false); setTop(dv, top(dv) + 1); rotate(dv, true);
}
/** Decrement TOP; the caller then writes ST0. */
export function pushSlot(dv: DataView): void { setTop(dv, top(dv) - 1); rotate(dv, false); }
export function decTop(dv: DataView): void { setTop(dv, top(dv) - 1); rotate(dv, false); }
export function incTop(dv: DataView): void { setTop(dv, top(dv) + 1); rotate(dv, true); }
export function freeST(dv: DataView, i: number): void { setTag(dv, i, false); }

/** The format that precision control (FCW.PC) selects for the basic arithmetic. */
export function pcFormat(dv: DataView): Format {
  const pc = (fcw(dv) >> CW_PC_SHIFT) & 3;
  return pc === 0 ? EXT24 : pc === 2 ? EXT53 : EXT64;
}

/** Prepare softfloat's environment from FCW before an operation. */
export function beginOp(dv: DataView): void {
  const cw = fcw(dv);
  env.rc = (cw >> CW_RC_SHIFT) & 3; env.flags = 0; env.roundedUp = 0; env.ftz = 0; env.tiny = 0;
  env.oeMasked = (cw & SW_OE) !== 0 ? 1 : 0; env.ueMasked = (cw & SW_UE) !== 0 ? 1 : 0;
}

/**
 * Merge env.flags into FSW. Returns true if the result may be delivered: false when an
 * unmasked IE/DE/ZE aborts the instruction (destination and stack stay unchanged).
 * Sets ES and B when any raised exception is unmasked (#MF comes at the next waiting op).
 */
export function endOp(dv: DataView): boolean {
  let f = env.flags;
  if (f === 0) return true;
  let unmasked = f & ~fcw(dv) & 0x3f;
  // an unmasked denormal operand stops the instruction before it computes anything
  if (unmasked & SW_DE) { f &= SW_IE | SW_DE; unmasked &= SW_IE | SW_DE; }
  let sw = fsw(dv) | f;
  if (unmasked) sw |= SW_ES | SW_B;
  setFsw(dv, sw);
  return (unmasked & (SW_IE | SW_DE | SW_ZE)) === 0;
}
/** C1 after a rounded result: 1 if the magnitude was rounded up (only meaningful with PE). */
export function setC1FromRounding(dv: DataView): void {
  let sw = fsw(dv) & ~SW_C1;
  if ((env.flags & SW_PE) !== 0 && env.roundedUp) sw |= SW_C1;
  setFsw(dv, sw);
}
export function setCC(dv: DataView, c0: number, c1: number, c2: number, c3: number): void {
  setFsw(dv, (fsw(dv) & ~SW_CC) | (c0 ? SW_C0 : 0) | (c1 ? SW_C1 : 0) | (c2 ? SW_C2 : 0) | (c3 ? SW_C3 : 0));
}

/**
 * Stack fault: IE|SF with C1 = 1 for overflow, 0 for underflow. Returns true if masked
 * (the caller then delivers the QNaN indefinite); unmasked sets ES/B and aborts.
 */
export function stackFault(dv: DataView, overflow: boolean): boolean {
  let sw = (fsw(dv) | SW_IE | SW_SF) & ~SW_C1;
  if (overflow) sw |= SW_C1;
  const masked = (fcw(dv) & SW_IE) !== 0;
  if (!masked) sw |= SW_ES | SW_B;
  setFsw(dv, sw);
  return masked;
}

export const INDEF_LO = 0, INDEF_HI = 0xc0000000, INDEF_SE = 0xffff;

/**
 * Push a value already in `out` and clear C1; on stack overflow push the indefinite with C1 = 1
 * (the host keeps C1 set after a masked overflow). Returns false if aborted.
 */
export function pushOut(dv: DataView): boolean {
  if (!isEmpty(dv, 7)) {
    if (!stackFault(dv, true)) return false;
    pushSlot(dv); writeSTRaw(dv, 0, INDEF_LO, INDEF_HI, INDEF_SE); return true;
  }
  pushSlot(dv); writeSTOut(dv, 0); setFsw(dv, fsw(dv) & ~SW_C1); return true;
}

/** Full 2-bit tag of physical register `phys` (for FSTENV/FSAVE), from its contents. */
export function fullTag(dv: DataView, phys: number): number {
  if ((dv.getUint8(FX_FTW) & (1 << phys)) === 0) return TAG_EMPTY;
  const o = stOff((phys - top(dv)) & 7);
  const se = dv.getUint16(o + 8, true) & 0x7fff, hi = dv.getUint32(o + 4, true), lo = dv.getUint32(o, true);
  if (se === 0x7fff) return TAG_SPECIAL;
  if (se === 0) return (hi | lo) === 0 ? TAG_ZERO : TAG_SPECIAL;
  return (hi & 0x80000000) !== 0 ? TAG_VALID : TAG_SPECIAL;
}
export function fullTagWord(dv: DataView): number {
  let w = 0;
  for (let p = 0; p < 8; p++) w |= fullTag(dv, p) << (2 * p);
  return w;
}
/** Abridged tag from a full tag word (FRSTOR/FLDENV). */
export function setFromFullTagWord(dv: DataView, w: number): void {
  let t = 0;
  for (let p = 0; p < 8; p++) if (((w >> (2 * p)) & 3) !== TAG_EMPTY) t |= 1 << p;
  dv.setUint8(FX_FTW, t);
}

/** FNINIT: FCW 037F, FSW 0, all empty, FOP/FIP/FDP cleared (register contents kept). */
export function finit(dv: DataView): void {
  dv.setUint16(FX_FCW, 0x037f, true); setFsw(dv, 0); dv.setUint8(FX_FTW, 0);
  dv.setUint16(FX_FOP, 0, true);
  for (let o = FX_FOP + 2; o < FX_FOP + 0x12; o += 2) dv.setUint16(o, 0, true);
}

