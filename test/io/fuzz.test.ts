// The short run of test/io/fuzz.ts (the long one: npm run fuzz:io, 10,000 of each).
import { describe, expect, it } from 'vitest';
import { fuzzAta, fuzzVirtio } from './fuzz.js';

const CASES = Number(process.env.EMU_FUZZ_CASES ?? 1500);

describe('a guest can hurt only itself: random rings and ATA sequences', () => {
  it(`${CASES} random virtqueues at virtio-blk/-rng/-console: no host exception, nothing written past RAM, some break the device, some complete`, () => {
    const r = fuzzVirtio(CASES);
    expect(r.errors.slice(0, 3)).toEqual([]);
    expect(r.cases).toBe(CASES);
    expect(r.broken).toBeGreaterThan(CASES / 10);
    expect(r.completed).toBeGreaterThan(0);
  }, 600_000);

  it(`${CASES} random ATA register/command/PRD sequences at the IDE controller: no host exception, nothing written past RAM`, () => {
    const r = fuzzAta(CASES);
    expect(r.errors.slice(0, 3)).toEqual([]);
    expect(r.cases).toBe(CASES);
    expect(r.broken).toBeGreaterThan(0);
  }, 600_000);
});
