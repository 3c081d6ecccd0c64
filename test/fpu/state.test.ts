// Availability and state-management rules of the x87/SSE rows inside the interpreter:
// CR0.EM/TS and CR4.OSFXSR/OSXMMEXCPT faults, deferred #MF, FXSAVE/FXRSTOR, XSAVE/XRSTOR
// with XSETBV/XGETBV, FNSAVE/FRSTOR round trips.

import { describe, expect, test } from 'vitest';
import { Rig } from '../cpu/harness.js';
import { FPU_EXTENSION } from '../../cpu/fpu/extension.js';
import {
  CR0, CR0_EM, CR0_MP, CR0_NE, CR0_TS, CR4, CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_OSXSAVE, CR4_PAE, FX_FCW, FX_FSW, FX_MXCSR,
  FX_ST0, FX_XMM0, RAX, RBX, RCX, RDX, XCR0,
} from '../../cpu/state.js';

const MEM = 0x20000;
function rig(cr0Extra = CR0_NE | CR0_MP, cr4 = CR4_OSFXSR | CR4_OSXMMEXCPT): Rig {
  const r = new Rig(64, [FPU_EXTENSION]);
  r.state.set64(CR0, r.state.lo(CR0) | cr0Extra, 0);
  r.state.set64(CR4, CR4_PAE | cr4, 0);
  r.cpu.modeChanged();
  r.set(RAX, MEM);
  return r;
}
const vector = (r: Rig): number | undefined => r.cpu.lastEvent?.vector;

describe('availability faults', () => {
  test('SSE with CR4.OSFXSR clear -> #UD', () => {
    const r = rig(CR0_NE, 0);
    r.run('0f 58 c1'); // addps xmm0, xmm1
    expect(vector(r)).toBe(6);
  });
  test('SSE with CR0.TS set -> #NM; x87 with CR0.TS -> #NM', () => {
    const r = rig(CR0_NE | CR0_TS);
    r.run('66 0f ef c0'); // pxor xmm0, xmm0
    expect(vector(r)).toBe(7);
    const r2 = rig(CR0_NE | CR0_TS);
    r2.run('d9 e8'); // fld1
    expect(vector(r2)).toBe(7);
  });
  test('CR0.EM set: SSE -> #UD, x87 -> #NM, MMX -> #UD', () => {
    const a = rig(CR0_NE | CR0_EM); a.run('66 0f ef c0'); expect(vector(a)).toBe(6);
    const b = rig(CR0_NE | CR0_EM); b.run('d9 e8'); expect(vector(b)).toBe(7);
    const c = rig(CR0_NE | CR0_EM); c.run('0f ef c0'); expect(vector(c)).toBe(6);
  });
  test('POPCNT runs with CR0.EM and TS set (not an SSE-state instruction)', () => {
    const r = rig(CR0_NE | CR0_EM | CR0_TS);
    r.set(RBX, 0xf0f0);
    r.run('f3 48 0f b8 cb'); // popcnt rcx, rbx
    expect(vector(r)).toBeUndefined();
    expect(r.reg32(RCX)).toBe(8);
  });
});

describe('SIMD and x87 exceptions', () => {
  test('unmasked divide-by-zero in DIVSD -> #XM with OSXMMEXCPT, #UD without, destination untouched', () => {
    for (const [cr4, want] of [[CR4_OSFXSR | CR4_OSXMMEXCPT, 19], [CR4_OSFXSR, 6]] as const) {
      const r = rig(CR0_NE, cr4);
      r.state.setU32(FX_MXCSR, 0x1f80 & ~0x200); // ZM clear
      r.state.set64(FX_XMM0, 0, 0x3ff00000); // xmm0 = 1.0, xmm1 = 0
      r.run('f2 0f 5e c1'); // divsd xmm0, xmm1
      expect(vector(r)).toBe(want);
      expect(r.state.u32(FX_MXCSR) & 0x3f).toBe(0x4); // ZE recorded
      expect(r.state.hi(FX_XMM0)).toBe(0x3ff00000);
    }
  });
  test('x87 unmasked zero divide sets ES; the next waiting x87 instruction takes #MF', () => {
    const r = rig();
    r.state.setU32(FX_FCW, 0x037b); // ZM clear
    r.run('d9 e8 d9 ee de f9'); // fld1; fldz; fdivp -> pending ZE, no fault yet
    expect(vector(r)).toBeUndefined();
    expect(r.state.u32(FX_FSW) & 0x8085).toBe(0x8084);
    r.run('d9 d0'); // fnop waits -> #MF
    expect(vector(r)).toBe(16);
  });
});

