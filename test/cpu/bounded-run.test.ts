// run(n) returns after bounded work whatever the guest does (issue 20): event deliveries
// count toward the budget, so a handler that faults on its own first instruction cannot
// hold the host, and REP string instructions pause between chunks with RIP on the
// instruction and RCX/RSI/RDI where the next iteration starts.
import { describe, expect, it } from 'vitest';
import { EXIT_BUDGET, EXIT_HALT } from '../../contracts/backend.js';
import { DELIVERY_COST } from '../../cpu/interp.js';
import { REP_CHUNK_WORK } from '../../cpu/ops-string.js';
import { RAX, RCX, RDI, RFLAGS, RSI, RSP, SS, SEG_BASE, segOffset } from '../../cpu/state.js';
import { CODE, HANDLER, LOG, TSS, flatGuest, type Guest } from './bounded-guests.js';

/** Most iterations a REP may do in run(n): n plus the chunk that was running when the budget ran out. */
const BUDGET = 100_000;

/** Deliveries the budget allows (after `retired` instructions), give or take the one in progress. */
const deliveries = (budget: number, retired: number): number => Math.ceil((budget - retired) / DELIVERY_COST);

describe('a fault storm (an exception handler that faults on its own first instruction) ends run(n)', () => {
  it('real mode: IVT[6] -> UD2, SS:SP = 1000:0000 -> run(200) returns, SP wrapped by 6 per delivery', () => {
    // The reproduction: mov ax,0x1000; mov ss,ax; xor sp,sp; IVT[6] = 0000:7c20; ud2; ...; 7c20: ud2
    const g = flatGuest(16);
    g.code('b80010 8ed0 31e4 c7061800207c c7061a000000 0f0b' + '90'.repeat(11) + '0f0b', 0x7c00);
    g.s.set64(0x80, 0x7c00, 0);
    expect(g.b.run(200)).toBe(EXIT_BUDGET);
    const c = g.b.counters();
    expect(c.instructions).toBe(5);
    expect(c.faults).toBe(deliveries(200, 5));
    expect(g.rip()).toBe(0x7c20);
    expect(g.s.lo(segOffset(SS) + SEG_BASE)).toBe(0x10000);
    expect(g.reg(RSP) & 0xffff).toBe((-6 * c.faults) & 0xffff);
    // Many budgets later the storm is reported in the counters; each run still returns.
    for (let i = 0; i < 20; i++) expect(g.b.run(BUDGET)).toBe(EXIT_BUDGET);
    const after = g.b.counters();
    expect(after.instructions).toBe(5);
    expect(after.faultStorms).toBe(1);
    expect(after.stormFaults).toBe(after.faults - c.faults); // the first run retired the 5
  });

  it('32-bit: a gate to a UD2, ESP wrapping into unbacked space', () => {
    const g = flatGuest(32);
    g.gate(6, HANDLER);
    g.code('0f0b', HANDLER);
    g.code('0f0b');
    g.set(RSP, 8);
    expect(g.b.run(BUDGET)).toBe(EXIT_BUDGET);
    const n = g.b.counters().faults;
    expect(n).toBe(deliveries(BUDGET, 0));
    expect(g.rip()).toBe(HANDLER);
    expect(g.reg(RSP)).toBe((8 - 12 * n) >>> 0); // EFLAGS, CS, EIP per delivery
  });

  it('64-bit: a gate with IST1 to a UD2, RSP reloaded on every delivery', () => {
    const g = flatGuest(64);
    g.gate(6, HANDLER, 1);
    g.mem.write32(TSS + 36, 0x70000); // IST1
    g.code('0f0b', HANDLER);
    g.code('0f0b');
    expect(g.b.run(BUDGET)).toBe(EXIT_BUDGET);
    expect(g.b.counters().faults).toBe(deliveries(BUDGET, 0));
    expect(g.rip()).toBe(HANDLER);
    expect(g.reg(RSP)).toBe(0x70000 - 40);
  });
});

/** Run `g` until HLT in budget-sized calls; returns the number of calls. */
function toHalt(g: Guest, budget = BUDGET): number {
  for (let calls = 1; calls < 10_000; calls++) if (g.b.run(budget) === EXIT_HALT) return calls;
  throw new Error('no HLT');
}

