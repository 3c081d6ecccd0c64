// FNSTENV/FLDENV and FNSAVE/FRSTOR images in every mode and operand size, run as guest code
// through the interpreter: the four layouts of Intel SDM Vol. 1 Figures 8-9..8-12 (protected or
// real-address format by mode, 16 or 32 bits by operand size), byte-exact, and round trips.

import { describe, expect, test } from 'vitest';
import { EXIT_HALT } from '../../contracts/backend.js';
import { FPU_EXTENSION } from '../../cpu/fpu/extension.js';
import {
  ATTR_DB, ATTR_G, ATTR_P, ATTR_S, CR0, CR0_NE, CS, DS, ES, FLAG_VM, FS, FX_FCW, FX_FDP, FX_FIP, FX_FOP, FX_FSW, FX_FTW,
  GS, RBX, RFLAGS, RIP, RUN_RUNNING, RUN_STATE, SEG_ATTR, SEG_BASE, SEG_LIMIT, SEG_SEL, SS, segOffset,
} from '../../cpu/state.js';
import { Rig, hex } from '../cpu/harness.js';

type Mode = 'real' | 'vm86' | 'prot16' | 'prot32' | 'long64';

/**
 * Every program runs at CS:IP = 1F00:1000 (linear 0x20000) with its operand at DS:BX =
 * 3000:0010 (linear 0x30010) in real and virtual-8086 mode, so the 20-bit linear pointers
 * have non-zero bits 19..16 (2 and 3). Protected modes use the same linear addresses with a
 * code segment based at 0x1F000 (16-bit and 32-bit code); 16-bit code addresses [bx] in a data
 * segment based at 0x30000, 32-bit and 64-bit code [ebx]/[rbx] = 0x30010 in a flat one.
 */
const CODE_LIN = 0x20000, CS_BASE = 0x1f000, IP = 0x1000;
const DS_BASE = 0x30000, BX = 0x0010, OPERAND = 0x30010;
/** Where the programs put images, relative to the operand: A (FNSTENV), B, C (FNSAVE), D. */
const A = 0x20, B = 0x60, C = 0x100, D = 0x200;
const IMAGE = OPERAND + A;

interface Cpu16 { r: Rig; mode: Mode }

function seg(r: Rig, n: number, sel: number, base: number, limit: number, attr: number): void {
  const o = segOffset(n);
  r.state.setU32(o + SEG_SEL, sel);
  r.state.setU32(o + SEG_ATTR, attr);
  r.state.setU32(o + SEG_LIMIT, limit);
  r.state.set64(o + SEG_BASE, base, 0);
}

const addr16 = (mode: Mode): boolean => mode === 'real' || mode === 'vm86' || mode === 'prot16';

function cpuIn(mode: Mode): Cpu16 {
  const r = new Rig(mode === 'real' ? 16 : mode === 'long64' ? 64 : 32, [FPU_EXTENSION]);
  const code16 = ATTR_P | ATTR_S | 0xb, data16 = ATTR_P | ATTR_S | 0x3;
  if (mode === 'real' || mode === 'vm86') {
    const dpl3 = mode === 'vm86' ? 3 << 5 : 0;
    seg(r, CS, CS_BASE >>> 4, CS_BASE, 0xffff, code16 | dpl3);
    for (const n of [DS, ES, SS, FS, GS]) seg(r, n, DS_BASE >>> 4, DS_BASE, 0xffff, data16 | dpl3);
    if (mode === 'vm86') r.state.set64(RFLAGS, 0x2 | FLAG_VM, 0);
  } else if (mode === 'prot16') {
    seg(r, CS, 0x08, CS_BASE, 0xffff, code16);
    seg(r, DS, 0x10, DS_BASE, 0xffff, data16);
  } else if (mode === 'prot32') {
    seg(r, CS, 0x08, CS_BASE, 0xffffffff, code16 | ATTR_DB | ATTR_G);
  }
  r.set(RBX, addr16(mode) ? BX : OPERAND);
  r.state.set64(CR0, r.state.lo(CR0) | CR0_NE, 0);
  r.backend.setState(r.state.snapshot());
  return { r, mode };
}

