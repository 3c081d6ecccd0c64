// The page walker (Intel SDM Vol. 3A ch. 4): 32-bit paging with PSE/PSE-36, PAE,
// and IA-32e 4-level paging with 2 MiB and 1 GiB pages; NX, WP, U/S, R/W, SMEP,
// A/D updates, reserved-bit checks, #PF error codes; fills the TLB (mmu/tlb.ts).
// mmu never imports cpu/: the CPU copies CR0/CR3/CR4/EFER in through
// setControl()/setCr3() and turns faults into exceptions through `onFault`.

import type { GuestMemory } from './memory.js';
import type { MemoryModel, SecondLevel } from './model.js';
import { REF_HIST, directCounters } from './model.js';
import {
  ACC_EXEC, ACC_KIND_MASK, ACC_STACK, ACC_USER, ACC_WRITE, PAGE_MASK, TLB_BITS, TLB_MASK, Tlb,
} from './tlb.js';

/** Paging modes, from CR0.PG, CR4.PAE and EFER.LMA. */
export const PG_OFF = 0, PG_32 = 1, PG_PAE = 2, PG_4LEVEL = 3;

/** Physical-address width we implement and advertise (CPUID 0x80000008 EAX[7:0]). */
export const MAXPHYADDR = 39;
/** Linear-address width (4-level paging). */
export const LINEAR_BITS = 48;

// Paging-structure entry bits (low word).
export const PTE_P = 1 << 0, PTE_RW = 1 << 1, PTE_US = 1 << 2, PTE_PWT = 1 << 3, PTE_PCD = 1 << 4,
  PTE_A = 1 << 5, PTE_D = 1 << 6, PTE_PS = 1 << 7, PTE_G = 1 << 8;
/** XD is bit 63: bit 31 of the high word. */
export const PTE_HI_XD = 1 << 31;

// #PF error code bits (SDM 4.7).
export const PF_P = 1 << 0, PF_W = 1 << 1, PF_U = 1 << 2, PF_RSVD = 1 << 3, PF_I = 1 << 4;

export const VEC_GP = 13, VEC_SS = 12, VEC_PF = 14;

// Control-register bits the walker reads (architectural positions).
const CR0_WP = 1 << 16, CR0_PG = 1 << 31;
const CR4_PSE = 1 << 4, CR4_PAE = 1 << 5, CR4_PGE = 1 << 7, CR4_SMEP = 1 << 20;
const EFER_LMA = 1 << 10, EFER_NXE = 1 << 11;

/** High-word bits 51:MAXPHYADDR (reserved in every PAE/4-level entry). */
const RSVD_HI_PHYS = ((1 << 20) - 1) & ~((1 << (MAXPHYADDR - 32)) - 1);
/** PAE paging (not 4-level): bits 62:MAXPHYADDR reserved. */
const RSVD_HI_PAE = 0x7fffffff & ~((1 << (MAXPHYADDR - 32)) - 1);
/** High-word bits that are part of a physical address. */
const ADDR_HI = (1 << (MAXPHYADDR - 32)) - 1;
const RSVD_LO_2M = 0x001fe000; // bits 20:13 of a 2 MiB PDE
const RSVD_LO_1G = 0x3fffe000; // bits 29:13 of a 1 GiB PDPTE
/** 32-bit paging 4 MiB PDE with PSE-36: bits (M-20):13 are address bits (M-1):32, bits 21:(M-19) reserved. */
const PSE36_BITS = Math.min(MAXPHYADDR, 40) - 32;
const RSVD_LO_4M = (0x3fe000 & ~(((1 << PSE36_BITS) - 1) << 13));
/** PAE PDPTE (loaded by MOV CR3): bits 2:1 and 8:5 reserved, plus 63:M. */
const RSVD_PDPTE_LO = 0x1e6;
const RSVD_PDPTE_HI = ~ADDR_HI;

