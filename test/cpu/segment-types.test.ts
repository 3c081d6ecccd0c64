// Segment type checks on data accesses (Intel SDM Vol. 3A 5.5, 3.4.5.1), the CS limit on
// instruction fetch and near branch targets, the new stack's limit on a privilege-changing
// interrupt (#SS(selector)), and the real sizes of x87/SSE memory operands against limits.
import { describe, expect, it } from 'vitest';
import { FPU_EXTENSION } from '../../cpu/fpu/extension.js';
import {
  ATTR_DB, ATTR_P, ATTR_S, CR4, CS, DS, ES, EVENT_EXCEPTION, EVENT_EXTINT, EVENT_SOFTINT, RAX, RCX, RDI, RSP, SEG_SEL, SS, segOffset,
} from '../../cpu/state.js';
import { deliverEvent } from '../../cpu/system/events.js';
import { callFar, jmpFar } from '../../cpu/system/transfer.js';
import { CODE, Rig } from './harness.js';
import { DATA, VEC_GP, VEC_SS, expectFault, expectNoFault, faultOf, le32, seg } from './segment-rig.js';
import { GDT, SEL, TSS, descriptor, gate32, makeRig, protectedMode, rsp, setRsp } from './system-rig.js';

/** Read-only data (type 1), execute-only code (type 9), execute/read code (type 0xB); all accessed. */
const DATA_RO = ATTR_P | ATTR_S | 0x1, CODE_XO = ATTR_P | ATTR_S | 0x9, CODE_XR = ATTR_P | ATTR_S | 0xb;
/** The Rig's flat 32-bit code segment's attributes (G, D, P, S, execute/read). */
const CS_ATTR = 0xc09b;

describe('segment types: writes need writable data, reads anything but execute-only code', () => {
  it('stores through a read-only DS raise #GP(0) before memory changes; loads through it work', () => {
    const t = new Rig(32);
    seg(t, DS, 0x20000, 0xfff, DATA_RO | ATTR_DB);
    t.mem.write32(0x20100, 0x11223344);
    t.set(RAX, 0xaabbccdd);
    expectFault(t, `bb${le32(0x100)} 8903`, VEC_GP, 5); // mov [ebx],eax (the fast [base] store)
    expectFault(t, `bb${le32(0x100)} 8803`, VEC_GP, 5); // mov [ebx],al
    expectFault(t, `bb${le32(0x100)} 0103`, VEC_GP, 5); // add [ebx],eax (read-modify-write)
    expectFault(t, `a3${le32(0x100)}`, VEC_GP, 0); // mov [moffs],eax
    expect(t.mem.read32(0x20100)).toBe(0x11223344);
    expect(t.reg32(RAX)).toBe(0xaabbccdd);
    expectNoFault(t, `bb${le32(0x100)} 8b0b 3903`); // mov ecx,[ebx]; cmp [ebx],eax
    expect(t.reg32(RCX)).toBe(0x11223344);
  });

  it('STOSD into a read-only ES faults at the first element with EDI and ECX unchanged', () => {
    const t = new Rig(32);
    seg(t, ES, 0x20000, 0xfff, DATA_RO | ATTR_DB);
    expectFault(t, `bf${le32(0x200)} b904000000 f3ab`, VEC_GP, 10); // mov edi,0x200; mov ecx,4; rep stosd
    expect([t.reg32(RDI), t.reg32(RCX)]).toEqual([0x200, 4]);
    expect(t.mem.read32(0x20200)).toBe(0);
  });

  it('an execute-only code segment in DS cannot be read (#GP(0)); an execute/read one can, but not written', () => {
    const t = new Rig(32);
    t.mem.write32(0x20100, 0x5a5a1234);
    seg(t, DS, 0x20000, 0xfff, CODE_XO | ATTR_DB);
    t.set(RAX, 7);
    expectFault(t, `bb${le32(0x100)} 8b03`, VEC_GP, 5); // mov eax,[ebx]
    expect(t.reg32(RAX)).toBe(7);
    seg(t, DS, 0x20000, 0xfff, CODE_XR | ATTR_DB);
    expectNoFault(t, `bb${le32(0x100)} 8b03`);
    expect(t.reg32(RAX)).toBe(0x5a5a1234);
    expectFault(t, `bb${le32(0x100)} 8903`, VEC_GP, 5); // mov [ebx],eax
  });

  it('a write with a CS override faults #GP(0) (code is never writable); a read through it works', () => {
    const t = new Rig(32);
    t.mem.write32(0x30000, 0x600d);
    expectNoFault(t, `bb${le32(0x30000)} 2e8b03`); // mov eax,cs:[ebx]
    expect(t.reg32(RAX)).toBe(0x600d);
    expectFault(t, `bb${le32(0x30000)} 2e8903`, VEC_GP, 5); // mov cs:[ebx],eax
  });

  it('real mode checks no types: a store through a read-only DS goes through', () => {
    const t = new Rig(16);
    seg(t, DS, 0x20000, 0xffff, DATA_RO);
    t.set(RAX, 0xbeef);
    expectNoFault(t, 'bb0001 8907'); // mov bx,0x100; mov [bx],ax
    expect(t.mem.read32(0x20100)).toBe(0xbeef);
  });
});

