// Small guests for the run-budget tests (issue 20): a flat 16-, 32- or 64-bit machine
// with descriptor tables, an IDT whose gates the test points where it likes, and a
// host that counts port accesses and can raise one interrupt.
import type { CpuHost } from '../../contracts/backend.js';
import { flatState, type FlatMode } from '../../cpu/flat.js';
import { createInterpreter, createJit } from '../../cpu/full.js';
import type { InterpBackend } from '../../cpu/interp.js';
import type { JitOptions } from '../../cpu/jit/backend.js';
import {
  CR3, GDTR_BASE, GDTR_LIMIT, IDTR_BASE, IDTR_LIMIT, RSP, SEG_ATTR, SEG_BASE, SEG_LIMIT, SEG_SEL, StateView, TR,
  gprOffset, segOffset,
} from '../../cpu/state.js';
import { GuestMemory } from '../../mmu/memory.js';
import { hex } from './harness.js';

export const CODE = 0x1000, HANDLER = 0x3000, LOG = 0x6000, GDT = 0x8000, IDT = 0x9000, TSS = 0xa000;
/** Page tables of the 64-bit guests: the first 1 GiB identity-mapped with 2 MiB pages. */
const PML4 = 0x10000, PDPT = 0x11000, PD = 0x12000;

export interface Guest {
  b: InterpBackend;
  mem: GuestMemory;
  s: StateView;
  mode: FlatMode;
  /** Port reads and writes seen (counted, not kept). */
  io: { reads: number; writes: number; lastOut: number };
  /** Make the interrupt source request `vector` once (acknowledged by delivery). */
  raise(vector: number): void;
  gate(vector: number, target: number, ist?: number): void;
  code(bytes: string, at?: number): void;
  set(reg: number, lo: number, hi?: number): void;
  reg(reg: number): number;
  rip(): number;
}

/** `accel` 'jit' (or EMU_TEST_ACCEL=jit when not given) compiles every block at once, unless `jit` says otherwise. */
export function flatGuest(mode: FlatMode, ramMiB = 4, accel?: 'interp' | 'jit', jit?: JitOptions): Guest {
  const mem = new GuestMemory(ramMiB << 20);
  const io = { reads: 0, writes: 0, lastOut: 0 };
  let pending = -1;
  const host: CpuHost = {
    memory: mem,
    portRead: (_p, size) => { io.reads++; return size === 1 ? 0x5a : 0x5a5a; },
    portWrite: (_p, _s, v) => { io.writes++; io.lastOut = v; },
    interrupts: { hasInterrupt: () => pending >= 0, acknowledge: () => { const v = pending; pending = -1; return v; } },
    now: () => 0,
    a20Enabled: () => true,
  };
  const b = (accel ?? process.env.EMU_TEST_ACCEL) === 'jit'
    ? createJit(host, { threshold: 1, batch: 1, all: true, ...jit })
    : createInterpreter(host);
  const s = new StateView(mem.buffer, mem.stateOffset);
  flatState(s, mode, CODE);
  if (mode !== 16) {
    const code = mode === 64 ? 0x00af9a00 : 0x00cf9a00;
    [0, 0, 0xffff, code, 0xffff, 0x00cf9200, (TSS << 16) | 0x67, 0x8900, 0, 0].forEach((v, i) => mem.write32(GDT + 4 * i, v));
    s.set64(GDTR_BASE, GDT, 0); s.setU32(GDTR_LIMIT, 39);
    s.set64(IDTR_BASE, IDT, 0); s.setU32(IDTR_LIMIT, 0xfff);
    const tr = segOffset(TR);
    s.setU32(tr + SEG_SEL, 0x18); s.setU32(tr + SEG_ATTR, 0x8b); s.setU32(tr + SEG_LIMIT, 0x67); s.set64(tr + SEG_BASE, TSS, 0);
  }
  if (mode === 64) {
    mem.write32(PML4, PDPT | 7); mem.write32(PDPT, PD | 7);
    for (let i = 0; i < 512; i++) mem.write32(PD + 8 * i, (i << 21) | 0xe7);
    s.set64(CR3, PML4, 0);
  }
  s.set64(gprOffset(RSP), 0x80000, 0);
  b.setState(s.snapshot());
  const g: Guest = {
    b, mem, s, mode, io,
    raise: (v) => { pending = v; },
    gate(vector, target, ist = 0) {
      if (mode === 16) { mem.write32(vector * 4, target & 0xffff); return; }
      const size = mode === 64 ? 16 : 8, a = IDT + vector * size;
      mem.write32(a, (0x08 << 16) | (target & 0xffff));
      mem.write32(a + 4, (target & 0xffff0000) | 0x8e00 | ist);
      if (mode === 64) { mem.write32(a + 8, 0); mem.write32(a + 12, 0); }
    },
    code(bytes, at = CODE) { mem.writeBytes(at, hex(bytes)); },
    set(reg, lo, hi = 0) { s.set64(gprOffset(reg), lo >>> 0, hi >>> 0); },
    reg(reg) { return s.lo(gprOffset(reg)); },
    rip() { return s.lo(0x80); },
  };
  return g;
}
