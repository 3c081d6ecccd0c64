// The CPUID model: what a guest's feature probe sees.
import { describe, expect, it } from 'vitest';
import { cpuid, cpuidEntries, L1D_APIC, L1D_HTT, L1D_PAE, L7B_FCS_FDS_ZERO, L7B_SMAP, X1D_LM, X1D_NX, X1D_SYSCALL } from '../../cpu/cpuid.js';
import { apicIdOf } from '../../cpu/topology.js';

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

  it('topology: APIC IDs are package | core | thread fields, each rounded up to a power of two', () => {
    const ids = (threads: number, cores: number, n: number) => Array.from({ length: n }, (_, i) => apicIdOf(i, { threads, cores }));
    expect(ids(1, 1, 4)).toEqual([0, 1, 2, 3]);
    expect(ids(2, 2, 8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(ids(1, 3, 6)).toEqual([0, 1, 2, 4, 5, 6]); // 2 core bits: package 1 starts at 4
    expect(ids(3, 1, 6)).toEqual([0, 1, 2, 4, 5, 6]);
    expect(ids(2, 3, 12)).toEqual([0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13]);
  });

  it('leaves 1, 4 and 0xB describe -smp sockets=2,cores=3,threads=2 for the vCPU with APIC ID 13 (package 1, core 2, thread 1)', () => {
    const topo = { apicId: 13, apicEnabled: true, osxsave: false, topology: { threads: 2, cores: 3 } };
    const q = (l: number, s = 0) => { const o = [0, 0, 0, 0]; cpuid(l, s, topo, o); return o.map((v) => v >>> 0); };
    const [, b1, , d1] = q(1);
    expect(b1 >>> 24).toBe(13);
    expect((b1 >>> 16) & 0xff).toBe(8); // 1 thread bit + 2 core bits
    expect(d1 & L1D_HTT).toBe(L1D_HTT);
    // Leaf 4: L1d, L1i, L2 shared by a core's 2 threads; L3 by the package; 4 addressable core IDs.
    const caches = [0, 1, 2, 3, 4].map((s) => q(4, s));
    expect(caches.map(([a]) => [a & 0x1f, (a >>> 5) & 7, ((a >>> 14) & 0xfff) + 1, (a >>> 26) + 1])).toEqual([
      [1, 1, 2, 4], [2, 1, 2, 4], [3, 2, 2, 4], [3, 3, 8, 4], [0, 0, 1, 1],
    ]);
    const size = ([, b, c]: number[]) => ((b >>> 22) + 1) * (((b >>> 12) & 0x3ff) + 1) * ((b & 0xfff) + 1) * (c + 1);
    expect(caches.slice(0, 4).map(size)).toEqual([32 << 10, 32 << 10, 256 << 10, 8 << 20]);
    // Leaf 0xB: SMT level (shift 1, 2 threads), core level (shift 3, 6 logical processors), then the end.
    expect(q(0xb, 0)).toEqual([1, 2, 0x100, 13]);
    expect(q(0xb, 1)).toEqual([3, 6, 0x201, 13]);
    expect(q(0xb, 2)).toEqual([0, 0, 2, 13]);
  });

  it('without a topology every vCPU is its own package: leaf 1 says one logical processor, no HTT', () => {
    const [, b, , d] = leaf(1);
    expect((b >>> 16) & 0xff).toBe(1);
    expect(d & L1D_HTT).toBe(0);
    expect(leaf(0xb, 0)).toEqual([0, 1, 0x100, 3]);
    expect(leaf(0xb, 1)).toEqual([0, 1, 0x201, 3]);
  });
});
