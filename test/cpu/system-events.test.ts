// Exception and interrupt delivery and IRET in real, protected, v8086 and long mode.
import { describe, expect, it } from 'vitest';
import { W_RIP } from '../../cpu/words.js';
import { deliverEvent } from '../../cpu/system/events.js';
import { recentEvents, systemCounters } from '../../cpu/system/index.js';
import { iret } from '../../cpu/system/transfer.js';
import {
  ATTR_UNUSABLE, CS, DS, ES, EVENT_EXCEPTION, EVENT_EXTINT, EVENT_NMI, EVENT_SOFTINT, FLAG_IF, FLAG_TF, FLAG_VM, FS,
  GS, NMI_MASKED, RUN_SHUTDOWN, RUN_STATE, SEG_ATTR, SEG_BASE, SEG_LIMIT, SEG_SEL, SS, segOffset,
} from '../../cpu/state.js';
import {
  SEL, TSS, gate32, gate64, longMode as enterLongMode, makeRig, peek, protectedMode, rsp, setRsp, setSeg, type Rig,
} from './system-rig.js';

const sel = (r: Rig, n: number): number => r.s.u32(segOffset(n) + SEG_SEL);
const rip = (r: Rig): number => r.cpu.r32[W_RIP] >>> 0;
const setRip = (r: Rig, lo: number, hi = 0): void => { r.cpu.r32[W_RIP] = lo; r.cpu.r32[W_RIP + 1] = hi; };

describe('real mode', () => {
  it('INT 0x10 -> far call through the IVT with FLAGS, CS, IP pushed and IF/TF cleared; IRET returns', () => {
    const r = makeRig();
    const c = r.cpu;
    r.mem.write16(0x10 * 4, 0x1234);
    r.mem.write16(0x10 * 4 + 2, 0x2000);
    setSeg(r, CS, 0x100, 0x1000, 0xffff, 0x9b);
    setSeg(r, SS, 0x50, 0x500, 0xffff, 0x93);
    setRsp(r, 0x200);
    setRip(r, 0x42);
    c.setRflags(FLAG_IF | FLAG_TF | 0x2);
    c.modeChanged();
    deliverEvent(c, 0x10, EVENT_SOFTINT, 0, false);
    expect(sel(r, CS)).toBe(0x2000);
    expect(r.s.u32(segOffset(CS) + SEG_BASE)).toBe(0x20000);
    expect(rip(r)).toBe(0x1234);
    expect(rsp(r)).toBe(0x200 - 6);
    expect(r.mem.read16(0x500 + 0x1fa)).toBe(0x42);
    expect(r.mem.read16(0x500 + 0x1fc)).toBe(0x100);
    expect(r.mem.read16(0x500 + 0x1fe)).toBe(FLAG_IF | FLAG_TF | 0x2);
    expect(c.getRflags() & (FLAG_IF | FLAG_TF)).toBe(0);
    iret(c, 2);
    expect([sel(r, CS), rip(r), rsp(r)]).toEqual([0x100, 0x42, 0x200]);
    expect(c.getRflags() & FLAG_IF).toBe(FLAG_IF);
  });
});

