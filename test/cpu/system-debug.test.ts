// Hardware breakpoints on the interpreter (SDM Vol. 3B 18.2-18.3): a 64-bit guest
// with an IDT whose #DB handler logs DR6, DR7, the pushed RIP/RFLAGS and RCX/RDI,
// then IRETQs with RF set and TF cleared in the frame (as a debugger would).
import { describe, expect, it } from 'vitest';
import { EXIT_HALT } from '../../contracts/backend.js';
import { flatState } from '../../cpu/flat.js';
import { InterpBackend } from '../../cpu/interp.js';
import { SYSTEM_EXTENSION } from '../../cpu/system/extension.js';
import {
  CR3, CR4, CR4_DE, CR4_PAE, DR0, DR6, DR7, GDTR_BASE, GDTR_LIMIT, IDTR_BASE, IDTR_LIMIT, RAX, RBX, RCX, RDI, RDX, RIP,
  RSI, RSP, StateView, gprOffset,
} from '../../cpu/state.js';
import { GuestMemory } from '../../mmu/memory.js';
import { hex } from './harness.js';

const CODE = 0x1000, HANDLER = 0x3000, LOG = 0x5000, DATA = 0x6000, GDT = 0x8000, IDT = 0x9000, STACK = 0x80000;
/** DR6 with nothing recorded: the bits that read as 1 (SDM 18.2.3). */
const DR6_IDLE = 0xffff0ff0;
const B0 = 1, B1 = 2, B2 = 4, B3 = 8, BD = 1 << 13, BS = 1 << 14;
const RF = 1 << 16;

/**
 * #DB handler: push rax/rbx; log[count] = {DR6, pushed RIP, pushed RFLAGS, DR7, RCX, RDI} (64 bytes
 * each at LOG+0x100); count++; DR6 = 0xffff0ff0; frame RFLAGS: TF cleared, RF set; pop; iretq.
 */
const DB_HANDLER = '50 53 8b1c2500500000 c1e306 0f21f0 4889830051 0000 488b442410 4889830851 0000' +
  '488b442420 4889831051 0000 0f21f8 4889831851 0000 48898b2051 0000 4889bb2851 0000 ff042500500000' +
  'b8f00fffff 0f23f0 81642420fffeffff 814c242000000100 5b 58 48cf';

/** DR7 for breakpoint n: Ln, R/W and LEN fields (bit 10 reads as 1). */
function dr7(n: number, rw: number, len: number): number {
  return 0x400 | (1 << (2 * n)) | (rw << (16 + 4 * n)) | (len << (18 + 4 * n));
}
const RW_EXEC = 0, RW_WRITE = 1, RW_IO = 2, RW_RW = 3;
const LEN1 = 0, LEN2 = 1, LEN8 = 2, LEN4 = 3;

interface DbEvent { dr6: number; rip: number; rflags: number; dr7: number; rcx: number; rdi: number }

class Guest {
  readonly mem = new GuestMemory(4 << 20);
  readonly s = new StateView(this.mem.buffer, this.mem.stateOffset);
  readonly b: InterpBackend;
  readonly ports: [string, number, number][] = [];

  constructor() {
    const ports = this.ports;
    this.b = new InterpBackend({
      memory: this.mem,
      portRead: (port, size) => { ports.push(['in', port, size]); return 0xffff; },
      portWrite: (port, size) => { ports.push(['out', port, size]); },
      interrupts: { hasInterrupt: () => false, acknowledge: () => 0 },
      now: () => 0,
      a20Enabled: () => true,
    }, [SYSTEM_EXTENSION]);
    const m = this.mem, s = this.s;
    flatState(s, 64, CODE);
    // GDT: null, 0x08 64-bit ring-0 code, 0x10 ring-0 data (the selectors flatState loads).
    m.write32(GDT + 8, 0x0000ffff); m.write32(GDT + 12, 0x00af9a00);
    m.write32(GDT + 16, 0x0000ffff); m.write32(GDT + 20, 0x00cf9200);
    s.set64(GDTR_BASE, GDT, 0); s.setU32(GDTR_LIMIT, 23);
    // IDT: vector 1 -> HANDLER (64-bit interrupt gate).
    m.write32(IDT + 16, (0x08 << 16) | HANDLER); m.write32(IDT + 20, 0x8e00);
    s.set64(IDTR_BASE, IDT, 0); s.setU32(IDTR_LIMIT, 0xfff);
    // The first 2 MiB identity-mapped by one 2 MiB page.
    m.write32(0x10000, 0x11007); m.write32(0x11000, 0x12007); m.write32(0x12000, 0xe7); // A and D set: writes fill the TLB's fast path at once
    s.set64(CR3, 0x10000, 0);
    s.set64(gprOffset(RSP), STACK, 0);
    m.writeBytes(HANDLER, hex(DB_HANDLER));
    this.b.setState(s.snapshot());
  }

