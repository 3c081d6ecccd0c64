// FBLD/FBSTP: the x87's 80-bit packed BCD format (18 digits, sign in bit 79).

import { newFp, env, out, F_IE, K_ZERO } from './softfloat.js';
import { intToFp, opToInt, intOut } from './arith.js';
import { readST, isEmpty, stackFault, endOp, setC1FromRounding, pushOut, pop } from './x87state.js';

const A = newFp();
/** 10^18 - 1, the largest magnitude FBSTP can store, as 32-bit halves. */
const MAX_HI = 0x0de0b6b3, MAX_LO = 0xa763ffff;

/** FBLD m80bcd: exact conversion and push. Invalid digits give an undefined (here: computed) value. */
export function fbld(dv: DataView, mem: Uint8Array): number {
  let hi = 0, lo = 0;
  for (let i = 8; i >= 0; i--) {
    for (const d of [mem[i] >> 4, mem[i] & 15]) {
      const t = lo * 10 + d;
      lo = t % 4294967296; hi = (hi * 10 + Math.floor(t / 4294967296)) % 4294967296;
    }
  }
  intToFp(A, lo, hi);
  const sign = mem[9] >> 7;
  out.sign = sign;
  if (A.kind === K_ZERO) { out.bexp = 0; out.hi = 0; out.lo = 0; } else { out.bexp = A.exp + 16383; out.hi = A.hi; out.lo = A.lo; }
  pushOut(dv);
  return 0;
}

/** FBSTP m80bcd: round by RC, store 18 digits, pop. Out of range or NaN: IE and the BCD indefinite. */
export function fbstp(dv: DataView, mem: Uint8Array): number {
  let indefinite = false, sign = 0;
  if (isEmpty(dv, 0)) {
    if (!stackFault(dv, false)) return 0;
    indefinite = true;
  } else {
    readST(dv, 0, A);
    sign = A.sign;
    opToInt(A, 64, false);
    if ((env.flags & F_IE) === 0) {
      let lo = intOut.lo, hi = intOut.hi;
      if (hi >>> 31) { lo = (~lo + 1) >>> 0; hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0; }
      if (hi > MAX_HI || (hi === MAX_HI && lo > MAX_LO)) { env.flags |= F_IE; }
      else { intOut.lo = lo; intOut.hi = hi; }
    }
    indefinite = (env.flags & F_IE) !== 0;
    if (indefinite) env.flags &= ~0x20; // an invalid store is not also inexact
    if (!endOp(dv)) return 0;
    setC1FromRounding(dv);
  }
  if (indefinite) {
    mem.fill(0, 0, 7); mem[7] = 0xc0; mem[8] = 0xff; mem[9] = 0xff;
  } else {
    let lo = intOut.lo, hi = intOut.hi;
    for (let i = 0; i < 9; i++) {
      let byte = 0;
      for (let k = 0; k < 2; k++) {
        const rh = hi % 10; hi = Math.floor(hi / 10);
        const t = rh * 4294967296 + lo; lo = Math.floor(t / 10); const digit = t - lo * 10;
        byte |= digit << (4 * k);
      }
      mem[i] = byte;
    }
    mem[9] = sign << 7;
  }
  pop(dv);
  return 10;
}
