// The CPU model as a backend is handed it: the CPUID leaves a machine builds from
// cpu/cpuid.ts and gives to a backend that loads them into hardware (KVM_SET_CPUID2).

/** One CPUID leaf (subleaf when `indexed`) and the four registers it returns. */
export interface CpuidEntry { leaf: number; subleaf: number; eax: number; ebx: number; ecx: number; edx: number; indexed: boolean }

/** CPUID.1:ECX bit 31, "hypervisor present": the model's own word, which no host capability limits. */
export const L1C_HYPERVISOR = 1 << 31;
