// What guests probe before they trust a CPU (issue 19 items 3, 7, 8), from a 64-bit guest
// (system-probes.S) on the interpreter: INVLPG of a non-canonical address, the MSRs real kernels
// read, and the CPUID bits and leaves that say "virtual machine".
import { describe, expect, it } from 'vitest';
import { HV_VENDOR, MAX_BASIC_LEAF } from '../../cpu/cpuid.js';
import { runGuest64 } from './guest64-rig.js';
import { hasToolchain } from './system-build.js';

const LOG = 0x6000;

interface Probe { eax: number; ebx: number; ecx: number; edx: number; gps: number }

function runGuest(): Probe[] {
  const mem = runGuest64('system-probes.S');
  const q = (a: number): number => mem.read32(a) >>> 0;
  return Array.from({ length: q(LOG) }, (_, k) => {
    const e = LOG + 16 + 32 * k;
    return { eax: q(e), ebx: q(e + 4), ecx: q(e + 8), edx: q(e + 12), gps: q(e + 16) };
  });
}

/** Four CPUID registers as the ASCII they spell (little-endian bytes). */
const ascii = (...regs: number[]): string => String.fromCharCode(...regs.flatMap((v) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]));

describe.skipIf(!hasToolchain())('CPU probes (system-probes.S)', () => {
  const p = runGuest();

  it('the guest ran every probe', () => {
    expect(p).toHaveLength(11);
  });

  it('INVLPG of a non-canonical address -> no fault (SDM INVLPG: it does nothing)', () => {
    expect(p[0].gps).toBe(0);
  });

  it('INVLPG of a canonical address -> no fault', () => {
    expect(p[1].gps).toBe(0);
  });

  it('RDMSR IA32_FEATURE_CONTROL (0x3A) -> locked (bit 0), VMX inside and outside SMX off', () => {
    expect(p[2]).toMatchObject({ eax: 1, edx: 0, gps: 0 });
  });

  it('WRMSR IA32_FEATURE_CONTROL while locked -> #GP', () => {
    expect(p[3].gps).toBe(1);
  });

  it('RDMSR MSR_PLATFORM_INFO (0xCE) -> max non-turbo ratio 10 (x 100 MHz: the 1 GHz TSC)', () => {
    expect(p[4].gps).toBe(0);
    expect((p[4].eax >>> 8) & 0xff).toBe(10);
  });

  it('RDMSR IA32_MISC_ENABLE (0x1A0) -> fast strings on (bit 0), BTS/PEBS unavailable (11, 12)', () => {
    expect(p[5].gps).toBe(0);
    expect(p[5].eax & 0x1801).toBe(0x1801);
  });

  it('IA32_TSC_ADJUST follows CPUID.7.0:EBX[1]: not advertised, so RDMSR 0x3B raises #GP', () => {
    expect(p[6].ebx & 2).toBe(0);
    expect(p[6].gps).toBe(1);
  });

  it('CPUID.1:ECX[31] (hypervisor) is set', () => {
    expect(p[7].ecx >>> 31).toBe(1);
  });

  it('CPUID.0x40000000 -> the highest hypervisor leaf in EAX and emu\'s signature in EBX, ECX, EDX', () => {
    expect(p[8].eax).toBe(0x40000000);
    expect(ascii(p[8].ebx, p[8].ecx, p[8].edx)).toBe(HV_VENDOR);
  });

  it('CPUID.0x40000001 (past the highest hypervisor leaf) -> the highest basic leaf\'s data, as on Intel and KVM', () => {
    expect(p[10].eax).toBe(MAX_BASIC_LEAF);
    // leaf 0xD subleaf 0 is what the highest basic leaf returns.
    expect(p[9].eax).toBe(3);
  });
});
