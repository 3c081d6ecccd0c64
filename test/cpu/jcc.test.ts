// Jcc reads conditions straight from the lazy-flag state in its fast path
// (cpu/exec.ts cond); every condition code after CMP/SUB/AND/ADD in 32- and
// 64-bit operand sizes must agree with the conditions computed from RFLAGS.
import { describe, expect, it } from 'vitest';
import { testCC } from '../../cpu/flags.js';
import { RAX, RBX, RCX } from '../../cpu/state.js';
import { Rig } from './harness.js';

const EDGES = ['0', '1', 'ffffffffffffffff', '7fffffffffffffff', '8000000000000000', '00000000ffffffff', '0000000080000000', '000000007fffffff', 'ffffffff00000000', '0000000100000000'];

function randHex(seed: number): string {
  let x = seed * 2654435761 >>> 0, s = '';
  for (let i = 0; i < 16; i++) { x = (x * 1103515245 + 12345) >>> 0; s += ((x >>> 16) & 15).toString(16); }
  return s;
}

describe('Jcc after flag-setting ALU ops agrees with RFLAGS for all 16 conditions', () => {
  for (const w of [false, true]) {
    it(`${w ? '64' : '32'}-bit cmp/sub/and/add`, () => {
      const t = new Rig(64);
      const ops = { cmp: 0x39, sub: 0x29, and: 0x21, add: 0x01 };
      const values = [...EDGES, ...Array.from({ length: 12 }, (_, i) => randHex(i + 1))];
      const bad: string[] = [];
      for (const [name, op] of Object.entries(ops)) {
        for (const a of values) for (const b of values.slice(0, 8)) for (let cc = 0; cc < 16; cc++) {
          // op rax,rbx; jcc +7; mov ecx,0; jmp +5; mov ecx,1  (then hlt)
          const code = [...(w ? [0x48] : []), op, 0xd8, 0x70 + cc, 0x07, 0xb9, 0, 0, 0, 0, 0xeb, 0x05, 0xb9, 1, 0, 0, 0];
          t.setHex(RAX, a); t.setHex(RBX, b);
          t.run(Uint8Array.from(code));
          const want = testCC(t.cpu.r32, cc) ? 1 : 0;
          if (t.reg32(RCX) !== want) bad.push(`${name} ${a},${b} cc=${cc}: jumped=${t.reg32(RCX)} want ${want}`);
        }
      }
      expect(bad.slice(0, 5)).toEqual([]);
    });
  }
});
