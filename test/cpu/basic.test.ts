import { describe, expect, it } from 'vitest';
import { RAX, RBX, RCX, RDX } from '../../cpu/state.js';
import { Rig } from './harness.js';

describe('interpreter basics', () => {
  it('32-bit loop: mov ecx,10; L: add eax,ebx; sub ecx,1; jnz L -> eax = 10*ebx', () => {
    const t = new Rig(32);
    t.set(RBX, 7);
    t.run('b9 0a000000 01d8 83e901 75f9');
    expect(t.reg32(RAX)).toBe(70);
    expect(t.reg32(RCX)).toBe(0);
    expect(t.backend.instructions()).toBe(1 + 3 * 10 + 1);
  });

  it('64-bit add with carry into the high half: rax=0xffffffff + 1', () => {
    const t = new Rig(64);
    t.set(RAX, 0xffffffff);
    t.set(RDX, 1);
    t.run('48 01 d0');
    expect(t.reg64(RAX)).toBe('0000000100000000');
  });
});
