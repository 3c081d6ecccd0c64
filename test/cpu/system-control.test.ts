// Control registers and mode switches, MSRs and the TSC, fast system calls,
// and the IOPL / I/O-bitmap / CLI / STI / POPF rules.
import { describe, expect, it } from 'vitest';
import { W_RIP } from '../../cpu/words.js';
import { movToCr, writeCr0, ltr, loadDtr, smsw, storeDtr, str } from '../../cpu/system/control.js';
import { linearToPhysical } from '../../cpu/system/index.js';
import { rdSegBase, syscall, sysenter, sysexit, sysret, swapgs, wrSegBase } from '../../cpu/system/fastcall.js';
import { checkIo, cli, popf, sti } from '../../cpu/system/io.js';
import { exportTsc, rdmsr, rdtsc, wrmsr, MSR_EFER, MSR_TSC, MSR_PAT, MSR_LSTAR, MSR_STAR, MSR_SFMASK, MSR_KERNEL_GS_BASE, MSR_SYSENTER_CS, MSR_SYSENTER_EIP, MSR_SYSENTER_ESP, MSR_GS_BASE } from '../../cpu/system/msr.js';
import {
  CR0, CR0_PE, CR0_PG, CR3, CR4, CR4_FSGSBASE, CR4_PAE, CR4_TSD, CR4_UMIP, CS, EFER, EFER_LMA, EFER_LME, EFER_NXE, EFER_SCE, FLAG_IF,
  FLAG_IOPL, GS, INT_SHADOW, TSC, SEG_ATTR, SEG_BASE, SEG_SEL, SHADOW_STI, SS, TR, segOffset, RCX, R11, gprOffset,
} from '../../cpu/state.js';
import { SEL, TSS, longMode, makeRig, protectedMode, setSeg, type Rig } from './system-rig.js';

const fault = (f: () => void): { vector: number; errorCode: number } => {
  try { f(); } catch (e) { return e as { vector: number; errorCode: number }; }
  throw new Error('expected a fault');
};
const sel = (r: Rig, n: number): number => r.s.u32(segOffset(n) + SEG_SEL);

/** Identity-mapped 4-level tables for the first 2 MiB (PML4 0x10000). */
function pageTables(r: Rig): void {
  r.mem.write32(0x10000, 0x11007); r.mem.write32(0x11000, 0x12007); r.mem.write32(0x12000, 0x87);
}

