// Regions (cpu/jit/region.ts, codegen.ts): control flow between the blocks of one region, and
// the stack's page cache (cpu/jit/access.ts), each under jit against the interpreter.
import { describe, expect, it } from 'vitest';
import { EXIT_HALT } from '../../contracts/backend.js';
import type { JitBackend } from '../../cpu/jit/backend.js';
import { GDTR_LIMIT, SS } from '../../cpu/state.js';
import { CODE as GUEST_CODE, GDT, HANDLER, LOG, flatGuest } from '../cpu/bounded-guests.js';
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

describe('chaining between regions (cpu/jit/chain.ts)', () => {
  // CODE: mov ecx, N; mov esi, F2; L: call F1 (another page); call esi (indirect); [mov byte [F2], 0x29 when ECX = N/2]; dec ecx; jnz L; hlt.
  // F1 (0x4000): add eax, 3; ret. F2 (0x5000): add ebx, eax; ret (rewritten to sub ebx, eax half way).
  const F1 = 0x4000, F2 = 0x5000, N = 1000;
  const program = (g: ReturnType<typeof flatGuest>): void => {
    // L (10): e8 rel32; ff d6; 81 f9 imm32 (cmp ecx, N/2); 75 08 (jne +8); c6 04 25 F2 29 (absolute in both modes); ff c9; 75 e5 (jnz L); f4
    g.code(`b9${le32(N)} be${le32(F2)} e8${le32(F1 - (CODE + 15))} ffd6 81f9${le32(N / 2)} 7508 c60425${le32(F2)}29 ffc9 75e5 f4`);
    g.code('83c003 c3', F1);
    g.code('01c3 c3', F2);
  };
  const finish = (g: ReturnType<typeof flatGuest>): void => {
    let calls = 0;
    while (g.b.run(10_000) !== EXIT_HALT) expect(++calls).toBeLessThan(20);
  };
  for (const mode of [32, 64] as const) {
    it(`${mode}-bit: calls to another page, an indirect call and the RETs go region to region without the run loop, with the interpreter's result; a write to a callee's code is seen`, () => {
      const a = flatGuest(mode, 4, 'interp'), b = flatGuest(mode, 4, 'jit', { threshold: 2, batch: 1 }), off = flatGuest(mode, 4, 'jit', { threshold: 2, batch: 1, chain: false });
      for (const g of [a, b, off]) { program(g); finish(g); }
      // EBX: 3 + 6 + ... up to the rewrite, then subtracted.
      let ebx = 0;
      for (let i = 1; i <= N; i++) ebx = i <= N / 2 + 1 ? ebx + 3 * i : ebx - 3 * i;
      expect(a.reg(3)).toBe(ebx >>> 0);
      for (const g of [b, off]) {
        expect([0, 1, 2, 3, 6].map((n) => g.reg(n))).toEqual([0, 1, 2, 3, 6].map((n) => a.reg(n)));
        expect(g.rip()).toBe(a.rip());
      }
      const on = b.b.counters(), no = off.b.counters();
      expect(on.instructions).toBe(a.b.counters().instructions);
      expect(on.jitChains).toBeGreaterThan(3 * N);
      expect(no.jitChains).toBe(0);
      expect(on.jitRuns * 20).toBeLessThan(no.jitRuns);
    });
  }

  it('a chain stops at the entry\'s limit: run(n) retires exactly n', () => {
    const g = flatGuest(32, 4, 'jit', { threshold: 2, batch: 1 });
    program(g);
    let total = 0;
    for (const n of [1001, 777, 333, 4500, 555]) { // 7,166 of the program's ~10,000
      g.b.run(n);
      total += n;
      expect(g.b.counters().instructions).toBe(total);
    }
    expect(g.b.counters().jitChains).toBeGreaterThan(100);
  });
});

describe('a block in several regions', () => {
  it('enters the larger: P compiled alone at its first dispatch moves to the region of Q (Q and P) compiled after it', () => {
    const g = flatGuest(32, 4, 'jit');
    // CODE: mov ecx, 5; jmp P. P (0x2000): 64 NOPs (a block cut at 64 instructions); Q: dec ecx; jnz P; hlt.
    g.code(`b905000000 e9${le32(0x2000 - (GUEST_CODE + 10))}`);
    g.code(`${'90'.repeat(64)} 49 75bd f4`, 0x2000);
    let calls = 0;
    while (g.b.run(10_000) !== EXIT_HALT) expect(++calls).toBeLessThan(10);
    expect(g.reg(1)).toBe(0);
    const compiled = (g.b as JitBackend).jit.compiled;
    const p = compiled.find((b) => b.phys === 0x2000)!, q = compiled.find((b) => b.phys === 0x2040)!;
    expect(q.jit!.blocks.map((b) => b.phys)).toEqual([0x2040, 0x2000]);
    expect(p.jit).toBe(q.jit);
    expect(p.jitEntry).toBe(1);
  });
});
