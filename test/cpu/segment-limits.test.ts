// Segment limit checks on data and stack accesses (Intel SDM Vol. 3A 5.3, 3.4.5.1):
// the whole access against the limit, expand-down segments with the B flag's upper
// bound, #GP(0) versus #SS(0), real mode's 64 KiB, and 64-bit mode checking nothing.
import { describe, expect, it } from 'vitest';
import {
  ATTR_DB, ATTR_G, ATTR_P, ATTR_S, ATTR_UNUSABLE, DS, ES, EVENT_SOFTINT, FS, RAX, RBP, RBX, RCX, RDI, RSI, RSP, SEG_ATTR, SEG_BASE,
  SEG_LIMIT, SS, segOffset,
} from '../../cpu/state.js';
import { deliverEvent } from '../../cpu/system/events.js';
import { retFar } from '../../cpu/system/transfer.js';
import { Rig } from './harness.js';
import { DATA, DATA_DOWN, VEC_GP, VEC_SS, expectFault, expectNoFault, faultOf, le16, le32, seg } from './segment-rig.js';
import { SEL, gate32, makeRig, protectedMode, rsp, setRsp, setSeg } from './system-rig.js';

describe('expand-up segments: the last byte of the access must be within the limit', () => {
  it('a dword at limit-3 loads; at limit-2 raises #GP(0) and leaves EAX alone (fast [base] load)', () => {
    const t = new Rig(32);
    seg(t, DS, 0x20000, 0xfff, DATA | ATTR_DB);
    t.mem.write32(0x20ffc, 0x11223344);
    expectNoFault(t, `bb${le32(0xffc)} 8b03`); // mov ebx,0xffc; mov eax,[ebx]
    expect(t.reg32(RAX)).toBe(0x11223344);
    t.set(RAX, 0xaaaa);
    expectFault(t, `bb${le32(0xffd)} 8b03`, VEC_GP, 5);
    expect(t.reg32(RAX)).toBe(0xaaaa);
    expect(t.reg32(RBX)).toBe(0xffd);
  });

  it('the same through a [base+index] operand, a word at the limit, and a byte at the limit', () => {
    const t = new Rig(32);
    seg(t, DS, 0x20000, 0xfff, DATA | ATTR_DB);
    t.set(RSI, 0xf00);
    expectNoFault(t, `bb${le32(0xfc)} 03041e`); // add eax,[esi+ebx]: 0xffc..0xfff
    expectFault(t, `bb${le32(0xfd)} 03041e`, VEC_GP, 5);
    expectNoFault(t, `bb${le32(0xffe)} 668b03`); // mov ax,[ebx]: 0xffe..0xfff
    expectFault(t, `bb${le32(0xfff)} 668b03`, VEC_GP, 5);
    expectNoFault(t, `bb${le32(0xfff)} 8a03`); // mov al,[ebx]
  });

  it('an EBP-based operand uses SS: past the limit it is #SS(0)', () => {
    const t = new Rig(32);
    seg(t, SS, 0x20000, 0xfff, DATA | ATTR_DB);
    t.set(RBP, 0xffd);
    expectFault(t, '8b4500', VEC_SS, 0); // mov eax,[ebp]
  });

  it('LDS checks its whole 6-byte far pointer: at limit-3 (offset inside, selector outside) #GP(0)', () => {
    const t = new Rig(32);
    seg(t, FS, 0x20000, 0xfff, DATA | ATTR_DB);
    expectFault(t, `bb${le32(0xffc)} 64c503`, VEC_GP, 5); // lds eax,fs:[ebx]
    expect(t.reg32(RAX)).toBe(0);
  });

  it('a null (unusable) DS faults #GP(0) in protected mode even at offset 0', () => {
    const t = new Rig(32);
    seg(t, DS, 0, 0, ATTR_UNUSABLE);
    expectFault(t, `bb${le32(0)} 8a03`, VEC_GP, 5);
  });
});

