// A bare interpreter CPU with cpu/system installed, and builders for the
// descriptor tables the system tests put in guest memory.
import type { CpuHost, InterruptSource } from '../../contracts/backend.js';
import { Cpu } from '../../cpu/cpu.js';
import { installSystem } from '../../cpu/system/index.js';
import {
  ATTR_UNUSABLE, CR0, CR0_PE, CR0_PG, CR3, CR4, CR4_PAE, CS, DS, EFER, EFER_LMA, EFER_LME, ES, FS, GDTR_BASE,
  GDTR_LIMIT, GS, IDTR_BASE, IDTR_LIMIT, LDTR, SEG_ATTR,
  SEG_BASE, SEG_LIMIT, SEG_SEL, SS, StateView, TR, gprOffset, resetState, segOffset, RSP,
} from '../../cpu/state.js';
import type { Mmu } from '../../mmu/paging.js';
import { GuestMemory } from '../../mmu/memory.js';

export interface Rig {
  mem: GuestMemory;
  cpu: Cpu;
  s: StateView;
  mmu: Mmu;
  ports: { port: number; size: number; value: number }[];
  time: { ns: number };
}

export function makeRig(ramMiB = 4): Rig {
  const mem = new GuestMemory(ramMiB << 20);
  const ports: Rig['ports'] = [];
  const time = { ns: 0 };
  const interrupts: InterruptSource = { hasInterrupt: () => false, acknowledge: () => 0 };
  const host: CpuHost = {
    memory: mem,
    portRead: () => 0xff,
    portWrite: (port, size, value) => { ports.push({ port, size, value }); },
    interrupts,
    now: () => time.ns,
    a20Enabled: () => true,
  };
  const cpu = new Cpu(mem, host);
  const s = new StateView(mem.buffer, mem.stateOffset);
  resetState(s);
  const mmu = installSystem(cpu);
  cpu.modeChanged();
  return { mem, cpu, s, mmu, ports, time };
}

/** An 8-byte code/data descriptor: access byte (P, DPL, S, type) and flags nibble (G, D/B, L, AVL). */
export function descriptor(base: number, limit: number, access: number, flags: number): [number, number] {
  const lo = ((base & 0xffff) << 16) | (limit & 0xffff);
  const hi = ((base >>> 16) & 0xff) | (access << 8) | (limit & 0xf0000) | (flags << 20) | (base & 0xff000000);
  return [lo | 0, hi | 0];
}

export const GDT = 0x1000, IDT = 0x2000, TSS = 0x3000;

/** Standard GDT used by the tests. */
export const SEL = {
  code32: 0x08, data32: 0x10, ucode32: 0x1b, udata32: 0x23, tss32: 0x28, code64: 0x30, ucode64: 0x3b,
  code16: 0x40, np: 0x48, ldt: 0x50, gate: 0x58, code32c1: 0x60, data32d1: 0x68,
};

export function writeGdt(r: Rig): void {
  const e: [number, number][] = [
    [0, 0],
    descriptor(0, 0xfffff, 0x9a, 0xc), // 0x08 ring-0 code 32
    descriptor(0, 0xfffff, 0x92, 0xc), // 0x10 ring-0 data
    descriptor(0, 0xfffff, 0xfa, 0xc), // 0x18 ring-3 code 32
    descriptor(0, 0xfffff, 0xf2, 0xc), // 0x20 ring-3 data
    descriptor(TSS, 0x67, 0x89, 0), // 0x28 32-bit TSS (available)
    descriptor(0, 0xfffff, 0x9a, 0xa), // 0x30 ring-0 code 64
    descriptor(0, 0xfffff, 0xfa, 0xa), // 0x38 ring-3 code 64
    descriptor(0, 0xffff, 0x9a, 0x0), // 0x40 ring-0 code 16
    descriptor(0, 0xfffff, 0x12, 0xc), // 0x48 data, not present
    descriptor(0x5000, 0xff, 0x82, 0), // 0x50 LDT
    [0, 0], // 0x58 call gate (tests fill it)
    descriptor(0, 0xfffff, 0xba, 0xc), // 0x60 ring-1 code 32
    descriptor(0, 0xfffff, 0xb2, 0xc), // 0x68 ring-1 data
    [0, 0], [0, 0], // spare (16-byte long-mode TSS at 0x70 if needed)
  ];
  e.forEach(([lo, hi], i) => { r.mem.write32(GDT + i * 8, lo); r.mem.write32(GDT + i * 8 + 4, hi); });
  r.s.set64(GDTR_BASE, GDT, 0);
  r.s.setU32(GDTR_LIMIT, e.length * 8 - 1);
}

