// Data movement for MMX/SSE: packs with saturation, unpacks, shuffles (PSHUF*, SHUFPS/PD,
// PSHUFB, PALIGNR), sign/zero extension, blends, inserts/extracts, PTEST, PHMINPOSUW,
// MPSADBW, MOVMSKPS/PD. All stage through RES_TMP so operands may alias.

import { Vec, RES_TMP, sseOut } from './vec.js';

const T = RES_TMP;
const commit = (x: Vec, d: number, n: number): void => { x.u8.copyWithin(d, T, T + n); };
const sat = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);

/** PACKSSWB/PACKUSWB/PACKSSDW/PACKUSDW: d's lanes then s's lanes, narrowed with saturation. */
export function pack(x: Vec, d: number, s: number, n: number, from: number, unsigned: boolean): void {
  const cnt = n / from;
  for (let k = 0; k < 2 * cnt; k++) {
    const src = k < cnt ? d : s, i = k % cnt;
    if (from === 2) {
      const v = x.i16[(src >> 1) + i];
      x.u8[T + k] = unsigned ? sat(v, 0, 255) : sat(v, -128, 127) & 0xff;
    } else {
      const v = x.i32[(src >> 2) + i];
      x.u16[(T >> 1) + k] = unsigned ? sat(v, 0, 65535) : sat(v, -32768, 32767) & 0xffff;
    }
  }
  commit(x, d, n);
}

/** PUNPCKLxx/PUNPCKHxx: interleave lanes of `size` bytes from the low (or high) halves of d and s. */
export function unpack(x: Vec, d: number, s: number, n: number, size: number, high: boolean): void {
  const base = high ? n / 2 : 0;
  for (let i = 0, o = 0; o < n; i += size) {
    for (let b = 0; b < size; b++) x.u8[T + o + b] = x.u8[d + base + i + b];
    o += size;
    for (let b = 0; b < size; b++) x.u8[T + o + b] = x.u8[s + base + i + b];
    o += size;
  }
  commit(x, d, n);
}

/** PSHUFD (lanes of 4 over 16 bytes), PSHUFW (lanes of 2 over 8), PSHUFLW/HW (words in one half). */
export function pshuf(x: Vec, d: number, s: number, imm: number, size: number, n: number, at: number): void {
  x.u8.copyWithin(T, s, s + 16);
  for (let i = 0; i < 4; i++) {
    const sel = (imm >> (2 * i)) & 3;
    for (let b = 0; b < size; b++) x.u8[T + at + i * size + b] = x.u8[s + at + sel * size + b];
  }
  commit(x, d, n);
}
/** SHUFPS: two lanes from d, two from s. SHUFPD: one each. */
export function shufps(x: Vec, d: number, s: number, imm: number): void {
  for (let i = 0; i < 4; i++) x.u32[(T >> 2) + i] = x.u32[((i < 2 ? d : s) >> 2) + ((imm >> (2 * i)) & 3)];
  commit(x, d, 16);
}
export function shufpd(x: Vec, d: number, s: number, imm: number): void {
  const a = (imm & 1) * 2, b = ((imm >> 1) & 1) * 2;
  x.u32[(T >> 2)] = x.u32[(d >> 2) + a]; x.u32[(T >> 2) + 1] = x.u32[(d >> 2) + a + 1];
  x.u32[(T >> 2) + 2] = x.u32[(s >> 2) + b]; x.u32[(T >> 2) + 3] = x.u32[(s >> 2) + b + 1];
  commit(x, d, 16);
}

/** PSHUFB: each byte of s selects a byte of d (bit 7 = zero). */
export function pshufb(x: Vec, d: number, s: number, n: number): void {
  const m = n - 1;
  for (let i = 0; i < n; i++) { const c = x.u8[s + i]; x.u8[T + i] = c & 0x80 ? 0 : x.u8[d + (c & m)]; }
  commit(x, d, n);
}
/** PALIGNR: (d:s) shifted right by imm bytes, low n bytes kept. */
export function palignr(x: Vec, d: number, s: number, imm: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const k = i + imm;
    x.u8[T + i] = k < n ? x.u8[s + k] : k < 2 * n ? x.u8[d + k - n] : 0;
  }
  commit(x, d, n);
}

/** PMOVSX/PMOVZX: `count` lanes of `from` bytes widened to `to` bytes. */
export function pmovx(x: Vec, d: number, s: number, from: number, to: number, signed: boolean): void {
  const count = 16 / to;
  for (let i = 0; i < count; i++) {
    let v = from === 1 ? (signed ? x.i8[s + i] : x.u8[s + i]) : from === 2 ? (signed ? x.i16[(s >> 1) + i] : x.u16[(s >> 1) + i])
      : (signed ? x.i32[(s >> 2) + i] : x.u32[(s >> 2) + i]);
    const o = T + i * to;
    if (to === 2) x.u16[o >> 1] = v;
    else if (to === 4) x.u32[o >> 2] = v;
    else { x.u32[o >> 2] = v; x.u32[(o >> 2) + 1] = v < 0 ? 0xffffffff : 0; }
    v = 0;
  }
  commit(x, d, 16);
}

