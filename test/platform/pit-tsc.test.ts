// The PIT and the TSC under host time (issue 18 item 5): Linux's quick PIT calibration of the TSC
// (test/guests/pit-calibrate.S) calibrates, and measures 1 GHz, even when the host stalls on
// every poll (a test port whose read busy-waits, as a descheduled host thread would): the
// machine's clock (devices/clock.ts PacedClock) lets no instruction stand for more than a few
// hundred ns. The same guest on plain host time (RealtimeClock) fails, as Linux did.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BackendName } from '../../contracts/backend.js';
import { PacedClock, RealtimeClock, type Clock } from '../../devices/clock.js';
import { bootRecipe } from '../../machine/boot.js';
import { Machine } from '../../machine/machine.js';
import { buildFlat, hasToolchain } from '../cpu/system-build.js';

const RESULT = 0x8000;
/** PIT input clock (Hz). */
const PIT_HZ = 1_193_182;

interface Calibration { ok: boolean; steps: number; delta: number; error: number; mhz: number }

function calibrate(accel: BackendName, stallUs: number, clock?: Clock): Calibration {
  const image = buildFlat(readFileSync(new URL('../guests/pit-calibrate.S', import.meta.url), 'utf8'), 0x100000);
  const m = new Machine({ memory: 16 << 20, accel, noReboot: true, clock });
  m.bus.registerPorts('host-stall', 0xe0, 1, {
    portRead: () => { const end = performance.now() + stallUs / 1000; while (performance.now() < end) { /* the host is busy */ } return 0; },
    portWrite: () => {},
  });
  try {
    m.boot(bootRecipe({ raw: [{ file: { name: 'pit-calibrate.bin', bytes: image }, addr: 0x100000 }] }));
    const end = performance.now() + 60_000;
    while (!m.exited && performance.now() < end) m.runSlice(50);
    expect(m.exited?.reason).toBe('isa-debug-exit: status 33');
    const q = (a: number): number => m.memory.read32(RESULT + a) >>> 0;
    const steps = q(4), delta = q(8);
    // Linux: tsc_khz = delta * PIT_TICK_RATE / (i * 256 * 1000)
    return { ok: q(0) === 1, steps, delta, error: q(12), mhz: (delta * PIT_HZ) / (steps * 256) / 1e6 };
  } finally {
    m.destroy();
  }
}

describe.skipIf(!hasToolchain())('quick PIT calibration of the TSC under host time', () => {
  for (const accel of ['interp', 'jit'] as const) {
    it(`${accel}: calibrates at 1000 MHz with the host stalling 30 us on every poll`, () => {
      const c = calibrate(accel, 30);
      expect(c).toMatchObject({ ok: true });
      expect(c.error).toBeLessThan(c.delta / 2048);
      expect(c.mhz).toBeGreaterThan(999.5);
      expect(c.mhz).toBeLessThan(1000.5);
    });
  }

  it('on plain host time the same stalls make it fail (what Linux logged: "Fast TSC calibration failed")', () => {
    expect(calibrate('interp', 30, new RealtimeClock()).ok).toBe(false);
  });
});

describe('PacedClock', () => {
  afterEach(() => { vi.restoreAllMocks(); });

  it('a host pause between two instructions is cap x instructions of guest time, never made up later; idle time passes in full; no count (KVM): host time', () => {
    let hostMs = 1000, retired: number | null = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => hostMs);
    const c = new PacedClock(() => retired, 200);
    expect(c.now()).toBeCloseTo(0, 3);
    retired = 10; hostMs += 5; // 5 ms of host time for 10 instructions
    expect(c.now()).toBeCloseTo(2000, 3);
    retired = 1010; hostMs += 0.1; // the host is fast again: 1000 instructions in 100 us
    expect(c.now()).toBeCloseTo(2000 + 100_000, 3);
    c.idle();
    hostMs += 10; // 10 ms halted
    expect(c.now()).toBeCloseTo(102_000 + 10e6, 3);
    hostMs += 1; // still halted: readings in between do not end the idle time
    expect(c.now()).toBeCloseTo(11_102_000, 3);
    retired = 1015; hostMs += 2; // woken, 5 instructions: paced again
    expect(c.now()).toBeCloseTo(11_103_000, 3);
    hostMs += 1; // running, no instruction retired since: time stands
    expect(c.now()).toBeCloseTo(11_103_000, 3);
    retired = null; hostMs += 3; // KVM
    expect(c.now()).toBeCloseTo(11_103_000 + 3e6, 3);
  });
});
