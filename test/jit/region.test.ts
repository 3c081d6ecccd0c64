// Regions (cpu/jit/region.ts, codegen.ts): control flow between the blocks of one region, and
// the stack's page cache (cpu/jit/access.ts), each under jit against the interpreter.
import { describe, expect, it } from 'vitest';
import { EXIT_HALT } from '../../contracts/backend.js';
import type { JitBackend } from '../../cpu/jit/backend.js';
import { GDTR_LIMIT, SS } from '../../cpu/state.js';
import { GDT, HANDLER, LOG, flatGuest } from '../cpu/bounded-guests.js';
import { CODE, Rig, STACK_TOP } from '../cpu/harness.js';
import { DATA_DOWN, VEC_SS, expectFault, le32, seg } from '../cpu/segment-rig.js';

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

describe.each(['interp', 'jit'] as const)('a region under a CS limit (%s)', (accel) => {
  it('32-bit code segment with a 64 KiB limit: a block cached through one CS base, reached near the limit through another, does not fall through past it', () => {
    // Threshold 3: the hot block P compiles with its fall-through Q into one region while CS 0x28 runs them.
    const g = flatGuest(32, 4, accel, { threshold: 3 });
    const L0 = 0x20000;
    // GDT 0x28: code, base L0, limit 0xffff; 0x30: code, base L0 - 0xffc0 (P ends at offset 0xffff, Q starts past it).
    const code32 = (base: number): [number, number] => [((base & 0xffff) << 16) | 0xffff, ((base >>> 16) & 0xff) | 0x409a00 | (base & 0xff000000)];
    [...code32(L0), ...code32(L0 - 0xffc0)].forEach((v, i) => g.mem.write32(GDT + 0x28 + 4 * i, v));
    g.s.setU32(GDTR_LIMIT, 0x37);
    g.b.setState(g.s.snapshot());
    // CODE: mov ecx, 5; jmp far 0x28:0. L0: P = 64 NOPs (cut at 64 instructions); Q: dec ecx; jnz L0; jmp far 0x30:0xffc0.
    g.code('b905000000 ea000000002800');
    g.code(`${'90'.repeat(64)} 49 75bd eac0ff00003000`, L0);
    // #GP: log the pushed EIP and CS, then halt.
    g.code(`58 58 a3${le32(LOG)} 58 a3${le32(LOG + 4)} f4`, HANDLER);
    g.gate(13, HANDLER);
    let calls = 0;
    while (g.b.run(10_000) !== EXIT_HALT) expect(++calls).toBeLessThan(10);
    expect([g.mem.read32(LOG), g.mem.read32(LOG + 4)]).toEqual([0x10000, 0x30]);
    expect(g.reg(1)).toBe(0); // Q's DEC never ran under CS 0x30
    if (accel === 'jit') expect(g.b.counters().jitBlocks).toBeGreaterThan(0);
  });
});
