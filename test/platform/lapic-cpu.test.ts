// The local APIC registers the CPU reaches without MMIO (CpuHost.apic): a 64-bit guest on the
// real board writes CR8, IA32_TSC_DEADLINE and IA32_APIC_BASE, and the LAPIC sees each one; a
// TPR write through the APIC page that lets a queued vector in ends the CPU's block (endBlock).
import { describe, expect, it } from 'vitest';
import { PAGE_TABLES_ADDR, buildIdentityMap, entryState64 } from '../../machine/linux.js';
import { Machine } from '../../machine/machine.js';

const CODE = 0x100000, OUT = 0x2000;

/** Run `code` in 64-bit mode at 1 MiB on the PC board until it halts. */
function run(code: number[], accel: 'interp' | 'jit' = 'interp'): Machine {
  const m = new Machine({ memory: 16 << 20, accel });
  m.boot((mm) => {
    buildIdentityMap(mm.memory, PAGE_TABLES_ADDR);
    mm.memory.writeBytes(CODE, new Uint8Array([...code, 0xf4]));
    entryState64(mm.state, CODE, 0);
  });
  m.runSteps(4, 10_000);
  return m;
}

const movEaxImm = (v: number) => [0xb8, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const movEcxImm = (v: number) => [0xb9, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const movEdxImm = (v: number) => [0xba, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const movEbxImm = (v: number) => [0xbb, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const WRMSR = [0x0f, 0x30], RDMSR = [0x0f, 0x32], CPUID = [0x0f, 0xa2];
const storeEax = (addr: number) => [0x89, 0x04, 0x25, addr & 0xff, (addr >>> 8) & 0xff, 0, 0];
const storeEcx = (addr: number) => [0x89, 0x0c, 0x25, addr & 0xff, (addr >>> 8) & 0xff, 0, 0];

describe('CPU <-> local APIC (CR8, IA32_TSC_DEADLINE, IA32_APIC_BASE)', () => {
  it('guest writes CR8 = 9 -> LAPIC TPR = 0x90; a TPR written through MMIO reads back in CR8', () => {
    const m = run([
      ...movEaxImm(9), 0x44, 0x0f, 0x22, 0xc0, // mov cr8, rax
      ...movEbxImm(0xfee00080), 0xc7, 0x03, 0x50, 0, 0, 0, // mov dword [rbx], 0x50 (TPR)
      0x44, 0x0f, 0x20, 0xc0, // mov rax, cr8
      ...storeEax(OUT),
    ]);
    expect(m.memory.dv.getUint32(OUT, true)).toBe(5);
    expect(m.devices.lapic.tpr).toBe(0x50);
  });

  for (const accel of ['interp', 'jit'] as const) {
    it(`${accel}: a TPR lowered through the APIC page below a queued self-IPI ends the block right after the MOV; one that still blocks it does not`, () => {
      /** mov dword [rbx + reg], v (RBX = the APIC page). */
      const apic = (reg: number, v: number) => [0xc7, 0x83, reg & 0xff, reg >>> 8, 0, 0, v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
      const lowerTo = (tpr: number) => run([
        ...movEbxImm(0xfee00000),
        ...apic(0xf0, 0x1ff), // SVR: software-enabled
        ...apic(0x80, 0x80), // TPR class 8
        ...apic(0x300, 0x00044061), // ICR: fixed self-IPI, vector 0x61 (class 6): queued, blocked
        ...apic(0x80, tpr),
        0x90, 0x90, ...storeEax(OUT), // more of the same block (IF = 0: nothing is delivered)
      ], accel);
      const open = lowerTo(0), shut = lowerTo(0x60);
      expect(open.backend.counters().blockEnds).toBe(1);
      expect(open.devices.lapic.hasInterrupt()).toBe(true);
      expect(shut.backend.counters().blockEnds).toBe(0);
      expect(shut.devices.lapic.hasInterrupt()).toBe(false);
    });
  }

  it('guest sets the LVT timer to TSC-deadline mode and writes IA32_TSC_DEADLINE -> the LAPIC holds it and CPUID advertises it', () => {
    const deadline = 2 ** 32 + 0x1234; // ~4.3 s of TSC: in the future
    const m = run([
      ...movEbxImm(0xfee00320), 0xc7, 0x03, 0x30, 0x00, 0x04, 0x00, // LVT timer = vector 0x30, TSC-deadline mode
      ...movEcxImm(0x6e0), ...movEdxImm(1), ...movEaxImm(0x1234), ...WRMSR,
      ...movEaxImm(0), ...RDMSR, ...storeEax(OUT),
      ...movEaxImm(1), ...CPUID, ...storeEcx(OUT + 4),
    ]);
    expect(m.devices.lapic.readTscDeadline()).toBe(deadline);
    expect(m.memory.dv.getUint32(OUT, true)).toBe(0x1234);
    expect(m.memory.dv.getUint32(OUT + 4, true) & (1 << 24)).not.toBe(0);
  });

  it('guest clears IA32_APIC_BASE bit 11 -> the LAPIC is hardware-disabled and the 8259 reaches INTR directly', () => {
    const m = run([...movEcxImm(0x1b), ...RDMSR, 0x25, 0xff, 0xf7, 0xff, 0xff, ...WRMSR]); // and eax, ~0x800
    expect(m.devices.lapic.hwEnabled).toBe(false);
    const again = run([...movEcxImm(0x1b), ...RDMSR, ...WRMSR]);
    expect(again.devices.lapic.hwEnabled).toBe(true);
  });
});
