// The memory models behind the TLB miss path. A miss in the software TLB
// (mmu/tlb.ts) asks the run's model for the translation; the model fills the
// TLB and counts its own work. Nothing above the miss path knows which model
// runs, so the interpreter and the JIT (which share the TLB and its miss path)
// see the same guest under every model.
//
//   direct     walk the guest's page tables (mmu/paging.ts), as a bare-metal MMU does
//   shadow     walk emu's own shadow tables, kept in step with the guest's by
//              write-protecting them (mmu/shadow.ts), as a hypervisor without EPT does
//   nested     walk the guest's tables through a second-level (EPT-format) table,
//              every reference translated (mmu/nested.ts), as EPT/NPT hardware does;
//              nested-2m maps guest-physical memory with 2 MiB second-level pages

export const MMU_MODELS = ['direct', 'shadow', 'nested', 'nested-2m'] as const;
export type MmuModelName = typeof MMU_MODELS[number];

/** Buckets of the references-per-walk histogram: 0..24 (a full 4x4 two-dimensional walk is 24), the last one "or more". */
export const REF_HIST = 26;

/** A memory model: what the TLB miss path (Mmu.translate) calls. */
export interface MemoryModel {
  readonly name: MmuModelName;
  /**
   * A TLB miss for `acc` (ACC_* bits) at linear lo:hi: fill the TLB and return the physical
   * address, or -1 with mmu.faultCode set (the caller raises the fault).
   */
  miss(lo: number, hi: number, acc: number): number;
  /** CR3 was loaded (MOV CR3, a task switch, or a state import seen at the next miss). */
  cr3Changed(): void;
  /** The CPU flushed its TLB: everything (global) or all but global entries (MOV CR3). */
  flushed(global: boolean): void;
  /** INVLPG of the page holding lo:hi. */
  invalidated(lo: number, hi: number): void;
  /** Counters, keyed `<model>.<name>` (see directCounters for the shared ones). */
  counters(): Record<string, number>;
  /** Stop hearing about guest memory (the backend is destroyed). */
  detach(): void;
}

/** Guest-physical -> host-physical for the walker (the nested model's second-level table). */
export interface SecondLevel {
  /** Host-physical address for guest-physical `gpa` (an "EPT violation" fills a missing entry first). */
  map(gpa: number): number;
}

/** The counters every model reports: TLB misses, walks, references, references per walk and their histogram. */
export function walkCounters(name: string, misses: number, walks: number, refs: number, hist: Int32Array): Record<string, number> {
  const out: Record<string, number> = {
    [`${name}.tlbMisses`]: misses,
    [`${name}.walks`]: walks,
    [`${name}.refs`]: refs,
    [`${name}.refsPerWalk`]: walks === 0 ? 0 : Math.round((refs / walks) * 100) / 100,
  };
  for (let n = 0; n < hist.length; n++) {
    if (hist[n] !== 0) out[`${name}.walksWith${n}${n === hist.length - 1 ? '+' : ''}Refs`] = hist[n];
  }
  return out;
}

/** What a walker counts (mmu/paging.ts's Mmu): TLB misses, walks, references and their histogram. */
export interface WalkStats {
  readonly misses: number;
  readonly walks: number;
  readonly refs: number;
  readonly refHist: Int32Array;
}

/** The direct model's counters: the guest walker's own. */
export function directCounters(walker: WalkStats): Record<string, number> {
  return walkCounters('direct', walker.misses, walker.walks, walker.refs, walker.refHist);
}

/** Index into a level-`level` table (4 = PML4) of the 48-bit address hi:lo: 9 bits per level from bit 12. */
export function tableIndex(lo: number, hi: number, level: number): number {
  switch (level) {
    case 4: return (hi >>> 7) & 0x1ff;
    case 3: return ((hi << 2) | (lo >>> 30)) & 0x1ff;
    case 2: return (lo >>> 21) & 0x1ff;
    default: return (lo >>> 12) & 0x1ff;
  }
}

let fallback: MmuModelName = 'direct';
/** The model of a CPU whose host names none (direct, unless a test matrix sets another: test/setup-mmu.ts). */
export function defaultMmuModel(): MmuModelName { return fallback; }
export function setDefaultMmuModel(name: MmuModelName): void { fallback = name; }

/** Parse a model name (CLI, web query): null if unknown. */
export function parseMmuModel(text: string): MmuModelName | null {
  return (MMU_MODELS as readonly string[]).includes(text) ? text as MmuModelName : null;
}
