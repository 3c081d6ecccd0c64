// Segment-register loads in protected mode, far transfers, call gates, LAR/LSL/VERR/VERW.
import { describe, expect, it } from 'vitest';
import { W_RIP } from '../../cpu/words.js';
import { lldt } from '../../cpu/system/control.js';
import { lar, loadSegment, lsl, verify } from '../../cpu/system/segments.js';
import { callFar, iret, jmpFar, retFar } from '../../cpu/system/transfer.js';
import {
  ATTR_UNUSABLE, CR0, CR0_PE, CS, DS, SEG_ATTR, SEG_BASE, SEG_LIMIT, SEG_SEL, SS, segOffset,
} from '../../cpu/state.js';
import { GDT, SEL, TSS, descriptor, longMode, makeRig, peek, protectedMode, rsp, setRsp, type Rig } from './system-rig.js';

const seg = (r: Rig, n: number, f: number): number => r.s.u32(segOffset(n) + f) >>> 0;
const fault = (f: () => void): { vector: number; errorCode: number } => {
  try { f(); } catch (e) { return e as { vector: number; errorCode: number }; }
  throw new Error('expected a fault');
};

describe('MOV to a segment register (protected mode)', () => {
  it('a data selector loads base, limit and attributes and sets the accessed bit in the GDT', () => {
    const r = makeRig();
    protectedMode(r);
    r.mem.write32(GDT + 0x78, descriptor(0x123000, 0xfff, 0x92, 0x4)[0]);
    r.mem.write32(GDT + 0x7c, descriptor(0x123000, 0xfff, 0x92, 0x4)[1]);
    r.s.setU32(0x208 /* GDTR_LIMIT */, 0x7f);
    loadSegment(r.cpu, DS, 0x78);
    expect([seg(r, DS, SEG_SEL), seg(r, DS, SEG_BASE), seg(r, DS, SEG_LIMIT)]).toEqual([0x78, 0x123000, 0xfff]);
    expect((r.mem.read32(GDT + 0x7c) >>> 8) & 1).toBe(1);
  });

  it('a null selector makes DS unusable but faults for SS', () => {
    const r = makeRig();
    protectedMode(r);
    loadSegment(r.cpu, DS, 0);
    expect(seg(r, DS, SEG_ATTR) & ATTR_UNUSABLE).toBe(ATTR_UNUSABLE);
    expect(fault(() => loadSegment(r.cpu, SS, 0))).toMatchObject({ vector: 13, errorCode: 0 });
  });

  it('a selector past the GDT limit -> #GP(selector); a not-present segment -> #NP(selector)', () => {
    const r = makeRig();
    protectedMode(r);
    expect(fault(() => loadSegment(r.cpu, DS, 0x1234))).toMatchObject({ vector: 13, errorCode: 0x1234 });
    expect(fault(() => loadSegment(r.cpu, DS, SEL.np))).toMatchObject({ vector: 11, errorCode: SEL.np });
    expect(fault(() => loadSegment(r.cpu, SS, SEL.np))).toMatchObject({ vector: 12, errorCode: SEL.np });
  });

  it('ring 3 may not load a DPL-0 data segment, nor SS with RPL != CPL, nor a code segment into SS', () => {
    const r = makeRig();
    protectedMode(r, 3);
    expect(fault(() => loadSegment(r.cpu, DS, SEL.data32))).toMatchObject({ vector: 13, errorCode: SEL.data32 });
    expect(fault(() => loadSegment(r.cpu, SS, SEL.udata32 & ~3))).toMatchObject({ vector: 13 });
    expect(fault(() => loadSegment(r.cpu, SS, SEL.ucode32))).toMatchObject({ vector: 13 });
    loadSegment(r.cpu, DS, SEL.udata32);
    expect(seg(r, DS, SEG_SEL)).toBe(SEL.udata32);
  });

  it('real mode: base = selector * 16 and the cached limit stays (unreal mode)', () => {
    const r = makeRig();
    r.s.setU32(segOffset(DS) + SEG_LIMIT, 0xffffffff);
    loadSegment(r.cpu, DS, 0x1234);
    expect([seg(r, DS, SEG_BASE), seg(r, DS, SEG_LIMIT)]).toEqual([0x12340, 0xffffffff]);
  });
});

describe('far transfers', () => {
  it('far JMP from real mode into a 32-bit code segment after setting CR0.PE', () => {
    const r = makeRig();
    protectedMode(r);
    r.s.setU32(segOffset(CS) + SEG_ATTR, 0x9b); // still a 16-bit real-mode CS
    r.s.set64(CR0, CR0_PE, 0);
    r.cpu.modeChanged();
    expect(r.cpu.codeSize).toBe(2);
    jmpFar(r.cpu, SEL.code32, 0x100000, 0, 4);
    expect(r.cpu.codeSize).toBe(4);
    expect(r.cpu.r32[W_RIP]).toBe(0x100000);
  });

  it('far CALL through a call gate to ring 0 switches to the TSS stack and copies 2 parameters; RETF 8 returns', () => {
    const r = makeRig();
    protectedMode(r, 3);
    r.mem.write32(TSS + 4, 0x9000);
    r.mem.write32(TSS + 8, SEL.data32);
    // 32-bit call gate, DPL 3, 2 parameters, target 0x08:0x00405060.
    r.mem.write32(GDT + SEL.gate, (SEL.code32 << 16) | 0x5060);
    r.mem.write32(GDT + SEL.gate + 4, 0x00400000 | 0x8000 | (3 << 13) | (0xc << 8) | 2);
    setRsp(r, 0x7000 - 8);
    r.mem.write32(0x7000 - 8, 0x11111111);
    r.mem.write32(0x7000 - 4, 0x22222222);
    r.cpu.r32[W_RIP] = 0x4321; // return address
    callFar(r.cpu, SEL.gate | 3, 0, 0, 4);
    expect(r.cpu.cpl).toBe(0);
    expect(r.cpu.r32[W_RIP]).toBe(0x00405060);
    expect(rsp(r)).toBe(0x9000 - 24);
    expect([peek(r, 0x9000 - 24), peek(r, 0x9000 - 20), peek(r, 0x9000 - 16), peek(r, 0x9000 - 12), peek(r, 0x9000 - 8), peek(r, 0x9000 - 4)])
      .toEqual([0x4321, SEL.ucode32, 0x11111111, 0x22222222, 0x7000 - 8, SEL.udata32]);
    retFar(r.cpu, 4, 8);
    expect([r.cpu.cpl, r.cpu.r32[W_RIP], rsp(r), seg(r, SS, SEG_SEL)]).toEqual([3, 0x4321, 0x7000, SEL.udata32]);
  });

  it('a far JMP to a DPL-0 code segment from ring 3 -> #GP(selector)', () => {
    const r = makeRig();
    protectedMode(r, 3);
    expect(fault(() => jmpFar(r.cpu, SEL.code32, 0, 0, 4))).toMatchObject({ vector: 13, errorCode: SEL.code32 });
  });
});