describe('state save and restore', () => {
  test('FXSAVE then FXRSTOR brings back x87 stack, MXCSR and XMM registers', () => {
    const r = rig();
    r.set(RBX, 0x12345678, 0x9abcdef0);
    r.run('d9 eb 66 48 0f 6e c3 0f ae 00'); // fldpi; movq xmm0, rbx; fxsave [rax]
    expect(r.mem.u8.slice(MEM + 160, MEM + 168)).toEqual(new Uint8Array([0x78, 0x56, 0x34, 0x12, 0xf0, 0xde, 0xbc, 0x9a]));
    expect(r.mem.u8[MEM + 4]).toBe(0x80); // abridged tag: physical register 7 in use
    r.run('db e3 66 0f ef c0 0f ae 08 66 48 0f 7e c1'); // fninit; pxor xmm0,xmm0; fxrstor [rax]; movq rcx, xmm0
    expect(r.reg64(RCX)).toBe('9abcdef012345678');
    expect(r.state.hex64(FX_ST0)).toBe('c90fdaa22168c235');
  });
  test('XSETBV/XGETBV and XSAVE/XRSTOR of x87|SSE with CR4.OSXSAVE', () => {
    const r = rig(CR0_NE | CR0_MP, CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE);
    r.set(RCX, 0); r.set(RDX, 0);
    r.set(RAX, 3);
    r.run('0f 01 d1 0f 01 d0'); // xsetbv; xgetbv
    expect(r.state.lo(XCR0)).toBe(3);
    expect(r.reg32(RAX)).toBe(3);
    r.set(RBX, 0x11223344, 0x55667788);
    r.set(RCX, MEM); r.set(RAX, 3); r.set(RDX, 0);
    r.run('66 48 0f 6e c3 0f ae 21 66 0f ef c0 0f ae 29 66 48 0f 7e c3'); // movq xmm0,rbx; xsave [rcx]; pxor; xrstor [rcx]; movq rbx,xmm0
    expect(r.reg64(RBX)).toBe('5566778811223344');
    expect(r.mem.u8[MEM + 512]).toBe(3); // XSTATE_BV
  });
  test('XSETBV rejects XCR0 without x87 (#GP) and XGETBV needs CR4.OSXSAVE (#UD)', () => {
    const r = rig(CR0_NE, CR4_OSFXSR | CR4_OSXSAVE);
    r.set(RCX, 0); r.set(RDX, 0); r.set(RAX, 2);
    r.run('0f 01 d1');
    expect(vector(r)).toBe(13);
    const u = rig();
    u.set(RCX, 0);
    u.run('0f 01 d0');
    expect(vector(u)).toBe(6);
  });
  test('FNSAVE stores a 108-byte image and reinitialises; FRSTOR brings the stack back', () => {
    const r = rig();
    r.run('d9 e8 d9 eb dd 30'); // fld1; fldpi; fnsave [rax]
    expect(r.state.u32(FX_FCW) & 0xffff).toBe(0x037f);
    expect(r.state.u32(FX_FSW) & 0x3800).toBe(0);
    const img = r.mem.u8.slice(MEM, MEM + 108);
    expect(img[4] | (img[5] << 8)).toBe(0x3000); // FSW with TOP = 6
    expect(img[28 + 9]).toBe(0x40); // ST0 = pi, exponent 0x4000
    r.run('dd 20 dd d9 df e0'); // frstor [rax]; fstp st1; fnstsw ax
    expect(r.reg32(RAX) & 0x3800).toBe(0x3800); // TOP = 7 after one pop
    expect(r.state.hex64(FX_ST0)).toBe('c90fdaa22168c235');
  });
});