describe('instruction fetch against the CS limit', () => {
  it('an instruction ending exactly at the limit runs; the next one, past it, faults #GP(0) at its start', () => {
    const t = new Rig(32);
    seg(t, CS, 0, CODE + 5, CS_ATTR & ~0x8000); // byte-granular limit: the NOP at CODE+5 is its last byte
    expectFault(t, `b8${le32(0x11223344)} 90`, VEC_GP, 6); // mov eax,imm; nop; (hlt at CODE+6)
    expect(t.reg32(RAX)).toBe(0x11223344);
  });

  it('an instruction that crosses the limit faults at its start, first in a block or after others', () => {
    const t = new Rig(32);
    seg(t, CS, 0, CODE + 3, CS_ATTR & ~0x8000);
    t.set(RAX, 1);
    expectFault(t, `b8${le32(0x11223344)}`, VEC_GP, 0); // mov eax,imm: bytes CODE..CODE+4
    expect(t.reg32(RAX)).toBe(1);
    expectFault(t, `41 b8${le32(0x11223344)}`, VEC_GP, 1); // inc ecx; then the mov crosses
    expect(t.reg32(RCX)).toBe(1);
    expect(t.reg32(RAX)).toBe(1);
  });

  it('JMP, CALL and a taken Jcc to past the limit fault at the branch (nothing pushed); a not-taken Jcc falls through', () => {
    const t = new Rig(32);
    seg(t, CS, 0, 0x1fff, CS_ATTR & ~0x8000);
    const esp = t.reg32(RSP);
    expectFault(t, `e9${le32(0x2000 - (CODE + 5))}`, VEC_GP, 0); // jmp 0x2000
    expectFault(t, `e8${le32(0x2000 - (CODE + 5))}`, VEC_GP, 0); // call 0x2000
    expect(t.reg32(RSP)).toBe(esp);
    expectFault(t, `31c0 0f84${le32(0x2000 - (CODE + 8))}`, VEC_GP, 2); // xor eax,eax; je 0x2000 (taken)
    expectNoFault(t, `31c0 0f85${le32(0x2000 - (CODE + 8))}`); // jne: not taken
  });

  it('RET and JMP EAX to past the limit fault at the instruction with ESP unchanged', () => {
    const t = new Rig(32);
    seg(t, CS, 0, 0x1fff, CS_ATTR & ~0x8000);
    const esp = t.reg32(RSP);
    expectFault(t, `68${le32(0x2000)} c3`, VEC_GP, 5); // push 0x2000; ret
    expect(t.reg32(RSP)).toBe(esp - 4);
    expectFault(t, `b8${le32(0x2000)} ffe0`, VEC_GP, 5); // mov eax,0x2000; jmp eax
    expectNoFault(t, `68${le32(CODE + 6)} c3`); // push CODE+6; ret -> the HLT
  });
});

