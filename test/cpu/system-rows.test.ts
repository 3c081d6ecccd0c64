// System instructions decoded and executed by the interpreter through the
// system rows (32-bit flat protected mode, paging off, CPL 0).
import { describe, expect, it } from 'vitest';
import { EXIT_HALT } from '../../contracts/backend.js';
import { SYSTEM_EXTENSION } from '../../cpu/system/extension.js';
import {
  CR0, CR0_TS, CS, DR7, FLAG_IF, FLAG_ZF, RAX, RBX, RCX, RDX, SEG_SEL, SS, TSC_AUX, segOffset,
} from '../../cpu/state.js';
import { CODE, Rig } from './harness.js';

const rig = (): Rig => new Rig(32, [SYSTEM_EXTENSION]);

describe('system rows on the interpreter', () => {
  it('CPUID leaf 0 -> "GenuineIntel" in EBX, EDX, ECX', () => {
    const t = rig();
    expect(t.run('31 c0 0f a2')).toBe(EXIT_HALT); // xor eax,eax; cpuid
    expect([t.reg32(RBX), t.reg32(RDX), t.reg32(RCX)]).toEqual([0x756e6547, 0x49656e69, 0x6c65746e]);
  });

  it('WRMSR IA32_TSC = 0x1234 then RDTSC reads it back (virtual time stands still)', () => {
    const t = rig();
    // mov ecx,0x10; mov eax,0x1234; xor edx,edx; wrmsr; xor eax,eax; rdtsc
    t.run('b9 10000000 b8 34120000 31 d2 0f 30 31 c0 0f 31');
    expect([t.reg32(RAX), t.reg32(RDX)]).toEqual([0x1234, 0]);
  });

  it('RDTSCP also returns IA32_TSC_AUX in ECX', () => {
    const t = rig();
    t.state.set64(TSC_AUX, 7, 0);
    t.backend.setState(t.state.snapshot());
    t.run('0f 01 f9');
    expect(t.reg32(RCX)).toBe(7);
  });

  it('RDPID reads IA32_TSC_AUX into a register', () => {
    const t = rig();
    t.state.set64(TSC_AUX, 0x55, 0);
    t.backend.setState(t.state.snapshot());
    t.run('f3 0f c7 fb'); // rdpid ebx
    expect(t.reg32(RBX)).toBe(0x55);
  });

  it('MOV CR0 sets TS, CLTS clears it, MOV EBX,CR0 reads the result; SMSW sees the low word', () => {
    const t = rig();
    // mov eax,cr0; or eax,8; mov cr0,eax; clts; mov ebx,cr0; smsw ecx
    t.run('0f 20 c0 83 c8 08 0f 22 c0 0f 06 0f 20 c3 0f 01 e1');
    expect(t.reg32(RAX) & CR0_TS).toBe(CR0_TS);
    expect(t.reg32(RBX) & CR0_TS).toBe(0);
    expect(t.reg32(RCX) & 0xffff).toBe(t.state.lo(CR0) & 0xffff);
  });

  it('MOV DR7 stores with the fixed bits, MOV ECX,DR7 reads them', () => {
    const t = rig();
    t.run('b8 01000000 0f 23 f8 0f 21 f9'); // mov eax,1; mov dr7,eax; mov ecx,dr7
    expect(t.reg32(RCX)).toBe(0x401);
    expect(t.state.lo(DR7)).toBe(0x401);
  });

  it('POPFD at CPL 0 may set IF; PUSHFD reads it back', () => {
    const t = rig();
    t.run('68 00020000 9d 9c 58'); // push 0x200; popfd; pushfd; pop eax
    expect(t.reg32(RAX) & FLAG_IF).toBe(FLAG_IF);
  });

  it('LAR of a GDT code descriptor sets ZF and returns its access rights; of the null selector clears ZF', () => {
    const t = rig();
    t.mem.write32(8, 0x0000ffff);
    t.mem.write32(12, 0x00cf9a00); // GDT (base 0) entry 1: 32-bit code, DPL 0
    // mov eax,8; lar edx,eax; pushfd; pop ebx; xor eax,eax; lar ecx,eax; pushfd; pop esi
    t.run('b8 08000000 0f 02 d0 9c 5b 31 c0 0f 02 c8 9c 5e');
    expect(t.reg32(RDX) >>> 0).toBe(0x00cf9a00);
    expect(t.reg32(RBX) & FLAG_ZF).toBe(FLAG_ZF);
    expect(t.reg32(6) & FLAG_ZF).toBe(0);
  });

  it('a far CALL in a cached block pushes its own return address on every run (not the last decoded one)', () => {
    const t = rig();
    t.mem.write32(8, 0x0000ffff);
    t.mem.write32(12, 0x00cf9a00); // GDT (base 0) entry 1: 32-bit code, DPL 0
    // target: mov edx,[esp]; add edi,edx; retf  (EDI sums the return addresses pushed)
    t.mem.writeBytes(CODE + 0x40, Uint8Array.from([0x8b, 0x14, 0x24, 0x01, 0xd7, 0xcb]));
    // mov ecx,3; jmp L; L: call 0x08:CODE+0x40; inc eax; dec ecx; jnz L  (then HLT).
    // The CALL is a block of its own; by its second run the decoder has decoded other blocks.
    t.run('b9 03000000 eb 00 9a ' + le32(CODE + 0x40) + ' 0800 40 49 75 f5');
    expect(t.reg32(RAX)).toBe(3);
    expect(t.reg32(RCX)).toBe(0);
    expect(t.reg32(7)).toBe(3 * (CODE + 14)); // EDI
  });

  it('SYSENTER jumps to SYSENTER_EIP with CS from SYSENTER_CS and SS = CS + 8', () => {
    const t = rig();
    // SYSENTER_CS=0x20, EIP=CODE+0x40, ESP=0x9000 via WRMSR; sysenter; (target: hlt)
    const code = 'b9 74010000 b8 20000000 31 d2 0f 30 b9 76010000 b8 ' + le32(CODE + 0x40) + ' 0f 30 ' +
      'b9 75010000 b8 00900000 0f 30 0f 34';
    t.mem.write8(CODE + 0x40, 0xf4);
    t.run(code);
    expect(t.rip()).toBe(CODE + 0x41);
    expect([t.state.u32(segOffset(CS) + SEG_SEL), t.state.u32(segOffset(SS) + SEG_SEL)]).toEqual([0x20, 0x28]);
    expect(t.reg32(4)).toBe(0x9000);
  });
});

function le32(v: number): string {
  return [0, 8, 16, 24].map((s) => ((v >>> s) & 0xff).toString(16).padStart(2, '0')).join('');
}
