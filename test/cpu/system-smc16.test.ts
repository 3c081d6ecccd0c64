// Self-modifying real-mode code under several CS bases (issue 19 item 9): system-smc16.S patches
// routines into buffers and calls them, 200 times, through CS bases 0x7C00, 0x9000, 0x8F10 and
// 0x18F00. One routine's 32-bit-displacement JNZ is decoded first at offset 0xFFF0, where its
// target lies past the 64 KiB CS limit, and then taken at offset 0 under another CS base: the
// decoded block (cached by physical address) must check the target from RIP then. It used to
// fault there at once (#GP, and with a handler that returns, again and again).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bootRecipe } from '../../machine/boot.js';
import { Machine } from '../../machine/machine.js';
import { buildFlat, hasToolchain } from './system-build.js';

const RESULT = 0x6000, PASSES = 200;

describe.skipIf(!hasToolchain())('real-mode code patched and called through several CS bases (system-smc16.S)', () => {
  const image = buildFlat(readFileSync(new URL('./system-smc16.S', import.meta.url), 'utf8'), 0x7c00);
  const accel = process.env.EMU_TEST_ACCEL === 'jit' ? 'jit' : 'interp';
  const machine = new Machine({ memory: 16 << 20, accel, deterministic: true, noReboot: true });
  machine.boot(bootRecipe({ raw: [{ file: { name: 'system-smc16', bytes: image }, addr: 0x7c00 }] }));
  const m = machine.memory;
  for (let i = 0; i < 200 && m.read16(RESULT + 4) !== 0x600d && m.read16(RESULT + 6) === 0 && !machine.exited; i++) machine.runSteps(1);
  const counters = machine.backend.counters();

  it('no #GP: the branch decoded near the CS limit is taken inside the limit under the other CS base', () => {
    expect(m.read16(RESULT + 6)).toBe(0);
  });

  it('every pass ran and every patched immediate was seen: BX = 4 x (200 + 199 + ... + 1) mod 2^16', () => {
    expect(m.read16(RESULT + 4)).toBe(0x600d);
    expect(m.read16(RESULT)).toBe(PASSES);
    expect(m.read16(RESULT + 2)).toBe((4 * (PASSES * (PASSES + 1)) / 2) & 0xffff);
  });

  it('the work stays bounded: a few blocks dropped per patch, no faults, a few thousand instructions per 200 passes', () => {
    expect(counters.faults).toBe(0);
    expect(counters.blockInvalidations).toBeLessThan(10 * PASSES);
    expect(counters.instructions).toBeLessThan(50 * PASSES);
  });
});
