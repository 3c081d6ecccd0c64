// The shadow model: emu keeps its own page tables (shadows) in step with the
// guest's, as a hypervisor without EPT/NPT does, and a TLB miss walks only the
// shadow of the current CR3.
//
// - Shadows live in this model's own buffer: 4 KiB shadow pages of 512 8-byte
//   entries in x86-64 4-level format, always 4 levels and 4 KiB leaves (a guest
//   2 MiB, 4 MiB or 1 GiB page is shadowed 4 KiB piece by piece, as KVM does when
//   the host backs it with small pages). Every guest paging mode (32-bit, PAE,
//   4-level) is shadowed by the same 4-level shape. A leaf holds the combined
//   rights of the guest's walk (R/W only once the guest's D bit is set, as the
//   TLB does), U/S, XD, the guest's G bit, and in bits 10:9 the guest page size.
// - One shadow root per guest CR3, cached up to MAX_ROOTS with LRU eviction; a
//   CR3 load switches roots. Under PAE the root also remembers the four PDPTEs.
// - Entries are built lazily: a TLB miss walks the shadow (4 references); an
//   empty or too-weak entry is a "shadow page fault" exit: the guest walker runs
//   (setting the guest's A/D bits as hardware would; a fault goes to the guest)
//   and the entry is synced from it.
// - Every guest page-table page a shadow entry came from is write-protected
//   through the TLB slow path (GuestMemory.ptPages, as code pages are), and a
//   reverse map names the (root, level, linear base) it serves: a guest write
//   to it drops the shadow entries under the entries written, so the shadow
//   never disagrees with the guest's tables. INVLPG drops the page's shadow;
//   a global TLB flush (CR0/CR4/EFER paging changes, A20, state imports) drops
//   every shadow; a non-global one (MOV CR3) keeps them: that is the cache.

import type { GuestMemory } from './memory.js';
import type { MemoryModel } from './model.js';
import { REF_HIST, tableIndex as index, walkCounters } from './model.js';
import { PG_32, PG_4LEVEL, PG_OFF, PG_PAE, PTE_A, PTE_D, PTE_G, PTE_HI_XD, PTE_P, PTE_RW, PTE_US, type Mmu } from './paging.js';
import { ACC_KIND_MASK, PAGE_MASK } from './tlb.js';

/** Shadow roots cached (guest CR3 values whose shadows are kept). */
export const MAX_ROOTS = 8;

const PAGE_WORDS = 1024;
const TWO32 = 4294967296;
const WRITE_KIND_BITS = (1 << 1) | (1 << 3);
/** Shadow leaf: guest page size in bits 10:9 (0 = 4 KiB, 1 = 2 MiB, 2 = 4 MiB, 3 = 1 GiB). */
const SIZE_SHIFT = 9;
const SIZE_MASKS = [PAGE_MASK, ~0x1fffff, ~0x3fffff, ~0x3fffffff];
/** Shadow non-leaf entry: present, writable, user (the leaf decides). */
const TABLE_BITS = PTE_P | PTE_RW | PTE_US;

interface Root {
  cr3lo: number;
  cr3hi: number;
  /** Shadow page of the top level, -1 if the slot is free. */
  top: number;
  /** Bumped when the slot is reused, so reverse-map entries of an evicted root are known stale. */
  gen: number;
  lastUse: number;
  readonly pdpte: Int32Array;
}

/**
 * The shadow models of one guest memory (one per vCPU) share its ptPages and write hook:
 * this fans the guest's page-table writes out to all of them.
 */
class ShadowHub {
  readonly models: ShadowModel[] = [];
  /** Set while a model's guest walk writes A/D bits: those never make a shadow stale. */
  quiet = false;

  constructor(private readonly mem: GuestMemory) {
    mem.ptWriteHook = (page, addr, len) => {
      if (this.quiet) return;
      if (page < 0) { for (const m of this.models) m.dropAll(); this.mem.ptPages.fill(0); return; }
      let keep = false;
      for (const m of this.models) if (m.written(page, addr, len)) keep = true;
      if (!keep) this.mem.ptPages[page] = 0;
    };
  }

