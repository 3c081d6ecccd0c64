// The lockstep report shows the translated region where interp and jit part: a JIT whose
// compiled code leaves one wrong bit (an injected divergence) is caught, and the report
// carries that region's x86 disassembly beside the wasm text it became
// (JitBackend.describeRegion, cpu/jit/describe.ts).

import { describe, expect, it } from 'vitest';
import type { CpuHost } from '../../contracts/backend.js';
import type { Block } from '../../cpu/blocks.js';
import { FULL_EXTENSIONS, createInterpreter } from '../../cpu/full.js';
import { JitBackend } from '../../cpu/jit/backend.js';
import { pairRandom } from './pair-random.js';

const W_RSI = 6 * 2;

/** The JIT with every block compiled on its first dispatch (so a replay from a checkpoint runs it again), whose compiled code flips bit 0 of RSI after every run. */
class TamperedJit extends JitBackend {
  constructor(host: CpuHost) { super(host, [...FULL_EXTENSIONS], { threshold: 1, batch: 1, all: true }); }
  protected override runBlock(b: Block, n: number, passes: number, left: number): number {
    const done = super.runBlock(b, n, passes, left);
    if (b.jit !== null && done > 0) this.cpu.r32[W_RSI] ^= 1;
    return done;
  }
}

describe('lockstep report: the translated region', () => {
  it('an injected divergence in compiled code is reported with the region\'s x86 and its wasm text', () => {
    const r = pairRandom(32, 1e5, ['interp', 'jit'], createInterpreter, (h) => new TamperedJit(h), { fpEighths: 0 });
    expect(r.divergences).toHaveLength(1);
    const d = r.divergences[0];
    expect(d.diffs.some((l) => l.startsWith('rsi'))).toBe(true);
    expect(d.translated).not.toBeNull();
    const t = d.translated!;
    // Side B's compiled block: its header, its instructions (each inline or stepped), then the function.
    expect(t).toMatch(/^jit: block at 0x[0-9a-f]+ \(physical 0x[0-9a-f]+\), \d+ instructions/);
    expect(t).toMatch(/\n {2}0x[0-9a-f]+ {2}\S.* (inline|interpreter \(step\))\n/);
    expect(t).toContain('(func (param $base i32) (param $limit i32) (param $entry i32) (param $done i32) (result i32)');
    expect(t).toMatch(/\n\s+(i32|i64)\.(load|store|add|const)/);
    expect(d.report).toContain("translated code holding the window's first instruction:");
    expect(d.report).toContain('(func (param $base i32)');
    // Bisected to one instruction of that block (the flipped bit shows right after it).
    expect(d.window).toBe(1);
    const m = /^jit: block at 0x([0-9a-f]+) \(physical 0x[0-9a-f]+\), \d+ instructions, (\d+) bytes/.exec(t)!;
    expect(d.rip).toBeGreaterThanOrEqual(parseInt(m[1], 16));
    expect(d.rip).toBeLessThan(parseInt(m[1], 16) + Number(m[2]));
  });

  it('the same JIT untampered: no divergence', () => {
    const r = pairRandom(64, 2000, ['interp', 'jit'], createInterpreter, (h) => new JitBackend(h, [...FULL_EXTENSIONS], { threshold: 2, batch: 1, all: true }), { fpEighths: 0 });
    expect(r.divergences).toEqual([]);
  });
});
