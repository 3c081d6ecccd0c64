// The benchmark loops (bench/interp.ts loopsFor) as a multiboot kernel, so other
// emulators (v86, QEMU) run the very same loop bytes: an a.out-kludge image loaded
// at 4 MiB that turns paging on (32-bit: two-level, 64-bit: long mode with
// four-level tables, 4 KiB pages over the first 8 MiB, as the interp bench maps
// its memory), then calls each loop between two bytes on COM1: 'A'+i before loop
// i and 'a'+i after it, 'Z' at the end. Whoever runs the guest times the loop
// between the two bytes, so boot time is not in the figure. Then isa-debug-exit
// (port 0xf4) if asked, and HLT.

import type { FlatMode } from '../cpu/flat.js';
import { loopsFor } from './interp.js';

const LOAD = 0x400000;
const HEADER = 0x0, ENTRY = 0x40, GDT = 0x1000, GDTR = 0x1040;
const PD32 = 0x2000, PT32 = 0x3000; // two page tables: 8 MiB
const PML4 = 0x5000, PDPT = 0x6000, PD64 = 0x7000, PT64 = 0x8000; // four page tables: 8 MiB
const LOOPS = 0xc000;
const MAPPED = 8 << 20;
const STACK_TOP = 0x80000;
const COM1 = 0x3f8;

/** Instructions per iteration of each loop (its body and the branch), for MIPS from a time. */
export const PER_ITERATION: Record<string, number> = { alu: 5, mem: 7, call: 5 };

const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

export interface LoopGuest {
  image: Uint8Array;
  /** The loops in the order they run, with their iteration counts. */
  loops: { name: string; iterations: number }[];
}

/**
 * The multiboot image running `loopsFor(iterations)`'s loops of `mode` in turn; `exit` writes
 * the isa-debug-exit port at the end (QEMU; v86 treats that port as its test harness's); with
 * `only`, just that loop.
 */
export function loopGuest(mode: FlatMode, iterations: number, exit: boolean, only?: string): LoopGuest {
  const img = new Uint8Array(LOOPS + 0x1000);
  const dv = new DataView(img.buffer);
  const put32 = (off: number, v: number): void => dv.setUint32(off, v >>> 0, true);
  // Multiboot v1 header with the a.out-kludge address fields (flags bit 16).
  const flags = 1 << 16;
  put32(HEADER, 0x1badb002); put32(HEADER + 4, flags); put32(HEADER + 8, -(0x1badb002 + flags) | 0);
  put32(HEADER + 12, LOAD + HEADER); put32(HEADER + 16, LOAD); put32(HEADER + 20, 0); put32(HEADER + 24, 0); put32(HEADER + 28, LOAD + ENTRY);
  // Identity-mapped 4 KiB pages over [0, MAPPED).
  for (let p = 0; p < MAPPED; p += 0x1000) {
    if (mode === 32) put32(PT32 + (p >>> 12) * 4, p | 3);
    else put32(PT64 + (p >>> 12) * 8, p | 3);
  }
  for (let t = 0; t < MAPPED >>> 22; t++) put32(PD32 + t * 4, (LOAD + PT32 + t * 0x1000) | 3);
  put32(PML4, (LOAD + PDPT) | 3); put32(PDPT, (LOAD + PD64) | 3);
  for (let t = 0; t < MAPPED >>> 21; t++) put32(PD64 + t * 8, (LOAD + PT64 + t * 0x1000) | 3);
  // GDT: null, 0x08 64-bit code, 0x10 flat data; GDTR.
  put32(GDT + 8, 0x0000ffff); put32(GDT + 12, 0x00af9a00);
  put32(GDT + 16, 0x0000ffff); put32(GDT + 20, 0x00cf9200);
  dv.setUint16(GDTR, 23, true); put32(GDTR + 2, LOAD + GDT);

  const code: number[] = [0xfa, 0xbc, ...le32(STACK_TOP)]; // cli; mov esp, STACK_TOP
  if (mode === 32) {
    code.push(0xb8, ...le32(LOAD + PD32), 0x0f, 0x22, 0xd8); // mov eax, PD; mov cr3, eax
  } else {
    code.push(0x0f, 0x01, 0x15, ...le32(LOAD + GDTR)); // lgdt [GDTR]
    code.push(0xb8, 0x10, 0, 0, 0, 0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xd0); // mov eax, 0x10; mov ds/es/ss, ax
    code.push(0x0f, 0x20, 0xe0, 0x83, 0xc8, 0x20, 0x0f, 0x22, 0xe0); // cr4 |= PAE
    code.push(0xb8, ...le32(LOAD + PML4), 0x0f, 0x22, 0xd8); // cr3 = PML4
    code.push(0xb9, ...le32(0xc0000080), 0x0f, 0x32, 0x0d, ...le32(0x100), 0x0f, 0x30); // EFER.LME
  }
  code.push(0x0f, 0x20, 0xc0, 0x0d, ...le32(0x80000000), 0x0f, 0x22, 0xc0); // cr0 |= PG
  if (mode === 64) {
    const far = ENTRY + code.length + 7;
    code.push(0xea, ...le32(LOAD + far), 0x08, 0x00); // jmp 0x08:far (into 64-bit code)
  }
  const marker = (c: number): number[] => [0x66, 0xba, COM1 & 0xff, COM1 >> 8, 0xb0, c, 0xee]; // mov dx, COM1; mov al, c; out dx, al
  const loops = loopsFor(iterations).filter((l) => l.mode === mode && (only === undefined || l.name === only));
  const calls: { at: number; target: number }[] = [];
  let blob = LOOPS;
  loops.forEach((l, i) => {
    code.push(...marker(0x41 + i));
    calls.push({ at: ENTRY + code.length + 1, target: blob });
    code.push(0xe8, 0, 0, 0, 0); // call loop i
    code.push(...marker(0x61 + i));
    const bytes = Uint8Array.from(l.code);
    const hlt = bytes.lastIndexOf(0xf4);
    bytes[hlt] = 0xc3; // the loop's closing HLT becomes RET: same length, same layout
    img.set(bytes, blob);
    blob += (bytes.length + 15) & ~15;
  });
  code.push(...marker(0x5a));
  if (exit) code.push(0xb0, 0x00, 0xe6, 0xf4); // mov al, 0; out 0xf4, al
  code.push(0xf4, 0xeb, 0xfd); // hlt; jmp hlt
  img.set(code, ENTRY);
  for (const c of calls) put32(c.at, c.target - (c.at + 4));
  if (ENTRY + code.length > GDT || blob > img.length) throw new Error('loop guest: layout overflow');
  return { image: img, loops: loops.map((l) => ({ name: l.name, iterations })) };
}
