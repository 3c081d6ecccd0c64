// The no-KVM oracle (machine/lockstep/pair.ts): the interpreter against the JIT finds
// nothing over random programs, and a backend with one wrong instruction is
// caught at that instruction, with its disassembly.

import { describe, expect, it } from 'vitest';
import type { CpuHost } from '../../contracts/backend.js';
import { createInterpreter } from '../../cpu/full.js';
import { InterpBackend } from '../../cpu/interp.js';
import { SYSTEM_EXTENSION } from '../../cpu/system/extension.js';
import { FPU_EXTENSION } from '../../cpu/fpu/extension.js';
import { row } from '../../cpu/table.js';
import { sti } from '../../cpu/system/io.js';
import { pairRandom } from './pair-random.js';
import { eagerJit } from './backends.js';

/** Instructions per mode here; `npm run test:differential` runs 1,000,000. */
const PER_MODE = Number(process.env.DIFFERENTIAL_PER_MODE ?? 20_000);

/** Armed instructions per mode here (issue 19's interrupt windows with a source armed). */
const ARMED_PER_MODE = Number(process.env.DIFFERENTIAL_PER_MODE ?? 10_000);

/**
 * An interpreter whose STI does not end its block after the next instruction (the row without
 * F_SHADOW): an interrupt waits for the block's end, as before issue 19 (a deliberately wrong backend).
 */
const stiMidBlock = (host: CpuHost): InterpBackend =>
  new InterpBackend(host, [{ rows: [row('fb', 'sti', () => sti)] }, SYSTEM_EXTENSION, FPU_EXTENSION]);

/** An interpreter whose CMC does nothing (a deliberately wrong backend). */
const brokenCmc = (host: CpuHost): InterpBackend =>
  new InterpBackend(host, [SYSTEM_EXTENSION, FPU_EXTENSION, { rows: [row('f5', 'cmc', () => () => {})] }]);

describe('lockstep interp,jit over random programs', () => {
  for (const mode of [16, 32, 64] as const) {
    it(`${mode}-bit: no divergence in ${PER_MODE} instructions, a good share of them run as wasm`, () => {
      let translated = 0, all = 0;
      const jit: typeof eagerJit = (host) => {
        const b = eagerJit(host);
        const destroy = b.destroy.bind(b);
        b.destroy = () => { const c = b.counters(); translated += c.jitInsns; all += c.instructions; destroy(); };
        return b;
      };
      const r = pairRandom(mode, PER_MODE, ['interp', 'jit'], createInterpreter, jit);
      for (const d of r.divergences) console.log(d.report);
      expect(r.divergences).toEqual([]);
      expect(r.instructions).toBeGreaterThanOrEqual(PER_MODE);
      expect(translated / all).toBeGreaterThan(0.2);
    });
  }
});

describe('lockstep interp,jit over random programs with an interrupt always pending', () => {
  // STI, CLI, POPF, IRET and MOV SS / POP SS mixed in, a self-IPI pending at the local APIC from
  // the start and sent again by its handler, which returns with IF clear (test/lockstep/gen-armed.ts):
  // every window a program opens takes an interrupt, at the boundary the SDM names.
  for (const mode of [16, 32, 64] as const) {
    it(`${mode}-bit: no divergence in ${ARMED_PER_MODE} instructions, interrupts taken in the windows`, () => {
      const r = pairRandom(mode, ARMED_PER_MODE, ['interp', 'jit'], createInterpreter, eagerJit, { windows: 'armed' });
      for (const d of r.divergences) console.log(d.report);
      expect(r.divergences).toEqual([]);
      expect(r.instructions).toBeGreaterThanOrEqual(ARMED_PER_MODE);
      expect(r.interrupts).toBeGreaterThan(20);
    });
  }
});

describe('a wrong backend is caught', () => {
  it('an STI that lets its block run on: caught with the source armed (the interrupt comes late), not without', () => {
    const armed = pairRandom(32, 1e5, ['interp', 'sti-mid-block'], createInterpreter, stiMidBlock, { windows: 'armed', fpEighths: 0 });
    expect(armed.divergences).toHaveLength(1);
    expect(armed.instructions).toBeLessThan(1e5);
    const quiet = pairRandom(32, armed.instructions, ['interp', 'sti-mid-block'], createInterpreter, stiMidBlock, { windows: true, fpEighths: 0 });
    expect(quiet.divergences).toEqual([]);
  });

  it('a CMC that does nothing: the divergence is bisected to that CMC, with CF named', () => {
    const r = pairRandom(32, 1e6, ['interp', 'broken'], createInterpreter, brokenCmc, { fpEighths: 0 });
    expect(r.divergences).toHaveLength(1);
    const d = r.divergences[0];
    expect(d.window).toBe(1);
    expect(d.disassembly).toMatch(/: cmc$/);
    expect(d.diffs.some((l) => l.startsWith('rflags'))).toBe(true);
    expect(d.report).toContain('divergence after');
    expect(d.report).toContain(`at instruction ${d.at + 1}`);
  });
});