describe('expand-down data segments: valid offsets are limit+1 .. 0xFFFF or 0xFFFFFFFF (B)', () => {
  it('B=1: offsets at or below the limit fault, above pass, up to 0xFFFFFFFF', () => {
    const t = new Rig(32);
    seg(t, DS, 0x20000, 0xfff, DATA_DOWN | ATTR_DB);
    t.mem.write32(0x21000, 0xcafef00d);
    expectNoFault(t, `bb${le32(0x1000)} 8b03`);
    expect(t.reg32(RAX)).toBe(0xcafef00d);
    expectFault(t, `bb${le32(0xfff)} 8b03`, VEC_GP, 5);
    expectFault(t, `bb${le32(0xffe)} 8b03`, VEC_GP, 5); // starts inside the hole
    expectFault(t, `bb${le32(0)} 8a03`, VEC_GP, 5);
    // 0xFFFFFFFC..0xFFFFFFFF is the segment's top; base + offset wraps to 0x1fffc.
    t.mem.write32(0x1fffc, 0x0badcafe);
    expectNoFault(t, `bb${le32(0xfffffffc)} 8b03`);
    expect(t.reg32(RAX)).toBe(0x0badcafe);
    expectFault(t, `bb${le32(0xfffffffd)} 8b03`, VEC_GP, 5); // the last byte would be past 0xFFFFFFFF
  });

  it('B=0: the upper bound is 0xFFFF', () => {
    const t = new Rig(32);
    seg(t, DS, 0x20000, 0xfff, DATA_DOWN);
    expectNoFault(t, `bb${le32(0xfffc)} 8b03`);
    expectFault(t, `bb${le32(0xfffd)} 8b03`, VEC_GP, 5);
    expectFault(t, `bb${le32(0x10000)} 8a03`, VEC_GP, 5);
    expectNoFault(t, `bb${le32(0x1000)} 8a03`);
  });
});

describe('stack accesses check SS: #SS(0) with the stack pointer unchanged', () => {
  it('expand-down 32-bit stack (B=1, limit 0xFFF): a PUSH below 0x1000 faults; the one before it went through', () => {
    const t = new Rig(32);
    seg(t, SS, 0x30000, 0xfff, DATA_DOWN | ATTR_DB | ATTR_G);
    t.set(RSP, 0x1004);
    t.set(RAX, 0x12345678);
    expectFault(t, '50 50', VEC_SS, 1); // push eax; push eax
    expect(t.reg32(RSP)).toBe(0x1000);
    expect(t.mem.read32(0x31000)).toBe(0x12345678);
  });

  it('expand-down 16-bit stack (B=0): a word pops from 0xFFFE, a dword there is past 0xFFFF', () => {
    const t = new Rig(32);
    seg(t, SS, 0x30000, 0x7ff, DATA_DOWN);
    t.mem.write32(0x3fffe, 0xbeef);
    t.set(RSP, 0xfffe);
    expectNoFault(t, '6658'); // pop ax
    expect(t.reg32(RAX) & 0xffff).toBe(0xbeef);
    t.set(RSP, 0xfffe);
    expectFault(t, '58', VEC_SS, 0); // pop eax
    expect(t.reg32(RSP)).toBe(0xfffe);
  });

  it('expand-up SS: CALL with ESP just above the limit faults #SS(0) before anything moves', () => {
    const t = new Rig(32);
    seg(t, SS, 0x30000, 0xfff, DATA | ATTR_DB);
    t.set(RSP, 0x1002);
    expectFault(t, 'e800000000', VEC_SS, 0); // call $+5
    expect(t.reg32(RSP)).toBe(0x1002);
    t.set(RSP, 0x1000);
    expectNoFault(t, 'e800000000');
    expect(t.reg32(RSP)).toBe(0xffc);
  });

  it('LEAVE with EBP past the SS limit faults #SS(0) and leaves ESP as it was', () => {
    const t = new Rig(32);
    seg(t, SS, 0x30000, 0xfff, DATA | ATTR_DB);
    t.set(RSP, 0x800);
    t.set(RBP, 0xffe);
    expectFault(t, 'c9', VEC_SS, 0);
    expect(t.reg32(RSP)).toBe(0x800);
    expect(t.reg32(RBP)).toBe(0xffe);
  });
});

