// The lockstep oracle over random instruction streams: KVM against another
// backend (the interpreter) in 16-, 32- and 64-bit mode, counting checked
// instructions and printing the first divergence of each mode.
// Run with `node bench/kvm-lockstep-run.mjs [instructions per mode] [program length]`.

import type { Backend, CpuHost } from '../cpu/backend.js';
import { createInterpreter } from '../cpu/full.js';
import { GuestMemory } from '../mmu/memory.js';
import { KvmBackend } from '../accel-kvm/kvm-backend.js';
import { nestedKvmWarning } from '../accel-kvm/addon.js';
import { busHost } from '../machine/bus-host.js';
import { runLockstep, type Divergence } from '../machine/lockstep.js';
import { generateProgram, loadProgram, WRITABLE, type GenMode } from '../machine/lockstep-gen.js';

export { nestedKvmWarning };

const host = (memory: GuestMemory): CpuHost => busHost(memory);

export interface ModeResult {
  mode: GenMode;
  programs: number;
  instructions: number;
  /** Steps after which an undefined (or host-defined) result was taken from KVM. */
  synced: number;
  divergences: Divergence[];
}

/**
 * Random programs of `length` instruction groups until `total` instructions
 * were compared in `mode`; stops collecting after `maxDivergences`.
 */
export function lockstepRandom(mode: GenMode, total: number, length: number, maxDivergences = 1,
  makeOther: (h: CpuHost) => Backend = createInterpreter): ModeResult {
  const bcd = !(nestedKvmWarning()?.includes('kvm_pvm') ?? false);
  const out: ModeResult = { mode, programs: 0, instructions: 0, synced: 0, divergences: [] };
  const memA = new GuestMemory(2 << 20), memB = new GuestMemory(2 << 20);
  const kvm = new KvmBackend(host(memA));
  try {
    for (let seed = 1; out.instructions < total && out.divergences.length < maxDivergences; seed++) {
      memA.clearRam();
      const s = loadProgram(memA, mode, generateProgram(mode, length, seed * 7919 + mode, { bcd }), seed);
      kvm.setState(s.snapshot());
      const other = makeOther(host(memB));
      try {
        const r = runLockstep({ backend: kvm, memory: memA }, { backend: other, memory: memB }, { watch: WRITABLE, fullMemoryEvery: 0 });
        out.programs++;
        out.instructions += r.steps;
        out.synced += r.undefinedSynced;
        if (r.divergence) out.divergences.push(r.divergence);
        else if (r.end !== 'halt') throw new Error(`program ${seed} (${mode}-bit) ended with ${r.end}`);
      } finally {
        other.destroy();
      }
    }
  } finally {
    kvm.destroy();
  }
  return out;
}
