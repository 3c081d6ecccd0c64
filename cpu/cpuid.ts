// The one CPU model emu presents (CPUID), shared by the interpreter and the KVM
// backend (which intersects it with KVM_GET_SUPPORTED_CPUID). It advertises only
// what the interpreter implements. Leaf numbers and bits: Intel SDM Vol. 2A, CPUID.

import { MAXPHYADDR, LINEAR_BITS } from '../mmu/paging.js';
import { fieldBits, FLAT_TOPOLOGY, type CpuTopology } from './topology.js';
import { L1C_HYPERVISOR, type CpuidEntry } from '../contracts/cpuid.js';

export { L1C_HYPERVISOR, type CpuidEntry };

export const VENDOR = 'GenuineIntel';
export const BRAND = 'emu virtual x86-64 CPU';
/** Family 6, model 0x3A (an Ivy Bridge-class core), stepping 9. */
export const FAMILY = 6, MODEL = 0x3a, STEPPING = 9;

export const MAX_BASIC_LEAF = 0xd;
export const MAX_EXT_LEAF = 0x80000008;
/**
 * The hypervisor leaves (0x40000000 up; CPUID.1:ECX[31] says they exist): emu's own signature in
 * EBX, ECX, EDX and the highest hypervisor leaf in EAX. Guests that know no such hypervisor only
 * learn that they run in a virtual machine.
 */
export const HV_BASE_LEAF = 0x40000000, HV_MAX_LEAF = 0x40000000;
export const HV_VENDOR = 'emu.virt.x86';

// ---- Leaf 1 EDX.
export const L1D_FPU = 1 << 0, L1D_VME = 1 << 1, L1D_DE = 1 << 2, L1D_PSE = 1 << 3, L1D_TSC = 1 << 4,
  L1D_MSR = 1 << 5, L1D_PAE = 1 << 6, L1D_MCE = 1 << 7, L1D_CX8 = 1 << 8, L1D_APIC = 1 << 9,
  L1D_SEP = 1 << 11, L1D_MTRR = 1 << 12, L1D_PGE = 1 << 13, L1D_MCA = 1 << 14, L1D_CMOV = 1 << 15,
  L1D_PAT = 1 << 16, L1D_PSE36 = 1 << 17, L1D_CLFSH = 1 << 19, L1D_MMX = 1 << 23, L1D_FXSR = 1 << 24,
  L1D_SSE = 1 << 25, L1D_SSE2 = 1 << 26, L1D_HTT = 1 << 28;
// ---- Leaf 1 ECX.
export const L1C_SSE3 = 1 << 0, L1C_PCLMUL = 1 << 1, L1C_SSSE3 = 1 << 9, L1C_CX16 = 1 << 13,
  L1C_SSE41 = 1 << 19, L1C_SSE42 = 1 << 20, L1C_X2APIC = 1 << 21, L1C_MOVBE = 1 << 22, L1C_POPCNT = 1 << 23,
  L1C_TSC_DEADLINE = 1 << 24, L1C_XSAVE = 1 << 26, L1C_OSXSAVE = 1 << 27;
// ---- Leaf 7.0 EBX.
export const L7B_FSGSBASE = 1 << 0, L7B_SMEP = 1 << 7, L7B_ERMS = 1 << 9, L7B_SMAP = 1 << 20;
/** FPU CS and DS are deprecated: FSTENV/FSAVE/FXSAVE store them as 0, as the x87 here does. */
export const L7B_FCS_FDS_ZERO = 1 << 13;
// ---- Leaf 7.0 ECX.
export const L7C_UMIP = 1 << 2, L7C_RDPID = 1 << 22;
// ---- Leaf 0x80000001.
export const X1C_LAHF = 1 << 0, X1C_ABM = 1 << 5;
export const X1D_SYSCALL = 1 << 11, X1D_NX = 1 << 20, X1D_PAGE1GB = 1 << 26, X1D_RDTSCP = 1 << 27, X1D_LM = 1 << 29;
// ---- Leaf 0x80000007 EDX.
export const X7D_INVARIANT_TSC = 1 << 8;

