// RCPPS/RSQRTPS against the host for every mantissa: tools/vectors/approx-tables.c --dump runs
// all 2^23 mantissas (RSQRT: at an odd and at an even exponent) through the host CPU, and each
// goes through the interpreter's RCPPS/RSQRTPS. Exact only on the CPU the tables describe.

import { describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StateView } from '../../cpu/state.js';
import { vecViews, xmmOff } from '../../cpu/sse/vec.js';
import { approxF } from '../../cpu/sse/float.js';
import { approxMismatch } from './host.js';

const MANTISSAS = 1 << 23;
const BOUND = 1.5 * 2 ** -12; // Intel SDM / AMD APM: |relative error| <= 1.5 * 2^-12
const x = vecViews(StateView.detached().u8.buffer, 0);
const SRC = xmmOff(3), DST = xmmOff(2);

/** The input the dump used for mantissa m in part 0 (RCP), 1 (RSQRT, odd exp), 2 (RSQRT, even exp). */
function dumpInput(part: number, m: number): number {
  const h = Math.imul(m, 2654435761) >>> 24;
  if (part === 0) return ((((h & 1) << 31) | ((1 + (h % 254)) << 23) | m) >>> 0);
  return (((1 + 2 * (h % 127) + (part === 2 ? 1 : 0)) << 23) | m) >>> 0;
}

/** The host's answers, in the dump's order (3 * 2^23 words). */
function hostDump(): Uint32Array {
  const src = fileURLToPath(new URL('../../tools/vectors/approx-tables.c', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'emu-approx-'));
  try {
    execFileSync('gcc', ['-O2', '-msse2', '-w', '-o', join(dir, 'approx'), src], { stdio: 'pipe' });
    const out = execFileSync(join(dir, 'approx'), ['--dump', '-'], { maxBuffer: 3 * MANTISSAS * 4 + 1024 });
    expect(out.length).toBe(3 * MANTISSAS * 4);
    return new Uint32Array(out.buffer, out.byteOffset, out.length / 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const skip = approxMismatch();
if (skip) console.log(`approx.test: exhaustive host comparison skipped: ${skip}`);

describe('RCPPS/RSQRTPS on every mantissa', () => {
  test.skipIf(skip !== null)('every float32 mantissa through RCPPS and RSQRTPS (both exponent parities) gives the host CPU\'s bits', () => {
    const host = hostDump();
    const names = ['rcpps', 'rsqrtps (odd exponent)', 'rsqrtps (even exponent)'];
    const bad: string[] = [];
    let compared = 0;
    for (let part = 0; part < 3; part++) {
      for (let m = 0; m < MANTISSAS; m += 4) {
        for (let k = 0; k < 4; k++) x.u32[(SRC >> 2) + k] = dumpInput(part, m + k);
        approxF(x, DST, SRC, 4, part > 0);
        for (let k = 0; k < 4; k++) {
          const got = x.u32[(DST >> 2) + k], want = host[part * MANTISSAS + m + k];
          if (got !== want && bad.length < 5) bad.push(`${names[part]} ${dumpInput(part, m + k).toString(16)}: ${got.toString(16)} want ${want.toString(16)}`);
          compared++;
        }
      }
    }
    expect(bad).toEqual([]);
    expect(compared).toBe(3 * MANTISSAS);
  }, 60_000);

  test('every table entry is within the architectural 1.5 * 2^-12 of 1/x and 1/sqrt(x) over its whole input interval', () => {
    let worst = 0;
    for (let part = 0; part < 3; part++) {
      for (let i = 0; i < 4096; i++) {
        const e = part === 2 ? 128 : 127;
        x.u32[SRC >> 2] = ((e << 23) | (i << 11)) >>> 0;
        approxF(x, DST, SRC, 1, part > 0);
        const r = x.f32[DST >> 2];
        // both ends of the inputs that share this answer (the result is monotonic between them)
        for (const v of [2 ** (e - 127) * (1 + i / 4096), 2 ** (e - 127) * (1 + (i + 1) / 4096)]) {
          const err = Math.abs((part ? r * Math.sqrt(v) : r * v) - 1);
          worst = Math.max(worst, err);
        }
      }
    }
    expect(worst).toBeLessThanOrEqual(BOUND);
    expect(worst).toBeGreaterThan(2 ** -13); // a 12-bit approximation, not an exact quotient
  });
});
