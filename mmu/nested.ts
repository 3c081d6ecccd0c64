// The nested model (EPT/NPT, SDM Vol. 3C 29.3): the guest's own page tables
// translate linear to guest-physical, and a second-level table that emu builds
// as a hypervisor would translates every guest-physical address the walk uses
// (each paging-structure entry, then the final address) to host-physical. A
// TLB miss is then a two-dimensional walk: 4 guest levels, each preceded by a
// 4-level second-level walk, plus one for the data page: 24 references.
//
// The second-level table lives in emu's own memory (an ArrayBuffer of this
// model, not guest RAM) in EPT format: bits 2:0 read/write/execute, 5:3 the
// memory type on a leaf (6 = write-back), 7 a 2 MiB leaf in a PDE, 51:12 the
// address. It starts empty; the first reference to a guest-physical page is an
// "EPT violation" exit whose handler fills the entry (and the table pages on
// its path), then the reference is walked again.
//
// What a host frame is here: guest RAM is one fixed WebAssembly.Memory that
// KVM registers as-is and that devices DMA into at guest-physical addresses,
// so the honest mapping is the identity within that memory — host frame N
// is guest frame N of the same buffer. The table, its walks, violations and
// references are real; only the choice of frame is fixed. Non-leaf entries
// hold the byte offset of the next table page in this model's own buffer.
// Guest-physical addresses outside RAM (MMIO) are never mapped, as a
// hypervisor leaves them to exit for emulation: each counts an MMIO exit.
// With several vCPUs (-smp) they share the one table of their memory; the
// table's counters (violations, pages) are the VM's, walks are per vCPU.

import type { GuestMemory } from './memory.js';
import type { MemoryModel, SecondLevel } from './model.js';
import { REF_HIST, tableIndex as index, walkCounters } from './model.js';
import type { Mmu } from './paging.js';

/** EPT entry bits. */
export const EPT_R = 1, EPT_W = 2, EPT_X = 4, EPT_RWX = 7, EPT_WB = 6 << 3, EPT_LARGE = 1 << 7;

const PAGE_WORDS = 1024; // one 4 KiB table page as Int32 words (512 entries of lo, hi)
const TWO32 = 4294967296;

/** The second-level table: a pool of 4 KiB table pages; page 0 is the root (the EPT PML4). */
export class EptTable implements SecondLevel {
  private pool = new Int32Array(PAGE_WORDS * 16);
  /** Table pages in use (the root included). */
  pages = 1;
  // Counters.
  /** Second-level entries read (translations of guest-physical addresses). */
  refs = 0;
  /** Guest-physical translations done. */
  maps = 0;
  violations = 0;
  mmioExits = 0;
  /** Translations that ended at a 2 MiB leaf: one reference saved each. */
  largeLeaves = 0;
  /** Leaves filled, by size. */
  leaves4k = 0;
  leaves2m = 0;

  /** `ramSize`: guest RAM (what is mapped); `large`: map with 2 MiB pages where a whole 2 MiB of RAM lies under one. */
  constructor(private readonly ramSize: number, private readonly large: boolean) {}

  map(gpa: number): number {
    this.maps++;
    for (;;) {
      const hpa = this.walk(gpa);
      if (hpa >= 0) return hpa;
      // EPT violation exit: the hypervisor assigns the host frame and fills the entry; the reference is retried.
      if (gpa >= this.ramSize) { this.mmioExits++; return gpa; }
      this.violations++;
      this.fill(gpa);
    }
  }

  /** One second-level walk: the host-physical address, or -1 at a missing entry. */
  private walk(gpa: number): number {
    const pool = this.pool;
    const hi = gpa >= TWO32 ? Math.floor(gpa / TWO32) : 0, lo = gpa >>> 0;
    let page = 0;
    for (let level = 4; level >= 1; level--) {
      const e = (page * PAGE_WORDS) + index(lo, hi, level) * 2;
      this.refs++;
      const el = pool[e];
      if ((el & EPT_RWX) === 0) return -1;
      if (level === 2 && (el & EPT_LARGE) !== 0) {
        this.largeLeaves++;
        return ((el & 0xffe00000) >>> 0) + pool[e + 1] * TWO32 + (lo & 0x1fffff);
      }
      if (level === 1) return ((el & ~0xfff) >>> 0) + pool[e + 1] * TWO32 + (lo & 0xfff);
      page = (el >>> 12);
    }
    return -1;
  }