/** Bitmask over the 8 TLB tag planes: every kind allowed. */
const ALL_KINDS = 0b01011111;
const WRITE_KIND_BITS = (1 << ACC_WRITE) | (1 << (ACC_WRITE | ACC_USER));

const TWO32 = 4294967296;

export class Mmu {
  readonly mem: GuestMemory;
  readonly tlb: Tlb;
  /** PG_* */
  mode = PG_OFF;
  private wp = false;
  private nxe = false;
  private pse = false;
  private pge = false;
  private smep = false;
  private cr3lo = 0;
  private cr3hi = 0;
  /** The four PAE PDPTEs as loaded by the last MOV CR3 (lo, hi pairs). */
  readonly pdpte = new Int32Array(8);
  private readonly pdpteScratch = new Int32Array(8);
  /** Physical-address mask for the A20 gate (bit 20 cleared when the gate is closed). */
  private a20Mask = -1;

  /** Error code of the last failed walk (also passed to onFault). */
  faultCode = 0;
  /** Raise a fault: vector 14 (#PF, lo:hi is CR2), 13 (#GP(0)) or 12 (#SS(0)) for non-canonical addresses. Must throw. */
  onFault: (vector: number, errorCode: number, lo: number, hi: number) => never = (v, c, lo, hi) => {
    throw new Error(`unhandled MMU fault ${v} code ${c} at ${hi.toString(16)}:${(lo >>> 0).toString(16)}`);
  };
  /**
   * The memory model behind the TLB miss path (mmu/model.ts): null is the direct model (walk the
   * guest's tables); the shadow model walks its own tables and calls walk() only to sync.
   */
  model: MemoryModel | null = null;
  /** Guest-physical -> host-physical for every paging-structure reference and the final address (the nested model's EPT), or null. */
  ept: SecondLevel | null = null;
  /** Counters. */
  walks = 0;
  pageFaults = 0;
  /** TLB misses that reached the model (slow entries found in the TLB are not misses). */
  misses = 0;
  /** Guest paging-structure entries read by committed walks, and a histogram of entries per walk. */
  refs = 0;
  readonly refHist = new Int32Array(REF_HIST);
  // The last walk, for the shadow model: the guest-physical address and entry-size shift
  // (log2 of the bytes one entry maps) of each entry read, and on success the combined rights.
  readonly pathAddr = new Float64Array(4);
  readonly pathShift = new Int8Array(4);
  pathLen = 0;
  walkRw = 0;
  walkUs = 0;
  walkXd = false;
  /** Leaf entry's low word after the A/D update (G, D), and the page size as a linear mask. */
  walkLeaf = 0;
  walkSizeMask = PAGE_MASK;
  /** Host-physical address of the entry rd() read last. */
  private lastHpa = 0;
  /** High word of the last read64(). */
  readHi = 0;

  /** `tlb`: the TLB to fill (the interpreter passes its own, whose planes it reads inline). */
  constructor(mem: GuestMemory, tlb: Tlb = new Tlb()) {
    this.mem = mem;
    this.tlb = tlb;
  }

  // ---- Configuration (the CPU calls these; flush policy is the CPU's, per the SDM).

  /** Copy the paging-relevant bits of CR0, CR4 and EFER. Does not flush or load PDPTEs. */
  setControl(cr0: number, cr4: number, efer: number): void {
    const pg = (cr0 & CR0_PG) !== 0;
    this.mode = !pg ? PG_OFF : (efer & EFER_LMA) !== 0 ? PG_4LEVEL : (cr4 & CR4_PAE) !== 0 ? PG_PAE : PG_32;
    this.wp = (cr0 & CR0_WP) !== 0;
    this.nxe = (efer & EFER_NXE) !== 0;
    this.pse = (cr4 & CR4_PSE) !== 0;
    this.pge = (cr4 & CR4_PGE) !== 0;
    this.smep = (cr4 & CR4_SMEP) !== 0;
  }

