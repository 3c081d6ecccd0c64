// Regions: which blocks compile together with a hot block. A region is the hot
// block and the decoded blocks of its physical page that it reaches by direct
// branches (Jcc, JMP, CALL and the CALL's return point) or by falling through,
// breadth first, up to MAX_REGION_BLOCKS. A branch between two places on one
// page needs no translation at run time: the same linear page maps the whole
// physical page, so the target's block is known when the region is compiled
// (cpu/jit/codegen.ts turns such branches into jumps inside the wasm function).

import type { Block, BlockCache } from '../blocks.js';
import { CODE_KEY_32, CODE_KEY_64 } from '../cpu.js';
import { Fast as F, FAST_INFO, GEN_EXACT, GEN_NOFLAGS } from '../fastops.js';
import { branchKind, isBranch } from '../facts.js';
import { K_CALL, K_JCC, K_JMP, K_NONE } from '../table.js';

/**
 * A region: its blocks (entry points, in br_table order), each block's number in its
 * module (the `step` import's first argument), and whether a block may fall through to the
 * next inside the region (flat 32- and 64-bit code; 16-bit code wraps at 64 KiB, and code
 * under a CS limit leaves instead).
 */
export interface RegionCode {
  blocks: Block[];
  ids: number[];
  wide: boolean;
  fallThrough: boolean;
  /** The region's slot in the compiler's function table (cpu/jit/chain.ts), and whether its exits try the jump cache. */
  slot: number;
  chain: boolean;
}

/** Most blocks in one region (bounds its compile time and wasm size). */
export const MAX_REGION_BLOCKS = 32;

/** The control transfer that ends b: its last row's kind (cpu/facts.ts branchKind), K_NONE when b just stops. */
export const endKind = (b: Block): number => branchKind(b.rows[b.n - 1]);

/** Whether b ends in a branch: its last row sets RIP (cpu/facts.ts isBranch); else b falls through to b.len. */
export const endsInBranch = (b: Block): boolean => isBranch(b.rows[b.n - 1]);

/**
 * Offsets from b's start where b may go on next without leaving its page's code: direct targets,
 * return points, the fall-through. A direct branch the interpreter's fast ops carry (fast id set:
 * not under a CS limit, cpu/ops-ctl.ts limitedBranch) has its target offset in field 2 and its
 * fall-through or return point in field 3 (cpu/fastops.ts BRANCH).
 */
function successors(b: Block): number[] {
  const p = (b.n - 1) << 2, direct = b.code[p] !== F.FAST_NONE;
  switch (endKind(b)) {
    case K_NONE: return b.page1 >= 0 ? [] : [b.len];
    case K_JCC: case K_CALL: return direct ? [b.code[p + 2], b.code[p + 3]] : [];
    case K_JMP: return direct ? [b.code[p + 2]] : [];
  }
  return [];
}

/**
 * The region of hot block `entry` (entry first): blocks of its page decoded under its code
 * key, reachable from it, still valid, and worth compiling (every one with `all`; `chain`:
 * regions chain, see worthCompiling).
 */
export function collectRegion(cache: BlockCache, entry: Block, all: boolean, chain = false): Block[] {
  const out = [entry], seen = new Set<number>([entry.phys]);
  const page = entry.phys & ~0xfff;
  for (let k = 0; k < out.length && out.length < MAX_REGION_BLOCKS; k++) {
    const b = out[k];
    for (const off of successors(b)) {
      const o = (b.phys & 0xfff) + off;
      if (o < 0 || o >= 0x1000 || seen.has(page + o)) continue;
      seen.add(page + o);
      const t = cache.peek(entry.codeKey, page + o);
      if (t === undefined || !t.valid || !(all || worthCompiling(t, chain))) continue;
      out.push(t);
      if (out.length >= MAX_REGION_BLOCKS) break;
    }
  }
  return out;
}

/**
 * What the code generator needs to know about region `blocks` (ids: each block's number in its
 * module). Under a CS limit (CODE_KEY_LIMITED) no block falls through to the next inside the
 * region: the run loop checks each block it enters against the limit (the same bytes run at
 * another offset through another CS base), and the branches there are run by the interpreter,
 * which checks their targets, so every block is entered from the run loop. Only flat code
 * chains to other regions (`chain`: cpu/jit/chain.ts).
 */
export function regionCode(blocks: Block[], ids: number[], slot = 0, chain = false): RegionCode {
  const key = blocks[0].codeKey, flat = key === CODE_KEY_32 || key === CODE_KEY_64;
  return { blocks, ids, wide: (key & 3) === CODE_KEY_64, fallThrough: flat, slot, chain: chain && flat };
}

/**
 * Whether compiling b pays: each instruction the interpreter runs from compiled code costs a
 * write-back, a call out and a reload on top of the interpreter's own work (several interpreted
 * instructions' worth), and each entry a JS-to-wasm call, so a block is compiled only if its
 * inline instructions outweigh that. A block looping on itself saves the entries but pays every
 * step on every pass: the same rule (a Linux boot under jit stepped 297 M of its 1,033 M compiled
 * instructions when such blocks needed only more inline than stepped instructions). Where regions
 * chain (cpu/jit/chain.ts), a branch the interpreter runs at the block's end does not count:
 * compiled, the block goes on through the jump cache to the next region (an indirect JMP or CALL
 * alone included), where interpreted it returns to the run loop, which costs more.
 */
export function worthCompiling(b: Block, chain = false): boolean {
  let inlined = 0, stepped = 0;
  for (let i = 0; i < b.n; i++) if (inline(b.code[i << 2])) inlined++; else stepped++;
  if (chain && endsInBranch(b) && !inline(b.code[(b.n - 1) << 2]) && --stepped === 0) return true;
  return stepped === 0 ? inlined >= 1 : inlined >= 4 * stepped;
}

/** Whether the generator emits fast op `id` (a NO_FLAGS variant included) inline. */
export function inline(id: number): boolean {
  if (id === F.FAST_NONE) return false;
  const info = FAST_INFO[id & ~F.NO_FLAGS];
  return info !== undefined && (info.gen & (id < F.NO_FLAGS ? GEN_EXACT : GEN_NOFLAGS)) !== 0;
}
