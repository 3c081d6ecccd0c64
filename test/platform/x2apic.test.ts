// x2APIC mode (SDM 11.12) driven by guest code on the board: IA32_APIC_BASE.EXTD switches a
// local APIC to its MSR face (0x800-0x8FF), the ICR is one 64-bit MSR with a 32-bit
// destination, SELF IPI exists, the LDR is derived from the ID, the MMIO page goes away, and
// the illegal mode transitions fault. A 64-bit BSP starts an AP with INIT-SIPI through the
// x2APIC ICR; the AP switches itself to x2APIC in real mode and reports its ID and LDR.
import { describe, expect, it } from 'vitest';
import { PAGE_TABLES_ADDR, buildIdentityMap, entryState64 } from '../../machine/linux.js';
import { Machine } from '../../machine/machine.js';

const CODE = 0x100000, OUT = 0x7000;
const le32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
/** mov eax/ecx/edx, imm32 (B8/B9/BA + imm). */
const eax = (v: number) => [0xb8, ...le32(v)], ecx = (v: number) => [0xb9, ...le32(v)], edx = (v: number) => [0xba, ...le32(v)];
const RDMSR = [0x0f, 0x32], WRMSR = [0x0f, 0x30];
/** mov [abs32], eax (64-bit code). */
const saveEax = (a: number) => [0x89, 0x04, 0x25, ...le32(a)];
/** rdmsr n; mov [a], eax */
const readTo = (n: number, a: number) => [...ecx(n), ...RDMSR, ...saveEax(a)];
/** wrmsr n, hi:lo */
const write = (n: number, hi: number, lo: number) => [...ecx(n), ...edx(hi), ...eax(lo), ...WRMSR];
/** IA32_APIC_BASE |= EXTD (bit 10): rdmsr; or eax, 0x400; wrmsr */
const X2APIC_ON = [...ecx(0x1b), ...RDMSR, 0x0d, ...le32(0x400), ...WRMSR];

function board(cpus: number, code: number[]): Machine {
  const m = new Machine({ memory: 16 << 20, accel: 'interp', deterministic: true, noReboot: true, smp: cpus });
  m.boot((mm) => {
    buildIdentityMap(mm.memory, PAGE_TABLES_ADDR);
    mm.memory.writeBytes(CODE, new Uint8Array([0xfa /* cli */, ...code, 0xf4]));
    entryState64(mm.state, CODE, 0);
  });
  for (let i = 0; i < 100 && !m.exited; i++) m.runSteps(1, 10_000);
  return m;
}
const u32 = (m: Machine, a: number) => m.memory.dv.getUint32(a, true);
const irrHas = (m: Machine, cpu: number, v: number) => (m.devices.lapics[cpu].irr[v >>> 5] & (1 << (v & 31))) !== 0;