  /** Debug registers straight into the live record (the run loop re-reads them at run()). */
  debug(n: number, addr: number, dr7Value: number): this {
    this.s.set64(DR0 + 8 * n, addr, 0);
    this.s.set64(DR7, dr7Value, 0);
    return this;
  }

  /** Load `code` (HLT appended) at CODE and run until HLT. */
  run(code: string): this {
    this.mem.writeBytes(CODE, hex(`${code} f4`));
    this.s.set64(RIP, CODE, 0);
    for (let k = 0; k < 100; k++) if (this.b.run(10_000) === EXIT_HALT) return this;
    throw new Error('guest did not halt');
  }

  events(): DbEvent[] {
    const out: DbEvent[] = [];
    for (let k = 0; k < this.mem.read32(LOG); k++) {
      const e = LOG + 0x100 + 64 * k, q = (o: number): number => this.mem.read32(e + o) >>> 0;
      out.push({ dr6: q(0), rip: q(8), rflags: q(16), dr7: q(24), rcx: q(32), rdi: q(40) });
    }
    return out;
  }

  reg(n: number): number { return this.s.lo(gprOffset(n)); }
}

describe('hardware breakpoints (DR0-DR3, DR6, DR7)', () => {
  it('instruction breakpoint: #DB before the instruction (B0, RIP on it, RF 0 pushed); IRETQ with RF set resumes past it', () => {
    // mov eax,1; mov ebx,2 (breakpoint); hlt
    const g = new Guest().debug(0, CODE + 5, dr7(0, RW_EXEC, LEN1)).run('b801000000 bb02000000');
    const ev = g.events();
    expect(ev).toHaveLength(1);
    expect(ev[0].dr6).toBe((DR6_IDLE | B0) >>> 0);
    expect(ev[0].rip).toBe(CODE + 5);
    expect(ev[0].rflags & RF).toBe(0);
    // Resumed: the instruction ran once, RF was cleared after it, and the guest reached HLT.
    expect([g.reg(RAX), g.reg(RBX)]).toEqual([1, 2]);
    expect(g.s.lo(RIP)).toBe(CODE + 11);
    expect(g.b.cpu.getRflags() & RF).toBe(0);
  });

  it('RF covers one instruction only: a breakpoint inside a loop fires on every pass', () => {
    // mov ecx,2; L: inc eax (breakpoint); dec ecx; jnz L; hlt
    const g = new Guest().debug(0, CODE + 5, dr7(0, RW_EXEC, LEN1)).run('b902000000 ffc0 ffc9 75fa');
    expect(g.events().map((e) => [e.dr6, e.rip, e.rcx])).toEqual([[(DR6_IDLE | B0) >>> 0, CODE + 5, 2], [(DR6_IDLE | B0) >>> 0, CODE + 5, 1]]);
    expect(g.reg(RAX)).toBe(2);
  });

  it('data write breakpoint (LEN 4): a byte MOV inside the range traps after it with B1; a read of the range does not', () => {
    // mov [0x6010],eax (fills the TLB for the page); mov eax,[0x6000]; mov byte [0x6002],0x55; nop; hlt
    const g = new Guest().debug(1, DATA, dr7(1, RW_WRITE, LEN4)).run('89042510600000 8b042500600000 c604250260000055 90');
    const ev = g.events();
    expect(ev).toHaveLength(1);
    expect(ev[0].dr6).toBe((DR6_IDLE | B1) >>> 0);
    expect(ev[0].rip).toBe(CODE + 22); // the NOP after the store: a trap
    expect(ev[0].rflags & RF).toBe(0);
    expect(g.mem.read8(DATA + 2)).toBe(0x55);
  });

  it('R/W 11 breakpoint fires on a read', () => {
    // mov eax,[0x6000]; mov eax,[0x6004]; nop; hlt
    const g = new Guest().debug(0, DATA + 4, dr7(0, RW_RW, LEN1)).run('8b042500600000 8b042504600000 90');
    const ev = g.events();
    expect(ev.map((e) => [e.dr6, e.rip])).toEqual([[(DR6_IDLE | B0) >>> 0, CODE + 14]]);
  });

  it('2-byte breakpoint (DR2 = 0x6007 aligned down to 0x6006): a dword store at 0x6002 misses, one at 0x6003 overlaps it', () => {
    // mov [rsi+2],eax; mov [rsi+3],eax; nop; hlt  (the [base+disp] store fast path)
    const g = new Guest().debug(2, DATA + 7, dr7(2, RW_WRITE, LEN2));
    g.s.set64(gprOffset(RSI), DATA, 0);
    g.run('894602 894603 90');
    const ev = g.events();
    expect(ev.map((e) => [e.dr6, e.rip])).toEqual([[(DR6_IDLE | B2) >>> 0, CODE + 6]]);
  });

  it('8-byte write breakpoint on a stack slot: PUSH RAX (the stack fast path) traps after it', () => {
    // push rax (next to the range: fills the TLB); push rax (hits); nop; hlt
    const g = new Guest().debug(0, STACK - 16, dr7(0, RW_WRITE, LEN8)).run('50 50 90');
    expect(g.events().map((e) => [e.dr6, e.rip])).toEqual([[(DR6_IDLE | B0) >>> 0, CODE + 2]]);
  });

  it('REP STOSB over a write breakpoint traps after the iteration that hit: RIP on the STOSB, RF 1 pushed, RCX/RDI mid-way', () => {
    const g = new Guest().debug(0, DATA + 5, dr7(0, RW_WRITE, LEN1));
    g.s.set64(gprOffset(RDI), DATA, 0);
    g.s.set64(gprOffset(RCX), 16, 0);
    g.s.set64(gprOffset(RAX), 0xaa, 0);
    g.run('f3aa');
    const ev = g.events();
    expect(ev).toHaveLength(1);
    expect(ev[0].dr6).toBe((DR6_IDLE | B0) >>> 0);
    expect(ev[0].rip).toBe(CODE);
    expect(ev[0].rflags & RF).toBe(RF);
    expect([ev[0].rcx, ev[0].rdi]).toEqual([10, DATA + 6]);
    // The handler's IRETQ continued the string to the end.
    expect([g.reg(RCX), g.reg(RDI)]).toEqual([0, DATA + 16]);
    for (let k = 0; k < 16; k++) expect(g.mem.read8(DATA + k)).toBe(0xaa);
    expect(g.s.lo(RIP)).toBe(CODE + 3);
  });

  it('REPE CMPSB under a read breakpoint: traps after the iteration that read it, then stops at the first difference as usual', () => {
    const g = new Guest();
    g.mem.writeBytes(DATA, Uint8Array.from([1, 2, 3, 4, 5, 6]));
    g.mem.writeBytes(DATA + 0x100, Uint8Array.from([1, 2, 3, 9, 5, 6]));
    g.s.set64(DR0 + 8, DATA + 0x104, 0); // never reached: the strings differ at index 3
    g.debug(0, DATA + 0x101, dr7(0, RW_RW, LEN1) | dr7(1, RW_RW, LEN1));
    g.s.set64(gprOffset(RSI), DATA, 0);
    g.s.set64(gprOffset(RDI), DATA + 0x100, 0);
    g.s.set64(gprOffset(RCX), 6, 0);
    g.run('f3a6');
    const ev = g.events();
    expect(ev.map((e) => [e.dr6, e.rip, e.rflags & RF, e.rcx, e.rdi])).toEqual([[(DR6_IDLE | B0) >>> 0, CODE, RF, 4, DATA + 0x102]]);
    expect([g.reg(RCX), g.reg(RSI), g.reg(RDI)]).toEqual([2, DATA + 4, DATA + 0x104]);
    expect(g.b.cpu.getRflags() & 0x40).toBe(0); // ZF clear: ended on the difference
  });

  it('DR7.GD: MOV DR7 raises #DB before it runs, with DR6.BD, GD cleared for the handler and RF 1 pushed', () => {
    // mov eax,0x400; mov dr7,rax; hlt
    const g = new Guest().debug(0, 0, 0x400 | (1 << 13)).run('b800040000 0f23f8');
    const ev = g.events();
    expect(ev).toHaveLength(1);
    expect(ev[0].dr6).toBe((DR6_IDLE | BD) >>> 0);
    expect(ev[0].rip).toBe(CODE + 5);
    expect(ev[0].rflags & RF).toBe(RF);
    expect(ev[0].dr7).toBe(0x400);
    // Re-executed after the handler: the MOV now succeeds.
    expect(g.s.lo(DR7)).toBe(0x400);
    expect(g.s.lo(RIP)).toBe(CODE + 9); // past the HLT
  });

  it('I/O breakpoint (R/W 10 with CR4.DE): OUT 0x80 and a word IN at 0x7F both trap after the instruction with B3', () => {
    // mov al,1; out 0x80,al; nop; mov dx,0x7f; in ax,dx; nop; hlt
    const code = 'b001 e680 90 66ba7f00 66ed 90';
    const g = new Guest().debug(3, 0x80, dr7(3, RW_IO, LEN1));
    g.s.set64(CR4, CR4_PAE | CR4_DE, 0);
    g.run(code);
    expect(g.events().map((e) => [e.dr6, e.rip])).toEqual([[(DR6_IDLE | B3) >>> 0, CODE + 4], [(DR6_IDLE | B3) >>> 0, CODE + 11]]);
    expect(g.ports).toEqual([['out', 0x80, 1], ['in', 0x7f, 2]]);
    expect(g.reg(RDX) & 0xffff).toBe(0x7f);
    // Without CR4.DE, R/W 10 is undefined: this CPU never matches it.
    const h = new Guest().debug(3, 0x80, dr7(3, RW_IO, LEN1)).run(code);
    expect(h.events()).toEqual([]);
  });

  it('TF and a data breakpoint on the same instruction -> one #DB with DR6.BS and B0', () => {
    // pushfq; or qword [rsp],0x100; popfq; mov [rsi],al; nop; hlt
    const g = new Guest().debug(0, DATA, dr7(0, RW_WRITE, LEN1));
    g.s.set64(gprOffset(RSI), DATA, 0);
    g.run('9c 48810c2400010000 9d 8806 90');
    const ev = g.events();
    expect(ev).toHaveLength(1); // the handler clears TF in the frame
    expect(ev[0].dr6).toBe((DR6_IDLE | BS | B0) >>> 0);
    expect(ev[0].rip).toBe(CODE + 12);
  });

  it('DR7 = 0x400: breakpoint addresses in DR0-DR3 raise nothing, and no access watch is installed', () => {
    const g = new Guest();
    g.s.set64(DR0, CODE, 0); g.s.set64(DR0 + 8, DATA, 0); g.s.set64(DR0 + 16, DATA + 4, 0); g.s.set64(DR0 + 24, 0x80, 0);
    g.s.set64(DR7, 0x400 | (0xff << 16) | (0xff << 24), 0); // R/W and LEN fields set, no enables
    g.s.set64(CR4, CR4_PAE | CR4_DE, 0);
    g.s.set64(gprOffset(RSI), DATA, 0);
    g.run('8b042504600000 894602 8806 b001 e680');
    expect(g.events()).toEqual([]);
    expect(g.b.cpu.watch).toBe(null);
    expect(g.s.lo(DR6)).toBe(DR6_IDLE);
  });
});