// ==== x87 / MMX / SSE features: THE EDIT POINT for the fpu engineer. =========
// Set these as the instructions land (e.g. L1D_FPU | L1D_MMX | L1D_FXSR | L1D_SSE | L1D_SSE2,
// and L1C_SSE3 | L1C_SSSE3 | L1C_SSE41 | L1C_SSE42 | L1C_XSAVE in ECX). MOV CR4 accepts
// OSXSAVE only when XSAVE is advertised here (OSFXSR and OSXMMEXCPT are always accepted).
// (fpu: set once the x87/MMX/SSE..SSE4.2, POPCNT, MOVBE, FXSAVE and XSAVE rows of
// cpu/fpu/extension.ts were in and passing the host vectors; PCLMULQDQ/AES/AVX are not.)
export const FPU_LEAF1_EDX = L1D_FPU | L1D_MMX | L1D_FXSR | L1D_SSE | L1D_SSE2;
export const FPU_LEAF1_ECX = L1C_SSE3 | L1C_SSSE3 | L1C_SSE41 | L1C_SSE42 | L1C_MOVBE | L1C_POPCNT | L1C_XSAVE;
/** (fpu) LZCNT is advertised as ABM in leaf 0x80000001 ECX. */
export const FPU_EXT1_ECX = X1C_ABM;
/** XCR0 bits supported (leaf 0xD.0 EAX) when L1C_XSAVE is advertised: x87 | SSE. */
export const XCR0_SUPPORTED = 0x3;
// ============================================================================

/** Integer/system features the interpreter implements. */
export const LEAF1_EDX = L1D_DE | L1D_PSE | L1D_TSC | L1D_MSR | L1D_PAE | L1D_CX8 | L1D_APIC | L1D_SEP |
  L1D_MTRR | L1D_PGE | L1D_CMOV | L1D_PAT | L1D_PSE36 | L1D_CLFSH | FPU_LEAF1_EDX;
export const LEAF1_ECX = L1C_CX16 | L1C_HYPERVISOR | FPU_LEAF1_ECX;
export const LEAF7_EBX = L7B_SMEP | L7B_FSGSBASE | L7B_FCS_FDS_ZERO;
export const LEAF7_ECX = L7C_UMIP | L7C_RDPID;
export const EXT1_ECX = X1C_LAHF | FPU_EXT1_ECX;
export const EXT1_EDX = X1D_SYSCALL | X1D_NX | X1D_PAGE1GB | X1D_RDTSCP | X1D_LM;

/** CLFLUSH line size in 8-byte units (64 bytes). */
const CLFLUSH_LINE = 8;

/**
 * The caches leaf 4 describes, one subleaf each (type 1 data, 2 instruction, 3 unified):
 * [type, level, ways, sets, shared by the whole package]. Nothing is modelled behind them;
 * guests size their scheduler domains and buffers from them. 64-byte lines, one partition.
 */
const CACHES: readonly (readonly [number, number, number, number, boolean])[] = [
  [1, 1, 8, 64, false], // L1d 32 KiB
  [2, 1, 8, 64, false], // L1i 32 KiB
  [3, 2, 8, 512, false], // L2 256 KiB per core
  [3, 3, 16, 8192, true], // L3 8 MiB per package
];
/** Leaf 0xB level types (ECX[15:8]). */
const LEVEL_SMT = 1, LEVEL_CORE = 2;

/** What CPUID reports that depends on the running state. */
export interface CpuidDynamic {
  apicId: number;
  /** IA32_APIC_BASE global enable (bit 11): leaf 1 EDX.APIC follows it. */
  apicEnabled: boolean;
  /** CR4.OSXSAVE: mirrored in leaf 1 ECX bit 27. */
  osxsave: boolean;
  /** Threads per core and cores per package (leaves 1, 4, 0xB); default one of each. */
  topology?: CpuTopology;
}

/** APIC ID bits below the package field. */
function packageBits(t: CpuTopology): number {
  return fieldBits(t.threads) + fieldBits(t.cores);
}

function str4(s: string, at: number): number {
  let v = 0;
  for (let i = 0; i < 4; i++) v |= (s.charCodeAt(at + i) || 0) << (8 * i);
  return v;
}

/**
 * Execute CPUID: leaf (EAX), subleaf (ECX) -> out[0..3] = EAX, EBX, ECX, EDX.
 * Leaves past the maximum of their range (basic, hypervisor, extended) return the highest
 * basic leaf's data, as Intel CPUs (and KVM) do.
 */
