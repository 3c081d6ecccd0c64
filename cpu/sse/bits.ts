// POPCNT, LZCNT, TZCNT and MOVBE: general-purpose instructions that arrived with the SSE4.2
// generation. Operands are GPR offsets in the record (or the memory scratch slot); the
// arithmetic flags they define are returned in sseOut.eflags.

import { Vec, sseOut } from './vec.js';

const pop32 = (v: number): number => {
  v = v - ((v >>> 1) & 0x55555555); v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
};

/** Write a result of `size` bytes to a GPR: 16-bit keeps the upper bits, 32-bit zero-extends. */
function writeGpr(x: Vec, d: number, size: number, lo: number, hi: number): void {
  if (size === 2) { x.u16[d >> 1] = lo; return; }
  x.u32[d >> 2] = lo; x.u32[(d >> 2) + 1] = size === 8 ? hi : 0;
}

const R = new Uint32Array(2);
/** The source operand of `size` bytes as two halves in R. */
function split(x: Vec, s: number, size: number): void {
  R[0] = size === 2 ? x.u16[s >> 1] : x.u32[s >> 2];
  R[1] = size === 8 ? x.u32[(s >> 2) + 1] : 0;
}

export function popcnt(x: Vec, d: number, s: number, size: number): void {
  split(x, s, size);
  const c = pop32(R[0]) + pop32(R[1]);
  writeGpr(x, d, size, c, 0);
  sseOut.eflags = c === 0 ? 0x40 : 0;
}
export function lzcnt(x: Vec, d: number, s: number, size: number): void {
  split(x, s, size);
  const bits = size * 8;
  let c: number;
  if (size === 8) c = R[1] !== 0 ? Math.clz32(R[1]) : 32 + Math.clz32(R[0]);
  else c = Math.clz32(R[0]) - (32 - bits);
  writeGpr(x, d, size, c, 0);
  sseOut.eflags = (c === bits ? 0x01 : 0) | (c === 0 ? 0x40 : 0);
}
export function tzcnt(x: Vec, d: number, s: number, size: number): void {
  split(x, s, size);
  const bits = size * 8;
  const tz = (v: number): number => (v === 0 ? 32 : 31 - Math.clz32(v & -v));
  let c = R[0] !== 0 ? tz(R[0]) : size === 8 ? 32 + tz(R[1]) : bits;
  if (c > bits) c = bits;
  writeGpr(x, d, size, c, 0);
  sseOut.eflags = (c === bits ? 0x01 : 0) | (c === 0 ? 0x40 : 0);
}
/** MOVBE: byte-reversed move of `size` bytes (load into a GPR, or store from one). */
export function movbe(x: Vec, d: number, s: number, size: number, toGpr: boolean): void {
  const lo = x.u32[s >> 2], hi = x.u32[(s >> 2) + 1];
  const sw = (v: number): number => ((v >>> 24) | ((v >>> 8) & 0xff00) | ((v & 0xff00) << 8) | (v << 24)) >>> 0;
  if (size === 2) {
    const v = x.u16[s >> 1]; const r = ((v >> 8) | (v << 8)) & 0xffff;
    if (toGpr) x.u16[d >> 1] = r; else x.u16[d >> 1] = r;
  } else if (size === 4) {
    if (toGpr) writeGpr(x, d, 4, sw(lo), 0); else x.u32[d >> 2] = sw(lo);
  } else { x.u32[d >> 2] = sw(hi); x.u32[(d >> 2) + 1] = sw(lo); }
}
