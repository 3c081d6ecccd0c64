// Decoder edge cases, checked by running the bytes: prefix rules, the 15-byte
// limit, LOCK legality, address-size overrides, RIP-relative operands.
import { describe, expect, it } from 'vitest';
import { decode, Insn } from '../../cpu/decoder.js';
import { FS, RAX, RBX, RCX, SEG_BASE, segOffset } from '../../cpu/state.js';
import { fullTable } from '../../cpu/compose.js';
import { CODE, Rig, hex } from './harness.js';

const table = fullTable();
const dec = (bytes: string, codeSize: number): Insn => { const b = hex(bytes); return decode(table, (k) => b[k] ?? 0, 0, codeSize, new Insn()); };

describe('decoder', () => {
  it('reads ModRM/SIB/displacement/immediate lengths exactly', () => {
    expect(dec('8b04b5000f0000', 4).len).toBe(7);
    expect(dec('c744240401000000', 8).len).toBe(8);
    expect(dec('48b8efcdab8967452301', 8).len).toBe(10);
    expect(dec('66b83412', 4).len).toBe(4);
    expect(dec('66b878563412', 2).len).toBe(6); // 66 in 16-bit code: 32-bit immediate
    expect(dec('67 8b 47 08', 4).len).toBe(4); // 16-bit addressing [bx+disp8]
    expect(dec('c8100001', 4).len).toBe(4);
  });

  it('a legacy prefix after REX cancels the REX (48 66 01 d8 is add ax,bx)', () => {
    const d = dec('48 66 01 d8', 8);
    expect(d.rex).toBe(0);
    expect(d.opSize).toBe(2);
  });

  it('15 bytes is the longest instruction: a 16th byte raises #GP(0)', () => {
    const t = new Rig(64);
    t.run('66'.repeat(14) + '90');
    expect(t.cpu.lastEvent).toBeNull();
    t.run('66'.repeat(15) + '90');
    expect(t.cpu.lastEvent?.vector).toBe(13);
  });

  it('LOCK with a register destination or on MOV is #UD; LOCK ADD to memory runs', () => {
    const t = new Rig(32);
    t.run('f0 01 d8');
    expect(t.cpu.lastEvent?.vector).toBe(6);
    const u = new Rig(32);
    u.run('f0 89 18');
    expect(u.cpu.lastEvent?.vector).toBe(6);
    const v = new Rig(32);
    v.set(RAX, 0x3000); v.set(RBX, 5);
    v.run('f0 01 18');
    expect(v.cpu.lastEvent).toBeNull();
    expect(v.mem.u8[0x3000]).toBe(5);
  });

  it('64-bit mode: RIP-relative loads are relative to the next instruction; 67 gives 32-bit addresses', () => {
    const t = new Rig(64);
    new DataView(t.mem.buffer).setUint32(CODE + 6 + 0x100, 0xcafe, true);
    t.run('8b0500010000'); // mov eax,[rip+0x100]
    expect(t.reg32(RAX)).toBe(0xcafe);
    t.setHex(RBX, 'ffffffff00003000');
    new DataView(t.mem.buffer).setUint32(0x3000, 0x1234, true);
    t.run('678b0b'); // mov ecx,[ebx]: the high half of RBX is ignored
    expect(t.reg32(RCX)).toBe(0x1234);
  });

  it('64-bit mode ignores ES/CS/SS/DS overrides but adds the FS base', () => {
    const t = new Rig(64);
    t.state.set64(segOffset(FS) + SEG_BASE, 0x2000, 0);
    t.backend.setState(t.state.snapshot());
    new DataView(t.mem.buffer).setUint32(0x3000, 0x11, true);
    new DataView(t.mem.buffer).setUint32(0x5000, 0x22, true);
    t.set(RBX, 0x3000);
    t.run('268b03'); // es: mov eax,[rbx] -> 0x3000
    expect(t.reg32(RAX)).toBe(0x11);
    t.run('648b03'); // fs: mov eax,[rbx] -> 0x5000
    expect(t.reg32(RAX)).toBe(0x22);
  });

  it('opcodes with no row raise #UD at the right RIP; REX-only bytes are prefixes in 64-bit mode', () => {
    const t = new Rig(64);
    t.run('90 0f04');
    expect(t.cpu.lastEvent?.vector).toBe(6);
    expect(t.rip()).toBe(CODE + 1);
    const u = new Rig(32);
    u.run('40'); // inc eax outside 64-bit mode
    expect(u.reg32(RAX)).toBe(1);
  });
});
