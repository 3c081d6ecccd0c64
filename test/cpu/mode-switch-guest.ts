// A 32-bit program under a 64-bit kernel: ring-3 compatibility-mode code making INT 0x80
// calls into a 64-bit ring-0 handler, every call and return a switch of code size.
import { InterpBackend } from '../../cpu/interp.js';
import { SYSTEM_EXTENSION } from '../../cpu/system/extension.js';
import {
  CR0, CR0_ET, CR0_PE, CR0_PG, CR3, CR4, CR4_PAE, CS, DS, EFER, EFER_LMA, EFER_LME, ES, FS, GDTR_BASE, GDTR_LIMIT, GS,
  IDTR_BASE, IDTR_LIMIT, RFLAGS, RIP, RSP, SEG_ATTR, SEG_BASE, SEG_LIMIT, SEG_SEL, SS, StateView, TR,
  gprOffset, resetState, segOffset,
} from '../../cpu/state.js';
import { GuestMemory } from '../../mmu/memory.js';
import { hex } from './harness.js';

const KERNEL = 0x3000, HALT = 0x3100, USER = 0x4000, GDT = 0x8000, IDT = 0x9000, TSS = 0xa000;
/** The bytes both modes run (see USER_CODE). */
export const SHARED = 0x5000;
export const ROUNDS = 1000;

/**
 * Ring 3 compatibility-mode code (32-bit) that calls SHARED, then INT 0x80, ROUNDS times, then
 * INT 0x81; the 64-bit ring-0 handler of INT 0x80 calls SHARED too and IRETQs. SHARED's bytes
 * 48 83 c6 01 c3 mean `add rsi, 1; ret` in 64-bit code and `dec eax; add esi, 1; ret` in
 * 32-bit code, so a block decoded in one mode and run in the other shows in EAX.
 */
const USER_CODE = '47 e8fa0f0000 cd80 81ffe8030000 75f0 cd81'; // inc edi; call SHARED; int 0x80; cmp edi, ROUNDS; jne; int 0x81
const KERNEL_CODE = '48ffc3 e8f81f0000 48cf'; // inc rbx; call SHARED; iretq

export function guest(rounds = ROUNDS): { b: InterpBackend; s: StateView } {
  const mem = new GuestMemory(4 << 20);
  const b = new InterpBackend({
    memory: mem,
    portRead: () => 0xff,
    portWrite: () => {},
    interrupts: { hasInterrupt: () => false, acknowledge: () => 0 },
    now: () => 0,
    a20Enabled: () => true,
  }, [SYSTEM_EXTENSION]);
  const s = new StateView(mem.buffer, mem.stateOffset);
  resetState(s);
  // GDT: 0x08 64-bit ring-0 code, 0x10 ring-0 data, 0x18 ring-3 32-bit code, 0x20 ring-3 data, 0x28 64-bit TSS.
  const gdt = [0, 0, 0xffff, 0x00af9a00, 0xffff, 0x00cf9200, 0xffff, 0x00cffa00, 0xffff, 0x00cff200,
    (TSS << 16) | 0x67, 0x8900, 0, 0];
  gdt.forEach((v, i) => mem.write32(GDT + 4 * i, v));
  s.set64(GDTR_BASE, GDT, 0); s.setU32(GDTR_LIMIT, gdt.length * 4 - 1);
  // IDT: 0x80 and 0x81, DPL-3 64-bit interrupt gates to ring 0.
  for (const [v, target] of [[0x80, KERNEL], [0x81, HALT]]) {
    mem.write32(IDT + v * 16, (0x08 << 16) | target); mem.write32(IDT + v * 16 + 4, 0xee00);
  }
  s.set64(IDTR_BASE, IDT, 0); s.setU32(IDTR_LIMIT, 0xfff);
  mem.write32(TSS + 4, 0x90000); // RSP0
  // The first 2 MiB identity-mapped by one user-accessible 2 MiB page.
  mem.write32(0x10000, 0x11007); mem.write32(0x11000, 0x12007); mem.write32(0x12000, 0xe7);
  s.set64(CR3, 0x10000, 0);
  s.set64(CR4, CR4_PAE, 0);
  s.set64(EFER, EFER_LME | EFER_LMA, 0);
  s.set64(CR0, CR0_PE | CR0_PG | CR0_ET, 0);
  const seg = (n: number, sel: number, attr: number, base = 0, limit = 0xffffffff): void => {
    const o = segOffset(n);
    s.setU32(o + SEG_SEL, sel); s.setU32(o + SEG_ATTR, attr); s.setU32(o + SEG_LIMIT, limit); s.set64(o + SEG_BASE, base, 0);
  };
  seg(CS, 0x1b, 0xc0fb); // ring 3, 32-bit code (compatibility mode)
  for (const n of [ES, SS, DS, FS, GS]) seg(n, 0x23, 0xc0f3);
  seg(TR, 0x28, 0x8b, TSS, 0x67);
  s.set64(gprOffset(RSP), 0x80000, 0);
  s.set64(RFLAGS, 2, 0);
  s.set64(RIP, USER, 0);
  mem.writeBytes(USER, hex(USER_CODE));
  mem.write32(USER + 10, rounds);
  mem.writeBytes(KERNEL, hex(KERNEL_CODE));
  mem.writeBytes(HALT, hex('f4'));
  mem.writeBytes(SHARED, hex('4883c601 c3'));
  b.setState(s.snapshot());
  return { b, s };
}