export function setSeg(r: Rig, n: number, sel: number, base: number, limit: number, attr: number): void {
  const o = segOffset(n);
  r.s.setU32(o + SEG_SEL, sel);
  r.s.setU32(o + SEG_ATTR, attr);
  r.s.setU32(o + SEG_LIMIT, limit);
  r.s.set64(o + SEG_BASE, base, 0);
}

/** 32-bit protected mode at CPL `cpl` with flat segments from writeGdt(). */
export function protectedMode(r: Rig, cpl = 0): void {
  writeGdt(r);
  r.s.set64(CR0, CR0_PE | 0x10, 0);
  const code = cpl === 3 ? SEL.ucode32 : SEL.code32, data = cpl === 3 ? SEL.udata32 : SEL.data32;
  const dpl = cpl << 5;
  setSeg(r, CS, code, 0, 0xffffffff, 0xc09b | dpl);
  for (const n of [ES, SS, DS, FS, GS]) setSeg(r, n, data, 0, 0xffffffff, 0xc093 | dpl);
  setSeg(r, LDTR, 0, 0, 0, ATTR_UNUSABLE);
  setSeg(r, TR, SEL.tss32, TSS, 0x67, 0x8b);
  r.s.set64(IDTR_BASE, IDT, 0);
  r.s.setU32(IDTR_LIMIT, 0x7ff);
  r.cpu.modeChanged();
}

/** A 32-bit interrupt (type 0xE) or trap (0xF) gate. */
export function gate32(r: Rig, vector: number, sel: number, offset: number, type = 0xe, dpl = 0): void {
  r.mem.write32(IDT + vector * 8, (sel << 16) | (offset & 0xffff));
  r.mem.write32(IDT + vector * 8 + 4, (offset & 0xffff0000) | 0x8000 | (dpl << 13) | (type << 8));
}

/** A 64-bit gate (16 bytes). */
export function gate64(r: Rig, vector: number, sel: number, offLo: number, offHi = 0, ist = 0, type = 0xe, dpl = 0): void {
  const a = IDT + vector * 16;
  r.mem.write32(a, (sel << 16) | (offLo & 0xffff));
  r.mem.write32(a + 4, (offLo & 0xffff0000) | 0x8000 | (dpl << 13) | (type << 8) | ist);
  r.mem.write32(a + 8, offHi);
  r.mem.write32(a + 12, 0);
}

export const rsp = (r: Rig): number => r.s.u32(gprOffset(RSP));
export const setRsp = (r: Rig, v: number, hi = 0): void => r.s.set64(gprOffset(RSP), v, hi);
/** Read a dword of guest physical memory (paging is off in most tests). */
export const peek = (r: Rig, a: number): number => r.mem.read32(a) >>> 0;

/**
 * 64-bit mode at CPL 0 (CS = SEL.code64) with the first 2 MiB identity-mapped by one
 * 2 MiB page (PML4 0x10000, PDPT 0x11000, PD 0x12000) and a 64-bit TSS at TSS.
 */
export function longMode(r: Rig): void {
  protectedMode(r);
  r.mem.write32(0x10000, 0x11007); r.mem.write32(0x11000, 0x12007); r.mem.write32(0x12000, 0x87);
  r.s.set64(CR3, 0x10000, 0);
  r.s.set64(CR4, CR4_PAE, 0);
  r.s.set64(EFER, EFER_LME | EFER_LMA, 0);
  r.s.set64(CR0, CR0_PE | CR0_PG | 0x10, 0);
  setSeg(r, CS, SEL.code64, 0, 0xffffffff, 0xa09b);
  r.s.set64(IDTR_BASE, IDT, 0);
  r.s.setU32(IDTR_LIMIT, 0xfff);
  r.cpu.modeChanged();
}