/** Run `code` from linear 0x20000 until HLT (in virtual-8086 mode HLT is #GP, which ends the run too). */
function run(x: Cpu16, code: string, wantVector = -1): void {
  const r = x.r;
  r.mem.writeBytes(CODE_LIN, hex(code + 'f4'));
  r.state.set64(RIP, x.mode === 'long64' ? CODE_LIN : IP, 0);
  r.cpu.r32[RUN_STATE / 4] = RUN_RUNNING;
  r.cpu.lastEvent = null;
  r.backend.invalidateCode();
  const exit = r.backend.run(10_000);
  const vector = r.backend.cpu.lastEvent?.vector ?? -1;
  if (wantVector >= 0) expect(vector).toBe(wantVector);
  else if (x.mode === 'vm86') expect(vector).toBe(13);
  else { expect(vector).toBe(-1); expect(exit).toBe(EXIT_HALT); }
}

const bytesAt = (x: Cpu16, addr: number, n: number): number[] => Array.from(x.r.mem.u8.slice(addr, addr + n));
const le16 = (...ws: number[]): number[] => ws.flatMap((w) => [w & 0xff, (w >>> 8) & 0xff]);
const le32 = (...ds: number[]): number[] => ds.flatMap((d) => [d & 0xff, (d >>> 8) & 0xff, (d >>> 16) & 0xff, d >>> 24]);
const hexBytes = (bs: number[]): string => bs.map((b) => b.toString(16).padStart(2, '0')).join(' ');

/** ModRM (+ displacement) for [bx+disp16] in 16-bit addressing, [ebx+disp32] / [rbx+disp32] otherwise. */
function mem(mode: Mode, reg: number, disp: number): string {
  return addr16(mode) ? hexBytes([0x80 | (reg << 3) | 7, ...le16(disp)]) : hexBytes([0x80 | (reg << 3) | 3, ...le32(disp)]);
}
const fnstenv = (x: Cpu16, p: string, disp: number): string => `${p} d9 ${mem(x.mode, 6, disp)}`;
const fldenv = (x: Cpu16, p: string, disp: number): string => `${p} d9 ${mem(x.mode, 4, disp)}`;
const fnsave = (x: Cpu16, p: string, disp: number): string => `${p} dd ${mem(x.mode, 6, disp)}`;
const frstor = (x: Cpu16, p: string, disp: number): string => `${p} dd ${mem(x.mode, 4, disp)}`;

// The state every layout test captures: FNINIT (FCW 037F), FLD1, FLD m32 2.0 at [bx]/[ebx]:
// two pushes (TOP = 6, FSW 3000), ST0 = 2.0 in physical register 6 and ST1 = 1.0 in register 7
// (full tags 00 = valid, the other six 11 = empty: tag word 0FFF). The last non-control
// instruction is the FLD m32 at IP 1004: escape D9 and ModRM 87 ([bx+disp16]) or 83
// ([ebx+disp32]), so FOP = 1_87 or 1_83.
const FCW = 0x037f, FSW = 0x3000, FTW = 0x0fff;
const TWO = 0x40000000;
const FOP16 = 0x187, FOP32 = 0x183;

function captured(mode: Mode, prefix: string): Cpu16 {
  const x = cpuIn(mode);
  x.r.mem.write32(OPERAND, TWO);
  run(x, `db e3 d9 e8 d9 ${mem(mode, 0, 0)} ${fnstenv(x, prefix, A)}`);
  return x;
}

