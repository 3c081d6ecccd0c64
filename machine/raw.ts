// Raw binary loader: copies a flat image to a physical address. Below 1 MiB the
// CPU starts there in real mode (a boot sector at 0x7C00, say); at or above
// 1 MiB it starts there in flat 32-bit protected mode.

import type { GuestMemory } from '../mmu/memory.js';
import { ImageError } from './elf.js';

export function loadRaw(mem: GuestMemory, bytes: Uint8Array, addr: number, name: string): void {
  if (!Number.isInteger(addr) || addr < 0) throw new ImageError(`${name}: load address must be a non-negative integer`);
  if (!mem.isRam(addr, bytes.length)) {
    throw new ImageError(`${name}: ${bytes.length} bytes at 0x${addr.toString(16)} do not fit in ${mem.ramSize >>> 20} MiB of guest RAM (give more with -m)`);
  }
  mem.writeBytes(addr, bytes);
}
