// The lockstep oracle over random instruction streams: KVM against another
// backend (the interpreter) in 16-, 32- and 64-bit mode, counting checked
// instructions and printing the first divergence of each mode.
// Run with `node bench/kvm-lockstep-run.mjs [instructions per mode] [program length]`.

import type { Backend, CpuHost } from '../contracts/backend.js';
import { createInterpreter } from '../cpu/full.js';
import { GuestMemory } from '../mmu/memory.js';
import { KvmBackend } from '../accel-kvm/kvm-backend.js';
import { cpuidEntries } from '../cpu/cpuid.js';
import { nestedKvmWarning } from '../accel-kvm/addon.js';
import { busHost } from '../machine/bus-host.js';
import { runLockstep, type Divergence } from '../machine/lockstep/kvm.js';
import { generate, loadProgram, WRITABLE, type GenMode } from '../test/lockstep/gen.js';
import { fpFeatures } from '../test/lockstep/gen-fp.js';
import { armedHost, armLapic } from '../test/lockstep/gen-armed.js';

export { nestedKvmWarning };

const host = (memory: GuestMemory): CpuHost => busHost(memory);

export interface ModeResult {
  mode: GenMode;
  programs: number;
  instructions: number;
  /** Of those, x87/SSE instructions. */
  fpInstructions: number;
  /** Steps after which an undefined (or host-defined) result was taken from KVM. */
  synced: number;
  /** Interrupts KVM's side took (windows: 'armed'). */
  interrupts: number;
  divergences: Divergence[];
}

/**
 * Random programs of `length` instruction groups until `total` instructions
 * were compared in `mode`; stops collecting after `maxDivergences`. `fpEighths`
 * of the groups are x87/SSE instructions of the classes the vCPU's CPUID has (0: integer only);
 * `windows` mixes in STI, CLI, POPF, IRET and MOV SS / POP SS (test/lockstep/gen.ts); 'armed' also
 * keeps an interrupt pending at a local APIC on each side (test/lockstep/gen-armed.ts).
 */
export function lockstepRandom(mode: GenMode, total: number, length: number, maxDivergences = 1,
  makeOther: (h: CpuHost) => Backend = createInterpreter, fpEighths = 4, windows: boolean | 'armed' = false): ModeResult {
  const pvm = nestedKvmWarning()?.includes('kvm_pvm') ?? false, bcd = !pvm;
  const out: ModeResult = { mode, programs: 0, instructions: 0, fpInstructions: 0, synced: 0, interrupts: 0, divergences: [] };
  const memA = new GuestMemory(2 << 20), memB = new GuestMemory(2 << 20);
  const armed = windows === 'armed';
  const hostA = armed ? armedHost(memA) : null;
  const kvm = new KvmBackend(hostA ?? host(memA), { cpuid: cpuidEntries(0) });
  const leaf1 = kvm.cpuid.find((e) => e.leaf === 1);
  // kvm_pvm single-steps through KVM's instruction emulator: only the x87/SSE moves it implements.
  const fp = fpEighths > 0 && leaf1 ? { ...fpFeatures(leaf1.edx), emulatedOnly: !bcd } : undefined;
  try {
    for (let seed = 1; out.instructions < total && out.divergences.length < maxDivergences; seed++) {
      memA.clearRam();
      const g = generate(mode, length, seed * 7919 + mode, { bcd, fp, fpEighths, windows, iret: !pvm });
      const s = loadProgram(memA, mode, g.code, seed, fp !== undefined, armed);
      kvm.setState(s.snapshot());
      if (hostA) armLapic(hostA.lapic);
      const other = makeOther(armed ? armedHost(memB) : host(memB));
      const delivered0 = hostA?.lapic.stats.delivered ?? 0;
      try {
        const r = runLockstep({ backend: kvm, memory: memA }, { backend: other, memory: memB }, { watch: WRITABLE, fullMemoryEvery: 0 });
        out.programs++;
        out.instructions += r.steps;
        if (r.end === 'halt') out.fpInstructions += g.fpInstructions;
        out.synced += r.undefinedSynced;
        out.interrupts += (hostA?.lapic.stats.delivered ?? 0) - delivered0;
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