  /** Record CR3. Under PAE paging the PDPTEs are loaded now; false = a PDPTE is invalid (caller raises #GP(0)). */
  setCr3(lo: number, hi: number): boolean {
    this.cr3lo = lo | 0;
    this.cr3hi = hi | 0;
    const ok = this.mode === PG_PAE ? this.loadPdptes() : true;
    if (this.model !== null) this.model.cr3Changed();
    return ok;
  }

  get cr3Lo(): number { return this.cr3lo; }
  get cr3Hi(): number { return this.cr3hi; }
  /** Bits that change how the walker reads the tables (mode, PSE, NXE, A20): a shadow built under other ones is stale. */
  get role(): number {
    return this.mode | (this.pse ? 4 : 0) | (this.nxe ? 8 : 0) | (this.a20Mask === -1 ? 0 : 16);
  }

  /** Load the PAE PDPTEs from CR3 (SDM 4.4.1). */
  loadPdptes(): boolean {
    let base = (this.cr3lo & ~0x1f) >>> 0;
    if (this.ept !== null) base = this.ept.map(base);
    const tmp = this.pdpteScratch;
    for (let n = 0; n < 4; n++) {
      const lo = this.mem.read32(base + n * 8), hi = this.mem.read32(base + n * 8 + 4);
      if ((lo & PTE_P) !== 0 && ((lo & RSVD_PDPTE_LO) !== 0 || (hi & RSVD_PDPTE_HI) !== 0)) return false;
      tmp[n * 2] = lo;
      tmp[n * 2 + 1] = hi;
    }
    this.pdpte.set(tmp);
    return true;
  }

  setA20(enabled: boolean): void {
    const m = enabled ? -1 : ~(1 << 20);
    if (m !== this.a20Mask) {
      this.a20Mask = m;
      this.tlb.flush(true);
    }
  }

  /** TLB flush and INVLPG for callers without a CPU (the CPU's own go through Cpu.flushTlb/invlpg, which tell the model too). */
  flush(includeGlobal: boolean): void { this.tlb.flush(includeGlobal); this.model?.flushed(includeGlobal); }
  invlpg(lo: number, hi: number): void { this.tlb.invalidate(lo, hi); this.model?.invalidated(lo, hi); }

  // ---- Translation.

  /** Linear -> physical for one access (ACC_* bits); raises through onFault. */
  translate(lo: number, hi: number, acc: number): number {
    const tlb = this.tlb;
    const i = ((lo >>> 12) ^ hi) & TLB_MASK;
    const t = tlb.tags[((acc & ACC_KIND_MASK) << TLB_BITS) | i];
    if ((t | 1) === ((lo & PAGE_MASK) | 1) && tlb.hiTag[i] === hi) return (tlb.phys[i] | (lo & 0xfff)) >>> 0;
    this.misses++;
    const m = this.model;
    const p = m === null ? this.walk(lo, hi, acc, true) : m.miss(lo, hi, acc);
    if (p < 0) return this.raise(lo, hi, acc);
    return p;
  }

  /** Translate without side effects (no A/D, no TLB fill, no fault): physical address or -1 (faultCode set). */
  probe(lo: number, hi: number, acc: number): number {
    return this.walk(lo, hi, acc, false);
  }

  private raise(lo: number, hi: number, acc: number): never {
    if (this.faultCode < 0) return this.onFault((acc & ACC_STACK) !== 0 ? VEC_SS : VEC_GP, 0, lo, hi);
    this.pageFaults++;
    return this.onFault(VEC_PF, this.faultCode, lo, hi);
  }

  /**
   * Walk the paging structures. Returns the physical address (a JS number, may
   * exceed 2^32) or -1 with faultCode set (-1 = non-canonical, else a #PF error code).
   */
  walk(lo: number, hi: number, acc: number, commit: boolean): number {
    this.walks++;
    this.pathLen = 0;
    const p = this.walkTables(lo, hi, acc, commit);
    if (commit) {
      const n = this.pathLen;
      this.refs += n;
      this.refHist[n < REF_HIST ? n : REF_HIST - 1]++;
    }
    return p;
  }