describe('mode switches through CR0/CR4/EFER', () => {
  it('CR0.PG with EFER.LME and CR4.PAE activates IA-32e mode (EFER.LMA), compatibility mode until CS.L', () => {
    const r = makeRig();
    protectedMode(r);
    pageTables(r);
    movToCr(r.cpu, 4, CR4_PAE, 0);
    movToCr(r.cpu, 3, 0x10000, 0);
    wrmsr(r.cpu, MSR_EFER, EFER_LME, 0);
    movToCr(r.cpu, 0, CR0_PE | CR0_PG, 0);
    expect(r.s.u32(EFER) & EFER_LMA).toBe(EFER_LMA);
    expect(r.cpu.codeSize).toBe(4); // compatibility mode
    expect(r.cpu.read32(0x12000, 0)).toBe(0x87 | 0x20); // translated through the tables (A bit now set)
    expect(linearToPhysical(r.cpu, 0x1234, 0)).toBe(0x1234);
    expect(linearToPhysical(r.cpu, 0x400000, 0)).toBe(-1); // not mapped
  });

  it('paging with LME but without PAE -> #GP(0), nothing changes', () => {
    const r = makeRig();
    protectedMode(r);
    wrmsr(r.cpu, MSR_EFER, EFER_LME, 0);
    expect(fault(() => movToCr(r.cpu, 0, CR0_PE | CR0_PG, 0))).toMatchObject({ vector: 13, errorCode: 0 });
    expect(r.s.u32(CR0) & CR0_PG).toBe(0);
  });

  it('CR0.PG without CR0.PE -> #GP(0); an unsupported CR4 bit -> #GP(0); MOV CR5 -> #UD', () => {
    const r = makeRig();
    expect(fault(() => writeCr0(r.cpu, CR0_PG))).toMatchObject({ vector: 13 });
    expect(fault(() => movToCr(r.cpu, 4, 1 << 0 /* VME: not implemented */, 0))).toMatchObject({ vector: 13 });
    expect(fault(() => movToCr(r.cpu, 5, 0, 0))).toMatchObject({ vector: 6 });
  });

  it('EFER.LME cannot change while paging is on; unknown EFER bits -> #GP', () => {
    const r = makeRig();
    protectedMode(r);
    r.mem.write32(0x10000, 0x11000 | 0x3); // a 32-bit page directory: PDE 0 -> 4 MiB page via PSE? no: a table
    r.s.set64(CR3, 0x10000, 0);
    r.mem.write32(0x11000, 0x3);
    movToCr(r.cpu, 0, CR0_PE | CR0_PG, 0);
    expect(fault(() => wrmsr(r.cpu, MSR_EFER, EFER_LME, 0))).toMatchObject({ vector: 13 });
    expect(fault(() => wrmsr(r.cpu, MSR_EFER, 1 << 3, 0))).toMatchObject({ vector: 13 });
    wrmsr(r.cpu, MSR_EFER, EFER_NXE, 0);
    expect(rdmsr(r.cpu, MSR_EFER)).toBe(EFER_NXE);
  });

  it('enabling PAE paging loads the PDPTEs: a reserved bit in one makes MOV CR0 fault, a good set translates', () => {
    const r = makeRig();
    protectedMode(r);
    r.mem.write32(0x10000, 0x11000 | 1); // PDPTE 0 -> PD at 0x11000
    r.mem.write32(0x10008, 0x12000 | 1 | 2); // PDPTE 1 with R/W: reserved in PAE PDPTEs
    r.mem.write32(0x11000, 0x83); // 2 MiB page at 0
    movToCr(r.cpu, 4, CR4_PAE, 0);
    movToCr(r.cpu, 3, 0x10000, 0);
    expect(fault(() => movToCr(r.cpu, 0, CR0_PE | CR0_PG, 0))).toMatchObject({ vector: 13, errorCode: 0 });
    expect(r.s.u32(CR0) & CR0_PG).toBe(0);
    r.mem.write32(0x10008, 0);
    movToCr(r.cpu, 0, CR0_PE | CR0_PG, 0);
    expect(r.cpu.read32(0x11000, 0)).toBe(0x83 | 0x20);
  });

  it('MOV CR3 drops non-global TLB entries', () => {
    const r = makeRig();
    r.cpu.read8(0x5000, 0); // paging off: identity entry cached
    expect(r.cpu.tlb.size()).toBe(1);
    movToCr(r.cpu, 3, 0x10000, 0);
    expect(r.cpu.tlb.size()).toBe(0);
    expect(r.s.u32(CR3)).toBe(0x10000);
  });

  it('CR-register writes at CPL 3 -> #GP(0)', () => {
    const r = makeRig();
    protectedMode(r, 3);
    expect(fault(() => movToCr(r.cpu, 3, 0, 0))).toMatchObject({ vector: 13 });
  });
});