  /** Writes to guest-physical page `page` must now trap, in every vCPU's TLB. */
  protect(page: number): void {
    if (this.mem.ptPages[page] !== 0) return;
    this.mem.ptPages[page] = 1;
    for (const m of this.models) m.mmu.tlb.protectCodePage(page);
  }
}

const hubs = new WeakMap<GuestMemory, ShadowHub>();

export class ShadowModel implements MemoryModel {
  readonly name = 'shadow' as const;
  private pool = new Int32Array(PAGE_WORDS * 64);
  /** Per shadow page: live entries, and the parent entry (page * 512 + index, -1 for a root). */
  private live = new Int16Array(64);
  private parent = new Int32Array(64);
  private freeList: number[] = [];
  private allocated = 0;
  private readonly roots: Root[] = [];
  private current: Root | null = null;
  private rootStale = true;
  private role = -1;
  private useClock = 0;
  /** Reverse map: guest page-table page -> [root slot, root gen, entry shift | entry bytes << 8, linear base] repeated. */
  private readonly rmap = new Map<number, number[]>();
  private readonly hub: ShadowHub;
  // Counters.
  private readonly hist = new Int32Array(REF_HIST);
  private walks = 0;
  private refs = 0;
  /** What the shadow did (shadow.<name> in counters()). */
  private readonly stats = {
    syncs: 0, guestRefs: 0, ptWriteTraps: 0, trapDrops: 0, unshadowedPages: 0,
    cr3Hits: 0, cr3Misses: 0, rootEvictions: 0, invlpgDrops: 0, flushDrops: 0,
  };

  constructor(readonly mmu: Mmu) {
    for (let i = 0; i < MAX_ROOTS; i++) this.roots.push({ cr3lo: 0, cr3hi: 0, top: -1, gen: 0, lastUse: 0, pdpte: new Int32Array(8) });
    let hub = hubs.get(mmu.mem);
    if (!hub) { hub = new ShadowHub(mmu.mem); hubs.set(mmu.mem, hub); }
    this.hub = hub;
    hub.models.push(this);
  }

  detach(): void {
    const i = this.hub.models.indexOf(this);
    if (i >= 0) this.hub.models.splice(i, 1);
    this.dropAll();
  }

  // ---- The miss path.

  miss(lo: number, hi: number, acc: number): number {
    const mmu = this.mmu;
    // Paging off, or a non-canonical address (the walker raises it): no shadow.
    if (mmu.mode === PG_OFF || (mmu.mode === PG_4LEVEL && (hi >> 15) !== 0 && (hi >> 15) !== -1)) return mmu.walk(lo, hi, acc, true);
    if (this.rootStale || mmu.role !== this.role) this.selectRoot();
    const root = this.current!;
    // Walk the shadow: 4 levels, each one reference.
    const pool = this.pool;
    let page = root.top, refs = 0, e = 0;
    for (let level = 4; level >= 1; level--) {
      e = page * PAGE_WORDS + index(lo, hi, level) * 2;
      refs++;
      if ((pool[e] & PTE_P) === 0) break;
      if (level > 1) page = pool[e] >>> 12;
    }
    this.walks++;
    this.refs += refs;
    this.hist[refs]++;
    const leaf = pool[e];
    if (refs === 4 && (leaf & PTE_P) !== 0) {
      let perms = mmu.permsOf(leaf & PTE_RW, leaf & PTE_US, (pool[e + 1] & PTE_HI_XD) !== 0);
      if ((leaf & PTE_D) === 0) perms &= ~WRITE_KIND_BITS;
      if ((perms & (1 << (acc & ACC_KIND_MASK))) !== 0) {
        const phys = (leaf & PAGE_MASK) >>> 0;
        mmu.fillTlb(lo, hi, phys, perms, mmu.globalPages && (leaf & PTE_G) !== 0, SIZE_MASKS[(leaf >>> SIZE_SHIFT) & 3]);
        return phys + (lo & 0xfff);
      }
    }
    return this.sync(lo, hi, acc, root);
  }

