// x87 instructions against vectors the host CPU produced (tools/vectors/x87.c): every
// instruction form replays its records through x87Exec and must match FSW, tags,
// registers, EFLAGS and stored bytes exactly.

import { describe, expect, test } from 'vitest';
import { loadGroup } from './vectors.js';
import { replayX87 } from './replay-x87.js';
import { HARD_CASE_OPS } from './hardcase.js';

/**
 * The transcendentals (FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X, FYL2XP1): the host's
 * microcode is not correctly rounded. Where the exact result lies within this many ulps of a
 * rounding boundary its internal error decides the last bit and C1; everywhere else the
 * results must be bit for bit. On this project's AMD host the largest such distance seen
 * was 0.127 ulp over 320,000 vectors from four seeds (VEC_SEED, VEC_SCALE=20).
 */
const HARD_CASE_ULP = 0.25;

describe('x87 host vectors', () => {
  const files = loadGroup('x87');
  test('the generator produced x87 vectors', () => {
    expect(files.length).toBeGreaterThan(100);
  });
  for (const f of files) {
    if (HARD_CASE_OPS.has(f.name)) {
      test(`x87 ${f.name}: ${f.count} host vectors bit for bit, apart from results within 1/4 ulp of a rounding boundary`, () => {
        const r = replayX87(f, 5, HARD_CASE_ULP);
        expect(r.report, `${r.fail} of ${f.count} differ`).toEqual([]);
        console.log(`x87 ${f.name}: ${f.count - r.hard} of ${f.count} bit for bit; ${r.hard} hard cases (exact result at most ${r.hardMax.toFixed(3)} ulp from a boundary) differ by one ulp or C1`);
        // tiny FPTAN arguments (tan x = x to far below an ulp) are most of FPTAN's hard cases
        expect(r.hard).toBeLessThan(f.count * (f.name === 'D9F2' ? 0.25 : 0.05));
      });
      continue;
    }
    test(`x87 ${f.name}: ${f.count} host vectors match bit for bit`, () => {
      const r = replayX87(f);
      expect(r.report, `${r.fail} of ${f.count} differ`).toEqual([]);
    });
  }
});
