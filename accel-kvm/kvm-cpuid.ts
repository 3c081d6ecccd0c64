// CPUID under KVM: emu's one CPU model (cpu/cpuid.ts, which the machine builds and
// hands over as KvmOptions.cpuid) with its feature bits intersected with what this
// KVM supports (KVM_GET_SUPPORTED_CPUID), loaded
// into the vCPU with KVM_SET_CPUID2. Identity leaves (vendor, family, brand,
// sizes) come from the model unchanged, so the guest sees the same CPU as
// under the interpreter, minus what the host cannot do.

import { L1C_HYPERVISOR, type CpuidEntry } from '../contracts/cpuid.js';
import type { NativeVm } from './addon.js';
import { CPUID_ENTRY_SIZE, CPUID_FLAG_SIGNIFCANT_INDEX, MSR_ENTRY_SIZE } from './kvm-structs.js';

/** Registers that hold feature flags, by leaf: [leaf, subleaf, which registers (bit0 eax .. bit3 edx)]. */
const FEATURE_REGS: ReadonlyArray<readonly [number, number, number]> = [
  [1, 0, 0b1100], // ECX, EDX
  [7, 0, 0b1110], // EBX, ECX, EDX
  [0xd, 0, 0b0001], // supported XCR0 bits (low half)
  [0xd, 1, 0b0001], // XSAVEOPT/XSAVEC/XGETBV1/XSAVES
  [0x80000001, 0, 0b1100], // ECX, EDX
  [0x80000007, 0, 0b1000], // invariant TSC
];

export type SupportedCpuid = Map<string, Uint32Array>; // "leaf:subleaf" -> [eax, ebx, ecx, edx]
const key = (leaf: number, sub: number): string => `${leaf >>> 0}:${sub >>> 0}`;

/** KVM_GET_SUPPORTED_CPUID as a map. */
export function supportedCpuid(vm: NativeVm): SupportedCpuid {
  for (let n = 128; n <= 4096; n *= 2) {
    const buf = new Uint8Array(8 + n * CPUID_ENTRY_SIZE);
    const dv = new DataView(buf.buffer);
    dv.setUint32(0, n, true);
    try {
      vm.ioctl('GET_SUPPORTED_CPUID', buf);
    } catch (e) {
      if (/E2BIG|too long/i.test((e as Error).message)) continue;
      throw e;
    }
    const out: SupportedCpuid = new Map();
    const count = dv.getUint32(0, true);
    for (let i = 0; i < count; i++) {
      const o = 8 + i * CPUID_ENTRY_SIZE;
      const regs = new Uint32Array([dv.getUint32(o + 12, true), dv.getUint32(o + 16, true), dv.getUint32(o + 20, true), dv.getUint32(o + 24, true)]);
      out.set(key(dv.getUint32(o, true), dv.getUint32(o + 4, true)), regs);
    }
    return out;
  }
  throw new Error('KVM_GET_SUPPORTED_CPUID: more than 4096 entries');
}

/** Bits that are the model's word, not a host capability: leaf 1 ECX's hypervisor bit. */
const MODEL_BITS = new Map([[key(1, 0), [0, 0, L1C_HYPERVISOR, 0]]]);

/** The model's leaves with feature bits the host lacks removed. */
export function intersectCpuid(model: CpuidEntry[], supported: SupportedCpuid): CpuidEntry[] {
  return model.map((e) => {
    const rule = FEATURE_REGS.find(([l, s]) => l === e.leaf && s === e.subleaf);
    if (!rule) return e;
    const sup = Uint32Array.from(supported.get(key(e.leaf, e.subleaf)) ?? new Uint32Array(4));
    const own = MODEL_BITS.get(key(e.leaf, e.subleaf));
    if (own) for (let k = 0; k < 4; k++) sup[k] |= own[k];
    const m = rule[2];
    return {
      ...e,
      eax: m & 1 ? (e.eax & sup[0]) >>> 0 : e.eax,
      ebx: m & 2 ? (e.ebx & sup[1]) >>> 0 : e.ebx,
      ecx: m & 4 ? (e.ecx & sup[2]) >>> 0 : e.ecx,
      edx: m & 8 ? (e.edx & sup[3]) >>> 0 : e.edx,
    };
  });
}

/** Feature bits the model advertises that this host's KVM cannot give (for a warning). */
export function missingFeatures(model: CpuidEntry[], effective: CpuidEntry[]): string[] {
  const out: string[] = [];
  const regs = ['eax', 'ebx', 'ecx', 'edx'] as const;
  model.forEach((e, i) => {
    for (const r of regs) {
      const lost = (e[r] & ~effective[i][r]) >>> 0;
      if (lost) out.push(`leaf 0x${e.leaf.toString(16)}.${e.subleaf} ${r} bits 0x${lost.toString(16)}`);
    }
  });
  return out;
}

/** Load the entries into the vCPU (KVM_SET_CPUID2). */
export function setCpuid(vm: NativeVm, entries: CpuidEntry[]): void {
  const buf = new Uint8Array(8 + entries.length * CPUID_ENTRY_SIZE);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, entries.length, true);
  entries.forEach((e, i) => {
    const o = 8 + i * CPUID_ENTRY_SIZE;
    dv.setUint32(o, e.leaf >>> 0, true);
    dv.setUint32(o + 4, e.subleaf >>> 0, true);
    dv.setUint32(o + 8, e.indexed ? CPUID_FLAG_SIGNIFCANT_INDEX : 0, true);
    dv.setUint32(o + 12, e.eax >>> 0, true);
    dv.setUint32(o + 16, e.ebx >>> 0, true);
    dv.setUint32(o + 20, e.ecx >>> 0, true);
    dv.setUint32(o + 24, e.edx >>> 0, true);
  });
  vm.ioctl('SET_CPUID2', buf);
}

/** IA32_FEATURE_CONTROL (0x3A): locked with VMX off, as the interpreter reports it (cpu/system/msr.ts). */
export function lockFeatureControl(vm: NativeVm): void {
  const buf = new Uint8Array(8 + MSR_ENTRY_SIZE);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, 1, true);
  dv.setUint32(8, 0x3a, true);
  dv.setUint32(16, 1, true); // bit 0: lock
  try { vm.ioctl('SET_MSRS', buf); } catch { /* a KVM without the MSR: the guest sees #GP there */ }
}

/** The CPU model for a KVM vCPU: the model's leaves intersected with the host. */
export function kvmCpuid(vm: NativeVm, model: CpuidEntry[]): { entries: CpuidEntry[]; missing: string[] } {
  const entries = intersectCpuid(model, supportedCpuid(vm));
  return { entries, missing: missingFeatures(model, entries) };
}
