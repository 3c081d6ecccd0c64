// Snapshots of SMP guests (-smp 2) under --deterministic: every vCPU's state record,
// its run state (waiting for SIPI or running, instructions retired), each local APIC
// and the APIC bus go into the file, so a restored copy continues exactly as the
// original: the same serial output, the same per-vCPU counts, the same memory.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bootRecipe } from '../../machine/boot.js';
import { Machine } from '../../machine/machine.js';
import { migrateOut, newMigrationStats, receiveMigration } from '../../machine/migrate.js';
import { restoreSnapshot, saveSnapshot } from '../../machine/snapshot.js';
import { channelPair } from './channel.js';
import { buildFlat, hasToolchain } from '../cpu/system-build.js';

const TINYOS = readFileSync('guests/tinyos/tinyos.elf');
const SMP_GUEST = readFileSync(new URL('../guests/smp.S', import.meta.url), 'utf8');
const WORK = 0x6004;

function machine(recipe: Parameters<typeof bootRecipe>[0], memory: number): { m: Machine; out: () => string } {
  let text = '';
  const m = new Machine({ memory, accel: 'interp', noReboot: true, deterministic: true, smp: 2, onSerial: (b) => { text += String.fromCharCode(b); } });
  m.boot(bootRecipe(recipe));
  return { m, out: () => text };
}

/** Per-vCPU counts and run states, and a hash-free comparison of every state record. */
function vcpuView(m: Machine) {
  return { counters: m.vcpuCounters().map(({ vcpu, instructions, waitingForSipi }) => ({ vcpu, instructions, waitingForSipi })), states: m.vcpus.map((v) => [...v.backend.getState()]) };
}

describe('snapshots of -smp 2 guests (--deterministic)', () => {
  it('tinyos at -smp 2 (the AP waits for SIPI): restored at its prompt, the copy prints what the original prints', async () => {
    const tinyos = () => machine({ kernel: { name: 'tinyos.elf', bytes: TINYOS } }, 32 << 20);
    const a = tinyos();
    for (let i = 0; i < 20_000 && !a.out().includes('tinyos> '); i++) a.m.runSteps(1);
    expect(a.out()).toContain('tinyos> ');
    a.m.serialInput(Buffer.from('ticks\r', 'latin1'));
    for (let i = 0; i < 40; i++) a.m.runSteps(1);
    const snap = await saveSnapshot(a.m);
    const mark = a.out().length;
    const b = tinyos();
    await restoreSnapshot(b.m, snap);
    expect(vcpuView(b.m)).toEqual(vcpuView(a.m));
    expect(b.m.vcpuCounters()[1].waitingForSipi).toBe(true);
    for (const t of [a, b]) {
      for (let i = 0; i < 3000; i++) t.m.runSteps(1);
      t.m.serialInput(Buffer.from('info\r', 'latin1'));
      for (let i = 0; i < 3000; i++) t.m.runSteps(1);
    }
    expect(a.out().slice(mark)).toContain('tinyos> info');
    expect(b.out()).toBe(a.out().slice(mark));
    expect(vcpuView(b.m)).toEqual(vcpuView(a.m));
    a.m.destroy(); b.m.destroy();
  }, 120_000);

  it.skipIf(!hasToolchain())('the SMP test guest, snapshotted before the INIT-SIPI-SIPI, with the AP mid-work and after it: each copy ends exactly as the original', async () => {
    const smp = () => machine({ raw: [{ file: { name: 'smp.bin', bytes: buildFlat(SMP_GUEST, 0x8000) }, addr: 0x8000 }] }, 16 << 20);
    const ref = smp();
    const dw = (m: Machine, a: number) => m.memory.dv.getUint32(a, true);
    // Snapshot points: every step until the end, keeping one of each phase.
    const points: { step: number; phase: string; snap: Uint8Array }[] = [];
    const phase = (m: Machine): string => {
      if (m.vcpus[1].waitSipi) return 'AP waits for SIPI';
      return dw(m, WORK) < 1000 ? 'AP mid-work' : 'AP done';
    };
    // Small turns until the AP is done (so each phase spans several steps), then the usual ones.
    let step = 0, small = Infinity;
    const turn = (m: Machine, s: number) => (s < small ? m.runSteps(1, 100) : m.runSteps(1));
    for (; step < 200_000 && !ref.m.exited; step++) {
      const p = phase(ref.m);
      if (!points.some((x) => x.phase === p) && (p !== 'AP mid-work' || dw(ref.m, WORK) > 0)) {
        points.push({ step, phase: p, snap: await saveSnapshot(ref.m) });
        if (p === 'AP done') small = step;
      }
      turn(ref.m, step);
    }
    expect(ref.m.exited?.reason).toBe('isa-debug-exit: status 33');
    expect(points.map((p) => p.phase)).toEqual(['AP waits for SIPI', 'AP mid-work', 'AP done']);
    const results = (m: Machine) => [...m.memory.u8.subarray(0x6000, 0x6240)];
    for (const p of points) {
      const c = smp();
      await restoreSnapshot(c.m, p.snap);
      for (let s = p.step; s < step && !c.m.exited; s++) turn(c.m, s);
      expect({ phase: p.phase, exit: c.m.exited?.reason }).toEqual({ phase: p.phase, exit: ref.m.exited?.reason });
      expect(dw(c.m, WORK)).toBe(1000);
      expect(results(c.m)).toEqual(results(ref.m));
      expect(vcpuView(c.m)).toEqual(vcpuView(ref.m));
      c.m.destroy();
    }
    ref.m.destroy();
  }, 120_000);

  it.skipIf(!hasToolchain())('the SMP test guest migrates live mid-run (both vCPUs, LAPICs, APIC bus) and finishes with every result right', async () => {
    const smp = () => {
      const m = new Machine({ memory: 16 << 20, accel: 'interp', noReboot: true, smp: 2 });
      m.boot(bootRecipe({ raw: [{ file: { name: 'smp.bin', bytes: buildFlat(SMP_GUEST, 0x8000) }, addr: 0x8000 }] }));
      return m;
    };
    const src = smp(), dst = smp();
    const running = src.run();
    while (src.vcpus[1].waitSipi && !src.exited) await new Promise((r) => setTimeout(r, 1));
    const [a, b] = channelPair();
    const stats = newMigrationStats();
    const arrived = receiveMigration(dst, b, newMigrationStats());
    await migrateOut(src, a, { downtimeLimitMs: 300, maxBandwidth: 0 }, stats, { cancelled: () => false, stopGuest: () => src.pause(), wasRunning: true });
    await arrived;
    src.powerOff(0, 'migrated');
    await running;
    expect(src.exited?.reason).toBe('migrated'); // the source had not finished on its own
    const exit = await dst.run();
    expect(exit.reason).toBe('isa-debug-exit: status 33');
    const dw = (addr: number) => dst.memory.dv.getUint32(addr, true);
    expect([dw(0x6000), dw(WORK)]).toEqual([1, 1000]); // the AP checked in and did all its work
    expect(dst.vcpuCounters().map((v) => v.waitingForSipi)).toEqual([false, false]);
    expect(stats.rounds).toBeGreaterThanOrEqual(2);
    src.destroy(); dst.destroy();
  }, 120_000);
});