describe('FNSTENV layouts (SDM Vol. 1 Figures 8-9 to 8-12)', () => {
  test('real mode, 16-bit (Figure 8-12): IP 15..0, IP 19..16 | 0 | opcode, operand 15..0, operand 19..16 | 0', () => {
    const x = captured('real', '');
    // FIP = 1F000 + 1004 = 0x20004 (bits 19..16 = 2), FDP = 30000 + 10 = 0x30010 (bits 19..16 = 3).
    expect(bytesAt(x, IMAGE, 14)).toEqual(le16(FCW, FSW, FTW, 0x0004, (0x2 << 12) | FOP16, 0x0010, 0x3 << 12));
  });
  test('real mode, 32-bit with 66h (Figure 8-11): pointer bits 31..16 sit in bits 27..12 beside the opcode', () => {
    const x = captured('real', '66');
    // Reserved upper halves are stored as ones, as in the protected-mode 32-bit format.
    expect(bytesAt(x, IMAGE, 28)).toEqual(le32(
      0xffff0000 | FCW, 0xffff0000 | FSW, 0xffff0000 | FTW,
      0xffff0000 | 0x0004, (0x0002 << 12) | FOP16,
      0xffff0000 | 0x0010, 0x0003 << 12));
  });
  test('virtual-8086 mode uses the real-address formats, 16- and 32-bit', () => {
    expect(bytesAt(captured('vm86', ''), IMAGE, 14)).toEqual(le16(FCW, FSW, FTW, 0x0004, 0x2000 | FOP16, 0x0010, 0x3000));
    expect(bytesAt(captured('vm86', '66'), IMAGE, 28)).toEqual(bytesAt(captured('real', '66'), IMAGE, 28));
  });
  test('protected mode, 16-bit code (Figure 8-10): IP offset, CS selector, operand offset, DS selector', () => {
    // FIP is the offset 1004 (not CS.base + IP), FDP the offset 0010 in DS (base 30000);
    // selectors are not kept and read as 0; the 16-bit protected format has no opcode.
    expect(bytesAt(captured('prot16', ''), IMAGE, 14)).toEqual(le16(FCW, FSW, FTW, 0x1004, 0, 0x0010, 0));
  });
  test('protected mode, 32-bit code (Figure 8-9): opcode in bits 26..16 beside the CS selector', () => {
    expect(bytesAt(captured('prot32', ''), IMAGE, 28)).toEqual(le32(
      0xffff0000 | FCW, 0xffff0000 | FSW, 0xffff0000 | FTW, 0x1004, FOP32 << 16, OPERAND, 0xffff0000));
  });
  test('operand size picks the format: 66h gives the 16-bit layout in 32-bit code and the 32-bit one in 16-bit code', () => {
    expect(bytesAt(captured('prot32', '66'), IMAGE, 14)).toEqual(le16(FCW, FSW, FTW, 0x1004, 0, OPERAND & 0xffff, 0));
    expect(bytesAt(captured('prot16', '66'), IMAGE, 28)).toEqual(le32(
      0xffff0000 | FCW, 0xffff0000 | FSW, 0xffff0000 | FTW, 0x1004, FOP16 << 16, 0x0010, 0xffff0000));
  });
  test('64-bit mode: REX.W changes nothing (28-byte protected layout); 66h gives 14 bytes', () => {
    const plain = bytesAt(captured('long64', ''), IMAGE, 28);
    expect(bytesAt(captured('long64', '48'), IMAGE, 28)).toEqual(plain);
    expect(plain).toEqual(le32(0xffff0000 | FCW, 0xffff0000 | FSW, 0xffff0000 | FTW, CODE_LIN + 4, FOP32 << 16, OPERAND, 0xffff0000));
    expect(bytesAt(captured('long64', '66'), IMAGE, 14)).toEqual(le16(FCW, FSW, FTW, (CODE_LIN + 4) & 0xffff, 0, OPERAND & 0xffff, 0));
  });
  test('protected mode with a based DS: FDP is the offset in the segment, not the linear address', () => {
    const x = cpuIn('prot32');
    seg(x.r, DS, 0x10, DS_BASE, 0xffff, ATTR_P | ATTR_S | 0x3 | ATTR_DB);
    x.r.backend.setState(x.r.state.snapshot());
    x.r.set(RBX, BX);
    x.r.mem.write32(OPERAND, TWO);
    run(x, `db e3 d9 e8 d9 ${mem('prot32', 0, 0)} ${fnstenv(x, '', A)}`);
    expect(bytesAt(x, DS_BASE + BX + A + 20, 4)).toEqual(le32(BX));
  });
  test('FNSTENV stores the control word as it was, then masks all exceptions', () => {
    const x = cpuIn('prot32');
    x.r.mem.write16(OPERAND + 4, 0x0340);
    run(x, `d9 ${mem('prot32', 5, 4)} ${fnstenv(x, '', A)}`); // fldcw [ebx+4]; fnstenv [ebx+0x20]
    expect(bytesAt(x, IMAGE, 2)).toEqual(le16(0x0340));
    expect(x.r.state.u32(FX_FCW) & 0xffff).toBe(0x037f);
  });
});