  /** Read the low word of the paging-structure entry at guest-physical `gpa`, recording it in the path. */
  private rd(gpa: number, shift: number): number {
    const n = this.pathLen++;
    this.pathAddr[n] = gpa;
    this.pathShift[n] = shift;
    const hpa = this.ept === null ? gpa : this.ept.map(gpa);
    this.lastHpa = hpa;
    return this.mem.read32(hpa);
  }

  private walkTables(lo: number, hi: number, acc: number, commit: boolean): number {
    const mem = this.mem;
    if (this.mode === PG_OFF) {
      let phys = (lo & this.a20Mask) >>> 0;
      if (this.ept !== null) phys = this.ept.map(phys);
      if (commit) this.fillTlb(lo, hi, phys, ALL_KINDS, false, PAGE_MASK);
      return phys;
    }
    const write = (acc & ACC_WRITE) !== 0, user = (acc & ACC_USER) !== 0, fetch = (acc & ACC_EXEC) !== 0;
    let rw = PTE_RW, us = PTE_US, xd = false;
    let rsvd = false;
    // Addresses of the entries used (for A/D updates): up to 4 levels.
    let e0 = -1, e1 = -1, e2 = -1, leafAddr = 0, leafLo = 0;
    let physBase = 0, sizeMask = PAGE_MASK, isGlobal = false;

    notPresent: {
      if (this.mode === PG_32) {
        const pdeAddr = ((this.cr3lo & PAGE_MASK) >>> 0) + ((lo >>> 22) << 2);
        const pde = this.rd(pdeAddr, 22), pdeHpa = this.lastHpa;
        if ((pde & PTE_P) === 0) break notPresent;
        rw &= pde; us &= pde;
        if ((pde & PTE_PS) !== 0 && this.pse) {
          if ((pde & RSVD_LO_4M) !== 0) { rsvd = true; break notPresent; }
          leafAddr = pdeHpa; leafLo = pde;
          sizeMask = ~0x3fffff;
          physBase = ((pde & 0xffc00000) >>> 0) + ((pde >>> 13) & ((1 << PSE36_BITS) - 1)) * TWO32;
        } else {
          e0 = pdeHpa;
          const pteAddr = ((pde & PAGE_MASK) >>> 0) + (((lo >>> 12) & 0x3ff) << 2);
          const pte = this.rd(pteAddr, 12);
          if ((pte & PTE_P) === 0) break notPresent;
          rw &= pte; us &= pte;
          leafAddr = this.lastHpa; leafLo = pte;
          physBase = (pte & PAGE_MASK) >>> 0;
        }
      } else {
        let table: number;
        const rsvdHi = (this.mode === PG_4LEVEL ? RSVD_HI_PHYS : RSVD_HI_PAE) | (this.nxe ? 0 : PTE_HI_XD);
        if (this.mode === PG_4LEVEL) {
          // Canonical check: bits 63:47 all equal.
          const top = hi >> 15;
          if (top !== 0 && top !== -1) { this.faultCode = -1; return -1; }
          const pml4Addr = ((this.cr3lo & PAGE_MASK) >>> 0) + (this.cr3hi & ADDR_HI) * TWO32 + ((hi >>> 7) & 0x1ff) * 8;
          const pml4Lo = this.rd(pml4Addr, 39), pml4Hi = mem.read32(this.lastHpa + 4);
          if ((pml4Lo & PTE_P) === 0) break notPresent;
          if ((pml4Hi & rsvdHi) !== 0 || (pml4Lo & PTE_PS) !== 0) { rsvd = true; break notPresent; }
          rw &= pml4Lo; us &= pml4Lo; xd = xd || (pml4Hi & PTE_HI_XD) !== 0;
          e0 = this.lastHpa;
          const pdpteAddr = ((pml4Lo & PAGE_MASK) >>> 0) + (pml4Hi & ADDR_HI) * TWO32 + (((hi << 2) | (lo >>> 30)) & 0x1ff) * 8;
          const pdLo = this.rd(pdpteAddr, 30), pdHi = mem.read32(this.lastHpa + 4), pdpteHpa = this.lastHpa;
          if ((pdLo & PTE_P) === 0) break notPresent;
          if ((pdHi & rsvdHi) !== 0) { rsvd = true; break notPresent; }
          rw &= pdLo; us &= pdLo; xd = xd || (pdHi & PTE_HI_XD) !== 0;
          if ((pdLo & PTE_PS) !== 0) {
            if ((pdLo & RSVD_LO_1G) !== 0) { rsvd = true; break notPresent; }
            leafAddr = pdpteHpa; leafLo = pdLo;
            sizeMask = ~0x3fffffff;
            physBase = ((pdLo & 0xc0000000) >>> 0) + (pdHi & ADDR_HI) * TWO32;
            table = -1;
          } else {
            e1 = pdpteHpa;
            table = ((pdLo & PAGE_MASK) >>> 0) + (pdHi & ADDR_HI) * TWO32;
          }
        } else {
          const n = (lo >>> 30) * 2;
          const pdLo = this.pdpte[n], pdHi = this.pdpte[n + 1];
          if ((pdLo & PTE_P) === 0) break notPresent;
          table = ((pdLo & PAGE_MASK) >>> 0) + (pdHi & ADDR_HI) * TWO32;
        }
        if (table >= 0) {
          const pdeAddr = table + ((lo >>> 21) & 0x1ff) * 8;
          const pdeLo = this.rd(pdeAddr, 21), pdeHi = mem.read32(this.lastHpa + 4), pdeHpa = this.lastHpa;
          if ((pdeLo & PTE_P) === 0) break notPresent;
          if ((pdeHi & rsvdHi) !== 0) { rsvd = true; break notPresent; }
          rw &= pdeLo; us &= pdeLo; xd = xd || (pdeHi & PTE_HI_XD) !== 0;
          if ((pdeLo & PTE_PS) !== 0) {
            if ((pdeLo & RSVD_LO_2M) !== 0) { rsvd = true; break notPresent; }
            leafAddr = pdeHpa; leafLo = pdeLo;
            sizeMask = ~0x1fffff;
            physBase = ((pdeLo & 0xffe00000) >>> 0) + (pdeHi & ADDR_HI) * TWO32;
          } else {
            e2 = pdeHpa;
            const pteAddr = ((pdeLo & PAGE_MASK) >>> 0) + (pdeHi & ADDR_HI) * TWO32 + ((lo >>> 12) & 0x1ff) * 8;
            const pteLo = this.rd(pteAddr, 12), pteHi = mem.read32(this.lastHpa + 4), pteHpa = this.lastHpa;
            if ((pteLo & PTE_P) === 0) break notPresent;
            if ((pteHi & rsvdHi) !== 0) { rsvd = true; break notPresent; }
            rw &= pteLo; us &= pteLo; xd = xd || (pteHi & PTE_HI_XD) !== 0;
            leafAddr = pteHpa; leafLo = pteLo;
            physBase = ((pteLo & PAGE_MASK) >>> 0) + (pteHi & ADDR_HI) * TWO32;
          }
        }
        if (!this.nxe) xd = false;
      }

      let perms = this.permsOf(rw, us, xd);
      if ((perms & (1 << (acc & ACC_KIND_MASK))) === 0) {
        this.faultCode = this.errorCode(true, false, write, user, fetch);
        return -1;
      }
      isGlobal = this.pge && (leafLo & PTE_G) !== 0;
      const offMask = ~sizeMask;
      let phys = physBase + ((lo & offMask) >>> 0);
      if (phys < TWO32) phys = (phys & this.a20Mask) >>> 0;
      if (this.ept !== null) phys = this.ept.map(phys);
      if (!commit) return phys;
      // Accessed on every level used; dirty on the leaf for writes.
      if (e0 >= 0) this.setBits(e0, PTE_A);
      if (e1 >= 0) this.setBits(e1, PTE_A);
      if (e2 >= 0) this.setBits(e2, PTE_A);
      const leafNew = leafLo | PTE_A | (write ? PTE_D : 0);
      if (leafNew !== leafLo) mem.write32(leafAddr, leafNew);
      // A write entry may be cached only once D is set.
      if ((leafNew & PTE_D) === 0) perms &= ~WRITE_KIND_BITS;
      this.walkRw = rw; this.walkUs = us; this.walkXd = xd; this.walkLeaf = leafNew; this.walkSizeMask = sizeMask;
      this.fillTlb(lo, hi, phys, perms, isGlobal, sizeMask);
      return phys;
    }
    this.faultCode = this.errorCode(rsvd, rsvd, write, user, fetch);
    return -1;
  }

