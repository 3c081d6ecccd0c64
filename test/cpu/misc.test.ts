// Instruction groups checked against values worked out from the SDM pseudo-code:
// BCD adjusts, BOUND, CMPXCHG8B, BT with a memory bit string, data movement,
// stack frames and near control transfers.
import { describe, expect, it } from 'vitest';
import { RAX, RBP, RBX, RCX, RDX, RSI, RSP } from '../../cpu/state.js';
import { STACK_TOP, Rig } from './harness.js';

const CF = 1, AF = 0x10, ZF = 0x40, SF = 0x80;
const le32 = (v: number): string => [0, 8, 16, 24].map((s) => ((v >>> s) & 0xff).toString(16).padStart(2, '0')).join('');
const dv = (t: Rig): DataView => new DataView(t.mem.buffer);

describe('BCD adjusts (32-bit mode)', () => {
  it('mov al,79h; add al,35h; daa -> AL=14h, CF=1, AF=1 (79+35=114 decimal)', () => {
    const t = new Rig(32);
    t.run('b079 0435 27');
    expect(t.reg32(RAX) & 0xff).toBe(0x14);
    expect(t.flags() & (CF | AF)).toBe(CF | AF);
  });
  it('mov al,35h; sub al,47h; das -> AL=88h, CF=1 (35-47 borrows)', () => {
    const t = new Rig(32);
    t.run('b035 2c47 2f');
    expect(t.reg32(RAX) & 0xff).toBe(0x88);
    expect(t.flags() & CF).toBe(CF);
  });
  it('aaa on AX=000Fh -> AX=0105h with CF=AF=1; aas on AX=0205h after sub al,8 -> AX=0107h', () => {
    const t = new Rig(32);
    t.run('66b80f00 37');
    expect(t.reg32(RAX) & 0xffff).toBe(0x0105);
    expect(t.flags() & (CF | AF)).toBe(CF | AF);
    t.run('66b80502 2c08 3f');
    expect(t.reg32(RAX) & 0xffff).toBe(0x0107);
  });
  it('aam splits AL=63 into AH=6, AL=3; aad joins them back; aam 0 raises #DE', () => {
    const t = new Rig(32);
    t.run('b03f d40a');
    expect(t.reg32(RAX) & 0xffff).toBe(0x0603);
    t.run('d50a');
    expect(t.reg32(RAX) & 0xffff).toBe(0x003f);
    t.run('d400');
    expect(t.cpu.lastEvent?.vector).toBe(0);
  });
});

describe('BOUND, CMPXCHG8B, BT on memory', () => {
  it('bound eax,[mem] with EAX outside [10,20] raises #BR (vector 5); inside it does not', () => {
    const t = new Rig(32);
    dv(t).setInt32(0x3000, 10, true); dv(t).setInt32(0x3004, 20, true);
    t.set(RAX, 15);
    t.run(`6205${le32(0x3000)}`);
    expect(t.cpu.lastEvent).toBeNull();
    t.set(RAX, 21);
    t.run(`6205${le32(0x3000)}`);
    expect(t.cpu.lastEvent?.vector).toBe(5);
  });
  it('cmpxchg8b: equal -> ZF=1 and memory = ECX:EBX; different -> ZF=0 and EDX:EAX = memory', () => {
    const t = new Rig(32);
    dv(t).setUint32(0x3000, 0x22222222, true); dv(t).setUint32(0x3004, 0x11111111, true);
    t.set(RAX, 0x22222222); t.set(RDX, 0x11111111); t.set(RBX, 0xbbbbbbbb); t.set(RCX, 0xcccccccc);
    t.run(`0fc70d${le32(0x3000)}`);
    expect(t.flags() & ZF).toBe(ZF);
    expect(dv(t).getUint32(0x3000, true)).toBe(0xbbbbbbbb);
    expect(dv(t).getUint32(0x3004, true)).toBe(0xcccccccc);
    t.run(`0fc70d${le32(0x3000)}`);
    expect(t.flags() & ZF).toBe(0);
    expect(t.reg32(RAX)).toBe(0xbbbbbbbb);
    expect(t.reg32(RDX)).toBe(0xcccccccc);
  });
  it('bts [mem], ecx with ECX=100 sets bit 4 of byte 12 of the bit string; a negative offset reaches below', () => {
    const t = new Rig(32);
    t.set(RCX, 100);
    t.run(`0fab0d${le32(0x3000)}`);
    expect(t.mem.u8[0x3000 + 12]).toBe(0x10);
    expect(t.flags() & CF).toBe(0);
    t.set(RCX, -1);
    t.run(`0fab0d${le32(0x3000)}`);
    expect(t.mem.u8[0x2fff]).toBe(0x80);
  });
});

