// The general memory fast ops (cpu/fastops.ts LEA_M32 .. STORE_MI, NOP): SIB and RIP-relative
// addresses, MOVZX/MOVSX/MOVSXD loads, register and immediate stores, exact values including
// the carry into an address's high half, and precise faults (the faulting instruction changes
// nothing, the ones before it are done). Under npm run test:jit the same cases run compiled.
import { describe, expect, it } from 'vitest';
import { ATTR_DB, DS, RAX, RBP, RCX, RDI, RDX, RSI } from '../../cpu/state.js';
import { CODE, Rig } from './harness.js';
import { DATA as DATA_RW, VEC_GP, expectFault, expectNoFault, le32, seg } from './segment-rig.js';

const DATA = 0x20000;

describe('general memory fast ops, 64-bit mode', () => {
  it('LEA through base + index*scale + disp carries into the high half; LEA r32 keeps the low half', () => {
    const t = new Rig(64);
    t.setHex(RSI, '00000001fffffff0'); t.set(RBP, 3);
    expectNoFault(t, '488d44ee10 8d4cee10'); // lea rax,[rsi+rbp*8+0x10]; lea ecx,[rsi+rbp*8+0x10]
    expect(t.reg64(RAX)).toBe('0000000200000018');
    expect(t.reg64(RCX)).toBe('0000000000000018');
  });

  it('MOVZX/MOVSX byte and word, MOVSXD and MOV r64 through [base+index*scale+disp]', () => {
    const t = new Rig(64);
    t.mem.writeBytes(DATA + 0x10, new Uint8Array([0x80, 0x01, 0x80, 0xfe, 0xff, 0xff, 0x7f, 0x55]));
    t.set(RSI, DATA); t.set(RBP, 4);
    expectNoFault(t, '0fb744ae00'); // movzx eax,word [rsi+rbp*4+0]: 0x0180
    expect(t.reg64(RAX)).toBe('0000000000000180');
    expectNoFault(t, '480fbe44ae00'); // movsx rax,byte [rsi+rbp*4]: 0x80
    expect(t.reg64(RAX)).toBe('ffffffffffffff80');
    expectNoFault(t, '0fbf44ae01'); // movsx eax,word [rsi+rbp*4+1]: 0x8001 -> 0xffff8001, high half clear
    expect(t.reg64(RAX)).toBe('00000000ffff8001');
    expectNoFault(t, '486344ae02'); // movsxd rax,dword [rsi+rbp*4+2]: 0xfffffe80
    expect(t.reg64(RAX)).toBe('fffffffffffffe80');
    expectNoFault(t, '488b44ae00'); // mov rax,[rsi+rbp*4]
    expect(t.reg64(RAX)).toBe('557ffffffe800180');
  });

  it('RIP-relative loads and LEA count from the end of the instruction', () => {
    const t = new Rig(64);
    // mov rax,[rip+2]; jmp +8; dq 0x1122334455667788; lea rdx,[rip-7]
    expectNoFault(t, '488b0502000000 eb08 8877665544332211 488d15f9ffffff');
    expect(t.reg64(RAX)).toBe('1122334455667788');
    expect(t.reg64(RDX)).toBe((CODE + 24 - 7).toString(16).padStart(16, '0'));
  });

  it('stores of registers (byte, word, qword) and of sign-extended immediates', () => {
    const t = new Rig(64);
    t.set(RSI, DATA); t.set(RBP, 2); t.setHex(RAX, '8877665544332211'); t.set(RCX, 0xabcd);
    // mov [rsi+rbp*2],al; mov [rsi+rbp*2+2],cx; mov [rsi+rbp*8+0x10],rax; mov qword [rsi+rbp*8+0x20],-2; mov byte [rsi+rbp*1+0x40],0x99; mov word [rsi+0x50],0x1234
    expectNoFault(t, '88446e00 66894c6e02 488944ee10 48c744ee20feffffff c6442e4099 66c746503412');
    const u8 = t.mem.u8;
    expect([...u8.slice(DATA + 4, DATA + 8)]).toEqual([0x11, 0, 0xcd, 0xab]);
    expect([...u8.slice(DATA + 0x20, DATA + 0x28)]).toEqual([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]);
    expect([...u8.slice(DATA + 0x30, DATA + 0x38)]).toEqual([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(u8[DATA + 0x42]).toBe(0x99);
    expect([...u8.slice(DATA + 0x50, DATA + 0x52)]).toEqual([0x34, 0x12]);
  });

  it('a non-canonical SIB address is #GP(0) at that instruction; the LEA before it is done, the load changes nothing', () => {
    const t = new Rig(64);
    t.setHex(RSI, '0000800000000000'); t.set(RBP, 1); t.set(RAX, 0x77);
    expectFault(t, '488d54ae00 488b44ae00', VEC_GP, 5); // lea rdx,[rsi+rbp*4]; mov rax,[rsi+rbp*4]
    expect(t.reg64(RDX)).toBe('0000800000000004');
    expect(t.reg64(RAX)).toBe('0000000000000077');
  });

  it('ALU with a memory operand: RMW, compare and test set the flags as the register forms do', () => {
    const t = new Rig(64);
    const CF = 1, ZF = 0x40, SF = 0x80, OF = 0x800, ARITH = 0x8d5;
    t.set(RSI, DATA); t.set(RBP, 2); t.set(RAX, 1); t.set(RCX, 0x8000);
    t.mem.writeBytes(DATA + 8, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x00, 0x80]));
    expectNoFault(t, '480144ae00'); // add [rsi+rbp*4],rax: 0xffff_ffff_ffff_ffff + 1
    expect(t.mem.read32(DATA + 8) | t.mem.read32(DATA + 12)).toBe(0);
    expect(t.flags() & ARITH & (CF | ZF | SF | OF)).toBe(CF | ZF);
    expectNoFault(t, '807cae0880'); // cmp byte [rsi+rbp*4+8],0x80: 0x7f - 0x80
    expect(t.flags() & (CF | ZF | SF | OF)).toBe(CF | SF | OF);
    expect(t.mem.u8[DATA + 16]).toBe(0x7f);
    expectNoFault(t, '66294cae0a'); // sub word [rsi+rbp*4+10],cx: 0x8000 - 0x8000
    expect(t.mem.read32(DATA + 16)).toBe(0x7f);
    expect(t.flags() & (CF | ZF | SF | OF)).toBe(ZF);
    expectNoFault(t, 'f744ae0800000080 0344ae08'); // test dword [rsi+rbp*4+8],0x80000000; add eax,[rsi+rbp*4+8]
    expect(t.reg64(RAX)).toBe('0000000000000080');
    expect(t.flags() & (CF | ZF | SF | OF)).toBe(0);
  });

  it('multi-byte NOPs never touch their operand', () => {
    const t = new Rig(64);
    t.setHex(RAX, '0000800000000000');
    expectNoFault(t, '0f1f4000 0f1f840000000000 660f1f440000 90');
    expect(t.rip()).toBe(CODE + 20); // past the HLT after the 19 bytes
  });
});