  /** A shadow page fault: walk the guest's tables and, if they allow the access, build the shadow entry. */
  private sync(lo: number, hi: number, acc: number, root: Root): number {
    const mmu = this.mmu;
    this.stats.syncs++;
    const refsBefore = mmu.refs;
    this.hub.quiet = true;
    let p: number;
    try { p = mmu.walk(lo, hi, acc, true); } finally { this.hub.quiet = false; }
    this.stats.guestRefs += mmu.refs - refsBefore;
    if (p < 0 || p >= TWO32) return p; // a fault for the guest, or no RAM there: nothing to shadow
    const entryBytes = mmu.mode === PG_32 ? 4 : 8;
    const lin = linear48(lo, hi);
    for (let k = 0; k < mmu.pathLen; k++) this.watch(mmu.pathAddr[k], mmu.pathShift[k], entryBytes, lin, root);
    const sizeMask = mmu.walkSizeMask;
    const size = sizeMask === PAGE_MASK ? 0 : sizeMask === ~0x1fffff ? 1 : sizeMask === ~0x3fffff ? 2 : 3;
    const leafLo = ((p & PAGE_MASK) | PTE_P | PTE_A | (mmu.walkRw !== 0 ? PTE_RW : 0) | (mmu.walkUs !== 0 ? PTE_US : 0) |
      (mmu.walkLeaf & (PTE_D | PTE_G)) | (size << SIZE_SHIFT)) | 0;
    this.setLeaf(root, lo, hi, leafLo, mmu.walkXd ? PTE_HI_XD : 0);
    return p;
  }

  /** Record that the guest table entry at `gpa` (mapping 2^shift bytes each) serves `lin` in `root`, and write-protect its page. */
  private watch(gpa: number, shift: number, entryBytes: number, lin: number, root: Root): void {
    const page = Math.floor(gpa / 4096);
    if (page >= this.mmu.mem.ramSize / 4096) return;
    const region = 2 ** (shift + (entryBytes === 4 ? 10 : 9));
    const base = lin - (lin % region);
    const slot = this.roots.indexOf(root), code = shift | (entryBytes << 8);
    let list = this.rmap.get(page);
    if (!list) { list = []; this.rmap.set(page, list); }
    for (let i = 0; i < list.length; i += 4) {
      if (list[i] === slot && list[i + 1] === root.gen && list[i + 2] === code && list[i + 3] === base) { this.hub.protect(page); return; }
    }
    list.push(slot, root.gen, code, base);
    this.hub.protect(page);
  }

  // ---- Guest writes to its page tables (through ShadowHub).

  /** The guest wrote [addr, addr + len) on page-table page `page`: drop what it may change. True if the page stays watched. */
  written(page: number, addr: number, len: number): boolean {
    const list = this.rmap.get(page);
    if (!list) return false;
    this.stats.ptWriteTraps++;
    const start = Math.max(addr, page * 4096) - page * 4096, end = Math.min(addr + len, (page + 1) * 4096) - page * 4096;
    let keep = 0;
    for (let i = 0; i < list.length; i += 4) {
      const slot = list[i], gen = list[i + 1], code = list[i + 2], base = list[i + 3];
      const root = this.roots[slot];
      if (root.gen !== gen || root.top < 0) continue; // the root was evicted since
      const shift = code & 0xff, bytes = code >> 8;
      const entrySize = 2 ** shift;
      for (let n = Math.floor(start / bytes); n * bytes < end; n++) {
        if (this.dropRange(root.top, 4, base + n * entrySize, shift)) this.stats.trapDrops++;
      }
      // Keep watching only while the root still has shadow entries under this table.
      if (this.rangeEmpty(root.top, 4, base, shift + (bytes === 4 ? 10 : 9))) continue;
      list[keep++] = slot; list[keep++] = gen; list[keep++] = code; list[keep++] = base;
    }
    list.length = keep;
    if (keep === 0) { this.rmap.delete(page); this.stats.unshadowedPages++; return false; }
    return true;
  }

  // ---- Flushes and CR3.

  cr3Changed(): void { this.rootStale = true; }

  flushed(global: boolean): void {
    if (!global) return;
    if (this.allocated !== this.freeList.length) this.stats.flushDrops++;
    this.dropAll();
  }

