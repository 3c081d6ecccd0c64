import { describe, expect, it } from 'vitest';
import { RAX, RCX, RDI, RDX, RSI } from '../../cpu/state.js';
import { Rig } from './harness.js';

const le32 = (v: number): string => [0, 8, 16, 24].map((s) => ((v >>> s) & 0xff).toString(16).padStart(2, '0')).join('');
const ZF = 0x40;

describe('string instructions', () => {
  it('rep movsb copies 300 bytes forward across a page boundary; ESI/EDI advance, ECX ends 0', () => {
    const t = new Rig(32);
    const src = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff);
    t.mem.writeBytes(0x2f00, src);
    t.run(`be${le32(0x2f00)} bf${le32(0x5f80)} b9${le32(300)} f3a4`);
    expect(Array.from(t.mem.view(0x5f80, 300))).toEqual(Array.from(src));
    expect(t.reg32(RSI)).toBe(0x2f00 + 300);
    expect(t.reg32(RDI)).toBe(0x5f80 + 300);
    expect(t.reg32(RCX)).toBe(0);
  });

  it('overlapping rep movsb (dst = src + 1) replicates the first byte, as the element order requires', () => {
    const t = new Rig(32);
    t.mem.writeBytes(0x3000, Uint8Array.from([0xaa, 1, 2, 3, 4, 5, 6, 7, 8]));
    t.run(`be${le32(0x3000)} bf${le32(0x3001)} b9${le32(8)} f3a4`);
    expect(Array.from(t.mem.view(0x3000, 9))).toEqual(new Array(9).fill(0xaa));
  });

  it('std; rep movsd copies downward and decrements the indices by 4', () => {
    const t = new Rig(32);
    t.mem.writeBytes(0x3000, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    t.run(`fd be${le32(0x3004)} bf${le32(0x4004)} b9${le32(2)} f3a5 fc`);
    expect(Array.from(t.mem.view(0x4000, 8))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(t.reg32(RSI)).toBe(0x2ffc);
  });

  it('rep stosq in 64-bit mode fills with RAX', () => {
    const t = new Rig(64);
    t.setHex(RAX, '1122334455667788');
    t.run(`48bf${le32(0x5000)}00000000 b903000000 f348ab`);
    const dv = new DataView(t.mem.buffer);
    for (let i = 0; i < 3; i++) expect(dv.getBigUint64(0x5000 + 8 * i, true).toString(16)).toBe('1122334455667788');
    expect(dv.getUint32(0x5018, true)).toBe(0);
    expect(t.reg32(RDI)).toBe(0x5018);
  });

  it('repe cmpsb stops after the first differing byte with ZF=0 and ECX counting the rest', () => {
    const t = new Rig(32);
    t.mem.writeBytes(0x3000, new TextEncoder().encode('hello world'));
    t.mem.writeBytes(0x4000, new TextEncoder().encode('hello there'));
    t.run(`be${le32(0x3000)} bf${le32(0x4000)} b9${le32(11)} f3a6`);
    expect(t.flags() & ZF).toBe(0);
    expect(t.reg32(RCX)).toBe(11 - 7);
    expect(t.reg32(RSI)).toBe(0x3007);
  });

  it('repne scasb finds the terminating NUL (strlen idiom)', () => {
    const t = new Rig(32);
    t.mem.writeBytes(0x3000, new TextEncoder().encode('emulator\0'));
    t.run(`bf${le32(0x3000)} 31c0 b9ffffffff f2ae`);
    expect(t.flags() & ZF).toBe(ZF);
    expect(~t.reg32(RCX) - 1).toBe(8);
  });

  it('16-bit addressing wraps SI at 64 KiB: lodsw at SI=0xfffe leaves SI=0 and keeps ESI bits 16-31', () => {
    const t = new Rig(16);
    t.mem.writeBytes(0xfffe, Uint8Array.from([0x34, 0x12]));
    t.set(RSI, 0x5fffe);
    t.run('ad');
    expect(t.reg32(RSI)).toBe(0x50000);
    expect(t.reg32(RAX) & 0xffff).toBe(0x1234);
  });

  it('rep outsb writes each byte to port DX; insw reads the port into memory', () => {
    const t = new Rig(32);
    t.mem.writeBytes(0x3000, Uint8Array.from([0x41, 0x42, 0x43]));
    t.ports.value = 0xbeef;
    t.run(`be${le32(0x3000)} bf${le32(0x4000)} b9${le32(3)} 66baf803 f36e 6d`);
    expect(t.ports.writes).toEqual([[0x3f8, 1, 0x41], [0x3f8, 1, 0x42], [0x3f8, 1, 0x43]]);
    expect(t.ports.reads).toEqual([[0x3f8, 4]]);
    expect(t.reg32(RDX)).toBe(0x3f8);
    expect(new DataView(t.mem.buffer).getUint32(0x4000, true)).toBe(0xbeef);
  });
});
