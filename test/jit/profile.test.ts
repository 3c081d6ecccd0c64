// The JIT's account of where instructions ran (cpu/jit/backend.ts counters, printed by
// bench/jit-profile.mjs): compiled, or interpreted because the block was still cold, queued or
// declined. Exact counts on a small guest, so a category that is miscounted fails.
import { describe, expect, it } from 'vitest';
import { EXIT_HALT } from '../../contracts/backend.js';
import { flatGuest } from '../cpu/bounded-guests.js';

describe('where instructions ran under jit', () => {
  it('a loop of mostly interpreted instructions is declined, and its instructions counted as declined; a loop of inline ones runs compiled', () => {
    // Threshold 3, not `all`. mov esi, 1000; L1: xor eax, eax; cpuid; cpuid; dec esi; jnz L1 (CPUID is never
    // inline: 3 inline to 2 stepped, declined); mov ecx, 1000; L2: add ebx, 1; dec ecx; jnz L2; hlt.
    const g = flatGuest(32, 4, 'jit', { threshold: 3, batch: 1, all: false });
    g.code('bee8030000 31c0 0fa2 0fa2 4e 75f7 b9e8030000 83c301 49 75fa f4');
    expect(g.b.run(100_000)).toBe(EXIT_HALT);
    expect(g.reg(3)).toBe(1000);
    const k = g.b.counters();
    // The entry block (mov esi and L1's first pass: 6); then L1 itself, 64 passes per dispatch: two
    // cold dispatches (640), the third declines it and runs the other 871 passes.
    expect(k.jitDeclined).toBe(1);
    expect(k.jitUnworthyInsns).toBe(871 * 5);
    // The block after L1 (mov ecx and L2's first pass: 4); L2 is queued and compiled at its third
    // dispatch, after a warm-up of two dispatches of 64 passes of 3, and runs the other 871 passes compiled.
    expect(k.jitWarmupInsns).toBe(2 * 64 * 3);
    expect(k.jitInsns).toBe(871 * 3);
    expect(k.jitRuns).toBe(1);
    // Cold: the entry block, L1's and L2's warm-ups, the block after L1, the HLT.
    expect(k.jitColdInsns).toBe(6 + 640 + 4 + 2 * 64 * 3 + 1);
    expect(k.jitQueuedInsns).toBe(0);
    expect(k.jitOutsideInsns).toBe(0);
    expect(k.instructions).toBe(6 + 999 * 5 + 4 + 999 * 3 + 1);
  });
});
