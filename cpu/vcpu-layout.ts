// The per-vCPU hot data past the state record (mmu/memory.ts VCPU_DATA onward):
// the TLB tag planes and physical-page array, the segment bounds and the mode
// fields. The interpreter reads them through typed-array views over these bytes
// and the JIT's wasm code with plain loads from the vCPU area's base, so both
// tiers see one copy. Offsets are from the start of a vCPU area.

import { VCPU_AREA, VCPU_DATA } from '../mmu/memory.js';
import { TLB_SIZE } from '../mmu/tlb.js';

export const enum V {
  /** Tlb.tags: 8 planes of TLB_SIZE Int32 tags (plane k at k << TLB_BITS words). */
  TLB_TAGS = 0x1000,
  /** Tlb.hiTag: TLB_SIZE Int32 high halves of the cached linear addresses. */
  TLB_HI = 0x21000,
  /** Tlb.phys: TLB_SIZE Int32 physical page bases. */
  TLB_PHYS = 0x25000,
  /** Cpu.segMax: 24 Float64 (ES..GS any access, +8 unused, +16 read bounds). */
  SEG_MAX = 0x29000,
  /** Mode fields (Int32 each), written by Cpu.modeChanged/segChanged. */
  MODE = 0x29100,
  /** Int32: where compiled code stopped: its region's table slot << 8 | the block's index in the region (cpu/jit/codegen.ts). */
  JIT_EXIT = 0x29180,
  /** Int32: the chain epoch jump-cache entries must carry to be followed (0: compiled code does not chain; cpu/jit/chain.ts). */
  JIT_GEN = 0x29184,
  /** Int32: times compiled code went on to another region through the jump cache. */
  JIT_CHAINS = 0x29188,
  /** The jump cache: JUMP_ENTRIES entries of 4 Int32 (linear address low, high, chain epoch, slot << 8 | entry). */
  JUMP_CACHE = 0x29200,
  /** Byte offset past the last field. */
  END = 0x2d200,
}

/** Entries in the jump cache (a power of two). */
export const JUMP_ENTRIES = 1024;

/** Mode-field word indices (Int32, from V.MODE). */
export const enum M {
  /** Word offsets (plane << TLB_BITS) of the read, write and fetch tag planes for the current CPL. */
  PLANE_R = 0, PLANE_W = 1, PLANE_X = 2,
  CPL = 3,
  /** Code and stack address sizes in bytes (2, 4, 8). */
  CODE_SIZE = 4, STACK_SIZE = 5,
  /** 4 while the stack is 32-bit on a flat SS (Cpu.stackFlat32), else 0. */
  STACK_FLAT32 = 6,
  /** Cpu.mode (MODE_REAL..MODE_COMPAT). */
  MODE = 7,
  /** Cpu.fetchMax as a Float64 (2^33 when flat) at words 8..9. */
  FETCH_MAX = 8,
  COUNT = 10,
}

if (V.TLB_TAGS !== VCPU_DATA || V.TLB_HI !== V.TLB_TAGS + 8 * TLB_SIZE * 4 || V.TLB_PHYS !== V.TLB_HI + TLB_SIZE * 4 ||
  V.SEG_MAX < V.TLB_PHYS + TLB_SIZE * 4 || V.MODE < V.SEG_MAX + 24 * 8 || V.MODE + M.COUNT * 4 > V.JIT_EXIT || V.JIT_CHAINS + 4 > V.JUMP_CACHE || V.JUMP_CACHE + JUMP_ENTRIES * 16 > V.END || V.END > VCPU_AREA) {
  throw new Error('cpu/vcpu-layout.ts disagrees with mmu/memory.ts / mmu/tlb.ts');
}

/** The typed-array views of one vCPU's hot data (area at byte offset `base` of `buffer`). */
export interface VcpuViews {
  tlbTags: Int32Array;
  tlbHi: Int32Array;
  tlbPhys: Uint32Array;
  segMax: Float64Array;
  mode: Int32Array;
  fetchMax: Float64Array;
}

export function vcpuViews(buffer: ArrayBuffer, base: number): VcpuViews {
  return {
    tlbTags: new Int32Array(buffer, base + V.TLB_TAGS, 8 * TLB_SIZE),
    tlbHi: new Int32Array(buffer, base + V.TLB_HI, TLB_SIZE),
    tlbPhys: new Uint32Array(buffer, base + V.TLB_PHYS, TLB_SIZE),
    segMax: new Float64Array(buffer, base + V.SEG_MAX, 24),
    mode: new Int32Array(buffer, base + V.MODE, M.COUNT),
    fetchMax: new Float64Array(buffer, base + V.MODE + M.FETCH_MAX * 4, 1),
  };
}
