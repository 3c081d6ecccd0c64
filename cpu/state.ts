// The architectural state record: one fixed binary layout that every backend
// exports and imports exactly. The live register file of the interpreter and
// the JIT *is* this layout, placed in guest memory just past RAM, so wasm code
// and typed-array views share it; KVM's addon converts it to and from
// kvm_regs/kvm_sregs/kvm_fpu/kvm_msrs/kvm_vcpu_events; snapshots store it as bytes.
//
// All multi-byte fields are little-endian. A 64-bit field at offset O is the
// 32-bit halves lo = O, hi = O + 4 (the interpreter's Int32Array view sees
// them as words O/4 and O/4 + 1; the JIT can load them as one i64).

import type { CpuStateBytes } from '../contracts/backend.js';

/** Size of the record in bytes (a multiple of 64 so the FXSAVE area stays aligned). */
export const STATE_SIZE = 0x1000;

// ---- General-purpose registers: 16 x 64-bit, in the encoding order of ModRM.
export const GPR = 0x000;
export const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;
export const R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15;
export const GPR_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;
/** Byte offset of GPR n. */
export const gprOffset = (n: number): number => GPR + n * 8;

// ---- Instruction pointer and flags.
export const RIP = 0x080;
/** RFLAGS, architectural value. A backend with lazy flags materialises them here before export. */
export const RFLAGS = 0x088;

// ---- Control registers and friends (64-bit each).
export const CR0 = 0x090;
export const CR2 = 0x098;
export const CR3 = 0x0a0;
export const CR4 = 0x0a8;
export const CR8 = 0x0b0;
export const EFER = 0x0b8;
export const XCR0 = 0x0c0;
export const DR0 = 0x0c8; // DR0..DR3 at 0x0c8, 0x0d0, 0x0d8, 0x0e0
export const DR6 = 0x0e8;
export const DR7 = 0x0f0;

// ---- Segment registers, each a 32-byte record:
//   +0  selector (u16, stored in a u32)
//   +4  attributes (u32): descriptor bits 40-47 and 52-55 packed as
//       bits 0-3 type, 4 S, 5-6 DPL, 7 P, 12 AVL, 13 L, 14 D/B, 15 G,
//       and bit 16 = unusable (a null selector loaded in protected mode)
//   +8  limit (u32, byte granular: already expanded if G was set)
//   +16 base (u64)
export const SEG = 0x100;
export const SEG_SIZE = 32;
export const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5, LDTR = 6, TR = 7;
export const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'ldtr', 'tr'] as const;
export const SEG_SEL = 0, SEG_ATTR = 4, SEG_LIMIT = 8, SEG_BASE = 16;
/** Byte offset of segment register n. */
export const segOffset = (n: number): number => SEG + n * SEG_SIZE;

// Attribute bits (see above).
export const ATTR_TYPE_MASK = 0xf;
export const ATTR_S = 1 << 4;
export const ATTR_DPL_SHIFT = 5;
export const ATTR_P = 1 << 7;
export const ATTR_AVL = 1 << 12;
export const ATTR_L = 1 << 13;
export const ATTR_DB = 1 << 14;
export const ATTR_G = 1 << 15;
export const ATTR_UNUSABLE = 1 << 16;

// ---- Descriptor-table registers.
export const GDTR_BASE = 0x200; // u64
export const GDTR_LIMIT = 0x208; // u32
export const IDTR_BASE = 0x210; // u64
export const IDTR_LIMIT = 0x218; // u32

// ---- Model-specific registers kept in the record (64-bit each).
export const MSR_AREA = 0x220;
export const STAR = 0x220;
export const LSTAR = 0x228;
export const CSTAR = 0x230;
export const SFMASK = 0x238;
export const KERNEL_GS_BASE = 0x240;
export const SYSENTER_CS = 0x248;
export const SYSENTER_ESP = 0x250;
export const SYSENTER_EIP = 0x258;
/** Guest TSC value at the moment of export (backends keep their own offset while running). */
export const TSC = 0x260;
export const APIC_BASE = 0x268;
export const PAT = 0x270;
export const MISC_ENABLE = 0x278;
export const TSC_AUX = 0x280;
export const TSC_DEADLINE = 0x288;
export const MTRR_DEF_TYPE = 0x290;
export const MTRR_FIX = 0x298; // 11 fixed-range MTRRs: 64K_00000, 16K_80000, 16K_A0000, 4K_C0000..4K_F8000
export const MTRR_FIX_COUNT = 11;
export const MTRR_VAR = 0x2f0; // 8 pairs (base, mask): 16 x u64 up to 0x370
export const MTRR_VAR_COUNT = 8;
export const MCG_STATUS = 0x370;
export const PLATFORM_INFO = 0x378;
/** IA32_MISC_ENABLE at reset: fast strings (bit 0), BTS unavailable (11), PEBS unavailable (12). */
export const MISC_ENABLE_RESET = 1 | 1 << 11 | 1 << 12;

