// Instruction time inside compiled code: a guest that reads the TSC, the ACPI PM timer, the
// HPET counter and the PIT in loops (test/guests/time-reads.S) under --deterministic sees, at
// every reading, the instructions retired before it (1 ns, one TSC tick each), under interp
// (blocks, self-loop passes) and under jit (regions, chain hops, the step import) alike, so
// both tiers read the same values. Before the run loop and cpu/exec.ts published the count per
// instruction, a reading inside a block saw the block's start and one inside a region its entry
// (rax 0x28e6 under interp against 0x287f under jit in a Linux delay loop, 335 M instructions into
// `node bench/lockstep-linux.mjs`).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bootRecipe } from '../../machine/boot.js';
import { Machine } from '../../machine/machine.js';
import { buildFlat, hasToolchain } from '../cpu/system-build.js';

const LOOP_OUT = 0x8000, LOOP_N = 300, TIGHT_OUT = 0x10000, TIGHT_N = 300;
/** Instructions per iteration of `loop` (20 there, 3 in `sub`), of `tight`, and from the loop's RDTSC to sub's. */
const LOOP_INSNS = 23, TIGHT_INSNS = 6, TO_SUB = 15;

interface Readings { tsc: number[]; subTsc: number[]; pm: number[]; hpet: number[]; pit: number[]; tight: number[]; insns: number; jit: Record<string, number> }

function run(accel: 'interp' | 'jit'): Readings {
  const image = buildFlat(readFileSync(new URL('../guests/time-reads.S', import.meta.url), 'utf8'), 0x100000);
  const m = new Machine({ memory: 16 << 20, accel, noReboot: true, deterministic: true, jit: { threshold: 2, batch: 1, all: true } });
  try {
    m.boot(bootRecipe({ raw: [{ file: { name: 'time-reads.bin', bytes: image }, addr: 0x100000 }] }));
    for (let k = 0; k < 1000 && !m.exited; k++) m.runSlice(20);
    expect(m.exited?.reason).toBe('isa-debug-exit: status 33');
    const q = (a: number): number => m.memory.read32(a) >>> 0;
    const r: Readings = { tsc: [], subTsc: [], pm: [], hpet: [], pit: [], tight: [], insns: m.instructions(), jit: m.backend.counters() };
    for (let k = 0; k < LOOP_N; k++) {
      const a = LOOP_OUT + 24 * k;
      r.tsc.push(q(a)); r.pm.push(q(a + 4)); r.hpet.push(q(a + 8)); r.pit.push(q(a + 12) & 0xffff); r.subTsc.push(q(a + 16));
    }
    for (let k = 0; k < TIGHT_N; k++) r.tight.push(q(TIGHT_OUT + 4 * k));
    return r;
  } finally {
    m.destroy();
  }
}

const deltas = (v: number[]): number[] => v.slice(1).map((x, k) => x - v[k]);

describe.skipIf(!hasToolchain())('instruction time seen by time sources (deterministic)', () => {
  const results = new Map<string, Readings>();
  for (const accel of ['interp', 'jit'] as const) {
    it(`${accel}: every TSC reading is the instructions retired before it`, () => {
      const r = run(accel);
      results.set(accel, r);
      expect(new Set(deltas(r.tsc))).toEqual(new Set([LOOP_INSNS]));
      expect(new Set(r.subTsc.map((t, k) => t - r.tsc[k]))).toEqual(new Set([TO_SUB]));
      expect(new Set(deltas(r.tight))).toEqual(new Set([TIGHT_INSNS]));
      // The clocks moved (the HPET at 100 MHz, the PM timer at 3.58 MHz, the PIT counting down).
      expect(r.hpet[LOOP_N - 1] - r.hpet[0]).toBeGreaterThan(600);
      expect(r.pm[LOOP_N - 1] - r.pm[0]).toBeGreaterThan(20);
      expect(new Set(r.pit).size).toBeGreaterThan(5);
      if (accel === 'jit') {
        expect(r.jit.jitRegions).toBeGreaterThanOrEqual(2);
        expect(r.jit.jitSharePct).toBeGreaterThan(90);
        expect(r.jit.jitChains).toBeGreaterThan(0);
      }
    });
  }

  it('interp and jit read the same values of every time source at the same instruction', () => {
    const a = results.get('interp') ?? run('interp'), b = results.get('jit') ?? run('jit');
    expect(b.insns).toBe(a.insns);
    for (const k of ['tsc', 'subTsc', 'pm', 'hpet', 'pit', 'tight'] as const) expect(b[k], k).toEqual(a[k]);
  });
});