describe('integer stores that came with SSE2', () => {
  test('MOVNTI stores a 64-bit GPR with REX.W and a 32-bit one without', () => {
    const r = rig();
    r.set(RBX, 0xdeadbeef, 0x01020304);
    r.run('48 0f c3 18 0f c3 58 08'); // movnti [rax], rbx; movnti [rax+8], ebx
    expect(Array.from(r.mem.u8.slice(MEM, MEM + 12))).toEqual([0xef, 0xbe, 0xad, 0xde, 4, 3, 2, 1, 0xef, 0xbe, 0xad, 0xde]);
  });
});

describe('approximate reciprocals (model-specific bits, architectural error bound)', () => {
  test('RCPPS and RSQRTPS stay within 1.5 * 2^-12 of 1/x and 1/sqrt(x); zero -> infinity, negative -> NaN', () => {
    const r = rig();
    const xs = [3, 0.1, 1e-20, 12345.678];
    const f = new Float32Array(r.mem.buffer, FX_XMM0 + r.mem.stateOffset + 16, 4);
    f.set(xs);
    r.run('0f 53 c1 0f 52 d1'); // rcpps xmm0, xmm1; rsqrtps xmm2, xmm1
    const rc = new Float32Array(r.mem.buffer, FX_XMM0 + r.mem.stateOffset, 4);
    const rs = new Float32Array(r.mem.buffer, FX_XMM0 + r.mem.stateOffset + 32, 4);
    for (let i = 0; i < 4; i++) {
      expect(Math.abs(rc[i] * xs[i] - 1)).toBeLessThan(1.5 * 2 ** -12);
      expect(Math.abs(rs[i] * Math.sqrt(xs[i]) - 1)).toBeLessThan(1.5 * 2 ** -12);
    }
    f.set([0, -0, -4, Infinity]);
    r.run('0f 53 c1 0f 52 d1');
    expect([rc[0], rc[1], rc[3]]).toEqual([Infinity, -Infinity, 0]);
    expect(Math.abs(rc[2] / -0.25 - 1)).toBeLessThan(1.5 * 2 ** -12);
    expect(rs[0]).toBe(Infinity); expect(rs[1]).toBe(-Infinity); expect(Number.isNaN(rs[2])).toBe(true); expect(rs[3]).toBe(0);
  });
});

describe('x87 last-instruction pointers', () => {
  test('FXSAVE shows FOP, FIP and FDP of the last non-control x87 instruction', () => {
    const r = rig();
    r.set(RBX, MEM + 0x100);
    // nop; fld qword [rbx] (at CODE+1); fsqrt (at CODE+3); fnstcw [rax] (control: no update); fxsave [rax]
    r.run('90 dd 03 d9 fa d9 38 0f ae 00');
    const dv = new DataView(r.mem.buffer, MEM);
    expect(dv.getUint16(6, true)).toBe(0x1fa); // FOP of FSQRT: D9 FA
    expect(dv.getUint32(8, true)).toBe(0x1000 + 3); // FIP
    expect(dv.getUint32(16, true)).toBe(MEM + 0x100); // FDP from the FLD
  });
});

describe('32-bit protected mode', () => {
  test('x87 and SSE2 memory forms run the same way without REX', () => {
    const r = new Rig(32, [FPU_EXTENSION]);
    r.state.set64(CR0, r.state.lo(CR0) | CR0_NE, 0);
    r.state.set64(CR4, CR4_OSFXSR, 0);
    r.cpu.modeChanged();
    const dv = new DataView(r.mem.buffer, MEM);
    dv.setFloat64(0, 2.25, true); dv.setFloat64(8, 0.5, true);
    r.set(RAX, MEM);
    // fld qword [eax]; fsqrt; fstp qword [eax+16]; movsd xmm1,[eax]; addsd xmm1,[eax+8]; movsd [eax+24],xmm1
    r.run('dd 00 d9 fa dd 58 10 f2 0f 10 08 f2 0f 58 48 08 f2 0f 11 48 18');
    expect(vector(r)).toBeUndefined();
    expect(dv.getFloat64(16, true)).toBe(1.5);
    expect(dv.getFloat64(24, true)).toBe(2.75);
  });
});
