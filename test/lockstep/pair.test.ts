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
import { pairRandom } from './pair-random.js';
import { eagerJit } from './backends.js';

/** Instructions per mode here; `npm run test:differential` runs 1,000,000. */
const PER_MODE = Number(process.env.DIFFERENTIAL_PER_MODE ?? 20_000);

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

describe('a wrong backend is caught', () => {
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