  /** Which access kinds (a bitmask over the TLB planes) combined rights allow (SDM 4.6), under the current WP and SMEP. */
  permsOf(rw: number, us: number, xd: boolean): number {
    const smepBlocks = this.smep && us !== 0;
    let perms = 1 << 0; // supervisor read
    if (rw !== 0 || !this.wp) perms |= 1 << ACC_WRITE;
    if (us !== 0) perms |= 1 << ACC_USER;
    if (us !== 0 && rw !== 0) perms |= 1 << (ACC_USER | ACC_WRITE);
    if (!xd && !smepBlocks) perms |= 1 << ACC_EXEC;
    if (!xd && us !== 0) perms |= 1 << (ACC_EXEC | ACC_USER);
    return perms;
  }

  /** Whether CR4.PGE is set (a G=1 leaf then makes a global TLB entry). */
  get globalPages(): boolean { return this.pge; }

  private errorCode(present: boolean, rsvd: boolean, write: boolean, user: boolean, fetch: boolean): number {
    return (present ? PF_P : 0) | (write ? PF_W : 0) | (user ? PF_U : 0) | (rsvd ? PF_RSVD : 0) |
      (fetch && (this.nxe || this.smep) ? PF_I : 0);
  }

  private setBits(addr: number, bits: number): void {
    const v = this.mem.read32(addr);
    if ((v & bits) !== bits) this.mem.write32(addr, v | bits);
  }