describe('byte register ALU fast ops', () => {
  it('AH..BH and AL..BL: the other bytes stay, flags as for any byte op', () => {
    const t = new Rig(32);
    const CF = 1, ZF = 0x40, SF = 0x80, OF = 0x800;
    t.set(RAX, 0xaabb1234); t.set(RCX, 0x00008000);
    expectNoFault(t, '28e0'); // sub al,ah: 0x34 - 0x12
    expect(t.reg32(RAX)).toBe(0xaabb1222);
    expectNoFault(t, '28c4'); // sub ah,al: 0x12 - 0x22 = 0xf0, borrow
    expect(t.reg32(RAX)).toBe(0xaabbf022);
    expect(t.flags() & (CF | ZF | SF | OF)).toBe(CF | SF);
    expectNoFault(t, '80fd80 84c9'); // cmp ch,0x80: equal; test cl,cl: zero
    expect(t.flags() & (CF | ZF | SF | OF)).toBe(ZF);
    expect(t.reg32(RCX)).toBe(0x8000);
  });
});

describe('CMOVcc, SETcc and NOT register fast ops', () => {
  it('a taken 64-bit CMOV copies, a 32-bit one not taken still clears bits 63:32, SETcc writes AH alone, NOT r32 clears bits 63:32', () => {
    const t = new Rig(64);
    t.set(RAX, 1); t.set(RCX, 2); t.setHex(RDX, 'ffffffffffffffff'); t.setHex(RSI, '1122334455667788'); t.setHex(RDI, 'aaaaaaaabbbbbbbb');
    expectNoFault(t, '4839c8 480f4cd6 0f4dfe 0f9cc4 48f7d6 f7d1'); // cmp rax,rcx; cmovl rdx,rsi; cmovge edi,esi; setl ah; not rsi; not ecx
    expect(t.reg64(RDX)).toBe('1122334455667788');
    expect(t.reg64(RSI)).toBe('eeddccbbaa998877');
    expect(t.reg64(RCX)).toBe('00000000fffffffd');
    expect(t.reg64(RDI)).toBe('00000000bbbbbbbb');
    expect(t.reg64(RAX)).toBe('0000000000000101');
  });
});

describe('general memory fast ops, 32-bit mode', () => {
  it('SIB loads, stores and LEA; the segment limit counts the whole access', () => {
    const t = new Rig(32);
    t.mem.writeBytes(DATA + 0x100, new Uint8Array([0xfe, 0xff, 0x34, 0x12]));
    t.set(RSI, DATA); t.set(RBP, 0x40);
    expectNoFault(t, `0fbf44ae00 8d4cae10 c744ae0878563412`); // movsx eax,word [esi+ebp*4]; lea ecx,[esi+ebp*4+0x10]; mov dword [esi+ebp*4+8],0x12345678
    expect(t.reg32(RAX)).toBe(0xfffffffe);
    expect(t.reg32(RCX)).toBe(DATA + 0x110);
    expect(t.mem.read32(DATA + 0x108)).toBe(0x12345678);
    seg(t, DS, DATA, 0xfff, DATA_RW | ATTR_DB);
    expectNoFault(t, `be${le32(0xfbf)} 0fb6042e`); // mov esi,0xfbf; movzx eax,byte [esi+ebp]: offset 0xfff
    t.set(RAX, 0x55);
    expectFault(t, `be${le32(0xfbf)} 0fb7042e`, VEC_GP, 5); // movzx eax,word [esi+ebp]: 0xfff..0x1000
    expect(t.reg32(RAX)).toBe(0x55);
    expect(t.reg32(RSI)).toBe(0xfbf);
  });
});
