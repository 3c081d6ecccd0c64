// What the oracle treats as undefined, per instruction (Intel SDM Vol. 2, "Flags Affected"): the
// instruction's row's facts (cpu/table.ts U_*), decoded by the CPU's own decoder.

import { describe, expect, it } from 'vitest';
import { FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF } from '../../cpu/state.js';
import { undefinedBy } from '../../machine/lockstep/flags.js';

const u = (bytes: number[], size: 2 | 4 | 8 = 4, cl = 0) => {
  const code = new Uint8Array(16);
  code.set(bytes);
  return undefinedBy(code, size, cl);
};

describe('undefined results per instruction', () => {
  it('IMUL r32, r/m32 leaves SF ZF AF PF undefined; ADD leaves nothing undefined', () => {
    expect(u([0x0f, 0xaf, 0xc1]).flags).toBe(FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF);
    expect(u([0x01, 0xc8]).flags).toBe(0);
  });

  it('shifts: count 0 changes nothing, count 1 leaves AF, larger counts AF and OF; rotates never AF', () => {
    expect(u([0xd3, 0xe0], 4, 0).flags).toBe(0); // shl eax, cl with CL = 0
    expect(u([0xd1, 0xe0]).flags).toBe(FLAG_AF); // shl eax, 1
    expect(u([0xc1, 0xe0, 0x05]).flags).toBe(FLAG_AF | FLAG_OF); // shl eax, 5
    expect(u([0xc1, 0xe0, 0x20]).flags).toBe(0); // count masked to 0 in 32-bit
    expect(u([0x48, 0xc1, 0xe0, 0x20], 8).flags).toBe(FLAG_AF | FLAG_OF); // 64-bit: 32 is a real count
    expect(u([0xc1, 0xc0, 0x03]).flags).toBe(FLAG_OF); // rol eax, 3
  });

  it('DIV leaves all six arithmetic flags undefined; TEST/AND/OR/XOR leave AF', () => {
    expect(u([0xf7, 0xf1]).flags).toBe(FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF);
    expect(u([0x85, 0xc0]).flags).toBe(FLAG_AF);
    expect(u([0x83, 0xe0, 0x0f]).flags).toBe(FLAG_AF); // and eax, 15
    expect(u([0x83, 0xc0, 0x0f]).flags).toBe(0); // add eax, 15
  });

  it('BSF r, r/m: flags but ZF undefined, and the destination when the source is zero; TZCNT (F3) defines all', () => {
    const bsf = u([0x0f, 0xbc, 0xd1]); // bsf edx, ecx
    expect(bsf.flags).toBe(FLAG_CF | FLAG_OF | FLAG_SF | FLAG_AF | FLAG_PF);
    expect(bsf.gprIfZeroSource).toBe(2);
    expect(u([0xf3, 0x0f, 0xbc, 0xd1]).flags).toBe(0);
  });

  it('SHLD/SHRD: a count above the operand size leaves the flags and a register destination undefined', () => {
    expect(u([0x0f, 0xa4, 0xc8, 0x01]).flags).toBe(FLAG_AF); // shld eax, ecx, 1
    expect(u([0x0f, 0xa5, 0xc8], 4, 8).flags).toBe(FLAG_AF | FLAG_OF); // shld eax, ecx, cl = 8
    const big = u([0x66, 0x0f, 0xac, 0xca, 0x11]); // shrd dx, cx, 17
    expect(big.flags).toBe(FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF);
    expect(big.gprAlways).toBe(2);
    expect(u([0x0f, 0xac, 0x0a, 0x11]).gprAlways).toBe(-1); // shrd [edx], ecx, 17: a memory destination
  });

  it('the prefixes, the mode and the opcode map select the row: 16-bit code, REX, and what is #UD defines nothing', () => {
    expect(u([0x81, 0xc9, 0x01, 0x00], 2).flags).toBe(FLAG_AF); // or cx, 1 (16-bit immediate)
    expect(u([0x41, 0x0f, 0xbc, 0xc8], 8).gprIfZeroSource).toBe(1); // bsf ecx, r8d: REX.B names the source, not the destination
    expect(u([0x44, 0x0f, 0xbc, 0xc8], 8).gprIfZeroSource).toBe(9); // bsf r9d, eax: REX.R
    expect(u([0x37], 4).flags).toBe(FLAG_OF | FLAG_SF | FLAG_ZF | FLAG_PF); // AAA
    expect(u([0x37], 8)).toEqual({ flags: 0, gprIfZeroSource: -1, gprAlways: -1, hostGprs: 0 }); // #UD in 64-bit mode
    expect(u([0x0f, 0xba, 0xc0, 0x01]).flags).toBe(0); // 0F BA /0 is #UD
    expect(u([0x0f, 0xba, 0xe0, 0x01]).flags).toBe(FLAG_OF | FLAG_SF | FLAG_AF | FLAG_PF); // bt eax, 1
  });

  it('CPUID and RDTSC results come from the host, not the ISA', () => {
    expect(u([0x0f, 0xa2]).hostGprs).toBe(0b1111);
    expect(u([0x0f, 0x31]).hostGprs).toBe(0b0101);
    expect(u([0x0f, 0x01, 0xf9]).hostGprs).toBe(0b0111);
  });
});
