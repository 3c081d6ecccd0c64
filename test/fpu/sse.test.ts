// MMX and SSE..SSE4.2 (plus POPCNT/LZCNT/TZCNT/MOVBE/CRC32) against host vectors
// (tools/vectors/sse.c): each instruction form's records are decoded from their bytes,
// executed through the SSE definitions and compared bit for bit, MXCSR and EFLAGS included.

import { describe, expect, test } from 'vitest';
import { loadGroup } from './vectors.js';
import { replaySse, isApprox } from './replay-sse.js';
import { approxMismatch } from './host.js';

const approxSkip = approxMismatch();
if (approxSkip) console.log(`sse.test: RCP/RSQRT vectors checked against the architectural bound, not bit for bit: ${approxSkip}`);

for (const group of ['sse', 'mmx']) {
  describe(`${group} host vectors`, () => {
    const files = loadGroup(group);
    test(`the generator produced ${group} vectors`, () => {
      expect(files.length).toBeGreaterThan(group === 'sse' ? 200 : 50);
    });
    for (const f of files) {
      const bound = approxSkip !== null && isApprox(`${f.name} `);
      test(`${f.name}: ${f.count} host vectors ${bound ? 'within the architectural error bound (bits are model-specific)' : 'match bit for bit'}`, () => {
        const r = replaySse(f);
        expect(r.report, `${r.fail} of ${f.count} differ`).toEqual([]);
      });
    }
  });
}

test('at least 50,000 host vectors across x87, MMX and SSE..SSE4.2 are replayed', () => {
  const total = ['x87', 'sse', 'mmx'].reduce((n, g) => n + loadGroup(g).reduce((m, f) => m + f.count, 0), 0);
  expect(total).toBeGreaterThanOrEqual(50_000);
});
