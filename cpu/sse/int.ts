// Packed integer arithmetic for MMX (n = 8 bytes) and SSE2..SSE4.2 (n = 16 bytes):
// lane-wise add/sub (wrapping and saturating), multiplies, averages, min/max, compares,
// logic, shifts. Results are staged in RES_TMP, then copied (operands may alias).

import { Vec, RES_TMP } from './vec.js';

const T = RES_TMP;
const sat = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

/** Lane operations for binLanes (each takes lane values already read signed or unsigned). */
export type LaneOp = (a: number, b: number) => number;
export const L = {
  add: (a: number, b: number): number => a + b,
  sub: (a: number, b: number): number => a - b,
  addsb: (a: number, b: number): number => sat(a + b, -128, 127),
  addsw: (a: number, b: number): number => sat(a + b, -32768, 32767),
  addusb: (a: number, b: number): number => sat(a + b, 0, 255),
  addusw: (a: number, b: number): number => sat(a + b, 0, 65535),
  subsb: (a: number, b: number): number => sat(a - b, -128, 127),
  subsw: (a: number, b: number): number => sat(a - b, -32768, 32767),
  subusb: (a: number, b: number): number => sat(a - b, 0, 255),
  subusw: (a: number, b: number): number => sat(a - b, 0, 65535),
  mullw: (a: number, b: number): number => Math.imul(a, b),
  mulhw: (a: number, b: number): number => (a * b) >> 16,
  mulhuw: (a: number, b: number): number => ((a * b) / 65536) | 0,
  mulhrsw: (a: number, b: number): number => (((a * b) >> 14) + 1) >> 1,
  mulld: (a: number, b: number): number => Math.imul(a, b),
  avg: (a: number, b: number): number => (a + b + 1) >>> 1,
  min: (a: number, b: number): number => (a < b ? a : b),
  max: (a: number, b: number): number => (a > b ? a : b),
  eq: (a: number, b: number): number => (a === b ? -1 : 0),
  gt: (a: number, b: number): number => (a > b ? -1 : 0),
  and: (a: number, b: number): number => a & b,
  andn: (a: number, b: number): number => ~a & b,
  or: (a: number, b: number): number => a | b,
  xor: (a: number, b: number): number => a ^ b,
  sign: (a: number, b: number): number => (b < 0 ? -a : b === 0 ? 0 : a),
  abs: (_a: number, b: number): number => (b < 0 ? -b : b),
};

function rd(x: Vec, off: number, size: number, signed: boolean): number {
  switch (size) {
    case 1: return signed ? x.i8[off] : x.u8[off];
    case 2: return signed ? x.i16[off >> 1] : x.u16[off >> 1];
    default: return signed ? x.i32[off >> 2] : x.u32[off >> 2];
  }
}
function wr(x: Vec, off: number, size: number, v: number): void {
  switch (size) {
    case 1: x.u8[off] = v; break;
    case 2: x.u16[off >> 1] = v; break;
    default: x.u32[off >> 2] = v;
  }
}
const commit = (x: Vec, d: number, n: number): void => { x.u8.copyWithin(d, T, T + n); };

/** d[i] = op(d[i], s[i]) over n bytes in lanes of `size` bytes. */
export function binLanes(x: Vec, d: number, s: number, n: number, size: number, signed: boolean, op: LaneOp): void {
  for (let i = 0; i < n; i += size) wr(x, T + i, size, op(rd(x, d + i, size, signed), rd(x, s + i, size, signed)));
  commit(x, d, n);
}

/** 64-bit lanes: add or subtract with carry between the halves. */
export function addq(x: Vec, d: number, s: number, n: number, sub: boolean): void {
  for (let i = 0; i < n; i += 8) {
    const al = x.u32[(d + i) >> 2], ah = x.u32[(d + i + 4) >> 2], bl = x.u32[(s + i) >> 2], bh = x.u32[(s + i + 4) >> 2];
    if (sub) { const l = al - bl; x.u32[(T + i) >> 2] = l; x.u32[(T + i + 4) >> 2] = ah - bh - (l < 0 ? 1 : 0); }
    else { const l = al + bl; x.u32[(T + i) >> 2] = l; x.u32[(T + i + 4) >> 2] = ah + bh + (l > 0xffffffff ? 1 : 0); }
  }
  commit(x, d, n);
}

/** PCMPEQQ / PCMPGTQ (signed). */
export function cmpq(x: Vec, d: number, s: number, gt: boolean): void {
  for (let i = 0; i < 16; i += 8) {
    const al = x.u32[(d + i) >> 2], ah = x.i32[(d + i + 4) >> 2], bl = x.u32[(s + i) >> 2], bh = x.i32[(s + i + 4) >> 2];
    const t = gt ? ah > bh || (ah === bh && al > bl) : ah === bh && al === bl;
    x.i32[(T + i) >> 2] = t ? -1 : 0; x.i32[(T + i + 4) >> 2] = t ? -1 : 0;
  }
  commit(x, d, 16);
}

/** PMULUDQ / PMULDQ: lanes 0 (and 2) of 32 bits -> 64-bit products. */
export function mulDq(x: Vec, d: number, s: number, n: number, signed: boolean): void {
  for (let i = 0; i < n; i += 8) {
    let a = x.u32[(d + i) >> 2], b = x.u32[(s + i) >> 2], neg = false;
    if (signed) {
      const sa = x.i32[(d + i) >> 2], sb = x.i32[(s + i) >> 2];
      neg = (sa < 0) !== (sb < 0); a = Math.abs(sa); b = Math.abs(sb);
    }
    // 32x32 -> 64 with 16-bit pieces
    const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
    const ll = al * bl, mid = ah * bl + al * bh, hh = ah * bh;
    let lo = ll + (mid % 65536) * 65536, hi = hh + Math.floor(mid / 65536);
    hi += Math.floor(lo / 4294967296); lo = lo % 4294967296;
    if (neg) { lo = (~lo + 1) >>> 0; hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0; }
    x.u32[(T + i) >> 2] = lo; x.u32[(T + i + 4) >> 2] = hi;
  }
  commit(x, d, n);
}

