// The worker's side of the JIT view: which blocks the jit backend compiled, and the
// translated code holding an address, as `emu --jit-dump` prints it (the x86
// instructions, each inline or through the interpreter, beside the wasm text). Read
// from the backend by shape: the worker imports the machine library, not cpu/.

import type { JitBlockInfo } from './protocol.js';

/** What the view reads of a compiled block (cpu/blocks.ts Block). */
interface BlockFace { phys: number; n: number; len: number; valid: boolean; jit: unknown }

/** What the view reads of the jit backend (cpu/jit/backend.ts JitBackend). */
interface JitFace {
  name: string;
  describeRegion?(linear: number): string | null;
  jit?: { compiled: readonly BlockFace[]; dump(b: BlockFace): string };
}

/** Blocks listed, newest first. */
const LISTED = 64;

const live = (b: BlockFace): boolean => b.valid && b.jit !== null;

export function jitBlocks(backend: object): JitBlockInfo[] {
  const j = (backend as JitFace).jit;
  if (!j) return [];
  const out: JitBlockInfo[] = [];
  for (let i = j.compiled.length - 1; i >= 0 && out.length < LISTED; i--) {
    const b = j.compiled[i];
    if (live(b)) out.push({ phys: b.phys, instructions: b.n, bytes: b.len });
  }
  return out;
}

export function jitDump(backend: object, address: number): string {
  const b = backend as JitFace, at = `0x${address.toString(16)}`;
  if (!b.jit || !b.describeRegion) return `the CPU runs on ${b.name}: choose the JIT to see translated code`;
  const text = b.describeRegion(address);
  if (text) return text;
  // Not mapped there, or nothing compiled at that linear address: a block starting or lying at that physical address.
  const hit = b.jit.compiled.find((x) => live(x) && x.phys === address) ??
    b.jit.compiled.find((x) => live(x) && address > x.phys && address < x.phys + x.len);
  return hit ? b.jit.dump(hit) : `no compiled block holds ${at} (as a linear or a physical address) yet`;
}
