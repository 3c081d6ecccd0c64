// Interrupt windows inside blocks and the MOV SS shadow (issue 19 items 1 and 2), from a
// 64-bit guest (system-windows.S) on the interpreter: each case logs the interrupts and
// #DBs it took and where, and the test compares them with the addresses the guest expects.
import { describe, expect, it } from 'vitest';
import { runGuest64 } from './guest64-rig.js';
import { hasToolchain } from './system-build.js';

const LOG = 0x6000;
/** DR6 bits (SDM 18.2.3) and the value the #DB handler resets it to. */
const B0 = 1, BD = 1 << 13, BS = 1 << 14, DR6_IDLE = 0xffff0ff0;

interface Record { expect: number; expect2: number; irqs: number; irqRip: number; dbs: number; db: { dr6: number; rip: number }[] }

/** The guest's records (see system-windows.S). */
function runGuest(): Record[] {
  const mem = runGuest64('system-windows.S');
  const out: Record[] = [];
  const q = (a: number): number => mem.read32(a) >>> 0;
  for (let k = 0; k < q(LOG); k++) {
    const e = LOG + 16 + 128 * k;
    const db = [0, 1, 2, 3].map((i) => ({ dr6: q(e + 40 + 16 * i), rip: q(e + 48 + 16 * i) }));
    out.push({ expect: q(e), expect2: q(e + 8), irqs: q(e + 16), irqRip: q(e + 24), dbs: q(e + 32), db });
  }
  return out;
}

describe.skipIf(!hasToolchain())('interrupt windows and the MOV SS shadow (system-windows.S)', () => {
  const log = runGuest();
  const taken = (k: number) => ({ irqs: log[k].irqs, at: log[k].irqRip.toString(16) });
  const once = (k: number) => ({ irqs: 1, at: log[k].expect.toString(16) });
  const dbs = (k: number) => log[k].db.slice(0, Math.min(4, log[k].dbs)).map((d) => [d.dr6 >>> 0, d.rip - log[k].expect]);

  it('the guest ran every case', () => {
    expect(log).toHaveLength(18);
  });

  it('sti; nop; cli with an interrupt pending -> taken after the NOP, inside the block', () => {
    expect(taken(0)).toEqual(once(0));
  });

  it('sti; cpuid; cpuid; cli -> taken after the first CPUID', () => {
    expect(taken(1)).toEqual(once(1));
  });

  it('POPF sets IF with an interrupt pending -> taken at once, before the next instruction', () => {
    expect(taken(2)).toEqual(once(2));
  });

  it('IRETQ to a frame with IF set -> taken at once, on the target', () => {
    expect(taken(3)).toEqual(once(3));
  });

  it('MOV CR8 lowers the TPR below the pending vector -> taken right after the MOV', () => {
    expect(taken(4)).toEqual(once(4));
  });

  it('the TPR lowered below the pending vector through the APIC page (mov [tpr], imm) -> taken right after the MOV, inside the block', () => {
    expect(taken(15)).toEqual(once(15));
  });

  it('the same through a register store (mov [rbx], eax: the store fast op, MMIO on its slow path) -> taken right after the MOV', () => {
    expect(taken(16)).toEqual(once(16));
  });

  it('x2APIC: the TPR lowered by WRMSR 0x808 -> taken right after the WRMSR', () => {
    expect(taken(17)).toEqual(once(17));
  });

  it('sti; mov ss; nop; nop -> the MOV SS shadow holds it one more instruction: taken after the first NOP', () => {
    expect(taken(5)).toEqual(once(5));
  });

  it('sti; cli -> the window never opens; the interrupt stays pending and the next sti; nop takes it', () => {
    expect(log[6].irqs).toBe(0);
    expect(taken(7)).toEqual(once(7));
  });

  it('sti; hlt -> woken by the pending interrupt, returning after the HLT', () => {
    expect(taken(8)).toEqual(once(8));
  });

  it('TF set, then MOV SS: its single-step trap is suppressed; the next traps come after AND, PUSH and POPF', () => {
    expect(log[9].dbs).toBe(3);
    expect(dbs(9)).toEqual([[DR6_IDLE | BS, 0], [DR6_IDLE | BS, 1], [DR6_IDLE | BS, 2]].map(([d, o]) => [d >>> 0, o]));
  });

  it('TF, MOV SS, ICEBP: one #DB from the ICEBP (no BS), then single steps as usual', () => {
    expect(log[10].dbs).toBe(4);
    expect(dbs(10)).toEqual([[DR6_IDLE >>> 0, 0], [(DR6_IDLE | BS) >>> 0, 6], [(DR6_IDLE | BS) >>> 0, 7], [(DR6_IDLE | BS) >>> 0, 8]]);
  });

  it('TF, MOV SS, MOV DR6 under DR7.GD: #DB with BD on the MOV DR6 (a fault, not held back), then single steps', () => {
    expect(log[11].dbs).toBe(5);
    const d = dbs(11);
    expect(d.map(([dr6, off]) => [dr6 & (BD | BS), off])).toEqual([[BD, 0], [BS, 3], [BS, 9], [BS, 10]]);
  });

  it('a data breakpoint hit by MOV SS -> #DB with B0 after the next instruction, not after the MOV SS', () => {
    expect(log[12].dbs).toBe(1);
    expect(dbs(12)).toEqual([[(DR6_IDLE | B0) >>> 0, 0]]);
  });

  it('a data breakpoint hit by MOV SS, then ICEBP -> one #DB, B0 with it', () => {
    expect(log[13].dbs).toBe(1);
    expect(dbs(13)).toEqual([[(DR6_IDLE | B0) >>> 0, 0]]);
  });

  it('a data breakpoint hit by MOV SS, then INT 1 -> INT 1 enters the handler, the held #DB (B0) is taken at its first instruction', () => {
    expect(log[14].dbs).toBe(2);
    expect(log[14].db[0]).toEqual({ dr6: (DR6_IDLE | B0) >>> 0, rip: log[14].expect2 });
    expect(log[14].db[1]).toEqual({ dr6: DR6_IDLE >>> 0, rip: log[14].expect });
  });
});