describe('protected mode', () => {
  function ring3(r: Rig): void {
    protectedMode(r, 3);
    r.mem.write32(TSS + 4, 0x9000); // ESP0
    r.mem.write32(TSS + 8, SEL.data32); // SS0
    setRsp(r, 0x7000);
    setRip(r, 0x4444);
    r.cpu.setRflags(FLAG_IF | 0x2);
    r.cpu.modeChanged();
  }

  it('#GP(0x1230) at CPL 3 -> ring-0 interrupt gate: stack from the TSS, SS:ESP/EFLAGS/CS:EIP/error pushed', () => {
    const r = makeRig();
    ring3(r);
    gate32(r, 13, SEL.code32, 0x00c0ffee);
    deliverEvent(r.cpu, 13, EVENT_EXCEPTION, 0x1230, true);
    expect(r.cpu.cpl).toBe(0);
    expect(sel(r, CS)).toBe(SEL.code32);
    expect(sel(r, SS)).toBe(SEL.data32);
    expect(rip(r)).toBe(0x00c0ffee);
    expect(rsp(r)).toBe(0x9000 - 24);
    expect([peek(r, 0x9000 - 24), peek(r, 0x9000 - 20), peek(r, 0x9000 - 16), peek(r, 0x9000 - 12), peek(r, 0x9000 - 8), peek(r, 0x9000 - 4)])
      .toEqual([0x1230, 0x4444, SEL.ucode32, FLAG_IF | 0x2, 0x7000, SEL.udata32]);
    expect(r.cpu.getRflags() & FLAG_IF).toBe(0);
  });

  it('IRET from ring 0 back to ring 3 restores CS, SS, ESP and EFLAGS', () => {
    const r = makeRig();
    ring3(r);
    gate32(r, 0x30, SEL.code32, 0x5000, 0xf, 3);
    deliverEvent(r.cpu, 0x30, EVENT_SOFTINT, 0, false);
    expect(r.cpu.getRflags() & FLAG_IF).toBe(FLAG_IF); // trap gate keeps IF
    iret(r.cpu, 4);
    expect([r.cpu.cpl, sel(r, CS), sel(r, SS), rsp(r), rip(r)]).toEqual([3, SEL.ucode32, SEL.udata32, 0x7000, 0x4444]);
  });

  it('INT n from ring 3 through a DPL-0 gate -> #GP(vector*8+2)', () => {
    const r = makeRig();
    ring3(r);
    gate32(r, 0x30, SEL.code32, 0x5000, 0xe, 0);
    expect(() => deliverEvent(r.cpu, 0x30, EVENT_SOFTINT, 0, false)).toThrow(expect.objectContaining({ vector: 13, errorCode: 0x30 * 8 + 2 }));
    expect(r.cpu.cpl).toBe(3); // nothing committed
  });

  it('an empty IDT slot -> #GP(IDT|EXT); its own missing gate -> #GP again: contributory twice = #DF', () => {
    const r = makeRig();
    protectedMode(r);
    setRsp(r, 0x8000);
    gate32(r, 8, SEL.code32, 0x8888);
    // Vector 0x21 and #GP (13) have all-zero entries (type 0: invalid), #DF has a gate.
    deliverEvent(r.cpu, 0x21, EVENT_EXTINT, 0, false);
    expect(rip(r)).toBe(0x8888);
    expect(peek(r, rsp(r))).toBe(0); // #DF error code 0
    expect(systemCounters(r.cpu)).toMatchObject({ eventsDelivered: 1, doubleFaults: 1, tripleFaults: 0 });
    expect(recentEvents(r.cpu).map((e) => e.split(' at ')[0])).toEqual(['irq vector 0x21', '#GP(0x10b)', '#DF(0x0)']);
  });

  it('a fault while delivering #DF shuts the CPU down (triple fault)', () => {
    const r = makeRig();
    protectedMode(r);
    deliverEvent(r.cpu, 13, EVENT_EXCEPTION, 0, true);
    expect(r.s.u32(RUN_STATE)).toBe(RUN_SHUTDOWN);
    expect(systemCounters(r.cpu).tripleFaults).toBe(1);
  });

  it('NMI delivery masks further NMIs until IRET', () => {
    const r = makeRig();
    protectedMode(r);
    setRsp(r, 0x8000);
    gate32(r, 2, SEL.code32, 0x2222);
    deliverEvent(r.cpu, 2, EVENT_NMI, 0, false);
    expect(r.s.u32(NMI_MASKED)).toBe(1);
    iret(r.cpu, 4);
    expect(r.s.u32(NMI_MASKED)).toBe(0);
  });
});

