// Regions (cpu/jit/region.ts, codegen.ts): control flow between the blocks of one region, and
// the stack's page cache (cpu/jit/access.ts), each under jit against the interpreter.
import { describe, expect, it } from 'vitest';
import { EXIT_HALT } from '../../contracts/backend.js';
import type { JitBackend } from '../../cpu/jit/backend.js';
import { SS } from '../../cpu/state.js';
import { CODE, Rig, STACK_TOP } from '../cpu/harness.js';
import { DATA_DOWN, VEC_SS, expectFault, seg } from '../cpu/segment-rig.js';

/** GPRs 0-7 (low 32 bits) and RIP. */
const regs = (t: Rig): number[] => [...Array.from({ length: 8 }, (_, n) => t.reg32(n)), t.rip()];

describe('control flow inside a region', () => {
  for (const mode of [32, 64] as const) {
    it(`${mode}-bit: a call/ret loop (three blocks: forward CALL, predicted RET, JNZ back) runs in compiled code, as under interp`, () => {
      const w = mode === 64 ? '48' : '', hlt = mode === 64 ? 21 : 20;
      // mov ecx, 1000; mov ebx, 3; L (10): call F; sub ecx, 1; jnz L; hlt; F: add eax, ebx; ret
      const code = `b9e8030000 bb03000000 e8${mode === 64 ? '07' : '06'}000000 ${w}83e901 75${mode === 64 ? 'f5' : 'f6'} f4 ${w}01d8 c3`;
      const a = new Rig(mode, [], 'interp'), b = new Rig(mode, [], 'jit');
      expect(a.run(code)).toBe(EXIT_HALT);
      expect(b.run(code)).toBe(EXIT_HALT);
      expect(regs(b)).toEqual(regs(a));
      expect(b.reg32(0)).toBe(3000);
      expect(b.rip()).toBe(CODE + hlt + 1); // past the HLT
      expect(Buffer.from(b.mem.u8.subarray(STACK_TOP - 16, STACK_TOP))).toEqual(Buffer.from(a.mem.u8.subarray(STACK_TOP - 16, STACK_TOP)));
      const k = (b.backend as JitBackend).counters();
      expect(k.jitInsns).toBeGreaterThan(4900);
      expect(k.jitRuns).toBeLessThan(20);
    });
  }
});

describe('the stack page cache', () => {
  it('is not used while the stack is not flat: a PUSH loop down an expand-down SS faults at its limit, as under interp', () => {
    // mov [0x7f000], ebx (the page is in the TLB's write plane); mov ecx, 2000; L: push eax; dec ecx; jnz L
    const code = '891d00f00700 b9d0070000 50 49 75fc';
    for (const accel of ['interp', 'jit'] as const) {
      const t = new Rig(32, [], accel);
      seg(t, SS, 0, 0x7f000, DATA_DOWN | 0x4000); // B = 1: offsets 0x7f001..0xffffffff
      expectFault(t, code, VEC_SS, 11);
      expect(t.reg32(4), accel).toBe(0x7f004);
      expect(t.reg32(1), accel).toBe(2000 - 1023);
    }
  });
});