describe('a privilege-changing interrupt checks the new stack from the TSS against its limit', () => {
  /** Ring 3, with the TSS's ring-0 stack in a small data segment (selector 0x70, base 0x30000, limit 0xFFF, B=1). */
  function ring3SmallStack(esp0: number): ReturnType<typeof makeRig> {
    const r = makeRig();
    protectedMode(r, 3);
    const [lo, hi] = descriptor(0x30000, 0xfff, 0x92, 0x4);
    r.mem.write32(GDT + 0x70, lo); r.mem.write32(GDT + 0x74, hi);
    r.mem.write32(TSS + 4, esp0);
    r.mem.write32(TSS + 8, 0x70);
    setRsp(r, 0x7000);
    gate32(r, 0x30, SEL.code32, 0x4000, 0xe, 3);
    gate32(r, 13, SEL.code32, 0x5000);
    return r;
  }

  it('INT 0x30 from ring 3 with ESP0 = 0x1008 (the 20-byte frame crosses the limit) -> #SS(0x70), nothing changed', () => {
    const r = ring3SmallStack(0x1008);
    const rip = r.s.u32(0x80);
    expect(faultOf(() => deliverEvent(r.cpu, 0x30, EVENT_SOFTINT, 0, false))).toMatchObject({ vector: VEC_SS, errorCode: 0x70 });
    expect([r.cpu.cpl, rsp(r), r.s.u32(0x80)]).toEqual([3, 0x7000, rip]);
    expect(r.s.u32(segOffset(SS) + SEG_SEL) & 0xffff).toBe(SEL.udata32);
  });

  it('an external interrupt (EXT=1) the same way -> #SS(0x71), delivered to a ring-3 #SS handler on the old stack', () => {
    const r = ring3SmallStack(0x1008);
    gate32(r, 12, SEL.ucode32, 0x6000);
    r.s.set64(0x80, 0x4444, 0);
    deliverEvent(r.cpu, 0x30, EVENT_EXTINT, 0, false);
    expect([r.cpu.cpl, r.s.u32(0x80), rsp(r)]).toEqual([3, 0x6000, 0x7000 - 16]);
    expect([r.mem.read32(0x7000 - 16), r.mem.read32(0x7000 - 12)]).toEqual([0x71, 0x4444]);
  });

  it('an exception with an error code needs 24 bytes: from ESP0 = 0x1000 it is delivered at 0xFE8', () => {
    const r = ring3SmallStack(0x1000);
    deliverEvent(r.cpu, 13, EVENT_EXCEPTION, 0x18, true);
    expect([r.cpu.cpl, rsp(r), r.s.u32(0x80)]).toEqual([0, 0x1000 - 24, 0x5000]);
    expect(r.mem.read32(0x30000 + 0x1000 - 24)).toBe(0x18);
  });
});