/** BLENDPS/PD/PBLENDW by immediate bits, or (variable) by the sign bits of XMM0's lanes. */
export function blend(x: Vec, d: number, s: number, imm: number, size: number, maskReg: number): void {
  for (let i = 0; i < 16 / size; i++) {
    const pick = maskReg >= 0 ? (x.u8[maskReg + i * size + size - 1] & 0x80) !== 0 : ((imm >> i) & 1) !== 0;
    const src = pick ? s : d;
    for (let b = 0; b < size; b++) x.u8[T + i * size + b] = x.u8[src + i * size + b];
  }
  commit(x, d, 16);
}

/** PTEST: ZF = (d AND s) == 0, CF = (NOT d AND s) == 0. */
export function ptest(x: Vec, d: number, s: number): void {
  let z = 0, c = 0;
  for (let i = 0; i < 4; i++) { const a = x.u32[(d >> 2) + i], b = x.u32[(s >> 2) + i]; z |= a & b; c |= ~a & b; }
  sseOut.eflags = (z === 0 ? 0x40 : 0) | (c === 0 ? 1 : 0);
}

/** PHMINPOSUW: the minimum unsigned word and its index; the rest zeroed. */
export function phminposuw(x: Vec, d: number, s: number): void {
  let m = 0x10000, idx = 0;
  for (let i = 0; i < 8; i++) { const v = x.u16[(s >> 1) + i]; if (v < m) { m = v; idx = i; } }
  x.u32[d >> 2] = m | (idx << 16); x.u32[(d >> 2) + 1] = 0; x.u32[(d >> 2) + 2] = 0; x.u32[(d >> 2) + 3] = 0;
}

/** MPSADBW: eight sums of absolute differences of 4-byte blocks (SSE4.1). */
export function mpsadbw(x: Vec, d: number, s: number, imm: number): void {
  const so = (imm & 3) * 4, dOff = ((imm >> 2) & 1) * 4;
  for (let i = 0; i < 8; i++) {
    let sum = 0;
    for (let j = 0; j < 4; j++) sum += Math.abs(x.u8[d + dOff + i + j] - x.u8[s + so + j]);
    x.u16[(T >> 1) + i] = sum;
  }
  commit(x, d, 16);
}

/** MOVMSKPS/PD: lane sign bits into a GPR (upper half cleared). */
export function movmsk(x: Vec, d: number, s: number, size: number): void {
  let m = 0;
  for (let i = 0; i < 16 / size; i++) m |= (x.u8[s + i * size + size - 1] >> 7) << i;
  x.u32[d >> 2] = m; x.u32[(d >> 2) + 1] = 0;
}

/** PEXTRB/W/D/Q, EXTRACTPS: lane imm of s into a GPR (zero-extended to 64 bits). */
export function pextr(x: Vec, d: number, s: number, imm: number, size: number, n: number): void {
  const i = imm & (n / size - 1), o = s + i * size;
  const lo = size === 1 ? x.u8[o] : size === 2 ? x.u16[o >> 1] : x.u32[o >> 2];
  x.u32[d >> 2] = lo; x.u32[(d >> 2) + 1] = size === 8 ? x.u32[(o >> 2) + 1] : 0;
}
/** PINSRB/W/D/Q: the low `size` bytes of s into lane imm of d. */
export function pinsr(x: Vec, d: number, s: number, imm: number, size: number, n: number): void {
  const i = imm & (n / size - 1);
  x.u8.copyWithin(d + i * size, s, s + size);
}
/** INSERTPS: s lane imm[7:6] (register form) into d lane imm[5:4], then zero lanes in imm[3:0]. */
export function insertps(x: Vec, d: number, s: number, imm: number, isMem: boolean): void {
  const v = x.u32[(s >> 2) + (isMem ? 0 : (imm >> 6) & 3)];
  x.u32[(d >> 2) + ((imm >> 4) & 3)] = v;
  for (let i = 0; i < 4; i++) if ((imm >> i) & 1) x.u32[(d >> 2) + i] = 0;
}

/** Move n bytes from s to d, then zero d from n up to `zeroTo` bytes. */
export function move(x: Vec, d: number, s: number, n: number, zeroTo: number): void {
  x.u8.copyWithin(T, s, s + n);
  commit(x, d, n);
  if (zeroTo > n) x.u8.fill(0, d + n, d + zeroTo);
}
/** Copy lanes by index list: d[i] = src[sel[i]] for 4-byte lanes, sel from (d:0..3, s:4..7). */
export function lanes32(x: Vec, d: number, s: number, sel: readonly number[]): void {
  for (let i = 0; i < 4; i++) { const k = sel[i]; x.u32[(T >> 2) + i] = x.u32[((k < 4 ? d : s) >> 2) + (k & 3)]; }
  commit(x, d, 16);
}