describe('descriptor-table registers', () => {
  it('LGDT with a 16-bit operand size takes a 24-bit base; SGDT stores 6 bytes', () => {
    const r = makeRig();
    r.mem.write16(0x600, 0x1ff);
    r.mem.write32(0x602, 0xff123456);
    loadDtr(r.cpu, false, 0x600, 0, 2);
    expect([r.s.u32(0x200), r.s.u32(0x208)]).toEqual([0x123456, 0x1ff]);
    storeDtr(r.cpu, false, 0x700, 0);
    expect([r.mem.read16(0x700), r.mem.read32(0x702)]).toEqual([0x1ff, 0x123456]);
  });

  it('LTR marks the TSS busy; loading a busy TSS -> #GP(selector)', () => {
    const r = makeRig();
    protectedMode(r);
    ltr(r.cpu, SEL.tss32);
    expect(sel(r, TR)).toBe(SEL.tss32);
    expect((r.mem.read32(0x1000 + SEL.tss32 + 4) >>> 8) & 0xf).toBe(0xb);
    expect(fault(() => ltr(r.cpu, SEL.tss32))).toMatchObject({ vector: 13, errorCode: SEL.tss32 });
  });
});

describe('MSRs and the TSC', () => {
  it('an unknown MSR -> #GP(0); PAT rejects reserved memory types', () => {
    const r = makeRig();
    expect(fault(() => rdmsr(r.cpu, 0x12345))).toMatchObject({ vector: 13, errorCode: 0 });
    expect(fault(() => wrmsr(r.cpu, MSR_PAT, 0x02, 0))).toMatchObject({ vector: 13 });
    wrmsr(r.cpu, MSR_PAT, 0x06, 0x07);
    expect(rdmsr(r.cpu, MSR_PAT)).toBe(6);
    expect(r.cpu.resHi).toBe(7);
  });

  it('the TSC counts virtual nanoseconds from the value written to IA32_TSC', () => {
    const r = makeRig();
    r.time.ns = 1000;
    wrmsr(r.cpu, MSR_TSC, 0, 1); // 2^32
    r.time.ns = 1500;
    expect(rdtsc(r.cpu) >>> 0).toBe(500);
    expect(r.cpu.resHi).toBe(1);
  });

  it('a TSC imported through the state record continues from its value; exportTsc writes the running count back', () => {
    const r = makeRig();
    r.time.ns = 7000;
    rdtsc(r.cpu);
    r.s.set64(TSC, 0x5000, 0); // setState of another backend's state
    r.time.ns = 7010;
    expect(rdtsc(r.cpu) >>> 0).toBe(0x5000);
    r.time.ns = 7020;
    exportTsc(r.cpu);
    expect(r.s.u32(TSC)).toBe(0x500a);
  });

  it('RDTSC at CPL 3 with CR4.TSD -> #GP(0)', () => {
    const r = makeRig();
    protectedMode(r, 3);
    r.s.set64(CR4, CR4_TSD, 0);
    expect(fault(() => rdtsc(r.cpu))).toMatchObject({ vector: 13 });
  });

  it('a non-canonical LSTAR -> #GP(0)', () => {
    const r = makeRig();
    expect(fault(() => wrmsr(r.cpu, MSR_LSTAR, 0, 0x00800000))).toMatchObject({ vector: 13 });
  });
});

