// The PC/AT x87 error path (CR0.NE=0, Intel SDM Vol. 1 8.7.2 and D.2.1): a pending unmasked
// exception at a waiting instruction asserts FERR#, the chipset raises IRQ13, the handler writes
// port F0h (IRQ13 off, IGNNE# on) and FNCLEX (FERR# off, IGNNE# off). With CR0.NE=1 the same
// code takes #MF. The latch alone, the CPU's signalling, and a whole real-mode PC guest.

import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { CpuHost, FerrPins } from '../../contracts/backend.js';
import { EXIT_HALT } from '../../contracts/backend.js';
import { flatState } from '../../cpu/flat.js';
import { FPU_EXTENSION } from '../../cpu/fpu/extension.js';
import { InterpBackend } from '../../cpu/interp.js';
import { CR0, CR0_NE, FX_FSW, RIP, RUN_HALTED, RUN_RUNNING, RUN_STATE, StateView } from '../../cpu/state.js';
import { FERR_IRQ, FERR_PORT, FerrLatch } from '../../devices/ferr.js';
import { bootRecipe } from '../../machine/boot.js';
import { Machine } from '../../machine/machine.js';
import { GuestMemory } from '../../mmu/memory.js';
import { hex } from '../cpu/harness.js';
import { buildFlat, hasToolchain } from '../cpu/system-build.js';

/** An IrqSink that remembers each line's level and every change. */
function irqLog() {
  const changes: [number, boolean][] = [];
  const level = new Map<number, boolean>();
  return { changes, level, setIrq(line: number, on: boolean) { changes.push([line, on]); level.set(line, on); } };
}

describe('the coprocessor-error latch (port F0h, IRQ13)', () => {
  test('FERR# raises IRQ13; a write to F0h lowers it and asserts IGNNE#; FERR# going away ends IGNNE#', () => {
    const irqs = irqLog();
    const latch = new FerrLatch({ irqs });
    latch.setFerr(true);
    expect(irqs.level.get(FERR_IRQ)).toBe(true);
    expect(latch.ignne()).toBe(false);
    latch.portWrite(FERR_PORT, 1, 0x00);
    expect(irqs.level.get(FERR_IRQ)).toBe(false);
    expect(latch.ignne()).toBe(true);
    latch.setFerr(true); // still asserted (the CPU re-reports it): no new edge
    expect(irqs.changes).toEqual([[13, true], [13, false]]);
    latch.setFerr(false);
    expect(latch.ignne()).toBe(false);
    latch.setFerr(true); // a new exception: a new IRQ13
    expect(irqs.changes).toEqual([[13, true], [13, false], [13, true]]);
    expect(latch.asserts).toBe(2);
  });
  test('a write to F0h with FERR# deasserted does not assert IGNNE#; reads return all ones; reset clears all', () => {
    const irqs = irqLog();
    const latch = new FerrLatch({ irqs });
    latch.portWrite(FERR_PORT, 1, 0xff);
    expect(latch.ignne()).toBe(false);
    expect(latch.portRead(FERR_PORT, 1)).toBe(0xff);
    latch.setFerr(true);
    latch.portWrite(FERR_PORT, 1, 0);
    latch.reset();
    expect(latch.ignne()).toBe(false);
    expect(irqs.level.get(FERR_IRQ)).toBe(false);
  });
});

/** FERR#/IGNNE# pins that log each change of FERR#'s level (the CPU may re-drive the same level). */
interface PinLog { calls: boolean[]; ignne: boolean; pins: FerrPins }
function pinLog(ignne: boolean): PinLog {
  const calls: boolean[] = [];
  let level = false;
  const log: PinLog = {
    calls, ignne,
    pins: { setFerr: (on) => { if (on !== level) calls.push(on); level = on; }, ignne: () => log.ignne },
  };
  return log;
}