describe('far transfers: the new stack of a call gate, and target offsets against the target CS limit', () => {
  it('CALL through a ring-0 call gate with ESP0 = 0x1004 (no room for SS:ESP and CS:EIP) -> #SS(0x70), still ring 3', () => {
    const r = makeRig();
    protectedMode(r, 3);
    const [lo, hi] = descriptor(0x30000, 0xfff, 0x92, 0x4); // ring-0 data, limit 0xFFF, B=1
    r.mem.write32(GDT + 0x70, lo); r.mem.write32(GDT + 0x74, hi);
    r.mem.write32(TSS + 4, 0x1004);
    r.mem.write32(TSS + 8, 0x70);
    r.mem.write32(GDT + SEL.gate, (SEL.code32 << 16) | 0x5060); // 32-bit call gate, DPL 3, no parameters
    r.mem.write32(GDT + SEL.gate + 4, 0x8000 | (3 << 13) | (0xc << 8));
    setRsp(r, 0x7000);
    r.s.set64(0x80, 0x4321, 0);
    expect(faultOf(() => callFar(r.cpu, SEL.gate | 3, 0, 0, 4))).toMatchObject({ vector: VEC_SS, errorCode: 0x70 });
    expect([r.cpu.cpl, rsp(r), r.s.u32(0x80), r.s.u32(segOffset(CS) + SEG_SEL)]).toEqual([3, 0x7000, 0x4321, SEL.ucode32]);
    r.mem.write32(TSS + 4, 0x1000); // 16 bytes at 0xFF0..0xFFF fit
    callFar(r.cpu, SEL.gate | 3, 0, 0, 4);
    expect([r.cpu.cpl, rsp(r), r.s.u32(0x80)]).toEqual([0, 0x1000 - 16, 0x5060]);
  });

  it('far JMP to offset 0x10000 of a 64 KiB code segment faults #GP(0) with CS unchanged; 0xFFFF is fine', () => {
    const r = makeRig();
    protectedMode(r);
    r.s.set64(0x80, 0x1234, 0);
    expect(faultOf(() => jmpFar(r.cpu, SEL.code16, 0x10000, 0, 4))).toMatchObject({ vector: VEC_GP, errorCode: 0 });
    expect([r.s.u32(segOffset(CS) + SEG_SEL), r.s.u32(0x80)]).toEqual([SEL.code32, 0x1234]);
    jmpFar(r.cpu, SEL.code16, 0xffff, 0, 4);
    expect([r.s.u32(segOffset(CS) + SEG_SEL), r.s.u32(0x80)]).toEqual([SEL.code16, 0xffff]);
  });

  it('an interrupt gate whose handler offset is past the CS limit: INT n raises #GP(0)', () => {
    const r = makeRig();
    protectedMode(r);
    gate32(r, 0x31, SEL.code16, 0x12345); // the 16-bit code segment's limit is 0xFFFF
    setRsp(r, 0x7000);
    expect(faultOf(() => deliverEvent(r.cpu, 0x31, EVENT_SOFTINT, 0, false))).toMatchObject({ vector: VEC_GP, errorCode: 0 });
    expect(rsp(r)).toBe(0x7000);
  });
});

describe('x87 and SSE memory operands are checked at their real size', () => {
  /** 32-bit flat code with the x87/SSE rows, CR4.OSFXSR set, DS = base 0x20000 limit 0xFFF. */
  function fpuRig(dsAttr = DATA): Rig {
    const t = new Rig(32, [FPU_EXTENSION]);
    t.state.set64(CR4, 0x200, 0);
    seg(t, DS, 0x20000, 0xfff, dsAttr | ATTR_DB);
    return t;
  }

  it('FLD m80 at limit-9 loads; at limit-8 (its last byte past the limit) faults #GP(0)', () => {
    const t = fpuRig();
    expectNoFault(t, `bb${le32(0xff6)} db2b`); // mov ebx,0xff6; fld tword [ebx]
    expectFault(t, `bb${le32(0xff7)} db2b`, VEC_GP, 5);
  });

  it('FNSTENV (28 bytes) fits at limit-27, faults at limit-26; FXSAVE (512 bytes) fits at 0xE00, faults at 0xE10', () => {
    const t = fpuRig();
    expectNoFault(t, `bb${le32(0xfe4)} d933`); // fnstenv [ebx]
    expectFault(t, `bb${le32(0xfe5)} d933`, VEC_GP, 5);
    expectNoFault(t, `bb${le32(0xe00)} 0fae03`); // fxsave [ebx]
    expectFault(t, `bb${le32(0xe10)} 0fae03`, VEC_GP, 5);
  });

  it('MOVUPS xmm0,[ebx] (16 bytes) at limit-15 loads, at limit-14 faults; a MOVUPS store to a read-only DS faults', () => {
    const t = fpuRig();
    expectNoFault(t, `bb${le32(0xff0)} 0f1003`);
    expectFault(t, `bb${le32(0xff1)} 0f1003`, VEC_GP, 5);
    const ro = fpuRig(DATA_RO);
    expectNoFault(ro, `bb${le32(0x100)} 0f1003`);
    expectFault(ro, `bb${le32(0x100)} 0f1103`, VEC_GP, 5); // movups [ebx],xmm0
  });
});