describe('a REP string instruction with a huge count pauses between chunks (RIP on it, registers exact)', () => {
  /** One run(budget): returns how many iterations it did, checking RIP and that it paused. */
  function oneRun(g: Guest, count: () => number, start: number, budget = BUDGET): number {
    expect(g.b.run(budget)).toBe(EXIT_BUDGET);
    expect(g.rip()).toBe(CODE);
    expect(g.b.counters().repPauses).toBeGreaterThan(0);
    const done = start - count();
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThanOrEqual(budget + REP_CHUNK_WORK);
    return done;
  }

  it('real mode: REP LODSB with CX = 0xFFFF', () => {
    const g = flatGuest(16);
    g.code('f3ac f4');
    g.set(RCX, 0xffff);
    g.set(RSI, 0);
    const done = oneRun(g, () => g.reg(RCX) & 0xffff, 0xffff, 10_000);
    expect(g.reg(RSI)).toBe(done);
  });

  it('32-bit: REP LODSB with ECX = 0xFFFFFFFF', () => {
    const g = flatGuest(32);
    g.code('f3ac f4');
    for (let i = 0; i < 0x20000; i++) g.mem.write8(0x100000 + i, i * 7);
    g.set(RCX, 0xffffffff);
    g.set(RSI, 0x100000);
    const done = oneRun(g, () => g.reg(RCX), 0xffffffff);
    expect(g.reg(RSI)).toBe(0x100000 + done);
    expect(g.reg(RAX) & 0xff).toBe(((done - 1) * 7) & 0xff);
  });

  it('32-bit: REP STOSB to unbacked addresses', () => {
    const g = flatGuest(32);
    g.code('f3aa f4');
    g.set(RCX, 0xffffffff);
    g.set(RDI, 0x40000000);
    const done = oneRun(g, () => g.reg(RCX), 0xffffffff);
    expect(g.reg(RDI)).toBe(0x40000000 + done);
  });

  it('32-bit: REP INSB and REP OUTSB with counts near 2^31', () => {
    const ins = flatGuest(32);
    ins.code('f36c f4');
    ins.set(RCX, 0x7fffffff);
    ins.set(RDI, 0x100000);
    const done = oneRun(ins, () => ins.reg(RCX), 0x7fffffff);
    expect(ins.io.reads).toBe(done);
    expect(ins.reg(RDI)).toBe(0x100000 + done);
    const outs = flatGuest(32);
    outs.code('f36e f4');
    outs.set(RCX, 0x7ffffff0);
    outs.set(RSI, 0x100000);
    const sent = oneRun(outs, () => outs.reg(RCX), 0x7ffffff0);
    expect(outs.io.writes).toBe(sent);
  });

  it('64-bit: REPNE SCASB over a 1 GiB mapping', () => {
    const g = flatGuest(64);
    g.code('f2ae f4');
    g.set(RAX, 0x5a);
    g.set(RCX, 0x80000000);
    g.set(RDI, 0x100000);
    const done = oneRun(g, () => g.reg(RCX), 0x80000000);
    expect(g.reg(RDI)).toBe(0x100000 + done);
  });
});

