// Live migration from KVM to the interpreter and snapshots across them. Under KVM the
// guest writes RAM without emu's memory write path, so pre-copy reads KVM's dirty log
// (KVM_MEM_LOG_DIRTY_PAGES on the slots, KVM_GET_DIRTY_LOG each round). Skips with the
// reason where /dev/kvm is unusable.

import { describe, expect, it } from 'vitest';
import { registerNodeBackends } from '../../machine/backends-node.js';
import { migrateOut, newMigrationStats, receiveMigration } from '../../machine/migrate.js';
import { restoreSnapshot, saveSnapshot } from '../../machine/snapshot.js';
import { DIRTY_WATCHED, DIRTY_WRITTEN } from '../../mmu/memory.js';
import { GUEST, STOP_FLAG, checksumLine as expected, dirtyMachine } from '../snapshot/dirty-guest.js';
import { channelPair } from '../snapshot/channel.js';
import { kvmSkipReason } from './rig.js';

registerNodeBackends();

if (kvmSkipReason) console.log(`test/kvm/migrate skipped: ${kvmSkipReason}`);

describe.skipIf(kvmSkipReason !== null || !GUEST)('KVM: dirty log, live migration to the interpreter, snapshots', () => {
  it('KVM_GET_DIRTY_LOG: the pages the guest writes under KVM are marked, and only those', () => {
    const { m, out } = dirtyMachine('kvm');
    const deadline = performance.now() + 60_000;
    while (!out().includes('start') && performance.now() < deadline) m.runSteps(1);
    const dirty = m.memory.dirtyPages;
    dirty.fill(DIRTY_WATCHED);
    m.backend.dirtyLog!.start();
    m.runSteps(20);
    m.backend.dirtyLog!.sync(dirty);
    const written: number[] = [];
    dirty.forEach((v, p) => { if (v & DIRTY_WRITTEN) written.push(p); });
    m.backend.dirtyLog!.stop();
    const region = (p: number) => p >= 0x400 && p < 0x410; // the loop's 64 KiB at 4 MiB
    expect(written.filter(region).length).toBeGreaterThan(0);
    expect(written.filter((p) => !region(p) && p >= 0x100).map((p) => p.toString(16))).toEqual([]); // elsewhere only the stack, below 1 MiB
    expect(written).not.toContain(0x100); // the program's own page is read, never written
    m.destroy();
  }, 120_000);

  it('a memory-dirtying loop migrates live from KVM to the interpreter and finishes with the right sum', async () => {
    const src = dirtyMachine('kvm'), dst = dirtyMachine('interp');
    const [a, b] = channelPair();
    const running = src.m.run();
    while (!src.out().includes('start')) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 100));
    const stats = newMigrationStats();
    const arrived = receiveMigration(dst.m, b, newMigrationStats());
    await migrateOut(src.m, a, { downtimeLimitMs: 300, maxBandwidth: 0 }, stats, { cancelled: () => false, stopGuest: () => src.m.pause(), wasRunning: true });
    await arrived;
    src.m.powerOff(0, 'migrated');
    await running;
    console.log(`live migration kvm -> interp (dirtying guest): ${stats.rounds} rounds, ${stats.normalPages} pages + ${stats.zeroPages} zero pages, ${stats.finalPages} in the stop-and-copy, downtime ${stats.downtimeMs.toFixed(1)} ms`);
    const finished = dst.m.run();
    await new Promise((r) => setTimeout(r, 200));
    dst.m.memory.dv.setUint32(STOP_FLAG, 1, true);
    const exit = await finished;
    expect(exit.status).toBe(33);
    expect(dst.out()).toBe(expected(dst.out()));
    src.m.destroy(); dst.m.destroy();
  }, 180_000);

  it('a snapshot taken under KVM resumes under the interpreter, and one taken under the interpreter under KVM', async () => {
    for (const [from, to] of [['kvm', 'interp'], ['interp', 'kvm']] as const) {
      const src = dirtyMachine(from);
      const deadline = performance.now() + 60_000;
      while (!src.out().includes('start') && performance.now() < deadline) src.m.runSteps(1);
      src.m.runSteps(5);
      const snap = await saveSnapshot(src.m);
      src.m.destroy();
      const dst = dirtyMachine(to);
      await restoreSnapshot(dst.m, snap);
      dst.m.memory.dv.setUint32(STOP_FLAG, 1, true);
      const exit = await dst.m.run();
      expect({ from, to, status: exit.status }).toEqual({ from, to, status: 33 });
      expect(dst.out()).toBe(expected(dst.out()));
      dst.m.destroy();
    }
  }, 180_000);
});