  invalidated(lo: number, hi: number): void {
    const root = this.current;
    if (root === null || this.rootStale || root.top < 0) return;
    const lin = linear48(lo, hi);
    const leaf = this.findLeaf(root.top, lo, hi);
    const size = leaf === 0 ? 0 : (leaf >>> SIZE_SHIFT) & 3;
    const shift = size === 0 ? 12 : size === 1 ? 21 : size === 2 ? 22 : 30;
    const region = 2 ** shift;
    if (this.dropRange(root.top, 4, lin - (lin % region), shift)) this.stats.invlpgDrops++;
  }

  /** Forget every shadow (the reverse map and page protections go with them, lazily). */
  dropAll(): void {
    for (const r of this.roots) {
      if (r.top >= 0) { this.freeTree(r.top, 4); r.top = -1; }
      r.gen++;
    }
    this.rmap.clear();
    this.current = null;
    this.rootStale = true;
  }

  private selectRoot(): void {
    const mmu = this.mmu;
    if (mmu.role !== this.role) { this.dropAll(); this.role = mmu.role; }
    this.rootStale = false;
    const lo = mmu.cr3Lo, hi = mmu.cr3Hi;
    let found: Root | null = null, victim = this.roots[0];
    for (const r of this.roots) {
      if (r.top >= 0 && r.cr3lo === lo && r.cr3hi === hi) found = r;
      if (r.top < 0 ? victim.top >= 0 || r.lastUse < victim.lastUse : victim.top >= 0 && r.lastUse < victim.lastUse) victim = r;
    }
    if (found !== null && mmu.mode === PG_PAE && !samePdptes(found.pdpte, mmu.pdpte)) {
      // Same CR3, other PDPTEs (reloaded after the guest changed them): the old shadow is of another address space.
      this.freeTree(found.top, 4); found.top = -1; found.gen++;
      victim = found; found = null;
    }
    if (found !== null) {
      this.stats.cr3Hits++;
    } else {
      this.stats.cr3Misses++;
      if (victim.top >= 0) { this.stats.rootEvictions++; this.freeTree(victim.top, 4); victim.gen++; }
      found = victim;
      found.cr3lo = lo; found.cr3hi = hi;
      found.top = this.allocPage(-1);
      found.pdpte.set(mmu.pdpte);
    }
    found.lastUse = ++this.useClock;
    this.current = found;
  }

  // ---- The shadow tree.

  private setLeaf(root: Root, lo: number, hi: number, leafLo: number, leafHi: number): void {
    this.reserve(3); // the pool may grow here, not while we hold `pool`
    const pool = this.pool;
    let page = root.top;
    for (let level = 4; level > 1; level--) {
      const idx = index(lo, hi, level), e = page * PAGE_WORDS + idx * 2;
      if ((pool[e] & PTE_P) === 0) {
        const child = this.allocPage(page * 512 + idx);
        pool[e] = (child << 12) | TABLE_BITS;
        pool[e + 1] = 0;
        this.live[page]++;
        page = child;
      } else page = pool[e] >>> 12;
    }
    const e = page * PAGE_WORDS + index(lo, hi, 1) * 2;
    if ((pool[e] & PTE_P) === 0) this.live[page]++;
    pool[e] = leafLo;
    pool[e + 1] = leafHi;
  }

  private findLeaf(page: number, lo: number, hi: number): number {
    const pool = this.pool;
    for (let level = 4; level >= 1; level--) {
      const e = page * PAGE_WORDS + index(lo, hi, level) * 2;
      if ((pool[e] & PTE_P) === 0) return 0;
      if (level === 1) return pool[e];
      page = pool[e] >>> 12;
    }
    return 0;
  }

