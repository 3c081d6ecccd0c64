// Page walker and TLB: page tables built in guest memory, translations, faults,
// error codes, A/D bits and the flush rules.
import { describe, expect, it } from 'vitest';
import { GuestMemory } from '../../mmu/memory.js';
import {
  Mmu, PF_I, PF_P, PF_RSVD, PF_U, PF_W, PTE_A, PTE_D, PTE_G, PTE_P, PTE_PS, PTE_RW, PTE_US, PG_4LEVEL, PG_PAE, PG_32,
} from '../../mmu/paging.js';
import { installModel } from '../../mmu/choose.js';
import { defaultMmuModel } from '../../mmu/model.js';
import { ACC_EXEC, ACC_READ, ACC_STACK, ACC_USER, ACC_WRITE, PAGE_MASK, TAG_SLOW, TLB_BITS, Tlb } from '../../mmu/tlb.js';

const CR0_PG = 1 << 31, CR0_WP = 1 << 16;
const CR4_PSE = 1 << 4, CR4_PAE = 1 << 5, CR4_PGE = 1 << 7, CR4_SMEP = 1 << 20;
const EFER_LMA = 1 << 10, EFER_NXE = 1 << 11;
const XD = 1 << 31;

class Fault extends Error {
  constructor(readonly vector: number, readonly code: number, readonly lo: number, readonly hi: number) { super(`fault ${vector}`); }
}

function setup(ramMiB = 8): { mem: GuestMemory; mmu: Mmu } {
  const mem = new GuestMemory(ramMiB << 20);
  const mmu = new Mmu(mem);
  installModel(mmu, defaultMmuModel()); // direct, unless npm run test:matrix picks another
  mmu.onFault = (v, c, lo, hi) => { throw new Fault(v, c, lo, hi); };
  return { mem, mmu };
}

function fault(f: () => unknown): Fault {
  try { f(); } catch (e) { if (e instanceof Fault) return e; throw e; }
  throw new Error('expected a fault');
}

/** Write a 64-bit entry. */
function put64(mem: GuestMemory, addr: number, lo: number, hi = 0): void {
  mem.write32(addr, lo);
  mem.write32(addr + 4, hi);
}

describe('paging off', () => {
  it('linear equals physical, and a closed A20 gate folds bit 20', () => {
    const { mem, mmu } = setup();
    mem.write8(0x12345, 0xab);
    expect(mmu.read8(0x12345, 0, ACC_READ)).toBe(0xab);
    mmu.setA20(false);
    expect(mmu.translate(0x112345, 0, ACC_READ)).toBe(0x012345);
    mmu.setA20(true);
    expect(mmu.translate(0x112345, 0, ACC_READ)).toBe(0x112345);
  });
});