describe('data movement', () => {
  it('movzx/movsx/movsxd/cbw family extend as the SDM says', () => {
    const t = new Rig(64);
    t.set(RBX, 0x80f0);
    t.run('0fb6c3 480fbfcb'); // movzx eax,bl; movsx rcx,bx
    expect(t.reg64(RAX)).toBe('00000000000000f0');
    expect(t.reg64(RCX)).toBe('ffffffffffff80f0');
    t.set(RBX, 0x80000000);
    t.run('4863d3 4898'); // movsxd rdx,ebx; cdqe
    expect(t.reg64(RDX)).toBe('ffffffff80000000');
    expect(t.reg64(RAX)).toBe('00000000000000f0');
    t.set(RAX, 0x8000);
    t.run('4899'); // cqo of a positive rax
    expect(t.reg64(RDX)).toBe('0000000000000000');
  });
  it('cmovcc reads its source and zero-extends even when not taken; setcc writes 0/1', () => {
    const t = new Rig(64);
    t.setHex(RAX, 'ffffffffffffffff'); t.set(RBX, 5);
    t.run('39c0 0f45c3 0f94c1'); // cmp eax,eax; cmovne eax,ebx; sete cl
    expect(t.reg64(RAX)).toBe('00000000ffffffff');
    expect(t.reg32(RCX) & 0xff).toBe(1);
  });
  it('bswap, xchg, xadd-free xlat and lahf/sahf', () => {
    const t = new Rig(32);
    t.set(RAX, 0x11223344); t.set(RBX, 0x3000);
    t.mem.u8[0x3000 + 0x11] = 0x99; // AL after the bswap
    t.run('0fc8 93 93 d7'); // bswap eax; xchg eax,ebx twice; xlat
    expect(t.reg32(RAX)).toBe(0x44332299 >>> 0);
    t.run('31c0 9f'); // xor eax,eax; lahf -> AH = SF ZF AF PF CF bits (ZF|PF|bit1)
    expect((t.reg32(RAX) >> 8) & 0xff).toBe(0x46);
    t.set(RAX, 0xc100); // AH: SF|ZF|CF
    t.run('9e');
    expect(t.flags() & (SF | ZF | CF)).toBe(SF | ZF | CF);
  });
  it('lea computes 16-, 32- and 64-bit addresses without touching memory or flags', () => {
    const t = new Rig(64);
    t.setHex(RBX, '00000000fffffff0'); t.set(RSI, 0x20);
    t.run('488d4c3308 8d543308'); // lea rcx,[rbx+rsi+8]; lea edx,[rbx+rsi+8]
    expect(t.reg64(RCX)).toBe('0000000100000018');
    expect(t.reg64(RDX)).toBe('0000000000000018');
  });
});

describe('stack and near control transfers', () => {
  it('call pushes the return address and ret pops it; push/pop keep RSP balanced (64-bit)', () => {
    const t = new Rig(64);
    // call +3; jmp +7; (target) mov eax,7; ret -- returns to the jmp, which skips past the ret
    t.run('e803000000 eb07 90 b807000000 c3 90');
    expect(t.reg32(RAX)).toBe(7);
    expect(t.reg64(RSP)).toBe(STACK_TOP.toString(16).padStart(16, '0'));
  });
  it('an indirect call executed again after other blocks were decoded still returns to the right place', () => {
    // The decoder reuses one Insn: an executor that read it at run time would push a stale length.
    const t = new Rig(32);
    // mov ecx,3; mov eax,F1; jmp L; L: call eax; xor eax,F1^F2; dec ecx; jnz L; jmp end;
    // F1: inc ebx; ret; F2: add ebx,10; ret; end:
    t.run('b903000000 b818100000 eb00 ffd0 3502000000 49 75f6 eb06 43c3 83c30ac3');
    expect(t.reg32(RBX)).toBe(12);
    expect(t.reg32(RCX)).toBe(0);
    expect(t.reg32(RSP)).toBe(STACK_TOP);
  });

  it('enter 16,0 / leave builds and tears down a frame (32-bit)', () => {
    const t = new Rig(32);
    t.set(RBP, 0x1234);
    t.run('c8100000 89e9 c9'); // enter 16,0; mov ecx,ebp; leave
    expect(t.reg32(RCX)).toBe(STACK_TOP - 4);
    expect(t.reg32(RBP)).toBe(0x1234);
    expect(t.reg32(RSP)).toBe(STACK_TOP);
  });
  it('pusha/popa round-trip all eight registers; the saved ESP is skipped on pop', () => {
    const t = new Rig(32);
    t.set(RAX, 1); t.set(RCX, 2); t.set(RDX, 3); t.set(RBX, 4); t.set(RBP, 6); t.set(RSI, 7);
    t.run('60 31c0 31c9 31db 61');
    expect([t.reg32(RAX), t.reg32(RCX), t.reg32(RBX), t.reg32(RBP), t.reg32(RSI), t.reg32(RSP)]).toEqual([1, 2, 4, 6, 7, STACK_TOP]);
    expect(dv(t).getUint32(STACK_TOP - 20, true)).toBe(STACK_TOP);
  });
  it('loop counts ECX down; jecxz skips when ECX is zero', () => {
    const t = new Rig(32);
    t.run('b905000000 31c0 40 e2fd e302 b0ff');
    expect(t.reg32(RAX)).toBe(5);
  });
  it('16-bit jmp wraps IP within the segment', () => {
    const t = new Rig(16);
    t.run('eb00');
    expect(t.rip()).toBe(0x1003);
  });
});