export function cpuid(leaf: number, subleaf: number, dyn: CpuidDynamic, out: Int32Array | number[]): void {
  leaf >>>= 0;
  const hv = leaf >= HV_BASE_LEAF && leaf <= HV_MAX_LEAF;
  if (!hv && ((leaf > MAX_BASIC_LEAF && leaf < 0x80000000) || leaf > MAX_EXT_LEAF)) leaf = MAX_BASIC_LEAF;
  let a = 0, b = 0, c = 0, d = 0;
  switch (leaf) {
    case 0:
      a = MAX_BASIC_LEAF; b = str4(VENDOR, 0); d = str4(VENDOR, 4); c = str4(VENDOR, 8);
      break;
    case 1: {
      // EBX[23:16]: addressable logical processor IDs per package (SDM 9.9.1); HTT says it means something.
      const ids = 1 << packageBits(dyn.topology ?? FLAT_TOPOLOGY);
      a = STEPPING | ((MODEL & 0xf) << 4) | (FAMILY << 8) | ((MODEL >> 4) << 16);
      b = (CLFLUSH_LINE << 8) | ((ids & 0xff) << 16) | ((dyn.apicId & 0xff) << 24);
      c = LEAF1_ECX | (dyn.osxsave && (LEAF1_ECX & L1C_XSAVE) !== 0 ? L1C_OSXSAVE : 0);
      d = (dyn.apicEnabled ? LEAF1_EDX : LEAF1_EDX & ~L1D_APIC) | (ids > 1 ? L1D_HTT : 0);
      break;
    }
    case 4: {
      // Deterministic cache parameters: EAX[31:26] core IDs per package - 1, EAX[25:14] logical IDs sharing the cache - 1.
      const cache = CACHES[subleaf >>> 0];
      if (!cache) break;
      const t = dyn.topology ?? FLAT_TOPOLOGY;
      const [type, level, ways, sets, perPackage] = cache;
      const sharing = (1 << (perPackage ? packageBits(t) : fieldBits(t.threads))) - 1;
      a = type | (level << 5) | (1 << 8) /* self-initializing */ | (sharing << 14) | (((1 << fieldBits(t.cores)) - 1) << 26);
      b = ((ways - 1) << 22) | (63 /* line size - 1 */);
      c = sets - 1;
      break;
    }
    case 0xb: {
      // Extended topology (SDM 9.9.1): per level, the APIC ID shift to the next level and the logical processors in it.
      const t = dyn.topology ?? FLAT_TOPOLOGY;
      d = dyn.apicId;
      c = subleaf & 0xff;
      if (subleaf === 0) { a = fieldBits(t.threads); b = t.threads; c |= LEVEL_SMT << 8; }
      else if (subleaf === 1) { a = packageBits(t); b = t.threads * t.cores; c |= LEVEL_CORE << 8; }
      break;
    }
    case 7:
      if (subleaf === 0) { b = LEAF7_EBX; c = LEAF7_ECX; }
      break;
    case 0xd:
      if ((LEAF1_ECX & L1C_XSAVE) !== 0) {
        // Subleaf 0: supported XCR0 bits, size for enabled/all features (legacy area 512 + header 64).
        if (subleaf === 0) { a = XCR0_SUPPORTED; b = 576; c = 576; }
      }
      break;
    case HV_BASE_LEAF:
      a = HV_MAX_LEAF; b = str4(HV_VENDOR, 0); c = str4(HV_VENDOR, 4); d = str4(HV_VENDOR, 8);
      break;
    case 0x80000000:
      a = MAX_EXT_LEAF;
      break;
    case 0x80000001:
      c = EXT1_ECX; d = EXT1_EDX;
      break;
    case 0x80000002: case 0x80000003: case 0x80000004: {
      const at = (leaf - 0x80000002) * 16;
      a = str4(BRAND, at); b = str4(BRAND, at + 4); c = str4(BRAND, at + 8); d = str4(BRAND, at + 12);
      break;
    }
    case 0x80000007:
      d = X7D_INVARIANT_TSC;
      break;
    case 0x80000008:
      a = MAXPHYADDR | (LINEAR_BITS << 8);
      break;
    default:
      break;
  }
  out[0] = a | 0; out[1] = b | 0; out[2] = c | 0; out[3] = d | 0;
}

/** Every leaf of the model (static state: APIC ID 0, APIC enabled), for KVM_SET_CPUID2. */
export function cpuidEntries(apicId = 0): CpuidEntry[] {
  const out: CpuidEntry[] = [];
  const r = [0, 0, 0, 0];
  const dyn: CpuidDynamic = { apicId, apicEnabled: true, osxsave: false };
  const add = (leaf: number, subleaf: number, indexed: boolean): void => {
    cpuid(leaf, subleaf, dyn, r);
    out.push({ leaf, subleaf, eax: r[0] >>> 0, ebx: r[1] >>> 0, ecx: r[2] >>> 0, edx: r[3] >>> 0, indexed });
  };
  for (let l = 0; l <= MAX_BASIC_LEAF; l++) {
    if (l === 7) add(7, 0, true);
    else if (l === 0xd) { add(0xd, 0, true); add(0xd, 1, true); }
    else if (l === 4) for (let s = 0; s <= CACHES.length; s++) add(4, s, true);
    else if (l === 0xb) for (let s = 0; s <= 2; s++) add(0xb, s, true);
    else add(l, 0, false);
  }
  for (let l = HV_BASE_LEAF; l <= HV_MAX_LEAF; l++) add(l, 0, false);
  for (let l = 0x80000000; l <= MAX_EXT_LEAF; l++) add(l, 0, false);
  return out;
}
