// The state record survives KVM exactly: setState then getState gives the same
// bytes, except for fields KVM itself defines (listed in NORMALISED with why).

import { afterEach, describe, expect, it } from 'vitest';
import {
  ARCH_END, CR2, CR8, CSTAR, DR0, DR7, EVENT_EXCEPTION, EVENT_HAS_ERROR, EVENT_VALID, FX_FCW, FX_FSW, FX_MXCSR,
  FX_MXCSR_MASK, FX_ST0, FX_XMM0, INT_SHADOW, KERNEL_GS_BASE, LSTAR, NMI_MASKED, NMI_PENDING, PAT, PENDING_ERROR,
  PENDING_EVENT, RFLAGS, SFMASK, SHADOW_STI, STAR, SYSENTER_CS, SYSENTER_EIP, SYSENTER_ESP, StateView, TSC,
  TSC_AUX, XSAVE_HEADER, gprOffset, FLAG_IF, FLAG_CF, FLAG_ZF, FLAGS_FIXED, MTRR_DEF_TYPE, MTRR_VAR,
  segOffset, FS, GS, SEG_BASE,
} from '../../cpu/state.js';
import { kvmSkipReason, long64State, makeRig, protected32State, realModeState, type Rig } from './rig.js';

let rig: Rig | null = null;
afterEach(() => { rig?.kvm.destroy(); rig = null; });

/**
 * Fields KVM normalises, masked before comparing:
 * - TSC: the guest TSC keeps counting between set and get.
 * - MXCSR_MASK: KVM reports the host FXSAVE's mask, not what was written.
 * - XSAVE header (XSTATE_BV): KVM reports which components are in use, not what was written.
 */
const NORMALISED: Array<[number, number]> = [[TSC, 8], [FX_MXCSR_MASK, 4], [XSAVE_HEADER, 64]];

function masked(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice(0, ARCH_END);
  for (const [off, len] of NORMALISED) out.fill(0, off, off + len);
  return out;
}

/** Everything a backend switch must carry, with distinctive values. */
function decorate(s: StateView, long: boolean): void {
  for (let n = 0; n < (long ? 16 : 8); n++) s.set64(gprOffset(n), 0x01010101 * (n + 1), long ? 0x10000 * (n + 1) : 0);
  s.set64(RFLAGS, FLAGS_FIXED | FLAG_IF | FLAG_CF | FLAG_ZF, 0);
  s.set64(CR2, 0xdead000, long ? 0x7fff : 0);
  s.set64(CR8, 0, 0);
  for (let i = 0; i < 4; i++) s.set64(DR0 + i * 8, 0x1000 * (i + 1), 0);
  s.set64(DR7, 0x400, 0);
  s.set64(STAR, 0x12345678, 0x00230010);
  s.set64(LSTAR, 0x80001000, long ? 0xffffffff : 0);
  s.set64(CSTAR, 0x80002000, long ? 0xffffffff : 0);
  s.set64(SFMASK, 0x47700, 0);
  s.set64(KERNEL_GS_BASE, 0x5000, 0xffff8000);
  s.set64(SYSENTER_CS, 0x08, 0);
  s.set64(SYSENTER_ESP, 0x9000, 0);
  s.set64(SYSENTER_EIP, 0xc0001000, 0);
  s.set64(PAT, 0x00070106, 0x00070406);
  s.set64(TSC_AUX, 7, 0);
  s.set64(MTRR_DEF_TYPE, 0xc06, 0);
  s.set64(MTRR_VAR, 0x6, 0);
  s.set64(MTRR_VAR + 8, 0xfc0000800, 0);
  s.dv.setUint32(MTRR_VAR + 8, 0xc0000800, true);
  s.dv.setUint32(MTRR_VAR + 12, 0xf, true);
  if (long) {
    s.set64(segOffset(FS) + SEG_BASE, 0x1234000, 0x7f);
    s.set64(segOffset(GS) + SEG_BASE, 0x5678000, 0xffff8000);
  }
  s.dv.setUint16(FX_FCW, 0x027f, true);
  s.dv.setUint16(FX_FSW, 0x3800, true); // TOP = 7
  s.setU32(FX_MXCSR, 0x1f80 | 0x6000);
  for (let i = 0; i < 16; i++) s.set64(FX_XMM0 + i * 16, 0x11111111 * (i & 7), 0xa5a5a5a5 ^ i);
  for (let i = 0; i < 8; i++) s.set64(FX_ST0 + i * 16, 0, 0); // empty registers (abridged tag 0)
}

describe.skipIf(kvmSkipReason !== null)('KVM state record round trip', () => {
  for (const mode of ['real', '32-bit', '64-bit'] as const) {
    it(`${mode} state: setState then getState gives the same bytes (normalised fields masked)`, () => {
      const r = rig = makeRig();
      const s = mode === 'real' ? realModeState(0x1000) : mode === '32-bit' ? protected32State(r.memory, 0x2000) : long64State(r.memory, 0x3000);
      decorate(s, mode === '64-bit');
      const before = s.snapshot();
      r.kvm.setState(before);
      const after = r.kvm.getState();
      const a = masked(before), b = masked(after);
      const diffs: string[] = [];
      for (let i = 0; i < a.length; i += 4) {
        const x = new DataView(a.buffer).getUint32(i, true), y = new DataView(b.buffer).getUint32(i, true);
        if (x !== y) diffs.push(`0x${i.toString(16)}: set ${x.toString(16)} got ${y.toString(16)}`);
      }
      expect(diffs).toEqual([]);
    });
  }

  it('pending events survive: an exception with error code, STI shadow, NMI pending and masked', () => {
    const r = rig = makeRig();
    const s = protected32State(r.memory, 0x2000);
    s.setU32(PENDING_EVENT, EVENT_VALID | EVENT_EXCEPTION | EVENT_HAS_ERROR | 13);
    s.setU32(PENDING_ERROR, 0x18);
    s.setU32(INT_SHADOW, SHADOW_STI);
    s.setU32(NMI_PENDING, 1);
    s.setU32(NMI_MASKED, 1);
    r.kvm.setState(s.snapshot());
    const got = new StateView(r.kvm.getState().buffer);
    expect(got.u32(PENDING_EVENT) >>> 0).toBe((EVENT_VALID | EVENT_EXCEPTION | EVENT_HAS_ERROR | 13) >>> 0);
    expect(got.u32(PENDING_ERROR)).toBe(0x18);
    expect(got.u32(INT_SHADOW)).toBe(SHADOW_STI);
    expect(got.u32(NMI_PENDING)).toBe(1);
    expect(got.u32(NMI_MASKED)).toBe(1);
  });
});
