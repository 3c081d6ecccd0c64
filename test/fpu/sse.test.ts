// MMX and SSE..SSE4.2 (plus POPCNT/LZCNT/TZCNT/MOVBE/CRC32) against host vectors
// (tools/vectors/sse.c): each instruction form's records are decoded from their bytes,
// executed through the SSE definitions and compared bit for bit, MXCSR and EFLAGS included.

import { describe, expect, test } from 'vitest';
import { loadGroup } from './vectors.js';
import { replaySse } from './replay-sse.js';

for (const group of ['sse', 'mmx']) {
  describe(`${group} host vectors`, () => {
    const files = loadGroup(group);
    test(`the generator produced ${group} vectors`, () => {
      expect(files.length).toBeGreaterThan(group === 'sse' ? 200 : 50);
    });
    for (const f of files) {
      test(`${f.name}: ${f.count} host vectors match bit for bit`, () => {
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
