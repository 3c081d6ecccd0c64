// The host CPU as the oracle for the x87/SSE instructions this KVM host cannot
// single-step (kvm_pvm steps through KVM's emulator, which knows only the moves):
// random x87/SSE programs from seeded NaN/denormal/infinity/full-stack states end
// in the same ST/XMM registers, FCW/FSW/FTW/MXCSR, GPRs, flags and memory natively
// and in the interpreter. Needs an x86-64 Linux host with gcc; skips otherwise.

import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeCheck } from '../../bench/kvm-lockstep-native.js';
import { FX_XMM0 } from '../../cpu/state.js';

function buildRunner(): string | null {
  if (process.arch !== 'x64' || process.platform !== 'linux') return null;
  try {
    const runner = join(mkdtempSync(join(tmpdir(), 'emu-native-')), 'runner');
    execFileSync('gcc', ['-O1', '-o', runner, join(__dirname, '../../bench/kvm-lockstep-native.c')], { stdio: 'pipe' });
    return runner;
  } catch {
    return null;
  }
}

const runner = buildRunner();
if (!runner) console.log('test/kvm/lockstep-native skipped: needs an x86-64 Linux host with gcc');

describe.skipIf(runner === null)('interpreter vs the host CPU on x87/SSE programs', () => {
  it('3000 random x87/SSE/SSE2 instructions (64-bit) end in the host CPU\'s state', () => {
    const r = nativeCheck(runner as string, 100, 30);
    for (const rep of r.reports) console.log(rep);
    expect(r.reports).toEqual([]);
    expect(r.instructions).toBe(3000);
  });

  it('the comparison is live: programs whose entry XMM registers the interpreter sees altered are each reported at instruction 1', () => {
    const r = nativeCheck(runner as string, 5, 30, 5, (s) => { for (let n = 0; n < 16; n++) s.u8[FX_XMM0 + 16 * n] ^= 1; });
    expect(r.reports.length).toBe(5);
    // One instruction writes at most one XMM register: the others still differ after it.
    for (const rep of r.reports) expect(rep).toMatch(/: instruction 1 \(.*\) ends differently:\n[\s\S]*  xmm\d+: host /);
  });
});