describe('32-bit paging', () => {
  // CR3 = 0x1000; PDE 0 -> page table at 0x2000; PTE 5 -> frame 0x7000.
  function build(pteFlags: number, pdeFlags = PTE_P | PTE_RW | PTE_US) {
    const s = setup();
    s.mem.write32(0x1000, 0x2000 | pdeFlags);
    s.mem.write32(0x2000 + 5 * 4, 0x7000 | pteFlags);
    s.mmu.setControl(CR0_PG | CR0_WP, 0, 0);
    s.mmu.setCr3(0x1000, 0);
    return s;
  }

  it('a read maps 0x5123 to 0x7123 and sets A on the PDE and PTE but not D', () => {
    const { mem, mmu } = build(PTE_P | PTE_RW);
    expect(mmu.mode).toBe(PG_32);
    expect(mmu.translate(0x5123, 0, ACC_READ)).toBe(0x7123);
    expect(mem.read32(0x1000) & PTE_A).toBe(PTE_A);
    expect(mem.read32(0x2014) & (PTE_A | PTE_D)).toBe(PTE_A);
  });

  it('a write sets D on the PTE only', () => {
    const { mem, mmu } = build(PTE_P | PTE_RW);
    mmu.write32(0x5010, 0, 0xdeadbeef, ACC_WRITE);
    expect(mem.read32(0x7010) >>> 0).toBe(0xdeadbeef);
    expect(mem.read32(0x2014) & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
    expect(mem.read32(0x1000) & PTE_D).toBe(0);
  });

  it('a read leaves the write tag empty until D is set by a write walk', () => {
    const { mmu } = build(PTE_P | PTE_RW);
    mmu.translate(0x5000, 0, ACC_READ);
    const i = Tlb.index(0x5000, 0);
    expect(mmu.tlb.tags[(ACC_WRITE << TLB_BITS) | i]).not.toBe(0x5000);
    mmu.translate(0x5000, 0, ACC_WRITE);
    expect(mmu.tlb.tags[(ACC_WRITE << TLB_BITS) | i]).toBe(0x5000);
  });

  it('a not-present page faults with P=0 and the W/U bits of the access', () => {
    const { mmu } = build(0);
    const f = fault(() => mmu.write8(0x5004, 0, 1, ACC_USER));
    expect([f.vector, f.code, f.lo]).toEqual([14, PF_W | PF_U, 0x5004]);
  });

  it('a user read of a supervisor page faults with P=1, U=1', () => {
    const { mmu } = build(PTE_P | PTE_RW, PTE_P | PTE_RW);
    const f = fault(() => mmu.read8(0x5000, 0, ACC_USER));
    expect(f.code).toBe(PF_P | PF_U);
    expect(mmu.read8(0x5000, 0, ACC_READ)).toBe(0);
  });

  it('a supervisor write to a read-only page faults only when CR0.WP is set', () => {
    const { mmu } = build(PTE_P | PTE_US);
    expect(fault(() => mmu.write8(0x5000, 0, 1, 0)).code).toBe(PF_P | PF_W);
    mmu.setControl(CR0_PG, 0, 0);
    mmu.flush(true);
    mmu.write8(0x5000, 0, 1, 0);
    expect(fault(() => mmu.write8(0x5000, 0, 1, ACC_USER)).code).toBe(PF_P | PF_W | PF_U);
  });

  it('a 4 MiB PSE page maps with the offset in bits 21:0, PS ignored without CR4.PSE', () => {
    const { mem, mmu } = setup(16);
    mem.write32(0x1000 + 1 * 4, 0x00400000 | PTE_P | PTE_RW | PTE_PS);
    mmu.setControl(CR0_PG, CR4_PSE, 0);
    mmu.setCr3(0x1000, 0);
    expect(mmu.translate(0x00412345, 0, ACC_READ)).toBe(0x00412345);
    mem.write32(0x1000 + 2 * 4, 0x00800000 | PTE_P | PTE_PS);
    expect(mmu.translate(0x00abcdef, 0, ACC_READ)).toBe(0x00ebcdef - 0x400000);
    expect(mem.read32(0x1008) & (PTE_A | PTE_D)).toBe(PTE_A);
  });

  it('a 4 MiB page with reserved bits 21:20 set faults with RSVD', () => {
    const { mem, mmu } = setup();
    mem.write32(0x1000, 0x00100000 | PTE_P | PTE_PS);
    mmu.setControl(CR0_PG, CR4_PSE, 0);
    mmu.setCr3(0x1000, 0);
    expect(fault(() => mmu.read8(0x10, 0, 0)).code).toBe(PF_P | PF_RSVD);
  });
});

describe('PAE paging', () => {
  // CR3 = 0x1000 (4 PDPTEs); PDPTE 0 -> PD at 0x2000; PDE 0 -> PT at 0x3000.
  function build() {
    const s = setup();
    put64(s.mem, 0x1000, 0x2000 | PTE_P);
    put64(s.mem, 0x2000, 0x3000 | PTE_P | PTE_RW | PTE_US);
    put64(s.mem, 0x2008, 0x00200000 | PTE_P | PTE_RW | PTE_PS); // 2 MiB at 2 MiB
    put64(s.mem, 0x3000 + 8, 0x9000 | PTE_P | PTE_RW | PTE_US, XD);
    s.mmu.setControl(CR0_PG | CR0_WP, CR4_PAE, EFER_NXE);
    expect(s.mmu.setCr3(0x1000, 0)).toBe(true);
    return s;
  }

  it('PDPTEs are loaded on the CR3 write, not re-read on each walk', () => {
    const { mem, mmu } = build();
    expect(mmu.mode).toBe(PG_PAE);
    expect(mmu.translate(0x1abc, 0, ACC_READ)).toBe(0x9abc);
    put64(mem, 0x1000, 0); // a changed PDPTE has no effect until CR3 is written again
    mmu.flush(true);
    expect(mmu.translate(0x1abc, 0, ACC_READ)).toBe(0x9abc);
    mmu.setCr3(0x1000, 0);
    mmu.flush(false);
    expect(fault(() => mmu.translate(0x1abc, 0, ACC_READ)).code).toBe(0);
  });

  it('a PDPTE with reserved bits makes the CR3 load fail (#GP)', () => {
    const { mem, mmu } = build();
    put64(mem, 0x1008, 0x5000 | PTE_P | PTE_RW);
    expect(mmu.setCr3(0x1000, 0)).toBe(false);
  });

  it('an instruction fetch from an XD page faults with I/D when NXE is set', () => {
    const { mmu } = build();
    expect(mmu.translate(0x1000, 0, ACC_READ)).toBe(0x9000);
    const f = fault(() => mmu.translate(0x1000, 0, ACC_EXEC | ACC_USER));
    expect(f.code).toBe(PF_P | PF_U | PF_I);
  });

  it('XD is a reserved bit when EFER.NXE is clear', () => {
    const { mmu } = build();
    mmu.setControl(CR0_PG, CR4_PAE, 0);
    expect(fault(() => mmu.translate(0x1000, 0, ACC_READ)).code).toBe(PF_P | PF_RSVD);
  });

  it('a 2 MiB page maps its 21-bit offset', () => {
    const { mmu } = build();
    expect(mmu.translate(0x003fffff, 0, ACC_WRITE)).toBe(0x003fffff);
  });
});

describe('4-level paging', () => {
  // PML4 at 0x1000. Low half: PML4E 0 -> PDPT 0x2000 -> PD 0x3000 -> PT 0x4000.
  // High half 0xffff8000_00000000: PML4E 256 -> PDPT 0x5000, PDPTE 0 = 1 GiB page at 0.
  function build(cr4 = 0) {
    const s = setup();
    const m = s.mem;
    put64(m, 0x1000, 0x2000 | PTE_P | PTE_RW | PTE_US);
    put64(m, 0x2000, 0x3000 | PTE_P | PTE_RW | PTE_US);
    put64(m, 0x3000, 0x4000 | PTE_P | PTE_RW | PTE_US);
    put64(m, 0x3008, 0x00400000 | PTE_P | PTE_RW | PTE_PS | PTE_G); // 2 MiB global page at linear 2 MiB
    put64(m, 0x4000 + 3 * 8, 0x6000 | PTE_P | PTE_RW | PTE_US);
    put64(m, 0x4000 + 4 * 8, 0x7000 | PTE_P | PTE_US); // read-only user page
    put64(m, 0x1000 + 256 * 8, 0x5000 | PTE_P | PTE_RW);
    put64(m, 0x5000, 0 | PTE_P | PTE_RW | PTE_PS);
    s.mmu.setControl(CR0_PG | CR0_WP, CR4_PAE | cr4, EFER_LMA | EFER_NXE);
    s.mmu.setCr3(0x1000, 0);
    return s;
  }

  it('a 4 KiB page walks all four levels and sets A on each', () => {
    const { mem, mmu } = build();
    expect(mmu.mode).toBe(PG_4LEVEL);
    expect(mmu.translate(0x3010, 0, ACC_USER)).toBe(0x6010);
    for (const a of [0x1000, 0x2000, 0x3000, 0x4018]) expect(mem.read32(a) & PTE_A).toBe(PTE_A);
    expect(mem.read32(0x4018) & PTE_D).toBe(0);
  });

  it('a kernel address in the high half maps through a 1 GiB page', () => {
    const { mem, mmu } = build();
    mem.write32(0x123458, 0x55aa55aa);
    expect(mmu.read32(0x00123458, 0xffff8000, 0)).toBe(0x55aa55aa);
    mmu.write64(0x00123458, 0xffff8000, 1, 2, 0);
    expect(mmu.read64(0x00123458, 0xffff8000, 0)).toBe(1);
    expect(mmu.readHi).toBe(2);
    expect(mem.read32(0x5000) & (PTE_A | PTE_D)).toBe(PTE_A | PTE_D);
    expect(fault(() => mmu.read8(0, 0xffff8000, ACC_USER)).code).toBe(PF_P | PF_U);
  });

  it('a non-canonical address raises #GP(0), or #SS(0) for a stack access', () => {
    const { mmu } = build();
    expect(fault(() => mmu.read8(0, 0x00008000, 0)).vector).toBe(13);
    expect(fault(() => mmu.read8(0, 0xfff00000, ACC_STACK)).vector).toBe(12);
  });

  it('bit 7 of a PML4E is reserved', () => {
    const { mem, mmu } = build();
    mem.write32(0x1000, mem.read32(0x1000) | PTE_PS);
    expect(fault(() => mmu.read8(0x3000, 0, 0)).code).toBe(PF_P | PF_RSVD);
  });

  it('a user write to a read-only page faults; a page-crossing write into it writes nothing', () => {
    const { mem, mmu } = build();
    expect(fault(() => mmu.write16(0x4000, 0, 1, ACC_USER)).code).toBe(PF_P | PF_W | PF_U);
    expect(fault(() => mmu.write32(0x3ffe, 0, 0x11223344, ACC_USER)).lo).toBe(0x4000);
    expect(mem.read16(0x6ffe)).toBe(0);
    expect(mmu.read32(0x3ffe, 0, ACC_USER)).toBe(0);
  });

  it('SMEP stops a supervisor fetch from a user page', () => {
    const { mmu } = build(CR4_SMEP);
    expect(fault(() => mmu.translate(0x3000, 0, ACC_EXEC)).code).toBe(PF_P | PF_I);
    expect(mmu.translate(0x3000, 0, ACC_EXEC | ACC_USER)).toBe(0x6000);
  });
});

describe('TLB', () => {
  function build() {
    const { mem, mmu } = setup();
    put64(mem, 0x1000, 0x2000 | PTE_P | PTE_RW);
    put64(mem, 0x2000, 0x3000 | PTE_P | PTE_RW);
    put64(mem, 0x3000, 0x4000 | PTE_P | PTE_RW);
    put64(mem, 0x3008, 0x00200000 | PTE_P | PTE_RW | PTE_PS); // 2 MiB page
    put64(mem, 0x4000 + 8, 0x6000 | PTE_P | PTE_RW | PTE_G);
    put64(mem, 0x4000 + 16, 0x7000 | PTE_P | PTE_RW);
    put64(mem, 0x4000 + 24, 0xfee00000 | PTE_P | PTE_RW); // MMIO (past RAM)
    mmu.setControl(CR0_PG, CR4_PAE | CR4_PGE, EFER_LMA);
    mmu.setCr3(0x1000, 0);
    return { mem, mmu };
  }

  it('a hit needs no walk; a changed PTE is not seen until INVLPG', () => {
    const { mem, mmu } = build();
    mmu.translate(0x2000, 0, 0);
    const walks = mmu.walks;
    expect(mmu.translate(0x2ff0, 0, 0)).toBe(0x7ff0);
    expect(mmu.walks).toBe(walks);
    put64(mem, 0x4000 + 16, 0x8000 | PTE_P);
    expect(mmu.translate(0x2000, 0, 0)).toBe(0x7000);
    mmu.invlpg(0x2abc, 0);
    expect(mmu.translate(0x2000, 0, 0)).toBe(0x8000);
  });

  it('a CR3 reload keeps global pages only', () => {
    const { mmu } = build();
    mmu.translate(0x1000, 0, 0);
    mmu.translate(0x2000, 0, 0);
    expect(mmu.tlb.size()).toBe(2);
    mmu.flush(false);
    expect(mmu.tlb.size()).toBe(1);
    expect(mmu.tlb.tags[Tlb.index(0x1000, 0)]).toBe(0x1000);
    mmu.flush(true);
    expect(mmu.tlb.size()).toBe(0);
  });

  it('INVLPG of any address in a 2 MiB page drops every cached 4 KiB piece of it', () => {
    const { mmu } = build();
    mmu.translate(0x00200000, 0, 0);
    mmu.translate(0x00345000, 0, 0);
    expect(mmu.tlb.size()).toBe(2);
    mmu.invlpg(0x003ff000, 0);
    expect(mmu.tlb.size()).toBe(0);
  });

  it('an MMIO page is cached as slow so the fast path never treats it as RAM', () => {
    const { mmu } = build();
    expect(mmu.translate(0x3010, 0, 0)).toBe(0xfee00010);
    const i = Tlb.index(0x3000, 0);
    expect(mmu.tlb.tags[i]).toBe(0x3000 | TAG_SLOW);
    const walks = mmu.walks;
    expect(mmu.translate(0x3020, 0, 0)).toBe(0xfee00020);
    expect(mmu.walks).toBe(walks);
  });

  it('writes to a page holding decoded code take the slow path and reach the code hook', () => {
    const { mem, mmu } = build();
    const hits: number[] = [];
    mem.codeWriteHooks[0] = (p) => hits.push(p);
    mmu.translate(0x2000, 0, ACC_WRITE);
    const i = Tlb.index(0x2000, 0);
    expect(mmu.tlb.tags[(ACC_WRITE << TLB_BITS) | i]).toBe(0x2000);
    mem.codePages[7] = 1;
    mmu.tlb.protectCodePage(7);
    expect(mmu.tlb.tags[(ACC_WRITE << TLB_BITS) | i] & PAGE_MASK).toBe(0x2000);
    expect(mmu.tlb.tags[(ACC_WRITE << TLB_BITS) | i] & TAG_SLOW).toBe(TAG_SLOW);
    mmu.write8(0x2001, 0, 9, 0);
    expect(hits).toEqual([7]);
  });
});