describe('moffs, XLAT and string instructions', () => {
  it('MOV EAX,[moffs] checks the whole dword against DS; an ES override checks ES', () => {
    const t = new Rig(32);
    seg(t, DS, 0x20000, 0xfff, DATA | ATTR_DB);
    seg(t, ES, 0x20000, 0x7ff, DATA | ATTR_DB);
    t.mem.write32(0x20ffc, 0x55667788);
    expectNoFault(t, `a1${le32(0xffc)}`);
    expect(t.reg32(RAX)).toBe(0x55667788);
    expectFault(t, `a1${le32(0xffd)}`, VEC_GP, 0);
    expectFault(t, `a3${le32(0x1000)}`, VEC_GP, 0); // mov [0x1000],eax
    expectFault(t, `a2${le32(0x1000)}`, VEC_GP, 0); // mov [0x1000],al
    expectFault(t, `26a1${le32(0x800)}`, VEC_GP, 0); // mov eax,es:[0x800]
  });

  it('XLAT reads DS:[EBX+AL]: past the limit it faults #GP(0)', () => {
    const t = new Rig(32);
    seg(t, DS, 0x20000, 0xfff, DATA | ATTR_DB);
    t.mem.write8(0x20fff, 0x77);
    expectNoFault(t, `bb${le32(0xf00)} b0ff d7`);
    expect(t.reg32(RAX) & 0xff).toBe(0x77);
    expectFault(t, `bb${le32(0xf01)} b0ff d7`, VEC_GP, 7);
  });

  it('REP STOSD into ES past its limit faults at the first element outside, with ECX/EDI at that element', () => {
    const t = new Rig(32);
    seg(t, ES, 0x20000, 0x10ff, DATA | ATTR_DB);
    t.set(RAX, 0xa5a5a5a5);
    expectFault(t, `bf${le32(0x10f0)} b9${le32(0x100)} f3ab`, VEC_GP, 10);
    expect(t.reg32(RCX)).toBe(0xfc);
    expect(t.reg32(RDI)).toBe(0x1100);
    expect(t.mem.read32(0x210fc) >>> 0).toBe(0xa5a5a5a5);
    expect(t.mem.read32(0x21100)).toBe(0);
  });

  it('REP MOVSB with the source running past DS: RCX/RSI/RDI stop at the faulting byte', () => {
    const t = new Rig(32);
    seg(t, DS, 0x20000, 0xfff, DATA | ATTR_DB);
    expectFault(t, `be${le32(0xff0)} bf${le32(0x40000)} b9${le32(0x20)} f3a4`, VEC_GP, 15);
    expect([t.reg32(RCX), t.reg32(RSI), t.reg32(RDI)]).toEqual([0x10, 0x1000, 0x40010]);
  });

  it('LODSD with an FS override checks FS, not DS', () => {
    const t = new Rig(32);
    seg(t, FS, 0x20000, 0xfff, DATA | ATTR_DB);
    expectNoFault(t, `be${le32(0x1000)} ad`);
    expectFault(t, `be${le32(0xffe)} 64ad`, VEC_GP, 5);
    expect(t.reg32(RSI)).toBe(0xffe);
  });

  it('INSB past the ES limit faults before the port is read', () => {
    const t = new Rig(32);
    seg(t, ES, 0x20000, 0xfff, DATA | ATTR_DB);
    expectFault(t, `bf${le32(0x1000)} 66ba6000 6c`, VEC_GP, 9);
    expect(t.ports.reads).toEqual([]);
  });
});