  /**
   * Drop the shadow entries mapping [start, start + 2^shift) (linear, 48-bit) under `page`, a level-`level`
   * shadow page. True if any was present. Shadow pages left empty are freed.
   */
  private dropRange(page: number, level: number, start: number, shift: number): boolean {
    const entShift = 12 + 9 * (level - 1);
    const pool = this.pool;
    const first = Math.floor(start / 2 ** entShift) % 512;
    if (shift >= entShift) {
      const count = Math.min(512, 2 ** (shift - entShift));
      let any = false;
      for (let i = first; i < first + count && i < 512; i++) {
        const e = page * PAGE_WORDS + i * 2;
        if ((pool[e] & PTE_P) === 0) continue;
        if (level > 1) this.freeTree(pool[e] >>> 12, level - 1);
        pool[e] = 0; pool[e + 1] = 0;
        this.live[page]--;
        any = true;
      }
      if (any) this.freeIfEmpty(page);
      return any;
    }
    const e = page * PAGE_WORDS + first * 2;
    if ((pool[e] & PTE_P) === 0) return false;
    return this.dropRange(pool[e] >>> 12, level - 1, start, shift);
  }

  /** True if no shadow entry maps anything in [start, start + 2^shift). */
  private rangeEmpty(page: number, level: number, start: number, shift: number): boolean {
    const entShift = 12 + 9 * (level - 1);
    if (shift >= entShift + 9) return this.live[page] === 0;
    const first = Math.floor(start / 2 ** entShift) % 512;
    const pool = this.pool;
    if (shift >= entShift) {
      for (let i = first; i < first + 2 ** (shift - entShift); i++) if ((pool[page * PAGE_WORDS + i * 2] & PTE_P) !== 0) return false;
      return true;
    }
    const e = page * PAGE_WORDS + first * 2;
    if ((pool[e] & PTE_P) === 0) return true;
    return this.rangeEmpty(pool[e] >>> 12, level - 1, start, shift);
  }

  /** An emptied shadow page (not a root) goes back to the free list and leaves its parent. */
  private freeIfEmpty(page: number): void {
    while (this.live[page] === 0 && this.parent[page] >= 0) {
      const up = this.parent[page], upPage = Math.floor(up / 512);
      const e = upPage * PAGE_WORDS + (up % 512) * 2;
      this.pool[e] = 0; this.pool[e + 1] = 0;
      this.live[upPage]--;
      this.release(page);
      page = upPage;
    }
  }

  private freeTree(page: number, level: number): void {
    if (level > 1 && this.live[page] !== 0) {
      const pool = this.pool;
      for (let i = 0; i < 512; i++) {
        const e = page * PAGE_WORDS + i * 2;
        if ((pool[e] & PTE_P) !== 0) this.freeTree(pool[e] >>> 12, level - 1);
      }
    }
    this.pool.fill(0, page * PAGE_WORDS, (page + 1) * PAGE_WORDS);
    this.release(page);
  }

  private release(page: number): void {
    this.live[page] = 0;
    this.parent[page] = -1;
    this.freeList.push(page);
  }

  private allocPage(parent: number): number {
    this.reserve(1);
    const page = this.freeList.length > 0 ? this.freeList.pop()! : this.allocated++;
    this.live[page] = 0;
    this.parent[page] = parent;
    return page;
  }

  /** Make sure `n` pages can be allocated without growing the pool. */
  private reserve(n: number): void {
    if (this.freeList.length + this.live.length - this.allocated >= n) return;
    const pool = new Int32Array(this.pool.length * 2);
    pool.set(this.pool);
    this.pool = pool;
    const live = new Int16Array(this.live.length * 2), up = new Int32Array(this.parent.length * 2);
    live.set(this.live); up.set(this.parent);
    this.live = live; this.parent = up;
  }

  /** Shadow pages in use (roots included). */
  pagesInUse(): number { return this.allocated - this.freeList.length; }

  counters(): Record<string, number> {
    const out = walkCounters('shadow', this.mmu.misses, this.walks, this.refs, this.hist);
    for (const [k, v] of Object.entries(this.stats)) out[`shadow.${k}`] = v;
    out['shadow.watchedPages'] = this.rmap.size;
    out['shadow.pagesInUse'] = this.pagesInUse();
    return out;
  }
}

/** A canonical linear address as a 48-bit number (exact in a double). */
function linear48(lo: number, hi: number): number {
  return (hi & 0xffff) * TWO32 + (lo >>> 0);
}

function samePdptes(a: Int32Array, b: Int32Array): boolean {
  for (let i = 0; i < 8; i++) if (a[i] !== b[i]) return false;
  return true;
}
