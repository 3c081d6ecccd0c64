// SMP on the board: a test guest (test/guests/smp.S) wakes the APs with INIT-SIPI-SIPI
// through the local APIC's ICR and exercises the IPI kinds, under the interpreter, with
// deterministic time; the vCPU counters show the scheduling.

import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { Machine } from '../../machine/machine.js';
import { APIC_BASE, MTRR_DEF_TYPE, PAT, StateView } from '../../cpu/state.js';
import { PACE_NS_PER_INSTRUCTION, RealtimeClock } from '../../devices/clock.js';
import { bootRecipe } from '../../machine/boot.js';
import { buildAcpi } from '../../machine/acpi.js';
import { GuestMemory } from '../../mmu/memory.js';
import type { InterpBackend } from '../../cpu/interp.js';
import { SMP_QUANTUM, sipiState, tscOf } from '../../machine/smp.js';
import { buildFlat, hasToolchain } from '../cpu/system-build.js';

const SOURCE = readFileSync(new URL('../guests/smp.S', import.meta.url), 'utf8');
const UP = 0x6000, WORK = 0x6004, NCPUS = 0x6008, HITS40 = 0x6100, HITS41 = 0x6140, HITS42 = 0x6180, HITS43 = 0x61c0, NMIS = 0x6200;

/**
 * halts counts HLTs executed. The BSP's last block runs its HLT after the port write that ends the
 * run. An AP executes three: sti; hlt, which the fixed IPI that came during its work ends at once;
 * hlt again, which the burst of logical, NMI and lowest-priority IPIs ends (the ones behind the
 * first are taken before the handler returns); and a last hlt. The rounds an AP spent halted while
 * the BSP counted down its last loop are haltedTurns: hundreds.
 */
function expectHalts(c: ReturnType<Machine['vcpuCounters']>): void {
  expect(c.map((v) => v.halts)).toEqual([1, ...Array(c.length - 1).fill(3)]);
  for (const v of c.slice(1)) expect(v.haltedTurns).toBeGreaterThan(100);
}

function boot(cpus: number, accel: 'interp' | 'jit' = 'interp') {
  const m = new Machine({ memory: 16 << 20, accel, deterministic: true, noReboot: true, smp: cpus });
  m.boot(bootRecipe({ raw: [{ file: { name: 'smp.bin', bytes: buildFlat(SOURCE, 0x8000) }, addr: 0x8000 }] }));
  for (let i = 0; i < 20_000 && !m.exited; i++) m.runSteps(1);
  const dw = (a: number) => m.memory.dv.getUint32(a, true);
  const per = (base: number) => Array.from({ length: cpus }, (_, i) => dw(base + 4 * i));
  return { m, dw, per };
}