describe('SYSCALL/SYSRET, SYSENTER/SYSEXIT, SWAPGS', () => {
  function long64(r: Rig): void {
    protectedMode(r);
    r.s.set64(EFER, EFER_LME | EFER_LMA | EFER_SCE, 0);
    r.s.set64(CR0, CR0_PE | CR0_PG, 0);
    r.s.set64(CR4, CR4_PAE, 0);
    r.s.set64(CR3, 0x10000, 0);
    pageTables(r);
    setSeg(r, CS, SEL.code64, 0, 0xffffffff, 0xa09b);
    r.cpu.modeChanged();
  }

  it('SYSCALL saves RIP in RCX and RFLAGS in R11, masks RFLAGS, enters LSTAR with CS from STAR', () => {
    const r = makeRig();
    long64(r);
    wrmsr(r.cpu, MSR_STAR, 0, 0x00180008);
    wrmsr(r.cpu, MSR_LSTAR, 0x8000, 0xffffffff);
    wrmsr(r.cpu, MSR_SFMASK, FLAG_IF, 0);
    r.cpu.setRflags(FLAG_IF | 0x2);
    r.cpu.r32[W_RIP] = 0x1111;
    syscall(r.cpu);
    expect([r.s.u32(gprOffset(RCX)), r.s.u32(gprOffset(R11))]).toEqual([0x1111, FLAG_IF | 0x2]);
    expect([r.cpu.r32[W_RIP] >>> 0, r.cpu.r32[W_RIP + 1] >>> 0]).toEqual([0x8000, 0xffffffff]);
    expect([sel(r, CS), sel(r, SS), r.cpu.cpl]).toEqual([0x08, 0x10, 0]);
    expect(r.cpu.getRflags() & FLAG_IF).toBe(0);
    sysret(r.cpu, 8);
    expect([sel(r, CS), sel(r, SS), r.cpu.cpl, r.cpu.r32[W_RIP]]).toEqual([0x2b, 0x23, 3, 0x1111]);
    expect(r.cpu.getRflags() & FLAG_IF).toBe(FLAG_IF);
  });

  it('SYSCALL with EFER.SCE clear -> #UD; SYSRET at CPL 3 -> #GP', () => {
    const r = makeRig();
    long64(r);
    r.s.set64(EFER, EFER_LME | EFER_LMA, 0);
    expect(fault(() => syscall(r.cpu))).toMatchObject({ vector: 6 });
  });

  it('SYSENTER enters ring 0 at SYSENTER_EIP/ESP; SYSEXIT returns to ring 3 at EDX/ECX', () => {
    const r = makeRig();
    protectedMode(r, 3);
    wrmsr0(r, MSR_SYSENTER_CS, SEL.code32);
    wrmsr0(r, MSR_SYSENTER_EIP, 0xc0001000);
    wrmsr0(r, MSR_SYSENTER_ESP, 0xc0009000);
    sysenter(r.cpu);
    expect([sel(r, CS), sel(r, SS), r.cpu.cpl, r.cpu.r32[W_RIP] >>> 0]).toEqual([0x08, 0x10, 0, 0xc0001000]);
    r.s.set64(gprOffset(2), 0x4000, 0); // EDX
    r.s.set64(gprOffset(1), 0x7000, 0); // ECX
    sysexit(r.cpu, 4);
    expect([sel(r, CS), sel(r, SS), r.cpu.cpl, r.cpu.r32[W_RIP]]).toEqual([0x1b, 0x23, 3, 0x4000]);
  });

  it('SWAPGS exchanges GS.base and KERNEL_GS_BASE', () => {
    const r = makeRig();
    long64(r);
    wrmsr(r.cpu, MSR_GS_BASE, 0x1000, 0);
    wrmsr(r.cpu, MSR_KERNEL_GS_BASE, 0x2000, 0xffff8000);
    swapgs(r.cpu);
    expect([r.s.u32(segOffset(GS) + SEG_BASE), r.s.u32(segOffset(GS) + SEG_BASE + 4) >>> 0]).toEqual([0x2000, 0xffff8000]);
    expect(rdmsr(r.cpu, MSR_KERNEL_GS_BASE)).toBe(0x1000);
  });
});

/** WRMSR at CPL 0 even when the test CPU sits at CPL 3 (MSRs are set up by a kernel). */
function wrmsr0(r: Rig, n: number, v: number): void {
  const attr = r.s.u32(segOffset(SS) + SEG_ATTR);
  r.s.setU32(segOffset(SS) + SEG_ATTR, attr & ~(3 << 5));
  r.cpu.modeChanged();
  wrmsr(r.cpu, n, v, 0);
  r.s.setU32(segOffset(SS) + SEG_ATTR, attr);
  r.cpu.modeChanged();
}