  /** Cache the 4 KiB piece containing lo:hi, which maps to physAddr (pages >= 4 GiB are not cached). */
  fillTlb(lo: number, hi: number, physAddr: number, perms: number, isGlobal: boolean, sizeMask: number): void {
    const physPage = physAddr - (physAddr % 4096);
    if (physPage >= TWO32) return; // no RAM up there: always the slow path
    const mem = this.mem;
    let slow = 0;
    if (physPage >= mem.ramSize) slow = ALL_KINDS;
    else if ((mem.codePages[physPage / 4096] | mem.ptPages[physPage / 4096] | mem.dirtyPages[physPage / 4096]) !== 0) slow = WRITE_KIND_BITS;
    this.tlb.fill(lo, hi, physPage, perms, slow, isGlobal, sizeMask);
  }

  // ---- Linear accesses (paging applied, faults raised through onFault).
  // Page-crossing accesses translate both pages before touching memory.

  /** Next byte's linear address: 32-bit wrap outside 4-level paging, carry into hi inside it. */
  private nextHi(lo: number, hi: number, n: number): number {
    return this.mode === PG_4LEVEL && ((lo >>> 0) + n) >= TWO32 ? (hi + 1) | 0 : hi;
  }

  read8(lo: number, hi: number, acc: number): number {
    return this.mem.read8(this.translate(lo, hi, acc));
  }

