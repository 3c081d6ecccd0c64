// SSE4.2 string compares (PCMPESTRI/PCMPESTRM/PCMPISTRI/PCMPISTRM) and CRC32C,
// following the aggregation/polarity/output rules of Intel SDM Vol. 2 4.1.

import { Vec, sseOut, xmmOff } from './vec.js';

const EL = new Int32Array(2 * 16); // elements of the two operands (a: 0..15, b: 16..31)

function elements(x: Vec, off: number, base: number, fmt: number): void {
  const n = fmt & 1 ? 8 : 16;
  for (let i = 0; i < n; i++) {
    EL[base + i] = fmt === 0 ? x.u8[off + i] : fmt === 1 ? x.u16[(off >> 1) + i] : fmt === 2 ? x.i8[off + i] : x.i16[(off >> 1) + i];
  }
}
function implicitLen(base: number, n: number): number {
  for (let i = 0; i < n; i++) if (EL[base + i] === 0) return i;
  return n;
}
function explicitLen(lo: number, hi: number, wide: boolean, n: number): number {
  // the register is signed; its absolute value saturates at the element count
  let v: number;
  if (wide) v = (hi | 0) < 0 ? ((hi | 0) !== -1 || (lo | 0) >= 0 ? n : -(lo | 0)) : hi !== 0 ? n : lo >>> 0;
  else v = Math.abs(lo | 0);
  return v > n ? n : v;
}

/**
 * One string compare. d = first operand (XMM reg), s = second (XMM/m128), imm = control.
 * explicit: lengths from RAX/RDX at offsets la/ld (two u32 halves each); wide = REX.W.
 * index: PCMPxSTRI writes ECX (at gpr offset cx); otherwise PCMPxSTRM writes XMM0.
 */
export function pcmpstr(x: Vec, d: number, s: number, imm: number, explicit: boolean, index: boolean,
  la: number, ld: number, cx: number, wide: boolean): void {
  const fmt = imm & 3, agg = (imm >> 2) & 3, pol = (imm >> 4) & 3, n = fmt & 1 ? 8 : 16;
  elements(x, d, 0, fmt); elements(x, s, 16, fmt);
  const lenA = explicit ? explicitLen(x.u32[la >> 2], x.u32[(la >> 2) + 1], wide, n) : implicitLen(0, n);
  const lenB = explicit ? explicitLen(x.u32[ld >> 2], x.u32[(ld >> 2) + 1], wide, n) : implicitLen(16, n);
  let res = 0;
  for (let i = 0; i < n; i++) {
    let bit = 0;
    const b = EL[16 + i], bValid = i < lenB;
    switch (agg) {
      case 0: // equal any: b[i] is in the set a[0..lenA)
        if (bValid) for (let j = 0; j < lenA; j++) if (EL[j] === b) { bit = 1; break; }
        break;
      case 1: // ranges: a holds (low, high) pairs
        if (bValid) for (let j = 0; j + 1 < lenA; j += 2) if (b >= EL[j] && b <= EL[j + 1]) { bit = 1; break; }
        break;
      case 2: { // equal each
        const aValid = i < lenA;
        bit = aValid && bValid ? (EL[i] === b ? 1 : 0) : !aValid && !bValid ? 1 : 0;
        break;
      }
      default: { // equal ordered: a occurs in b starting at i
        bit = 1;
        for (let j = 0; j < n - i; j++) {
          if (j >= lenA) break;
          if (i + j >= lenB || EL[j] !== EL[16 + i + j]) { bit = 0; break; }
        }
      }
    }
    res |= bit << i;
  }
  const all = (1 << n) - 1;
  if (pol === 1) res = ~res & all;
  else if (pol === 3) res = (res ^ ((1 << lenB) - 1)) & all;
  if (index) {
    let idx = n;
    if (res !== 0) idx = imm & 0x40 ? 31 - Math.clz32(res) : 31 - Math.clz32(res & -res);
    x.u32[cx >> 2] = idx; x.u32[(cx >> 2) + 1] = 0;
  } else {
    const o = xmmOff(0);
    if (imm & 0x40) {
      for (let i = 0; i < n; i++) {
        const v = (res >> i) & 1 ? 0xffff : 0;
        if (n === 16) x.u8[o + i] = v & 0xff; else x.u16[(o >> 1) + i] = v;
      }
    } else { x.u32[o >> 2] = res; x.u32[(o >> 2) + 1] = 0; x.u32[(o >> 2) + 2] = 0; x.u32[(o >> 2) + 3] = 0; }
  }
  sseOut.eflags = (res !== 0 ? 0x01 : 0) | (lenB < n ? 0x40 : 0) | (lenA < n ? 0x80 : 0) | (res & 1 ? 0x800 : 0);
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();
/** CRC32 (Castagnoli, as SSE4.2 defines it): accumulate `n` bytes of s into the 32-bit value at d. */
export function crc32(x: Vec, d: number, s: number, n: number): void {
  let c = x.u32[d >> 2];
  for (let i = 0; i < n; i++) c = CRC_TABLE[(c ^ x.u8[s + i]) & 0xff] ^ (c >>> 8);
  x.u32[d >> 2] = c >>> 0; x.u32[(d >> 2) + 1] = 0;
}