describe('FSGSBASE and UMIP', () => {
  it('WRGSBASE/RDFSBASE need CR4.FSGSBASE (#UD without); a non-canonical base is #GP(0)', () => {
    const r = makeRig();
    longMode(r);
    r.s.set64(gprOffset(RCX), 0x1000, 0xffff8000);
    expect(fault(() => wrSegBase(r.cpu, true, RCX * 2, 8))).toMatchObject({ vector: 6 });
    movToCr(r.cpu, 4, CR4_PAE | CR4_FSGSBASE, 0);
    wrSegBase(r.cpu, true, RCX * 2, 8);
    expect([r.s.u32(segOffset(GS) + SEG_BASE), r.s.u32(segOffset(GS) + SEG_BASE + 4) >>> 0]).toEqual([0x1000, 0xffff8000]);
    rdSegBase(r.cpu, true, R11 * 2, 4);
    expect([r.s.u32(gprOffset(R11)), r.s.u32(gprOffset(R11) + 4)]).toEqual([0x1000, 0]);
    r.s.set64(gprOffset(RCX), 0, 0x00800000);
    expect(fault(() => wrSegBase(r.cpu, false, RCX * 2, 8))).toMatchObject({ vector: 13, errorCode: 0 });
  });

  it('with CR4.UMIP, SGDT/SMSW/STR at CPL 3 -> #GP(0); at CPL 0 they work', () => {
    const r = makeRig();
    protectedMode(r);
    movToCr(r.cpu, 4, CR4_UMIP, 0);
    expect(str(r.cpu)).toBe(SEL.tss32);
    protectedMode(r, 3);
    expect(fault(() => storeDtr(r.cpu, false, 0x700, 0))).toMatchObject({ vector: 13 });
    expect(fault(() => smsw(r.cpu))).toMatchObject({ vector: 13 });
    expect(fault(() => str(r.cpu))).toMatchObject({ vector: 13 });
  });
});

describe('IOPL, the I/O bitmap, CLI/STI/POPF', () => {
  it('ring 3 with IOPL 0: port access follows the TSS I/O bitmap', () => {
    const r = makeRig();
    protectedMode(r, 3);
    r.mem.write16(TSS + 102, 0x68);
    // Bitmap at TSS+0x68: deny port 0x3f9 (bit 1 of byte 0x7f), allow the rest; limit covers 0x80 bytes.
    r.s.setU32(segOffset(TR) + 8, 0x68 + 0x80 + 1);
    r.mem.write8(TSS + 0x68 + 0x7f, 0x02);
    checkIo(r.cpu, 0x3f8, 1);
    expect(fault(() => checkIo(r.cpu, 0x3f9, 1))).toMatchObject({ vector: 13, errorCode: 0 });
    expect(fault(() => checkIo(r.cpu, 0x3f8, 2))).toMatchObject({ vector: 13 });
    expect(fault(() => checkIo(r.cpu, 0x1000, 1))).toMatchObject({ vector: 13 }); // past the TSS limit
  });

  it('ring 3 with IOPL 3 needs no bitmap; CLI and STI are allowed', () => {
    const r = makeRig();
    protectedMode(r, 3);
    r.cpu.setRflags(FLAG_IOPL | 0x2);
    checkIo(r.cpu, 0x1000, 4);
    sti(r.cpu);
    expect(r.s.u32(INT_SHADOW) & SHADOW_STI).toBe(SHADOW_STI);
    cli(r.cpu);
    expect(r.cpu.getRflags() & FLAG_IF).toBe(0);
  });

  it('ring 3 with IOPL 0: CLI -> #GP(0); POPF leaves IF and IOPL alone', () => {
    const r = makeRig();
    protectedMode(r, 3);
    r.cpu.setRflags(0x2);
    expect(fault(() => cli(r.cpu))).toMatchObject({ vector: 13 });
    popf(r.cpu, FLAG_IF | FLAG_IOPL | 0x1, 4);
    expect(r.cpu.getRflags() & (FLAG_IF | FLAG_IOPL | 0x1)).toBe(0x1);
  });
});