describe('real mode: 64 KiB limits, unless the cached limit says otherwise (unreal mode)', () => {
  it('a word at DS:0xFFFF raises #GP; a byte there does not', () => {
    const t = new Rig(16);
    expectNoFault(t, '8a06ffff'); // mov al,[0xffff]
    expectFault(t, '8b06ffff', VEC_GP, 0); // mov ax,[0xffff]
  });

  it('a word at SS:0xFFFF (BP-based) raises #SS; so does a PUSH with SP = 1', () => {
    const t = new Rig(16);
    t.set(RBP, 0xffff);
    expectFault(t, '8b4600', VEC_SS, 0); // mov ax,[bp]
    t.set(RSP, 1);
    expectFault(t, '50', VEC_SS, 0); // push ax
    expect(t.reg32(RSP)).toBe(1);
  });

  it('REP MOVSW with SI running to 0xFFFF stops there with #GP', () => {
    const t = new Rig(16);
    expectFault(t, `be${le16(0xfffb)} bf${le16(0x4000)} b90800 f3a5`, VEC_GP, 9);
    expect([t.reg32(RCX), t.reg32(RSI), t.reg32(RDI)]).toEqual([6, 0xffff, 0x4004]);
  });

  it('unreal mode: with a 4 GiB cached DS limit a 32-bit offset past 64 KiB is fine', () => {
    const t = new Rig(16);
    seg(t, DS, 0, 0xffffffff, DATA);
    t.mem.write32(0x100000, 0x31415926);
    expectNoFault(t, `66bb${le32(0x100000)} 66678b03`); // mov ebx,0x100000; mov eax,[ebx]
    expect(t.reg32(RAX)).toBe(0x31415926);
  });
});

describe('64-bit mode checks no limits', () => {
  it('tiny and expand-down DS/ES/SS limits are ignored by loads, moffs, pushes and string stores', () => {
    const t = new Rig(64);
    seg(t, DS, 0, 0, DATA);
    seg(t, ES, 0, 0, DATA_DOWN);
    seg(t, SS, 0, 0xffff, DATA_DOWN | ATTR_DB);
    t.mem.write32(0x20000, 0x600df00d);
    expectNoFault(t, `bb${le32(0x20000)} 8b03`); // mov eax,[rbx]
    expect(t.reg32(RAX)).toBe(0x600df00d);
    expectNoFault(t, `a1${le32(0x20000)}00000000`); // mov eax,[moffs64]
    expect(t.reg32(RAX)).toBe(0x600df00d);
    t.set(RSP, 0x8000);
    expectNoFault(t, '50 58'); // push rax; pop rax
    expectNoFault(t, `bf${le32(0x30000)} b904000000 f3ab`); // rep stosd
    expect(t.mem.read32(0x3000c)).toBe(0x600df00d);
  });
});

describe('interrupt frames and far returns on the current stack check SS too', () => {
  it('INT 0x30 through a ring-0 gate at CPL 0 with the frame crossing the SS limit: #SS(0), ESP unchanged', () => {
    const r = makeRig();
    protectedMode(r);
    gate32(r, 0x30, SEL.code32, 0x4000);
    setSeg(r, SS, SEL.data32, 0x30000, 0xfff, DATA | ATTR_DB);
    r.cpu.modeChanged();
    setRsp(r, 0x1008); // the first push (EFLAGS) would go to 0x1004..0x1007, past the limit
    expect(faultOf(() => deliverEvent(r.cpu, 0x30, EVENT_SOFTINT, 0, false))).toMatchObject({ vector: VEC_SS, errorCode: 0 });
    expect(rsp(r)).toBe(0x1008);
    setRsp(r, 0x1000); // the 12-byte frame at 0xff4..0xfff fits
    deliverEvent(r.cpu, 0x30, EVENT_SOFTINT, 0, false);
    expect(rsp(r)).toBe(0xff4);
  });

  it('an expand-down SS: a far RET popping from at or below the limit faults #SS(0)', () => {
    const r = makeRig();
    protectedMode(r);
    setSeg(r, SS, SEL.data32, 0x30000, 0xfff, DATA_DOWN | ATTR_DB);
    r.cpu.modeChanged();
    setRsp(r, 0xffc);
    expect(faultOf(() => retFar(r.cpu, 4, 0))).toMatchObject({ vector: VEC_SS, errorCode: 0 });
    expect(rsp(r)).toBe(0xffc);
  });
});