// ---- Pending events and run state (u32 each), as KVM's vcpu_events/mp_state see them.
export const EVENTS = 0x380;
/** 0 = running, 1 = halted (HLT), 2 = shut down (triple fault seen). */
export const RUN_STATE = 0x380;
export const RUN_RUNNING = 0, RUN_HALTED = 1, RUN_SHUTDOWN = 2;
/** Interrupt shadow: bit 0 after STI, bit 1 after MOV SS / POP SS. */
export const INT_SHADOW = 0x384;
export const SHADOW_STI = 1, SHADOW_MOV_SS = 2;
export const NMI_PENDING = 0x388;
export const NMI_MASKED = 0x38c;
/**
 * An event being delivered or pending delivery (for example an exception or
 * interrupt that KVM had half-injected when state was read):
 * bit 31 valid, bits 8-10 kind (EVENT_*), bit 11 has error code, bits 0-7 vector.
 */
export const PENDING_EVENT = 0x390;
export const PENDING_ERROR = 0x394;
export const EVENT_VALID = 1 << 31;
export const EVENT_HAS_ERROR = 1 << 11;
export const EVENT_EXTINT = 0 << 8, EVENT_NMI = 2 << 8, EVENT_EXCEPTION = 3 << 8, EVENT_SOFTINT = 4 << 8;
/** An external interrupt vector the backend accepted but had not yet delivered (-1 if none). */
export const PENDING_IRQ = 0x398;

// ---- x87/MMX/SSE state in FXSAVE layout (512 bytes, 16-byte aligned), then the
// XSAVE header (64 bytes) so XSAVE-format state for x87|SSE round-trips.
export const FXSAVE = 0x400;
export const FXSAVE_SIZE = 512;
export const FX_FCW = FXSAVE + 0x00; // u16
export const FX_FSW = FXSAVE + 0x02; // u16
export const FX_FTW = FXSAVE + 0x04; // u8, abridged tag
export const FX_FOP = FXSAVE + 0x06; // u16
export const FX_FIP = FXSAVE + 0x08; // u64 in 64-bit format
export const FX_FDP = FXSAVE + 0x10; // u64
export const FX_MXCSR = FXSAVE + 0x18; // u32
export const FX_MXCSR_MASK = FXSAVE + 0x1c; // u32
export const FX_ST0 = FXSAVE + 0x20; // 8 x 16 bytes (80-bit value + 6 reserved)
export const FX_XMM0 = FXSAVE + 0xa0; // 16 x 16 bytes
export const XSAVE_HEADER = 0x600; // 64 bytes: XSTATE_BV at +0, XCOMP_BV at +8

/** First byte past the architectural part; backends may keep private scratch from here to STATE_SIZE. */
export const ARCH_END = 0x640;
/** Private scratch for the backend that owns the live file (lazy flags, decode hints). Not exported. */
export const SCRATCH = 0x800;

/** CR0 and RFLAGS bits everyone needs. */
export const CR0_PE = 1 << 0, CR0_MP = 1 << 1, CR0_EM = 1 << 2, CR0_TS = 1 << 3, CR0_ET = 1 << 4,
  CR0_NE = 1 << 5, CR0_WP = 1 << 16, CR0_AM = 1 << 18, CR0_NW = 1 << 29, CR0_CD = 1 << 30, CR0_PG = 1 << 31;
export const CR4_VME = 1 << 0, CR4_PVI = 1 << 1, CR4_TSD = 1 << 2, CR4_DE = 1 << 3, CR4_PSE = 1 << 4,
  CR4_PAE = 1 << 5, CR4_MCE = 1 << 6, CR4_PGE = 1 << 7, CR4_PCE = 1 << 8, CR4_OSFXSR = 1 << 9,
  CR4_OSXMMEXCPT = 1 << 10, CR4_UMIP = 1 << 11, CR4_FSGSBASE = 1 << 16, CR4_PCIDE = 1 << 17,
  CR4_OSXSAVE = 1 << 18, CR4_SMEP = 1 << 20, CR4_SMAP = 1 << 21;
export const EFER_SCE = 1 << 0, EFER_LME = 1 << 8, EFER_LMA = 1 << 10, EFER_NXE = 1 << 11;
export const FLAG_CF = 1 << 0, FLAG_PF = 1 << 2, FLAG_AF = 1 << 4, FLAG_ZF = 1 << 6, FLAG_SF = 1 << 7,
  FLAG_TF = 1 << 8, FLAG_IF = 1 << 9, FLAG_DF = 1 << 10, FLAG_OF = 1 << 11, FLAG_IOPL = 3 << 12,
  FLAG_NT = 1 << 14, FLAG_RF = 1 << 16, FLAG_VM = 1 << 17, FLAG_AC = 1 << 18, FLAG_VIF = 1 << 19,
  FLAG_VIP = 1 << 20, FLAG_ID = 1 << 21;
/** Bit 1 of RFLAGS always reads as 1. */
export const FLAGS_FIXED = 1 << 1;

