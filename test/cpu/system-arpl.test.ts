// 0x63 is ARPL outside 64-bit mode and MOVSXD in it: one opcode, two rows, chosen by mode.
import { describe, expect, it } from 'vitest';
import { EXIT_HALT } from '../../contracts/backend.js';
import { SYSTEM_EXTENSION } from '../../cpu/system/extension.js';
import { disassembleBytes } from '../../cpu/disasm.js';
import { FLAG_ZF, RAX, RBX } from '../../cpu/state.js';
import { fullTable } from '../../cpu/compose.js';
import { CODE, Rig, hex } from './harness.js';

describe('ARPL / MOVSXD (opcode 0x63)', () => {
  it('32-bit: ARPL AX,BX raises RPL 0 to 3 and sets ZF, keeping EAX[31:16]; ARPL AX,CX with a lower RPL clears ZF', () => {
    const t = new Rig(32, [SYSTEM_EXTENSION]);
    // mov eax,0x11223310; mov ebx,3; mov ecx,1; arpl ax,bx; pushfd; pop edx... then arpl ax,cx; pushfd; pop esi
    t.run('b8 10332211 bb 03000000 b9 01000000 63 d8 9c 5a 63 c8 9c 5e');
    expect(t.reg32(RAX) >>> 0).toBe(0x11223313);
    expect(t.reg32(2) & FLAG_ZF).toBe(FLAG_ZF); // EDX: flags after the first ARPL
    expect(t.reg32(6) & FLAG_ZF).toBe(0); // ESI: flags after the second
  });

  it('32-bit: ARPL on a memory selector writes the raised RPL back', () => {
    const t = new Rig(32, [SYSTEM_EXTENSION]);
    t.mem.write16(CODE + 0x800, 0x0028);
    // mov ebx,2; arpl [CODE+0x800],bx
    t.run(`bb 02000000 63 1d ${(CODE + 0x800).toString(16).padStart(8, '0').match(/../g)!.reverse().join('')}`);
    expect(t.mem.read16(CODE + 0x800)).toBe(0x002a);
  });

  it('the composed table decodes 0x63 as ARPL in 16/32-bit code and as MOVSXD in 64-bit code', () => {
    const table = fullTable();
    expect(disassembleBytes(table, hex('63 d8'), 4)).toEqual(['arpl ax,bx']);
    expect(disassembleBytes(table, hex('63 d8'), 2)).toEqual(['arpl ax,bx']);
    expect(disassembleBytes(table, hex('48 63 c3'), 8)).toEqual(['movsxd rax,ebx']);
  });

  it('64-bit: MOVSXD RAX,EBX still sign-extends (integer rows alone, flat 64-bit mode)', () => {
    const t = new Rig(64);
    t.set(RBX, 0x80000001);
    expect(t.run('48 63 c3')).toBe(EXIT_HALT);
    expect(t.reg64(RAX)).toBe('ffffffff80000001');
  });
});
