// What the JIT shows of its translated code for a guest address: the compiled block
// that holds a physical address (in the CPU's current mode), as its x86 instructions
// beside the wasm text it became (JitCompiler.dump). The lockstep oracle's reports
// (machine/lockstep/pair.ts) and the web demo's JIT view read it; never a hot path.

import type { Block } from '../blocks.js';
import type { Cpu } from '../cpu.js';
import { CpuFault } from '../fault.js';
import { TLB_BITS } from '../../mmu/tlb.js';

/** What describe needs of the JIT's compiler (backend.ts JitCompiler). */
export interface CompiledCode {
  readonly compiled: readonly Block[];
  dump(b: Block, linear?: number): string;
}

/** The live compiled block holding physical address `phys` under the CPU's code key: one starting there first. */
export function compiledBlockAt(jit: CompiledCode, cpu: Cpu, phys: number): Block | null {
  let within: Block | null = null;
  for (const b of jit.compiled) {
    if (!b.valid || b.jit === null || b.codeKey !== cpu.codeKey) continue;
    if (b.phys === phys) return b;
    if (within === null && phys > b.phys && phys < b.phys + b.len) within = b;
  }
  return within;
}

/**
 * The translated region holding `phys`: its x86 disassembly (each instruction marked inline or
 * through the interpreter) and its wasm text; null where no compiled block holds it. `linear`
 * names the block's start in the listing when the caller knows where `phys` is mapped.
 */
export function describeRegion(jit: CompiledCode, cpu: Cpu, phys: number, linear?: number): string | null {
  const b = compiledBlockAt(jit, cpu, phys);
  if (b === null) return null;
  return jit.dump(b, linear === undefined ? undefined : linear - (phys - b.phys));
}

/** The physical address the CPU fetches linear `linear` from now, or null where that faults (nothing is delivered). */
export function codePhys(cpu: Cpu, linear: number): number | null {
  try {
    return cpu.translate(linear | 0, Math.floor(linear / 2 ** 32) | 0, cpu.planeX >> TLB_BITS);
  } catch (e) {
    if (e instanceof CpuFault) return null;
    throw e;
  }
}