/** A detached copy of the architectural state (what getState() returns and setState() takes). */
export type { CpuStateBytes };

/** Typed access to a state record, whether a live register file or a detached copy. */
export class StateView {
  readonly u8: Uint8Array;
  readonly dv: DataView;

  constructor(buffer: ArrayBufferLike, byteOffset = 0) {
    this.u8 = new Uint8Array(buffer, byteOffset, STATE_SIZE);
    this.dv = new DataView(buffer, byteOffset, STATE_SIZE);
  }

  static detached(): StateView {
    return new StateView(new ArrayBuffer(STATE_SIZE));
  }

  u32(off: number): number { return this.dv.getUint32(off, true); }
  setU32(off: number, v: number): void { this.dv.setUint32(off, v >>> 0, true); }
  lo(off: number): number { return this.dv.getUint32(off, true); }
  hi(off: number): number { return this.dv.getUint32(off + 4, true); }
  /** Set a 64-bit field from its halves. */
  set64(off: number, lo: number, hi: number): void {
    this.dv.setUint32(off, lo >>> 0, true);
    this.dv.setUint32(off + 4, hi >>> 0, true);
  }
  /** A 64-bit field as a 16-digit hex string (for traces and diffs, never hot paths). */
  hex64(off: number): string {
    return this.hi(off).toString(16).padStart(8, '0') + this.lo(off).toString(16).padStart(8, '0');
  }
  /** A 64-bit field as a JS number; exact only below 2^53 (addresses, not arbitrary data). */
  num64(off: number): number { return this.hi(off) * 4294967296 + this.lo(off); }
  setNum64(off: number, v: number): void {
    this.set64(off, v % 4294967296, Math.floor(v / 4294967296));
  }

  copyFrom(other: StateView): void { this.u8.set(other.u8); }
  /** A detached copy of the architectural part (scratch zeroed). */
  snapshot(): CpuStateBytes {
    const out = new Uint8Array(STATE_SIZE);
    out.set(this.u8.subarray(0, ARCH_END));
    return out;
  }
}

/**
 * The state of a CPU just after power-on/RESET (Intel SDM Vol. 3A 9.1.1):
 * real mode, CS.selector F000 with base FFFF0000, RIP FFF0. Loaders overwrite
 * what they need (multiboot enters in 32-bit protected mode, for example).
 */
export function resetState(s: StateView): void {
  s.u8.fill(0, 0, ARCH_END);
  s.set64(RIP, 0xfff0, 0);
  s.set64(RFLAGS, FLAGS_FIXED, 0);
  s.set64(CR0, CR0_ET | CR0_CD | CR0_NW, 0);
  s.set64(DR6, 0xffff0ff0, 0);
  s.set64(DR7, 0x400, 0);
  s.set64(XCR0, 1, 0);
  for (let n = 0; n < 6; n++) {
    const o = segOffset(n);
    s.setU32(o + SEG_SEL, 0);
    s.setU32(o + SEG_ATTR, ATTR_P | ATTR_S | 0x3 /* read/write data, accessed */);
    s.setU32(o + SEG_LIMIT, 0xffff);
    s.set64(o + SEG_BASE, 0, 0);
  }
  const cs = segOffset(CS);
  s.setU32(cs + SEG_SEL, 0xf000);
  s.setU32(cs + SEG_ATTR, ATTR_P | ATTR_S | 0xb /* execute/read code, accessed */);
  s.set64(cs + SEG_BASE, 0xffff0000, 0);
  const ldtr = segOffset(LDTR);
  s.setU32(ldtr + SEG_ATTR, ATTR_P | 0x2);
  s.setU32(ldtr + SEG_LIMIT, 0xffff);
  const tr = segOffset(TR);
  s.setU32(tr + SEG_ATTR, ATTR_P | 0xb);
  s.setU32(tr + SEG_LIMIT, 0xffff);
  s.setU32(GDTR_LIMIT, 0xffff);
  s.setU32(IDTR_LIMIT, 0xffff);
  s.set64(APIC_BASE, 0xfee00900, 0); // enabled, BSP
  s.set64(PAT, 0x00070406, 0x00070406);
  // IA32_MISC_ENABLE: fast strings on (bit 0, as firmware leaves it), BTS and PEBS unavailable (11, 12).
  s.set64(MISC_ENABLE, MISC_ENABLE_RESET, 0);
  // MSR_PLATFORM_INFO: maximum non-turbo ratio 10 (bits 15:8) x 100 MHz, the 1 GHz the TSC counts at.
  s.set64(PLATFORM_INFO, 10 << 8, 0);
  s.set64(MTRR_DEF_TYPE, 0, 0);
  s.setU32(FX_FCW, 0x037f);
  s.setU32(FX_MXCSR, 0x1f80);
  s.setU32(FX_MXCSR_MASK, 0xffff);
  s.setU32(PENDING_IRQ, 0xffffffff);
}
