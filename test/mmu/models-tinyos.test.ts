// tinyos under the shadow model (the one representative that npm test runs; the
// whole matrix of models and guests is `npm run test:matrix`): the page-table
// workload sees every frame its PTEs name, and the shadow did real work.
import { describe, expect, it } from 'vitest';
import { runTinyos } from './tinyos-run.js';

describe('tinyos under --mmu=shadow', () => {
  it('aspace: 3 address spaces, CR3 switches, PTE swaps and unmaps: no stale translation; PT writes trapped, shadow roots reused', () => {
    const r = runTinyos('shadow', ['aspace 3 4', 'pf']);
    expect(r.transcript).toContain('aspace: 3 address spaces x 16 pages, 4 rounds: 12 CR3 loads, 384 page checks, 90 PTE swaps, 12 unmaps');
    expect(r.transcript).toContain('aspace: every page showed the frame its PTE names');
    expect(r.transcript).toContain('pf: the write completed; read back 0x736f796e6974 (ok)');
    const c = r.counters;
    // Each round's swaps and unmaps write PT entries: 2 writes per swap, 2 per unmap, all trapped.
    expect(c['shadow.ptWriteTraps']).toBeGreaterThanOrEqual(2 * 90 + 2 * 12);
    expect(c['shadow.trapDrops']).toBeGreaterThan(0);
    // 12 loads of 3 CR3 values plus the shell's: after the first round every switch finds its root.
    expect(c['shadow.cr3Hits']).toBeGreaterThanOrEqual(12 - 3);
    expect(c['shadow.cr3Misses']).toBeGreaterThanOrEqual(4);
    expect(c['shadow.walksWith4Refs']).toBeGreaterThan(0);
    expect(c['shadow.pagesInUse']).toBeGreaterThan(4);
  }, 300_000); // wall clock: about 100 s at load 25 on the shared 2-core machine
});
