// Initial CPU states that loaders hand to a backend: the multiboot 32-bit
// protected-mode entry and a real-mode entry for raw boot images.

import {
  ATTR_DB, ATTR_G, ATTR_P, ATTR_S, ATTR_UNUSABLE, CR0, CR0_ET, CR0_PE, CS, DS, ES, FS, GS, LDTR, RAX, RBX, RIP,
  SEG_ATTR, SEG_BASE, SEG_LIMIT, SEG_SEL, SS, StateView, TR, gprOffset, resetState, segOffset,
} from '../cpu/state.js';

const CODE32 = ATTR_P | ATTR_S | ATTR_DB | ATTR_G | 0xb; // execute/read, accessed
const DATA32 = ATTR_P | ATTR_S | ATTR_DB | ATTR_G | 0x3; // read/write, accessed

function setSeg(s: StateView, n: number, sel: number, attr: number, base: number, limit: number): void {
  const o = segOffset(n);
  s.setU32(o + SEG_SEL, sel);
  s.setU32(o + SEG_ATTR, attr);
  s.setU32(o + SEG_LIMIT, limit);
  s.set64(o + SEG_BASE, base, 0);
}

/**
 * Multiboot's machine state (spec 3.2): EAX = 0x2BADB002, EBX = the boot
 * information address, CS a flat 32-bit code segment, the data segments flat,
 * CR0.PE set and paging off, interrupts disabled. GDTR is left to the OS, as
 * the spec allows; TR holds a placeholder busy TSS so hardware backends accept it.
 */
export function multibootEntryState(s: StateView, entry: number, infoAddr: number, magic: number): void {
  resetState(s);
  s.set64(RIP, entry, 0);
  s.set64(gprOffset(RAX), magic, 0);
  s.set64(gprOffset(RBX), infoAddr, 0);
  s.set64(CR0, CR0_PE | CR0_ET, 0);
  setSeg(s, CS, 0x08, CODE32, 0, 0xffffffff);
  for (const n of [ES, SS, DS, FS, GS]) setSeg(s, n, 0x10, DATA32, 0, 0xffffffff);
  setSeg(s, LDTR, 0, ATTR_UNUSABLE, 0, 0);
  setSeg(s, TR, 0, ATTR_P | 0xb /* busy 32-bit TSS */, 0, 0x67);
}

/** Real mode at segment:offset (a raw image loaded below 1 MiB, e.g. a boot sector at 0x7C00). */
export function realModeEntryState(s: StateView, addr: number): void {
  resetState(s);
  const seg = (addr >>> 4) & 0xf000;
  setSeg(s, CS, seg, ATTR_P | ATTR_S | 0xb, seg << 4, 0xffff);
  s.set64(RIP, addr - (seg << 4), 0);
}

/** Flat 32-bit protected mode at `addr` (a raw image loaded at or above 1 MiB). */
export function flat32EntryState(s: StateView, addr: number): void {
  multibootEntryState(s, addr, 0, 0);
}
