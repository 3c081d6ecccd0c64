// Hardware task switching with 32-bit TSSs: JMP, CALL + IRET (NT and the back
// link), and a #DF delivered through a task gate.
import { describe, expect, it } from 'vitest';
import { W_RIP } from '../../cpu/words.js';
import { deliverEvent } from '../../cpu/system/events.js';
import { callFar, iret, jmpFar } from '../../cpu/system/transfer.js';
import { CR0, CR0_TS, EVENT_EXCEPTION, FLAG_NT, RAX, SEG_SEL, TR, gprOffset, segOffset } from '../../cpu/state.js';
import { GDT, IDT, SEL, TSS, descriptor, makeRig, peek, protectedMode, rsp, type Rig } from './system-rig.js';

const TSS2 = 0x3800, TSS2_SEL = 0x70;

/** A second 32-bit TSS (descriptor at GDT 0x70, available) whose task starts at 0x5555. */
function secondTask(r: Rig): void {
  protectedMode(r);
  const [lo, hi] = descriptor(TSS2, 0x67, 0x89, 0);
  r.mem.write32(GDT + TSS2_SEL, lo);
  r.mem.write32(GDT + TSS2_SEL + 4, hi);
  r.mem.write32(GDT + 0x28 + 4, r.mem.read32(GDT + 0x28 + 4) | (2 << 8)); // the current TSS is busy
  const w = (off: number, v: number): void => r.mem.write32(TSS2 + off, v);
  w(0x20, 0x5555); w(0x24, 0x2); w(0x28, 0x11); w(0x38, 0x6000);
  for (const [off, v] of [[0x48, SEL.data32], [0x4c, SEL.code32], [0x50, SEL.data32], [0x54, SEL.data32], [0x58, 0], [0x5c, 0]]) w(off, v);
  r.cpu.r32[W_RIP] = 0x1234; // the outgoing task's resume address
}

const busy = (r: Rig, sel: number): boolean => ((r.mem.read32(GDT + sel + 4) >>> 9) & 1) === 1;

describe('hardware task switching', () => {
  it('JMP to a TSS saves the old task, loads the new one, moves the busy bit and sets CR0.TS', () => {
    const r = makeRig();
    secondTask(r);
    r.s.set64(gprOffset(RAX), 0x99, 0);
    jmpFar(r.cpu, TSS2_SEL, 0, 0, 4);
    expect([r.cpu.r32[W_RIP], r.s.u32(gprOffset(RAX)), rsp(r), r.s.u32(segOffset(TR) + SEG_SEL)]).toEqual([0x5555, 0x11, 0x6000, TSS2_SEL]);
    expect([peek(r, TSS + 0x20), peek(r, TSS + 0x28)]).toEqual([0x1234, 0x99]);
    expect([busy(r, 0x28), busy(r, TSS2_SEL)]).toEqual([false, true]);
    expect(r.s.u32(CR0) & CR0_TS).toBe(CR0_TS);
    expect(r.cpu.getRflags() & FLAG_NT).toBe(0);
  });

  it('CALL to a TSS nests (NT, back link); IRET returns to the caller task', () => {
    const r = makeRig();
    secondTask(r);
    callFar(r.cpu, TSS2_SEL, 0, 0, 4);
    expect(r.cpu.getRflags() & FLAG_NT).toBe(FLAG_NT);
    expect(r.mem.read16(TSS2)).toBe(SEL.tss32);
    expect([busy(r, 0x28), busy(r, TSS2_SEL)]).toEqual([true, true]);
    iret(r.cpu, 4);
    expect([r.cpu.r32[W_RIP], r.s.u32(segOffset(TR) + SEG_SEL)]).toEqual([0x1234, SEL.tss32]);
    expect([busy(r, 0x28), busy(r, TSS2_SEL)]).toEqual([true, false]);
  });

  it('#DF through a task gate runs the handler task with the error code on its stack', () => {
    const r = makeRig();
    secondTask(r);
    r.mem.write32(IDT + 8 * 8, TSS2_SEL << 16);
    r.mem.write32(IDT + 8 * 8 + 4, 0x8500); // present task gate
    deliverEvent(r.cpu, 8, EVENT_EXCEPTION, 0, true);
    expect([r.cpu.r32[W_RIP], rsp(r), peek(r, 0x6000 - 4)]).toEqual([0x5555, 0x6000 - 4, 0]);
    expect(r.mem.read16(TSS2)).toBe(SEL.tss32);
  });
});