describe('FNSAVE images', () => {
  test('real mode, 16-bit: 94 bytes, the 14-byte environment then ST0..ST7 as 80-bit values; FPU reinitialised', () => {
    const x = captured('real', '');
    run(x, fnsave(x, '', C));
    const img = bytesAt(x, OPERAND + C, 94);
    expect(img.slice(0, 14)).toEqual(le16(FCW, FSW, FTW, 0x0004, 0x2000 | FOP16, 0x0010, 0x3000));
    // ST0 = 2.0 (exponent 0x4000, significand 8000000000000000), ST1 = 1.0 (0x3FFF).
    expect(img.slice(14, 24)).toEqual([0, 0, 0, 0, 0, 0, 0, 0x80, 0x00, 0x40]);
    expect(img.slice(24, 34)).toEqual([0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f]);
    expect(x.r.state.u32(FX_FCW) & 0xffff).toBe(0x037f);
    expect(x.r.state.u32(FX_FSW) & 0xffff).toBe(0);
    expect(x.r.mem.u8[x.r.mem.stateOffset + FX_FTW]).toBe(0);
  });
  test('protected mode, 32-bit code: 108 bytes; with 66h: 94 (ST0 right after the environment, ST7 last)', () => {
    for (const [p, n] of [['', 108], ['66', 94]] as const) {
      const x = cpuIn('prot32');
      x.r.mem.u8.fill(0xcc, OPERAND + C, OPERAND + C + 120);
      run(x, `d9 e8 ${fnsave(x, p, C)}`); // fld1; fnsave
      expect(bytesAt(x, OPERAND + C + n - 80, 10)).toEqual([0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f]); // ST0 = 1.0
      expect(bytesAt(x, OPERAND + C + n - 10, 11)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xcc]); // ST7 = +0, then untouched
    }
  });
});