  /** The violation handler: create the table pages down to the leaf and map the frame (host frame = guest frame). */
  private fill(gpa: number): void {
    const hi = gpa >= TWO32 ? Math.floor(gpa / TWO32) : 0, lo = gpa >>> 0;
    const base2m = gpa - (gpa % 0x200000);
    const large = this.large && base2m + 0x200000 <= this.ramSize;
    let page = 0;
    for (let level = 4; level > (large ? 2 : 1); level--) {
      const e = page * PAGE_WORDS + index(lo, hi, level) * 2;
      if ((this.pool[e] & EPT_RWX) === 0) {
        const child = this.allocPage();
        this.pool[e] = (child << 12) | EPT_RWX; // the child table's offset in this model's buffer
        this.pool[e + 1] = 0;
      }
      page = this.pool[e] >>> 12;
    }
    const e = page * PAGE_WORDS + index(lo, hi, large ? 2 : 1) * 2;
    const frame = large ? base2m : gpa - (gpa % 4096);
    this.pool[e] = ((frame % TWO32) | EPT_RWX | EPT_WB | (large ? EPT_LARGE : 0)) | 0;
    this.pool[e + 1] = Math.floor(frame / TWO32);
    if (large) this.leaves2m++; else this.leaves4k++;
  }

  private allocPage(): number {
    const n = this.pages++;
    if ((n + 1) * PAGE_WORDS > this.pool.length) {
      const grown = new Int32Array(this.pool.length * 2);
      grown.set(this.pool);
      this.pool = grown;
    }
    return n;
  }
}


/**
 * One second-level table per guest memory and page size, shared by every vCPU's model, as a
 * hypervisor keeps one EPT per VM: a frame one vCPU faulted in is mapped for all.
 */
const tables = new WeakMap<GuestMemory, { small?: EptTable; large?: EptTable }>();

function sharedTable(mem: GuestMemory, large: boolean): EptTable {
  let t = tables.get(mem);
  if (!t) { t = {}; tables.set(mem, t); }
  const key = large ? 'large' : 'small';
  return t[key] ??= new EptTable(mem.ramSize, large);
}

/** The nested model: the guest walker with its references translated through an EptTable. */
export class NestedModel implements MemoryModel {
  readonly name;
  readonly ept: EptTable;
  /** References (guest entries + second-level entries) per two-dimensional walk. */
  private readonly hist = new Int32Array(REF_HIST);
  private walks = 0;
  private refs = 0;

  constructor(private readonly mmu: Mmu, large: boolean) {
    this.name = large ? 'nested-2m' as const : 'nested' as const;
    this.ept = sharedTable(mmu.mem, large);
    mmu.ept = this.ept;
  }

  miss(lo: number, hi: number, acc: number): number {
    const mmu = this.mmu, ept = this.ept;
    const before = ept.refs, guestBefore = mmu.refs;
    const p = mmu.walk(lo, hi, acc, true);
    const n = (ept.refs - before) + (mmu.refs - guestBefore);
    this.walks++;
    this.refs += n;
    this.hist[n < REF_HIST ? n : REF_HIST - 1]++;
    return p;
  }

  cr3Changed(): void { /* the second-level table belongs to the hypervisor: guest CR3 loads leave it alone */ }
  flushed(): void { /* guest TLB flushes do not touch the second level (that would be INVEPT) */ }
  invalidated(): void { /* likewise INVLPG */ }
  detach(): void { this.mmu.ept = null; }

  counters(): Record<string, number> {
    const e = this.ept, name = this.name;
    return {
      ...walkCounters(name, this.mmu.misses, this.walks, this.refs, this.hist),
      [`${name}.guestRefs`]: this.mmu.refs,
      [`${name}.eptRefs`]: e.refs,
      [`${name}.eptViolations`]: e.violations,
      [`${name}.eptMmioExits`]: e.mmioExits,
      [`${name}.eptPages`]: e.pages,
      [`${name}.eptLeaves4k`]: e.leaves4k,
      [`${name}.eptLeaves2m`]: e.leaves2m,
      [`${name}.refsSavedBy2m`]: e.largeLeaves,
    };
  }
}
