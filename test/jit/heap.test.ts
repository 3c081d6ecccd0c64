// The JIT's heap stays bounded while compiled code keeps dying (cpu/jit/entry.ts): V8 keeps
// every instance that imports the region table alive as long as the table lives, so the JIT
// drops the table with all compiled code once its dead modules outnumber the live ones.
// bench/jit-heap.ts (in a child process under --expose-gc) compiles a module per guest function
// and drops it at the next write to its page; the heap after a full GC is sampled as the
// modules go by.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

interface HeapRun { sumOk: boolean; heapBeforeMB: number; heapAfterMB: number; samples: [number, number][]; jitModules: number; jitTableDrops: number }

function heapRun(count: number, deadModules: number): HeapRun {
  const script = fileURLToPath(new URL('../../bench/jit-heap.mjs', import.meta.url));
  const out = execFileSync(process.execPath, [script, String(count), String(deadModules)], { encoding: 'utf8', timeout: 120_000 });
  return JSON.parse(out.trim().split('\n').pop()!) as HeapRun;
}

describe('JIT heap under dying code', () => {
  it('2,000 modules compiled and dropped: the table is dropped along the way and the heap stays flat', () => {
    const r = heapRun(2000, 128);
    expect(r.sumOk).toBe(true);
    expect(r.jitModules).toBeGreaterThanOrEqual(2000);
    expect(r.jitTableDrops).toBeGreaterThanOrEqual(6);
    const first = r.samples[0][1], last = r.samples[r.samples.length - 1][1];
    expect(last - first).toBeLessThan(1);
    expect(r.heapAfterMB - r.heapBeforeMB).toBeLessThan(4);
  }, 120_000);

  it('with the table never dropped, 1,000 dead modules hold on to several MB (what the bound above catches)', () => {
    const r = heapRun(1000, Infinity);
    expect(r.sumOk).toBe(true);
    expect(r.jitTableDrops).toBe(0);
    expect(r.heapAfterMB - r.heapBeforeMB).toBeGreaterThan(4);
  }, 120_000);
});
