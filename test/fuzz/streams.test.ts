// The short fuzz run (issue 20): three thousand random streams across the four modes;
// no run() call throws or stalls. `npm run fuzz` runs the long one.
import { describe, expect, it } from 'vitest';
import { formatReport, fuzz } from './streams.js';

describe('random instruction streams cannot hurt the host', () => {
  it('3,000 streams in real, 32-bit, paged 32-bit and 64-bit mode: every run() returns, nothing throws', () => {
    const r = fuzz({ seed: 1, count: 3_000, budget: 2_000, runs: 3, stallMs: 5_000 });
    expect(r.problems, formatReport(r)).toEqual([]);
    expect(r.streams).toBe(3_000);
    // The streams do reach the interesting paths.
    expect(r.faults).toBeGreaterThan(5_000);
    expect(r.instructions).toBeGreaterThan(500_000);
  }, 600_000);
});