describe('virtual-8086 mode', () => {
  it('an interrupt in v8086 mode pushes GS/FS/DS/ES, leaves VM, nulls the data segments; IRET returns to v8086', () => {
    const r = makeRig();
    protectedMode(r);
    r.mem.write32(TSS + 4, 0x9000);
    r.mem.write32(TSS + 8, SEL.data32);
    for (const [n, v] of [[CS, 0x1000], [SS, 0x2000], [DS, 0x3000], [ES, 0x4000], [FS, 0x5000], [GS, 0x6000]]) {
      setSeg(r, n, v, v << 4, 0xffff, 0xf3);
    }
    setRsp(r, 0xfffe);
    setRip(r, 0x100);
    r.cpu.setRflags(FLAG_VM | FLAG_IF | (3 << 12) | 0x2);
    r.cpu.modeChanged();
    expect(r.cpu.cpl).toBe(3);
    gate32(r, 0x20, SEL.code32, 0x7777);
    deliverEvent(r.cpu, 0x20, EVENT_EXTINT, 0, false);
    expect(r.cpu.getRflags() & FLAG_VM).toBe(0);
    expect(r.cpu.cpl).toBe(0);
    expect(rsp(r)).toBe(0x9000 - 36);
    expect(peek(r, 0x9000 - 4)).toBe(0x6000); // GS
    expect(peek(r, 0x9000 - 16)).toBe(0x4000); // ES
    expect(r.s.u32(segOffset(DS) + SEG_ATTR) & ATTR_UNUSABLE).toBe(ATTR_UNUSABLE);
    iret(r.cpu, 4);
    expect(r.cpu.getRflags() & FLAG_VM).toBe(FLAG_VM);
    expect([sel(r, CS), sel(r, DS), sel(r, GS), rsp(r), rip(r)]).toEqual([0x1000, 0x3000, 0x6000, 0xfffe, 0x100]);
    expect(r.s.u32(segOffset(DS) + SEG_BASE)).toBe(0x30000);
  });
});

describe('long mode', () => {
  function longMode(r: Rig): void {
    enterLongMode(r);
    // 64-bit TSS at TSS: RSP0 at +4, IST1 at +36.
    r.mem.write32(TSS + 4, 0x9000);
    r.mem.write32(TSS + 36, 0xa008);
    setRsp(r, 0x8008);
    setRip(r, 0x1234, 0);
  }

  it('#PF in 64-bit mode: RSP aligned to 16, SS/RSP/RFLAGS/CS/RIP/error pushed as 8-byte slots', () => {
    const r = makeRig();
    longMode(r);
    expect(r.cpu.codeSize).toBe(8);
    gate64(r, 14, SEL.code64, 0x4000, 0);
    deliverEvent(r.cpu, 14, EVENT_EXCEPTION, 6, true);
    expect(rsp(r)).toBe(0x8000 - 48);
    const f = rsp(r);
    expect([peek(r, f), peek(r, f + 8), peek(r, f + 16), peek(r, f + 32), peek(r, f + 40)]).toEqual([6, 0x1234, SEL.code64, 0x8008, SEL.data32]);
    expect(rip(r)).toBe(0x4000);
  });

  it('an IST gate switches stacks even without a privilege change; IRETQ returns', () => {
    const r = makeRig();
    longMode(r);
    gate64(r, 2, SEL.code64, 0x4000, 0, 1);
    deliverEvent(r.cpu, 2, EVENT_NMI, 0, false);
    expect(rsp(r)).toBe(0xa000 - 40);
    r.cpu.r32[W_RIP] = 0; // the handler's own RIP does not matter to IRETQ
    iret(r.cpu, 8);
    expect([rip(r), rsp(r), sel(r, CS)]).toEqual([0x1234, 0x8008, SEL.code64]);
  });

  it('ring 3 -> ring 0: RSP0 from the TSS and a null SS with RPL 0', () => {
    const r = makeRig();
    longMode(r);
    setSeg(r, CS, SEL.ucode64, 0, 0xffffffff, 0xa0fb);
    setSeg(r, SS, SEL.udata32, 0, 0xffffffff, 0xc0f3);
    r.cpu.modeChanged();
    gate64(r, 0x80, SEL.code64, 0x4000, 0, 0, 0xe, 3);
    deliverEvent(r.cpu, 0x80, EVENT_SOFTINT, 0, false);
    expect(r.cpu.cpl).toBe(0);
    expect(sel(r, SS)).toBe(0);
    expect(rsp(r)).toBe(0x9000 - 40);
    expect(peek(r, 0x9000 - 8)).toBe(SEL.udata32);
    iret(r.cpu, 8);
    expect([r.cpu.cpl, sel(r, CS), sel(r, SS), rsp(r)]).toEqual([3, SEL.ucode64, SEL.udata32, 0x8008]);
    expect(r.s.u32(segOffset(SS) + SEG_LIMIT) >>> 0).toBe(0xffffffff);
  });
});