describe.skipIf(!hasToolchain())('SMP (-smp N): INIT-SIPI-SIPI and IPIs through the xAPIC ICR', () => {
  for (const cpus of [2, 4]) {
    it(`-smp ${cpus}: the APs come up, each IPI kind arrives where its destination says, the shared counter is exact`, () => {
      const { m, dw, per } = boot(cpus);
      expect(m.exited?.reason).toBe('isa-debug-exit: status 33');
      expect(dw(NCPUS)).toBe(cpus); // fw_cfg FW_CFG_NB_CPUS
      expect(dw(UP)).toBe(cpus - 1);
      expect(dw(WORK)).toBe(1000 * (cpus - 1)); // LOCK XADD from every AP
      expect(per(HITS40)).toEqual([0, ...Array(cpus - 1).fill(1)]); // physical destination, one each
      // Logical 0x06 in the flat model: APIC IDs 1 and 2.
      expect(per(HITS41)).toEqual([0, 1, ...(cpus > 2 ? [1] : []), ...Array(Math.max(0, cpus - 3)).fill(0)]);
      expect(per(HITS42)).toEqual([1, ...Array(cpus - 1).fill(0)]); // self by shorthand
      expect(per(NMIS)).toEqual([0, ...Array(cpus - 1).fill(1)]); // all excluding self
      expect(per(HITS43).reduce((a, b) => a + b, 0)).toBe(1); // lowest priority: exactly one AP
      expect(per(HITS43)[0]).toBe(0);
      const c = m.vcpuCounters();
      expect(c.map((v) => v.waitingForSipi)).toEqual(Array(cpus).fill(false));
      expect(c.map((v) => v.sipis)).toEqual([0, ...Array(cpus - 1).fill(1)]); // the second SIPI is ignored: already running
      expect(c.map((v) => v.inits)).toEqual([0, ...Array(cpus - 1).fill(1)]);
      for (const v of c) expect(v.instructions).toBeGreaterThan(1000);
      expect(c[0].ipisSent).toBe(3 + (cpus - 1) + 4); // INIT, 2 SIPI; N-1 fixed; logical, NMI, lowest, self
      expect(c.slice(1).map((v) => v.ipisReceived)).toEqual(
        per(HITS40).slice(1).map((_, i) => 3 + 1 + (i < 2 ? 1 : 0) + 1 + per(HITS43)[i + 1]));
      expectHalts(c);
      m.destroy();
    });
  }

  it('under the JIT too (-smp 2): the APs come up, the counter is exact, every IPI arrives', () => {
    const { m, dw, per } = boot(2, 'jit');
    expect(m.exited?.reason).toBe('isa-debug-exit: status 33');
    expect(m.backend.name).toBe('jit');
    expect([dw(UP), dw(WORK)]).toEqual([1, 1000]);
    expect([per(HITS40), per(HITS41), per(HITS42), per(NMIS), per(HITS43)]).toEqual([[0, 1], [0, 1], [1, 0], [0, 1], [0, 1]]);
    expectHalts(m.vcpuCounters()); // HLT runs the interpreter's row from compiled code too
    m.destroy();
  });

  it('is deterministic: two runs retire the same instructions on every vCPU', () => {
    const a = boot(3), b = boot(3);
    expect(a.m.vcpuCounters()).toEqual(b.m.vcpuCounters());
    a.m.destroy(); b.m.destroy();
  });

  it('the MADT lists one enabled processor-local APIC per vCPU (UID = APIC ID = index)', () => {
    const mem = new GuestMemory(16 << 20);
    const { tables } = buildAcpi(mem, { ramSize: mem.ramSize, cpus: 4 });
    const { addr, length } = tables.APIC;
    const ids: number[] = [];
    for (let o = addr + 44; o < addr + length; o += mem.u8[o + 1]) {
      if (mem.u8[o] === 0) ids.push(mem.u8[o + 2] * 256 + mem.u8[o + 3], mem.dv.getUint32(o + 4, true));
    }
    expect(ids).toEqual([0, 1, 257, 1, 514, 1, 771, 1]);
  });

  it('two vCPUs running the same code page: each cache marks its own bit, and a write reaches both', () => {
    const m = new Machine({ memory: 16 << 20, accel: 'interp', smp: 2 });
    m.memory.writeBytes(0x9000, Uint8Array.of(0x40, 0x40, 0xf4)); // inc ax; inc ax; hlt (at 0900:0000)
    const [a, b] = m.vcpus.map((v) => v.backend as InterpBackend);
    for (const x of [a, b]) { x.setState(sipiState(0x09)); x.run(100); }
    expect(m.memory.codePages[9]).toBe(0b11);
    a.setState(sipiState(0x09)); // drops vCPU 0's cache only
    expect(m.memory.codePages[9]).toBe(0b10);
    const before = b.counters().blockInvalidations;
    m.memory.writeBytes(0x9001, Uint8Array.of(0x90)); // a guest/device write: vCPU 1's block goes
    expect(b.counters().blockInvalidations - before).toBe(1);
    b.setState(sipiState(0x09));
    b.run(100);
    expect(b.getState()[0] | (b.getState()[1] << 8)).toBe(1); // inc ax; nop; hlt
    m.destroy();
  });

  it('the TSCs are synchronized: an AP woken by INIT-SIPI reads what the BSP reads at that moment, not 0', () => {
    const { m } = boot(2);
    const [bsp, ap] = m.vcpus.map((v) => v.backend);
    const now = tscOf(bsp);
    expect(now).toBeGreaterThan(1000); // deterministic time: 1 ns per instruction retired
    expect(tscOf(ap)).toBe(now); // same clock reading, same offset
    m.vcpuInit(1); // INIT leaves the TSC alone (SDM Table 9-1)
    m.vcpuSipi(1, 0x09);
    expect(tscOf(ap)).toBe(tscOf(bsp));
    m.memory.writeBytes(0x9000, Uint8Array.of(0x90, 0x90, 0x90, 0xf4)); // nop x3; hlt
    ap.run(100); // time moves for both
    expect(tscOf(ap)).toBe(tscOf(bsp));
    expect(tscOf(ap)).toBe(now + 4);
    m.destroy();
  });

  it('-smp sockets=2,cores=3: APIC IDs 0,1,2,4,5,6 in the local APICs, the MADT and CPUID on each vCPU', () => {
    const m = new Machine({ memory: 16 << 20, accel: 'interp', smp: { cpus: 6, sockets: 2, cores: 3, threads: 1 } });
    expect(m.apicIds).toEqual([0, 1, 2, 4, 5, 6]);
    expect(m.devices.lapics.map((l) => l.mmioRead(0x20, 4) >>> 24)).toEqual([0, 1, 2, 4, 5, 6]);
    const { tables } = buildAcpi(m.memory, { ramSize: m.memory.ramSize, cpus: 6, apicIds: m.apicIds });
    const madt: number[] = [];
    for (let o = tables.APIC.addr + 44; o < tables.APIC.addr + tables.APIC.length; o += m.memory.u8[o + 1]) {
      if (m.memory.u8[o] === 0) madt.push(m.memory.u8[o + 3]);
    }
    expect(madt).toEqual([0, 1, 2, 4, 5, 6]);
    // cpuid leaf 0xB subleaf 1 on vCPU 4 (package 1, core 1): mov eax,0xb; mov ecx,1; cpuid; hlt
    m.memory.writeBytes(0x9000, Uint8Array.of(0x66, 0xb8, 0x0b, 0, 0, 0, 0x66, 0xb9, 1, 0, 0, 0, 0x0f, 0xa2, 0xf4));
    const ap = m.vcpus[4].backend;
    ap.setState(sipiState(0x09));
    ap.run(10);
    const r = new DataView(ap.getState().buffer);
    expect([0, 3, 1, 2].map((g) => r.getUint32(g * 8, true))).toEqual([2, 3, 0x201, 5]); // EAX shift, EBX count, ECX level, EDX x2APIC ID
    m.destroy();
  });

  it('real time: the TSC copied at INIT and SIPI loses no time between export and import, so AP and BSP read the same TSC at one instant', () => {
    const m = new Machine({ memory: 16 << 20, accel: 'interp', smp: 2 });
    m.boot(() => {});
    const clock = m.clock as RealtimeClock;
    const [bsp, ap] = m.vcpus.map((v) => v.backend);
    for (let k = 0; k < 3; k++) { m.vcpuInit(1); m.vcpuSipi(1, 0x09); }
    clock.hold(() => expect(tscOf(ap)).toBe(tscOf(bsp)));
    m.destroy();
  });

  it('real time: the clock moves at most PACE_NS_PER_INSTRUCTION per instruction per running vCPU, so a host stall is not a jump in guest time', () => {
    let host = 1000; // ms, performance.now() as the clock and the run loop see it
    const spy = vi.spyOn(performance, 'now').mockImplementation(() => host);
    try {
      const m = new Machine({ memory: 16 << 20, accel: 'interp', smp: 2 });
      m.boot(() => {});
      m.memory.writeBytes(0x9000, Uint8Array.of(0xeb, 0xfe)); // jmp $
      m.vcpus[0].backend.setState(sipiState(0x09));
      m.vcpuSipi(1, 0x09);
      const ap = m.vcpus[1].backend, run = ap.run.bind(ap);
      let stall = 10_000;
      ap.run = (n: number) => { host += stall; return run(n); }; // the host stalls 10 s in vCPU 1's turn
      const t0 = m.clock.now();
      m.runSteps(1);
      const moved = m.clock.now() - t0;
      // vCPU 1's quantum, run side by side with vCPU 0's, stands for half a quantum's worth of time (vCPU 0's turn, in no host time, moved none): not 10 s.
      expect(m.vcpuCounters().map((v) => v.instructions)).toEqual([SMP_QUANTUM, SMP_QUANTUM]);
      expect(moved).toBe((SMP_QUANTUM * PACE_NS_PER_INSTRUCTION) / 2);
      // Time goes on from there, monotonic: the stall is dropped, not taken back later; a host that
      // keeps up (0.2 ms for the next round) gives host time.
      stall = 0.2;
      m.runSteps(1);
      expect(m.clock.now() - t0).toBeCloseTo(moved + 0.2e6, -1);
      m.destroy();
    } finally {
      spy.mockRestore();
    }
  });

  it('the APs start with the MTRRs and PAT the firmware gave the BSP, without its BSP flag, and INIT keeps them', () => {
    const m = new Machine({ memory: 16 << 20, accel: 'interp', deterministic: true, smp: 2 });
    m.boot((mm) => { mm.state.set64(MTRR_DEF_TYPE, 0x806, 0); mm.state.set64(PAT, 0x00070406, 0x00070406); });
    const ap = () => new StateView(m.vcpus[1].backend.getState().buffer);
    const check = () => expect([ap().lo(MTRR_DEF_TYPE), ap().lo(PAT), ap().lo(APIC_BASE)]).toEqual([0x806, 0x00070406, 0xfee00800]);
    check();
    m.vcpuInit(1);
    m.vcpuSipi(1, 0x09);
    check();
    m.destroy();
  });
});