/** A real-mode interpreter whose host has the given FERR#/IGNNE# pins (or none). */
function realModeCpu(pins?: FerrPins) {
  const mem = new GuestMemory(2 << 20);
  const host: CpuHost = {
    memory: mem,
    portRead: () => 0xff,
    portWrite: (port, size, v) => { if (port === FERR_PORT && pins instanceof FerrLatch) pins.portWrite(port, size, v); },
    interrupts: { hasInterrupt: () => false, acknowledge: () => 0 },
    now: () => 0,
    a20Enabled: () => true,
    ferr: pins,
  };
  const backend = new InterpBackend(host, [FPU_EXTENSION]);
  const state = new StateView(mem.buffer, mem.stateOffset);
  flatState(state, 16, 0x1000);
  backend.setState(state.snapshot());
  mem.write16(0x2000, 0x037b); // a control word with ZE unmasked
  mem.write16(0x2002, 0x037f); // and one with everything masked
  const cpu = backend.cpu;
  return {
    cpu, state,
    run(code: string, ne = false): number {
      mem.writeBytes(0x1000, hex(code + 'f4'));
      state.set64(RIP, 0x1000, 0);
      state.set64(CR0, ne ? CR0_NE : 0, 0);
      cpu.r32[RUN_STATE / 4] = RUN_RUNNING;
      cpu.lastEvent = null;
      backend.invalidateCode();
      return backend.run(1000);
    },
    fsw: () => state.u32(FX_FSW) & 0xffff,
  };
}
/** fninit; fldcw [2000h] (ZE unmasked); fld1; fldz; fdivp: 1/0 leaves ZE and ES pending. */
const DIVIDE_BY_ZERO = 'db e3 d9 2e 00 20 d9 e8 d9 ee de f9';
const FWAIT = '9b', FLD1 = 'd9 e8', FNCLEX = 'db e2';

describe('the CPU signals FERR# at waiting instructions when CR0.NE=0', () => {
  test('NE=0: FWAIT with ZE pending asserts FERR#, takes no #MF and freezes before it until an interrupt; with IGNNE# it runs on', () => {
    const log = pinLog(false);
    const x = realModeCpu(log.pins);
    x.run(DIVIDE_BY_ZERO);
    expect(log.calls).toEqual([]); // the exception is only recorded (deferred reporting)
    expect(x.fsw() & 0x80ff).toBe(0x8084);
    const before = x.fsw();
    expect(x.run(`${FWAIT} ${FLD1}`)).toBe(EXIT_HALT);
    expect(x.cpu.lastEvent).toBeNull();
    expect(log.calls).toEqual([true]);
    expect(x.state.lo(RIP)).toBe(0x1000); // frozen on the FWAIT: neither it nor FLD1 ran
    expect(x.cpu.r32[RUN_STATE / 4]).toBe(RUN_HALTED);
    expect(x.fsw()).toBe(before);
    log.ignne = true; // the IRQ13 handler's write to F0h
    expect(x.run(`${FWAIT} ${FLD1}`)).toBe(EXIT_HALT);
    expect(x.state.lo(RIP)).toBe(0x1004); // past FWAIT, FLD1 and the HLT
    expect(x.fsw() & 0x3880).toBe(((before & 0x3800) - 0x800) | 0x80); // FLD1 pushed, ES still set
    expect(log.calls).toEqual([true]); // FERR# stays asserted while ES is set
  });
  test('NE=0 with IGNNE# asserted: the exception is ignored and FERR# is not touched', () => {
    const { calls, pins } = pinLog(true);
    const x = realModeCpu(pins);
    x.run(`${DIVIDE_BY_ZERO} ${FWAIT}`);
    expect(x.cpu.lastEvent).toBeNull();
    expect(calls).toEqual([]);
  });
  test('FNCLEX, FNINIT, FLDCW and FNSAVE that clear ES deassert FERR#; FNSTSW does not', () => {
    for (const clear of [FNCLEX, 'db e3', 'd9 2e 02 20', 'dd 36 00 30']) {
      const log = pinLog(false);
      const x = realModeCpu(log.pins);
      x.run(`${DIVIDE_BY_ZERO} df e0 ${FWAIT}`); // fnstsw ax: non-waiting, ES stays
      expect(log.calls).toEqual([true]);
      // FLDCW [2002h] masks ZE, so ES goes away with it; it is a waiting instruction, so it
      // runs only with IGNNE# asserted (the handler's write to F0h)
      if (clear.startsWith('d9 2e')) log.ignne = true;
      x.run(clear);
      expect(log.calls).toEqual([true, false]);
    }
  });
  test('NE=1: the same FWAIT takes #MF before it runs and FERR# stays deasserted', () => {
    const { calls, pins } = pinLog(false);
    const x = realModeCpu(pins);
    x.run(DIVIDE_BY_ZERO, true);
    x.run(FWAIT, true);
    expect(x.cpu.lastEvent?.vector).toBe(16);
    expect(x.state.lo(RIP)).toBe(0x1000); // the fault points at the FWAIT
    expect(calls).toEqual([]);
  });
  test('a board without the pins: NE=0 ignores the pending exception (as if IGNNE# were asserted)', () => {
    const x = realModeCpu();
    expect(x.run(`${DIVIDE_BY_ZERO} ${FWAIT} ${FLD1}`)).toBe(EXIT_HALT);
    expect(x.cpu.lastEvent).toBeNull();
    expect(x.fsw() & 0x80).toBe(0x80);
  });
  test('with the PC latch: IRQ13 once, F0h then lets waiting instructions through, FNCLEX re-arms it for the next error', () => {
    const irqs = irqLog();
    const latch = new FerrLatch({ irqs });
    const x = realModeCpu(latch);
    x.run(`${DIVIDE_BY_ZERO} ${FWAIT}`);
    expect(irqs.changes).toEqual([[13, true]]);
    x.run('e6 f0'); // out 0xf0, al: the handler acknowledges; IGNNE# on
    expect(latch.ignne()).toBe(true);
    x.run(`${FWAIT} ${FLD1}`); // ignored now: no new FERR# report
    expect(latch.asserts).toBe(1);
    x.run(FNCLEX);
    expect(latch.ignne()).toBe(false);
    x.run(`${DIVIDE_BY_ZERO} ${FWAIT}`);
    expect(latch.asserts).toBe(2);
    expect(irqs.changes).toEqual([[13, true], [13, false], [13, true]]);
  });
});

