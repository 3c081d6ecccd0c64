// Block mechanics: partial runs stop on instruction boundaries with exact flags,
// TF single-steps with #DB, self-modifying code invalidates decoded blocks, and
// the counters say what happened.
import { describe, expect, it } from 'vitest';
import { EXIT_BUDGET } from '../../contracts/backend.js';
import { RAX, RBX, RCX, RDX, RUN_RUNNING, RUN_STATE } from '../../cpu/state.js';
import { CODE, Rig, hex } from './harness.js';

const ZF = 0x40, TF = 0x100;

describe('blocks', () => {
  it('run(1) executes exactly one instruction and leaves its flags exact (no dead-flag elision)', () => {
    const t = new Rig(32);
    t.mem.writeBytes(CODE, hex('01d8 01d1 f4')); // add eax,ebx (ZF=1 here); add ecx,edx (ZF=0)
    t.state.set64(0x80, CODE, 0);
    t.set(RAX, 0); t.set(RBX, 0); t.set(RCX, 1); t.set(RDX, 1);
    expect(t.backend.run(1)).toBe(EXIT_BUDGET);
    expect(t.rip()).toBe(CODE + 2);
    expect(t.flags() & ZF).toBe(ZF);
    t.backend.run(1);
    expect(t.rip()).toBe(CODE + 4);
    expect(t.flags() & ZF).toBe(0);
    expect(t.reg32(RCX)).toBe(2);
  });

  it('TF=1: each instruction is followed by #DB (vector 1) with RIP on the next instruction', () => {
    const t = new Rig(32);
    t.mem.writeBytes(CODE, hex('40 40 f4'));
    t.state.set64(0x80, CODE, 0);
    t.setFlags(TF);
    t.backend.run(10);
    expect(t.cpu.lastEvent?.vector).toBe(1);
    expect(t.reg32(RAX)).toBe(1);
    expect(t.rip()).toBe(CODE + 1);
  });

  it('guest code that rewrites its own next block runs the new bytes (page invalidation)', () => {
    const t = new Rig(32);
    // mov byte [CODE+0x20], 0x41 (the nop there becomes inc ecx); jmp CODE+0x20
    const code = hex('c605 20100000 41 eb17');
    t.mem.writeBytes(CODE, code);
    t.mem.writeBytes(CODE + 0x20, hex('90 f4'));
    // Decode the target block once so it is cached, then run the rewriting code.
    t.state.set64(0x80, CODE + 0x20, 0);
    t.backend.run(100);
    t.cpu.r32[RUN_STATE / 4] = RUN_RUNNING;
    t.state.set64(0x80, CODE, 0);
    t.set(RCX, 5);
    t.backend.run(100);
    expect(t.reg32(RCX)).toBe(6);
    expect(t.backend.counters().blockInvalidations).toBeGreaterThan(0);
  });

  it('a loop is decoded once and then found through block links', () => {
    const t = new Rig(32);
    t.run('b964000000 01d8 83e901 75f9');
    const k = t.backend.counters();
    expect(k.blocksDecoded).toBeLessThanOrEqual(4);
    expect(k.instructions).toBe(1 + 3 * 100 + 1);
  });

  it('a fault inside a self-looping block stops on the faulting pass with RIP and the counters exact', async () => {
    const { DS, SEG_LIMIT, segOffset, RSI } = await import('../../cpu/state.js');
    const t = new Rig(32);
    t.state.setU32(segOffset(DS) + SEG_LIMIT, 0x3fff);
    t.backend.setState(t.state.snapshot());
    // mov esi,0x3000; mov ecx,1000; L: mov eax,[esi]; add esi,0x100; sub ecx,1; jnz L
    t.run('be00300000 b9e8030000 8b06 81c600010000 83e901 75f3');
    expect(t.cpu.lastEvent?.vector).toBe(13);
    expect(t.rip()).toBe(CODE + 10);
    expect(t.reg32(RSI)).toBe(0x4000);
    expect(t.reg32(RCX)).toBe(1000 - 16);
    expect(t.backend.instructions()).toBe(2 + 16 * 4);
  });
});
