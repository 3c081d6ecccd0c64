// Decoder and disassembler on known encodings. The expected text is what
// `objdump -D -b binary -M intel` (GNU binutils) prints for the same bytes
// (recorded once; comments after '#' dropped); null = not checked in that mode.
import { describe, expect, it } from 'vitest';
import { disassembleBytes } from '../../cpu/disasm.js';
import { fullTable } from '../../cpu/compose.js';
import { hex } from './harness.js';

const table = fullTable();

/** [bytes, 32-bit text, 64-bit text]. */
const CASES: [string, string | null, string | null][] = [
  ['01d8', 'add eax,ebx', 'add eax,ebx'],
  ['4801d8', 'dec eax', 'add rax,rbx'],
  ['6601d8', 'add ax,bx', 'add ax,bx'],
  ['00e0', 'add al,ah', 'add al,ah'],
  ['4000e0', 'inc eax', 'add al,spl'],
  ['8b4508', 'mov eax,DWORD PTR [ebp+0x8]', 'mov eax,DWORD PTR [rbp+0x8]'],
  ['488b0425f0000000', 'dec eax', 'mov rax,QWORD PTR ds:0xf0'],
  ['8b04b5000f0000', 'mov eax,DWORD PTR [esi*4+0xf00]', 'mov eax,DWORD PTR [rsi*4+0xf00]'],
  ['488d4c3308', 'dec eax', 'lea rcx,[rbx+rsi*1+0x8]'],
  ['8d44cd00', 'lea eax,[ebp+ecx*8+0x0]', 'lea eax,[rbp+rcx*8+0x0]'],
  ['48890d10000000', 'dec eax', 'mov QWORD PTR [rip+0x10],rcx'],
  ['c744240401000000', 'mov DWORD PTR [esp+0x4],0x1', 'mov DWORD PTR [rsp+0x4],0x1'],
  ['83c0ff', 'add eax,0xffffffff', 'add eax,0xffffffff'],
  ['4883e801', 'dec eax', 'sub rax,0x1'],
  ['81e1ff000000', 'and ecx,0xff', 'and ecx,0xff'],
  ['b8efbeadde', 'mov eax,0xdeadbeef', 'mov eax,0xdeadbeef'],
  ['48b8efcdab8967452301', 'dec eax', 'movabs rax,0x123456789abcdef'],
  ['c6450001', 'mov BYTE PTR [ebp+0x0],0x1', 'mov BYTE PTR [rbp+0x0],0x1'],
  ['e8fbffffff', 'call 0x0', 'call 0x0'],
  ['ebfe', 'jmp 0x0', 'jmp 0x0'],
  ['7410', 'je 0x12', 'je 0x12'],
  ['0f8410000000', 'je 0x16', 'je 0x16'],
  ['c3', 'ret', 'ret'],
  ['c20800', 'ret 0x8', 'ret 0x8'],
  ['ff1530000000', 'call DWORD PTR ds:0x30', 'call QWORD PTR [rip+0x30]'],
  ['ffe0', 'jmp eax', 'jmp rax'],
  ['50', 'push eax', 'push rax'],
  ['4150', 'inc ecx', 'push r8'],
  ['6a01', 'push 0x1', 'push 0x1'],
  ['68ff000000', 'push 0xff', 'push 0xff'],
  ['f3a4', 'rep movs BYTE PTR es:[edi],BYTE PTR ds:[esi]', 'rep movs BYTE PTR es:[rdi],BYTE PTR ds:[rsi]'],
  ['f3ab', 'rep stos DWORD PTR es:[edi],eax', 'rep stos DWORD PTR es:[rdi],eax'],
  ['f2ae', 'repnz scas al,BYTE PTR es:[edi]', 'repnz scas al,BYTE PTR es:[rdi]'],
  ['a5', 'movs DWORD PTR es:[edi],DWORD PTR ds:[esi]', 'movs DWORD PTR es:[rdi],DWORD PTR ds:[rsi]'],
  ['0fb6c3', 'movzx eax,bl', 'movzx eax,bl'],
  ['480fbfcb', 'dec eax', 'movsx rcx,bx'],
  ['4863d3', 'dec eax', 'movsxd rdx,ebx'],
  ['0f45c3', 'cmovne eax,ebx', 'cmovne eax,ebx'],
  ['0f94c1', 'sete cl', 'sete cl'],
  ['0fc8', 'bswap eax', 'bswap eax'],
  ['93', 'xchg ebx,eax', 'xchg ebx,eax'],
  ['99', 'cdq', 'cdq'],
  ['4899', 'dec eax', 'cqo'],
  ['f7e3', 'mul ebx', 'mul ebx'],
  ['f7f3', 'div ebx', 'div ebx'],
  ['480fafc3', 'dec eax', 'imul rax,rbx'],
  ['6bc00a', 'imul eax,eax,0xa', 'imul eax,eax,0xa'],
  ['69c0e8030000', 'imul eax,eax,0x3e8', 'imul eax,eax,0x3e8'],
  ['d1e0', 'shl eax,1', 'shl eax,1'],
  ['c1f803', 'sar eax,0x3', 'sar eax,0x3'],
  ['d3e8', 'shr eax,cl', 'shr eax,cl'],
  ['0fa4d804', 'shld eax,ebx,0x4', 'shld eax,ebx,0x4'],
  ['0fadd8', 'shrd eax,ebx,cl', 'shrd eax,ebx,cl'],
  ['0fa3d8', 'bt eax,ebx', 'bt eax,ebx'],
  ['0fbae005', 'bt eax,0x5', 'bt eax,0x5'],
  ['0fbcc3', 'bsf eax,ebx', 'bsf eax,ebx'],
  ['f00fb11e', 'lock cmpxchg DWORD PTR [esi],ebx', 'lock cmpxchg DWORD PTR [rsi],ebx'],
  ['0fc1d8', 'xadd eax,ebx', 'xadd eax,ebx'],
  ['f00fc70e', 'lock cmpxchg8b QWORD PTR [esi]', 'lock cmpxchg8b QWORD PTR [rsi]'],
  ['cd80', 'int 0x80', 'int 0x80'],
  ['e460', 'in al,0x60', 'in al,0x60'],
  ['ee', 'out dx,al', 'out dx,al'],
  ['c9', 'leave', 'leave'],
  ['c8100000', 'enter 0x10,0x0', 'enter 0x10,0x0'],
  ['90', 'nop', 'nop'],
  ['0f1f4000', 'nop DWORD PTR [eax+0x0]', 'nop DWORD PTR [rax+0x0]'],
  ['0f1f840000000000', 'nop DWORD PTR [eax+eax*1+0x0]', 'nop DWORD PTR [rax+rax*1+0x0]'],
  ['f390', 'pause', 'pause'],
  ['8cd8', 'mov eax,ds', 'mov eax,ds'],
  ['8ed8', 'mov ds,eax', 'mov ds,eax'],
  ['a1f0000000', 'mov eax,ds:0xf0', null],
  ['26a1f0000000', 'mov eax,es:0xf0', null],
  ['e2fe', 'loop 0x0', 'loop 0x0'],
];

describe('disassembler matches objdump -M intel on known encodings', () => {
  for (const mode of [32, 64] as const) {
    it(`${mode}-bit mode: ${CASES.length} encodings`, () => {
      const bad: string[] = [];
      for (const [bytes, t32, t64] of CASES) {
        const want = mode === 32 ? t32 : t64;
        if (want === null) continue;
        const got = disassembleBytes(table, hex(bytes), mode === 32 ? 4 : 8)[0];
        if (got !== want) bad.push(`${bytes}: got '${got}', want '${want}'`);
      }
      expect(bad).toEqual([]);
    });
  }

  it('16-bit addressing forms: [bx+si], [bp+disp8], absolute word', () => {
    expect(disassembleBytes(table, hex('8b00 8b4604 a11234 8b1e3412'), 2)).toEqual([
      'mov ax,WORD PTR [bx+si]', 'mov ax,WORD PTR [bp+0x4]', 'mov ax,ds:0x3412', 'mov bx,WORD PTR ds:0x1234',
    ]);
  });

  it('undefined opcodes and truncated instructions come out as (bad), one byte long', () => {
    expect(disassembleBytes(table, hex('0f0b 0f04'), 8)).toEqual(['ud2', '(bad) 0xf']);
  });
});