describe('FLDENV loads each layout back', () => {
  test('real mode, 16-bit: a hand-built image sets FCW, FSW, tags, the 20-bit pointers and the opcode', () => {
    const x = cpuIn('real');
    // FCW 0272, FSW 3800 (TOP 7), tags: register 7 valid, rest empty (3FFF), FIP 0x54321
    // (IP 19..16 = 5), FOP 0x5AB, FDP 0xABCDE (operand 19..16 = A).
    x.r.mem.writeBytes(IMAGE, new Uint8Array(le16(0x0272, 0x3800, 0x3fff, 0x4321, (0x5 << 12) | 0x5ab, 0xbcde, 0xa << 12)));
    run(x, fldenv(x, '', A));
    expect(x.r.state.u32(FX_FCW) & 0xffff).toBe(0x0272);
    expect(x.r.state.u32(FX_FSW) & 0xffff).toBe(0x3800);
    expect(x.r.mem.u8[x.r.mem.stateOffset + FX_FTW]).toBe(0x80);
    expect(x.r.state.u32(FX_FIP)).toBe(0x54321);
    expect(x.r.state.u32(FX_FOP) & 0xffff).toBe(0x5ab);
    expect(x.r.state.u32(FX_FDP)).toBe(0xabcde);
  });
  test('real mode, 32-bit: 32-bit linear pointers from the split fields', () => {
    const x = cpuIn('real');
    x.r.mem.writeBytes(IMAGE, new Uint8Array(le32(0x037f, 0, 0xffff, 0x5678, (0x1234 << 12) | 0x7ff, 0x4321, 0x8765 << 12)));
    run(x, fldenv(x, '66', A));
    expect(x.r.state.u32(FX_FIP)).toBe(0x12345678);
    expect(x.r.state.u32(FX_FOP) & 0xffff).toBe(0x7ff);
    expect(x.r.state.u32(FX_FDP)).toBe(0x87654321);
  });
  test('protected 16-bit: offsets load, the opcode (not in the image) is kept; protected 32-bit: opcode from bits 26..16', () => {
    const x = cpuIn('prot32');
    x.r.mem.writeBytes(IMAGE, new Uint8Array(le16(0x037f, 0, 0xffff, 0xbeef, 0x0008, 0xcafe, 0x0010)));
    x.r.state.setU32(FX_FOP, 0x123);
    run(x, fldenv(x, '66', A));
    expect(x.r.state.u32(FX_FIP)).toBe(0xbeef);
    expect(x.r.state.u32(FX_FDP)).toBe(0xcafe);
    expect(x.r.state.u32(FX_FOP) & 0xffff).toBe(0x123);
    x.r.mem.writeBytes(IMAGE, new Uint8Array(le32(0x037f, 0, 0xffff, 0x12345678, (0x456 << 16) | 8, 0x9abcdef0, 0x10)));
    run(x, fldenv(x, '', A));
    expect(x.r.state.u32(FX_FIP)).toBe(0x12345678);
    expect(x.r.state.u32(FX_FOP) & 0xffff).toBe(0x456);
    expect(x.r.state.u32(FX_FDP)).toBe(0x9abcdef0);
  });
  test('the full tag word: "empty" empties a register, any other tag is recomputed from its contents', () => {
    const x = captured('prot32', ''); // ST0 = 2.0 (register 6), ST1 = 1.0 (register 7)
    // The image claims register 6 "zero" (01) and register 7 empty (11): register 6 holds 2.0 and
    // reads back valid (00); register 7 is now empty, so FXAM on it (after FINCSTP) says empty.
    const env = bytesAt(x, IMAGE, 28);
    env[8] = 0xff; env[9] = 0xdf; // tag word DFFF
    x.r.mem.writeBytes(OPERAND + B, new Uint8Array(env));
    // fldenv B; fincstp; fxam; fnstsw ax; fdecstp; fnstenv A
    run(x, `${fldenv(x, '', B)} d9 f7 d9 e5 df e0 d9 f6 ${fnstenv(x, '', A)}`);
    expect(x.r.reg32(0) & 0x4500).toBe(0x4100); // empty: C3 = 1, C2 = 0, C0 = 1
    expect(bytesAt(x, IMAGE + 8, 2)).toEqual(le16(0xcfff)); // register 7 empty (11), register 6 valid (00)
  });
  test('an image with a pending unmasked exception: the next waiting instruction takes #MF (CR0.NE=1)', () => {
    const x = cpuIn('prot32');
    // FCW 037B (ZE unmasked), FSW 8084 (B, ES, ZE).
    x.r.mem.writeBytes(IMAGE, new Uint8Array(le32(0x037b, 0x8084, 0xffff, 0, 0, 0, 0)));
    run(x, `${fldenv(x, '', A)} d9 d0`, 16); // fnop waits -> #MF
  });
});

describe('round trips FNSTENV -> FLDENV -> FNSTENV and FNSAVE -> FRSTOR -> FNSAVE', () => {
  const modes: [Mode, string][] = [
    ['real', ''], ['real', '66'], ['vm86', ''], ['vm86', '66'], ['prot16', ''], ['prot16', '66'],
    ['prot32', ''], ['prot32', '66'], ['long64', ''], ['long64', '66'],
  ];
  for (const [mode, p] of modes) {
    const size = addr16(mode) === (p === '') ? 14 : 28;
    test(`${mode}${p ? ' with 66h' : ''}: the ${size}-byte environment and the ${size + 80}-byte state come back unchanged`, () => {
      const x = captured(mode, p); // image A
      // FNINIT changes everything FLDENV restores (control, status, tags, pointers); load A, store B.
      run(x, `db e3 ${fldenv(x, p, A)} ${fnstenv(x, p, B)}`);
      expect(bytesAt(x, OPERAND + B, size)).toEqual(bytesAt(x, IMAGE, size));
      // FNSAVE C (reinitialises), push two junk values, FRSTOR C, FNSAVE D: D = C.
      run(x, `${fnsave(x, p, C)} d9 eb d9 eb ${frstor(x, p, C)} ${fnsave(x, p, D)}`);
      expect(bytesAt(x, OPERAND + D, size + 80)).toEqual(bytesAt(x, OPERAND + C, size + 80));
      expect(bytesAt(x, OPERAND + C + size, 10)).toEqual([0, 0, 0, 0, 0, 0, 0, 0x80, 0x00, 0x40]); // ST0 = 2.0
    });
  }
});
