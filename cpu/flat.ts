// Flat register states for tests and benchmarks: 16-bit real mode, 32-bit
// protected mode with 4 GiB segments, or 64-bit long mode, written straight
// into a state record (no descriptor tables: the hidden parts say it all).

import {
  ATTR_DB, ATTR_G, ATTR_L, ATTR_P, ATTR_S, CR0, CR0_ET, CR0_PE, CR0_PG, CR4, CR4_PAE, CS, EFER, EFER_LMA,
  EFER_LME, RIP, SEG_ATTR, SEG_BASE, SEG_LIMIT, SEG_SEL, StateView, resetState, segOffset,
} from './state.js';

export type FlatMode = 16 | 32 | 64;

/** Reset, then enter `mode` with flat segments and RIP = entry. */
export function flatState(s: StateView, mode: FlatMode, entry: number): void {
  resetState(s);
  const data = ATTR_P | ATTR_S | 0x3 | (mode === 16 ? 0 : ATTR_DB | ATTR_G);
  const code = ATTR_P | ATTR_S | 0xb | (mode === 32 ? ATTR_DB | ATTR_G : mode === 64 ? ATTR_L | ATTR_G : 0);
  for (let n = 0; n < 6; n++) {
    const o = segOffset(n);
    s.setU32(o + SEG_SEL, mode === 16 ? 0 : n === CS ? 0x08 : 0x10);
    s.setU32(o + SEG_ATTR, n === CS ? code : data);
    s.setU32(o + SEG_LIMIT, mode === 16 ? 0xffff : 0xffffffff);
    s.set64(o + SEG_BASE, 0, 0);
  }
  if (mode !== 16) s.set64(CR0, CR0_PE | CR0_ET | (mode === 64 ? CR0_PG : 0), 0);
  if (mode === 64) {
    s.set64(CR4, CR4_PAE, 0);
    s.set64(EFER, EFER_LME | EFER_LMA, 0);
  }
  s.set64(RIP, entry, 0);
}
