// The CPUID model: what a guest's feature probe sees.
import { describe, expect, it } from 'vitest';
import { cpuid, cpuidEntries, L1D_APIC, L1D_PAE, L7B_FCS_FDS_ZERO, L7B_SMAP, X1D_LM, X1D_NX, X1D_SYSCALL } from '../../cpu/cpuid.js';

const dyn = { apicId: 3, apicEnabled: true, osxsave: false };
function leaf(l: number, s = 0): number[] {
  const out = [0, 0, 0, 0];
  cpuid(l, s, dyn, out);
  return out.map((v) => v >>> 0);
}
const text = (...w: number[]): string => w.map((v) => String.fromCharCode(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24)).join('');

describe('CPUID model', () => {
  it('leaf 0 names GenuineIntel in EBX, EDX, ECX order', () => {
    const [a, b, c, d] = leaf(0);
    expect(a).toBe(0xd);
    expect(text(b, d, c)).toBe('GenuineIntel');
  });

  it('leaf 1 reports family 6, the APIC ID and a 64-byte CLFLUSH line', () => {
    const [a, b, , d] = leaf(1);
    expect((a >>> 8) & 0xf).toBe(6);
    expect(b >>> 24).toBe(3);
    expect(((b >>> 8) & 0xff) * 8).toBe(64);
    expect(d & L1D_PAE).toBe(L1D_PAE);
    const off = [0, 0, 0, 0];
    cpuid(1, 0, { ...dyn, apicEnabled: false }, off);
    expect(off[3] & L1D_APIC).toBe(0);
  });

  it('extended leaves advertise long mode, NX, SYSCALL and 39/48-bit addresses', () => {
    expect(leaf(0x80000000)[0]).toBe(0x80000008);
    const d = leaf(0x80000001)[3];
    expect(d & (X1D_LM | X1D_NX | X1D_SYSCALL)).toBe((X1D_LM | X1D_NX | X1D_SYSCALL) >>> 0);
    expect(leaf(0x80000008)[0]).toBe(39 | (48 << 8));
    expect(text(...leaf(0x80000002), ...leaf(0x80000003))).toMatch(/^emu virtual/);
  });

  it('leaf 7 says FPU CS/DS are stored as zero (FSTENV/FSAVE/FXSAVE) and advertises no SMAP', () => {
    const b = leaf(7)[1];
    expect(b & L7B_FCS_FDS_ZERO).toBe(L7B_FCS_FDS_ZERO);
    expect(b & L7B_SMAP).toBe(0);
  });

  it('a leaf past the maximum returns the highest basic leaf', () => {
    expect(leaf(0x20)).toEqual(leaf(0xd));
    expect(leaf(0x80000010)).toEqual(leaf(0xd));
  });

  it('the entry list for KVM covers every basic and extended leaf', () => {
    const e = cpuidEntries();
    expect(e.find((x) => x.leaf === 0x80000001)?.edx).toBe(leaf(0x80000001)[3]);
    expect(e.filter((x) => x.leaf === 7).length).toBe(1);
  });
});