/** PMADDWD: pairs of signed words multiplied and added into dwords. */
export function maddwd(x: Vec, d: number, s: number, n: number): void {
  for (let i = 0; i < n; i += 4) {
    const v = x.i16[(d + i) >> 1] * x.i16[(s + i) >> 1] + x.i16[(d + i + 2) >> 1] * x.i16[(s + i + 2) >> 1];
    x.i32[(T + i) >> 2] = v | 0;
  }
  commit(x, d, n);
}
/** PMADDUBSW: unsigned bytes of d times signed bytes of s, pairs summed with signed saturation. */
export function maddubsw(x: Vec, d: number, s: number, n: number): void {
  for (let i = 0; i < n; i += 2) {
    const v = x.u8[d + i] * x.i8[s + i] + x.u8[d + i + 1] * x.i8[s + i + 1];
    x.i16[(T + i) >> 1] = sat(v, -32768, 32767);
  }
  commit(x, d, n);
}
/** PSADBW: sum of absolute byte differences per 8-byte group, into the group's low word. */
export function sadbw(x: Vec, d: number, s: number, n: number): void {
  for (let g = 0; g < n; g += 8) {
    let sum = 0;
    for (let i = 0; i < 8; i++) sum += Math.abs(x.u8[d + g + i] - x.u8[s + g + i]);
    x.u32[(T + g) >> 2] = sum; x.u32[(T + g + 4) >> 2] = 0;
  }
  commit(x, d, n);
}

/** Shift count of PSLL/PSRL/PSRA by register: the whole low 64 bits, unsigned. */
export function shiftCount(x: Vec, s: number): number {
  return x.u32[(s + 4) >> 2] !== 0 ? 0xffff : Math.min(x.u32[s >> 2], 0xffff);
}

/** PSLL/PSRL/PSRA on lanes of 2, 4 or 8 bytes by `count`. kind: 0 left, 1 logical right, 2 arithmetic right. */
export function shiftLanes(x: Vec, d: number, n: number, size: number, kind: number, count: number): void {
  const bits = size * 8;
  for (let i = 0; i < n; i += size) {
    if (size === 8) {
      let lo = x.u32[(d + i) >> 2], hi = x.u32[(d + i + 4) >> 2];
      const c = count;
      if (c >= 64) { lo = 0; hi = 0; }
      else if (c >= 32) { if (kind === 0) { hi = lo << (c - 32); lo = 0; } else { lo = hi >>> (c - 32); hi = 0; } }
      else if (c > 0) {
        if (kind === 0) { hi = (hi << c) | (lo >>> (32 - c)); lo = lo << c; }
        else { lo = (lo >>> c) | (hi << (32 - c)); hi = hi >>> c; }
      }
      x.u32[(d + i) >> 2] = lo; x.u32[(d + i + 4) >> 2] = hi;
      continue;
    }
    const v = rd(x, d + i, size, kind === 2);
    let r: number;
    if (kind === 2) r = count >= bits ? (v < 0 ? -1 : 0) : v >> count;
    else if (count >= bits) r = 0;
    else r = kind === 0 ? v << count : v >>> count;
    wr(x, d + i, size, r);
  }
}
/** PSLLDQ/PSRLDQ: byte shift of the whole register. */
export function shiftBytes(x: Vec, d: number, count: number, left: boolean): void {
  const c = Math.min(count, 16);
  for (let i = 0; i < 16; i++) {
    const src = left ? i - c : i + c;
    x.u8[T + i] = src >= 0 && src < 16 ? x.u8[d + src] : 0;
  }
  commit(x, d, 16);
}

/** PABS* and PSIGN*: lane op with s (and d for PSIGN). */
export function signLanes(x: Vec, d: number, s: number, n: number, size: number, abs: boolean): void {
  for (let i = 0; i < n; i += size) {
    const a = rd(x, d + i, size, true), b = rd(x, s + i, size, true);
    wr(x, T + i, size, abs ? (b < 0 ? -b : b) : b < 0 ? -a : b === 0 ? 0 : a);
  }
  commit(x, d, n);
}

/** PHADD/PHSUB (W, D, SW): pairs within d then within s. */
export function horizI(x: Vec, d: number, s: number, n: number, size: number, sub: boolean, saturate: boolean): void {
  const half = n / 2;
  for (let i = 0; i < n; i += size) {
    const src = i < half ? d : s, k = (i % half) * 2;
    const a = rd(x, src + k, size, true), b = rd(x, src + k + size, size, true);
    let v = sub ? a - b : a + b;
    if (saturate) v = sat(v, -32768, 32767);
    wr(x, T + i, size, v);
  }
  commit(x, d, n);
}

/** PMULHRSW, PAVG* and others use binLanes; PMOVMSKB gathers byte sign bits into a GPR. */
export function movmskb(x: Vec, d: number, s: number, n: number): void {
  let m = 0;
  for (let i = 0; i < n; i++) m |= (x.u8[s + i] >> 7) << i;
  x.u32[d >> 2] = m; x.u32[(d >> 2) + 1] = 0;
}