describe('x2APIC mode through IA32_APIC_BASE.EXTD and MSRs 0x800-0x8FF', () => {
  it('CPUID.1:ECX[21] is set; in x2APIC mode ID, version, LDR, TPR, ICR read back as MSRs, SELF IPI sets IRR, the MMIO page reads all ones', () => {
    const m = board(1, [
      ...eax(1), 0x0f, 0xa2, 0x89, 0xc8, ...saveEax(OUT), // cpuid; mov eax, ecx
      ...X2APIC_ON,
      ...readTo(0x1b, OUT + 4), ...readTo(0x802, OUT + 8), ...readTo(0x803, OUT + 12), ...readTo(0x80d, OUT + 16),
      ...write(0x808, 0, 0x20), 0x44, 0x0f, 0x20, 0xc0, ...saveEax(OUT + 20), // TPR; mov rax, cr8
      ...write(0x830, 7, 0x000c0000 | 0x4000 | 0x30), // ICR: vector 0x30 to all excluding self: nobody else here
      ...ecx(0x830), ...RDMSR, ...saveEax(OUT + 24), 0x89, 0xd0, ...saveEax(OUT + 28), // mov eax, edx
      ...write(0x83f, 0, 0x51), // SELF IPI
      0xbb, ...le32(0xfee00030), 0x8b, 0x03, ...saveEax(OUT + 32), // mov ebx, 0xfee00030; mov eax, [rbx]: the xAPIC page's version register
    ]);
    expect(m.exited?.reason ?? '').not.toMatch(/triple/);
    expect(u32(m, OUT) & (1 << 21)).not.toBe(0);
    expect(u32(m, OUT + 4) & 0xc00).toBe(0xc00);
    expect([u32(m, OUT + 8), u32(m, OUT + 12) & 0xff, u32(m, OUT + 16), u32(m, OUT + 20)]).toEqual([0, 0x14, 1, 2]);
    expect([u32(m, OUT + 24), u32(m, OUT + 28)]).toEqual([0x000c4030, 7]);
    expect(irrHas(m, 0, 0x51)).toBe(true);
    expect(irrHas(m, 0, 0x30)).toBe(false);
    expect(u32(m, OUT + 32)).toBe(0xffffffff);
    expect(m.devices.lapic.x2apicMode).toBe(true);
  });

  it('-smp 2: the BSP starts the AP by INIT-SIPI through the 64-bit ICR; the AP turns x2APIC on and sees ID 1, LDR 2; logical cluster and broadcast IPIs arrive', () => {
    const m = new Machine({ memory: 16 << 20, accel: 'interp', deterministic: true, noReboot: true, smp: 2 });
    // AP, real mode at 0x20000 (SIPI vector 0x20): mov ecx, 0x1b; rdmsr; or eax, 0x400; wrmsr; ID and LDR to 0x7000/0x7004; hlt
    const ap16 = (n: number) => [0x66, 0xb9, ...le32(n)];
    const ap = [...ap16(0x1b), ...RDMSR, 0x66, 0x0d, ...le32(0x400), ...WRMSR,
      ...ap16(0x80d), ...RDMSR, 0x66, 0xa3, 0x04, 0x70, ...ap16(0x802), ...RDMSR, 0x66, 0xa3, 0x00, 0x70, 0xfa, 0xf4, 0xeb, 0xfd];
    const bsp = [
      ...X2APIC_ON,
      ...write(0x830, 1, 0x4500), // INIT to APIC ID 1
      ...write(0x830, 1, 0x0620), // STARTUP, vector 0x20
      0x83, 0x3c, 0x25, ...le32(OUT), 0x00, 0x74, 0xf6, // spin: cmp dword [OUT], 0; je spin
      ...write(0x830, 0x00000002, 0x0845), // logical: cluster 0, bit 1 -> APIC ID 1, vector 0x45
      ...write(0x830, 0xffffffff, 0x0046), // physical broadcast, vector 0x46
    ];
    m.boot((mm) => {
      buildIdentityMap(mm.memory, PAGE_TABLES_ADDR);
      mm.memory.writeBytes(0x20000, new Uint8Array(ap));
      mm.memory.writeBytes(CODE, new Uint8Array([0xfa, ...bsp, 0xf4]));
      entryState64(mm.state, CODE, 0);
    });
    for (let i = 0; i < 200 && !m.exited; i++) m.runSteps(1, 10_000);
    expect(m.exited?.reason ?? '').not.toMatch(/triple/);
    expect([u32(m, OUT), u32(m, OUT + 4)]).toEqual([1, 2]);
    expect(m.devices.lapics.map((l) => l.x2apicMode)).toEqual([true, true]);
    expect(m.vcpuCounters().map((v) => v.sipis)).toEqual([0, 1]);
    expect([irrHas(m, 1, 0x45), irrHas(m, 1, 0x46), irrHas(m, 0, 0x45), irrHas(m, 0, 0x46)]).toEqual([true, true, false, true]);
  });

  for (const [what, code] of [
    ['x2APIC straight back to xAPIC', [...X2APIC_ON, ...ecx(0x1b), ...RDMSR, 0x25, ...le32(~0x400), ...WRMSR]], // and eax, ~EXTD
    ['EXTD without EN', [...ecx(0x1b), ...RDMSR, 0x25, ...le32(~0x800), 0x0d, ...le32(0x400), ...WRMSR]],
    ['an x2APIC MSR in xAPIC mode', readTo(0x802, OUT)],
    ['a write to the read-only x2APIC ID', [...X2APIC_ON, ...write(0x802, 0, 5)]],
    ['a non-zero EOI write', [...X2APIC_ON, ...write(0x80b, 0, 1)]],
    ['DFR, which x2APIC does not have', [...X2APIC_ON, ...readTo(0x80e, OUT)]],
  ] as const) {
    it(`#GP: ${what} (the guest has no IDT: a triple fault)`, () => {
      const m = board(1, [...code]);
      expect(m.exited?.reason ?? 'still running').toMatch(/triple-faulted.*#GP\(0x0\)/);
    });
  }

  it('leaving x2APIC through disabled is allowed, and xAPIC comes back with the MMIO page', () => {
    const m = board(1, [
      ...X2APIC_ON,
      ...ecx(0x1b), ...RDMSR, 0x25, ...le32(~0xc00), ...WRMSR, // EN = EXTD = 0
      0x0d, ...le32(0x800), ...WRMSR, // EN = 1
      0xbb, ...le32(0xfee00030), 0x8b, 0x03, ...saveEax(OUT),
    ]);
    expect(m.exited?.reason ?? '').not.toMatch(/triple/);
    expect(m.devices.lapic.x2apicMode).toBe(false);
    expect(u32(m, OUT) & 0xff).toBe(0x14);
  });
});
