// The software TLB: a direct-mapped cache of 4 KiB linear->physical translations,
// laid out for the interpreter's fast path (one tag compare per access kind).
//
// Fast-path hit test (what cpu-exec inlines; `kind` = ACC_* bits below):
//   const i = ((lo >>> 12) ^ hi) & TLB_MASK;
//   if (tlb.tags[(kind << TLB_BITS) | i] === (lo & PAGE_MASK) && tlb.hiTag[i] === hi)
//     phys = tlb.phys[i] + (lo & 0xfff);            // guaranteed RAM, writes need no code check
// A miss (including "slow" entries: MMIO pages, writes to pages holding decoded
// code) goes to Mmu.translate(), which finds slow entries without a new walk.

/** Access kinds. A kind is an index into the tag planes: WRITE|USER|EXEC bits. */
export const ACC_READ = 0, ACC_WRITE = 1, ACC_USER = 2, ACC_EXEC = 4;
/** Not a tag plane: marks a stack access so a non-canonical address raises #SS instead of #GP. */
export const ACC_STACK = 8;
export const ACC_KIND_MASK = 7;

export const TLB_BITS = 12;
export const TLB_SIZE = 1 << TLB_BITS;
export const TLB_MASK = TLB_SIZE - 1;
export const PAGE_MASK = ~0xfff;
/** A tag no page-aligned linear address can equal. */
export const TAG_INVALID = 2;
/** Low tag bit: "translation known, but take the slow path" (MMIO, code page on write). */
export const TAG_SLOW = 1;

export class Tlb {
  /** 8 tag planes of TLB_SIZE (one per access kind; planes 5 and 7 stay invalid). */
  readonly tags: Int32Array;
  /** High 32 bits of the cached linear address. */
  readonly hiTag: Int32Array;
  /** Low 32 bits of the cached linear page (whatever the permissions). */
  readonly linTag = new Int32Array(TLB_SIZE);
  /**
   * Physical page base (entries above 4 GiB are never cached), unsigned: RAM reaches past 2 GiB,
   * so readers add the page offset (`phys[i] + (lo & 0xfff)`) rather than OR it into an int32.
   */
  readonly phys: Uint32Array;
  /** 1 = translation came from a global (G=1, CR4.PGE) entry. */
  readonly global = new Uint8Array(TLB_SIZE);
  /** Linear-address mask of the page the entry came from (4K, 2M, 4M, 1G): INVLPG drops the whole page. */
  readonly sizeMask = new Int32Array(TLB_SIZE).fill(PAGE_MASK);
  /** Indices currently filled, so flushes touch only what is there. */
  private readonly used = new Int32Array(TLB_SIZE);
  private readonly inUse = new Uint8Array(TLB_SIZE);
  /** 1 = index is in `used` (it may have been dropped since; compaction removes it). */
  private readonly listed = new Uint8Array(TLB_SIZE);
  private usedCount = 0;
  /** Entries from pages larger than 4 KiB currently cached (INVLPG must then scan). */
  private largeCount = 0;
  /** Linear pages holding a data breakpoint (cpu/system/debug.ts): their data kinds are always filled slow. */
  private readonly watchLo = new Int32Array(4);
  private readonly watchHi = new Int32Array(4);
  private watchCount = 0;

  // Counters for benchmarks and teaching views.
  fills = 0;
  flushes = 0;

  /**
   * The planes the fast paths read (tags, hiTag, phys) may be given as views into guest
   * memory (cpu/vcpu-layout.ts), where compiled code reads them too; else they are private.
   */
  constructor(planes?: { tags: Int32Array; hiTag: Int32Array; phys: Uint32Array }) {
    this.tags = (planes?.tags ?? new Int32Array(8 << TLB_BITS)).fill(TAG_INVALID);
    this.hiTag = planes?.hiTag.fill(0) ?? new Int32Array(TLB_SIZE);
    this.phys = planes?.phys.fill(0) ?? new Uint32Array(TLB_SIZE);
  }

  /** Slot for a linear page. */
  static index(lo: number, hi: number): number {
    return ((lo >>> 12) ^ hi) & TLB_MASK;
  }

