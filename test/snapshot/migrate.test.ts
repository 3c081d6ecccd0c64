// Live migration between two machines in one process over an in-memory channel:
// the dirty log sees the guest's writes, pre-copy converges, and the guest's
// memory-dirtying loop finishes with the right checksum on the destination.

import { describe, expect, it } from 'vitest';
import { migrateOut, newMigrationStats, receiveMigration } from '../../machine/migrate.js';
import { channelPair } from './channel.js';
import { DIRTY_WATCHED, DIRTY_WRITTEN } from '../../mmu/memory.js';
import { GUEST, STOP_FLAG, checksumLine, dirtyMachine } from './dirty-guest.js';

const expected = (out: string): string => `start\n${checksumLine(out)}`;

describe.skipIf(!GUEST)('live migration', () => {
  it('with the dirty log armed, the pages the guest writes are marked, and only those', () => {
    const { m, out } = dirtyMachine();
    while (!out().includes('start')) m.runSteps(1);
    m.memory.dirtyPages.fill(DIRTY_WATCHED);
    m.backend.invalidateCode?.();
    m.runSteps(20, 20_000);
    const written: number[] = [];
    m.memory.dirtyPages.forEach((v, p) => { if (v & DIRTY_WRITTEN) written.push(p); });
    expect(written.length).toBe(16);
    expect(written.every((p) => p >= 0x400 && p < 0x410)).toBe(true); // the 16-page region at 4 MiB
    m.destroy();
  });
});

describe.skipIf(!GUEST)('live migration of a memory-dirtying guest', () => {
  it('pre-copy while the loop runs, stop-and-copy, and the loop finishes with the right sum on the destination', async () => {
    const src = dirtyMachine(), dst = dirtyMachine();
    const [a, b] = channelPair();
    const running = src.m.run();
    while (!src.out().includes('start')) await new Promise((r) => setTimeout(r, 5));
    const stats = newMigrationStats(), inStats = newMigrationStats();
    const arrived = receiveMigration(dst.m, b, inStats);
    await migrateOut(src.m, a, { downtimeLimitMs: 300, maxBandwidth: 0 }, stats, { cancelled: () => false, stopGuest: () => src.m.pause(), wasRunning: true });
    const run = await arrived;
    expect(run.paused).toBe(false);
    src.m.powerOff(0, 'migrated');
    await running;
    expect(src.out()).toBe('start\n'); // the source stopped mid-loop
    const finished = dst.m.run();
    await new Promise((r) => setTimeout(r, 200));
    dst.m.memory.dv.setUint32(STOP_FLAG, 1, true);
    const exit = await finished;
    expect('start\n' + dst.out()).toBe(expected(dst.out()));
    expect(exit.status).toBe(33);
    expect(stats.rounds).toBeGreaterThanOrEqual(2);
    expect(stats.normalPages).toBeGreaterThan(16); // the program, the region, some pages more than once
    expect(stats.zeroPages).toBeGreaterThan(3000); // untouched RAM goes as "zero"
    expect(stats.downtimeMs).toBeGreaterThan(0);
    expect(inStats.normalPages).toBe(stats.normalPages);
    src.m.destroy(); dst.m.destroy();
  }, 180_000);

  it('the destination drops the connection mid-way -> migrateOut fails and the source guest runs on to the right sum', async () => {
    const src = dirtyMachine();
    const [a, b] = channelPair();
    const running = src.m.run();
    while (!src.out().includes('start')) await new Promise((r) => setTimeout(r, 5));
    let got = 0;
    void (async () => { while ((got += (await b.read())?.length ?? 0) < 20_000); b.close(); })();
    const stats = newMigrationStats();
    await expect(migrateOut(src.m, a, { downtimeLimitMs: 300, maxBandwidth: 0 }, stats, { cancelled: () => false, stopGuest: () => src.m.pause(), wasRunning: true })).rejects.toThrow();
    expect(src.m.isPaused).toBe(false);
    expect(src.m.memory.dirtyPages.every((v) => v === 0)).toBe(true);
    src.m.memory.dv.setUint32(STOP_FLAG, 1, true);
    const exit = await running;
    expect(src.out()).toBe(expected(src.out()));
    expect(exit.status).toBe(33);
    src.m.destroy();
  }, 180_000);
});
