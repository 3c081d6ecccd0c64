// The common case of SSE arithmetic on the host's own doubles: MXCSR at its default
// (round to nearest, no DAZ/FTZ, every exception masked) and normal or zero operands and
// results. Inexactness (PE, the only flag possible then) comes from error-free
// transformations (TwoSum, Veltkamp/Dekker products); anything else returns false and the
// caller takes the exact softfloat path.

import { Vec, RES_TMP } from './vec.js';
import { FX_MXCSR } from '../state.js';

const SPLIT = 134217729; // 2^27 + 1
const MIN64 = 2 ** -1022, MIN32 = 2 ** -126, MAX32 = 3.4028234663852886e38;
const R64 = RES_TMP >> 3, R32 = RES_TMP >> 2;
let ph = 0, pl = 0;
/** Exact product a*b = ph + pl (valid when neither overflows nor underflows). */
function twoProduct(a: number, b: number): void {
  ph = a * b;
  let t = SPLIT * a; const ah = t - (t - a), al = a - ah;
  t = SPLIT * b; const bh = t - (t - b), bl = b - bh;
  pl = ((ah * bh - ph) + ah * bl + al * bh) + al * bl;
}
/** Finite with a normal exponent or exactly zero, and small enough that products stay exact. */
const ok64 = (v: number): boolean => v === 0 || (Math.abs(v) >= MIN64 && Math.abs(v) < 2 ** 500 && Math.abs(v) > 2 ** -500);
const ok32 = (v: number): boolean => v === 0 || (Math.abs(v) >= MIN32 && Math.abs(v) <= MAX32);

/** Returns true if all n lanes were computed (into RES_TMP) and flags merged; op codes as float.ts. */
export function fastArith(x: Vec, d: number, s: number, op: number, w: number, n: number): boolean {
  const mx = x.u32[FX_MXCSR >> 2];
  if ((mx & 0xffc0) !== 0x1f80) return false;
  let inexact = false;
  if (w === 8) {
    for (let i = 0; i < n; i++) {
      const a = x.f64[(d >> 3) + i], b = x.f64[(s >> 3) + i];
      if (!ok64(b) || (op !== 6 && !ok64(a))) return false;
      let r: number;
      switch (op) {
        case 0: case 1: { const bb = op === 0 ? b : -b; r = a + bb; const z = r - a; if ((a - (r - z)) + (bb - z) !== 0) inexact = true; break; }
        case 2: r = a * b; if (r !== 0) { twoProduct(a, b); if (pl !== 0) inexact = true; } break;
        case 3: if (b === 0) return false; r = a / b; if (r !== 0) { twoProduct(r, b); if (ph !== a || pl !== 0) inexact = true; } break;
        case 6: if (b < 0 || Object.is(b, -0)) return false; r = Math.sqrt(b); if (r !== 0) { twoProduct(r, r); if (ph !== b || pl !== 0) inexact = true; } break;
        default: return false;
      }
      if (r !== 0 && !(Math.abs(r) >= MIN64 && Math.abs(r) < Infinity)) return false;
      if (r === 0 && (op === 2 || op === 3) && a !== 0) return false; // underflow to zero
      x.f64[R64 + i] = r;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const a = x.f32[(d >> 2) + i], b = x.f32[(s >> 2) + i];
      if (!ok32(b) || (op !== 6 && !ok32(a))) return false;
      let r: number, exact = true;
      switch (op) {
        case 0: case 1: { const bb = op === 0 ? b : -b; const t = a + bb; const z = t - a; exact = (a - (t - z)) + (bb - z) === 0; r = Math.fround(t); if (r !== t) exact = false; break; }
        case 2: { const t = a * b; r = Math.fround(t); exact = r === t; break; }
        case 3: if (b === 0) return false; r = Math.fround(a / b); exact = r * b === a; break;
        case 6: if (b < 0 || Object.is(b, -0)) return false; r = Math.fround(Math.sqrt(b)); exact = r * r === b; break;
        default: return false;
      }
      if (r !== 0 && !(Math.abs(r) >= MIN32 && Math.abs(r) <= MAX32)) return false;
      if (r === 0 && (op === 2 || op === 3) && a !== 0) return false;
      if (!exact) inexact = true;
      x.f32[R32 + i] = r;
    }
  }
  if (inexact) x.u32[FX_MXCSR >> 2] = mx | 0x20;
  x.u8.copyWithin(d, RES_TMP, RES_TMP + n * w);
  return true;
}