describe('segmentation on data accesses (outside 64-bit mode)', () => {
  it('an offset past the DS limit raises #GP(0); past the SS limit (EBP-based) #SS(0); the base is added', async () => {
    const { DS, SS, SEG_BASE, SEG_LIMIT, segOffset } = await import('../../cpu/state.js');
    const t = new Rig(32);
    t.state.setU32(segOffset(DS) + SEG_LIMIT, 0xfff);
    t.state.set64(segOffset(DS) + SEG_BASE, 0x10000, 0);
    t.state.setU32(segOffset(SS) + SEG_LIMIT, 0xfff);
    t.backend.setState(t.state.snapshot());
    dv(t).setUint32(0x10800, 0x5a5a5a5a, true);
    t.run('a100080000'); // mov eax,[0x800] -> linear 0x10800
    expect(t.reg32(RAX)).toBe(0x5a5a5a5a);
    t.run('8b1d00200000'); // mov ebx,[0x2000]: past the DS limit
    expect(t.cpu.lastEvent?.vector).toBe(13);
    const u = new Rig(32);
    u.state.setU32(segOffset(SS) + SEG_LIMIT, 0xfff);
    u.backend.setState(u.state.snapshot());
    u.set(RBP, 0x2000);
    u.run('8b4500'); // mov eax,[ebp]: SS-relative
    expect(u.cpu.lastEvent?.vector).toBe(12);
  });
});

describe('INC/DEC fast paths', () => {
  it('64-bit inc/dec carry across the halves, with and without live flags; dec rcx/jnz counts a loop', () => {
    const t = new Rig(64);
    t.setHex(RAX, '00000000ffffffff'); t.setHex(RDX, '0000000100000000');
    // inc rax (flags dead: the add rewrites them); dec rdx (flags dead); add ebx,1
    t.run('48ffc0 48ffca 83c301');
    expect(t.reg64(RAX)).toBe('0000000100000000');
    expect(t.reg64(RDX)).toBe('00000000ffffffff');
    t.setHex(RAX, 'ffffffffffffffff');
    t.setFlags(CF);
    t.run('48ffc0'); // inc rax -> 0 with ZF=1 and CF kept
    expect(t.reg64(RAX)).toBe('0000000000000000');
    expect(t.flags() & (ZF | CF)).toBe(ZF | CF);
    t.set(RCX, 1000); t.set(RAX, 0);
    t.run('48ffc0 48ffc9 75f8'); // L: inc rax; dec rcx; jnz L
    expect(t.reg32(RAX)).toBe(1000);
  });
});

describe('byte loads', () => {
  it('movzx r32, byte [base+disp] zero-extends in 32- and 64-bit mode (and clears the high half)', () => {
    const t = new Rig(32);
    t.mem.u8[0x3001] = 0xfe;
    t.set(RSI, 0x3000); t.set(RAX, 0xffffffff);
    t.run('0fb64601'); // movzx eax, byte [esi+1]
    expect(t.reg32(RAX)).toBe(0xfe);
    const u = new Rig(64);
    u.mem.u8[0x2fff] = 0x80;
    u.set(RBX, 0x3000); u.setHex(RCX, 'ffffffffffffffff');
    u.run('0fb64bff'); // movzx ecx, byte [rbx-1]
    expect(u.reg64(RCX)).toBe('0000000000000080');
  });
});