  /**
   * Cache one 4 KiB piece of a translation. `perms` is a bitmask over the 8
   * access kinds (bit k set = kind k allowed); `slowPerms` are allowed kinds
   * that must still take the slow path.
   */
  fill(lo: number, hi: number, physPage: number, perms: number, slowPerms: number, isGlobal: boolean, sizeMask: number): void {
    const i = Tlb.index(lo, hi);
    const page = lo & PAGE_MASK;
    if (this.watchCount !== 0 && this.watched(page, hi)) slowPerms |= DATA_KIND_BITS;
    if (this.listed[i] === 0) {
      this.listed[i] = 1;
      this.used[this.usedCount++] = i;
    }
    if (this.inUse[i] !== 0 && this.sizeMask[i] !== PAGE_MASK) this.largeCount--;
    this.inUse[i] = 1;
    const tags = this.tags;
    for (let k = 0; k < 8; k++) {
      const bit = 1 << k;
      tags[(k << TLB_BITS) | i] = (perms & bit) === 0 ? TAG_INVALID : (slowPerms & bit) !== 0 ? page | TAG_SLOW : page;
    }
    this.hiTag[i] = hi;
    this.linTag[i] = page;
    this.phys[i] = physPage & PAGE_MASK;
    this.global[i] = isGlobal ? 1 : 0;
    this.sizeMask[i] = sizeMask;
    if (sizeMask !== PAGE_MASK) this.largeCount++;
    this.fills++;
  }

  private drop(i: number): void {
    const tags = this.tags;
    for (let k = 0; k < 8; k++) tags[(k << TLB_BITS) | i] = TAG_INVALID;
    if (this.sizeMask[i] !== PAGE_MASK) this.largeCount--;
    this.sizeMask[i] = PAGE_MASK;
    this.inUse[i] = 0;
  }

  /** Drop every entry, or every non-global one (MOV CR3 with CR4.PGE set keeps globals). */
  flush(includeGlobal: boolean): void {
    this.flushes++;
    let keep = 0;
    for (let n = 0; n < this.usedCount; n++) {
      const i = this.used[n];
      if (this.inUse[i] !== 0 && !includeGlobal && this.global[i] !== 0) this.used[keep++] = i;
      else {
        if (this.inUse[i] !== 0) this.drop(i);
        this.listed[i] = 0;
      }
    }
    this.usedCount = keep;
  }

  /** INVLPG: drop the translation of the page containing lo:hi, whatever its size. */
  invalidate(lo: number, hi: number): void {
    const i = Tlb.index(lo, hi);
    if (this.inUse[i] !== 0 && this.linTag[i] === (lo & PAGE_MASK) && this.hiTag[i] === hi) this.drop(i);
    if (this.largeCount === 0) return;
    for (let n = 0; n < this.usedCount; n++) {
      const j = this.used[n];
      if (this.inUse[j] === 0 || this.sizeMask[j] === PAGE_MASK || this.hiTag[j] !== hi) continue;
      const m = this.sizeMask[j];
      if ((this.linTag[j] & m) === (lo & m)) this.drop(j);
    }
    this.compact();
  }

  private compact(): void {
    let keep = 0;
    for (let n = 0; n < this.usedCount; n++) {
      const i = this.used[n];
      if (this.inUse[i] !== 0) this.used[keep++] = i;
      else this.listed[i] = 0;
    }
    this.usedCount = keep;
  }

  /**
   * A physical page now holds decoded code: writes through any cached
   * translation to it must take the slow path (which tells the code cache).
   */
  protectCodePage(physPage: number): void {
    const base = physPage * 4096;
    for (let n = 0; n < this.usedCount; n++) {
      const i = this.used[n];
      if (this.inUse[i] === 0 || this.phys[i] !== base) continue;
      for (const k of WRITE_KINDS) {
        const o = (k << TLB_BITS) | i;
        if (this.tags[o] !== TAG_INVALID) this.tags[o] |= TAG_SLOW;
      }
    }
  }

  /**
   * Data accesses to these linear pages must take the slow path, where the CPU's
   * breakpoint watch sees them. Takes effect for entries filled from now on: the
   * caller flushes.
   */
  setWatchedPages(lo: Int32Array, hi: Int32Array, n: number): void {
    for (let k = 0; k < n; k++) { this.watchLo[k] = lo[k] & PAGE_MASK; this.watchHi[k] = hi[k]; }
    this.watchCount = n;
  }

  private watched(page: number, hi: number): boolean {
    for (let k = 0; k < this.watchCount; k++) if (this.watchLo[k] === page && this.watchHi[k] === hi) return true;
    return false;
  }

  /** Number of live entries (for counters and tests). */
  size(): number {
    let n = 0;
    for (let j = 0; j < this.usedCount; j++) n += this.inUse[this.used[j]];
    return n;
  }
}

const WRITE_KINDS = [ACC_WRITE, ACC_WRITE | ACC_USER] as const;
/** Tag-plane bits of the four data kinds (reads and writes, supervisor and user). */
const DATA_KIND_BITS = (1 << ACC_READ) | (1 << ACC_WRITE) | (1 << ACC_USER) | (1 << (ACC_USER | ACC_WRITE));