describe('LAR, LSL, VERR, VERW', () => {
  it('report access rights and limits of visible descriptors only', () => {
    const r = makeRig();
    protectedMode(r, 3);
    expect(lar(r.cpu, SEL.udata32) >>> 0).toBe(0x00cff200); // G, D/B, limit 19:16, P, DPL 3, data RW (not yet accessed)
    expect(lsl(r.cpu, SEL.udata32)).toBe(0xffffffff);
    expect(lar(r.cpu, SEL.data32)).toBe(-1); // DPL 0 from CPL 3
    expect(lsl(r.cpu, SEL.tss32)).toBe(-1);
    expect(verify(r.cpu, SEL.udata32, true)).toBe(true);
    expect(verify(r.cpu, SEL.ucode32, true)).toBe(false);
    expect(verify(r.cpu, SEL.ucode32, false)).toBe(true);
  });
});

describe('LDT and long-mode far transfers', () => {
  it('LLDT loads the LDT; a selector with TI=1 then loads from it', () => {
    const r = makeRig();
    protectedMode(r);
    const [lo, hi] = descriptor(0xabc000, 0xfff, 0x92, 0x4);
    r.mem.write32(0x5000 + 8, lo);
    r.mem.write32(0x5000 + 12, hi);
    lldt(r.cpu, SEL.ldt);
    loadSegment(r.cpu, DS, 0x08 | 4);
    expect([seg(r, DS, SEG_SEL), seg(r, DS, SEG_BASE)]).toEqual([0x0c, 0xabc000]);
    expect(fault(() => loadSegment(r.cpu, DS, 0x100 | 4))).toMatchObject({ vector: 13, errorCode: 0x104 });
  });

  it('64-bit far CALL through a 16-byte call gate to ring 0, then RETFQ back to ring 3', () => {
    const r = makeRig();
    longMode(r);
    setSegFull(r, CS, SEL.ucode64, 0xa0fb);
    setSegFull(r, SS, SEL.udata32, 0xc0f3);
    r.cpu.modeChanged();
    // 64-bit call gate at 0x58 (16 bytes: 0x58 and 0x60), DPL 3, target 0x30:0x1_0000_4000? keep it low: 0x4000.
    r.mem.write32(GDT + 0x58, (SEL.code64 << 16) | 0x4000);
    r.mem.write32(GDT + 0x5c, 0x8000 | (3 << 13) | (0xc << 8));
    r.mem.write32(GDT + 0x60, 0);
    r.mem.write32(GDT + 0x64, 0);
    r.mem.write32(TSS + 4, 0x9000);
    setRsp(r, 0x7000);
    r.cpu.r32[W_RIP] = 0x1111;
    callFar(r.cpu, 0x58 | 3, 0, 0, 8);
    expect([r.cpu.cpl, r.cpu.codeSize, r.cpu.r32[W_RIP], rsp(r)]).toEqual([0, 8, 0x4000, 0x9000 - 32]);
    expect(seg(r, SS, SEG_SEL)).toBe(0);
    retFar(r.cpu, 8, 0);
    expect([r.cpu.cpl, r.cpu.r32[W_RIP], rsp(r), seg(r, SS, SEG_SEL), seg(r, CS, SEG_SEL)]).toEqual([3, 0x1111, 0x7000, SEL.udata32, SEL.ucode64]);
  });

  it('IRETQ from 64-bit mode to a 32-bit ring-3 code segment enters compatibility mode', () => {
    const r = makeRig();
    longMode(r);
    setRsp(r, 0x8000 - 40);
    const frame = [0x2000, SEL.ucode32, 0x202, 0x6000, SEL.udata32];
    frame.forEach((v, i) => { r.mem.write32(0x8000 - 40 + i * 8, v); r.mem.write32(0x8000 - 36 + i * 8, 0); });
    iret(r.cpu, 8);
    expect([r.cpu.cpl, r.cpu.codeSize, r.cpu.r32[W_RIP], rsp(r)]).toEqual([3, 4, 0x2000, 0x6000]);
  });
});

function setSegFull(r: Rig, n: number, s: number, attr: number): void {
  r.s.setU32(segOffset(n) + SEG_SEL, s);
  r.s.setU32(segOffset(n) + SEG_ATTR, attr);
  r.s.setU32(segOffset(n) + SEG_LIMIT, 0xffffffff);
}