  read16(lo: number, hi: number, acc: number): number {
    if ((lo & 0xfff) <= 0xffe) return this.mem.read16(this.translate(lo, hi, acc));
    const a = this.translate(lo, hi, acc), b = this.translate((lo + 1) | 0, this.nextHi(lo, hi, 1), acc);
    return this.mem.read8(a) | (this.mem.read8(b) << 8);
  }

  read32(lo: number, hi: number, acc: number): number {
    if ((lo & 0xfff) <= 0xffc) return this.mem.read32(this.translate(lo, hi, acc));
    let v = 0;
    const p = this.split(lo, hi, 4, acc);
    for (let n = 0; n < 4; n++) v |= this.mem.read8(n < p.first ? p.a + n : p.b + n - p.first) << (n * 8);
    return v;
  }

  /** 64-bit read: returns the low word, the high word is left in readHi. */
  read64(lo: number, hi: number, acc: number): number {
    if ((lo & 0xfff) <= 0xff8) {
      const a = this.translate(lo, hi, acc);
      this.readHi = this.mem.read32(a + 4);
      return this.mem.read32(a);
    }
    const p = this.split(lo, hi, 8, acc);
    let vlo = 0, vhi = 0;
    for (let n = 0; n < 8; n++) {
      const b = this.mem.read8(n < p.first ? p.a + n : p.b + n - p.first);
      if (n < 4) vlo |= b << (n * 8); else vhi |= b << ((n - 4) * 8);
    }
    this.readHi = vhi;
    return vlo;
  }

  write8(lo: number, hi: number, v: number, acc: number): void {
    this.mem.write8(this.translate(lo, hi, acc | ACC_WRITE), v);
  }

  write16(lo: number, hi: number, v: number, acc: number): void {
    if ((lo & 0xfff) <= 0xffe) { this.mem.write16(this.translate(lo, hi, acc | ACC_WRITE), v); return; }
    this.writeSplit(lo, hi, 2, v, 0, acc);
  }

  write32(lo: number, hi: number, v: number, acc: number): void {
    if ((lo & 0xfff) <= 0xffc) { this.mem.write32(this.translate(lo, hi, acc | ACC_WRITE), v); return; }
    this.writeSplit(lo, hi, 4, v, 0, acc);
  }

  write64(lo: number, hi: number, vlo: number, vhi: number, acc: number): void {
    if ((lo & 0xfff) <= 0xff8) {
      const a = this.translate(lo, hi, acc | ACC_WRITE);
      this.mem.write32(a, vlo);
      this.mem.write32(a + 4, vhi);
      return;
    }
    this.writeSplit(lo, hi, 8, vlo, vhi, acc);
  }

  private readonly splitResult = { a: 0, b: 0, first: 0 };
  /** Translate both halves of a page-crossing access of `len` bytes. */
  private split(lo: number, hi: number, len: number, acc: number): { a: number; b: number; first: number } {
    const first = 0x1000 - (lo & 0xfff);
    const r = this.splitResult;
    r.first = first;
    r.a = this.translate(lo, hi, acc);
    r.b = this.translate((lo + first) | 0, this.nextHi(lo, hi, first), acc);
    return r;
  }

  private writeSplit(lo: number, hi: number, len: number, vlo: number, vhi: number, acc: number): void {
    const p = this.split(lo, hi, len, acc | ACC_WRITE);
    for (let n = 0; n < len; n++) {
      const byte = n < 4 ? vlo >>> (n * 8) : vhi >>> ((n - 4) * 8);
      this.mem.write8(n < p.first ? p.a + n : p.b + n - p.first, byte & 0xff);
    }
  }

  /** Paging state for counters and debugging. */
  counters(): Record<string, number> {
    return { tlbFills: this.tlb.fills, tlbFlushes: this.tlb.flushes, pageWalks: this.walks, pageFaults: this.pageFaults };
  }

  /** The memory model's counters (mmu/model.ts modelCounters), keyed by the model's name. */
  modelCounters(): Record<string, number> {
    return this.model === null ? directCounters(this) : this.model.counters();
  }
}
