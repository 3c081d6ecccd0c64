// 64-bit code's memory forms that xz's decoder in Linux's decompressor runs hottest
// (bench/linux-decompress.mjs --profile): MOV/MOVZX/LEA through [base + index * scale + disp],
// ALU r, [mem], CMOVcc r, r and IMUL r32. Every case is worked out by hand: carries into the high
// half, negative displacements and indexes, high-byte registers, page-crossing words, flags, and
// the non-canonical faults (#GP, #SS through RSP/RBP), under interp and jit.
import { describe, expect, it } from 'vitest';
import { EXIT_HALT } from '../../contracts/backend.js';
import { RAX, RBP, RBX, RCX, RDI, RDX, RSI, RSP } from '../../cpu/state.js';
import { Rig } from './harness.js';

const R8 = 8, R9 = 9, R10 = 10, R11 = 11;
const CF = 0x1, ZF = 0x40, SF = 0x80, OF = 0x800;

type Regs = Record<number, string>;

for (const accel of ['interp', 'jit'] as const) {
  describe(`64-bit [base + index * scale + disp] forms of the xz decoder (${accel})`, () => {
    const t = new Rig(64, [], accel);
    /** Set registers (16 hex digits), write memory, run `code`; the exit must be HLT. */
    function run(code: string, regs: Regs, mem: [number, number[]][] = []): void {
      t.reset();
      for (const [n, v] of Object.entries(regs)) t.setHex(Number(n), v);
      for (const [a, bytes] of mem) t.mem.writeBytes(a, Uint8Array.from(bytes));
      expect(t.run(code)).toBe(EXIT_HALT);
    }
    const byte = (a: number): number => t.mem.view(a, 1)[0];
    const lastVector = (): number | undefined => t.cpu.lastEvent?.vector;

    it('LEA r64 carries into the high half; LEA r32 keeps the low half; negative bases and displacements', () => {
      run('4c8d4a01', { [RDX]: '00000001ffffffff' }); // lea r9, [rdx + 1]
      expect(t.reg64(R9)).toBe('0000000200000000');
      run('488d74d1f0', { [RCX]: '0000000000000020', [RDX]: '0000000180000000' }); // lea rsi, [rcx + rdx*8 - 0x10]
      expect(t.reg64(RSI)).toBe('0000000c00000010');
      run('418d340b', { [R11]: 'fffffffffffffff0', [RCX]: '0000000000000020', [RSI]: 'ffffffffffffffff' }); // lea esi, [r11 + rcx]
      expect(t.reg64(RSI)).toBe('0000000000000010');
      run('498d3c70', { [R8]: 'ffffffffffffff00', [RSI]: '0000000000000010' }); // lea rdi, [r8 + rsi*2]
      expect(t.reg64(RDI)).toBe('ffffffffffffff20');
    });

    it('MOVZX byte/word with an index, a word across a page boundary, a negative index', () => {
      run('410fb60c08', { [R8]: '0000000000003000', [RCX]: '0000000000000005' }, [[0x3005, [0xab]]]); // movzx ecx, byte [r8 + rcx]
      expect(t.reg64(RCX)).toBe('00000000000000ab');
      run('440fb70f', { [RDI]: '0000000000003fff', [R9]: 'ffffffffffffffff' }, [[0x3fff, [0x34, 0x12]]]); // movzx r9d, word [rdi]
      expect(t.reg64(R9)).toBe('0000000000001234');
      run('480fb7447707', { [RDI]: '0000000000003000', [RSI]: 'ffffffffffffffff', [RAX]: '1111111111111111' }, [[0x3005, [0xab, 0xcd]]]); // movzx rax, word [rdi + rsi*2 + 7]
      expect(t.reg64(RAX)).toBe('000000000000cdab');
    });

    it('MOV byte/word/dword/qword loads and stores: high-byte registers, merges into the low byte/word, page crossing', () => {
      run('41880c10', { [R8]: '0000000000003100', [RDX]: '0000000000000001', [RCX]: '0000000012345678' }, [[0x3100, [1, 2, 3]]]); // mov [r8 + rdx], cl
      expect([byte(0x3100), byte(0x3101), byte(0x3102)]).toEqual([1, 0x78, 3]);
      run('88643303', { [RBX]: '0000000000003100', [RSI]: '0000000000000010', [RAX]: '000000000000a5b6' }); // mov [rbx + rsi + 3], ah
      expect(byte(0x3113)).toBe(0xa5);
      run('668907', { [RDI]: '0000000000003fff', [RAX]: '000000000000beef' }); // mov [rdi], ax
      expect([byte(0x3fff), byte(0x4000)]).toEqual([0xef, 0xbe]);
      run('8a643303', { [RBX]: '0000000000003100', [RSI]: '0000000000000010', [RAX]: '1122334455667788' }, [[0x3113, [0x99]]]); // mov ah, [rbx + rsi + 3]
      expect(t.reg64(RAX)).toBe('1122334455669988');
      run('668b04b7', { [RDI]: '0000000000003200', [RSI]: '0000000000000002', [RAX]: '1122334455667788' }, [[0x3208, [0x21, 0x43]]]); // mov ax, [rdi + rsi*4]
      expect(t.reg64(RAX)).toBe('1122334455664321');
      run('488b14c8', { [RAX]: '0000000000003300', [RCX]: '0000000000000003' }, [[0x3318, [0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01]]]); // mov rdx, [rax + rcx*8]
      expect(t.reg64(RDX)).toBe('0123456789abcdef');
      run('89548808', { [RAX]: '0000000000003400', [RCX]: 'fffffffffffffffe', [RDX]: 'ffffffffcafef00d' }); // mov [rax + rcx*4 + 8], edx
      expect(Array.from(t.mem.view(0x3400, 5))).toEqual([0x0d, 0xf0, 0xfe, 0xca, 0]);
    });

    it('ALU r, [mem]: CMP r64 sets the flags only, ADD r32 zero-extends, SUB r64 borrows across halves', () => {
      run('483b7028', { [RAX]: '0000000000003500', [RSI]: '00000000ffffffff' }, [[0x3528, [0, 0, 0, 0, 1, 0, 0, 0]]]); // cmp rsi, [rax + 0x28]
      expect(t.reg64(RSI)).toBe('00000000ffffffff');
      expect(t.flags() & (CF | ZF | SF | OF)).toBe(CF | SF);
      run('030c88', { [RAX]: '0000000000003600', [RCX]: '0000000000000001' }, [[0x3604, [0xff, 0xff, 0xff, 0xff]]]); // add ecx, [rax + rcx*4]
      expect(t.reg64(RCX)).toBe('0000000000000000');
      expect(t.flags() & (CF | ZF | SF | OF)).toBe(CF | ZF);
      run('4c2b54f3f8', { [RBX]: '0000000000003700', [RSI]: '0000000000000001', [R10]: '0000000200000000' }, [[0x3700, [1, 0, 0, 0, 1, 0, 0, 0]]]); // sub r10, [rbx + rsi*8 - 8]
      expect(t.reg64(R10)).toBe('00000000ffffffff');
      expect(t.flags() & (CF | ZF | SF | OF)).toBe(0);
    });

    it('CMOVcc r, r: a taken 64-bit move, a not-taken one; a not-taken 32-bit CMOV still clears the high half', () => {
      const regs = { [RSI]: '1111111111111111', [R10]: '2222222222222222', [RCX]: 'aaaaaaaabbbbbbbb', [RDX]: 'cccccccccccccccc' };
      run('31c0 490f44f2 0f45ca', regs); // xor eax, eax (ZF=1); cmove rsi, r10; cmovne ecx, edx
      expect([t.reg64(RSI), t.reg64(RCX)]).toEqual(['2222222222222222', '00000000bbbbbbbb']);
      run('83c801 490f44f2 0f45ca', regs); // or eax, 1 (ZF=0); cmove rsi, r10; cmovne ecx, edx
      expect([t.reg64(RSI), t.reg64(RCX)]).toEqual(['1111111111111111', '00000000cccccccc']);
    });

    it('IMUL r32, r32 and r32, r32, imm: the low half zero-extended, CF/OF on signed overflow', () => {
      run('410faff1', { [RSI]: 'ffffffff00010000', [R9]: '0000000000010000' }); // imul esi, r9d
      expect(t.reg64(RSI)).toBe('0000000000000000');
      expect(t.flags() & (CF | OF)).toBe(CF | OF);
      run('4169f101000100', { [R9]: '0000000000000003' }); // imul esi, r9d, 0x10001
      expect(t.reg64(RSI)).toBe('0000000000030003');
      expect(t.flags() & (CF | OF)).toBe(0);
      run('416bf1fe', { [R9]: '0000000040000000' }); // imul esi, r9d, -2: -2^31 fits
      expect(t.reg64(RSI)).toBe('0000000080000000');
      expect(t.flags() & (CF | OF)).toBe(0);
      run('416bf1fe', { [R9]: '0000000040000001' }); // -2^31 - 2 does not
      expect(t.reg64(RSI)).toBe('000000007ffffffe');
      expect(t.flags() & (CF | OF)).toBe(CF | OF);
    });

    it('a non-canonical address faults before anything is written: #GP through RAX, #SS through RSP and RBP', () => {
      for (const [code, base, vector] of [['488b14c8', RAX, 13], ['8a040c', RSP, 12], ['0fb6440d00', RBP, 12], ['41880c10', R8, 13]] as const) {
        t.reset();
        t.cpu.lastEvent = null;
        t.setHex(base, '0000800000000000');
        t.setHex(RCX, '0000000000000001');
        t.setHex(RDX, '5555555555555555');
        t.run(code);
        expect(lastVector()).toBe(vector);
        expect(t.reg64(RDX)).toBe('5555555555555555');
      }
      // 0x7fffffff0000 + 0x2663 * 8 = 0x800000003318: non-canonical only through the low half's carry.
      t.reset();
      t.cpu.lastEvent = null;
      t.setHex(RAX, '00007fffffff0000');
      t.setHex(RCX, '0000000000002663');
      t.run('488b14c8');
      expect(lastVector()).toBe(13);
    });
  });
}