describe('chunked REP strings leave the same guest-visible result', () => {
  it('32-bit REP LODSB of 50,000 bytes over several run() calls: ESI, ECX, AL as one instruction would', () => {
    const g = flatGuest(32);
    g.code('f3ac f4');
    for (let i = 0; i < 50_000; i++) g.mem.write8(0x100000 + i, i * 13);
    g.set(RCX, 50_000);
    g.set(RSI, 0x100000);
    expect(toHalt(g, 5_000)).toBeGreaterThan(5);
    expect([g.reg(RCX), g.reg(RSI), g.reg(RAX) & 0xff, g.rip()]).toEqual([0, 0x100000 + 50_000, (49_999 * 13) & 0xff, CODE + 3]);
  });

  it('64-bit REP MOVSB of 3 MiB + 5 bytes between unaligned addresses (the bulk page path)', () => {
    const g = flatGuest(64, 16);
    g.code('f3a4 f4');
    const n = (3 << 20) + 5, src = 0x200003, dst = 0x800ffd;
    for (let i = 0; i < n; i += 4) g.mem.write32(src + i, i * 0x9e3779b1);
    g.set(RCX, n); g.set(RSI, src); g.set(RDI, dst);
    expect(toHalt(g, 10_000)).toBeGreaterThan(1);
    expect([g.reg(RCX), g.reg(RSI), g.reg(RDI)]).toEqual([0, src + n, dst + n]);
    for (const i of [0, 1, 4095, 4096, 0x12345, n - 1]) expect(g.mem.read8(dst + i)).toBe(g.mem.read8(src + i));
    expect(g.b.counters().repPauses).toBeGreaterThan(0);
  });

  it('64-bit REP STOSQ of 2 MiB: every qword written, RDI/RCX at the end', () => {
    const g = flatGuest(64, 16);
    g.code('f348ab f4');
    g.set(RAX, 0x11223344, 0x55667788);
    g.set(RCX, 0x40000); g.set(RDI, 0x400000);
    toHalt(g, 1_000);
    expect([g.reg(RCX), g.reg(RDI)]).toEqual([0, 0x600000]);
    for (const a of [0x400000, 0x4ffff8, 0x5ffff8]) expect([g.mem.read32(a) >>> 0, g.mem.read32(a + 4) >>> 0]).toEqual([0x11223344, 0x55667788]);
    expect(g.mem.read32(0x600000)).toBe(0);
  });

  it('32-bit REPNE SCASB finds a byte 30,000 in: RDI and RCX as one instruction would leave them', () => {
    const g = flatGuest(32);
    g.code('f2ae f4');
    g.mem.write8(0x100000 + 30_000, 0x5a);
    g.set(RAX, 0x5a); g.set(RCX, 100_000); g.set(RDI, 0x100000);
    toHalt(g, 2_000);
    expect([g.reg(RCX), g.reg(RDI)]).toEqual([100_000 - 30_001, 0x100000 + 30_001]);
  });

  it('an interrupt arriving during REP LODSB is taken between iterations: pushed EIP on the instruction, RF set', () => {
    const g = flatGuest(32);
    // sti; rep lodsb; hlt. Handler (vector 0x20): push eax; log ECX, ESI, pushed EIP, pushed EFLAGS; pop eax; iretd.
    g.code('fb f3ac f4');
    g.code('50 890d00600000 893504600000 8b442404 a308600000 8b44240c a30c600000 58 cf', HANDLER);
    g.gate(0x20, HANDLER);
    for (let i = 0; i < 50_000; i++) g.mem.write8(0x100000 + i, i * 13);
    g.set(RCX, 50_000); g.set(RSI, 0x100000);
    g.raise(0x20);
    expect(g.b.run(1_000_000)).toBe(EXIT_HALT);
    const [ecx, esi, eip, eflags] = [0, 4, 8, 12].map((o) => g.mem.read32(LOG + o) >>> 0);
    expect(ecx).toBeGreaterThan(0);
    expect(ecx).toBeLessThan(50_000);
    expect(esi - 0x100000 + ecx).toBe(50_000);
    expect(eip).toBe(CODE + 1);
    expect(eflags & (1 << 16)).not.toBe(0); // RF: the instruction goes on without refetch side effects
    expect(eflags & (1 << 9)).not.toBe(0); // IF
    expect([g.reg(RCX), g.reg(RSI), g.reg(RAX) & 0xff]).toEqual([0, 0x100000 + 50_000, (49_999 * 13) & 0xff]);
  });
});

describe('runaway decoding counts toward the budget (issue 20: code that decodes far more than it retires)', () => {
  it('ordinary straight-line code, cold cache: run(n) retires exactly n (decoding is not charged)', () => {
    const g = flatGuest(32);
    g.code('90'.repeat(20_000) + 'f4');
    expect(g.b.run(10_000)).toBe(EXIT_BUDGET);
    expect(g.b.counters().instructions).toBe(10_000);
  });

  it('STOSB rewriting the next instruction each time (a 64-instruction block decoded per retired one): run(n) stops early', () => {
    const g = flatGuest(32);
    g.code('aa'.repeat(2_000)); // stosb x 2000, each storing 0xAA (stosb) over the next
    g.set(RAX, 0xaa);
    g.set(RDI, CODE + 1);
    expect(g.b.run(10_000)).toBe(EXIT_BUDGET);
    const c = g.b.counters();
    expect(c.instructions).toBeLessThan(1_000);
    expect(c.codeWrites).toBe(c.instructions);
    expect(g.reg(RDI)).toBe(CODE + 1 + c.instructions);
    expect(c.insnsDecoded).toBeLessThan(64 * 1_000);
    // Later calls go on where it stopped: RIP and EDI move together, one byte per STOSB.
    for (let k = 0; k < 4; k++) expect(g.b.run(10_000)).toBe(EXIT_BUDGET);
    const d = g.b.counters();
    expect(d.instructions).toBeGreaterThan(c.instructions);
    expect([g.rip(), g.reg(RDI)]).toEqual([CODE + d.instructions, CODE + 1 + d.instructions]);
  });

  it('real mode, TF set, a #DB handler that returns: each step decodes the one instruction it runs', () => {
    // The fuzz stall (seed 102004): stepping through fresh bytes decoded a 64-instruction block per step.
    const g = flatGuest(16);
    g.code('90'.repeat(500) + 'f4');
    g.code('cf', HANDLER); // iret
    g.gate(1, HANDLER);
    g.s.set64(RFLAGS, 0x102, 0); // TF
    g.b.setState(g.s.snapshot());
    let calls = 0;
    while (g.b.run(BUDGET) !== EXIT_HALT) expect(++calls).toBeLessThan(100);
    const c = g.b.counters();
    expect(c.instructions).toBe(501 + 500); // each NOP, and the IRET after its #DB
    expect(c.insnsDecoded).toBeLessThanOrEqual(502); // one per address (the HLT, the IRET), not 64 per step
  });
});
