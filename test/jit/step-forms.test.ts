// bench/jit-profile.ts --steps: the forms compiled code hands to the interpreter, counted through
// the JIT's onStep hook and named from their disassembly.
import { describe, expect, it } from 'vitest';
import { JitBackend } from '../../cpu/jit/backend.js';
import { fullTable } from '../../cpu/compose.js';
import { StepForms, formOf } from '../../bench/step-forms.js';
import { Rig } from '../cpu/harness.js';

describe('step forms', () => {
  it('names operand shapes: registers by size, memory by size and addressing, immediates', () => {
    expect(formOf('lea rcx,[rbx+rsi*1+0x8]')).toBe('lea r64,[b+i*s+d]');
    expect(formOf('movzx eax,WORD PTR [rbp+0x8]')).toBe('movzx r32,m16[b+d]');
    expect(formOf('mov rax,QWORD PTR [rip+0x10]')).toBe('mov r64,m64[rip+d]');
    expect(formOf('mov eax,DWORD PTR [esi*4+0xf00]')).toBe('mov r32,m32[i*s+d]');
    expect(formOf('mov rax,QWORD PTR ds:0xf0')).toBe('mov r64,m64[abs]');
    expect(formOf('mov BYTE PTR [ebp+0x0],0x1')).toBe('mov m8[b+d],imm');
    expect(formOf('lock cmpxchg DWORD PTR [esi],ebx')).toBe('lock cmpxchg m32[b+d],r32');
    expect(formOf('sete cl')).toBe('setcc r8');
    expect(formOf('jne 0x10')).toBe('jcc rel');
  });

  it('counts what compiled code stepped, by form', () => {
    const t = new Rig(32, [], 'jit');
    const jit = (t.backend as JitBackend).jit, forms = new StepForms();
    jit.onStep = (b, i, slow) => { forms.count(b, i, slow, 4); };
    // mov ecx, 50; L: adc eax, ebx; add eax, ebx; bswap edx; dec ecx; jnz L
    t.run('b9 32000000 11 d8 01 d8 0f ca 49 75 f7');
    const got = forms.forms(fullTable(), (p) => t.mem.u8[p]);
    // (the HLT the rig appends is compiled too, and stepped once)
    expect(got.map(([f]) => f).sort()).toEqual(['adc r32,r32 (32)', 'bswap r32 (32)', 'hlt (32)']);
    expect(got.reduce((n, [, k]) => n + k, 0)).toBe(forms.total);
    expect(forms.total).toBeGreaterThan(80);
  });
});