/** The guest's variables (ferr-guest.S). */
const VARS = 0x500;
const V = {
  irqCount: VARS, mfCount: VARS + 1, irqSw: VARS + 2, mfSw: VARS + 4, mfIp: VARS + 6, after1: VARS + 8,
  after2: VARS + 10, after3: VARS + 12, slaveIsr: VARS + 14, stage: VARS + 15, irqStage: VARS + 16, done: VARS + 17,
  fwaitNe1: VARS + 18,
};

for (const accel of ['interp', 'jit'] as const) describe.skipIf(!hasToolchain())(`a real-mode PC guest with an IRQ13 handler (DOS-style x87 error handling, ${accel})`, () => {
  const image = buildFlat(readFileSync(new URL('./ferr-guest.S', import.meta.url), 'utf8'), 0x7c00);
  const machine = new Machine({ memory: 4 << 20, accel, deterministic: true, noReboot: true, jit: { threshold: 2, batch: 4, all: true } });
  machine.boot(bootRecipe({ raw: [{ file: { name: 'ferr-guest', bytes: image }, addr: 0x7c00 }] }));
  for (let i = 0; i < 200 && machine.memory.read8(V.done) === 0 && !machine.exited; i++) machine.runSteps(1);
  const m = machine.memory;

  test('the guest ran to the end', () => {
    expect(m.read8(V.done)).toBe(1);
  });
  test('CR0.NE=0: FWAIT after 1/0 raises IRQ13 through the slave 8259 (INT 75h, ISR bit 5); no #MF', () => {
    expect(m.read8(V.irqCount)).toBe(2);
    expect(m.read8(V.slaveIsr)).toBe(0x20);
    expect(m.read16(V.irqSw) & 0x80ff).toBe(0x8084); // the handler saw ES and ZE
    expect(m.read8(V.irqStage)).toBe(2); // ... raised by the second FWAIT, not by the NE=1 one
  });
  test('the handler writes port F0h and FNCLEX; back in the program the status word is clear', () => {
    expect(m.read16(V.after1) & 0x80ff).toBe(0);
    expect(m.read16(V.after2) & 0x80ff).toBe(0); // the second error was reported too: FNCLEX released IGNNE#
    expect(machine.devices.ferr.asserts).toBe(2);
    expect(machine.devices.ferr.clears).toBe(2);
  });
  test('CR0.NE=1: the same code takes #MF (vector 16) at the FWAIT, which runs again after IRET', () => {
    expect(m.read8(V.mfCount)).toBe(1);
    expect(m.read16(V.mfSw) & 0x80ff).toBe(0x8084);
    expect(m.read16(V.mfIp)).toBe(m.read16(V.fwaitNe1)); // the fault's return address is the FWAIT
    expect(m.read16(V.after3) & 0x80ff).toBe(0);
  });
});
