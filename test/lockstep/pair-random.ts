// Random programs on two in-process backends (the no-KVM oracle, machine/lockstep/pair.ts):
// the same program and entry state in two memories, compared every `every` instructions and
// bisected to the first differing instruction. Used by test/lockstep/pair.test.ts and by
// `npm run test:differential` (bench/differential-run.mjs) for the long runs.

import type { Backend, CpuHost } from '../../contracts/backend.js';
import { GuestMemory } from '../../mmu/memory.js';
import { busHost } from '../../machine/bus-host.js';
import { runPair, type PairDivergence } from '../../machine/lockstep/pair.js';
import { generate, loadProgram, WRITABLE, type GenMode } from './gen.js';
import { armedHost } from './gen-armed.js';
import type { Lapic } from '../../devices/lapic.js';
import { fpFeatures } from './gen-fp.js';

export type MakeBackend = (host: CpuHost) => Backend;

export interface PairRandomOptions {
  /** Instruction groups per program (default 300). */
  length?: number;
  /** Passes over each program (default 3; see GenOptions.repeat). */
  repeat?: number;
  /** Instructions per comparison (default 256). */
  every?: number;
  /** Stop collecting after this many divergent programs (default 1). */
  maxDivergences?: number;
  /** Share of x87/SSE groups, in eighths (default 2; 0: integer only). */
  fpEighths?: number;
  /** First seed (default 1): each program's seed follows from it. */
  seed?: number;
  /** The interrupt-window group, and with 'armed' an interrupt always pending (GenOptions.windows). */
  windows?: boolean | 'armed';
}

export interface PairModeResult {
  mode: GenMode;
  programs: number;
  instructions: number;
  /** Interrupts the first side took (windows: 'armed'). */
  interrupts: number;
  divergences: PairDivergence[];
}

/** CPUID leaf 1 EDX of the interpreter's model: FPU, MMX, FXSR, SSE, SSE2 (what the generator may use). */
const FP_ALL = fpFeatures((1 << 0) | (1 << 23) | (1 << 24) | (1 << 25) | (1 << 26));

/**
 * Random programs in `mode` until `total` instructions were compared between backends
 * `a` and `b` (names `names`); every program must end in its HLT with no difference.
 */
export function pairRandom(mode: GenMode, total: number, names: readonly [string, string], a: MakeBackend, b: MakeBackend,
  opts: PairRandomOptions = {}): PairModeResult {
  const out: PairModeResult = { mode, programs: 0, instructions: 0, interrupts: 0, divergences: [] };
  const memA = new GuestMemory(2 << 20), memB = new GuestMemory(2 << 20);
  const fpEighths = opts.fpEighths ?? 2;
  const fp = fpEighths > 0 ? FP_ALL : undefined;
  for (let seed = opts.seed ?? 1; out.instructions < total && out.divergences.length < (opts.maxDivergences ?? 1); seed++) {
    const windows = opts.windows ?? false, armed = windows === 'armed';
    const g = generate(mode, opts.length ?? 300, seed * 7919 + mode, { fp, fpEighths, repeat: opts.repeat ?? 3, windows });
    const lapics: Lapic[] = [];
    const sides = [memA, memB].map((memory, i) => {
      memory.clearRam();
      const s = loadProgram(memory, mode, g.code, seed, fp !== undefined, armed);
      const host = armed ? armedHost(memory) : busHost(memory);
      if (armed) lapics.push((host as ReturnType<typeof armedHost>).lapic);
      const backend = (i === 0 ? a : b)(host);
      backend.setState(s.snapshot());
      return { name: names[i], backend, memory };
    });
    try {
      // A replay from a checkpoint would not restore the APIC: armed runs are not bisected.
      const checkpoint = armed ? undefined : WRITABLE;
      const r = runPair(sides[0], sides[1], { every: opts.every ?? 256, watch: WRITABLE, checkpoint, fullMemoryEvery: 0, maxInstructions: 1e7 });
      out.programs++;
      out.instructions += r.instructions;
      out.interrupts += lapics[0]?.stats.delivered ?? 0;
      if (r.divergence) out.divergences.push(r.divergence);
      else if (r.end !== 'halt') throw new Error(`program ${seed} (${mode}-bit) ended with ${r.end}`);
    } finally {
      for (const s of sides) s.backend.destroy();
    }
  }
  return out;
}
